//! The admin's request: one JSON object with an `operation`, parsed strictly (unknown fields
//! refused) with errors that name the field and say what is expected. Examples:
//! `events/license-admin/*.json`.

use licensing::{Format, Scope};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which license a change is about: its id (as `list` shows it), optionally with its account.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseRef {
    pub connection_id: String,
    pub license_id: String,
    /// Needed only when two accounts have a license with the same id.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Who asks (recorded on the license's contract item).
    pub requested_by: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub enum AdminRequest {
    /// The connection's licenses with their figures, managed flag and contract.
    List { connection_id: String },
    /// Add the license to the managed set.
    Manage(LicenseRef),
    /// Remove the license from the managed set (its contract fields are kept).
    Unmanage(LicenseRef),
    /// Set contract fields (`null` clears one; absent ones stay).
    SetContract {
        #[serde(flatten)]
        license: LicenseRef,
        contract: Value,
    },
    /// Clear contract fields (all of them when `fields` is absent).
    UnsetContract {
        #[serde(flatten)]
        license: LicenseRef,
        #[serde(default)]
        fields: Option<Vec<String>>,
    },
    /// The connection's settings, tasks on/off, licenses entered by hand and latest changes.
    GetSettings { connection_id: String },
    /// Change settings (`settings`: any of include_free_users, include_on_premises,
    /// inactivity_threshold_days, protected_users, tasks; absent ones stay).
    UpdateSettings {
        connection_id: String,
        requested_by: String,
        settings: Value,
    },
    /// Enter a license's name and/or Provisioned figure by hand (License Information off).
    SetManualLicense {
        #[serde(flatten)]
        license: LicenseRef,
        #[serde(default)]
        name: Option<Value>,
        #[serde(default)]
        provisioned: Option<Value>,
    },
    /// Remove hand-entered fields of a license (all of them when `fields` is absent).
    UnsetManualLicense {
        #[serde(flatten)]
        license: LicenseRef,
        #[serde(default)]
        fields: Option<Vec<String>>,
    },
    /// The license report.
    Report {
        connection_id: String,
        #[serde(default)]
        format: Format,
        #[serde(default)]
        scope: Scope,
    },
    /// A user export, written to the file store (`export.rs`).
    Export {
        connection_id: String,
        kind: ExportKind,
        #[serde(default)]
        format: ExportFormat,
        requested_by: String,
    },
}

/// What an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    /// Every user that is not removed, one row each.
    AllUsers,
    /// The reclamation candidates, with the reason.
    Underutilized,
}

impl ExportKind {
    pub const NAMES: [&'static str; 2] = ["all_users", "underutilized"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllUsers => "all_users",
            Self::Underutilized => "underutilized",
        }
    }
}

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    #[default]
    Csv,
    Jsonl,
}

impl ExportFormat {
    pub const NAMES: [&'static str; 2] = ["csv", "jsonl"];

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Jsonl => "application/x-ndjson",
        }
    }
}

/// Why a request was refused before anything happened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid license-admin request: {0}")]
pub struct RequestError(pub String);

const OPERATIONS: &str = "list, manage, unmanage, set_contract, unset_contract, report, export, \
     get_settings, update_settings, set_manual_license or unset_manual_license";

/// Fields of a license's manual entry (`unset_manual_license` `fields`).
pub const MANUAL_FIELDS: [&str; 2] = ["name", "provisioned"];

/// Fields each operation takes (serde's flatten cannot deny unknown fields, so they are
/// checked here, before parsing).
fn allowed(operation: &str) -> Option<&'static [&'static str]> {
    const REF: &[&str] = &[
        "operation",
        "connection_id",
        "license_id",
        "account_id",
        "requested_by",
    ];
    Some(match operation {
        "list" => &["operation", "connection_id"],
        "manage" | "unmanage" => REF,
        "set_contract" => &[
            "operation",
            "connection_id",
            "license_id",
            "account_id",
            "requested_by",
            "contract",
        ],
        // Both clear named fields of one license.
        "unset_contract" | "unset_manual_license" => &[
            "operation",
            "connection_id",
            "license_id",
            "account_id",
            "requested_by",
            "fields",
        ],
        "report" => &["operation", "connection_id", "format", "scope"],
        "export" => &[
            "operation",
            "connection_id",
            "kind",
            "format",
            "requested_by",
        ],
        "get_settings" => &["operation", "connection_id"],
        "update_settings" => &["operation", "connection_id", "requested_by", "settings"],
        "set_manual_license" => &[
            "operation",
            "connection_id",
            "license_id",
            "account_id",
            "requested_by",
            "name",
            "provisioned",
        ],
        _ => return None,
    })
}

impl AdminRequest {
    /// Parses the invocation payload; the error names the offending field.
    pub fn parse(payload: &Value) -> Result<Self, RequestError> {
        let obj = payload
            .as_object()
            .ok_or_else(|| RequestError("the request must be a JSON object".into()))?;
        let op = match obj.get("operation") {
            Some(Value::String(op)) => op.as_str(),
            Some(_) => {
                return Err(RequestError(format!(
                    "`operation` must be a string: {OPERATIONS}"
                )));
            }
            None => {
                return Err(RequestError(format!(
                    "`operation` is missing: {OPERATIONS}"
                )));
            }
        };
        let fields = allowed(op)
            .ok_or_else(|| RequestError(format!("`operation` must be {OPERATIONS}, not {op:?}")))?;
        for key in obj.keys() {
            if !fields.contains(&key.as_str()) {
                return Err(RequestError(format!(
                    "unknown field `{key}` for `{op}` (fields: {})",
                    fields.join(", ")
                )));
            }
        }
        // Serde names no path inside an internally tagged enum: check the text fields' type
        // and the enumerations here.
        for key in ["connection_id", "license_id", "account_id", "requested_by"] {
            if let Some(v) = obj.get(key).filter(|v| !v.is_string()) {
                return Err(RequestError(format!(
                    "field `{key}` must be a string, not {v}"
                )));
            }
        }
        let enums: [(&str, &[&str]); 2] = if op == "export" {
            [
                ("kind", &ExportKind::NAMES),
                ("format", &ExportFormat::NAMES),
            ]
        } else {
            [
                ("format", &["json", "csv", "html", "text"]),
                ("scope", &["managed", "all"]),
            ]
        };
        for (key, values) in enums {
            if let Some(v) = obj.get(key)
                && !v.as_str().is_some_and(|s| values.contains(&s))
            {
                return Err(RequestError(format!(
                    "field `{key}` must be one of {}, not {v}",
                    values.join(", ")
                )));
            }
        }
        if op == "set_manual_license" {
            for key in MANUAL_FIELDS {
                if obj.get(key).is_some_and(Value::is_null) {
                    return Err(RequestError(format!(
                        "field `{key}` is null: unset_manual_license clears it"
                    )));
                }
            }
        }
        let request: Self = sync_domain::parse_payload(payload).map_err(RequestError)?;
        request.validate()?;
        Ok(request)
    }

    pub fn connection_id(&self) -> &str {
        match self {
            Self::List { connection_id }
            | Self::Report { connection_id, .. }
            | Self::GetSettings { connection_id }
            | Self::UpdateSettings { connection_id, .. } => connection_id,
            Self::Export { connection_id, .. } => connection_id,
            Self::Manage(l) | Self::Unmanage(l) => &l.connection_id,
            Self::SetContract { license, .. }
            | Self::UnsetContract { license, .. }
            | Self::SetManualLicense { license, .. }
            | Self::UnsetManualLicense { license, .. } => &license.connection_id,
        }
    }

    pub fn operation(&self) -> &'static str {
        match self {
            Self::List { .. } => "list",
            Self::Manage(_) => "manage",
            Self::Unmanage(_) => "unmanage",
            Self::SetContract { .. } => "set_contract",
            Self::UnsetContract { .. } => "unset_contract",
            Self::Report { .. } => "report",
            Self::GetSettings { .. } => "get_settings",
            Self::UpdateSettings { .. } => "update_settings",
            Self::SetManualLicense { .. } => "set_manual_license",
            Self::UnsetManualLicense { .. } => "unset_manual_license",
            Self::Export { .. } => "export",
        }
    }

    fn validate(&self) -> Result<(), RequestError> {
        text("connection_id", self.connection_id(), 128)?;
        let license = match self {
            Self::Manage(l) | Self::Unmanage(l) => Some(l),
            Self::SetContract { license, .. }
            | Self::UnsetContract { license, .. }
            | Self::SetManualLicense { license, .. }
            | Self::UnsetManualLicense { license, .. } => Some(license),
            _ => None,
        };
        if let Self::UpdateSettings { requested_by, .. } = self {
            text("requested_by", requested_by, 256)?;
        }
        if let Some(l) = license {
            text("license_id", &l.license_id, 256)?;
            text("requested_by", &l.requested_by, 256)?;
            if let Some(a) = &l.account_id {
                text("account_id", a, 128)?;
            }
        }
        if let Self::Export { requested_by, .. } = self {
            text("requested_by", requested_by, 256)?;
        }
        match self {
            Self::SetContract { contract, .. } => {
                let empty = contract.as_object().is_some_and(|o| o.is_empty());
                if empty {
                    return Err(RequestError(format!(
                        "`contract` must set at least one field ({})",
                        licensing::FIELDS.join(", ")
                    )));
                }
            }
            Self::UnsetContract {
                fields: Some(fields),
                ..
            } => field_names(fields, &licensing::FIELDS)?,
            Self::UnsetManualLicense {
                fields: Some(fields),
                ..
            } => field_names(fields, &MANUAL_FIELDS)?,
            _ => {}
        }
        Ok(())
    }
}

/// The `fields` of an unset operation: at least one, each one of `known`.
fn field_names(fields: &[String], known: &[&str]) -> Result<(), RequestError> {
    if fields.is_empty() {
        return Err(RequestError(
            "`fields`, when given, must name at least one field (leave it out to clear all)".into(),
        ));
    }
    for (i, f) in fields.iter().enumerate() {
        if !known.contains(&f.as_str()) {
            return Err(RequestError(format!(
                "`fields[{i}]` must be one of {}, not {f:?}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

fn text(name: &str, v: &str, max: usize) -> Result<(), RequestError> {
    sync_domain::check_request_text(name, v, max).map_err(RequestError)
}
