//! Meetings: a user's scheduled meetings, one meeting, past meeting participants.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

use super::{
    PageInfo, Params, Scopes, decode_token, find_ended_meeting, may_see_account, meeting_segment,
    ok, page_size, resolve_account, resolve_user,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::SandboxState;
use crate::tenant::{Meeting, Participant, zoom_time};

const LIST: Scopes = Scopes {
    own: &[
        "meeting:read:list_meetings:admin",
        "meeting:read:admin",
        "meeting:write:admin",
    ],
    master: &["meeting:read:list_meetings:master", "meeting:master"],
};

const GET_MEETING: &[&str] = &[
    "meeting:read:meeting:admin",
    "meeting:read:admin",
    "meeting:write:admin",
];

const PAST_PARTICIPANTS: &[&str] = &[
    "meeting:read:list_past_participants:admin",
    "meeting:read:admin",
];

#[derive(Serialize)]
struct ListedMeeting<'a> {
    uuid: &'a str,
    id: i64,
    host_id: &'a str,
    topic: &'a str,
    #[serde(rename = "type")]
    meeting_type: i64,
    start_time: String,
    duration: i64,
    timezone: &'a str,
    created_at: String,
    join_url: String,
}

fn listed(m: &Meeting) -> ListedMeeting<'_> {
    ListedMeeting {
        uuid: &m.uuid,
        id: m.id,
        host_id: &m.host_id,
        topic: m.topic,
        meeting_type: m.meeting_type,
        start_time: zoom_time(m.start_time),
        duration: m.duration_min,
        timezone: m.timezone,
        created_at: zoom_time(m.created_at),
        join_url: format!("https://zoom.us/j/{}", m.id),
    }
}

/// `GET /users/{userId}/meetings?type=scheduled|live|upcoming|upcoming_meetings|previous_meetings`
/// (default `scheduled`: every scheduled meeting, past and upcoming).
pub async fn list(
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
        &LIST,
    )?;
    let user_param = p.get("userId").map(String::as_str).unwrap_or_default();
    let (ai, ui) = resolve_user(tenant, &caller, a, user_param)?;
    let kind = q
        .get("type")
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("scheduled");
    let now = state.clock.now();
    let filter: fn(&Meeting, chrono::DateTime<chrono::Utc>) -> bool = match kind {
        "scheduled" => |_, _| true,
        "live" => |m, now| m.start_time <= now && m.end_time() > now && !m.ended,
        "upcoming" | "upcoming_meetings" => |m, now| m.start_time > now,
        "previous_meetings" => |m, _| m.ended,
        _ => return Err(ApiError::invalid_parameter("Invalid field: type.")),
    };
    let size = page_size(&q)?;
    let key = format!("meetings|{ai}|{ui}|{kind}");
    let cursor = decode_token(&state, &key, &q)? as usize;
    let all: Vec<Meeting> = tenant
        .meetings(ai, ui)
        .into_iter()
        .filter(|m| filter(m, now))
        .collect();
    let page: Vec<ListedMeeting<'_>> = all.iter().skip(cursor).take(size).map(listed).collect();
    let next = (cursor + size < all.len()).then_some((cursor + size) as u64);
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(flatten)]
        info: PageInfo,
        meetings: Vec<ListedMeeting<'a>>,
    }
    Ok(ok(&Body {
        info: PageInfo::new(&state, &key, size, all.len() as u64, next),
        meetings: page,
    }))
}

/// `GET /meetings/{meetingId}`: the meeting by number (or instance UUID).
pub async fn get_meeting(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Path(p): Path<Params>,
) -> Result<Response, ApiError> {
    caller.require_scope(GET_MEETING)?;
    let tenant = &state.tenant;
    let key = p.get("meetingId").map(String::as_str).unwrap_or_default();
    let m = if key.bytes().all(|b| b.is_ascii_digit()) && !key.is_empty() {
        key.parse().ok().and_then(|n| tenant.meeting_by_number(n))
    } else {
        tenant.meeting_by_uuid(key)
    }
    .ok_or_else(|| ApiError::meeting_not_found(key))?;
    if !may_see_account(tenant, &caller, m.account)? {
        return Err(ApiError::meeting_not_found(key));
    }
    let host_email = tenant
        .user(m.account, m.host)
        .map(|u| u.email)
        .unwrap_or_default();
    Ok(ok(&json!({
        "uuid": m.uuid,
        "id": m.id,
        "host_id": m.host_id,
        "host_email": host_email,
        "topic": m.topic,
        "type": m.meeting_type,
        "status": "waiting",
        "start_time": zoom_time(m.start_time),
        "duration": m.duration_min,
        "timezone": m.timezone,
        "created_at": zoom_time(m.created_at),
        "agenda": "",
        "join_url": format!("https://zoom.us/j/{}", m.id),
        "pre_schedule": false,
        "settings": {
            "host_video": false,
            "participant_video": false,
            "join_before_host": false,
            "mute_upon_entry": true,
            "waiting_room": true,
            "auto_recording": "none",
        },
    })))
}

#[derive(Serialize)]
pub(super) struct ParticipantRow<'a> {
    id: &'a str,
    name: &'a str,
    user_id: &'a str,
    user_email: &'a str,
    join_time: String,
    leave_time: String,
    duration: i64,
    failover: bool,
    status: &'static str,
    internal_user: bool,
}

pub(super) fn participant_row(p: &Participant) -> ParticipantRow<'_> {
    ParticipantRow {
        id: &p.id,
        name: &p.name,
        user_id: &p.user_id,
        user_email: &p.user_email,
        join_time: zoom_time(p.join_time),
        leave_time: zoom_time(p.leave_time),
        duration: p.duration_secs(),
        failover: false,
        status: "in_meeting",
        internal_user: p.internal_user,
    }
}

/// `GET /past_meetings/{meetingUUID}/participants`: one row per join segment. UUIDs that start
/// with `/` or contain `//` must be double-encoded (404 code 3001 otherwise); a meeting number
/// means its (only) ended instance. The route is a wildcard so that any encoding reaches this
/// handler; the raw request path is inspected, not axum's once-decoded parameter.
pub async fn past_participants(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    caller.require_scope(PAST_PARTICIPANTS)?;
    let tenant = &state.tenant;
    let key = meeting_segment(uri.path(), "/past_meetings/")?;
    let m = find_ended_meeting(tenant, &key).ok_or_else(|| ApiError::meeting_not_found(&key))?;
    if !may_see_account(tenant, &caller, m.account)? {
        return Err(ApiError::meeting_not_found(&key));
    }
    let size = page_size(&q)?;
    let fp = format!("past|{}", m.uuid);
    let cursor = decode_token(&state, &fp, &q)? as usize;
    let rows = tenant.participants(&m);
    let next = (cursor + size < rows.len()).then_some((cursor + size) as u64);
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(flatten)]
        info: PageInfo,
        participants: Vec<ParticipantRow<'a>>,
    }
    Ok(ok(&Body {
        info: PageInfo::new(&state, &fp, size, rows.len() as u64, next),
        participants: rows
            .iter()
            .skip(cursor)
            .take(size)
            .map(participant_row)
            .collect(),
    }))
}
