//! Sub accounts, account details, plan information, plan usage.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::common::{Call, Params, Scopes, caller_account, no_permission, ok, scopes};
use super::paging::Page;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::SandboxState;
use crate::tenant::{Account, Plan, UserStatus, zoom_time};

scopes! {
    own: ["account:read:admin"], master: ["account:master", "account:read:master"] {
        ACCOUNT = "account:read:sub_account",
    }
    own: ["billing:read:admin"], master: ["billing:master"] {
        PLANS = "billing:read:plan_information",
    }
    own: ["billing:read:admin", "account:read:admin"], master: ["billing:master", "account:master"] {
        PLAN_USAGE = "billing:read:plan_usage",
    }
}

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
    let page = Page::parse(&state, &q, format!("accounts|{}", own.index))?;
    let subs = tenant.sub_accounts();
    let rows: Vec<Value> = page
        .of(subs)
        .map(|a| sub_account_row(a, owner_email(&state, a)))
        .collect();
    let mut body = page.info(&state, subs.len() as u64).into_value();
    body["accounts"] = Value::Array(rows);
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
pub(super) async fn get_account(call: Call) -> Result<Response, ApiError> {
    let state = &call.state;
    let a = call.account(&ACCOUNT)?;
    let owner = state.tenant.user(a.index, 0);
    Ok(ok(&json!({
        "id": a.id,
        "account_name": a.name,
        "account_number": a.number,
        "account_type": a.plan.account_type(),
        "owner_id": owner.as_ref().map(|u| u.id.clone()).unwrap_or_default(),
        "owner_email": owner_email(state, a),
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

/// The account of a billing endpoint: 400 code 2100 when the master asks for billing data of a
/// sub account that pays its own bill.
fn billed_account<'c>(call: &'c Call, scopes: &Scopes) -> Result<&'c Account, ApiError> {
    let a = call.account(scopes)?;
    if a.pay_mode == "sub" && a.id != call.caller.account_id {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            2100,
            format!("Sub account is on self pay mode: {}.", a.id),
        ));
    }
    Ok(a)
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
pub(super) async fn plans(call: Call) -> Result<Response, ApiError> {
    let a = billed_account(&call, &PLANS)?;
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
pub(super) async fn plan_usage(call: Call) -> Result<Response, ApiError> {
    let a = billed_account(&call, &PLAN_USAGE)?;
    let c = call.state.tenant.counts(a.index);
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
