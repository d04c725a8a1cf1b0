//! Ground truth for tests and benchmarks, computed from the same generator and overlay as the
//! API, under `/_sandbox/`. (Owner: tenant/api side.)
//!
//! - `GET /_sandbox/truth` — the whole tenant: accounts with their counts and, unless
//!   `?summary=true`, every user's expected facts. Streamed account by account, so big tenants
//!   do not have to fit in memory.
//! - `GET /_sandbox/truth/accounts/{accountId}` — one account (same shape; `?summary=true`).
//! - `POST /_sandbox/tenant/simulate-day?fraction=0.05` — advance activity: see
//!   [`Tenant::simulate_day`]; the simulated day happens at the sandbox clock's now.
//!
//! Per-user facts ([`UserTruth`]) — these rules are authoritative; test oracles follow them:
//! - `last_login_time`: as `GET /users` shows it now (absent if never logged in);
//! - `latest_meeting_created`: the latest of (a) the `created_at` of every meeting
//!   `GET /users/{userId}/meetings?type=scheduled` lists for the user (scheduled and recurring
//!   meetings, past and upcoming; one entry per recurring meeting) and (b) the start time of
//!   every ended instant meeting the user hosted (instant meetings are never listed; they
//!   show in `GET /report/users/{userId}/meetings`, and their `created_at` is their start);
//! - `latest_meeting_joined`: the latest `join_time` among all participant rows that carry the
//!   user's id (`id` field) in every *ended instance* hosted in any account of the user's
//!   organisation: for a tree account (master or sub) the master and every sub account — the
//!   user's own account, the master, sibling sub accounts; for the standalone account only
//!   itself. Instances: an instant or scheduled meeting's one instance, each ended occurrence
//!   of a recurring meeting. The host is a row of its own meetings; every join segment counts;
//!   rows from other accounts carry the id with an empty email and `internal_user: false` and
//!   still count; rows without an id never count; rows of tree meetings carrying the id of a
//!   standalone-account user (outside the organisation) do not count for that user. The truth
//!   of a single account is computed the same organisation-wide way (one cached pass over all
//!   accounts' meetings, see `Tenant::latest_joins`);
//! - `license`: the licence name the connector should record: the account's plan name for
//!   Licensed (2), `Basic` (1), `On-Prem` (3), `No Meeting License` (4), `None` (99) — by the
//!   type the user shows, whatever its status.
//!
//! Counts per account ([`CountsTruth`]) are by type and status, overlay included, and match
//! `GET /users/summary` and `GET /accounts/{id}/plans/usage`: `plan_usage` is the seats in use
//! by active Licensed users (a deactivated user holds no seat, even when it still shows type
//! 2: `licensed_inactive` counts those), `plan_pending` the pending Licensed users.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::state::SandboxState;
use crate::tenant::{Account, AccountKind, SimDay, Tenant, USER_TYPES, UserStatus};

pub fn router() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/_sandbox/truth", get(truth))
        .route("/_sandbox/truth/accounts/{accountId}", get(account_truth))
        .route("/_sandbox/tenant/simulate-day", post(simulate_day))
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TenantTruth {
    pub seed: u64,
    pub anchor: DateTime<Utc>,
    pub master_account_id: String,
    pub master_owner_user_id: String,
    pub standalone_account_id: String,
    pub standalone_owner_user_id: String,
    pub sim_days: Vec<SimDay>,
    pub accounts: Vec<AccountTruth>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccountTruth {
    pub id: String,
    pub name: String,
    /// `master`, `sub` or `standalone` (not part of the master's tree).
    pub kind: AccountKind,
    /// The master's id for sub accounts.
    pub parent_id: Option<String>,
    /// The plan / licence name (`account_type`): Business, Education, API Partner, …
    pub plan: String,
    pub plan_code: String,
    pub seats: u32,
    pub pay_mode: String,
    pub legacy_on_prem: bool,
    pub counts: CountsTruth,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserTruth>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatusCounts {
    pub active: u32,
    pub inactive: u32,
    pub pending: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CountsTruth {
    pub total: u32,
    pub active: u32,
    pub inactive: u32,
    pub pending: u32,
    /// Type 2, every status.
    pub licensed: u32,
    /// Type 1, every status.
    pub basic: u32,
    /// Type 3, every status.
    pub on_prem: u32,
    /// Type 4, every status.
    pub no_meeting_license: u32,
    /// Type 99, every status.
    pub none: u32,
    /// Keyed by the user type as a string ("1", "2", "3", "4", "99").
    pub by_type: BTreeMap<String, StatusCounts>,
    /// `plan_base.usage` of plan usage: Licensed (type 2) users that are active (deactivated
    /// users hold no seat).
    pub plan_usage: u32,
    /// `plan_base.pending`: Licensed users pending.
    pub plan_pending: u32,
    /// Type 2 users that are inactive: they show Licensed but hold no seat.
    pub licensed_inactive: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UserTruth {
    pub account_id: String,
    /// As the API shows it: absent for pending users.
    pub id: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(rename = "type")]
    pub user_type: i64,
    pub status: UserStatus,
    pub role_id: String,
    pub role_name: String,
    pub license: String,
    pub user_created_at: DateTime<Utc>,
    pub last_login_time: Option<DateTime<Utc>>,
    pub latest_meeting_created: Option<DateTime<Utc>>,
    pub latest_meeting_joined: Option<DateTime<Utc>>,
}

/// The licence name of a user type in an account.
pub fn license_name(account: &Account, user_type: i64) -> String {
    match user_type {
        2 => account.plan.account_type().to_string(),
        1 => "Basic".into(),
        3 => "On-Prem".into(),
        4 => "No Meeting License".into(),
        _ => "None".into(),
    }
}

impl Tenant {
    /// The ground truth of the whole tenant (with per-user rows unless `summary`). For big
    /// tenants prefer [`Tenant::truth_account`] and [`Tenant::truth_users`] per account.
    pub fn truth(&self, summary: bool) -> TenantTruth {
        TenantTruth {
            accounts: self
                .accounts()
                .iter()
                .map(|a| self.truth_account(a.index, !summary))
                .collect(),
            ..self.truth_header()
        }
    }

    fn truth_header(&self) -> TenantTruth {
        TenantTruth {
            seed: self.seed(),
            anchor: self.anchor(),
            master_account_id: self.master_account_id().to_string(),
            master_owner_user_id: self.master_owner_user_id(),
            standalone_account_id: self.standalone_account_id().to_string(),
            standalone_owner_user_id: self.standalone_owner_user_id(),
            sim_days: self.sim_days(),
            accounts: Vec::new(),
        }
    }

    /// One account's truth (with users when `with_users`).
    pub fn truth_account(&self, account: u32, with_users: bool) -> AccountTruth {
        let a = &self.accounts()[account as usize];
        let c = self.counts(account);
        let by_type = USER_TYPES
            .iter()
            .map(|t| {
                (
                    t.to_string(),
                    StatusCounts {
                        active: c.get(*t, UserStatus::Active),
                        inactive: c.get(*t, UserStatus::Inactive),
                        pending: c.get(*t, UserStatus::Pending),
                    },
                )
            })
            .collect();
        AccountTruth {
            id: a.id.clone(),
            name: a.name.clone(),
            kind: a.kind,
            parent_id: (a.kind == AccountKind::Sub).then(|| self.master_account_id().to_string()),
            plan: a.plan.account_type().to_string(),
            plan_code: a.plan.code().to_string(),
            seats: a.seats,
            pay_mode: a.pay_mode.to_string(),
            legacy_on_prem: a.legacy_on_prem,
            counts: CountsTruth {
                total: c.total(),
                active: c.of_status(UserStatus::Active),
                inactive: c.of_status(UserStatus::Inactive),
                pending: c.of_status(UserStatus::Pending),
                licensed: c.of_type(2),
                basic: c.of_type(1),
                on_prem: c.of_type(3),
                no_meeting_license: c.of_type(4),
                none: c.of_type(99),
                by_type,
                plan_usage: c.get(2, UserStatus::Active),
                plan_pending: c.get(2, UserStatus::Pending),
                licensed_inactive: c.get(2, UserStatus::Inactive),
            },
            users: with_users.then(|| self.truth_users(account).collect()),
        }
    }

    /// Every user's expected facts of one account, in listing order. The organisation-wide
    /// joins (for `latest_meeting_joined`) cost one pass over every account's meetings, cached
    /// until the tenant changes (8 bytes per user); then O(1) memory per user.
    pub fn truth_users(&self, account: u32) -> impl Iterator<Item = UserTruth> + '_ {
        let joins = self.join_table();
        let a = &self.accounts()[account as usize];
        (0..self.user_count(account)).filter_map(move |u| {
            let user = self.user(account, u)?;
            Some(UserTruth {
                account_id: a.id.clone(),
                id: (user.status != UserStatus::Pending).then(|| user.id.clone()),
                license: license_name(a, user.user_type),
                email: user.email,
                first_name: user.first_name,
                last_name: user.last_name,
                user_type: user.user_type,
                status: user.status,
                role_id: user.role.id().to_string(),
                role_name: user.role.name().to_string(),
                user_created_at: user.user_created_at,
                last_login_time: user.last_login_time,
                latest_meeting_created: self.latest_meeting_created(account, u),
                latest_meeting_joined: joins.get(account, u),
            })
        })
    }
}

#[derive(serde::Deserialize, Default)]
struct TruthQuery {
    #[serde(default)]
    summary: Option<String>,
}

fn is_true(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("true" | "1" | "yes" | ""))
}

fn json_response(body: Body) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// Streams `{"seed":…,…,"accounts":[{…,"users":[…]},…]}` chunk by chunk.
struct TruthStream {
    state: Arc<SandboxState>,
    summary: bool,
    header: Option<String>,
    account: u32,
    users: Option<std::vec::IntoIter<UserTruth>>,
    done: bool,
}

const USER_CHUNK: usize = 500;

impl Iterator for TruthStream {
    type Item = Result<Bytes, Infallible>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(h) = self.header.take() {
            return Some(Ok(Bytes::from(h)));
        }
        let tenant = &self.state.tenant;
        // Continue the current account's users.
        if let Some(users) = &mut self.users {
            let chunk: Vec<String> = users
                .by_ref()
                .take(USER_CHUNK)
                .filter_map(|u| serde_json::to_string(&u).ok())
                .collect();
            if !chunk.is_empty() {
                let mut s = chunk.join(",");
                if users.len() > 0 {
                    s.push(',');
                }
                return Some(Ok(Bytes::from(s)));
            }
            self.users = None;
            self.account += 1;
            return Some(Ok(Bytes::from_static(b"]}")));
        }
        let n = tenant.accounts().len() as u32;
        if self.account >= n {
            self.done = true;
            return Some(Ok(Bytes::from_static(b"]}")));
        }
        let sep = if self.account == 0 { "" } else { "," };
        let at = tenant.truth_account(self.account, false);
        let mut s = serde_json::to_string(&at).unwrap_or_else(|_| "{}".into());
        if self.summary {
            self.account += 1;
            return Some(Ok(Bytes::from(format!("{sep}{s}"))));
        }
        s.pop(); // the closing brace
        // One account's rows at a time (the meeting pass needs them together anyway).
        let users: Vec<UserTruth> = tenant.truth_users(self.account).collect();
        self.users = Some(users.into_iter());
        Some(Ok(Bytes::from(format!("{sep}{s},\"users\":["))))
    }
}

async fn truth(State(state): State<Arc<SandboxState>>, Query(q): Query<TruthQuery>) -> Response {
    let summary = is_true(&q.summary);
    let header = serde_json::to_string(&state.tenant.truth_header()).unwrap_or_default();
    // Reopen the header object's empty accounts array.
    let header = header
        .strip_suffix("\"accounts\":[]}")
        .map(|h| format!("{h}\"accounts\":["))
        .unwrap_or(header);
    let stream = TruthStream {
        state: state.clone(),
        summary,
        header: Some(header),
        account: 0,
        users: None,
        done: false,
    };
    json_response(Body::from_stream(futures::stream::iter(stream)))
}

async fn account_truth(
    State(state): State<Arc<SandboxState>>,
    Path(account_id): Path<String>,
    Query(q): Query<TruthQuery>,
) -> Response {
    let tenant = &state.tenant;
    let Some(a) = tenant.account_by_id(&account_id) else {
        return (StatusCode::NOT_FOUND, "unknown account").into_response();
    };
    let body = tenant.truth_account(a.index, !is_true(&q.summary));
    json_response(Body::from(serde_json::to_vec(&body).unwrap_or_default()))
}

#[derive(serde::Deserialize)]
struct SimulateQuery {
    fraction: Option<f64>,
}

#[derive(Serialize)]
struct SimulateResponse {
    day: u32,
    at: DateTime<Utc>,
    fraction: f64,
    active_users: u64,
}

async fn simulate_day(
    State(state): State<Arc<SandboxState>>,
    Query(q): Query<SimulateQuery>,
) -> Response {
    let fraction = q.fraction.unwrap_or(0.05);
    if !(0.0..=1.0).contains(&fraction) {
        return (StatusCode::BAD_REQUEST, "fraction must be within 0..=1").into_response();
    }
    let now = state.clock.now();
    let st = state.clone();
    let result = tokio::task::spawn_blocking(move || st.tenant.simulate_day(fraction, now)).await;
    match result {
        Ok((day, active_users)) => {
            tracing::info!(day = day.day, fraction, active_users, "simulated a day");
            json_response(Body::from(
                serde_json::to_vec(&SimulateResponse {
                    day: day.day,
                    at: day.at,
                    fraction,
                    active_users,
                })
                .unwrap_or_default(),
            ))
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
