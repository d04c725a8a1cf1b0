//! Meetings: a user's scheduled meetings, one meeting, past meeting instances and participants.
//!
//! Instances: an instant or scheduled meeting has one instance, a recurring meeting (type 8)
//! one per occurrence, each with its own UUID and participants (see [`crate::tenant`]).

use axum::extract::{OriginalUri, Query};
use axum::response::Response;
use chrono::Datelike;
use serde::Serialize;
use serde_json::json;

use super::common::{
    Call, Params, endpoint_not_recognized, find_ended_meeting, find_meeting, invalid_field,
    may_see_account, meeting_segment, ok, scopes,
};
use super::paging::Page;
use crate::error::ApiError;
use crate::tenant::{Meeting, MeetingKind, Participant, zoom_time};

scopes! {
    own: ["meeting:read:admin", "meeting:write:admin"], master: ["meeting:master"] {
        LIST = "meeting:read:list_meetings",
    }
    own: ["meeting:read:admin"], master: ["meeting:master"] {
        PAST_INSTANCES = "meeting:read:list_past_instances",
    }
}

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
        start_time: zoom_time(m.listed_start_time),
        duration: m.duration_min,
        timezone: m.timezone,
        created_at: zoom_time(m.created_at),
        join_url: format!("https://zoom.us/j/{}", m.id),
    }
}

/// `GET /users/{userId}/meetings?type=scheduled|live|upcoming|upcoming_meetings|previous_meetings`
/// (default `scheduled`: every scheduled meeting, past and upcoming).
///
/// Instant meetings are never listed, whatever `type` (REFERENCE §3.8). A recurring meeting is
/// one entry: its `id`, `created_at`, `type` 8, `start_time` of its first occurrence that has
/// not ended (or of its last occurrence when all have ended), and `uuid` of its latest ended
/// occurrence (of its first occurrence while none has ended). `live`/`upcoming` look at that
/// listed start; `previous_meetings` lists meetings with at least one ended instance.
pub(super) async fn list(call: Call, Query(q): Query<Params>) -> Result<Response, ApiError> {
    let (state, tenant) = (&call.state, &call.state.tenant);
    let (ai, ui) = call.user(&LIST)?.at;
    let kind = q
        .get("type")
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("scheduled");
    let now = state.clock.now();
    let filter: fn(&Meeting, chrono::DateTime<chrono::Utc>) -> bool = match kind {
        "scheduled" => |_, _| true,
        "live" => |m, now| {
            m.listed_start_time <= now
                && m.listed_start_time + chrono::Duration::minutes(m.duration_min) > now
        },
        "upcoming" | "upcoming_meetings" => |m, now| m.listed_start_time > now,
        "previous_meetings" => |m, _| m.ended,
        _ => return Err(invalid_field("type")),
    };
    let page = Page::parse(state, &q, format!("meetings|{ai}|{ui}|{kind}"))?;
    let all: Vec<Meeting> = tenant
        .meetings(ai, ui)
        .into_iter()
        .filter(|m| filter(m, now))
        .collect();
    let rows: Vec<ListedMeeting<'_>> = page.of(&all).map(listed).collect();
    let info = page.info(state, all.len() as u64);
    Ok(ok(&info.listing("meetings", rows)))
}

/// `GET /meetings/{meetingId}`: the meeting by number (or instance UUID). Instant meetings are
/// found too. A recurring meeting also shows `recurrence` and its `occurrences` (the ones that
/// have not ended; every one with `show_previous_occurrences=true`), `start_time` as the
/// meeting list shows it.
pub(super) async fn get_meeting(call: Call, Query(q): Query<Params>) -> Result<Response, ApiError> {
    call.caller.require_scope(GET_MEETING)?;
    let tenant = &call.state.tenant;
    let key = call
        .path
        .get("meetingId")
        .map(String::as_str)
        .unwrap_or_default();
    let m = find_meeting(tenant, key).ok_or_else(|| ApiError::meeting_not_found(key))?;
    if !may_see_account(tenant, &call.caller, m.account)? {
        return Err(ApiError::meeting_not_found(key));
    }
    let host_email = tenant
        .user(m.account, m.host)
        .map(|u| u.email)
        .unwrap_or_default();
    let mut body = json!({
        "uuid": m.uuid,
        "id": m.id,
        "host_id": m.host_id,
        "host_email": host_email,
        "topic": m.topic,
        "type": m.meeting_type,
        "status": "waiting",
        "start_time": zoom_time(m.listed_start_time),
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
    });
    if m.kind == MeetingKind::Recurring {
        let all = tenant.meeting_instances(&m);
        let previous = q
            .get("show_previous_occurrences")
            .is_some_and(|v| v == "true");
        let gap = all.get(1).map_or(7, |second| {
            (second.start_time - all[0].start_time).num_days()
        });
        body["recurrence"] = if gap == 1 {
            json!({"type": 1, "repeat_interval": 1, "end_times": all.len()})
        } else {
            json!({
                "type": 2,
                "repeat_interval": gap / 7,
                // 1 Sunday … 7 Saturday.
                "weekly_days": (all[0].start_time.weekday().num_days_from_sunday() + 1).to_string(),
                "end_times": all.len(),
            })
        };
        body["occurrences"] = all
            .iter()
            .filter(|i| previous || !i.ended)
            .map(|i| {
                json!({
                    "occurrence_id": i.start_time.timestamp_millis().to_string(),
                    "start_time": zoom_time(i.start_time),
                    "duration": i.duration_min,
                    "status": "available",
                })
            })
            .collect();
    }
    Ok(ok(&body))
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

/// `GET /past_meetings/{*rest}` and `GET /accounts/{accountId}/past_meetings/{*rest}`: the
/// wildcard dispatches on the suffix: `…/instances` lists a meeting's ended instances,
/// `…/participants` (un-prefixed form only: Zoom documents no master variant) one instance's
/// participants. Anything else: 404 code 2300.
pub(super) async fn past_meetings(
    call: Call,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    if uri.path().ends_with("/instances") {
        return past_instances(&call, uri.path());
    }
    if call.path.contains_key("accountId") {
        return Err(endpoint_not_recognized());
    }
    past_participants(&call, uri.path(), &q)
}

#[derive(Serialize)]
struct InstanceRow {
    uuid: String,
    start_time: String,
}

/// `GET /past_meetings/{meetingId}/instances` (and the master form
/// `/accounts/{accountId}/past_meetings/{meetingId}/instances`): `{"meetings":[{uuid,
/// start_time}]}` for every ended instance of the meeting, oldest first, unpaginated. The path
/// holds the meeting number; a UUID or an unknown number is 404 code 3001. A meeting with no
/// ended instance yet answers an empty list (harsher plausible reading: Zoom documents no error
/// for it). Non-recurring meetings have their one instance.
fn past_instances(call: &Call, raw_path: &str) -> Result<Response, ApiError> {
    let (tenant, caller) = (&call.state.tenant, &call.caller);
    let key = meeting_segment(raw_path, "/past_meetings/", "/instances")?;
    let not_found = || ApiError::meeting_not_found(&key);
    let m = if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
        key.parse().ok().and_then(|n| tenant.meeting_by_number(n))
    } else {
        None
    };
    if call.path.contains_key("accountId") {
        let a = call.account(&PAST_INSTANCES)?;
        if m.as_ref().is_some_and(|m| m.account != a.index) {
            return Err(not_found());
        }
    } else {
        caller.require_scope(PAST_INSTANCES.own)?;
        if let Some(m) = &m
            && !may_see_account(tenant, caller, m.account)?
        {
            return Err(not_found());
        }
    }
    let m = m.ok_or_else(not_found)?;
    let meetings: Vec<InstanceRow> = tenant
        .meeting_instances(&m)
        .into_iter()
        .filter(|i| i.ended)
        .map(|i| InstanceRow {
            uuid: i.uuid,
            start_time: zoom_time(i.start_time),
        })
        .collect();
    Ok(ok(&json!({ "meetings": meetings })))
}

/// `GET /past_meetings/{meetingUUID}/participants`: one row per join segment. UUIDs that start
/// with `/` or contain `//` must be double-encoded (404 code 3001 otherwise); a meeting number
/// means its latest ended instance. The route is a wildcard so that any encoding reaches this
/// handler; the raw request path is inspected, not axum's once-decoded parameter.
///
/// Rows: the host first; users of the host's account with `id`, `user_email` and
/// `internal_user: true`; users of other accounts (the organisation's other accounts, or
/// unrelated ones) with `id` and `name` only (`user_email` "", `internal_user: false`); guests
/// with no `id`.
fn past_participants(call: &Call, raw_path: &str, q: &Params) -> Result<Response, ApiError> {
    let (state, tenant, caller) = (&call.state, &call.state.tenant, &call.caller);
    caller.require_scope(PAST_PARTICIPANTS)?;
    let key = meeting_segment(raw_path, "/past_meetings/", "/participants")?;
    let m = find_ended_meeting(tenant, &key).ok_or_else(|| ApiError::meeting_not_found(&key))?;
    if !may_see_account(tenant, caller, m.account)? {
        return Err(ApiError::meeting_not_found(&key));
    }
    let page = Page::parse(state, q, format!("past|{}", m.uuid))?;
    let rows = tenant.participants(&m);
    let info = page.info(state, rows.len() as u64);
    let shown: Vec<ParticipantRow<'_>> = page.of(&rows).map(participant_row).collect();
    Ok(ok(&info.listing("participants", shown)))
}
