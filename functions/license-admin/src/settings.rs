//! Connection settings as an admin operation (issue #19): read and change Include Free Users,
//! Include On Premises, the inactivity threshold, protected users and which tasks run, and
//! enter licenses by hand while License Information is off. Every field is validated (all
//! problems reported at once, each with its field's path); every change is audited on the
//! connection (`ConnectionRecord::settings_history`: who, when, old → new) and logged. The
//! tasks read the connection at each unit, so the next run applies a change; nobody
//! re-authorizes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use licensing::FieldError;
use ports::{AccountRecord, ConnectionRecord, ManualLicense, SettingsChange};
use serde::Serialize;
use serde_json::{Value, json};
use sync_domain::{InactivityThreshold, LicenseKind, Provisioned, Task, YesNo, plan_license_name};

/// Every problem of a settings change, each naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid settings: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct InvalidSettings(pub Vec<FieldError>);

impl InvalidSettings {
    fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.field.as_str()).collect()
    }
}

/// Collects field errors while a change is read.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    fn done<T>(self, value: T) -> Result<T, InvalidSettings> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(InvalidSettings(self.0))
        }
    }
}

/// Most protected users a connection keeps (the connection item stays far below DynamoDB's
/// 400 KB).
pub const MAX_PROTECTED_USERS: usize = 1000;

/// How the protected-user list changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtectedChange {
    Replace(Vec<String>),
    Edit {
        add: Vec<String>,
        remove: Vec<String>,
    },
}

/// A validated `update_settings` change: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsPatch {
    pub include_free_users: Option<YesNo>,
    pub include_on_premises: Option<YesNo>,
    pub inactivity_threshold: Option<InactivityThreshold>,
    pub protected_users: Option<ProtectedChange>,
    pub tasks: BTreeMap<Task, bool>,
}

const SETTINGS_FIELDS: [&str; 5] = [
    "include_free_users",
    "include_on_premises",
    "inactivity_threshold_days",
    "protected_users",
    "tasks",
];

fn yes_no(field: &'static str, v: &Value, problems: &mut Problems) -> Option<YesNo> {
    let parsed = match v {
        Value::Bool(b) => Ok(YesNo::from(*b)),
        Value::String(s) => YesNo::parse(field, Some(s)).map_err(|e| e.to_string()),
        other => Err(format!("must be true/false or yes/no, not {other}")),
    };
    parsed
        .map_err(|m| problems.add(format!("settings.{field}"), m))
        .ok()
}

/// A protected user: an e-mail address or a Zoom user id (compared case-insensitively).
fn protected_entry(field: &str, v: &Value, problems: &mut Problems) -> Option<String> {
    let Some(s) = v.as_str() else {
        problems.add(
            field,
            format!("must be an e-mail address or a Zoom user id, not {v}"),
        );
        return None;
    };
    if let Err(m) = sync_domain::check_request_text(field, s, 256) {
        problems.add(field, m);
        return None;
    }
    let s = s.trim();
    let email = s
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    let user_id = s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if email || user_id {
        Some(s.to_owned())
    } else {
        problems.add(
            field,
            format!("{s:?} is neither an e-mail address nor a Zoom user id"),
        );
        None
    }
}

fn protected_list(field: &str, v: &Value, problems: &mut Problems) -> Vec<String> {
    let Some(items) = v.as_array() else {
        problems.add(field, "must be a list of e-mail addresses or Zoom user ids");
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| protected_entry(&format!("{field}[{i}]"), item, problems))
        .collect()
}

impl SettingsPatch {
    /// Reads the `settings` object of an `update_settings` request.
    pub fn parse(settings: &Value) -> Result<Self, InvalidSettings> {
        let Some(obj) = settings.as_object() else {
            return Err(InvalidSettings::one(
                "settings",
                "must be an object with any of: include_free_users, include_on_premises, \
                 inactivity_threshold_days, protected_users, tasks",
            ));
        };
        let mut problems = Problems::default();
        if obj.is_empty() {
            problems.add(
                "settings",
                format!("must change at least one of {}", SETTINGS_FIELDS.join(", ")),
            );
        }
        let mut patch = Self::default();
        for (key, v) in obj {
            match key.as_str() {
                "include_free_users" => {
                    patch.include_free_users = yes_no("include_free_users", v, &mut problems)
                }
                "include_on_premises" => {
                    patch.include_on_premises = yes_no("include_on_premises", v, &mut problems)
                }
                "inactivity_threshold_days" => {
                    let days = match v {
                        Value::Number(n) => n.as_u64().and_then(|d| u16::try_from(d).ok()),
                        Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    };
                    match days.and_then(|d| InactivityThreshold::try_from(d).ok()) {
                        Some(t) => patch.inactivity_threshold = Some(t),
                        None => problems.add(
                            "settings.inactivity_threshold_days",
                            format!("must be one of 15, 30, 60, 90 or 120 days, not {v}"),
                        ),
                    }
                }
                "protected_users" => {
                    let field = "settings.protected_users";
                    patch.protected_users = match v {
                        Value::Array(_) => Some(ProtectedChange::Replace(protected_list(
                            field,
                            v,
                            &mut problems,
                        ))),
                        Value::Object(edit) => {
                            for k in edit.keys().filter(|k| *k != "add" && *k != "remove") {
                                problems
                                    .add(format!("{field}.{k}"), "is not a field (add, remove)");
                            }
                            let list = |name: &str, problems: &mut Problems| {
                                edit.get(name).map_or_else(Vec::new, |l| {
                                    protected_list(&format!("{field}.{name}"), l, problems)
                                })
                            };
                            Some(ProtectedChange::Edit {
                                add: list("add", &mut problems),
                                remove: list("remove", &mut problems),
                            })
                        }
                        _ => {
                            problems.add(
                                field,
                                "must be a list (replaces the list) or {\"add\": [...], \"remove\": [...]}",
                            );
                            None
                        }
                    };
                }
                "tasks" => {
                    let Some(tasks) = v.as_object() else {
                        problems.add(
                            "settings.tasks",
                            "must be an object of task name to true (on) or false (off)",
                        );
                        continue;
                    };
                    for (name, on) in tasks {
                        let field = format!("settings.tasks.{name}");
                        let Ok(task) = name.parse::<Task>() else {
                            let names: Vec<&str> = Task::ALL.iter().map(|t| t.as_str()).collect();
                            problems.add(field, format!("is not a task ({})", names.join(", ")));
                            continue;
                        };
                        match on.as_bool() {
                            Some(false) if task == Task::ApplicationRoster => problems.add(
                                field,
                                "cannot be turned off: every other task reads the roster",
                            ),
                            Some(on) => {
                                patch.tasks.insert(task, on);
                            }
                            None => problems.add(field, format!("must be true or false, not {on}")),
                        }
                    }
                }
                other => problems.add(
                    format!("settings.{other}"),
                    format!("is not a setting ({})", SETTINGS_FIELDS.join(", ")),
                ),
            }
        }
        problems.done(patch)
    }

    /// Applies the change to `c`: the changes made (none if nothing differs), or the refusal
    /// (a setting that would leave licenses entered by hand without their rule). `plans`:
    /// each account's plan name.
    pub fn apply(
        &self,
        c: &mut ConnectionRecord,
        plans: &BTreeMap<String, String>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<SettingsChange>, InvalidSettings> {
        let mut next = c.settings;
        if let Some(v) = self.include_free_users {
            next.include_free_users = v;
        }
        if let Some(v) = self.include_on_premises {
            next.include_on_premises = v;
        }
        if let Some(t) = self.inactivity_threshold {
            next.inactivity_threshold = t;
        }
        let mut changes = c.change_settings(next, by, at);
        let mut change = |field: &str, old: Value, new: Value| {
            if old != new {
                changes.push(SettingsChange {
                    at,
                    by: by.to_owned(),
                    field: field.to_owned(),
                    old,
                    new,
                });
            }
        };
        if let Some(p) = &self.protected_users {
            let next = match p {
                ProtectedChange::Replace(list) => dedup(list.iter()),
                ProtectedChange::Edit { add, remove } => {
                    let removed: BTreeSet<String> =
                        remove.iter().map(|r| r.to_lowercase()).collect();
                    dedup(
                        c.protected_users
                            .iter()
                            .chain(add)
                            .filter(|u| !removed.contains(&u.to_lowercase())),
                    )
                }
            };
            if next.len() > MAX_PROTECTED_USERS {
                return Err(InvalidSettings::one(
                    "settings.protected_users",
                    format!(
                        "would hold {} users; at most {MAX_PROTECTED_USERS}",
                        next.len()
                    ),
                ));
            }
            change("protected_users", json!(c.protected_users), json!(next));
            c.protected_users = next;
        }
        for (task, on) in &self.tasks {
            let was = c.task_enabled(*task);
            change(&format!("tasks.{task}"), json!(was), json!(on));
            if *on {
                c.disabled_tasks.remove(task);
            } else {
                c.disabled_tasks.insert(*task);
            }
        }
        // Licenses entered by hand must still be tracked and allowed under the new options.
        let mut problems = Problems::default();
        for m in &c.manual_licenses {
            let Some(kind) = LicenseKind::from_unique_id(&m.account_id, &m.license_id) else {
                continue;
            };
            let plan = plans.get(&m.account_id).map_or("", String::as_str);
            let allowed = if !kind.is_tracked(&c.settings) {
                Err("its users would no longer be tracked".to_owned())
            } else if m.provisioned.is_some() {
                kind.check_manual_provisioned(plan, &c.settings)
                    .map_err(|e| e.to_string())
            } else {
                Ok(())
            };
            if let Err(why) = allowed {
                problems.add(
                    "settings",
                    format!(
                        "license {} was entered by hand and {why}: unset it first \
                         (unset_manual_license)",
                        m.license_id
                    ),
                );
            }
        }
        problems.done(changes)
    }
}

/// Trimmed, without case-insensitive repeats, first spelling kept.
fn dedup<'a>(users: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    users
        .map(|u| u.trim().to_owned())
        .filter(|u| seen.insert(u.to_lowercase()))
        .collect()
}

/// What `set_manual_license` sets: a name and/or a Provisioned figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualPatch {
    pub name: Option<String>,
    pub provisioned: Option<Provisioned>,
}

/// Largest Provisioned figure accepted (more than any Zoom account has seats).
pub const MAX_PROVISIONED: u64 = 10_000_000;

impl ManualPatch {
    /// Reads the `name` and `provisioned` fields (at least one).
    pub fn parse(
        name: Option<&Value>,
        provisioned: Option<&Value>,
    ) -> Result<Self, InvalidSettings> {
        let mut problems = Problems::default();
        if name.is_none() && provisioned.is_none() {
            problems.add(
                "provisioned",
                "set `provisioned` (a number or \"unlimited\") and/or `name`",
            );
        }
        let name = name.and_then(|v| match v.as_str() {
            Some(s) => match sync_domain::check_request_text("name", s, 128) {
                Ok(()) => Some(s.trim().to_owned()),
                Err(m) => {
                    problems.add("name", m);
                    None
                }
            },
            None => {
                problems.add(
                    "name",
                    format!("must be text, not {v} (unset_manual_license clears it)"),
                );
                None
            }
        });
        let provisioned = provisioned.and_then(|v| {
            let parsed = match v {
                Value::Number(n) => n.as_u64().filter(|n| *n <= MAX_PROVISIONED).map(Provisioned::Count),
                Value::String(s) if s.trim().eq_ignore_ascii_case("unlimited") => {
                    Some(Provisioned::Unlimited)
                }
                _ => None,
            };
            if parsed.is_none() {
                problems.add(
                    "provisioned",
                    format!(
                        "must be a whole number from 0 to {MAX_PROVISIONED} or \"unlimited\", not {v} \
                         (unset_manual_license clears it)"
                    ),
                );
            }
            parsed
        });
        problems.done(Self { name, provisioned })
    }
}

/// The license a manual entry is about: its account and kind, checked against the
/// connection's accounts and options.
pub fn resolve_manual(
    c: &ConnectionRecord,
    accounts: &[AccountRecord],
    license_id: &str,
    account_id: Option<&str>,
    needs_rule: bool,
) -> Result<(String, LicenseKind, String), InvalidSettings> {
    if c.task_enabled(Task::LicenseInformation) {
        return Err(InvalidSettings::one(
            "license_id",
            "is read-only while License Information is on: Zoom's figures are used; turn the \
             task off first (update_settings with {\"tasks\": {\"license-information\": false}})",
        ));
    }
    let license_id = license_id.trim();
    let account_id = account_id
        .map(|a| a.trim().to_owned())
        .or_else(|| license_id.rsplit_once(':').map(|(a, _)| a.to_owned()))
        .unwrap_or_default();
    let Some(account) = accounts
        .iter()
        .find(|a| a.account_id == account_id && a.removed_at.is_none())
    else {
        return Err(InvalidSettings::one(
            "account_id",
            format!("{account_id:?} is not one of the connection's accounts"),
        ));
    };
    let Some(kind) = LicenseKind::from_unique_id(&account_id, license_id) else {
        return Err(InvalidSettings::one(
            "license_id",
            format!(
                "must be {account_id}:basic, :licensed, :on_prem, :no_meetings_basic or :other, \
                 not {license_id:?}"
            ),
        ));
    };
    if !kind.is_tracked(&c.settings) {
        let option = if kind == LicenseKind::OnPrem {
            "Include On Premises"
        } else {
            "Include Free Users"
        };
        return Err(InvalidSettings::one(
            "license_id",
            format!("{license_id}: its users are not tracked while {option} is No"),
        ));
    }
    let plan = plan_license_name(account.account_type.as_deref(), None);
    if needs_rule {
        kind.check_manual_provisioned(&plan, &c.settings)
            .map_err(|e| InvalidSettings::one("provisioned", e.to_string()))?;
    }
    Ok((account_id, kind, plan))
}

/// Sets (or, with `patch` `None`, removes the `clear`ed fields of) the manual entry of one
/// license. The change made, if any.
pub fn apply_manual(
    c: &mut ConnectionRecord,
    account_id: &str,
    license_id: &str,
    patch: Option<&ManualPatch>,
    clear: &[String],
    by: &str,
    at: DateTime<Utc>,
) -> Option<SettingsChange> {
    let before = c.manual_license(account_id, license_id).cloned();
    let mut entry = before.clone().unwrap_or_else(|| ManualLicense {
        account_id: account_id.to_owned(),
        license_id: license_id.to_owned(),
        name: None,
        provisioned: None,
        updated_by: by.to_owned(),
        updated_at: at,
    });
    match patch {
        Some(p) => {
            if p.name.is_some() {
                entry.name.clone_from(&p.name);
            }
            if p.provisioned.is_some() {
                entry.provisioned = p.provisioned;
            }
        }
        None => {
            for f in clear {
                match f.as_str() {
                    "name" => entry.name = None,
                    "provisioned" => entry.provisioned = None,
                    _ => {}
                }
            }
        }
    }
    let shown = |m: Option<&ManualLicense>| {
        m.map_or(
            Value::Null,
            |m| json!({"name": m.name, "provisioned": m.provisioned}),
        )
    };
    let empty = entry.name.is_none() && entry.provisioned.is_none();
    let after = (!empty).then_some(&entry);
    let (old, new) = (shown(before.as_ref()), shown(after));
    if old == new {
        return None;
    }
    entry.updated_by = by.to_owned();
    entry.updated_at = at;
    c.manual_licenses
        .retain(|m| !(m.account_id == account_id && m.license_id == license_id));
    if !empty {
        c.manual_licenses.push(entry);
        c.manual_licenses
            .sort_by(|a, b| (&a.account_id, &a.license_id).cmp(&(&b.account_id, &b.license_id)));
    }
    Some(SettingsChange {
        at,
        by: by.to_owned(),
        field: format!("manual_licenses.{license_id}"),
        old,
        new,
    })
}

/// The connection's settings as `get_settings` (and every change) shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingsView {
    pub connection_id: String,
    pub include_free_users: bool,
    pub include_on_premises: bool,
    pub inactivity_threshold_days: u16,
    pub protected_users: Vec<String>,
    /// Task name → on.
    pub tasks: BTreeMap<&'static str, bool>,
    /// While License Information is off: licenses entered by hand.
    pub manual_licenses: Vec<ManualLicense>,
    /// Newest first.
    pub history: Vec<SettingsChange>,
}

/// How many history entries a view shows.
pub const HISTORY_SHOWN: usize = 50;

impl SettingsView {
    pub fn of(c: &ConnectionRecord) -> Self {
        Self {
            connection_id: c.connection_id.clone(),
            include_free_users: c.settings.include_free_users.is_yes(),
            include_on_premises: c.settings.include_on_premises.is_yes(),
            inactivity_threshold_days: c.settings.inactivity_threshold.days(),
            protected_users: c.protected_users.clone(),
            tasks: Task::ALL
                .into_iter()
                .map(|t| (t.as_str(), c.task_enabled(t)))
                .collect(),
            manual_licenses: c.manual_licenses.clone(),
            history: c
                .settings_history
                .iter()
                .rev()
                .take(HISTORY_SHOWN)
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_domain::ConnectionSettings;

    fn connection() -> ConnectionRecord {
        ConnectionRecord::new(
            "c1",
            "master",
            ports::ZoomRegion::Na,
            ConnectionSettings::default(),
            Utc::now(),
        )
    }

    fn fields(v: Value) -> Vec<String> {
        SettingsPatch::parse(&v)
            .unwrap_err()
            .fields()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(
            fields(json!({
                "include_free_users": "maybe",
                "include_on_premises": 3,
                "inactivity_threshold_days": 45,
                "protected_users": ["ok@example.com", "not an id!", 7],
                "tasks": {"application-roster": false, "nightly": true, "license-information": "off"},
                "colour": "blue"
            })),
            [
                "settings.colour",
                "settings.inactivity_threshold_days",
                "settings.include_free_users",
                "settings.include_on_premises",
                "settings.protected_users[1]",
                "settings.protected_users[2]",
                "settings.tasks.application-roster",
                "settings.tasks.license-information",
                "settings.tasks.nightly",
            ]
        );
        assert_eq!(fields(json!({})), ["settings"]);
        assert_eq!(fields(json!([])), ["settings"]);
        assert_eq!(
            fields(json!({"protected_users": {"add": ["x@y.z"], "drop": []}})),
            ["settings.protected_users.drop"]
        );
    }

    #[test]
    fn a_change_is_applied_and_audited_old_to_new() {
        let mut c = connection();
        c.protected_users = vec!["Keep@Example.com".into(), "gone@example.com".into()];
        let patch = SettingsPatch::parse(&json!({
            "include_free_users": "yes",
            "inactivity_threshold_days": "90",
            "protected_users": {"add": ["keep@example.com", "new@example.com"], "remove": ["GONE@example.com"]},
            "tasks": {"license-information": false, "application-access": true}
        }))
        .unwrap();
        let at = Utc::now();
        let changes = patch
            .apply(&mut c, &BTreeMap::new(), "admin@example.com", at)
            .unwrap();
        let summary: Vec<(String, Value, Value)> = changes
            .iter()
            .map(|ch| (ch.field.clone(), ch.old.clone(), ch.new.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                ("include_free_users".into(), json!(false), json!(true)),
                ("inactivity_threshold_days".into(), json!(60), json!(90)),
                (
                    "protected_users".into(),
                    json!(["Keep@Example.com", "gone@example.com"]),
                    json!(["Keep@Example.com", "new@example.com"])
                ),
                (
                    "tasks.license-information".into(),
                    json!(true),
                    json!(false)
                ),
            ]
        );
        assert!(
            changes
                .iter()
                .all(|ch| ch.by == "admin@example.com" && ch.at == at)
        );
        assert!(!c.task_enabled(Task::LicenseInformation));
        assert_eq!(c.settings.inactivity_threshold.days(), 90);
        // The same change again changes nothing.
        assert!(
            patch
                .apply(&mut c, &BTreeMap::new(), "admin@example.com", at)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn manual_licenses_follow_the_documented_rule() {
        let mut c = connection();
        let accounts = vec![AccountRecord {
            account_id: "master".into(),
            kind: ports::AccountKind::Master,
            name: None,
            owner_email: None,
            account_type: Some("Business".into()),
            seats: Some(10),
            created_at: None,
            removed_at: None,
        }];
        let resolve = |c: &ConnectionRecord, id: &str| {
            resolve_manual(c, &accounts, id, None, true).map_err(|e| e.fields()[0].to_owned())
        };
        // Read-only while License Information is on.
        assert_eq!(resolve(&c, "master:basic").unwrap_err(), "license_id");
        c.disabled_tasks.insert(Task::LicenseInformation);
        // Free users not tracked: Basic cannot be entered.
        assert_eq!(resolve(&c, "master:basic").unwrap_err(), "license_id");
        c.settings.include_free_users = YesNo::Yes;
        assert!(resolve(&c, "master:basic").is_ok());
        // Paid seats: only with Include On Premises.
        assert_eq!(resolve(&c, "master:licensed").unwrap_err(), "provisioned");
        assert_eq!(resolve(&c, "master:on_prem").unwrap_err(), "license_id");
        c.settings.include_on_premises = YesNo::Yes;
        assert!(resolve(&c, "master:licensed").is_ok());
        assert!(resolve(&c, "master:on_prem").is_ok());
        assert_eq!(resolve(&c, "other:basic").unwrap_err(), "account_id");
        assert_eq!(resolve(&c, "master:gold").unwrap_err(), "license_id");

        let patch = ManualPatch::parse(None, Some(&json!("Unlimited"))).unwrap();
        let at = Utc::now();
        let change = apply_manual(
            &mut c,
            "master",
            "master:on_prem",
            Some(&patch),
            &[],
            "a",
            at,
        )
        .unwrap();
        assert_eq!(change.old, Value::Null);
        assert_eq!(
            change.new,
            json!({"name": null, "provisioned": "unlimited"})
        );
        // Turning On-Prem off now would leave the entries without their rule.
        let plans = BTreeMap::from([("master".to_owned(), "Business".to_owned())]);
        let licensed = ManualPatch::parse(None, Some(&json!(12))).unwrap();
        apply_manual(
            &mut c,
            "master",
            "master:licensed",
            Some(&licensed),
            &[],
            "a",
            at,
        )
        .unwrap();
        let mut only_licensed = c.clone();
        only_licensed
            .manual_licenses
            .retain(|m| m.license_id == "master:licensed");
        let off = SettingsPatch::parse(&json!({"include_on_premises": false})).unwrap();
        assert_eq!(
            off.apply(&mut c.clone(), &plans, "a", at)
                .unwrap_err()
                .0
                .len(),
            2
        );
        assert_eq!(
            off.apply(&mut only_licensed, &plans, "a", at)
                .unwrap_err()
                .fields(),
            ["settings"]
        );
        c.manual_licenses
            .retain(|m| m.license_id != "master:licensed");
        // Clearing the only field removes the entry.
        let cleared = apply_manual(
            &mut c,
            "master",
            "master:on_prem",
            None,
            &["provisioned".into()],
            "a",
            at,
        )
        .unwrap();
        assert_eq!(cleared.new, Value::Null);
        assert!(c.manual_licenses.is_empty());
    }

    #[test]
    fn manual_values_are_checked() {
        let bad = |name: Option<Value>, p: Option<Value>| {
            ManualPatch::parse(name.as_ref(), p.as_ref())
                .unwrap_err()
                .fields()
                .join(",")
        };
        assert_eq!(bad(None, None), "provisioned");
        assert_eq!(bad(None, Some(json!(-1))), "provisioned");
        assert_eq!(bad(None, Some(json!(2.5))), "provisioned");
        assert_eq!(bad(None, Some(json!("lots"))), "provisioned");
        assert_eq!(bad(None, Some(json!(MAX_PROVISIONED + 1))), "provisioned");
        assert_eq!(bad(Some(json!(" ")), Some(json!(3))), "name");
        assert_eq!(bad(Some(json!(5)), None), "name");
        let ok = ManualPatch::parse(Some(&json!(" Campus ")), Some(&json!(0))).unwrap();
        assert_eq!(ok.name.as_deref(), Some("Campus"));
        assert_eq!(ok.provisioned, Some(Provisioned::Count(0)));
    }
}
