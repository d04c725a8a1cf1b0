//! The use case: list licenses, manage/unmanage, set/unset contract fields, and the report,
//! over the `ports` stores (DynamoDB in Lambda, the in-memory table in unit tests).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use licensing::{
    ActivityInput, Contract, ContractFields, FieldError, LicenseInput, ReportMeta, UserActivity,
    ValidationError,
};
use ports::{
    AccountKind, AccountRecord, ConnectionRecord, ContractRecord, FileStore, LicenseRecord,
    SettingsChange, Store, UpdateError, update_contract,
};
use serde::Serialize;
use serde_json::{Value, json};
use sync_domain::{LicenseKind, Provisioned, plan_license_name};

use crate::delivery::Delivery;
use crate::error::AdminError;
use crate::export::ExportRequest;
use crate::request::{AdminRequest, LicenseRef};
use crate::settings::{
    InvalidSettings, ManualPatch, SettingsPatch, SettingsView, apply_manual, resolve_manual,
};

pub use sync_domain::Clock;

/// Fields that come from Zoom through License Information and cannot be set here.
pub const READ_ONLY: [&str; 6] = [
    "license_id",
    "unique_id",
    "name",
    "license_name",
    "provisioned",
    "assigned",
];

/// One license as `list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LicenseView {
    pub account_id: String,
    pub account_name: Option<String>,
    pub account_kind: String,
    /// Read-only (License Information).
    pub license_id: String,
    /// Read-only (License Information).
    pub name: String,
    /// Read-only (License Information).
    pub provisioned: licensing::Seats,
    pub assigned: u64,
    pub active_status: u64,
    pub deactivated: u64,
    pub inactive_beyond_threshold: Option<u64>,
    pub as_of: chrono::NaiveDate,
    pub managed: bool,
    pub contract: ContractFields,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// How long a download link lives unless configured (`ZTS_FILES_LINK_TTL_SECS`).
pub const DEFAULT_LINK_TTL: Duration = Duration::from_secs(15 * 60);

pub struct Admin {
    pub(crate) records: Arc<dyn Store>,
    /// Where reports and exports are written (S3 in Lambda).
    files: Arc<dyn FileStore>,
    link_ttl: Duration,
    pub(crate) clock: Clock,
}

fn provisioned(p: ports::Provisioned) -> Provisioned {
    match p {
        ports::Provisioned::Count(n) => Provisioned::Count(n),
        ports::Provisioned::Unlimited => Provisioned::Unlimited,
    }
}

fn fields_of(c: &ContractRecord) -> ContractFields {
    ContractFields {
        effective_date: c.effective_date,
        expiration_date: c.expiration_date,
        cost: c.cost.clone(),
        currency: c.currency.clone(),
        payment_frequency: c.payment_frequency.clone(),
    }
}

fn store_fields(c: &mut ContractRecord, f: ContractFields) {
    c.effective_date = f.effective_date;
    c.expiration_date = f.expiration_date;
    c.cost = f.cost;
    c.currency = f.currency;
    c.payment_frequency = f.payment_frequency;
}

struct Snapshot {
    connection: ConnectionRecord,
    accounts: BTreeMap<String, AccountRecord>,
    licenses: Vec<LicenseRecord>,
    contracts: BTreeMap<(String, String), ContractRecord>,
}

impl Admin {
    pub fn new(records: Arc<dyn Store>, files: Arc<dyn FileStore>, clock: Clock) -> Self {
        Self {
            records,
            files,
            link_ttl: DEFAULT_LINK_TTL,
            clock,
        }
    }

    pub fn with_system_clock(records: Arc<dyn Store>, files: Arc<dyn FileStore>) -> Self {
        Self::new(records, files, sync_domain::system_clock())
    }

    /// Links that live `ttl` instead of [`DEFAULT_LINK_TTL`].
    pub fn with_link_ttl(mut self, ttl: Duration) -> Self {
        self.link_ttl = ttl;
        self
    }

    /// Handles one invocation payload.
    pub async fn handle(&self, payload: &Value) -> Result<Value, AdminError> {
        let request = AdminRequest::parse(payload)?;
        tracing::info!(
            operation = request.operation(),
            connection_id = request.connection_id(),
            "license-admin request"
        );
        match request {
            AdminRequest::List { connection_id } => {
                let snap = self.snapshot(&connection_id).await?;
                let views = views(&snap);
                let known: std::collections::BTreeSet<(String, String)> = snap
                    .licenses
                    .iter()
                    .map(|l| (l.account_id.clone(), l.license_id.clone()))
                    .collect();
                // Contracts of licenses License Information no longer reports.
                let orphans: Vec<&ContractRecord> = snap
                    .contracts
                    .iter()
                    .filter(|(k, _)| !known.contains(*k))
                    .map(|(_, c)| c)
                    .collect();
                Ok(json!({
                    "operation": "list",
                    "connection_id": connection_id,
                    "read_only_fields": ["license_id", "name", "provisioned"],
                    "licenses": views,
                    "licenses_no_longer_reported": orphans,
                }))
            }
            AdminRequest::Manage(l) => self.set_managed(&l, true).await,
            AdminRequest::Unmanage(l) => self.set_managed(&l, false).await,
            AdminRequest::SetContract { license, contract } => {
                let (account_id, record) = self.find(&license).await?;
                if let Some(obj) = contract.as_object() {
                    let read_only: Vec<FieldError> = obj
                        .keys()
                        .filter(|k| READ_ONLY.contains(&k.as_str()))
                        .map(|k| FieldError {
                            field: format!("contract.{k}"),
                            message:
                                "is read-only: License Information keeps it as Zoom reports it"
                                    .into(),
                        })
                        .collect();
                    if !read_only.is_empty() {
                        return Err(ValidationError(read_only).into());
                    }
                }
                self.change("set_contract", &license, account_id, record, move |c| {
                    let current = Contract::from_stored(&fields_of(c))?;
                    let next = current.apply(&contract, "contract.")?;
                    store_fields(c, next.to_stored());
                    Ok(())
                })
                .await
            }
            AdminRequest::UnsetContract { license, fields } => {
                let (account_id, record) = self.find(&license).await?;
                let clear: Vec<String> = fields
                    .unwrap_or_else(|| licensing::FIELDS.iter().map(|s| s.to_string()).collect());
                self.change("unset_contract", &license, account_id, record, move |c| {
                    for f in &clear {
                        match f.as_str() {
                            "effective_date" => c.effective_date = None,
                            "expiration_date" => c.expiration_date = None,
                            "cost" => c.cost = None,
                            "currency" => c.currency = None,
                            "payment_frequency" => c.payment_frequency = None,
                            _ => {}
                        }
                    }
                    Ok(())
                })
                .await
            }
            AdminRequest::GetSettings { connection_id } => self.get_settings(&connection_id).await,
            AdminRequest::UpdateSettings {
                connection_id,
                requested_by,
                settings,
            } => {
                self.update_settings(&connection_id, &requested_by, &settings)
                    .await
            }
            AdminRequest::SetManualLicense {
                license,
                name,
                provisioned,
            } => {
                let patch = ManualPatch::parse(name.as_ref(), provisioned.as_ref())?;
                self.change_manual_license("set_manual_license", &license, Some(patch), &[])
                    .await
            }
            AdminRequest::UnsetManualLicense { license, fields } => {
                let clear = fields.unwrap_or_else(|| {
                    crate::request::MANUAL_FIELDS
                        .iter()
                        .map(|s| s.to_string())
                        .collect()
                });
                self.change_manual_license("unset_manual_license", &license, None, &clear)
                    .await
            }
            AdminRequest::Report {
                connection_id,
                format,
                scope,
            } => {
                let report = self.report(&connection_id, scope).await?;
                let mut out = self
                    .delivery()
                    .report(&connection_id, &report, format)
                    .await?;
                out["scope"] = json!(scope);
                Ok(out)
            }
            AdminRequest::Export {
                connection_id,
                kind,
                format,
                requested_by,
            } => {
                self.connection(&connection_id).await?;
                let request = ExportRequest {
                    connection_id: &connection_id,
                    kind,
                    format,
                    requested_by: &requested_by,
                };
                crate::export::export(&*self.records, self.delivery(), request).await
            }
        }
    }

    /// Where this request's files go.
    fn delivery(&self) -> Delivery<'_> {
        Delivery {
            files: &*self.files,
            link_ttl: self.link_ttl,
            now: (self.clock)(),
        }
    }

    async fn set_managed(&self, l: &LicenseRef, managed: bool) -> Result<Value, AdminError> {
        let (account_id, record) = self.find(l).await?;
        let operation = if managed { "manage" } else { "unmanage" };
        self.change(operation, l, account_id, record, move |c| {
            c.managed = managed;
            Ok(())
        })
        .await
    }

    /// Applies `edit` to the contract item of `record` (the license `l` names, found in
    /// `account_id`), records who changed it and when, and answers with the license as `list`
    /// shows it now.
    async fn change(
        &self,
        operation: &str,
        l: &LicenseRef,
        account_id: String,
        record: LicenseRecord,
        edit: impl Fn(&mut ContractRecord) -> Result<(), ValidationError> + Send + Sync,
    ) -> Result<Value, AdminError> {
        let now = (self.clock)();
        let by = l.requested_by.trim().to_owned();
        let stamped = move |c: &mut ContractRecord| -> Result<(), ValidationError> {
            edit(c)?;
            c.updated_at = now;
            c.updated_by = by.clone();
            Ok(())
        };
        let cid = &l.connection_id;
        let stored = update_contract(
            &*self.records,
            cid,
            &account_id,
            &record.license_id,
            &stamped,
        )
        .await
        .map_err(|e| match e {
            UpdateError::Refused(e) => AdminError::from(e),
            UpdateError::Store(e) => e.into(),
        })?;
        self.changed(operation, cid, &record, &stored).await
    }

    async fn changed(
        &self,
        operation: &str,
        cid: &str,
        license: &LicenseRecord,
        stored: &ContractRecord,
    ) -> Result<Value, AdminError> {
        tracing::info!(
            operation,
            connection_id = cid,
            account_id = %license.account_id,
            license_id = %license.license_id,
            managed = stored.managed,
            version = stored.version,
            "license updated"
        );
        let snap = self.snapshot(cid).await?;
        let view = views(&snap)
            .into_iter()
            .find(|v| v.account_id == license.account_id && v.license_id == license.license_id);
        Ok(json!({ "operation": operation, "connection_id": cid, "license": view }))
    }

    pub(crate) async fn connection(&self, cid: &str) -> Result<ConnectionRecord, AdminError> {
        self.records
            .get_connection(cid)
            .await?
            .ok_or_else(|| AdminError::ConnectionNotFound(cid.to_owned()))
    }

    /// The license a change is about (it must be one License Information recorded).
    async fn find(&self, l: &LicenseRef) -> Result<(String, LicenseRecord), AdminError> {
        self.connection(&l.connection_id).await?;
        let licenses: Vec<LicenseRecord> = self
            .records
            .list_licenses(&l.connection_id)
            .try_collect()
            .await?;
        let id = l.license_id.trim();
        let matching: Vec<&LicenseRecord> = licenses
            .iter()
            .filter(|r| r.license_id == id)
            .filter(|r| {
                l.account_id
                    .as_deref()
                    .is_none_or(|a| a.trim() == r.account_id)
            })
            .collect();
        match matching.as_slice() {
            [one] => Ok((one.account_id.clone(), (*one).clone())),
            [] => Err(AdminError::LicenseNotFound {
                license_id: id.to_owned(),
                known: licenses
                    .iter()
                    .take(30)
                    .map(|r| r.license_id.clone())
                    .collect(),
            }),
            many => Err(AdminError::AmbiguousLicense {
                license_id: id.to_owned(),
                accounts: many.iter().map(|r| r.account_id.clone()).collect(),
            }),
        }
    }

    async fn snapshot(&self, cid: &str) -> Result<Snapshot, AdminError> {
        let connection = self.connection(cid).await?;
        let accounts = self
            .records
            .list_accounts(cid)
            .map_ok(|a| (a.account_id.clone(), a))
            .try_collect()
            .await?;
        let licenses = self.records.list_licenses(cid).try_collect().await?;
        let contracts = self
            .records
            .list_contracts(cid)
            .map_ok(|c| ((c.account_id.clone(), c.license_id.clone()), c))
            .try_collect()
            .await?;
        Ok(Snapshot {
            connection,
            accounts,
            licenses,
            contracts,
        })
    }

    /// The report's figures for the connection on the clock's day.
    pub async fn report(
        &self,
        cid: &str,
        scope: licensing::Scope,
    ) -> Result<licensing::Report, AdminError> {
        let snap = self.snapshot(cid).await?;
        let now = (self.clock)();
        let mut inputs = Vec::new();
        let mut zoom = licensing::ZoomFigures::new();
        for l in &snap.licenses {
            let account = snap.accounts.get(&l.account_id);
            if account.is_some_and(|a| a.removed_at.is_some()) {
                continue;
            }
            zoom.insert(
                (l.account_id.clone(), l.license_id.clone()),
                licensing::ZoomSeats {
                    assigned: l.zoom_assigned,
                    note: l.zoom_assigned_note.clone(),
                },
            );
            let c = snap
                .contracts
                .get(&(l.account_id.clone(), l.license_id.clone()));
            let contract = match c {
                Some(c) => Contract::from_stored(&fields_of(c))?,
                None => Contract::default(),
            };
            inputs.push(LicenseInput {
                account_id: l.account_id.clone(),
                account_name: account.and_then(|a| a.name.clone()),
                account_kind: kind(account),
                license_id: l.license_id.clone(),
                name: l.name.clone(),
                provisioned: provisioned(l.provisioned),
                assigned: l.assigned,
                active_status: l.active,
                deactivated: l.inactive,
                activity: l.activity.as_ref().map(|a| ActivityInput {
                    threshold_days: a.threshold_days,
                    inactive_beyond_threshold: a.inactive_beyond_threshold,
                }),
                as_of: l.as_of,
                managed: c.is_some_and(|c| c.managed),
                contract,
            });
        }
        let in_scope: std::collections::BTreeSet<(String, String)> = inputs
            .iter()
            .filter(|l| scope == licensing::Scope::All || l.managed)
            .map(|l| (l.account_id.clone(), l.license_id.clone()))
            .collect();
        let accounts: std::collections::BTreeSet<&String> =
            in_scope.iter().map(|(a, _)| a).collect();
        let mut users = Vec::new();
        for account_id in accounts {
            let mut views = self.records.list_users(cid, account_id);
            while let Some(v) = views.try_next().await? {
                let r = &v.roster;
                if r.is_removed() || r.status != "active" {
                    continue;
                }
                let license_id = LicenseKind::from_user_type(r.user_type).unique_id(account_id);
                if !in_scope.contains(&(account_id.clone(), license_id.clone())) {
                    continue;
                }
                let last = v.activity().last_activity();
                users.push(UserActivity {
                    account_id: account_id.clone(),
                    license_id,
                    days_since_last_activity: last.map(|t| (now - t).num_days().max(0)),
                });
            }
        }
        let meta = ReportMeta {
            connection_id: cid.to_owned(),
            connection_name: snap.connection.account_name.clone(),
            scope,
            as_of: now.date_naive(),
            threshold_days: u32::from(snap.connection.settings.inactivity_threshold.days()),
        };
        Ok(licensing::build_report_with_zoom(
            meta, &inputs, users, &zoom,
        ))
    }
}

fn kind(account: Option<&AccountRecord>) -> String {
    match account.map(|a| a.kind) {
        Some(AccountKind::Master) => "master".into(),
        _ => "sub".into(),
    }
}

fn views(snap: &Snapshot) -> Vec<LicenseView> {
    snap.licenses
        .iter()
        .map(|l| {
            let account = snap.accounts.get(&l.account_id);
            let c = snap
                .contracts
                .get(&(l.account_id.clone(), l.license_id.clone()));
            LicenseView {
                account_id: l.account_id.clone(),
                account_name: account.and_then(|a| a.name.clone()),
                account_kind: kind(account),
                license_id: l.license_id.clone(),
                name: l.name.clone(),
                provisioned: licensing::Seats(provisioned(l.provisioned)),
                assigned: l.assigned,
                active_status: l.active,
                deactivated: l.inactive,
                inactive_beyond_threshold: l.activity.as_ref().map(|a| a.inactive_beyond_threshold),
                as_of: l.as_of,
                managed: c.is_some_and(|c| c.managed),
                contract: c.map(fields_of).unwrap_or_default(),
                updated_by: c.map(|c| c.updated_by.clone()),
                updated_at: c.map(|c| c.updated_at),
            }
        })
        .collect()
}

/// Connection settings (issue #19; the rules are in [`crate::settings`]).
impl Admin {
    pub(crate) async fn get_settings(&self, cid: &str) -> Result<Value, AdminError> {
        let c = self.connection(cid).await?;
        Ok(json!({
            "operation": "get_settings",
            "connection_id": cid,
            "settings": SettingsView::of(&c),
        }))
    }

    pub(crate) async fn update_settings(
        &self,
        cid: &str,
        by: &str,
        settings: &Value,
    ) -> Result<Value, AdminError> {
        let patch = SettingsPatch::parse(settings)?;
        self.connection(cid).await?;
        let plans: BTreeMap<String, String> = self
            .records
            .list_accounts(cid)
            .map_ok(|a| {
                let plan = plan_license_name(a.account_type.as_deref(), None);
                (a.account_id, plan)
            })
            .try_collect()
            .await?;
        let now = (self.clock)();
        let by = by.trim();
        self.update_checked("update_settings", cid, by, &|c| {
            patch.apply(c, &plans, by, now)
        })
        .await
    }

    pub(crate) async fn change_manual_license(
        &self,
        operation: &'static str,
        l: &LicenseRef,
        patch: Option<ManualPatch>,
        clear: &[String],
    ) -> Result<Value, AdminError> {
        let cid = l.connection_id.as_str();
        let connection = self.connection(cid).await?;
        let accounts: Vec<AccountRecord> = self.records.list_accounts(cid).try_collect().await?;
        let needs_rule = patch.as_ref().is_some_and(|p| p.provisioned.is_some());
        let license_id = l.license_id.trim();
        let resolve = |c: &ConnectionRecord| {
            resolve_manual(
                c,
                &accounts,
                license_id,
                l.account_id.as_deref(),
                needs_rule,
            )
        };
        resolve(&connection)?;
        let now = (self.clock)();
        let by = l.requested_by.trim();
        // Checked again on the record the store is about to change (another admin may have
        // turned License Information on meanwhile).
        self.update_checked(operation, cid, by, &|c| {
            let (account_id, _, _) = resolve(c)?;
            Ok(
                apply_manual(c, &account_id, license_id, patch.as_ref(), clear, by, now)
                    .into_iter()
                    .collect(),
            )
        })
        .await
    }

    /// Applies `change` to the stored connection with its audit entries (compare-and-swap,
    /// retried by the store); writes nothing when it changes nothing or is refused.
    async fn update_checked(
        &self,
        operation: &'static str,
        cid: &str,
        by: &str,
        change: &(
             dyn Fn(&mut ConnectionRecord) -> Result<Vec<SettingsChange>, InvalidSettings>
                 + Send
                 + Sync
         ),
    ) -> Result<Value, AdminError> {
        let outcome = Mutex::new(Ok(Vec::new()));
        let stored = self
            .records
            .update_connection_if(cid, &|c| {
                let result = change(c);
                let write = matches!(&result, Ok(changes) if !changes.is_empty());
                if let Ok(changes) = &result {
                    c.record_settings_changes(changes.iter().cloned());
                }
                *outcome.lock().unwrap_or_else(PoisonError::into_inner) = result;
                write
            })
            .await?;
        let changes = outcome
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)?;
        for ch in &changes {
            tracing::info!(
                operation,
                connection_id = cid,
                field = %ch.field,
                by,
                old = %ch.old,
                new = %ch.new,
                "setting changed"
            );
        }
        Ok(json!({
            "operation": operation,
            "connection_id": cid,
            "changes": changes,
            "applies": "from the next run of each task",
            "settings": SettingsView::of(&stored),
        }))
    }
}
