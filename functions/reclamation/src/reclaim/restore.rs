//! Restore (reactivate): undo an earlier deactivation or downgrade from its audit entry. An
//! entry still in state `intent` (the earlier invocation ended between its intent and the
//! completion) is resolved from the user's live state first: if Zoom shows the change, it is
//! undone like a recorded one and the earlier entry completed as `done`; if the user is still
//! as before, nothing is sent to Zoom and the earlier entry is completed as `not_applied`.

use ports::{AuditEntry, AuditState, StoreError};
use serde_json::Value;
use sync_domain::reclamation::{holds_seat, is_paid, takes_seat};
use tracing::warn;

use super::journal::Journal;
use super::response::{Outcome, UserResult, already_recorded, failed, reason, unknown};
use crate::gateway::{AccountRef, LiveUser, ZoomFailure, ZoomUsers};

/// Whether Zoom shows the change of an earlier request's intent: deactivated, or (downgrade)
/// holding no paid type where the intent recorded one.
pub(super) fn intent_applied(entry: &AuditEntry, live: &LiveUser) -> bool {
    match entry.action.as_str() {
        "deactivate" => live.status == "inactive",
        "downgrade" => {
            !is_paid(live.user_type)
                && entry
                    .before
                    .get("type")
                    .and_then(Value::as_i64)
                    .is_some_and(is_paid)
        }
        _ => false,
    }
}

/// What Zoom shows after a write it answered with a failure. A failed answer does not mean
/// the write failed: Zoom may have carried it out and the answer been lost (a dropped
/// connection, a 502 page, a 504 after a hold), so the user is read back.
pub(super) enum ReadBack {
    /// Zoom shows the change (`made` holds): the write was carried out, its answer lost.
    Made(LiveUser),
    /// Zoom shows no change, or refused the write outright: it failed.
    NotMade,
    /// The user could not be read back after a failure that leaves the write's outcome open.
    Unknown,
}

/// Reads the user back after `failure` of a write; `made` says whether Zoom shows the change.
pub(super) async fn read_back(
    zoom: &dyn ZoomUsers,
    account: &AccountRef,
    uid: &str,
    failure: &ZoomFailure,
    made: impl Fn(&LiveUser) -> bool,
) -> ReadBack {
    match zoom.get_user(account, uid).await {
        Ok(u) if made(&u) => {
            warn!(user_id = uid, error = %failure, "Zoom's answer was lost but it shows the change made");
            ReadBack::Made(u)
        }
        Ok(_) => ReadBack::NotMade,
        Err(_) if failure.transient => ReadBack::Unknown,
        Err(_) => ReadBack::NotMade,
    }
}

/// Restores the status and type recorded before the earlier request (execute: with
/// `journal`, this request's audit entry of the user), or says what would be restored (dry
/// run); `r` is the user's line after the live re-check (owners, admins and protected users
/// never get here).
pub(super) async fn restore(
    mut r: UserResult,
    zoom: &dyn ZoomUsers,
    account: &AccountRef,
    uid: &str,
    live: &LiveUser,
    entry: &AuditEntry,
    journal: Option<&mut Journal<'_>>,
) -> Result<UserResult, StoreError> {
    let mut undoing = format!("undoing request {}", entry.request_id);
    if entry.state == AuditState::Intent {
        let applied = intent_applied(entry, live);
        if let Some(j) = journal.as_deref() {
            j.resolve(entry, applied, live).await?;
        }
        if !applied {
            r.outcome = Outcome::Unchanged;
            r.reason = Some(reason::NOT_APPLIED.into());
            r.detail = format!(
                "request {}'s {} was never recorded as done and Zoom shows the user still {} \
                 with type {}: it never reached Zoom, nothing to undo{}",
                entry.request_id,
                entry.action,
                live.status,
                live.user_type,
                if journal.is_some() {
                    " (its entry is now recorded as not applied)"
                } else {
                    ""
                }
            );
            r.after = r.before.clone();
            return Ok(r);
        }
        r.reason = Some(reason::OUTCOME_WAS_UNKNOWN.into());
        undoing.push_str(", whose outcome was never recorded: Zoom shows it applied");
    }
    let before_type = entry.before.get("type").and_then(Value::as_i64);
    let before_status = entry.before.get("status").and_then(Value::as_str);
    let activate = live.status == "inactive" && before_status != Some("inactive");
    let retype = before_type.filter(|t| *t != live.user_type && matches!(t, 2 | 4));
    if !activate && retype.is_none() {
        r.outcome = Outcome::Unchanged;
        r.reason = Some(reason::ALREADY_RESTORED.into());
        r.detail = "the user already has the status and type recorded before the request".into();
        r.after = r.before.clone();
        return Ok(r);
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
    let Some(journal) = journal else {
        r.outcome = Outcome::WouldAct;
        r.detail = format!("would {plan} ({undoing})");
        if takes_seat(Some(seat_before), Some(planned_seat)) {
            r.license_change = r.license_name.clone();
        }
        return Ok(r);
    };
    if !journal.intend(&r).await? {
        return Ok(UserResult {
            outcome: Outcome::Skipped,
            reason: Some(reason::ALREADY_RECORDED.into()),
            detail: already_recorded(),
            ..r
        });
    }
    if activate {
        match zoom.set_status(account, uid, true).await {
            Ok(t) => r.zoom_tracking_id = t,
            Err(f) => match read_back(zoom, account, uid, &f, |u| u.status != "inactive").await {
                ReadBack::Made(_) => r.zoom_tracking_id = f.tracking_id,
                ReadBack::NotMade => return Ok(failed(r, f, "Zoom refused to activate the user")),
                ReadBack::Unknown => return Ok(unknown(r, f, "activating the user")),
            },
        }
    }
    if let Some(t) = retype {
        match zoom.set_type(account, uid, t).await {
            Ok(tid) => r.zoom_tracking_id = tid.or(r.zoom_tracking_id.take()),
            Err(f) => match read_back(zoom, account, uid, &f, |u| u.user_type == t).await {
                ReadBack::Made(_) => {
                    r.zoom_tracking_id = f.tracking_id.or(r.zoom_tracking_id.take())
                }
                ReadBack::NotMade => {
                    let msg = if activate {
                        "the user was activated, but Zoom refused to restore the user type"
                    } else {
                        "Zoom refused to restore the user type"
                    };
                    r.after = zoom.get_user(account, uid).await.ok().map(|u| u.state());
                    return Ok(failed(r, f, msg));
                }
                ReadBack::Unknown => return Ok(unknown(r, f, "restoring the user type")),
            },
        }
    }
    r.outcome = Outcome::Acted;
    r.detail = format!("{plan}: done ({undoing})");
    let after = zoom.get_user(account, uid).await.ok();
    let seat_after = after
        .as_ref()
        .map_or(planned_seat, |u| holds_seat(&u.status, u.user_type));
    r.after = after.map(|u| u.state());
    if takes_seat(Some(seat_before), Some(seat_after)) {
        r.license_change = r.license_name.clone();
    }
    Ok(r)
}
