//! What every endpoint module shares: Zoom's JSON bodies and errors, the [`Call`] handlers start
//! from, the access rules (which account and user a request acts on, see the module docs of
//! [`super`]) and endpoint scopes, meeting path segments and report date ranges. Pagination is in
//! [`super::paging`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::SandboxState;
use crate::tenant::{Account, AccountKind, Meeting, Tenant, User};

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

/// 400 code 300 `Invalid field: {name}.`: a query parameter Zoom cannot read.
pub(super) fn invalid_field(name: &str) -> ApiError {
    ApiError::invalid_parameter(format!("Invalid field: {name}."))
}

/// 400 code 300 `Validation Failed.` naming `field` of a request body.
pub(super) fn validation_failed(field: &str) -> ApiError {
    ApiError::invalid_parameter("Validation Failed.").with_field(field, "Invalid field.")
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

/// Declares the [`Scopes`] constants of endpoints, grouped by the classic scopes they accept:
///
/// ```text
/// scopes! {
///     own: ["user:write:admin"], master: ["user:master"] {
///         STATUS = "user:update:status",
///     }
/// }
/// ```
///
/// makes `STATUS` accept `user:update:status:admin` then the classic `own` scopes on the
/// own-account form, `user:update:status:master` then the classic `master` scopes on the master
/// form. The first scope of a list is the one a 4711 error names.
macro_rules! scopes {
    ($(own: $own:tt, master: $master:tt { $($name:ident = $granular:literal),+ $(,)? })+) => {
        $($(scopes!(@one $name, $granular, $own, $master);)+)+
    };
    (@one $name:ident, $granular:literal, [$($own:literal),+], [$($master:literal),+]) => {
        const $name: $crate::api::common::Scopes = $crate::api::common::Scopes {
            own: &[concat!($granular, ":admin"), $($own),+],
            master: &[concat!($granular, ":master"), $($master),+],
        };
    };
}
pub(super) use scopes;

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

/// A call of a `/v2` endpoint, as every handler that reads its path starts from: the sandbox,
/// the caller the gate authenticated, and the path parameters (`accountId`, `userId`, …; none on
/// un-prefixed paths).
pub(super) struct Call {
    pub(super) state: Arc<SandboxState>,
    pub(super) caller: Caller,
    pub(super) path: Params,
}

impl FromRequestParts<Arc<SandboxState>> for Call {
    type Rejection = Response;

    /// `Extension<Caller>`, then `Path<Params>`, with their own rejections.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<SandboxState>,
    ) -> Result<Self, Response> {
        let Extension(caller) = Extension::<Caller>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(path) = Path::<Params>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            state: Arc::clone(state),
            caller,
            path,
        })
    }
}

impl Call {
    /// The account of the path's `{accountId}` (the caller's own one on un-prefixed paths), by
    /// [`resolve_account`].
    pub(super) fn account(&self, scopes: &Scopes) -> Result<&Account, ApiError> {
        let param = self.path.get("accountId").map(String::as_str);
        resolve_account(&self.state.tenant, &self.caller, param, scopes)
    }

    /// The user of the path's `{userId}`: [`Call::account`], then [`resolve_user`] in it.
    pub(super) fn user(&self, scopes: &Scopes) -> Result<PathUser<'_>, ApiError> {
        let account = self.account(scopes)?;
        let param = self
            .path
            .get("userId")
            .map(String::as_str)
            .unwrap_or_default();
        let at = resolve_user(&self.state.tenant, &self.caller, account, param)?;
        Ok(PathUser { account, param, at })
    }
}

/// See [`Call::user`].
pub(super) struct PathUser<'c> {
    pub(super) account: &'c Account,
    /// `{userId}` as the path gives it (id, email or `me`), for error messages.
    pub(super) param: &'c str,
    /// (account index, user index).
    pub(super) at: (u32, u32),
}

impl PathUser<'_> {
    /// The user's record, or 404 code 1001.
    pub(super) fn load(&self, tenant: &Tenant) -> Result<User, ApiError> {
        tenant
            .user(self.at.0, self.at.1)
            .ok_or_else(|| ApiError::user_not_found(self.param))
    }
}

/// The (account, index) of a `{userId}` (id, email or `me`) inside `account`, or 404 code 1001.
/// Pending users have no id: they are found by email only.
fn resolve_user(
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

/// Meeting ids from paths: a meeting number or an instance UUID.
pub(super) fn find_meeting(tenant: &Tenant, key: &str) -> Option<Meeting> {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
        tenant.meeting_by_number(key.parse().ok()?)
    } else {
        tenant.meeting_by_uuid(key)
    }
}

/// [`find_meeting`] when the meeting (a number: its latest instance) has ended.
pub(super) fn find_ended_meeting(tenant: &Tenant, key: &str) -> Option<Meeting> {
    find_meeting(tenant, key).filter(|m| m.ended)
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

/// A report's `from` and `to` days, both included.
pub(super) use crate::users_report::{DateRange, in_range};

/// `from`/`to` (`yyyy-mm-dd`) of report endpoints: default the last 30 days of the sandbox
/// clock; at most one month apart, and `from` not older than 6 months before today (reports
/// cover the last 6 months, REFERENCE §3.10): 400 code 300 otherwise. Zoom's wording of the
/// second message is not documented.
pub(super) fn date_range(state: &SandboxState, q: &Params) -> Result<DateRange, ApiError> {
    let parse = |name: &str| -> Result<Option<chrono::NaiveDate>, ApiError> {
        match q.get(name).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| invalid_field(name)),
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

/// Whether `t` falls on a day of the range.
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
