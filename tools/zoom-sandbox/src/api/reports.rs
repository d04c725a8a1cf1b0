//! Reports (all Heavy): active/inactive hosts, a user's meetings, a meeting's participants,
//! sign-in activity. Date ranges are `from`/`to` (`yyyy-mm-dd`, inclusive, at most one month,
//! `from` within the last 6 months).
//!
//! Meetings in reports are *instances*: every ended instance counts on its own (an instant
//! meeting, a scheduled meeting, each occurrence of a recurring meeting), by its start date.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::common::{
    PageInfo, Params, Scopes, date_range, decode_token, find_ended_meeting, in_range,
    meeting_segment, ok, page_size, resolve_account, resolve_user,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::SandboxState;
use crate::tenant::{UserStatus, zoom_time};

const USERS: Scopes = Scopes {
    own: &["report:read:list_users:admin", "report:read:admin"],
    master: &["report:read:list_users:master", "report:master"],
};

const USER_MEETINGS: Scopes = Scopes {
    own: &["report:read:user:admin", "report:read:admin"],
    master: &["report:read:user:master", "report:master"],
};

const PARTICIPANTS: Scopes = Scopes {
    own: &[
        "report:read:list_meeting_participants:admin",
        "report:read:admin",
    ],
    master: &[
        "report:read:list_meeting_participants:master",
        "report:master",
    ],
};

const ACTIVITIES: Scopes = Scopes {
    own: &["report:read:user_activities:admin", "report:read:admin"],
    master: &["report:read:user_activities:master", "report:master"],
};

/// `GET /report/users?type=active|inactive&from&to`: hosts who held at least one meeting in the
/// range (`active`, the default) or none (`inactive`); pending users are not reported.
/// `meetings` counts the host's ended instances that started in the range (instant meetings
/// and each occurrence of a recurring meeting included).
pub(super) async fn users(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let tenant = &state.tenant;
    let a = resolve_account(
        tenant,
        &caller,
        p.get("accountId").map(String::as_str),
        &USERS,
    )?;
    let range = date_range(&state, &q)?;
    let active = match q.get("type").map(String::as_str).unwrap_or("active") {
        "active" | "" => true,
        "inactive" => false,
        _ => return Err(ApiError::invalid_parameter("Invalid field: type.")),
    };
    let size = page_size(&q)?;
    let key = format!("report_users|{}|{active}|{}|{}", a.index, range.0, range.1);
    let cursor = decode_token(&state, &key, &q)? as usize;
    let mut rows: Vec<Value> = Vec::new();
    let (mut total, mut t_meetings, mut t_participants, mut t_minutes) = (0u64, 0u64, 0u64, 0u64);
    let mut matched = 0usize;
    for u in 0..tenant.user_count(a.index) {
        let Some(user) = tenant.user(a.index, u) else {
            continue;
        };
        if user.status == UserStatus::Pending {
            continue;
        }
        let (mut meetings, mut participants, mut minutes) = (0u64, 0u64, 0u64);
        for m in tenant.ended_instances(a.index, u) {
            if in_range(m.start_time, range) {
                meetings += 1;
                let (rows, secs) = tenant.participant_stats(&m);
                participants += rows as u64;
                minutes += secs.max(0) as u64 / 60;
            }
        }
        if (meetings > 0) != active {
            continue;
        }
        total += 1;
        t_meetings += meetings;
        t_participants += participants;
        t_minutes += minutes;
        if matched >= cursor && rows.len() < size {
            rows.push(json!({
                "id": user.id,
                "email": user.email,
                "user_name": user.display_name(),
                "type": user.user_type,
                "dept": user.dept,
                "meetings": meetings,
                "participants": participants,
                "meeting_minutes": minutes,
            }));
        }
        matched += 1;
    }
    let next = (cursor + size < total as usize).then_some((cursor + size) as u64);
    let mut body =
        serde_json::to_value(PageInfo::new(&state, &key, size, total, next)).unwrap_or_default();
    body["from"] = json!(range.0.to_string());
    body["to"] = json!(range.1.to_string());
    body["total_meetings"] = json!(t_meetings);
    body["total_participants"] = json!(t_participants);
    body["total_meeting_minutes"] = json!(t_minutes);
    body["users"] = Value::Array(rows);
    Ok(ok(&body))
}

/// `GET /report/users/{userId}/meetings?from&to`: the user's ended instances that started in
/// the range, oldest first (instant meetings and each recurring occurrence included, each with
/// its own `uuid`; every generated past instance has at least two participants).
pub(super) async fn user_meetings(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let tenant = &state.tenant;
    let a = resolve_account(
        tenant,
        &caller,
        p.get("accountId").map(String::as_str),
        &USER_MEETINGS,
    )?;
    let user_param = p.get("userId").map(String::as_str).unwrap_or_default();
    let (ai, ui) = resolve_user(tenant, &caller, a, user_param)?;
    let range = date_range(&state, &q)?;
    let size = page_size(&q)?;
    let key = format!("report_meetings|{ai}|{ui}|{}|{}", range.0, range.1);
    let cursor = decode_token(&state, &key, &q)? as usize;
    let user = tenant
        .user(ai, ui)
        .ok_or_else(|| ApiError::user_not_found(user_param))?;
    let meetings: Vec<_> = tenant
        .ended_instances(ai, ui)
        .into_iter()
        .filter(|m| in_range(m.start_time, range))
        .collect();
    let rows: Vec<Value> = meetings
        .iter()
        .skip(cursor)
        .take(size)
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
    let next = (cursor + size < meetings.len()).then_some((cursor + size) as u64);
    let mut body = serde_json::to_value(PageInfo::new(
        &state,
        &key,
        size,
        meetings.len() as u64,
        next,
    ))
    .unwrap_or_default();
    body["from"] = json!(range.0.to_string());
    body["to"] = json!(range.1.to_string());
    body["meetings"] = Value::Array(rows);
    Ok(ok(&body))
}

/// `GET /report/meetings/{meetingId}/participants`: like past meeting participants (same UUID
/// encoding rule) plus `participant_user_id` and `customer_key`; the meeting must belong to the
/// addressed account.
pub(super) async fn meeting_participants(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Path(p): Path<Params>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let tenant = &state.tenant;
    let a = resolve_account(
        tenant,
        &caller,
        p.get("accountId").map(String::as_str),
        &PARTICIPANTS,
    )?;
    let key = meeting_segment(uri.path(), "/report/meetings/", "/participants")?;
    let m = find_ended_meeting(tenant, &key)
        .filter(|m| m.account == a.index)
        .ok_or_else(|| ApiError::meeting_not_found(&key))?;
    let size = page_size(&q)?;
    let fp = format!("report_participants|{}", m.uuid);
    let cursor = decode_token(&state, &fp, &q)? as usize;
    let rows = tenant.participants(&m);
    let page: Vec<Value> = rows
        .iter()
        .skip(cursor)
        .take(size)
        .map(|r| {
            let mut v =
                serde_json::to_value(super::meetings::participant_row(r)).unwrap_or_default();
            v["participant_user_id"] = json!(r.id);
            v["customer_key"] = json!("");
            v
        })
        .collect();
    let next = (cursor + size < rows.len()).then_some((cursor + size) as u64);
    let mut body = serde_json::to_value(PageInfo::new(&state, &fp, size, rows.len() as u64, next))
        .unwrap_or_default();
    body["participants"] = Value::Array(page);
    Ok(ok(&body))
}

/// `GET /report/activities?from&to`: sign-in events — each user's current `last_login_time`
/// when it falls in the range (the sandbox models only the latest login). Cursor-paged (`page_size` is a string in
/// Zoom's schema and is returned as one).
pub(super) async fn activities(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let tenant = &state.tenant;
    let a = resolve_account(
        tenant,
        &caller,
        p.get("accountId").map(String::as_str),
        &ACTIVITIES,
    )?;
    let range = date_range(&state, &q)?;
    let size = page_size(&q)?;
    let key = format!("activities|{}|{}|{}", a.index, range.0, range.1);
    let cursor = decode_token(&state, &key, &q)? as u32;
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
    Ok(ok(&json!({
        "from": range.0.to_string(),
        "to": range.1.to_string(),
        "page_size": size.to_string(),
        "next_page_token": next.map(|c| super::common::encode_token(&state, &key, c)).unwrap_or_default(),
        "activity_logs": logs,
    })))
}
