//! What every endpoint module shares: Zoom's JSON bodies and errors, the access rules (which
//! account and user a request acts on, see the module docs of [`super`]), page sizes and page
//! tokens, meeting path segments and report date ranges.

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::SandboxState;
use crate::tenant::{Account, AccountKind, Meeting, Tenant, ids};

pub(super) type Params = HashMap<String, String>;

/// A JSON body as Zoom sends it.
fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut r = (status, bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=UTF-8"),
            );
            r
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

pub(super) fn ok<T: Serialize>(body: &T) -> Response {
    json(StatusCode::OK, body)
}

/// 400 code 200 `No permission.`: a master API called by an account that is not a master.
pub(super) fn no_permission() -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, 200, "No permission.")
}

fn account_does_not_exist(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        2001,
        format!("Account does not exist: {id}."),
    )
}

/// The caller's account, or 401 code 124 if the token names an account the tenant lacks.
pub(super) fn caller_account<'t>(
    tenant: &'t Tenant,
    caller: &Caller,
) -> Result<&'t Account, ApiError> {
    tenant
        .account_by_id(&caller.account_id)
        .ok_or_else(ApiError::invalid_token)
}

/// Scopes for an endpoint: the own-account form and the master form.
pub(super) struct Scopes {
    pub(super) own: &'static [&'static str],
    pub(super) master: &'static [&'static str],
}

/// The account an endpoint acts on (see the module docs for the rules).
pub(super) fn resolve_account<'t>(
    tenant: &'t Tenant,
    caller: &Caller,
    account_param: Option<&str>,
    scopes: &Scopes,
) -> Result<&'t Account, ApiError> {
    let own = caller_account(tenant, caller)?;
    let Some(param) = account_param else {
        caller.require_scope(scopes.own)?;
        return Ok(own);
    };
    let id = caller.resolve_account(param);
    if id == own.id {
        let mut any: Vec<&str> = scopes.own.to_vec();
        any.extend_from_slice(scopes.master);
        caller.require_scope(&any)?;
        return Ok(own);
    }
    caller.require_scope(scopes.master)?;
    if !own.is_master() {
        return Err(no_permission());
    }
    match tenant.account_by_id(id) {
        Some(a) if a.kind == AccountKind::Sub => Ok(a),
        _ => Err(account_does_not_exist(id)),
    }
}

/// The (account, index) of a `{userId}` (id, email or `me`) inside `account`, or 404 code 1001.
/// Pending users have no id: they are found by email only.
pub(super) fn resolve_user(
    tenant: &Tenant,
    caller: &Caller,
    account: &Account,
    user_param: &str,
) -> Result<(u32, u32), ApiError> {
    let not_found = || ApiError::user_not_found(user_param);
    let key = if user_param == "me" {
        match &caller.user_id {
            Some(id) => id.clone(),
            None => {
                // Server-to-server tokens: `me` is the account's owner.
                let own = caller_account(tenant, caller)?;
                tenant.owner_user_id(own.index)
            }
        }
    } else {
        user_param.to_string()
    };
    let (a, u) = tenant.locate_user(&key).ok_or_else(not_found)?;
    if a != account.index {
        return Err(not_found());
    }
    if !key.contains('@')
        && tenant
            .user(a, u)
            .is_some_and(|u| u.status == crate::tenant::UserStatus::Pending)
    {
        return Err(not_found());
    }
    Ok((a, u))
}

/// `page_size`: default 30, capped at 300; not a number → 400 code 300.
pub(super) fn page_size(q: &Params) -> Result<usize, ApiError> {
    match q
        .get("page_size")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => Ok(30),
        Some(s) => {
            let n: i64 = s
                .parse()
                .map_err(|_| ApiError::invalid_parameter("Invalid field: page_size."))?;
            Ok(if n < 1 { 30 } else { n.min(300) as usize })
        }
    }
}

/// A page token: opaque, bound to one listing (`fingerprint`), expiring after 15 minutes.
const PAGE_TOKEN_TTL_SECS: i64 = 15 * 60;
const TOKEN_TAG: u64 = 0x0054_4F4B; // "TOK"

fn fingerprint(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

pub(super) fn token_expired() -> ApiError {
    ApiError::invalid_parameter("The next page token is invalid or expired.")
}

pub(super) fn encode_token(state: &SandboxState, key: &str, cursor: u64) -> String {
    let issued = state.clock.now().timestamp();
    let check = ids::hash(
        state.tenant.seed(),
        &[TOKEN_TAG, fingerprint(key), cursor, issued as u64],
    );
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&cursor.to_be_bytes());
    bytes[8..16].copy_from_slice(&issued.to_be_bytes());
    bytes[16..].copy_from_slice(&check.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The cursor of `next_page_token` (0 when absent or empty), or 400 code 300.
pub(super) fn decode_token(state: &SandboxState, key: &str, q: &Params) -> Result<u64, ApiError> {
    let Some(token) = q.get("next_page_token").filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| token_expired())?;
    if bytes.len() != 24 {
        return Err(token_expired());
    }
    let cursor = u64::from_be_bytes(bytes[..8].try_into().map_err(|_| token_expired())?);
    let issued = i64::from_be_bytes(bytes[8..16].try_into().map_err(|_| token_expired())?);
    let check = u64::from_be_bytes(bytes[16..].try_into().map_err(|_| token_expired())?);
    let expected = ids::hash(
        state.tenant.seed(),
        &[TOKEN_TAG, fingerprint(key), cursor, issued as u64],
    );
    if check != expected || state.clock.now().timestamp() - issued > PAGE_TOKEN_TTL_SECS {
        return Err(token_expired());
    }
    Ok(cursor)
}

/// Zoom's pagination fields.
#[derive(Serialize)]
pub(super) struct PageInfo {
    page_count: u64,
    page_size: usize,
    total_records: u64,
    next_page_token: String,
}

impl PageInfo {
    pub(super) fn new(
        state: &SandboxState,
        key: &str,
        page_size: usize,
        total: u64,
        next: Option<u64>,
    ) -> Self {
        Self {
            page_count: total.div_ceil(page_size.max(1) as u64),
            page_size,
            total_records: total,
            next_page_token: next
                .map(|c| encode_token(state, key, c))
                .unwrap_or_default(),
        }
    }
}

/// 404 code 2300: a path this API does not serve.
pub(super) fn endpoint_not_recognized() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        2300,
        "This API endpoint is not recognized.",
    )
}

/// Where a meeting-instance path segment (`{meetingUUID}` / `{meetingId}`) sits in the raw
/// (still percent-encoded) request path: the text between `prefix` and `suffix`
/// (`/participants`, `/instances`).
///
/// Zoom decodes the segment and, when the result still holds `%`, decodes it again. A UUID
/// that starts with `/` or contains `//` must therefore arrive double-encoded: single-encoded
/// (or unencoded) it yields 404 code 3001, exactly as Zoom answers.
pub(super) fn meeting_segment(
    raw_path: &str,
    prefix: &str,
    suffix: &str,
) -> Result<String, ApiError> {
    let not_found = || ApiError::meeting_not_found("");
    let start = raw_path.find(prefix).ok_or_else(not_found)? + prefix.len();
    let rest = &raw_path[start..];
    let raw = rest
        .strip_suffix(suffix)
        .ok_or_else(endpoint_not_recognized)?;
    let meeting_error = |shown: &str| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            3001,
            format!("Meeting does not exist: {shown}."),
        )
    };
    if raw.is_empty() || raw.contains('/') {
        return Err(meeting_error(raw));
    }
    let once = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| meeting_error(raw))?
        .into_owned();
    if once.contains('%') {
        let twice = percent_encoding::percent_decode_str(&once)
            .decode_utf8()
            .map_err(|_| meeting_error(&once))?
            .into_owned();
        return Ok(twice);
    }
    if once.starts_with('/') || once.contains("//") {
        return Err(meeting_error(&once));
    }
    Ok(once)
}

/// Meeting ids from paths: a meeting number (its ended instance) or an instance UUID.
pub(super) fn find_ended_meeting(tenant: &Tenant, key: &str) -> Option<Meeting> {
    let m = if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
        tenant.meeting_by_number(key.parse().ok()?)
    } else {
        tenant.meeting_by_uuid(key)
    }?;
    m.ended.then_some(m)
}

/// Whether the caller may see a meeting hosted in `account` through the un-prefixed meeting
/// endpoints: its own account's meetings, and (lenient where Zoom is undocumented) the master's
/// sub accounts' meetings.
pub(super) fn may_see_account(
    tenant: &Tenant,
    caller: &Caller,
    account: u32,
) -> Result<bool, ApiError> {
    let own = caller_account(tenant, caller)?;
    Ok(own.index == account
        || (own.is_master()
            && tenant
                .account(account)
                .is_some_and(|a| a.kind == AccountKind::Sub)))
}

/// `from`/`to` (`yyyy-mm-dd`) of report endpoints: default the last 30 days of the sandbox
/// clock; at most one month apart, and `from` not older than 6 months before today (reports
/// cover the last 6 months, REFERENCE §3.10): 400 code 300 otherwise. Zoom's wording of the
/// second message is not documented.
pub(super) fn date_range(
    state: &SandboxState,
    q: &Params,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), ApiError> {
    let parse = |name: &str| -> Result<Option<chrono::NaiveDate>, ApiError> {
        match q.get(name).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| ApiError::invalid_parameter(format!("Invalid field: {name}."))),
        }
    };
    let today = state.clock.now().date_naive();
    let to = parse("to")?.unwrap_or(today);
    let from = parse("from")?.unwrap_or(to - chrono::Duration::days(30));
    if from > to {
        return Err(ApiError::invalid_parameter(
            "The from date should be earlier than the to date.",
        ));
    }
    if (to - from).num_days() > 31 {
        return Err(ApiError::invalid_parameter(
            "The date range must be within one month.",
        ));
    }
    let oldest = today
        .checked_sub_months(chrono::Months::new(6))
        .unwrap_or(today);
    if from < oldest {
        return Err(ApiError::invalid_parameter(
            "The from date can only be within the last 6 months.",
        ));
    }
    Ok((from, to))
}

pub(super) fn in_range(
    t: chrono::DateTime<chrono::Utc>,
    (from, to): (chrono::NaiveDate, chrono::NaiveDate),
) -> bool {
    let d = t.date_naive();
    d >= from && d <= to
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_segments_need_double_encoding_for_slashes() {
        let p = "/v2/past_meetings/";
        assert_eq!(
            meeting_segment(
                "/v2/past_meetings/ab%2Bc%3D%3D/participants",
                p,
                "/participants"
            )
            .unwrap(),
            "ab+c=="
        );
        assert_eq!(
            meeting_segment(
                "/v2/past_meetings/ab%2Fc%3D%3D/participants",
                p,
                "/participants"
            )
            .unwrap(),
            "ab/c=="
        );
        assert_eq!(
            meeting_segment(
                "/v2/past_meetings/%252Fab%253D%253D/participants",
                p,
                "/participants"
            )
            .unwrap(),
            "/ab=="
        );
        assert_eq!(
            meeting_segment(
                "/v2/past_meetings/a%252F%252Fb%253D/participants",
                p,
                "/participants"
            )
            .unwrap(),
            "a//b="
        );
        for bad in [
            "/v2/past_meetings/%2Fab%3D%3D/participants",
            "/v2/past_meetings/a%2F%2Fb/participants",
            "/v2/past_meetings//ab==/participants",
        ] {
            assert_eq!(
                meeting_segment(bad, p, "/participants").unwrap_err().code,
                3001,
                "{bad}"
            );
        }
        assert_eq!(
            meeting_segment("/v2/past_meetings/123/instances", p, "/instances").unwrap(),
            "123"
        );
        for other in ["/v2/past_meetings/123/whatever", "/v2/past_meetings/123"] {
            assert_eq!(
                meeting_segment(other, p, "/participants").unwrap_err().code,
                2300
            );
        }
    }
}
