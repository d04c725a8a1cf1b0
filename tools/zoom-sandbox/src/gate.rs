//! The gate every `/v2` request passes before its handler, in this order:
//! 1. injected latency (faults);
//! 2. the bearer token: `Authorization: Bearer …` only — missing, unknown, expired or revoked
//!    tokens, and any `access_token` query parameter, get 401 `{"code":124,…}`;
//! 3. injected faults that refuse the request (5xx, timeout, dropped connection, 429);
//! 4. rate limits on the budget account for the endpoint's category
//!    (`crate::ratelimit::endpoint_category`): 429 with Zoom's body and `Retry-After`, and the
//!    `X-RateLimit-*` headers on every categorized response;
//! 5. the handler, with the [`Caller`] in request extensions;
//! 6. a lost answer, if the request drew one (`lost`): whatever steps 4-5 answered (the change is
//!    made) is replaced with a dropped connection, a 502 page or a hold then 504;
//!
//! and records request statistics. `x-zm-trackingid` is added to every response by the
//! sandbox-wide layer in `lib.rs`.

use std::sync::Arc;

use axum::extract::{MatchedPath, OriginalUri, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::config::BudgetMode;
use crate::error::ApiError;
use crate::faults::{self, Fault, LostAnswer, Target};
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
    let began = std::time::Instant::now();
    // The full path: inside the nested `/v2` router the request's own URI lacks the prefix.
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let target = Target {
        method: method.as_str(),
        path: &path,
        template: (template != UNMATCHED).then_some(template.as_str()),
    };
    let fault = decide_fault(&state, &target).await;
    let answer = admit(&state, request, next, category, fault, &template).await;
    // Counted before a hold: a client that gave up has been served as far as it knows.
    state
        .stats
        .record_request(method.as_str(), &template, category, answer.status_code());
    let response = answer.deliver(&state).await;
    state.stats.record_served(|| crate::stats::Served {
        method: method.as_str().to_owned(),
        path,
        category,
        began,
        ended: std::time::Instant::now(),
    });
    drop(in_flight);
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
    request: Request,
    next: Next,
    category: Option<Category>,
    fault: Option<Fault>,
    template: &str,
) -> Injected {
    if token_in_query(&request) {
        return Injected::answer(ApiError::invalid_token().into_response());
    }
    let Some(caller) =
        bearer(&request).and_then(|t| state.oauth.authenticate(t, state.clock.now()))
    else {
        return Injected::answer(ApiError::invalid_token().into_response());
    };

    match fault {
        None => Injected::answer(serve(state, request, next, category, caller).await),
        // Carried out (rate limit, handler: the change is made), then the answer is lost.
        Some(Fault::Lost(lost)) => {
            let method = request.method().clone();
            drop(serve(state, request, next, category, caller).await);
            lose_answer(state, lost, method.as_str(), template)
        }
        Some(fault) => {
            let mut injected = apply_fault(state, fault);
            if let Some(c) = category
                && injected.status_code() == Some(429)
                && let Ok(v) = HeaderValue::from_str(c.header_name())
            {
                injected
                    .response
                    .headers_mut()
                    .insert("x-ratelimit-category", v);
            }
            injected
        }
    }
}

/// Rate limit, then the handler.
async fn serve(
    state: &SandboxState,
    mut request: Request,
    next: Next,
    category: Option<Category>,
    caller: Caller,
) -> Response {
    let mut decision = None;
    let config = state.rate_limiter.config();
    let apply_headers = |response: &mut Response, d: &Decision| {
        if config.limit_headers {
            apply_headers(response, d);
        }
    };
    if let Some(category) = category {
        let mode = config.budget;
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
                return response;
            }
            decision = Some(d);
        }
    }

    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    if let Some(d) = &decision {
        apply_headers(&mut response, d);
    }
    response
}

/// A response to send, possibly an injected fault's: record its statistics
/// ([`Injected::status_code`]), then [`Injected::deliver`] it (a timeout is held there).
pub struct Injected {
    pub response: Response,
    dropped: bool,
    /// Held this long before it is sent (a timeout).
    hold_ms: Option<u64>,
}

impl Injected {
    /// A response sent as it is.
    pub fn answer(response: Response) -> Self {
        Self {
            response,
            dropped: false,
            hold_ms: None,
        }
    }

    /// The HTTP status the client sees (`None` for a dropped connection).
    pub fn status_code(&self) -> Option<u16> {
        (!self.dropped).then(|| self.response.status().as_u16())
    }

    /// The response, after the hold of a timeout (cut short when the sandbox shuts down).
    pub async fn deliver(self, state: &SandboxState) -> Response {
        if let Some(ms) = self.hold_ms {
            state.faults.hold(ms).await;
        }
        self.response
    }
}

/// The fault stage for one request: sleep the injected latency and draw the request's fault,
/// if any. The gate decides before checking the token and applies a refusing fault after it
/// ([`apply_fault`]), a lost answer after the handler ([`lose_answer`]); the token endpoint
/// does the same when [`crate::faults::Faults::applies_to_oauth`].
pub async fn decide_fault(state: &SandboxState, target: &Target<'_>) -> Option<Fault> {
    let (latency, fault) = state.faults.next(target);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    fault
}

/// A carried-out request's answer, lost: counted (`faults` by kind, `lost_answers` by
/// endpoint), then a dropped connection, a 502 page, or a hold then 504.
pub fn lose_answer(
    state: &SandboxState,
    lost: LostAnswer,
    method: &str,
    template: &str,
) -> Injected {
    state
        .stats
        .record_lost_answer(lost.kind(), method, template);
    tracing::debug!(
        fault = lost.kind(),
        method,
        endpoint = template,
        "losing the answer"
    );
    match lost {
        LostAnswer::Drop => dropped(),
        LostAnswer::BadGateway => Injected::answer(faults::status_response(502)),
        LostAnswer::Timeout { hold_ms } => held(hold_ms),
    }
}

fn dropped() -> Injected {
    Injected {
        dropped: true,
        ..Injected::answer(faults::dropped_response())
    }
}

/// Held for `hold_ms`, then the load balancer's 504.
fn held(hold_ms: u64) -> Injected {
    Injected {
        hold_ms: Some(hold_ms),
        ..Injected::answer(faults::status_response(504))
    }
}

/// Produce (and count) a refusing fault's response. A lost answer needs the handler's answer
/// first: see [`lose_answer`].
pub fn apply_fault(state: &SandboxState, fault: Fault) -> Injected {
    state.stats.record_fault(fault.kind());
    tracing::debug!(fault = fault.kind(), "injecting fault");
    match fault {
        Fault::Status(code) => Injected::answer(faults::status_response(code)),
        Fault::Timeout { hold_ms } => held(hold_ms),
        Fault::Drop => dropped(),
        Fault::TooManyRequests => {
            let mut r =
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, 429, QPS_MESSAGE).into_response();
            r.headers_mut()
                .insert("x-ratelimit-type", HeaderValue::from_static("QPS"));
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            Injected::answer(r)
        }
        // Not reached: callers pass a lost answer to `lose_answer` after the handler. Without
        // one, the answer is lost the same way.
        Fault::Lost(_) => Injected::answer(faults::status_response(502)),
    }
}
