//! Restore (reactivate): undo an earlier deactivation or downgrade from its audit entry.

use ports::AuditEntry;
use serde_json::Value;
use sync_domain::reclamation::{holds_seat, takes_seat};

use super::response::{Outcome, UserResult, failed, reason};
use crate::gateway::{AccountRef, LiveUser, ZoomUsers};

/// Restores the status and type recorded before the earlier request (execute), or says
/// what would be restored (dry run); `r` is the user's line after the live re-check.
pub(super) async fn restore(
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
        r.detail = "the user already has the status and type recorded before the request".into();
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
