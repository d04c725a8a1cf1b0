//! The use case: select users from the stored roster and activity, re-check each one live at
//! Zoom, act (or, in a dry run, say what would be done), audit, summarize.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_adapters::Records;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::TryStreamExt;
use ports::{
    AccountStore, AuditEntry, AuditRequest, AuditStore, ConnectionRecord, ConnectionStatus,
    ConnectionStore, LeaseStore, MissingScopeNote, UserStore, UserView,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sync_domain::{ActivityDates, LicenseKind, inactive_beyond};
use tracing::{info, warn};

use crate::error::ReclamationError;
use crate::gateway::{AccountRef, LiveUser, ZoomConnector, ZoomFailure, ZoomUsers, scopes_for};
use crate::request::{Action, Mode, ReclamationRequest, Selection};

/// Where "now" comes from (tests pin it to the sandbox's clock).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// A request holds its lease this long at most (Lambda's 15 minutes plus margin).
const LEASE_TTL: Duration = Duration::from_secs(16 * 60);

/// The integration task whose completion dates the activity data (its name in
/// `ConnectionRecord::tasks`).
pub const ACCESS_TASK: &str = "application-access";

/// The record stores reclamation reads and writes.
#[derive(Clone)]
pub struct Stores {
    pub connections: Arc<dyn ConnectionStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub users: Arc<dyn UserStore>,
    pub audit: Arc<dyn AuditStore>,
    pub leases: Arc<dyn LeaseStore>,
}

impl Stores {
    pub fn from_records(records: Records) -> Self {
        let r = Arc::new(records);
        Self {
            connections: r.clone(),
            accounts: r.clone(),
            users: r.clone(),
            audit: r.clone(),
            leases: r,
        }
    }
}

/// What happened (or would happen) to one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Dry run: execute would act on this user.
    WouldAct,
    Acted,
    /// Already in the target state (e.g. already deactivated).
    Unchanged,
    Skipped,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WouldAct => "would_act",
            Self::Acted => "acted",
            Self::Unchanged => "unchanged",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "would_act" => Self::WouldAct,
            "acted" => Self::Acted,
            "unchanged" => Self::Unchanged,
            "skipped" => Self::Skipped,
            _ => Self::Failed,
        }
    }
}

/// Skip reasons (stable codes; the response adds a sentence).
pub mod reason {
    pub const NOT_IN_ROSTER: &str = "not_in_roster";
    pub const AMBIGUOUS_EMAIL: &str = "ambiguous_email";
    pub const NOT_FOUND: &str = "not_found";
    pub const MOVED_ACCOUNT: &str = "moved_account";
    pub const OWNER_OR_ADMIN: &str = "owner_or_admin";
    pub const PROTECTED: &str = "protected";
    pub const PENDING: &str = "pending";
    pub const RECENTLY_ACTIVE: &str = "recently_active";
    pub const LOGGED_IN_SINCE_SYNC: &str = "logged_in_since_sync";
    pub const NO_ACTIVITY_DATA: &str = "no_activity_data";
    pub const ALREADY_DEACTIVATED: &str = "already_deactivated";
    pub const ALREADY_BASIC: &str = "already_basic";
    pub const ALREADY_RESTORED: &str = "already_restored";
    pub const ZOOM_ERROR: &str = "zoom_error";
}

/// One user's line in the response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserResult {
    pub user_key: String,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub account_id: String,
    pub license_name: Option<String>,
    /// Activity as last synced (per signal).
    pub last_activity: ActivityDates,
    /// Zoom's own `last_login_time` at the live re-check.
    pub live_last_login: Option<DateTime<Utc>>,
    pub days_inactive: Option<i64>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub detail: String,
    pub error: Option<ZoomFailure>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub zoom_tracking_id: Option<String>,
    /// The license this user's change frees (deactivate/downgrade) or takes again (reactivate).
    pub license_change: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub selected: u64,
    pub would_act: u64,
    pub acted: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    pub failed: u64,
    /// Paid seats freed per license name (dry run: would be freed): a deactivated user who held
    /// one (Zoom removes all licenses on deactivation) or a user downgraded to Basic. Skipped,
    /// unchanged and failed users free nothing.
    pub licenses_freed: BTreeMap<String, u64>,
    /// Paid seats taken again per license name (reactivate).
    pub licenses_restored: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReclamationResponse {
    pub request_id: String,
    pub connection_id: String,
    pub action: Action,
    pub mode: Mode,
    /// The request id had been executed before: nothing was done again; the results are
    /// those recorded then.
    pub replayed: bool,
    pub cap: u32,
    /// When the activity data used was complete: the oldest Application Access completion over
    /// the connection's current accounts (`null`: some account never completed).
    #[serde(default)]
    pub data_as_of: Option<DateTime<Utc>>,
    /// The oldest activity data execute acts on, in hours (the request's, default 48).
    #[serde(default)]
    pub max_data_age_hours: u32,
    /// Dry run: what would stop execute (stale or partial activity data, cap, scope).
    pub warnings: Vec<String>,
    pub summary: Summary,
    pub users: Vec<UserResult>,
}

/// A user the request is about, from the stored records.
#[derive(Clone, Debug)]
struct Candidate {
    account_id: String,
    user_key: String,
    user_id: Option<String>,
    email: Option<String>,
    license_name: Option<String>,
    role: Option<String>,
    status: Option<String>,
    removed: bool,
    activity: ActivityDates,
    created: Option<DateTime<Utc>>,
    /// Decided from the stored data already (no Zoom call needed).
    pre: Option<(Outcome, &'static str, String)>,
    /// Reactivate: the audit entry being undone.
    restore: Option<AuditEntry>,
}

impl Candidate {
    fn from_view(view: UserView) -> Self {
        let r = view.roster;
        let activity = view
            .access
            .map(|a| ActivityDates {
                last_login: a.last_login,
                last_meeting_created: a.last_meeting_created,
                last_meeting_joined: a.last_meeting_joined,
            })
            .unwrap_or_default();
        Self {
            user_key: r.key(),
            account_id: r.account_id.clone(),
            user_id: r.user_id.clone().filter(|s| !s.is_empty()),
            email: Some(r.email.clone()),
            license_name: r.license_name.clone().or_else(|| {
                Some(LicenseKind::from_user_type(r.user_type).license_name("Licensed"))
            }),
            role: r.role_name.clone().or(r.role_id.clone()),
            status: Some(r.status.clone()),
            removed: r.is_removed(),
            activity,
            created: r.active_date,
            pre: None,
            restore: None,
        }
    }

    fn unknown(given: &str, reason: &'static str, detail: String) -> Self {
        Self {
            account_id: String::new(),
            user_key: format!("unknown:{}", given.to_lowercase()),
            user_id: None,
            email: given.contains('@').then(|| given.to_owned()),
            license_name: None,
            role: None,
            status: None,
            removed: false,
            activity: ActivityDates::default(),
            created: None,
            pre: Some((Outcome::Skipped, reason, detail)),
            restore: None,
        }
    }

    fn is_protected(&self, protected: &[String], live_email: Option<&str>) -> bool {
        let keys = [
            self.user_id.as_deref(),
            self.email.as_deref(),
            live_email,
            Some(self.user_key.as_str()),
        ];
        protected.iter().any(|p| {
            let p = p.trim();
            keys.iter().flatten().any(|k| k.eq_ignore_ascii_case(p))
        })
    }

    fn result(&self, outcome: Outcome, reason: Option<&str>, detail: String) -> UserResult {
        UserResult {
            user_key: self.user_key.clone(),
            user_id: self.user_id.clone(),
            email: self.email.clone(),
            account_id: self.account_id.clone(),
            license_name: self.license_name.clone(),
            last_activity: self.activity,
            live_last_login: None,
            days_inactive: None,
            outcome,
            reason: reason.map(str::to_owned),
            detail,
            error: None,
            before: None,
            after: None,
            zoom_tracking_id: None,
            license_change: None,
        }
    }
}

fn is_paid(user_type: i64) -> bool {
    matches!(
        LicenseKind::from_user_type(user_type),
        LicenseKind::Licensed | LicenseKind::OnPrem
    )
}

/// Whether Zoom counts a paid seat for a user in this state: active and of a paid type. A
/// deactivated user holds none, whatever type Zoom still lists (deactivation removes all
/// licenses, REFERENCE §3.6); a pending invitation holds none yet.
fn holds_seat(status: &str, user_type: i64) -> bool {
    status == "active" && is_paid(user_type)
}

/// [`holds_seat`] of a recorded state (`before` / `after` of an audit entry); `None` without a
/// type. A state without a status counts as active.
fn state_holds_seat(state: &Value) -> Option<bool> {
    let user_type = state.get("type").and_then(Value::as_i64)?;
    let status = state
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("active");
    Some(holds_seat(status, user_type))
}

/// Whether an `acted` change frees a paid seat (`before` / `after`: whether the user held one).
/// Deactivation frees the seat the user held whatever type Zoom lists afterwards; a downgrade
/// frees it unless the user still holds one after; reactivation never frees.
fn frees_seat(action: &str, before: Option<bool>, after: Option<bool>) -> bool {
    match action {
        "deactivate" => before == Some(true),
        "downgrade" => before == Some(true) && after != Some(true),
        _ => false,
    }
}

/// Whether an `acted` restore takes a paid seat again.
fn takes_seat(before: Option<bool>, after: Option<bool>) -> bool {
    before == Some(false) && after == Some(true)
}

fn role_is_privileged(role: &str) -> bool {
    let r = role.trim().to_ascii_lowercase();
    r == "owner" || r == "admin" || r == "0" || r == "1"
}

/// The reclamation use case.
pub struct Reclaimer {
    stores: Stores,
    zoom: Arc<dyn ZoomConnector>,
    clock: Clock,
}

impl Reclaimer {
    pub fn new(stores: Stores, zoom: Arc<dyn ZoomConnector>) -> Self {
        Self {
            stores,
            zoom,
            clock: Arc::new(Utc::now),
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Handles one invocation payload.
    pub async fn handle(&self, payload: &Value) -> Result<ReclamationResponse, ReclamationError> {
        let request = ReclamationRequest::parse(payload)?;
        self.run(&request).await
    }

    #[tracing::instrument(skip_all, fields(
        request_id = %request.request_id,
        connection_id = %request.connection_id,
        action = request.action.as_str(),
        mode = request.mode.as_str(),
    ))]
    pub async fn run(
        &self,
        request: &ReclamationRequest,
    ) -> Result<ReclamationResponse, ReclamationError> {
        request.validate()?;
        let connection = self
            .stores
            .connections
            .get_connection(&request.connection_id)
            .await?
            .ok_or_else(|| ReclamationError::ConnectionNotFound(request.connection_id.clone()))?;
        match &connection.status {
            ConnectionStatus::Active => {}
            ConnectionStatus::NeedsReauthorization { reason, .. } => {
                return Err(ReclamationError::ConnectionUnavailable {
                    id: connection.connection_id.clone(),
                    state: format!("it needs re-authorization ({reason})"),
                });
            }
            ConnectionStatus::Deauthorized { at, .. } => {
                return Err(ReclamationError::ConnectionUnavailable {
                    id: connection.connection_id.clone(),
                    state: format!("the app was uninstalled at {at}"),
                });
            }
        }
        let now = (self.clock)();
        let mut warnings = Vec::new();
        let (data_as_of, data_problems) = self.data_state(request, &connection, now).await?;
        if request.action != Action::Reactivate {
            // Reactivate only undoes an earlier request from its audit and reads no activity:
            // stale or partial data never keeps anyone from being restored.
            for problem in data_problems {
                if request.mode == Mode::Execute {
                    warn!(error = %problem, "refusing to act on this activity data");
                    return Err(problem);
                }
                warnings.push(problem.to_string());
            }
        }
        let mut candidates = self.select(request, &connection).await?;
        for c in &mut candidates {
            if c.pre.is_none() {
                c.pre = pre_check(request, &connection, c, now);
            }
        }
        let actionable: Vec<&Candidate> = candidates.iter().filter(|c| c.pre.is_none()).collect();

        let cap = request.cap();
        if actionable.len() > cap as usize {
            let e = ReclamationError::CapExceeded {
                selected: actionable.len(),
                cap,
            };
            if request.mode == Mode::Execute {
                return Err(e);
            }
            warnings.push(e.to_string());
        }
        if let Some(missing) = self
            .missing_scopes(request, &connection, &actionable)
            .await?
        {
            let e = ReclamationError::MissingScope { missing };
            if request.mode == Mode::Execute {
                return Err(e);
            }
            warnings.push(e.to_string());
        }

        let zoom = self
            .zoom
            .users(&connection)
            .await
            .map_err(ReclamationError::Zoom)?;

        if request.mode == Mode::DryRun {
            let mut results = Vec::with_capacity(candidates.len());
            for c in &candidates {
                results.push(self.process(request, &connection, &*zoom, c, now).await);
            }
            return Ok(respond(request, false, data_as_of, warnings, results));
        }

        // Execute: one invocation per request id at a time, recorded once.
        let lease = format!("reclamation#{}", request.request_id);
        let owner = format!("{:016x}", rand::random::<u64>());
        if !self
            .stores
            .leases
            .acquire(&lease, &owner, LEASE_TTL)
            .await?
        {
            return Err(ReclamationError::InProgress(request.request_id.clone()));
        }
        let outcome = self
            .execute(request, &connection, &*zoom, &candidates, data_as_of, now)
            .await;
        if let Err(e) = self.stores.leases.release(&lease, &owner).await {
            warn!(error = %e, "could not release the request lease (it expires by itself)");
        }
        outcome
    }

    async fn execute(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
        zoom: &dyn ZoomUsers,
        candidates: &[Candidate],
        data_as_of: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ReclamationResponse, ReclamationError> {
        let plan: Vec<String> = candidates.iter().map(|c| c.user_key.clone()).collect();
        let record = AuditRequest {
            request_id: request.request_id.clone(),
            connection_id: request.connection_id.clone(),
            requested_by: request.requested_by.clone(),
            reason: request.reason.clone(),
            action: request.action.as_str().into(),
            mode: request.mode.as_str().into(),
            request: json!({ "fingerprint": request.fingerprint(), "plan": plan }),
            created_at: now,
        };
        let first = self.stores.audit.begin_request(&record).await?;
        let mut recorded: HashMap<String, AuditEntry> = HashMap::new();
        let mut planned: Option<HashSet<String>> = None;
        if !first {
            let earlier = self
                .stores
                .audit
                .get_request(&request.request_id)
                .await?
                .ok_or_else(|| ReclamationError::RequestIdReused(request.request_id.clone()))?;
            if earlier.request.get("fingerprint") != Some(&request.fingerprint())
                || earlier.mode != Mode::Execute.as_str()
            {
                return Err(ReclamationError::RequestIdReused(
                    request.request_id.clone(),
                ));
            }
            planned = earlier
                .request
                .get("plan")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                });
            let entries: Vec<AuditEntry> = self
                .stores
                .audit
                .list_request_entries(&request.request_id)
                .try_collect()
                .await?;
            recorded = entries
                .into_iter()
                .map(|e| (e.user_key.clone(), e))
                .collect();
            info!(
                recorded = recorded.len(),
                "replayed request id: reporting recorded results, finishing only unrecorded users"
            );
        }

        let mut results = Vec::with_capacity(candidates.len());
        let mut seen = HashSet::new();
        for c in candidates {
            seen.insert(c.user_key.clone());
            if let Some(entry) = recorded.get(&c.user_key) {
                results.push(result_from_entry(entry, Some(c)));
                continue;
            }
            if let Some(planned) = &planned
                && !planned.contains(&c.user_key)
            {
                // Not part of the request as first executed (e.g. the roster changed since).
                continue;
            }
            let result = self.process(request, connection, zoom, c, now).await;
            let entry = AuditEntry {
                request_id: request.request_id.clone(),
                connection_id: request.connection_id.clone(),
                account_id: c.account_id.clone(),
                user_key: c.user_key.clone(),
                email: result.email.clone(),
                action: request.action.as_str().into(),
                outcome: result.outcome.as_str().into(),
                reason: result
                    .reason
                    .clone()
                    .map(|r| format!("{r}: {}", result.detail)),
                requested_by: request.requested_by.clone(),
                why: request.reason.clone(),
                before: with_license(result.before.clone(), result.license_name.as_deref()),
                after: result.after.clone().unwrap_or(Value::Null),
                zoom_tracking_id: result.zoom_tracking_id.clone(),
                at: (self.clock)(),
            };
            if !self.stores.audit.record_entry(&entry).await? {
                warn!(user_key = %c.user_key, "audit entry already recorded by another invocation");
            }
            info!(
                user_key = %c.user_key,
                account_id = %c.account_id,
                outcome = result.outcome.as_str(),
                reason = result.reason.as_deref().unwrap_or(""),
                "reclamation"
            );
            results.push(result);
        }
        // Recorded users the current selection no longer yields still belong to the report.
        let mut rest: Vec<&AuditEntry> = recorded
            .values()
            .filter(|e| !seen.contains(&e.user_key))
            .collect();
        rest.sort_by(|a, b| a.user_key.cmp(&b.user_key));
        results.extend(rest.into_iter().map(|e| result_from_entry(e, None)));
        Ok(respond(request, !first, data_as_of, Vec::new(), results))
    }

    /// As of when the activity data is complete for the connection (the oldest Application
    /// Access completion over its current accounts; `None` if one never completed), and what
    /// keeps execute from acting on it: partial activity (a missing scope), data older than
    /// the request's `max_data_age_hours`.
    async fn data_state(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
        now: DateTime<Utc>,
    ) -> Result<(Option<DateTime<Utc>>, Vec<ReclamationError>), ReclamationError> {
        let accounts: Vec<String> = self
            .stores
            .accounts
            .list_accounts(&connection.connection_id)
            .try_filter(|a| futures::future::ready(a.removed_at.is_none()))
            .map_ok(|a| a.account_id)
            .try_collect()
            .await?;
        let access = connection.tasks.get(ACCESS_TASK);
        let as_of = access.and_then(|t| t.completed_for(accounts.iter().map(String::as_str)));
        let mut problems = Vec::new();
        if connection.activity_is_partial() {
            problems.push(partial_activity(&connection.activity_gaps()));
        }
        let max_age_hours = request.max_data_age_hours();
        let detail = match as_of {
            Some(at) if now - at <= chrono::Duration::hours(i64::from(max_age_hours)) => None,
            Some(at) => Some(format!(
                "the data is as of {}, {:.1} hours old",
                at.to_rfc3339_opts(SecondsFormat::Secs, true),
                (now - at).num_seconds() as f64 / 3600.0
            )),
            None if accounts.is_empty() => {
                Some("no accounts of the connection are recorded yet".to_owned())
            }
            None => {
                let never: Vec<&str> = accounts
                    .iter()
                    .map(String::as_str)
                    .filter(|a| access.is_none_or(|t| !t.account_success_at.contains_key(*a)))
                    .collect();
                const NAMED: usize = 10;
                let mut named = never
                    .iter()
                    .take(NAMED)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ");
                if never.len() > NAMED {
                    named.push_str(&format!(" and {} more", never.len() - NAMED));
                }
                Some(format!(
                    "it never completed for account{} {named}",
                    if never.len() == 1 { "" } else { "s" }
                ))
            }
        };
        if let Some(detail) = detail {
            problems.push(ReclamationError::StaleData {
                data_as_of: as_of,
                max_age_hours,
                detail,
            });
        }
        Ok((as_of, problems))
    }

    /// The users the request is about, from the stored records.
    async fn select(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
    ) -> Result<Vec<Candidate>, ReclamationError> {
        let cid = connection.connection_id.as_str();
        let mut out: Vec<Candidate> = Vec::new();
        match request.selection() {
            Selection::Users(given) => {
                for g in &given {
                    let g = g.trim();
                    let mut found: Vec<UserView> = Vec::new();
                    if g.contains('@') {
                        found = self.stores.users.find_users_by_email(cid, g).await?;
                        found.retain(|v| !v.roster.is_removed());
                    } else if let Some(v) = self.stores.users.find_user_by_id(cid, g).await? {
                        found.push(v);
                    }
                    match found.len() {
                        0 => out.push(Candidate::unknown(
                            g,
                            reason::NOT_IN_ROSTER,
                            format!("{g} is not in the synced roster of this connection"),
                        )),
                        1 => out.push(Candidate::from_view(found.remove(0))),
                        n => out.push(Candidate::unknown(
                            g,
                            reason::AMBIGUOUS_EMAIL,
                            format!("{g} is a user of {n} accounts; name the user id instead"),
                        )),
                    }
                }
            }
            Selection::Policy(policy) => {
                let accounts: Vec<String> = match &policy.account_ids {
                    Some(ids) => ids.clone(),
                    None => {
                        self.stores
                            .accounts
                            .list_accounts(cid)
                            .try_filter(|a| futures::future::ready(a.removed_at.is_none()))
                            .map_ok(|a| a.account_id)
                            .try_collect()
                            .await?
                    }
                };
                let names: Option<HashSet<String>> = policy
                    .license_names
                    .as_ref()
                    .map(|l| l.iter().map(|n| n.trim().to_lowercase()).collect());
                let now = (self.clock)();
                for account in &accounts {
                    let mut users = self.stores.users.list_users(cid, account);
                    while let Some(view) = users.try_next().await? {
                        let r = &view.roster;
                        if r.is_removed() || r.status != "active" {
                            continue;
                        }
                        let license_ok = match &names {
                            Some(names) => r
                                .license_name
                                .as_deref()
                                .is_some_and(|n| names.contains(&n.trim().to_lowercase())),
                            // By default only paid seats: freeing a Basic user frees nothing.
                            None => is_paid(r.user_type),
                        };
                        if !license_ok {
                            continue;
                        }
                        if request.action == Action::Downgrade && !is_paid(r.user_type) {
                            continue;
                        }
                        let c = Candidate::from_view(view);
                        let days = c.activity.days_inactive(c.created, now);
                        if days.is_some_and(|d| inactive_beyond(d, policy.inactive_days)) {
                            out.push(c);
                        }
                    }
                }
            }
            Selection::Restore { request_id, only } => {
                let earlier = self
                    .stores
                    .audit
                    .get_request(&request_id)
                    .await?
                    .filter(|r| r.connection_id == connection.connection_id)
                    .ok_or_else(|| ReclamationError::RestoreNotFound(request_id.clone()))?;
                let only: Option<HashSet<String>> =
                    only.map(|o| o.iter().map(|s| s.trim().to_lowercase()).collect());
                let entries: Vec<AuditEntry> = self
                    .stores
                    .audit
                    .list_request_entries(&earlier.request_id)
                    .try_collect()
                    .await?;
                for e in entries {
                    if e.outcome != Outcome::Acted.as_str()
                        || !(e.action == "deactivate" || e.action == "downgrade")
                    {
                        continue;
                    }
                    if let Some(only) = &only {
                        let key = e.user_key.to_lowercase();
                        let email = e.email.clone().unwrap_or_default().to_lowercase();
                        if !only.contains(&key) && !only.contains(&email) {
                            continue;
                        }
                    }
                    let stored = self
                        .stores
                        .users
                        .get_user(cid, &e.account_id, &e.user_key)
                        .await?;
                    let mut c = match stored {
                        Some(v) => Candidate::from_view(v),
                        None => Candidate {
                            account_id: e.account_id.clone(),
                            user_key: e.user_key.clone(),
                            user_id: (!e.user_key.starts_with("email:"))
                                .then(|| e.user_key.clone()),
                            email: e.email.clone(),
                            license_name: None,
                            role: None,
                            status: None,
                            removed: false,
                            activity: ActivityDates::default(),
                            created: None,
                            pre: None,
                            restore: None,
                        },
                    };
                    if let Some(name) = e.before.get("license_name").and_then(Value::as_str) {
                        c.license_name = Some(name.to_owned());
                    }
                    c.restore = Some(e);
                    out.push(c);
                }
            }
        }
        // One line per user, in a stable order.
        let mut seen = HashSet::new();
        out.retain(|c| seen.insert((c.account_id.clone(), c.user_key.clone())));
        out.sort_by(|a, b| {
            (a.account_id.as_str(), a.user_key.as_str())
                .cmp(&(b.account_id.as_str(), b.user_key.as_str()))
        });
        Ok(out)
    }

    /// Scopes missing for what the actionable users need (`None`: nothing missing).
    async fn missing_scopes(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
        actionable: &[&Candidate],
    ) -> Result<Option<Vec<String>>, ReclamationError> {
        if actionable.is_empty() {
            return Ok(None);
        }
        let granted = match self
            .zoom
            .granted_scopes(&connection.connection_id)
            .await
            .map_err(ReclamationError::Zoom)?
        {
            Some(g) => g,
            None => {
                return Err(ReclamationError::ConnectionUnavailable {
                    id: connection.connection_id.clone(),
                    state: "no Zoom tokens are stored for it (reconnect the account)".into(),
                });
            }
        };
        let granted: HashSet<&str> = granted.iter().map(String::as_str).collect();
        let mut needs: Vec<(AccountRef, bool)> = Vec::new();
        for c in actionable {
            let account = AccountRef::for_user(connection, &c.account_id);
            let kinds: &[bool] = match request.action {
                Action::Deactivate => &[false],
                Action::Downgrade => &[true],
                Action::Reactivate => &[false, true],
            };
            for &k in kinds {
                let key = (
                    match &account {
                        AccountRef::Own => AccountRef::Own,
                        AccountRef::Sub(_) => AccountRef::Sub(String::new()),
                    },
                    k,
                );
                if !needs.contains(&key) {
                    needs.push(key);
                }
            }
        }
        let mut missing = Vec::new();
        for (account, type_change) in needs {
            let group = scopes_for(&account, type_change);
            if !group.iter().any(|s| granted.contains(s)) {
                missing.push(group.join(" or "));
            }
        }
        Ok((!missing.is_empty()).then_some(missing))
    }

    /// Re-checks one user live and acts (execute) or reports what would be done (dry run).
    async fn process(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
        zoom: &dyn ZoomUsers,
        c: &Candidate,
        now: DateTime<Utc>,
    ) -> UserResult {
        let threshold = threshold(request, connection);
        let mut r = c.result(Outcome::Skipped, None, String::new());
        r.days_inactive = c.activity.days_inactive(c.created, now);
        if let Some((outcome, why, detail)) = &c.pre {
            r.outcome = *outcome;
            r.reason = Some((*why).to_owned());
            r.detail = detail.clone();
            return r;
        }
        let execute = request.mode == Mode::Execute;
        let account = AccountRef::for_user(connection, &c.account_id);
        let skip = |mut r: UserResult, why: &str, detail: String| {
            r.outcome = Outcome::Skipped;
            r.reason = Some(why.to_owned());
            r.detail = detail;
            r
        };
        let Some(uid) = c.user_id.as_deref() else {
            return skip(
                r,
                reason::PENDING,
                "the user has no Zoom id (pending invitation)".into(),
            );
        };
        let live = match zoom.get_user(&account, uid).await {
            Ok(u) => u,
            Err(f) if f.is_not_found() => {
                return skip(
                    r,
                    reason::NOT_FOUND,
                    format!(
                        "Zoom no longer has this user in account {}: {}",
                        c.account_id, f.message
                    ),
                );
            }
            Err(f) => return failed(r, f, "could not read the user at Zoom"),
        };
        r.live_last_login = live.last_login_time;
        r.before = Some(live.state());
        if live
            .account_id
            .as_deref()
            .is_some_and(|a| a != c.account_id)
        {
            return skip(
                r,
                reason::MOVED_ACCOUNT,
                format!(
                    "the user is now in account {} (synced in {})",
                    live.account_id.as_deref().unwrap_or_default(),
                    c.account_id
                ),
            );
        }
        if live.is_privileged() {
            return skip(
                r,
                reason::OWNER_OR_ADMIN,
                format!(
                    "the user is an account {}; owners and admins are never changed",
                    live.role_name.as_deref().unwrap_or("owner or admin")
                ),
            );
        }
        if c.is_protected(&connection.protected_users, Some(&live.email)) {
            return skip(
                r,
                reason::PROTECTED,
                "the user is on the connection's protected list".into(),
            );
        }
        if live.status == "pending" {
            return skip(
                r,
                reason::PENDING,
                "the user has not accepted the invitation yet".into(),
            );
        }

        if let Some(entry) = &c.restore {
            return self
                .restore(r, zoom, &account, uid, &live, entry, execute)
                .await;
        }

        match request.action {
            Action::Deactivate if live.status == "inactive" => {
                r.outcome = Outcome::Unchanged;
                r.reason = Some(reason::ALREADY_DEACTIVATED.into());
                r.detail = "the user is already deactivated at Zoom".into();
                r.after = r.before.clone();
                return r;
            }
            Action::Downgrade if !is_paid(live.user_type) => {
                r.outcome = Outcome::Unchanged;
                r.reason = Some(reason::ALREADY_BASIC.into());
                r.detail = "the user holds no paid license at Zoom".into();
                r.after = r.before.clone();
                return r;
            }
            _ => {}
        }

        // Still inactive by Zoom's own last login (and the synced meeting signals)?
        let mut activity = c.activity;
        activity.merge(&ActivityDates {
            last_login: live.last_login_time,
            ..ActivityDates::default()
        });
        let days = activity.days_inactive(c.created, now);
        r.days_inactive = days;
        let logged_in_since_sync = live.last_login_time > c.activity.last_login;
        match days {
            None => {
                return skip(
                    r,
                    reason::NO_ACTIVITY_DATA,
                    "no activity and no creation date is known; cannot tell inactivity".into(),
                );
            }
            Some(d) if !inactive_beyond(d, threshold) => {
                let (why, detail) = if logged_in_since_sync {
                    (
                        reason::LOGGED_IN_SINCE_SYNC,
                        format!(
                            "Zoom shows a login at {} after the last sync; inactive {d} days, threshold {threshold}",
                            live.last_login_time
                                .map(|t| t.to_rfc3339())
                                .unwrap_or_default()
                        ),
                    )
                } else {
                    (
                        reason::RECENTLY_ACTIVE,
                        format!("inactive {d} days, not more than the threshold of {threshold}"),
                    )
                };
                return skip(r, why, detail);
            }
            Some(_) => {}
        }

        let seat_before = holds_seat(&live.status, live.user_type);
        let (verb, done_verb) = match request.action {
            Action::Downgrade => ("downgrade to Basic", "downgraded to Basic"),
            _ => ("deactivate", "deactivated"),
        };
        let detail = format!(
            "{} license, inactive {} days (last login {}, meeting created {}, meeting joined {})",
            c.license_name.as_deref().unwrap_or("unknown"),
            days.unwrap_or_default(),
            fmt_time(activity.last_login),
            fmt_time(c.activity.last_meeting_created),
            fmt_time(c.activity.last_meeting_joined),
        );
        if !execute {
            r.outcome = Outcome::WouldAct;
            r.detail = format!("would {verb}: {detail}");
            if frees_seat(request.action.as_str(), Some(seat_before), None) {
                r.license_change = c.license_name.clone();
            }
            return r;
        }
        let done = match request.action {
            Action::Downgrade => zoom.set_type(&account, uid, 1).await,
            _ => zoom.set_status(&account, uid, false).await,
        };
        match done {
            Ok(tracking) => {
                r.zoom_tracking_id = tracking;
                r.outcome = Outcome::Acted;
                r.detail = format!("{done_verb}: {detail}");
                let after = zoom.get_user(&account, uid).await.ok();
                let seat_after = after.as_ref().map(|u| holds_seat(&u.status, u.user_type));
                r.after = Some(match &after {
                    Some(u) => u.state(),
                    None => {
                        json!({ "status": if request.action == Action::Downgrade { live.status.clone() } else { "inactive".into() } })
                    }
                });
                if frees_seat(request.action.as_str(), Some(seat_before), seat_after) {
                    r.license_change = c.license_name.clone();
                }
                r
            }
            Err(f) => failed(r, f, &format!("Zoom refused to {verb} the user")),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn restore(
        &self,
        mut r: UserResult,
        zoom: &dyn ZoomUsers,
        account: &AccountRef,
        uid: &str,
        live: &LiveUser,
        entry: &AuditEntry,
        execute: bool,
    ) -> UserResult {
        let before_type = entry.before.get("type").and_then(Value::as_i64);
        let before_status = entry.before.get("status").and_then(Value::as_str);
        let activate = live.status == "inactive" && before_status != Some("inactive");
        let retype = before_type.filter(|t| *t != live.user_type && matches!(t, 2 | 4));
        if !activate && retype.is_none() {
            r.outcome = Outcome::Unchanged;
            r.reason = Some(reason::ALREADY_RESTORED.into());
            r.detail =
                "the user already has the status and type recorded before the request".into();
            r.after = r.before.clone();
            return r;
        }
        let mut steps = Vec::new();
        if activate {
            steps.push("activate".to_owned());
        }
        if let Some(t) = retype {
            steps.push(format!("restore user type {t}"));
        }
        let plan = steps.join(" and ");
        let seat_before = holds_seat(&live.status, live.user_type);
        let planned_status = if activate {
            "active"
        } else {
            live.status.as_str()
        };
        let planned_seat = holds_seat(planned_status, retype.unwrap_or(live.user_type));
        if !execute {
            r.outcome = Outcome::WouldAct;
            r.detail = format!("would {plan} (undoing request {})", entry.request_id);
            if takes_seat(Some(seat_before), Some(planned_seat)) {
                r.license_change = r.license_name.clone();
            }
            return r;
        }
        if activate {
            match zoom.set_status(account, uid, true).await {
                Ok(t) => r.zoom_tracking_id = t,
                Err(f) => return failed(r, f, "Zoom refused to activate the user"),
            }
        }
        if let Some(t) = retype {
            match zoom.set_type(account, uid, t).await {
                Ok(tid) => r.zoom_tracking_id = tid.or(r.zoom_tracking_id.take()),
                Err(f) => {
                    let msg = if activate {
                        "the user was activated, but Zoom refused to restore the user type"
                    } else {
                        "Zoom refused to restore the user type"
                    };
                    r.after = zoom.get_user(account, uid).await.ok().map(|u| u.state());
                    return failed(r, f, msg);
                }
            }
        }
        r.outcome = Outcome::Acted;
        r.detail = format!("{plan}: done (undoing request {})", entry.request_id);
        let after = zoom.get_user(account, uid).await.ok();
        let seat_after = after
            .as_ref()
            .map_or(planned_seat, |u| holds_seat(&u.status, u.user_type));
        r.after = after.map(|u| u.state());
        if takes_seat(Some(seat_before), Some(seat_after)) {
            r.license_change = r.license_name.clone();
        }
        r
    }
}

fn fmt_time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "never".into())
}

fn failed(mut r: UserResult, f: ZoomFailure, what: &str) -> UserResult {
    r.outcome = Outcome::Failed;
    r.reason = Some(reason::ZOOM_ERROR.into());
    r.detail = format!(
        "{what}: {}{}",
        f.message,
        if f.transient {
            " (temporary; run the same request again later)"
        } else {
            ""
        }
    );
    r.zoom_tracking_id = f.tracking_id.clone();
    r.error = Some(f);
    r
}

/// The inactivity a user must show: the policy's, else the connection's threshold.
fn threshold(request: &ReclamationRequest, connection: &ConnectionRecord) -> u32 {
    request
        .policy
        .as_ref()
        .map(|p| p.inactive_days)
        .unwrap_or(connection.settings.inactivity_threshold_days)
}

/// What can be decided from the stored records alone.
fn pre_check(
    request: &ReclamationRequest,
    connection: &ConnectionRecord,
    c: &Candidate,
    now: DateTime<Utc>,
) -> Option<(Outcome, &'static str, String)> {
    if c.removed {
        return Some((
            Outcome::Skipped,
            reason::NOT_FOUND,
            "the last sync marked this user as removed from Zoom".into(),
        ));
    }
    if c.is_protected(&connection.protected_users, None) {
        return Some((
            Outcome::Skipped,
            reason::PROTECTED,
            "the user is on the connection's protected list".into(),
        ));
    }
    if c.role.as_deref().is_some_and(role_is_privileged) {
        return Some((
            Outcome::Skipped,
            reason::OWNER_OR_ADMIN,
            "the user is an account owner or admin; they are never changed".into(),
        ));
    }
    if c.status.as_deref() == Some("pending") || c.user_id.is_none() {
        return Some((
            Outcome::Skipped,
            reason::PENDING,
            "the user has not accepted the invitation (no Zoom id)".into(),
        ));
    }
    if c.restore.is_none() {
        let t = threshold(request, connection);
        if let Some(d) = c.activity.days_inactive(c.created, now)
            && !inactive_beyond(d, t)
        {
            return Some((
                Outcome::Skipped,
                reason::RECENTLY_ACTIVE,
                format!(
                    "inactive {d} days as of the last sync, not more than the threshold of {t}"
                ),
            ));
        }
    }
    None
}

fn with_license(before: Option<Value>, license: Option<&str>) -> Value {
    match before {
        Some(Value::Object(mut m)) => {
            m.insert("license_name".into(), json!(license));
            Value::Object(m)
        }
        Some(v) => v,
        None => json!({ "license_name": license }),
    }
}

/// A recorded entry as a response line (replays).
fn result_from_entry(e: &AuditEntry, c: Option<&Candidate>) -> UserResult {
    let outcome = Outcome::parse(&e.outcome);
    let (reason, detail) = match e.reason.as_deref().and_then(|r| r.split_once(": ")) {
        Some((code, detail)) => (Some(code.to_owned()), detail.to_owned()),
        None => (e.reason.clone(), String::new()),
    };
    let license_name = e
        .before
        .get("license_name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| c.and_then(|c| c.license_name.clone()));
    let (before, after) = (state_holds_seat(&e.before), state_holds_seat(&e.after));
    let changes_seat = outcome == Outcome::Acted
        && if e.action == Action::Reactivate.as_str() {
            takes_seat(before, after)
        } else {
            frees_seat(&e.action, before, after)
        };
    let license_change = changes_seat.then(|| license_name.clone()).flatten();
    UserResult {
        user_key: e.user_key.clone(),
        user_id: c
            .and_then(|c| c.user_id.clone())
            .or_else(|| (!e.user_key.contains(':')).then(|| e.user_key.clone())),
        email: e.email.clone(),
        account_id: e.account_id.clone(),
        license_name,
        last_activity: c.map(|c| c.activity).unwrap_or_default(),
        live_last_login: None,
        days_inactive: None,
        outcome,
        reason,
        detail: format!("recorded at {}: {detail}", e.at.to_rfc3339()),
        error: None,
        before: Some(e.before.clone()),
        after: Some(e.after.clone()),
        zoom_tracking_id: e.zoom_tracking_id.clone(),
        license_change,
    }
}

/// The refusal for partial activity data, naming the missing scopes behind it.
/// The refusal naming the scopes behind `ConnectionRecord::activity_gaps`.
fn partial_activity(notes: &[&MissingScopeNote]) -> ReclamationError {
    let mut scopes: Vec<String> = Vec::new();
    let mut not_collected: Vec<String> = Vec::new();
    for n in notes {
        if !scopes.contains(&n.scope) {
            scopes.push(n.scope.clone());
        }
        if !not_collected.contains(&n.not_collected) {
            not_collected.push(n.not_collected.clone());
        }
    }
    ReclamationError::PartialActivityData {
        scopes,
        not_collected,
    }
}

fn respond(
    request: &ReclamationRequest,
    replayed: bool,
    data_as_of: Option<DateTime<Utc>>,
    warnings: Vec<String>,
    users: Vec<UserResult>,
) -> ReclamationResponse {
    let mut s = Summary {
        selected: users.len() as u64,
        ..Summary::default()
    };
    for u in &users {
        match u.outcome {
            Outcome::WouldAct => s.would_act += 1,
            Outcome::Acted => s.acted += 1,
            Outcome::Unchanged => s.unchanged += 1,
            Outcome::Skipped => {
                s.skipped += 1;
                *s.skipped_by_reason
                    .entry(u.reason.clone().unwrap_or_default())
                    .or_default() += 1;
            }
            Outcome::Failed => s.failed += 1,
        }
        if let Some(name) = &u.license_change
            && matches!(u.outcome, Outcome::Acted | Outcome::WouldAct)
        {
            let map = if request.action == Action::Reactivate {
                &mut s.licenses_restored
            } else {
                &mut s.licenses_freed
            };
            *map.entry(name.clone()).or_default() += 1;
        }
    }
    info!(
        selected = s.selected,
        would_act = s.would_act,
        acted = s.acted,
        unchanged = s.unchanged,
        skipped = s.skipped,
        failed = s.failed,
        replayed,
        "reclamation summary"
    );
    ReclamationResponse {
        request_id: request.request_id.clone(),
        connection_id: request.connection_id.clone(),
        action: request.action,
        mode: request.mode,
        replayed,
        cap: request.cap(),
        data_as_of,
        max_data_age_hours: request.max_data_age_hours(),
        warnings,
        summary: s,
        users,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seat_is_held_by_active_users_of_a_paid_type_only() {
        assert!(holds_seat("active", 2));
        assert!(holds_seat("active", 3), "On-Prem counts as paid");
        assert!(!holds_seat("active", 1));
        assert!(!holds_seat("active", 4));
        assert!(
            !holds_seat("inactive", 2),
            "deactivation removes all licenses"
        );
        assert!(!holds_seat("pending", 2));
        assert_eq!(
            state_holds_seat(&json!({"status": "inactive", "type": 2})),
            Some(false)
        );
        assert_eq!(state_holds_seat(&json!({"type": 2})), Some(true));
        assert_eq!(state_holds_seat(&json!({"status": "active"})), None);
        assert_eq!(state_holds_seat(&Value::Null), None);
    }

    #[test]
    fn deactivating_a_seat_holder_frees_the_seat_whatever_type_is_listed_after() {
        assert!(frees_seat("deactivate", Some(true), Some(false)));
        assert!(frees_seat("deactivate", Some(true), None));
        // Zoom may keep listing type 2 for the deactivated user: still freed.
        assert!(frees_seat(
            "deactivate",
            Some(true),
            state_holds_seat(&json!({"status": "inactive", "type": 2}))
        ));
        assert!(
            !frees_seat("deactivate", Some(false), Some(false)),
            "free user"
        );
        assert!(!frees_seat("deactivate", None, None));
    }

    #[test]
    fn a_downgrade_frees_the_seat_unless_the_user_still_holds_one() {
        assert!(frees_seat("downgrade", Some(true), Some(false)));
        assert!(frees_seat("downgrade", Some(true), None), "re-read failed");
        assert!(!frees_seat("downgrade", Some(true), Some(true)));
        assert!(!frees_seat("downgrade", Some(false), Some(false)));
    }

    #[test]
    fn a_restore_takes_a_seat_and_never_frees_one() {
        assert!(!frees_seat("reactivate", Some(true), Some(false)));
        assert!(!frees_seat("reactivate", Some(false), Some(true)));
        assert!(takes_seat(Some(false), Some(true)));
        assert!(!takes_seat(Some(true), Some(true)));
        assert!(!takes_seat(Some(false), Some(false)));
        assert!(!takes_seat(None, Some(true)));
    }

    fn line(outcome: Outcome, license: Option<&str>) -> UserResult {
        UserResult {
            user_key: "u".into(),
            user_id: Some("u".into()),
            email: None,
            account_id: "a".into(),
            license_name: license.map(str::to_owned),
            last_activity: ActivityDates::default(),
            live_last_login: None,
            days_inactive: None,
            outcome,
            reason: None,
            detail: String::new(),
            error: None,
            before: None,
            after: None,
            zoom_tracking_id: None,
            license_change: license.map(str::to_owned),
        }
    }

    #[test]
    fn only_acted_or_planned_changes_count() {
        let request = ReclamationRequest::parse(&json!({
            "request_id": "r", "connection_id": "c", "users": ["u"],
            "requested_by": "me", "reason": "test"
        }))
        .unwrap();
        let users = vec![
            line(Outcome::Acted, Some("Business")),
            line(Outcome::Failed, Some("Business")),
            line(Outcome::Skipped, Some("Business")),
            line(Outcome::Unchanged, Some("Business")),
            line(Outcome::Acted, None),
        ];
        let r = respond(&request, false, None, Vec::new(), users);
        assert_eq!(
            r.summary.licenses_freed,
            BTreeMap::from([("Business".to_owned(), 1)])
        );
        assert!(r.summary.licenses_restored.is_empty());
        assert_eq!(r.max_data_age_hours, 48);
        assert_eq!(r.data_as_of, None);
    }

    #[test]
    fn replayed_entries_count_seats_as_zoom_does() {
        let entry = |action: &str, before: Value, after: Value| AuditEntry {
            request_id: "r".into(),
            connection_id: "c".into(),
            account_id: "a".into(),
            user_key: "u".into(),
            email: None,
            action: action.into(),
            outcome: "acted".into(),
            reason: None,
            requested_by: "me".into(),
            why: "test".into(),
            before,
            after,
            zoom_tracking_id: None,
            at: Utc::now(),
        };
        let paid = json!({"status": "active", "type": 2, "license_name": "Business"});
        let change = |e: AuditEntry| result_from_entry(&e, None).license_change;
        assert_eq!(
            change(entry(
                "deactivate",
                paid.clone(),
                json!({"status": "inactive", "type": 2})
            ))
            .as_deref(),
            Some("Business")
        );
        assert_eq!(
            change(entry(
                "deactivate",
                paid.clone(),
                json!({"status": "inactive", "type": 1})
            ))
            .as_deref(),
            Some("Business")
        );
        assert_eq!(
            change(entry(
                "deactivate",
                json!({"status": "active", "type": 1, "license_name": "Basic"}),
                json!({"status": "inactive", "type": 1})
            )),
            None
        );
        assert_eq!(
            change(entry(
                "downgrade",
                paid.clone(),
                json!({"status": "active", "type": 1})
            ))
            .as_deref(),
            Some("Business")
        );
        assert_eq!(
            change(entry(
                "reactivate",
                json!({"status": "inactive", "type": 2, "license_name": "Business"}),
                json!({"status": "active", "type": 2})
            ))
            .as_deref(),
            Some("Business")
        );
        let mut failed = entry("deactivate", paid, Value::Null);
        failed.outcome = "failed".into();
        assert_eq!(change(failed), None);
    }

    #[test]
    fn partial_activity_names_the_scopes_behind_it() {
        let note = |scope: &str, what: &str, by: &str| MissingScopeNote {
            scope: scope.into(),
            not_collected: what.into(),
            activity: by == ACCESS_TASK,
            noticed_by: by.into(),
            noticed_at: Utc::now(),
        };
        let mut connection = ConnectionRecord::new(
            "c",
            "z",
            ports::ZoomRegion::Na,
            Default::default(),
            Utc::now(),
        );
        connection.missing_scopes = vec![
            note(
                "report:read:admin",
                "Meeting Created dates",
                "application-access",
            ),
            note(
                "account:read:plan_usage:master",
                "plan usage",
                "license-information",
            ),
            note(
                "report:read:admin",
                "Meeting Joined dates",
                "application-access",
            ),
        ];
        let e = partial_activity(&connection.activity_gaps());
        match e {
            ReclamationError::PartialActivityData {
                scopes,
                not_collected,
            } => {
                assert_eq!(scopes, vec!["report:read:admin"]);
                assert_eq!(
                    not_collected,
                    vec!["Meeting Created dates", "Meeting Joined dates"]
                );
            }
            other => panic!("{other}"),
        }
    }
}
