//! Record types kept in the single DynamoDB table (layout: `docs/data-model.md`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sync_domain::ActivityDates;
use zoom::Secret;

/// Zoom deployment region of the OAuth app a connection was authorized with (the Zoom
/// client's own type; stored as `NA`, `APAC`, `EU`).
pub use zoom::Region as ZoomRegion;

/// A connection's options (the domain's type; its serialized form is the stored one).
pub use sync_domain::ConnectionSettings;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionStatus {
    Active,
    /// The grant is gone (invalid_grant, or refreshed tokens could not be stored).
    NeedsReauthorization {
        reason: String,
        since: DateTime<Utc>,
    },
    /// The app was uninstalled; records are purged after `purge_after`.
    Deauthorized {
        at: DateTime<Utc>,
        purge_after: DateTime<Utc>,
    },
}

impl ConnectionStatus {
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Active)
    }
}

/// Outcome of the latest runs of one scheduled task for a connection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskOutcome {
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When each account's unit last finished (all its segments): the task has completed for
    /// the connection as of the oldest of these over the connection's current accounts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub account_success_at: BTreeMap<String, DateTime<Utc>>,
}

impl TaskOutcome {
    /// When the task last completed for every one of `accounts` (the oldest of their
    /// completions); `None` if one of them never completed.
    pub fn completed_for<'a>(
        &self,
        accounts: impl IntoIterator<Item = &'a str>,
    ) -> Option<DateTime<Utc>> {
        let mut oldest: Option<DateTime<Utc>> = None;
        for account in accounts {
            let at = *self.account_success_at.get(account)?;
            oldest = Some(oldest.map_or(at, |o| o.min(at)));
        }
        oldest
    }
}

/// A connected Zoom master account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    pub connection_id: String,
    pub zoom_account_id: String,
    pub account_name: Option<String>,
    pub region: ZoomRegion,
    pub settings: ConnectionSettings,
    pub status: ConnectionStatus,
    /// Users (ids or emails) reclamation must never touch.
    #[serde(default)]
    pub protected_users: Vec<String>,
    /// Per task name (e.g. `application-roster`).
    #[serde(default)]
    pub tasks: BTreeMap<String, TaskOutcome>,
    /// Scopes the app lacks, noted at connect time or when Zoom refused a call with 4711:
    /// the fields named there are not collected until the app is given the scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_scopes: Vec<MissingScopeNote>,
    pub created_at: DateTime<Utc>,
    /// When the admin last completed the OAuth flow: a deauthorization from before it belongs
    /// to an earlier installation and changes nothing. Absent on items written before it was
    /// kept (every deauthorization then applies, as it did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Tasks an admin turned off for this connection (`license-admin` `update_settings`):
    /// they are neither planned nor run. Empty: every task runs.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub disabled_tasks: BTreeSet<sync_domain::Task>,
    /// Licenses whose name or Provisioned figure an admin entered while License Information
    /// is off; License Differentiation then records the connection's licenses with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual_licenses: Vec<ManualLicense>,
    /// The latest changes of the settings above and of `settings` and `protected_users`,
    /// oldest first, at most [`SETTINGS_HISTORY_KEPT`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings_history: Vec<SettingsChange>,
    /// Optimistic-concurrency counter, managed by the store.
    #[serde(default)]
    pub version: u64,
}

/// How many settings changes a connection keeps (every change is also logged).
pub const SETTINGS_HISTORY_KEPT: usize = 200;

/// A license's name and Provisioned figure as an admin entered them (License Information off).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualLicense {
    pub account_id: String,
    /// The license's id as License Differentiation records it (`{accountId}:{kind}`).
    pub license_id: String,
    /// The name shown instead of the one derived from the plan; `None` keeps that one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `None` keeps the figure derived from the account (seats, or Unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<Provisioned>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// One audited change of a connection's settings: who, when, which field, old → new.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsChange {
    pub at: DateTime<Utc>,
    pub by: String,
    /// e.g. `include_free_users`, `tasks.license-information`, `protected_users`,
    /// `manual_licenses.{licenseId}`.
    pub field: String,
    pub old: serde_json::Value,
    pub new: serde_json::Value,
}

impl ConnectionRecord {
    /// Whether the admin left `task` on for this connection.
    pub fn task_enabled(&self, task: sync_domain::Task) -> bool {
        !self.disabled_tasks.contains(&task)
    }

    /// Sets the connection's options to `next`: one change per option that differs (the
    /// caller records them with [`Self::record_settings_changes`]).
    pub fn change_settings(
        &mut self,
        next: ConnectionSettings,
        by: &str,
        at: DateTime<Utc>,
    ) -> Vec<SettingsChange> {
        let (old, new) = (self.settings, next);
        let fields = [
            (
                "include_free_users",
                serde_json::json!(old.include_free_users.is_yes()),
                serde_json::json!(new.include_free_users.is_yes()),
            ),
            (
                "include_on_premises",
                serde_json::json!(old.include_on_premises.is_yes()),
                serde_json::json!(new.include_on_premises.is_yes()),
            ),
            (
                "inactivity_threshold_days",
                serde_json::json!(old.inactivity_threshold.days()),
                serde_json::json!(new.inactivity_threshold.days()),
            ),
        ];
        self.settings = next;
        fields
            .into_iter()
            .filter(|(_, old, new)| old != new)
            .map(|(field, old, new)| SettingsChange {
                at,
                by: by.to_owned(),
                field: field.to_owned(),
                old,
                new,
            })
            .collect()
    }

    /// Appends `changes` to the history, keeping the newest [`SETTINGS_HISTORY_KEPT`].
    pub fn record_settings_changes(&mut self, changes: impl IntoIterator<Item = SettingsChange>) {
        self.settings_history.extend(changes);
        let excess = self
            .settings_history
            .len()
            .saturating_sub(SETTINGS_HISTORY_KEPT);
        self.settings_history.drain(..excess);
    }

    /// The manual entry of a license, if an admin made one.
    pub fn manual_license(&self, account_id: &str, license_id: &str) -> Option<&ManualLicense> {
        self.manual_licenses
            .iter()
            .find(|m| m.account_id == account_id && m.license_id == license_id)
    }
}

impl ConnectionRecord {
    pub fn new(
        connection_id: impl Into<String>,
        zoom_account_id: impl Into<String>,
        region: ZoomRegion,
        settings: ConnectionSettings,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            connection_id: connection_id.into(),
            zoom_account_id: zoom_account_id.into(),
            account_name: None,
            region,
            settings,
            status: ConnectionStatus::Active,
            protected_users: Vec::new(),
            tasks: BTreeMap::new(),
            missing_scopes: Vec::new(),
            created_at: now,
            authorized_at: Some(now),
            updated_at: now,
            disabled_tasks: BTreeSet::new(),
            manual_licenses: Vec::new(),
            settings_history: Vec::new(),
            version: 0,
        }
    }
}

/// A scope the connection's app lacks and what is not collected without it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingScopeNote {
    /// The scope Zoom named (or the classic scope and its granular equivalents).
    pub scope: String,
    /// In plain words, e.g. "Meeting Joined dates (past meeting participants)".
    pub not_collected: String,
    /// The task (or `connect`) that noticed.
    pub noticed_by: String,
    /// Without the scope, activity dates (Meeting Created / Meeting Joined) are not collected:
    /// the data is partial and reclamation refuses to act while such a note exists.
    #[serde(default)]
    pub activity: bool,
    pub noticed_at: DateTime<Utc>,
}

impl ConnectionRecord {
    /// The notes that make activity data partial (Application Access could not collect a
    /// field): reclamation refuses to act while there are any.
    pub fn activity_gaps(&self) -> Vec<&MissingScopeNote> {
        self.missing_scopes.iter().filter(|m| m.activity).collect()
    }

    /// Whether activity data is partial because a scope is missing.
    pub fn activity_is_partial(&self) -> bool {
        !self.activity_gaps().is_empty()
    }
}

/// A pending `/connect` (single use, 10-minute TTL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthStateRecord {
    /// The random `state` parameter (also the key).
    pub state: String,
    pub pkce_verifier: Secret,
    pub region: ZoomRegion,
    pub settings: ConnectionSettings,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// SHA-256 (hex) of the nonce in the cookie `/connect` set on the browser that started
    /// the flow: the callback must come from that browser. A state without one is refused.
    #[serde(default)]
    pub browser_binding: Option<String>,
    /// The admin who minted the connect link.
    #[serde(default)]
    pub invited_by: Option<String>,
    /// The only Zoom account the link may connect, when the admin named one.
    #[serde(default)]
    pub expected_zoom_account_id: Option<String>,
}

/// A one-time connect link minted by an admin (`connect-link`): `/connect` accepts only these.
/// Keyed by [`secret_digest`] of the link's token, so the table never holds a usable link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectInviteRecord {
    /// [`secret_digest`] of the token in the link.
    pub key: String,
    /// The settings the connection gets (chosen by the admin, not by the link's query).
    pub settings: ConnectionSettings,
    pub requested_by: String,
    /// The only Zoom account this link may connect, if named.
    #[serde(default)]
    pub zoom_account_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A fresh one-time secret (a connect link's token, a browser nonce): 256 random bits,
/// base64url without padding (43 characters).
pub fn random_secret() -> String {
    use base64::Engine as _;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a one-time secret (a connect link's token, a browser nonce): its SHA-256,
/// hex. The table never holds the secret itself.
pub fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Master,
    Sub,
}

/// The master account or one of its sub accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub account_id: String,
    pub kind: AccountKind,
    pub name: Option<String>,
    pub owner_email: Option<String>,
    pub account_type: Option<String>,
    pub seats: Option<u64>,
    pub created_at: Option<DateTime<Utc>>,
    /// Set when the account no longer appears at Zoom.
    pub removed_at: Option<DateTime<Utc>>,
}

/// Roster fields of one user of one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Absent for pending users (then the user is keyed by email).
    pub user_id: Option<String>,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Zoom user type (1 Basic, 2 Licensed, 3 On-prem, 4, 99, … kept as sent).
    pub user_type: i64,
    /// `active`, `inactive` or `pending`.
    pub status: String,
    pub role_id: Option<String>,
    pub role_name: Option<String>,
    pub account_id: String,
    /// When the user became active.
    pub active_date: Option<DateTime<Utc>>,
    pub license_name: Option<String>,
    /// Set when the user no longer appears at Zoom; cleared if they come back.
    pub removed_at: Option<DateTime<Utc>>,
}

impl UserRecord {
    /// Stable key within the account: the Zoom user id, or `email:<lower-case email>` for
    /// pending users, who have no id.
    pub fn key(&self) -> String {
        user_key(self.user_id.as_deref(), &self.email)
    }

    pub fn is_removed(&self) -> bool {
        self.removed_at.is_some()
    }
}

/// The key of a user (see [`UserRecord::key`]).
pub fn user_key(user_id: Option<&str>, email: &str) -> String {
    match user_id {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("email:{}", email.to_lowercase()),
    }
}

/// Activity fields of one user (written by Application Access, separately from the roster).
/// The dates are stored flat beside the keys, as they always were.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAccess {
    pub user_key: String,
    pub account_id: String,
    #[serde(flatten)]
    pub dates: ActivityDates,
}

/// A user's roster record with their activity record, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserView {
    pub roster: UserRecord,
    pub access: Option<UserAccess>,
}

impl UserView {
    /// The user's activity dates (none known without an activity record).
    pub fn activity(&self) -> ActivityDates {
        self.access.as_ref().map(|a| a.dates).unwrap_or_default()
    }
}

/// Seats provisioned for a license (the domain's type, stored as it serializes).
pub use sync_domain::Provisioned;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseActivity {
    pub active_30_days: u64,
    pub active_60_days: u64,
    pub active_90_days: u64,
    pub threshold_days: u32,
    pub inactive_beyond_threshold: u64,
}

/// One license (plan) of one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseRecord {
    pub account_id: String,
    /// Unique within the account (e.g. the plan key, `basic`, `on_prem`).
    pub license_id: String,
    pub name: String,
    pub provisioned: Provisioned,
    /// Seats held: users of this license with status `active` (a deactivated user holds no
    /// seat, REFERENCE §3.6; pending users hold none yet).
    pub assigned: u64,
    pub active: u64,
    /// Deactivated users of this license (their own figure; not seats).
    pub inactive: u64,
    pub activity: Option<LicenseActivity>,
    pub as_of: NaiveDate,
    /// Zoom's own count: assigned seats of the Licensed license (`GET /accounts/{id}/plans/usage`,
    /// `plan_base.usage`), On-Prem users of the On-Prem license (`users/summary`). `None` when
    /// Zoom does not give it: see `zoom_assigned_note`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_assigned: Option<u64>,
    /// Why Zoom's figure is missing (self-pay sub account, missing scope, …) or what explains a
    /// difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_assigned_note: Option<String>,
    /// Name or Provisioned entered by an admin (License Information off), not read from Zoom.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub entered_by_hand: bool,
}

impl LicenseRecord {
    /// Zoom's own figure differs from the seats counted from the roster.
    pub fn differs_from_zoom(&self) -> bool {
        self.zoom_assigned.is_some_and(|z| z != self.assigned)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    /// Stopped at a checkpoint; a follow-up continues.
    Continued,
    /// Not run: an admin turned the task off for the connection (a message queued before).
    Skipped,
}

/// One run of a task for a connection (and optionally one account).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRunRecord {
    pub run_id: String,
    pub connection_id: String,
    pub task: String,
    pub account_id: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
    #[serde(default)]
    pub requests_by_endpoint: BTreeMap<String, u64>,
    pub rate_limited: u64,
    pub retries: u64,
    pub duration_ms: u64,
    pub error: Option<String>,
}

/// Where a task stopped for a connection and account (watermarks, page cursors).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub connection_id: String,
    pub task: String,
    pub account_id: String,
    pub watermark: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    pub last_full_run_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub data: serde_json::Value,
    pub updated_at: DateTime<Utc>,
    /// Compare-and-swap counter, managed by the store.
    #[serde(default)]
    pub version: u64,
}

/// A user License Differentiation found inactive beyond the connection's threshold (read by
/// admins and the license report; the reclamation function re-checks everything live).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReclamationCandidate {
    pub account_id: String,
    pub user_key: String,
    pub user_id: Option<String>,
    pub email: String,
    pub license_id: String,
    pub license_name: String,
    pub user_type: i64,
    pub last_login: Option<DateTime<Utc>>,
    pub last_meeting_created: Option<DateTime<Utc>>,
    pub last_meeting_joined: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
    pub days_inactive: i64,
    pub threshold_days: u16,
    pub computed_at: DateTime<Utc>,
}

/// One piece of a long run's checkpoint data (see `SyncRunStore::put_checkpoint_part`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointPart {
    pub connection_id: String,
    pub task: String,
    pub account_id: String,
    pub run_id: String,
    pub seq: u32,
    pub data: serde_json::Value,
}

/// A reclamation request, recorded once per request id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRequest {
    pub request_id: String,
    pub connection_id: String,
    pub requested_by: String,
    pub reason: String,
    pub action: String,
    pub mode: String,
    pub request: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Where an audit entry stands with respect to its Zoom change. An entry is written as an
/// [`Intent`](Self::Intent) before the change is sent to Zoom and completed after it, so a crash
/// in between leaves an entry a later `reactivate` can resolve from the user's live state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditState {
    /// Written before the Zoom call; what Zoom did is not known (yet, or ever: the invocation
    /// ended before completing the entry).
    Intent,
    /// Recorded; `outcome` says what happened. Entries written before intents existed have no
    /// state and read as this.
    #[default]
    Done,
    /// Zoom refused the change or could not be asked (`reason` holds the error).
    Failed,
    /// An intent that a later `reactivate` found, from the user's live state, never to have
    /// reached Zoom: nothing was changed.
    NotApplied,
}

impl AuditState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intent => "intent",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::NotApplied => "not_applied",
        }
    }
}

/// What reclamation did (or skipped) for one user in one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub request_id: String,
    pub connection_id: String,
    pub account_id: String,
    pub user_key: String,
    pub email: Option<String>,
    pub action: String,
    /// Where the entry stands (see [`AuditState`]); absent in items written before intents
    /// existed, which read as `done`.
    #[serde(default)]
    pub state: AuditState,
    /// `acted`, `skipped`, `unchanged` or `failed`; `unknown` while the state is `intent`.
    pub outcome: String,
    pub reason: Option<String>,
    pub requested_by: String,
    pub why: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    pub zoom_tracking_id: Option<String>,
    /// When the entry was first written (for an intent: before the Zoom call).
    pub at: DateTime<Utc>,
}

/// A task that is spending a connection's Zoom budget now: renewed by heartbeats, ignored once
/// `until` has passed (a crashed holder), deleted when its unit ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningTask {
    pub connection_id: String,
    pub task: String,
    /// The unit run that holds the mark (only it clears it).
    pub owner: String,
    pub until: DateTime<Utc>,
}

/// What a connection's units learned about its Zoom budget: for each rate-limit category, the
/// part of the configured rate the account turned out to allow (`zoom::RateLimiter::pace`), so
/// that a unit starting in another process does not rediscover it from the configured rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnedPace {
    pub connection_id: String,
    /// By category name (`Light`, `Medium`, `Heavy`, `Resource-intensive`).
    pub paces: std::collections::BTreeMap<String, f64>,
    /// The unit run that wrote it (a unit does not adopt its own).
    pub owner: String,
    pub at: DateTime<Utc>,
}

/// A lease (mutual exclusion with expiry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub name: String,
    pub owner: String,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items written before the record types took the domain's own types read back the same,
    /// and are written back in the same form.
    #[test]
    fn stored_items_keep_their_form() {
        let access = serde_json::json!({
            "user_key": "u1",
            "account_id": "a1",
            "last_login": "2026-10-01T08:00:00Z",
            "last_meeting_created": null,
            "last_meeting_joined": "2026-09-30T12:00:00Z"
        });
        let read: UserAccess = serde_json::from_value(access.clone()).unwrap();
        assert_eq!(
            read.dates.last_login.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-10-01T08:00:00+00:00")
        );
        assert_eq!(read.dates.last_meeting_created, None);
        assert_eq!(serde_json::to_value(&read).unwrap(), access);

        for (region, text) in [
            (ZoomRegion::Na, "NA"),
            (ZoomRegion::Apac, "APAC"),
            (ZoomRegion::Eu, "EU"),
        ] {
            assert_eq!(serde_json::to_value(region).unwrap(), text);
            assert_eq!(
                serde_json::from_value::<ZoomRegion>(text.into()).unwrap(),
                region
            );
        }
        assert!(serde_json::from_value::<ZoomRegion>("US".into()).is_err());
    }
}
