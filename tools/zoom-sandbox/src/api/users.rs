//! Users: list, summary, get, status, type.

use axum::body::Bytes;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::common::{Call, Params, invalid_field, ok, scopes, validation_failed};
use super::paging::{Page, token_expired};
use crate::error::ApiError;
use crate::tenant::{Account, TenantError, User, UserStatus, zoom_time};

scopes! {
    own: ["user:read:admin", "user:write:admin"], master: ["user:master"] {
        LIST = "user:read:list_users",
        SUMMARY = "user:read:summary",
        GET = "user:read:user",
    }
    own: ["user:write:admin"], master: ["user:master"] {
        STATUS = "user:update:status",
        UPDATE = "user:update:user",
    }
}

/// A user as `GET /users` lists it (pending users have no `id`, never-logged-in users no
/// `last_login_time`).
#[derive(Serialize)]
struct ListedUser<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    first_name: &'a str,
    last_name: &'a str,
    display_name: String,
    email: &'a str,
    #[serde(rename = "type")]
    user_type: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pmi: Option<i64>,
    timezone: &'a str,
    verified: i64,
    dept: &'a str,
    created_at: String,
    user_created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_login_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_client_version: Option<&'a str>,
    language: &'a str,
    status: &'static str,
    role_id: &'static str,
    group_ids: [&'a str; 0],
    im_group_ids: [&'a str; 0],
}

fn listed(u: &User) -> ListedUser<'_> {
    let pending = u.status == UserStatus::Pending;
    ListedUser {
        id: (!pending).then_some(u.id.as_str()),
        first_name: &u.first_name,
        last_name: &u.last_name,
        display_name: u.display_name(),
        email: &u.email,
        user_type: u.user_type,
        pmi: (!pending).then_some(u.pmi),
        timezone: u.timezone,
        verified: u.verified,
        dept: u.dept,
        created_at: zoom_time(u.user_created_at),
        user_created_at: zoom_time(u.user_created_at),
        last_login_time: u.last_login_time.map(zoom_time),
        last_client_version: u.last_client_version.as_deref(),
        language: u.language,
        status: u.status.as_str(),
        role_id: u.role.id(),
        group_ids: [],
        im_group_ids: [],
    }
}

/// `GET /users` and `GET /accounts/{accountId}/users`: one status per listing (`active` by
/// default), users in a stable order, paginated by `next_page_token`.
pub(super) async fn list(call: Call, Query(q): Query<Params>) -> Result<Response, ApiError> {
    let (state, tenant) = (&call.state, &call.state.tenant);
    let a = call.account(&LIST)?;
    let status = match q
        .get("status")
        .map(String::as_str)
        .filter(|s| !s.is_empty())
    {
        None => UserStatus::Active,
        Some(s) => UserStatus::parse(s).ok_or_else(|| invalid_field("status"))?,
    };
    let role_id = q.get("role_id").filter(|s| !s.is_empty()).cloned();
    let key = format!(
        "users|{}|{}|{}",
        a.index,
        status.as_str(),
        role_id.as_deref().unwrap_or("")
    );
    let page = Page::parse(state, &q, key)?;
    let size = page.size;
    let cursor = u32::try_from(page.cursor).map_err(|_| token_expired())?;
    let counts = tenant.counts(a.index);
    let (users, next, total) = match &role_id {
        None => {
            let (users, next) = tenant.users_page(a.index, Some(status), cursor, size);
            (users, next, counts.of_status(status) as u64)
        }
        Some(role) => {
            // Rare: filter by role too (scans the account).
            let all: Vec<User> = tenant
                .users_page(a.index, Some(status), 0, usize::MAX)
                .0
                .into_iter()
                .filter(|u| u.role.id() == role)
                .collect();
            let total = all.len() as u64;
            let start = all.partition_point(|u| u.index < cursor);
            let window: Vec<User> = all[start..].iter().take(size + 1).cloned().collect();
            let next = window.get(size).map(|u| u.index);
            (window.into_iter().take(size).collect(), next, total)
        }
    };
    let info = page.info_next(state, total, next.map(u64::from));
    let rows: Vec<ListedUser<'_>> = users.iter().map(listed).collect();
    Ok(ok(&info.listing("users", rows)))
}

/// `GET /users/summary`: counts by licence type. `licensed`/`basic`/`on_prem`/`join_only`
/// count users that are not pending by type (2, 1, 3, 4); `pending_users_count` counts pending
/// users of every type; `total_users_count` counts everybody (type 99 users only appear there).
/// Counts go by the type users show: a deactivated user that still shows Licensed counts in
/// `licensed_users_count` although it holds no seat (plan usage counts seats; harsher
/// plausible reading, Zoom does not document it).
pub(super) async fn summary(call: Call) -> Result<Response, ApiError> {
    let a = call.account(&SUMMARY)?;
    let c = call.state.tenant.counts(a.index);
    let settled = |t| c.of_type(t) - c.get(t, UserStatus::Pending);
    Ok(ok(&json!({
        "licensed_users_count": settled(2),
        "basic_users_count": settled(1),
        "on_prem_users_count": settled(3),
        "room_users_count": 0,
        "pending_users_count": c.of_status(UserStatus::Pending),
        "join_only_users_count": settled(4),
        "total_users_count": c.total(),
    })))
}

fn full_user(a: &Account, u: &User) -> Value {
    let mut v = serde_json::to_value(listed(u)).unwrap_or_default();
    let pending = u.status == UserStatus::Pending;
    v["account_id"] = json!(a.id);
    v["account_number"] = json!(a.number);
    v["role_name"] = json!(u.role.name());
    v["use_pmi"] = json!(false);
    v["login_types"] = json!([100]);
    v["cluster"] = json!("us06");
    v["phone_number"] = json!("");
    v["vanity_url"] = json!("");
    if !pending {
        v["personal_meeting_url"] = json!(format!("https://zoom.us/j/{}", u.pmi));
        v["jid"] = json!(format!("{}@xmpp.zoom.us", u.id.to_ascii_lowercase()));
    }
    v
}

/// `GET /users/{userId}` (id, email or `me`).
pub(super) async fn get_user(call: Call) -> Result<Response, ApiError> {
    let target = call.user(&GET)?;
    let user = target.load(&call.state.tenant)?;
    Ok(ok(&full_user(target.account, &user)))
}

#[derive(serde::Deserialize)]
struct StatusBody {
    action: String,
}

/// `PUT /users/{userId}/status` with `{"action":"activate"|"deactivate"}` → 200 with an empty
/// body (spec26 documents 200; older Zoom answered 204 — clients accept any 2xx).
/// Owners and admins: 400 code 200 (as Zoom: "Zoom Room and Admin users' status cannot be
/// activated or deactivated."); pending users: 400 code 1000.
pub(super) async fn status(call: Call, body: Bytes) -> Result<Response, ApiError> {
    let tenant = &call.state.tenant;
    let target = call.user(&STATUS)?;
    let ((ai, ui), user_param) = (target.at, target.param);
    let req: StatusBody = serde_json::from_slice(&body).map_err(|_| validation_failed("action"))?;
    let active = match req.action.as_str() {
        "activate" => true,
        "deactivate" => false,
        "clock_in" | "clock_out" => return Ok(StatusCode::OK.into_response()),
        _ => return Err(validation_failed("action")),
    };
    match tenant.set_status(ai, ui, active) {
        Ok(changed) => {
            tracing::info!(account = %target.account.id, user = user_param, active, changed, "user status");
            Ok(StatusCode::OK.into_response())
        }
        Err(e) => Err(mutation_error(e, user_param)),
    }
}

fn mutation_error(e: TenantError, user: &str) -> ApiError {
    match e {
        TenantError::UserNotFound => ApiError::user_not_found(user),
        TenantError::PrivilegedUser => ApiError::new(
            StatusCode::BAD_REQUEST,
            200,
            "Zoom Room and Admin users' status cannot be activated or deactivated.",
        ),
        TenantError::PendingUser => ApiError::new(
            StatusCode::BAD_REQUEST,
            1000,
            format!("User does not exist or the user status is pending: {user}."),
        ),
        TenantError::NoSeatsLeft => ApiError::new(
            StatusCode::BAD_REQUEST,
            2034,
            "Your request was not accepted because the account has reached the maximum number of paid users.",
        ),
        TenantError::Invalid(what) => invalid_field(&what),
    }
}

/// `PATCH /users/{userId}` → 204. Only `type` changes anything (1, 2 or 4); `type` together
/// with `plan_united_type` or `zoom_one_type` is 400 code 300, as Zoom. Other profile fields are
/// accepted and ignored. Owners/admins cannot lose their licence (400 code 200).
pub(super) async fn update(call: Call, body: Bytes) -> Result<Response, ApiError> {
    let tenant = &call.state.tenant;
    let target = call.user(&UPDATE)?;
    let ((ai, ui), user_param) = (target.at, target.param);
    let not_an_object =
        || ApiError::invalid_parameter("Request Body should be a valid JSON object.");
    let v: Value = serde_json::from_slice(&body).map_err(|_| not_an_object())?;
    let Some(obj) = v.as_object() else {
        return Err(not_an_object());
    };
    if let Some(t) = obj.get("type") {
        if obj.contains_key("plan_united_type") || obj.contains_key("zoom_one_type") {
            return Err(ApiError::invalid_parameter(
                "You cannot update type together with plan_united_type or zoom_one_type.",
            ));
        }
        let t = t.as_i64().ok_or_else(|| validation_failed("type"))?;
        match tenant.set_type(ai, ui, t) {
            Ok(changed) => {
                tracing::info!(account = %target.account.id, user = user_param, user_type = t, changed, "user type");
            }
            Err(TenantError::PrivilegedUser) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    200,
                    format!("Admin users cannot be changed to this user type: {user_param}."),
                ));
            }
            Err(e) => return Err(mutation_error(e, user_param)),
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
