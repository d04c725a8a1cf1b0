//! The response: each user's line ([`UserResult`]), the [`Summary`] and the
//! [`ReclamationResponse`]; audit entries written from lines and read back as lines (replays).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ports::{AuditEntry, AuditState, OpportunityRecord, OpportunityState};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sync_domain::ActivityDates;
use sync_domain::reclamation::{frees_seat, holds_seat, takes_seat};
use tracing::info;

use crate::gateway::ZoomFailure;
use crate::request::{Action, Execution, ReclamationRequest, Step};

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
    /// The change was sent to Zoom (or about to be) but its outcome was never recorded: a
    /// replayed request's entry still in state `intent` (`reactivate` resolves it).
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WouldAct => "would_act",
            Self::Acted => "acted",
            Self::Unchanged => "unchanged",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "would_act" => Self::WouldAct,
            "acted" => Self::Acted,
            "unchanged" => Self::Unchanged,
            "skipped" => Self::Skipped,
            "unknown" => Self::Unknown,
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
    /// A recorded intent whose outcome was never recorded (replays).
    pub const UNKNOWN_OUTCOME: &str = "unknown_outcome";
    /// Reactivate of an intent: Zoom shows the earlier change applied; it is undone.
    pub const OUTCOME_WAS_UNKNOWN: &str = "outcome_was_unknown";
    /// Reactivate of an intent: the user is still as before; the change never reached Zoom.
    pub const NOT_APPLIED: &str = "not_applied";
    /// The earlier request still holds its lease (running, or ended less than 16 minutes
    /// ago): its intents are left for a later reactivate.
    pub const EARLIER_REQUEST_RUNNING: &str = "earlier_request_running";
    /// Another invocation of the request recorded the user first.
    pub const ALREADY_RECORDED: &str = "already_recorded";
    /// Notify: the user was notified already and the opportunity is open (no second notice).
    pub const ALREADY_NOTIFIED: &str = "already_notified";
    /// Notify: another run is notifying this user right now.
    pub const NOTICE_IN_PROGRESS: &str = "notice_in_progress";
    /// Notify: the notice could not be sent (the user will not be reclaimed from it).
    pub const NOTICE_FAILED: &str = "notice_failed";
    /// Notify: no e-mail address is known for the user.
    pub const NO_EMAIL: &str = "no_email";
    /// Reclaim-notified: a named user has no open notice.
    pub const NOT_NOTIFIED: &str = "not_notified";
    /// Reclaim-notified: the grace period has not ended yet.
    pub const GRACE_PERIOD_NOT_ENDED: &str = "grace_period_not_ended";
    /// Reclaim-notified: the synced activity shows the user active after the notice.
    pub const CAME_BACK: &str = "came_back";
    /// Reclaim-notified: the notice announced another action than this request's.
    pub const OTHER_ACTION: &str = "other_action";
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
    /// Execute and replays: the state of the user's audit entry (`intent`, `done`, `failed`,
    /// `not_applied`); absent in a dry run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_state: Option<AuditState>,
    /// Notify-then-reclaim: the state this request moved the user's opportunity to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity: Option<OpportunityState>,
    /// Notify-then-reclaim: when the user's grace period ends (or ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_ends_at: Option<DateTime<Utc>>,
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
    /// Replays: users whose change was sent to Zoom but never recorded as done (entries still
    /// in state `intent`; `reactivate` resolves them from the live state).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unknown: u64,
    /// Paid seats freed per license name (dry run: would be freed): a deactivated user who held
    /// one (Zoom removes all licenses on deactivation) or a user downgraded to Basic. Skipped,
    /// unchanged and failed users free nothing.
    pub licenses_freed: BTreeMap<String, u64>,
    /// Paid seats taken again per license name (reactivate).
    pub licenses_restored: BTreeMap<String, u64>,
    /// Dry run: users that pass the stored checks but were not checked at Zoom (a dry run
    /// checks at most [`DRY_RUN_LIVE_CHECKS`] live); counted in `selected`, not listed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_checked_live: u64,
    /// Notify-then-reclaim: users per opportunity state this request moved them to (history:
    /// opportunities per current state).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub opportunities: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A dry run calls Zoom for at most this many users (one `GET /users/{id}` each).
pub const DRY_RUN_LIVE_CHECKS: usize = 500;

/// At most this many user lines in a response (Lambda answers at most 6 MB); the summary
/// counts them all.
pub const MAX_LISTED_USERS: usize = 2_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReclamationResponse {
    pub request_id: String,
    pub connection_id: String,
    /// Notify-then-reclaim's step (absent: `reclaim`).
    #[serde(default, skip_serializing_if = "Step::is_reclaim")]
    pub step: Step,
    pub action: Action,
    pub mode: Execution,
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
    /// Lines left out of `users` past [`MAX_LISTED_USERS`] (the summary counts them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub users_not_listed: u64,
    /// `history`: the opportunities with their steps (at most [`MAX_LISTED_USERS`]; the
    /// summary counts them all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunities: Option<Vec<OpportunityRecord>>,
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

impl UserResult {
    /// A user's line before anything is decided about them: skipped, no reason, nothing done.
    pub(super) fn new(
        user_key: String,
        user_id: Option<String>,
        email: Option<String>,
        account_id: String,
        license_name: Option<String>,
        last_activity: ActivityDates,
    ) -> Self {
        Self {
            user_key,
            user_id,
            email,
            account_id,
            license_name,
            last_activity,
            live_last_login: None,
            days_inactive: None,
            outcome: Outcome::Skipped,
            reason: None,
            detail: String::new(),
            error: None,
            before: None,
            after: None,
            zoom_tracking_id: None,
            license_change: None,
            audit_state: None,
            opportunity: None,
            grace_ends_at: None,
        }
    }
}

/// The sentence of [`reason::ALREADY_RECORDED`].
pub(super) fn already_recorded() -> String {
    "another invocation of this request recorded the user first; nothing was sent to Zoom".into()
}

pub(super) fn failed(mut r: UserResult, f: ZoomFailure, what: &str) -> UserResult {
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

/// A write Zoom gave no answer to (`f` leaves its outcome open) and after which the user
/// could not be read back: the outcome is unknown, and the user's audit intent stays for a
/// reactivate of the request to resolve from the live state.
pub(super) fn unknown(mut r: UserResult, f: ZoomFailure, what: &str) -> UserResult {
    r.outcome = Outcome::Unknown;
    r.reason = Some(reason::UNKNOWN_OUTCOME.into());
    r.detail = format!(
        "{what}: no answer from Zoom ({}) and the user could not be read back; Zoom may have \
         made the change: a reactivate of this request resolves it from the user's live state",
        f.message
    );
    r.zoom_tracking_id = f.tracking_id.clone();
    r.error = Some(f);
    r
}

/// An audit entry's `before`: the state read from Zoom with the license the user held.
pub(super) fn with_license(before: Option<Value>, license: Option<&str>) -> Value {
    match before {
        Some(Value::Object(mut m)) => {
            m.insert("license_name".into(), json!(license));
            Value::Object(m)
        }
        Some(v) => v,
        None => json!({ "license_name": license }),
    }
}

/// A recorded entry as a response line (replays); `stored`: the user's line from the stored
/// records, if the current selection still yields the user.
pub(super) fn result_from_entry(e: &AuditEntry, stored: Option<&UserResult>) -> UserResult {
    let intent = e.state == AuditState::Intent;
    let outcome = if intent {
        Outcome::Unknown
    } else {
        Outcome::parse(&e.outcome)
    };
    let (reason, detail) = match e.reason.as_deref().and_then(|r| r.split_once(": ")) {
        _ if intent => (
            Some(reason::UNKNOWN_OUTCOME.to_owned()),
            format!(
                "the {} was about to be sent to Zoom but its outcome was never recorded (the \
                 invocation ended); a reactivate of this request resolves it from the user's \
                 live state",
                e.action
            ),
        ),
        Some((code, detail)) => (Some(code.to_owned()), detail.to_owned()),
        None => (e.reason.clone(), String::new()),
    };
    let license_name = e
        .before
        .get("license_name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| stored.and_then(|s| s.license_name.clone()));
    let (before, after) = (state_holds_seat(&e.before), state_holds_seat(&e.after));
    let changes_seat = outcome == Outcome::Acted
        && if e.action == Action::Reactivate.as_str() {
            takes_seat(before, after)
        } else {
            frees_seat(&e.action, before, after)
        };
    let license_change = changes_seat.then(|| license_name.clone()).flatten();
    let user_id = stored
        .and_then(|s| s.user_id.clone())
        .or_else(|| (!e.user_key.contains(':')).then(|| e.user_key.clone()));
    UserResult {
        outcome,
        reason,
        detail: format!("recorded at {}: {detail}", e.at.to_rfc3339()),
        before: Some(e.before.clone()),
        after: Some(e.after.clone()),
        zoom_tracking_id: e.zoom_tracking_id.clone(),
        license_change,
        audit_state: Some(e.state),
        ..UserResult::new(
            e.user_key.clone(),
            user_id,
            e.email.clone(),
            e.account_id.clone(),
            license_name,
            stored.map(|s| s.last_activity).unwrap_or_default(),
        )
    }
}

/// The response: the lines, and the summary counted from them.
pub(super) fn respond(
    request: &ReclamationRequest,
    replayed: bool,
    data_as_of: Option<DateTime<Utc>>,
    warnings: Vec<String>,
    mut users: Vec<UserResult>,
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
            Outcome::Unknown => s.unknown += 1,
        }
        if let Some(state) = u.opportunity {
            *s.opportunities
                .entry(state.as_str().to_owned())
                .or_default() += 1;
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
        unknown = s.unknown,
        replayed,
        "reclamation summary"
    );
    ReclamationResponse {
        request_id: request.request_id.clone(),
        connection_id: request.connection_id.clone(),
        step: request.step,
        action: request.action,
        mode: request.mode,
        replayed,
        cap: request.cap(),
        data_as_of,
        max_data_age_hours: request.max_data_age_hours(),
        warnings,
        summary: s,
        users_not_listed: users.len().saturating_sub(MAX_LISTED_USERS) as u64,
        users: {
            users.truncate(MAX_LISTED_USERS);
            users
        },
        opportunities: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_state_holds_a_seat_as_zoom_counts() {
        assert_eq!(
            state_holds_seat(&json!({"status": "inactive", "type": 2})),
            Some(false)
        );
        assert_eq!(state_holds_seat(&json!({"type": 2})), Some(true));
        assert_eq!(state_holds_seat(&json!({"status": "active"})), None);
        assert_eq!(state_holds_seat(&Value::Null), None);
        // Zoom may keep listing type 2 for the deactivated user: still freed.
        assert!(frees_seat(
            "deactivate",
            Some(true),
            state_holds_seat(&json!({"status": "inactive", "type": 2}))
        ));
    }

    fn line(outcome: Outcome, license: Option<&str>) -> UserResult {
        UserResult {
            outcome,
            license_change: license.map(str::to_owned),
            ..UserResult::new(
                "u".into(),
                Some("u".into()),
                None,
                "a".into(),
                license.map(str::to_owned),
                ActivityDates::default(),
            )
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
            state: AuditState::Done,
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
}
