//! Acting: each user re-checked live at Zoom, then deactivated or downgraded (execute) or
//! reported as what would be done (dry run); restores go to [`super::restore`]. Execute writes
//! the user's audit intent just before the change ([`Journal::intend`]).

use chrono::{DateTime, Utc};
use ports::{ConnectionRecord, StoreError};
use serde_json::json;
use sync_domain::reclamation::{frees_seat, holds_seat, is_paid};
use sync_domain::{ActivityDates, inactive_beyond};

use super::journal::Journal;
use super::response::{Outcome, UserResult, already_recorded, failed, reason, unknown};
use super::restore::{ReadBack, read_back, restore};
use super::selection::Candidate;
use crate::gateway::{AccountRef, LiveUser, ZoomFailure, ZoomUsers};
use crate::request::{Action, Execution, ReclamationRequest};

/// Why a user's processing ends before any change.
enum Stop {
    /// Left as they are: the reason code and its sentence.
    Skip(&'static str, String),
    /// Zoom could not be asked: what was being done.
    Failed(ZoomFailure, &'static str),
}

impl Stop {
    fn into_line(self, mut r: UserResult) -> UserResult {
        match self {
            Self::Skip(why, detail) => {
                r.outcome = Outcome::Skipped;
                r.reason = Some(why.to_owned());
                r.detail = detail;
                r
            }
            Self::Failed(f, what) => failed(r, f, what),
        }
    }
}

/// Re-checks one user live and acts (execute: with `journal`, the user's audit entry) or
/// reports what would be done (dry run: no journal). Errs only when the audit cannot be
/// written (then nothing more is sent to Zoom for this user).
pub(super) async fn process(
    request: &ReclamationRequest,
    connection: &ConnectionRecord,
    zoom: &dyn ZoomUsers,
    c: &Candidate,
    now: DateTime<Utc>,
    journal: Option<&mut Journal<'_>>,
) -> Result<UserResult, StoreError> {
    let mut r = c.line();
    r.days_inactive = c.activity.days_inactive(c.created, now);
    if let Some((outcome, why, detail)) = &c.pre {
        r.outcome = *outcome;
        r.reason = Some((*why).to_owned());
        r.detail = detail.clone();
        return Ok(r);
    }
    let Some(uid) = c.user_id.as_deref() else {
        let detail = "the user has no Zoom id (pending invitation)".into();
        return Ok(Stop::Skip(reason::PENDING, detail).into_line(r));
    };
    let account = AccountRef::for_user(connection, &c.account_id);
    let live = match read_live(zoom, &account, &c.account_id, uid).await {
        Ok(u) => u,
        Err(stop) => return Ok(stop.into_line(r)),
    };
    r.live_last_login = live.last_login_time;
    r.before = Some(live.state());
    if let Some(stop) = live_guard(request, connection, c, &live) {
        return Ok(stop.into_line(r));
    }

    if let Some(entry) = &c.restore {
        return restore(r, zoom, &account, uid, &live, entry, journal).await;
    }

    if let Some((why, detail)) = already_done(request.action, &live) {
        r.outcome = Outcome::Unchanged;
        r.reason = Some(why.into());
        r.detail = detail.into();
        r.after = r.before.clone();
        return Ok(r);
    }

    // Still inactive by Zoom's own last login (and the synced meeting signals)?
    let mut activity = c.activity;
    activity.merge(&ActivityDates {
        last_login: live.last_login_time,
        ..ActivityDates::default()
    });
    let days = activity.days_inactive(c.created, now);
    r.days_inactive = days;
    let days = match still_inactive(days, c.threshold(request, connection), c, &live) {
        Ok(d) => d,
        Err(stop) => return Ok(stop.into_line(r)),
    };

    let detail = describe(c, &activity, days);
    let Some(journal) = journal.filter(|_| request.mode == Execution::Execute) else {
        return Ok(would_act(r, request.action, &live, &detail));
    };
    if !journal.intend(&r).await? {
        return Ok(Stop::Skip(reason::ALREADY_RECORDED, already_recorded()).into_line(r));
    }
    Ok(act(r, zoom, request.action, &account, uid, &live, &detail).await)
}

/// The user as Zoom shows them now; a user Zoom no longer has is skipped.
async fn read_live(
    zoom: &dyn ZoomUsers,
    account: &AccountRef,
    account_id: &str,
    uid: &str,
) -> Result<LiveUser, Stop> {
    match zoom.get_user(account, uid).await {
        Ok(u) => Ok(u),
        Err(f) if f.is_not_found() => Err(Stop::Skip(
            reason::NOT_FOUND,
            format!(
                "Zoom no longer has this user in account {account_id}: {}",
                f.message
            ),
        )),
        Err(f) => Err(Stop::Failed(f, "could not read the user at Zoom")),
    }
}

/// Who is never changed, by the live state: a user moved to another account, an owner or
/// admin, a protected user, a pending invitation.
fn live_guard(
    request: &ReclamationRequest,
    connection: &ConnectionRecord,
    c: &Candidate,
    live: &LiveUser,
) -> Option<Stop> {
    if live
        .account_id
        .as_deref()
        .is_some_and(|a| a != c.account_id)
    {
        return Some(Stop::Skip(
            reason::MOVED_ACCOUNT,
            format!(
                "the user is now in account {} (synced in {})",
                live.account_id.as_deref().unwrap_or_default(),
                c.account_id
            ),
        ));
    }
    if live.holds_protected_role(&request.allowed_roles) {
        return Some(Stop::Skip(
            reason::OWNER_OR_ADMIN,
            format!(
                "the user holds the role {:?}; owners, admins and every role but member are \
                 never changed unless the request allows the role",
                live.role_name
                    .as_deref()
                    .or(live.role_id.as_deref())
                    .unwrap_or("unknown")
            ),
        ));
    }
    if c.is_protected(&connection.protected_users, Some(&live.email)) {
        return Some(Stop::Skip(
            reason::PROTECTED,
            "the user is on the connection's protected list".into(),
        ));
    }
    if live.status == "pending" {
        return Some(Stop::Skip(
            reason::PENDING,
            "the user has not accepted the invitation yet".into(),
        ));
    }
    None
}

/// The user is in the action's target state already: the reason code and its sentence.
fn already_done(action: Action, live: &LiveUser) -> Option<(&'static str, &'static str)> {
    match action {
        Action::Deactivate if live.status == "inactive" => Some((
            reason::ALREADY_DEACTIVATED,
            "the user is already deactivated at Zoom",
        )),
        Action::Downgrade if !is_paid(live.user_type) => Some((
            reason::ALREADY_BASIC,
            "the user holds no paid license at Zoom",
        )),
        _ => None,
    }
}

/// The days inactive (with Zoom's own last login) if beyond the threshold; otherwise why not.
fn still_inactive(
    days: Option<i64>,
    threshold: u32,
    c: &Candidate,
    live: &LiveUser,
) -> Result<i64, Stop> {
    let logged_in_since_sync = live.last_login_time > c.activity.last_login;
    match days {
        None => Err(Stop::Skip(
            reason::NO_ACTIVITY_DATA,
            "no activity and no creation date is known; cannot tell inactivity".into(),
        )),
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
            Err(Stop::Skip(why, detail))
        }
        Some(d) => Ok(d),
    }
}

/// The action as the response words it: what would be done, what was done.
fn verbs(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Downgrade => ("downgrade to Basic", "downgraded to Basic"),
        _ => ("deactivate", "deactivated"),
    }
}

/// The license and the inactivity the change is for.
fn describe(c: &Candidate, activity: &ActivityDates, days: i64) -> String {
    format!(
        "{} license, inactive {} days (last login {}, meeting created {}, meeting joined {})",
        c.license_name.as_deref().unwrap_or("unknown"),
        days,
        fmt_time(activity.last_login),
        fmt_time(c.activity.last_meeting_created),
        fmt_time(c.activity.last_meeting_joined),
    )
}

fn fmt_time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "never".into())
}

/// Dry run: what execute would do, and the seat it would free.
fn would_act(mut r: UserResult, action: Action, live: &LiveUser, detail: &str) -> UserResult {
    let seat_before = holds_seat(&live.status, live.user_type);
    r.outcome = Outcome::WouldAct;
    r.detail = format!("would {}: {detail}", verbs(action).0);
    if frees_seat(action.as_str(), Some(seat_before), None) {
        r.license_change = r.license_name.clone();
    }
    r
}

/// Execute (its intent recorded): deactivates or downgrades the user at Zoom, then reads the
/// state after (and the seat it freed).
async fn act(
    mut r: UserResult,
    zoom: &dyn ZoomUsers,
    action: Action,
    account: &AccountRef,
    uid: &str,
    live: &LiveUser,
    detail: &str,
) -> UserResult {
    let seat_before = holds_seat(&live.status, live.user_type);
    let (verb, done_verb) = verbs(action);
    let done = match action {
        Action::Downgrade => zoom.set_type(account, uid, 1).await,
        _ => zoom.set_status(account, uid, false).await,
    };
    let (tracking, after, lost) = match done {
        Ok(tracking) => (tracking, zoom.get_user(account, uid).await.ok(), ""),
        // A failed answer may be a lost one: what Zoom shows now decides.
        Err(f) => match read_back(zoom, account, uid, &f, |u| shows_change(action, u)).await {
            ReadBack::Made(u) => (
                f.tracking_id,
                Some(u),
                " (Zoom's answer was lost; its live state shows the change)",
            ),
            ReadBack::NotMade => return failed(r, f, &format!("Zoom refused to {verb} the user")),
            ReadBack::Unknown => return unknown(r, f, &format!("trying to {verb} the user")),
        },
    };
    r.zoom_tracking_id = tracking;
    r.outcome = Outcome::Acted;
    r.detail = format!("{done_verb}{lost}: {detail}");
    let seat_after = after.as_ref().map(|u| holds_seat(&u.status, u.user_type));
    r.after = Some(match &after {
        Some(u) => u.state(),
        None => {
            json!({ "status": if action == Action::Downgrade { live.status.clone() } else { "inactive".into() } })
        }
    });
    if frees_seat(action.as_str(), Some(seat_before), seat_after) {
        r.license_change = r.license_name.clone();
    }
    r
}

/// Whether Zoom shows `action`'s change on the user: deactivated, or (downgrade) no paid type.
fn shows_change(action: Action, u: &LiveUser) -> bool {
    match action {
        Action::Downgrade => !is_paid(u.user_type),
        _ => u.status == "inactive",
    }
}
