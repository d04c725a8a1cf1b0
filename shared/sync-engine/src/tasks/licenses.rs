//! License Information: per account and license: unique id, name, provisioned seats, and the
//! seats as Zoom counts them.
//!
//! - `assigned` = tracked users of the license with status `active`: a deactivated user holds
//!   no seat (deactivation removes the licence, REFERENCE §3.6) and a pending user holds none
//!   yet; `active` = the same users;
//! - `inactive` = deactivated users of the license (status `inactive`): their own figure, not
//!   seats.
//!
//! Seats and plan come fresh from the account's details.
//!
//! Zoom's own figure beside ours (`zoom_assigned`, with `zoom_assigned_note` saying why when
//! Zoom gives none; `assigned` is always our count from the roster):
//! - Licensed: `plan_base.usage` of `GET /accounts/{id}/plans/usage` (Heavy), once per paying
//!   account and run: the master through its own path (`/accounts/me/plans/usage`), a sub
//!   account whose bill the master pays through the master prefix. A sub account that pays its
//!   own bill (`options.pay_mode` `sub` in its details) is not asked: Zoom answers it with 400
//!   code 2100. The answers 2100, 400 code 200 (not a paid account) and 4700/4711 (the app
//!   lacks the scope) leave a note; any other error fails the unit.
//! - On-Prem (Include On Premises = yes): `on_prem_users_count` of `GET /users/summary`
//!   (Medium, one call per account), compared with the listed type-3 users; a difference is
//!   explained in the note. When Zoom counts On-Prem users the listing does not show, the
//!   On-Prem license is recorded with no seats and Zoom's figure. A missing scope leaves a
//!   note; any other error fails the unit.

use std::collections::BTreeMap;

use ports::{AccountKind, LicenseRecord, MissingScopeNote};
use sync_domain::LicenseKind;
use zoom::{Plans, UserSummary, ZoomError};

use super::ctx::{UnitCtx, UnitProgress};
use super::{account_users, kind_of, status_str};
use crate::SyncError;

/// Seats of one license counted from the roster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Seats held: users with status `active`.
    pub assigned: u64,
    pub active: u64,
    /// Deactivated users (status `inactive`): not seats.
    pub inactive: u64,
}

impl Tally {
    pub(crate) fn add(&mut self, status: &str) {
        match status {
            "active" => {
                self.assigned += 1;
                self.active += 1;
            }
            "inactive" => self.inactive += 1,
            // Pending: invited, no seat yet.
            _ => {}
        }
    }
}

/// The note of a sub account that pays its own bill (not asked, or Zoom answered code 2100).
pub(crate) const NOTE_SELF_PAY: &str = "Zoom gives no plan usage for a sub account that pays its own bill (code 2100); seats counted from the roster";
/// Zoom's 400 code 200 on plan usage.
pub(crate) const NOTE_NOT_PAID: &str =
    "Zoom gives plan usage only for a paid account (code 200); seats counted from the roster";
/// Plan usage answered without `plan_base.usage`.
pub(crate) const NOTE_NO_USAGE: &str =
    "Zoom's plan usage has no base plan usage figure; seats counted from the roster";

/// Zoom's figure for one license, or why there is none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ZoomFigure {
    pub assigned: Option<u64>,
    pub note: Option<String>,
}

impl ZoomFigure {
    fn count(n: i64) -> Self {
        Self {
            assigned: u64::try_from(n).ok(),
            note: None,
        }
    }

    fn note(note: impl Into<String>) -> Self {
        Self {
            assigned: None,
            note: Some(note.into()),
        }
    }
}

/// The app lacks a scope (4700/4711): the code and the scopes Zoom named (`fallback` when
/// it named none).
fn missing_scope(err: &ZoomError, fallback: &str) -> Option<(i64, String)> {
    if !err.is_missing_scope() {
        return None;
    }
    let named = err.missing_scope_names().join(" ");
    let scopes = if named.is_empty() {
        fallback.to_owned()
    } else {
        named
    };
    Some((err.code().unwrap_or(4711), scopes))
}

/// The default scope of a call when Zoom names none (granular, master or own form).
fn default_scope(master: bool, what: Need) -> &'static str {
    match (what, master) {
        (Need::PlanUsage, true) => "billing:read:plan_usage:admin",
        (Need::PlanUsage, false) => "billing:read:plan_usage:master",
        (Need::UserSummary, true) => "user:read:summary:admin",
        (Need::UserSummary, false) => "user:read:summary:master",
    }
}

/// The calls whose scopes License Information notes on the connection when missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    PlanUsage,
    UserSummary,
}

impl Need {
    /// What is not collected without the scope (the connection's note), per account kind:
    /// the master's own paths and the sub accounts' master paths need different scopes.
    fn not_collected(self, master: bool) -> &'static str {
        match (self, master) {
            (Self::PlanUsage, true) => {
                "Zoom's own count of assigned seats of the master account (plan usage)"
            }
            (Self::PlanUsage, false) => {
                "Zoom's own count of assigned seats of sub accounts (plan usage)"
            }
            (Self::UserSummary, true) => {
                "Zoom's own count of On-Prem users of the master account (user summary)"
            }
            (Self::UserSummary, false) => {
                "Zoom's own count of On-Prem users of sub accounts (user summary)"
            }
        }
    }
}

fn scope_note(what: &str, code: i64, scopes: &str) -> String {
    format!(
        "Zoom refused {what}: the app lacks the scope {scopes} (code {code}); {} counted from the roster",
        if what == "plan usage" {
            "seats"
        } else {
            "On-Prem users"
        }
    )
}

/// Zoom's figure of the Licensed license from plan usage: `plan_base.usage`.
pub(crate) fn licensed_figure(plans: &Plans) -> ZoomFigure {
    match plans.base().and_then(|b| b.usage) {
        Some(n) if n >= 0 => ZoomFigure::count(n),
        _ => ZoomFigure::note(NOTE_NO_USAGE),
    }
}

/// A failed plan usage call (of the master's own account when `master`): a note (the unit
/// goes on) or `None` (the error fails the unit).
pub(crate) fn plan_usage_note(err: &ZoomError, master: bool) -> Option<String> {
    if let Some((code, scopes)) = missing_scope(err, default_scope(master, Need::PlanUsage)) {
        return Some(scope_note("plan usage", code, &scopes));
    }
    match (err.status(), err.code()) {
        (_, Some(2100)) => Some(NOTE_SELF_PAY.into()),
        (Some(400), Some(200)) => Some(NOTE_NOT_PAID.into()),
        _ => None,
    }
}

/// A failed user summary call: a note or `None` (the error fails the unit).
pub(crate) fn user_summary_note(err: &ZoomError, master: bool) -> Option<String> {
    missing_scope(err, default_scope(master, Need::UserSummary))
        .map(|(code, scopes)| scope_note("the user summary", code, &scopes))
}

/// A call whose scope is noted on the connection when missing, and how it went.
struct Refusal {
    need: Need,
    /// `Some(scopes)`: refused for a missing scope; `None`: the call worked.
    missing: Option<String>,
}

/// Brings the connection's missing-scope notes of this task up to date for the account's
/// kind: adds the scopes refused, drops earlier notes of calls that worked (only when
/// something changed).
async fn save_scope_notes(ctx: &UnitCtx<'_>, calls: &[Refusal]) -> Result<(), SyncError> {
    let task = ctx.unit.task.as_str();
    let master = ctx.account.kind == AccountKind::Master;
    let now = ctx.now();
    let notes: Vec<MissingScopeNote> = calls
        .iter()
        .filter_map(|c| {
            c.missing.as_ref().map(|scope| MissingScopeNote {
                scope: scope.clone(),
                not_collected: c.need.not_collected(master).to_owned(),
                noticed_by: task.to_owned(),
                activity: false,
                noticed_at: now,
            })
        })
        .collect();
    let worked: Vec<&str> = calls
        .iter()
        .filter(|c| c.missing.is_none())
        .map(|c| c.need.not_collected(master))
        .collect();
    let confirmed: Vec<String> = ctx
        .connection
        .missing_scopes
        .iter()
        .filter(|n| n.noticed_by == task && worked.contains(&n.not_collected.as_str()))
        .map(|n| n.scope.clone())
        .collect();
    super::save_scope_notes(ctx, notes, confirmed).await
}

/// Zoom's On-Prem figure beside the listed type-3 users: the summary's count, with a note
/// when it differs from the seats counted (`assigned`).
pub(crate) fn on_prem_figure(summary: &UserSummary, t: &Tally) -> ZoomFigure {
    let mut f = ZoomFigure::count(summary.on_prem_users_count);
    let Some(zoom) = f.assigned else {
        return ZoomFigure::note("Zoom's user summary has no On-Prem count");
    };
    if zoom == t.assigned {
        return f;
    }
    f.note = Some(if t.inactive > 0 && zoom == t.assigned + t.inactive {
        format!(
            "Zoom's user summary counts {zoom} On-Prem users, deactivated ones included ({}); seats counted from the roster's {} active",
            t.inactive, t.assigned
        )
    } else {
        format!(
            "Zoom's user summary counts {zoom} On-Prem users; the user listing shows {} active and {} deactivated with type 3 (a type Zoom's 2026 API no longer documents); seats counted from the roster",
            t.assigned, t.inactive
        )
    });
    f
}

pub(crate) async fn run(ctx: &mut UnitCtx<'_>) -> Result<UnitProgress, SyncError> {
    let settings = ctx.settings();
    // `me` for the master (its own paths), the master prefix for a sub account.
    let api = ctx.api();
    let details = api.get().await?;
    let account_type = details
        .account_type
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| ctx.account.account_type.clone());
    let seats = details
        .seats
        .and_then(|s| u64::try_from(s).ok())
        .or(ctx.account.seats)
        .unwrap_or(0);
    let master = ctx.account.kind == AccountKind::Master;
    let pays_own_bill =
        !master && details.options.get("pay_mode").and_then(|v| v.as_str()) == Some("sub");
    let on_prem = settings.include_on_premises.is_yes();
    let (users, usage, summary) = futures::join!(
        // Type and status of each user: what the tallies need, whatever the account's size.
        account_users(ctx, |user| (kind_of(user), status_str(user))),
        async {
            if pays_own_bill {
                None
            } else {
                Some(api.plan_usage().await)
            }
        },
        async {
            if on_prem {
                Some(api.user_summary().await)
            } else {
                None
            }
        },
    );
    let users = users?;
    let mut calls = Vec::new();
    // `None`: the call worked; a missing-scope error: refused; other answers (2100, 200)
    // say nothing about scopes.
    let mut sort = |need: Need, error: Option<&ZoomError>| {
        let missing = match error {
            None => None,
            Some(e) => match missing_scope(e, default_scope(master, need)) {
                Some((_, scopes)) => Some(scopes),
                None => return,
            },
        };
        if let Some(scopes) = &missing {
            tracing::warn!(scope = %scopes, not_collected = need.not_collected(master), "missing scope: Zoom's figure not collected");
        }
        calls.push(Refusal { need, missing });
    };
    // The documented plan name; the billing plan code decides when Zoom gave no account type.
    let plan_code = match &usage {
        Some(Ok(plans)) => plans.base().and_then(|b| b.plan_type),
        _ => None,
    };
    let plan = sync_domain::plan_license_name(account_type.as_deref(), plan_code.as_deref());
    let licensed_zoom = match usage {
        None => ZoomFigure::note(NOTE_SELF_PAY),
        Some(Ok(plans)) => {
            sort(Need::PlanUsage, None);
            licensed_figure(&plans)
        }
        Some(Err(e)) => match plan_usage_note(&e, master) {
            Some(note) => {
                sort(Need::PlanUsage, Some(&e));
                ZoomFigure::note(note)
            }
            None => return Err(e.into()),
        },
    };
    let summary = match summary {
        None => None,
        Some(Ok(s)) => {
            sort(Need::UserSummary, None);
            Some(Ok(s))
        }
        Some(Err(e)) => match user_summary_note(&e, master) {
            Some(note) => {
                sort(Need::UserSummary, Some(&e));
                Some(Err(note))
            }
            None => return Err(e.into()),
        },
    };
    save_scope_notes(ctx, &calls).await?;

    let mut tallies: BTreeMap<LicenseKind, Tally> = BTreeMap::new();
    tallies.entry(LicenseKind::Licensed).or_default();
    let mut listed = 0u64;
    for user in users {
        let (_, (kind, status)) = user?;
        listed += 1;
        if kind.is_tracked(&settings) {
            tallies.entry(kind).or_default().add(&status);
        }
    }
    if let Some(Ok(s)) = &summary
        && s.on_prem_users_count > 0
    {
        // Zoom counts On-Prem users the listing may not show (type 3 left the 2026 spec).
        tallies.entry(LicenseKind::OnPrem).or_default();
    }
    let account_id = ctx.account.account_id.clone();
    let cid = ctx.connection.connection_id.clone();
    let as_of = ctx.now().date_naive();
    let licenses: Vec<LicenseRecord> = tallies
        .into_iter()
        .map(|(kind, t)| {
            let zoom = match (kind, &summary) {
                (LicenseKind::Licensed, _) => licensed_zoom.clone(),
                (LicenseKind::OnPrem, Some(Ok(s))) => on_prem_figure(s, &t),
                (LicenseKind::OnPrem, Some(Err(note))) => ZoomFigure::note(note.clone()),
                _ => ZoomFigure::default(),
            };
            LicenseRecord {
                // License Differentiation's figures live in their own items.
                activity: None,
                account_id: account_id.clone(),
                name: kind.license_name(&plan),
                provisioned: kind.provisioned(seats, &settings),
                assigned: t.assigned,
                active: t.active,
                inactive: t.inactive,
                as_of,
                zoom_assigned: zoom.assigned,
                zoom_assigned_note: zoom.note,
                license_id: kind.unique_id(&account_id),
                entered_by_hand: false,
            }
        })
        .collect();
    for l in licenses.iter().filter(|l| l.differs_from_zoom()) {
        tracing::info!(
            account_id = %l.account_id,
            license_id = %l.license_id,
            assigned = l.assigned,
            zoom_assigned = ?l.zoom_assigned,
            "Zoom's assigned-seat figure differs from the roster's"
        );
    }
    ctx.store
        .replace_account_licenses(&cid, &account_id, &licenses)
        .await?;
    ctx.count("users", listed);
    ctx.count("licenses", licenses.len() as u64);
    ctx.count(
        "zoom_figures",
        licenses
            .iter()
            .filter(|l| l.zoom_assigned.is_some())
            .count() as u64,
    );
    ctx.count(
        "zoom_differs",
        licenses.iter().filter(|l| l.differs_from_zoom()).count() as u64,
    );
    Ok(UnitProgress::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(statuses: &[&str]) -> Tally {
        let mut t = Tally::default();
        for s in statuses {
            t.add(s);
        }
        t
    }

    #[test]
    fn only_active_users_hold_seats() {
        let t = tally(&[
            "active", "active", "inactive", "pending", "active", "inactive",
        ]);
        assert_eq!(
            t,
            Tally {
                assigned: 3,
                active: 3,
                inactive: 2
            }
        );
    }

    #[test]
    fn deactivated_and_pending_users_hold_no_seat() {
        assert_eq!(tally(&["inactive", "inactive"]).assigned, 0);
        assert_eq!(tally(&["inactive", "inactive"]).inactive, 2);
        assert_eq!(tally(&["pending"]), Tally::default());
        assert_eq!(tally(&["something new"]), Tally::default());
    }

    fn plan_usage_note_sub(e: &ZoomError) -> Option<String> {
        plan_usage_note(e, false)
    }

    fn user_summary_note_sub(e: &ZoomError) -> Option<String> {
        user_summary_note(e, false)
    }

    fn api_error(status: u16, code: i64, message: &str) -> ZoomError {
        ZoomError::Api {
            endpoint: "GET /accounts/{accountId}/plans/usage",
            status,
            code: Some(code),
            message: message.into(),
            tracking_id: None,
        }
    }

    #[test]
    fn plan_usage_errors_that_leave_a_note() {
        assert_eq!(
            plan_usage_note_sub(&api_error(
                400,
                2100,
                "This sub account is in self-pay mode."
            ))
            .as_deref(),
            Some(NOTE_SELF_PAY)
        );
        assert_eq!(
            plan_usage_note_sub(&api_error(400, 200, "Only available for paid account."))
                .as_deref(),
            Some(NOTE_NOT_PAID)
        );
        assert_eq!(
            plan_usage_note_sub(&api_error(
                400,
                4711,
                "Invalid access token, does not contain scopes:[billing:read:plan_usage:master]."
            ))
            .as_deref(),
            Some(
                "Zoom refused plan usage: the app lacks the scope billing:read:plan_usage:master (code 4711); seats counted from the roster"
            )
        );
        let note = plan_usage_note_sub(&api_error(401, 4700, "Invalid scope.")).unwrap();
        assert!(note.contains("code 4700"), "{note}");
        assert!(note.contains("billing:read:plan_usage:master"), "{note}");
        let wrapped = ZoomError::DeadlineExceeded {
            endpoint: "GET /accounts/{accountId}/plans/usage",
            attempts: 1,
            last: Box::new(api_error(400, 2100, "self-pay")),
        };
        assert_eq!(
            plan_usage_note_sub(&wrapped).as_deref(),
            Some(NOTE_SELF_PAY)
        );
    }

    #[test]
    fn other_plan_usage_errors_fail_the_unit() {
        for e in [
            api_error(404, 2001, "Account does not exist."),
            api_error(400, 300, "Invalid parameter."),
            api_error(500, 500, "Internal error."),
            api_error(429, 429, "Too many requests."),
        ] {
            assert_eq!(plan_usage_note_sub(&e), None, "{e}");
        }
        assert_eq!(
            user_summary_note_sub(&api_error(400, 200, "No permission.")),
            None
        );
        let note = user_summary_note_sub(&api_error(
            400,
            4711,
            "Invalid access token, does not contain scopes:[user:read:summary:master].",
        ))
        .unwrap();
        assert_eq!(
            note,
            "Zoom refused the user summary: the app lacks the scope user:read:summary:master (code 4711); On-Prem users counted from the roster"
        );
    }

    #[test]
    fn licensed_figure_reads_plan_base_usage_object_or_array() {
        let obj: Plans =
            serde_json::from_str(r#"{"plan_base":{"type":"x","hosts":10,"usage":7,"pending":1}}"#)
                .unwrap();
        assert_eq!(licensed_figure(&obj), ZoomFigure::count(7));
        let arr: Plans =
            serde_json::from_str(r#"{"plan_base":[{"type":"x","hosts":"10","usage":"4"}]}"#)
                .unwrap();
        assert_eq!(licensed_figure(&arr), ZoomFigure::count(4));
        let none: Plans = serde_json::from_str(r#"{"plan_recording":{"type":"x"}}"#).unwrap();
        assert_eq!(licensed_figure(&none), ZoomFigure::note(NOTE_NO_USAGE));
    }

    #[test]
    fn on_prem_figure_explains_a_difference() {
        let summary = |n: i64| UserSummary {
            on_prem_users_count: n,
            ..UserSummary::default()
        };
        let t = tally(&["active", "active", "inactive"]);
        assert_eq!(on_prem_figure(&summary(2), &t), ZoomFigure::count(2));
        let f = on_prem_figure(&summary(3), &t);
        assert_eq!(f.assigned, Some(3));
        assert_eq!(
            f.note.as_deref(),
            Some(
                "Zoom's user summary counts 3 On-Prem users, deactivated ones included (1); seats counted from the roster's 2 active"
            )
        );
        let f = on_prem_figure(&summary(5), &Tally::default());
        assert_eq!(f.assigned, Some(5));
        assert!(
            f.note
                .unwrap()
                .contains("the user listing shows 0 active and 0 deactivated"),
            "Zoom counts On-Prem users the listing does not show"
        );
    }
}
