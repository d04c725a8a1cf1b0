//! The gate every `/v2` request passes before its handler, in this order:
//! 1. injected latency (faults);
//! 2. the bearer token: `Authorization: Bearer …` only — missing, unknown, expired or revoked
//!    tokens, and any `access_token` query parameter, get 401 `{"code":124,…}`;
//! 3. injected faults (5xx, timeout, dropped connection, 429);
//! 4. rate limits on the budget account for the endpoint's category
//!    (`crate::ratelimit::endpoint_category`): 429 with Zoom's body and `Retry-After`, and the
//!    `X-RateLimit-*` headers on every categorized response;
//! 5. the handler, with the [`Caller`] in request extensions;
//!
//! and records request statistics. `x-zm-trackingid` is added to every response by the
//! sandbox-wide layer in `lib.rs`.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::config::BudgetMode;
use crate::error::ApiError;
use crate::faults::{self, Fault};
use crate::ratelimit::{Category, Decision, QPS_MESSAGE};
use crate::state::SandboxState;

/// Statistics key for requests that matched no route.
pub const UNMATCHED: &str = "(unmatched)";

pub async fn gate(
    State(state): State<Arc<SandboxState>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| UNMATCHED.to_owned());
    let category = category_of(&method, &template);
    let in_flight = state.stats.begin_request();
    let (response, status) = admit(&state, request, next, category).await;
    drop(in_flight);
    state
        .stats
        .record_request(method.as_str(), &template, category, status);
    response
}

/// The rate-limit category of an endpoint (by its matched path template, e.g. `/v2/users`).
pub fn category_of(method: &Method, template: &str) -> Option<Category> {
    if template == UNMATCHED {
        return None;
    }
    crate::ratelimit::endpoint_category(method, template)
}

fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn token_in_query(request: &Request) -> bool {
    request.uri().query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .any(|(k, _)| k.eq_ignore_ascii_case("access_token"))
    })
}

/// The account whose budget a request draws on.
fn budget_account<'a>(mode: BudgetMode, caller: &'a Caller, path: &'a str) -> &'a str {
    if mode == BudgetMode::Target
        && let Some(rest) = path
            .strip_prefix("/v2/accounts/")
            .or_else(|| path.strip_prefix("/accounts/"))
    {
        let id = rest.split('/').next().unwrap_or_default();
        if !id.is_empty() && id != "me" {
            return id;
        }
    }
    &caller.account_id
}

fn apply_headers(response: &mut Response, decision: &Decision) {
    for (name, value) in decision.headers() {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
}

async fn admit(
    state: &SandboxState,
    mut request: Request,
    next: Next,
    category: Option<Category>,
) -> (Response, Option<u16>) {
    let fault = decide_fault(state).await;

    if token_in_query(&request) {
        return respond(ApiError::invalid_token().into_response());
    }
    let Some(caller) =
        bearer(&request).and_then(|t| state.oauth.authenticate(t, state.clock.now()))
    else {
        return respond(ApiError::invalid_token().into_response());
    };

    if let Some(fault) = fault {
        let injected = apply_fault(state, fault).await;
        let status = injected.status_code();
        let mut response = injected.response;
        if let Some(c) = category
            && status == Some(429)
            && let Ok(v) = HeaderValue::from_str(c.header_name())
        {
            response.headers_mut().insert("x-ratelimit-category", v);
        }
        return (response, status);
    }

    let mut decision = None;
    if let Some(category) = category {
        let mode = state.rate_limiter.config().budget;
        let account = budget_account(mode, &caller, request.uri().path());
        if let Some(d) = state
            .rate_limiter
            .check(account, category, state.clock.now())
        {
            if let Some(kind) = d.limited {
                state.stats.record_rate_limited(category, kind);
                tracing::debug!(
                    account_id = %account,
                    category = category.header_name(),
                    kind = kind.header_name(),
                    "rate limited"
                );
                let mut response =
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, 429, d.message()).into_response();
                apply_headers(&mut response, &d);
                return respond(response);
            }
            decision = Some(d);
        }
    }

    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    if let Some(d) = &decision {
        apply_headers(&mut response, d);
    }
    respond(response)
}

fn respond(response: Response) -> (Response, Option<u16>) {
    let status = response.status().as_u16();
    (response, Some(status))
}

/// An injected fault's response.
pub struct Injected {
    pub response: Response,
    dropped: bool,
}

impl Injected {
    /// The HTTP status the client sees (`None` for a dropped connection).
    pub fn status_code(&self) -> Option<u16> {
        (!self.dropped).then(|| self.response.status().as_u16())
    }
}

/// The fault stage for one request: sleep the injected latency, then return the fault's
/// response, if the request drew one. Used by the token endpoint (with `oauth=true`); the gate
/// decides before and applies after checking the token.
pub async fn inject_fault(state: &SandboxState) -> Option<Injected> {
    let fault = decide_fault(state).await?;
    Some(apply_fault(state, fault).await)
}

/// Sleep the injected latency and draw the request's fault, if any.
async fn decide_fault(state: &SandboxState) -> Option<Fault> {
    let (latency, fault) = state.faults.next();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    fault
}

/// Produce (and count) a fault's response.
async fn apply_fault(state: &SandboxState, fault: Fault) -> Injected {
    state.stats.record_fault(fault.kind());
    tracing::debug!(fault = fault.kind(), "injecting fault");
    let (response, dropped) = match fault {
        Fault::Status(code) => (faults::status_response(code), false),
        Fault::Timeout { hold_ms } => {
            state.faults.hold(hold_ms).await;
            (faults::status_response(504), false)
        }
        Fault::Drop => (faults::dropped_response(), true),
        Fault::TooManyRequests => {
            let mut r =
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, 429, QPS_MESSAGE).into_response();
            r.headers_mut()
                .insert("x-ratelimit-type", HeaderValue::from_static("QPS"));
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            (r, false)
        }
    };
    Injected { response, dropped }
}
