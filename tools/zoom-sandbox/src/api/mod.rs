//! The `/v2` REST endpoints. (Owner: tenant/api side.)
//!
//! Every route sits behind the gate (`crate::gate::gate`, as a route layer), which authenticates
//! the bearer token and puts the [`Caller`](crate::auth::Caller) into request extensions.
//! Handlers are thin: resolve the target account and user, check the scope, ask the
//! [`crate::tenant::Tenant`], shape Zoom's JSON.
//!
//! Both forms are served: the caller's own form (`/users`, `/report/users`, …) and the master
//! form (`/accounts/{accountId}/users`, …), with `me` accepted as `accountId` and `userId`.
//!
//! Access rules (see `common::resolve_account`):
//! - own account (un-prefixed path, `me`, or the caller's own id): the `…:admin` scopes (or the
//!   `…:master` ones on the prefixed form);
//! - another account: the `…:master` scopes, then the caller must be the master account
//!   (otherwise 400 code 200 `No permission.`, which is what Zoom answers when an account without
//!   the master-account feature calls a master API), then the account must be one of its sub
//!   accounts (otherwise 404 code 2001 `Account does not exist: {id}.`).
//!
//! Pagination: `page_size` defaults to 30 and is capped at 300 (Zoom's Pagination page and the
//! older spec say 300; spec26 says 2000 for users, so clients must trust the returned
//! `page_size`, which the sandbox reports as the effective value). `next_page_token` is an opaque
//! string bound to the query it came from; it expires 15 minutes after it was issued (sandbox
//! clock), giving 400 code 300 `The next page token is invalid or expired.`

// `ApiError` (the shared Zoom error, with its headers) is large; it is the rare path of a test
// server and is turned into a response at once, so boxing it buys nothing here.
#![allow(clippy::result_large_err)]

mod accounts;
mod common;
mod meetings;
mod paging;
mod reports;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::routing::{MethodRouter, get, put};

pub use crate::ratelimit::endpoint_category;
use crate::state::SandboxState;

pub fn router(state: Arc<SandboxState>) -> Router<Arc<SandboxState>> {
    // Endpoints served in one form only.
    let one_form = Router::new()
        .route("/accounts", get(accounts::list_sub_accounts))
        .route("/accounts/{accountId}", get(accounts::get_account))
        .route("/accounts/{accountId}/plans", get(accounts::plans))
        .route(
            "/accounts/{accountId}/plans/usage",
            get(accounts::plan_usage),
        )
        .route("/meetings/{meetingId}", get(meetings::get_meeting));
    // Endpoints served in both forms: `path` for the caller's own account and
    // `/accounts/{accountId}{path}`.
    let both_forms: [(&str, MethodRouter<Arc<SandboxState>>); 10] = [
        ("/users/summary", get(users::summary)),
        ("/users", get(users::list)),
        ("/users/{userId}", get(users::get_user).patch(users::update)),
        ("/users/{userId}/status", put(users::status)),
        ("/users/{userId}/meetings", get(meetings::list)),
        ("/past_meetings/{*rest}", get(meetings::past_meetings)),
        ("/report/users", get(reports::users)),
        (
            "/report/users/{userId}/meetings",
            get(reports::user_meetings),
        ),
        (
            "/report/meetings/{*rest}",
            get(reports::meeting_participants),
        ),
        ("/report/activities", get(reports::activities)),
    ];
    both_forms
        .into_iter()
        .fold(one_form, |router, (path, handlers)| {
            router
                .route(path, handlers.clone())
                .route(&format!("/accounts/{{accountId}}{path}"), handlers)
        })
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::gate::gate,
        ))
}
