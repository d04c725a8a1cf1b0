//! Reports (all Heavy): active/inactive hosts, a user's meetings, a meeting's participants,
//! sign-in activity. Date ranges are `from`/`to` (`yyyy-mm-dd`, inclusive, at most one month,
//! `from` within the last 6 months).
//!
//! Meetings in reports are *instances*: every ended instance counts on its own (an instant
//! meeting, a scheduled meeting, each occurrence of a recurring meeting), by its start date.

use std::sync::Arc;

use axum::extract::{OriginalUri, Query};
use axum::response::Response;
use serde_json::{Value, json};

use super::common::{
    Call, DateRange, Params, date_range, find_ended_meeting, in_range, invalid_field,
    meeting_segment, ok, scopes,
};
use super::paging::Page;
use crate::error::ApiError;
use crate::state::SandboxState;
use crate::tenant::zoom_time;
use crate::users_report::{AccountLedger, UsersReport, UsersReportKey};

scopes! {
    own: ["report:read:admin"], master: ["report:master"] {
        USERS = "report:read:list_users",
        USER_MEETINGS = "report:read:user",
        PARTICIPANTS = "report:read:list_meeting_participants",
        ACTIVITIES = "report:read:user_activities",
    }
}

/// `GET /report/users?type=active|inactive&from&to`: hosts who held at least one meeting in the
/// range (`active`, the default) or none (`inactive`); pending users are not reported.
/// `meetings` counts the host's ended instances that started in the range (instant meetings
/// and each occurrence of a recurring meeting included).
///
/// The report's rows are computed once per (account, type, range, overlay version) and cached
/// ([`UsersReportCache`]): paging through a 200,000-user report scans the account once, not
/// once a page. A page then derives its own rows' users only.
pub(super) async fn users(call: Call, Query(q): Query<Params>) -> Result<Response, ApiError> {
    let (state, tenant) = (&call.state, &call.state.tenant);
    let a = call.account(&USERS)?;
    let range = date_range(state, &q)?;
    let active = match q.get("type").map(String::as_str).unwrap_or("active") {
        "active" | "" => true,
        "inactive" => false,
        _ => return Err(invalid_field("type")),
    };
    let key = format!("report_users|{}|{active}|{}|{}", a.index, range.0, range.1);
    let page = Page::parse(state, &q, key)?;
    let report = users_report(
        state,
        UsersReportKey {
            account: a.index,
            active,
            range,
            version: tenant.overlay_version(),
        },
    )
    .await;
    let rows: Vec<Value> = report
        .users
        .iter()
        .enumerate()
        .skip(page.offset())
        .take(page.size)
        .filter_map(|(i, &u)| {
            let user = tenant.user(a.index, u)?;
            let [meetings, participants, minutes] = report.counts(i);
            Some(json!({
                "id": user.id,
                "email": user.email,
                "user_name": user.display_name(),
                "type": user.user_type,
                "dept": user.dept,
                "meetings": meetings,
                "participants": participants,
                "meeting_minutes": minutes,
            }))
        })
        .collect();
    let [t_meetings, t_participants, t_minutes] = report.totals;
    let total = report.users.len() as u64;
    let mut body = report_body(page.info(state, total).into_value(), range);
    body["total_meetings"] = json!(t_meetings);
    body["total_participants"] = json!(t_participants);
    body["total_meeting_minutes"] = json!(t_minutes);
    body["users"] = Value::Array(rows);
    Ok(ok(&body))
}

/// The report of `key`, from the cache or computed once from its account's ledger (on a
/// blocking thread: a large account takes seconds; concurrent requests for the same report or
/// account wait for that one computation).
async fn users_report(state: &Arc<SandboxState>, key: UsersReportKey) -> Arc<UsersReport> {
    let slot = state.report_users.slot(key);
    if let Some(report) = slot.get() {
        return Arc::clone(report);
    }
    let compute = {
        let st = Arc::clone(state);
        let slot = Arc::clone(&slot);
        move || {
            Arc::clone(slot.get_or_init(|| {
                let ledger = st.report_users.ledger_slot(key);
                let ledger = ledger
                    .get_or_init(|| Arc::new(AccountLedger::compute(&st.tenant, key.account)));
                Arc::new(UsersReport::compute(ledger, key))
            }))
        }
    };
    match tokio::task::spawn_blocking(compute.clone()).await {
        Ok(report) => report,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Not run (the runtime is shutting down): here, then.
        Err(_) => compute(),
    }
}

/// `GET /report/users/{userId}/meetings?from&to`: the user's ended instances that started in
/// the range, oldest first (instant meetings and each recurring occurrence included, each with
/// its own `uuid`; every generated past instance has at least two participants).
pub(super) async fn user_meetings(
    call: Call,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let (state, tenant) = (&call.state, &call.state.tenant);
    let target = call.user(&USER_MEETINGS)?;
    let (ai, ui) = target.at;
    let range = date_range(state, &q)?;
    let key = format!("report_meetings|{ai}|{ui}|{}|{}", range.0, range.1);
    let page = Page::parse(state, &q, key)?;
    let user = target.load(tenant)?;
    let meetings: Vec<_> = tenant
        .ended_instances(ai, ui)
        .into_iter()
        .filter(|m| in_range(m.start_time, range))
        .collect();
    let rows: Vec<Value> = page
        .of(&meetings)
        .map(|m| {
            let (rows, secs) = tenant.participant_stats(m);
            let minutes = secs / 60;
            json!({
                "uuid": m.uuid,
                "id": m.id,
                "type": m.meeting_type,
                "topic": m.topic,
                "user_name": user.display_name(),
                "user_email": user.email,
                "start_time": zoom_time(m.start_time),
                "end_time": zoom_time(m.end_time()),
                "duration": m.duration_min,
                "total_minutes": minutes,
                "participants_count": rows,
                "source": "Zoom",
            })
        })
        .collect();
    let mut body = report_body(page.info(state, meetings.len() as u64).into_value(), range);
    body["meetings"] = Value::Array(rows);
    Ok(ok(&body))
}

/// `GET /report/meetings/{meetingId}/participants`: like past meeting participants (same UUID
/// encoding rule) plus `participant_user_id` and `customer_key`, without `internal_user` and
/// `status` (not in its schema); the meeting must belong to the addressed account.
pub(super) async fn meeting_participants(
    call: Call,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let (state, tenant) = (&call.state, &call.state.tenant);
    let a = call.account(&PARTICIPANTS)?;
    let key = meeting_segment(uri.path(), "/report/meetings/", "/participants")?;
    let m = find_ended_meeting(tenant, &key)
        .filter(|m| m.account == a.index)
        .ok_or_else(|| ApiError::meeting_not_found(&key))?;
    let page = Page::parse(state, &q, format!("report_participants|{}", m.uuid))?;
    let rows = tenant.participants(&m);
    let shown: Vec<Value> = page
        .of(&rows)
        .map(|r| {
            let mut v =
                serde_json::to_value(super::meetings::participant_row(r)).unwrap_or_default();
            v["participant_user_id"] = json!(r.id);
            v["customer_key"] = json!("");
            // Not in the report's schema (REFERENCE §3.10): a report row cannot say whether
            // the person is of the account.
            if let Some(row) = v.as_object_mut() {
                row.remove("internal_user");
                row.remove("status");
            }
            v
        })
        .collect();
    let mut body = page.info(state, rows.len() as u64).into_value();
    body["participants"] = Value::Array(shown);
    Ok(ok(&body))
}

/// `GET /report/activities?from&to`: sign-in events — each user's current `last_login_time`
/// when it falls in the range (the sandbox models only the latest login). Cursor-paged (`page_size` is a string in
/// Zoom's schema and is returned as one).
pub(super) async fn activities(call: Call, Query(q): Query<Params>) -> Result<Response, ApiError> {
    let (state, tenant) = (&call.state, &call.state.tenant);
    let a = call.account(&ACTIVITIES)?;
    let range = date_range(state, &q)?;
    let key = format!("activities|{}|{}|{}", a.index, range.0, range.1);
    let page = Page::parse(state, &q, key)?;
    let (size, cursor) = (page.size, page.cursor as u32);
    let mut logs: Vec<Value> = Vec::new();
    let mut next = None;
    let n = tenant.user_count(a.index);
    for u in cursor..n {
        if logs.len() >= size {
            next = Some(u as u64);
            break;
        }
        let Some(user) = tenant.user(a.index, u) else {
            continue;
        };
        if let Some(t) = user.last_login_time.filter(|t| in_range(*t, range)) {
            logs.push(json!({
                "email": user.email,
                "time": zoom_time(t),
                "type": "Sign in",
                "ip_address": format!("203.0.113.{}", u % 250 + 1),
                "client_type": if u % 2 == 0 { "Windows" } else { "Mac" },
                "version": user.last_client_version.clone().unwrap_or_default(),
            }));
        }
    }
    let mut body = report_body(json!({}), range);
    body["page_size"] = json!(size.to_string());
    body["next_page_token"] = json!(page.token(state, next));
    body["activity_logs"] = Value::Array(logs);
    Ok(ok(&body))
}

/// A report body: `fields` with the report's `from` and `to`.
fn report_body(mut fields: Value, (from, to): DateRange) -> Value {
    fields["from"] = json!(from.to_string());
    fields["to"] = json!(to.to_string());
    fields
}
