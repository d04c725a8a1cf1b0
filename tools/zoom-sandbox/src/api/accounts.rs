//! Sub accounts, account details, plan information, plan usage.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::common::{
    PageInfo, Params, Scopes, caller_account, decode_token, no_permission, ok, page_size,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::SandboxState;
use crate::tenant::{Account, Plan, UserStatus, zoom_time};

const ACCOUNT: Scopes = Scopes {
    own: &["account:read:sub_account:admin", "account:read:admin"],
    master: &[
        "account:read:sub_account:master",
        "account:master",
        "account:read:master",
    ],
};

const PLANS: Scopes = Scopes {
    own: &["billing:read:plan_information:admin", "billing:read:admin"],
    master: &["billing:read:plan_information:master", "billing:master"],
};

const PLAN_USAGE: Scopes = Scopes {
    own: &[
        "billing:read:plan_usage:admin",
        "billing:read:admin",
        "account:read:admin",
    ],
    master: &[
        "billing:read:plan_usage:master",
        "billing:master",
        "account:master",
    ],
};

/// `GET /accounts`: the master's sub accounts. A caller that is not a master account gets
/// 400 code 200 `No permission.`.
pub(super) async fn list_sub_accounts(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    caller.require_scope(&[
        "account:read:list_sub_accounts:master",
        "account:master",
        "account:read:master",
        "account:write:master",
    ])?;
    let tenant = &state.tenant;
    let own = caller_account(tenant, &caller)?;
    if !own.is_master() {
        return Err(no_permission());
    }
    let size = page_size(&q)?;
    let key = format!("accounts|{}", own.index);
    let cursor = decode_token(&state, &key, &q)? as usize;
    let subs = tenant.sub_accounts();
    let page: Vec<Value> = subs
        .iter()
        .skip(cursor)
        .take(size)
        .map(|a| sub_account_row(a, owner_email(&state, a)))
        .collect();
    let next = (cursor + size < subs.len()).then_some((cursor + size) as u64);
    let info = PageInfo::new(&state, &key, size, subs.len() as u64, next);
    let mut body = serde_json::to_value(info).unwrap_or_default();
    body["accounts"] = Value::Array(page);
    Ok(ok(&body))
}

fn owner_email(state: &SandboxState, a: &Account) -> String {
    state
        .tenant
        .user(a.index, 0)
        .map(|u| u.email)
        .unwrap_or_default()
}

fn sub_account_row(a: &Account, owner_email: String) -> Value {
    json!({
        "id": a.id,
        "account_name": a.name,
        "owner_email": owner_email,
        "account_type": a.plan.account_type(),
        "seats": a.seats,
        "subscription_start_time": zoom_time(a.subscription_start),
        "subscription_end_time": zoom_time(a.subscription_end),
        "created_at": zoom_time(a.created_at),
        "account_number": a.number,
        "reseller": false,
        "bulk_license": a.plan == Plan::BulkLicense,
    })
}

/// `GET /accounts/{accountId}`.
pub(super) async fn get_account(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Path(p): Path<Params>,
) -> Result<Response, ApiError> {
    let a = super::common::resolve_account(
        &state.tenant,
        &caller,
        p.get("accountId").map(String::as_str),
        &ACCOUNT,
    )?;
    let owner = state.tenant.user(a.index, 0);
    Ok(ok(&json!({
        "id": a.id,
        "account_name": a.name,
        "account_number": a.number,
        "account_type": a.plan.account_type(),
        "owner_id": owner.as_ref().map(|u| u.id.clone()).unwrap_or_default(),
        "owner_email": owner_email(&state, a),
        "created_at": zoom_time(a.created_at),
        "seats": a.seats,
        "subscription_start_time": zoom_time(a.subscription_start),
        "subscription_end_time": zoom_time(a.subscription_end),
        "vanity_url": format!("https://{}.zoom.us", a.domain.split('.').next().unwrap_or("acct")),
        "reseller": false,
        "options": {
            "pay_mode": a.pay_mode,
            "billing_auto_renew": true,
            "share_rc": false,
            "share_mc": false,
            "room_connector_list": [],
            "meeting_connector_list": [],
        },
    })))
}

/// 400 code 2100: the master asked for billing data of a sub account that pays its own bill.
fn self_pay(a: &Account) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        2100,
        format!("Sub account is on self pay mode: {}.", a.id),
    )
}

fn plan_dates(a: &Account) -> (String, String) {
    let effective = a
        .subscription_start
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let next = a.subscription_end.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    (effective, next)
}

/// Large-meeting add-ons: Business and Enterprise accounts have a few.
fn large_meeting_hosts(a: &Account) -> Option<u32> {
    matches!(a.plan, Plan::Business | Plan::Enterprise).then(|| 1 + a.index % 3)
}

/// `GET /accounts/{accountId}/plans`: only for accounts whose bill the master pays (a sub in
/// self-pay mode: 400 code 2100, as Zoom's older spec documents).
pub(super) async fn plans(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Path(p): Path<Params>,
) -> Result<Response, ApiError> {
    let a = super::common::resolve_account(
        &state.tenant,
        &caller,
        p.get("accountId").map(String::as_str),
        &PLANS,
    )?;
    if a.pay_mode == "sub" && a.id != caller.account_id {
        return Err(self_pay(a));
    }
    let (effective, next) = plan_dates(a);
    let mut body = json!({
        "plan_base": {
            "type": a.plan.code(),
            "hosts": a.seats,
            "service_effective_date": effective,
            "next_invoice_date": next,
            "status": "active",
        },
        "plan_recording": "cmr_monthly_commitment_40",
        "plan_recording_service_effective_date": effective,
        "plan_recording_next_invoice_date": next,
        "plan_recording_status": "active",
    });
    if let Some(hosts) = large_meeting_hosts(a) {
        body["plan_large_meeting"] = json!([{
            "type": "large500_monthly",
            "hosts": hosts,
            "service_effective_date": effective,
            "next_invoice_date": next,
            "status": "active",
        }]);
    }
    Ok(ok(&body))
}

/// `GET /accounts/{accountId}/plans/usage`: `plan_base.usage` = seats in use by active
/// Licensed (type 2) users (a deactivated user holds no seat even when it still shows type 2,
/// REFERENCE §3.6), `plan_base.pending` = pending Licensed users, `hosts` = seats.
///
/// A sub account that pays its own bill (`pay_mode` "sub") asked by the master: 400 code 2100,
/// as for plan information (REFERENCE §3.3, spec21; §3.4 lists no such error for plan usage, so
/// this is the harsher plausible reading). The account itself, with `me`, gets its usage.
pub(super) async fn plan_usage(
    State(state): State<Arc<SandboxState>>,
    Extension(caller): Extension<Caller>,
    Path(p): Path<Params>,
) -> Result<Response, ApiError> {
    let a = super::common::resolve_account(
        &state.tenant,
        &caller,
        p.get("accountId").map(String::as_str),
        &PLAN_USAGE,
    )?;
    if a.pay_mode == "sub" && a.id != caller.account_id {
        return Err(self_pay(a));
    }
    let c = state.tenant.counts(a.index);
    let usage = c.get(2, UserStatus::Active);
    let mut body = json!({
        "plan_base": {
            "type": a.plan.code(),
            "hosts": a.seats,
            "usage": usage,
            "pending": c.get(2, UserStatus::Pending),
        },
        "plan_recording": {
            "type": "cmr_monthly_commitment_40",
            "free_storage": "5 GB",
            "free_storage_usage": format!("{:.1} GB", (a.index % 5) as f64 * 0.7),
            "plan_storage": "40 GB",
            "plan_storage_usage": format!("{:.1} GB", (a.index % 9) as f64 * 3.1),
            "plan_storage_exceed": "0",
            "max_exceed_date": "",
        },
    });
    if let Some(hosts) = large_meeting_hosts(a) {
        body["plan_large_meeting"] = json!([{
            "type": "large500_monthly",
            "hosts": hosts,
            "usage": hosts.min(1),
            "pending": 0,
        }]);
    }
    Ok(ok(&body))
}
