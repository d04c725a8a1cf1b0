//! The API client: token handling, pacing, retries and observability around every request.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::RngExt;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;

use crate::config::{ConfigError, ZoomConfig};
use crate::error::ZoomError;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::ratelimit::{Category, Denied, LimitHeaders, RateLimiter, RateProfile};
use crate::{AccessToken, TokenSource};

/// Retry behaviour for transient failures (5xx, timeouts, connection errors, 429).
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// First backoff ceiling; doubles per attempt (full jitter: the wait is uniform in 0..ceiling).
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
    /// Attempts per request for 5xx/transport failures (429 waits are bounded by the deadline).
    pub max_attempts: u32,
    /// Deadline used when the caller gave none: this long after the request started.
    pub default_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(8),
            max_attempts: 8,
            default_budget: Duration::from_secs(120),
        }
    }
}

/// What an endpoint is, for pacing and reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub method: Method,
    /// Template like `GET /accounts/{accountId}/users`.
    pub template: &'static str,
    pub category: Category,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Put,
    Patch,
}

impl Method {
    fn reqwest(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Put => reqwest::Method::PUT,
            Self::Patch => reqwest::Method::PATCH,
        }
    }
}

/// One API request (path relative to the `/v2` base).
#[derive(Clone, Debug)]
pub(crate) struct ApiRequest {
    pub endpoint: Endpoint,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
}

#[derive(Clone)]
pub(crate) struct Inner {
    pub config: ZoomConfig,
    pub http: reqwest::Client,
    pub tokens: Arc<dyn TokenSource>,
    pub limiter: Arc<RateLimiter>,
    pub budget: String,
    pub metrics: Arc<Metrics>,
    pub retry: RetryPolicy,
    pub page_size: u32,
}

/// Zoom REST client for one authorization (usually a master account's). Cheap to clone: clones
/// share the HTTP pool, token source, rate limiter and counters.
#[derive(Clone)]
pub struct ZoomClient {
    pub(crate) inner: Arc<Inner>,
    pub(crate) deadline: Option<Instant>,
}

impl std::fmt::Debug for ZoomClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoomClient")
            .field("api_base", &self.inner.config.api_base().as_str())
            .field("budget", &self.inner.budget)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// Builder for [`ZoomClient`].
pub struct ZoomClientBuilder {
    config: ZoomConfig,
    tokens: Arc<dyn TokenSource>,
    limiter: Option<Arc<RateLimiter>>,
    profile: RateProfile,
    budget: String,
    retry: RetryPolicy,
    page_size: u32,
    http: Option<reqwest::Client>,
}

impl ZoomClientBuilder {
    /// Plan profile for the client's own limiter (default Business). Ignored when a shared
    /// limiter is given with [`Self::rate_limiter`].
    pub fn rate_profile(mut self, profile: RateProfile) -> Self {
        self.profile = profile;
        self
    }

    /// Share a limiter with other clients that spend the same account's budget.
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Key of the account whose budget this client spends (e.g. the master account id or the
    /// connection id). Calls against sub accounts draw on the master's budget.
    pub fn budget_key(mut self, key: impl Into<String>) -> Self {
        self.budget = key.into();
        self
    }

    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Default `page_size` of listings (default 300, Zoom's maximum for most lists).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Use this reqwest client (built once per process) instead of a new one.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    pub fn build(self) -> Result<ZoomClient, ConfigError> {
        let http = match self.http {
            Some(http) => http,
            None => crate::tls::http_client_builder()
                .timeout(self.config.request_timeout())
                .connect_timeout(self.config.connect_timeout())
                .pool_idle_timeout(Duration::from_secs(60))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| ConfigError(format!("HTTP client: {e}")))?,
        };
        Ok(ZoomClient {
            inner: Arc::new(Inner {
                config: self.config,
                http,
                tokens: self.tokens,
                limiter: self
                    .limiter
                    .unwrap_or_else(|| RateLimiter::new(self.profile)),
                budget: self.budget,
                metrics: Arc::new(Metrics::default()),
                retry: self.retry,
                page_size: self.page_size,
            }),
            deadline: None,
        })
    }
}

/// Zoom's `{"code", "message"}` error body.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
}

impl ErrorBody {
    fn parse(bytes: &[u8]) -> Self {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    fn code(&self) -> Option<i64> {
        match &self.code {
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        }
    }
}

/// A successful answer: its body and Zoom's `x-zm-trackingid` (kept for audits).
pub(crate) struct Answer {
    pub body: Vec<u8>,
    pub tracking_id: Option<String>,
}

enum Outcome {
    Done(Answer),
    /// Retry after the backoff.
    Backoff(ZoomError),
    /// Retry after this wait (429).
    Wait(Duration, ZoomError),
    /// Retry at once with a replaced token.
    Reauth(ZoomError),
    Fail(ZoomError),
}

impl ZoomClient {
    pub fn builder(config: ZoomConfig, tokens: Arc<dyn TokenSource>) -> ZoomClientBuilder {
        ZoomClientBuilder {
            config,
            tokens,
            limiter: None,
            profile: RateProfile::business(),
            budget: "default".into(),
            retry: RetryPolicy::default(),
            page_size: 300,
            http: None,
        }
    }

    /// A clone whose requests (retries and limiter waits included) end by `deadline`, e.g. a
    /// Lambda's remaining time minus a safety margin.
    pub fn with_deadline(&self, deadline: impl Into<Instant>) -> Self {
        Self {
            inner: self.inner.clone(),
            deadline: Some(deadline.into()),
        }
    }

    /// A clone with counters of its own (since now), e.g. one unit's requests while other
    /// units use the same client; its requests still count in this client's counters too.
    pub fn with_own_counters(&self) -> Self {
        Self {
            inner: Arc::new(Inner {
                metrics: Arc::new(Metrics::within(self.inner.metrics.clone())),
                ..(*self.inner).clone()
            }),
            deadline: self.deadline,
        }
    }

    /// Counters since the client was built (shared by all clones, see
    /// [`Self::with_own_counters`]).
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot()
    }

    pub fn rate_limiter(&self) -> &Arc<RateLimiter> {
        &self.inner.limiter
    }

    /// The budget key this client spends (its limiter's buckets are keyed by it).
    pub fn budget(&self) -> &str {
        &self.inner.budget
    }

    pub fn config(&self) -> &ZoomConfig {
        &self.inner.config
    }

    pub(crate) fn page_size(&self) -> u32 {
        self.inner.page_size
    }

    pub(crate) fn note_page_restart(&self) {
        self.inner.metrics.page_restart();
    }

    /// Send `req` and decode a JSON response body into `T` (errors name the JSON path).
    pub(crate) async fn json<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T, ZoomError> {
        let endpoint = req.endpoint.template;
        let answer = self.execute(req).await?;
        decode(endpoint, &answer.body)
    }

    /// Send `req`, retrying as the policy allows; the successful answer.
    pub(crate) async fn execute(&self, req: ApiRequest) -> Result<Answer, ZoomError> {
        let inner = &self.inner;
        let ep = req.endpoint;
        let deadline = self
            .deadline
            .unwrap_or_else(|| Instant::now() + inner.retry.default_budget);
        let mut attempt: u32 = 0;
        let mut failures: u32 = 0;
        let mut reauthed = false;
        let mut daily_waits: u32 = 0;
        let mut last: Option<ZoomError> = None;
        loop {
            attempt += 1;
            // Pace: one slot of the (budget, category) bucket.
            let slot = match inner.limiter.reserve(&inner.budget, ep.category) {
                Ok(slot) => slot,
                Err(Denied::DailyLimit(reset_at)) => {
                    if let Some(wait) = daily_reset_wait(reset_at, deadline, &mut daily_waits) {
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ZoomError::DailyLimit {
                        endpoint: ep.template,
                        category: ep.category,
                        reset_at,
                        tracking_id: None,
                    });
                }
            };
            if slot > deadline {
                return Err(deadline_error(ep, attempt - 1, last));
            }
            tokio::time::sleep_until(slot).await;
            if inner.limiter.paused(&inner.budget, ep.category) {
                // A 429 came while this request waited for its slot: the bucket is empty, so
                // take a slot after the pause instead (not an attempt: nothing was sent).
                attempt -= 1;
                continue;
            }

            // The token source sees the caller's own deadline (none: the default budget only
            // bounds this request), so that it does not start a refresh it may not finish.
            let requested = inner.tokens.access_token(self.deadline);
            let token = match tokio::time::timeout_at(deadline, requested).await {
                Ok(Ok(token)) => Ok(token),
                Ok(Err(e)) if e.is_out_of_time() => {
                    return Err(deadline_error(ep, attempt - 1, Some(ZoomError::Token(e))));
                }
                // The token endpoint failed for now (5xx, network): retried with the backoff of
                // a 5xx, within the attempts, or the whole call would fail on one hiccup.
                Ok(Err(e)) if e.is_retryable() => Err(e),
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => {
                    let waited = ZoomError::Token(crate::TokenError::Transient {
                        reason: "timed out waiting for an access token".into(),
                    });
                    return Err(deadline_error(
                        ep,
                        attempt - 1,
                        Some(last.unwrap_or(waited)),
                    ));
                }
            };
            let (token, outcome) = match token {
                Ok(token) => {
                    let outcome = self.attempt(&req, &token, attempt, deadline).await;
                    (Some(token), outcome)
                }
                Err(e) => (None, Outcome::Backoff(ZoomError::Token(e))),
            };
            match outcome {
                Outcome::Done(answer) => return Ok(answer),
                Outcome::Fail(e) => {
                    if let ZoomError::DailyLimit { reset_at, .. } = &e
                        && let Some(wait) = daily_reset_wait(*reset_at, deadline, &mut daily_waits)
                    {
                        tracing::info!(
                            endpoint = ep.template,
                            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                            "Zoom's daily limit resets before the deadline; waiting for it"
                        );
                        tokio::time::sleep(wait).await;
                        last = Some(e);
                        continue;
                    }
                    return Err(e);
                }
                Outcome::Reauth(e) => {
                    let Some(token) = token.as_ref().filter(|_| !reauthed) else {
                        return Err(e);
                    };
                    reauthed = true;
                    inner.metrics.token_rejected();
                    match inner.tokens.token_rejected(token, self.deadline).await {
                        Ok(_) => {}
                        Err(t) if t.is_out_of_time() => {
                            return Err(deadline_error(ep, attempt, Some(ZoomError::Token(t))));
                        }
                        Err(t) => return Err(t.into()),
                    }
                    last = Some(e);
                }
                Outcome::Wait(wait, e) => {
                    let until = Instant::now() + wait;
                    inner.limiter.pause_until(&inner.budget, ep.category, until);
                    if until > deadline {
                        return Err(deadline_error(ep, attempt, Some(e)));
                    }
                    inner.metrics.retry();
                    last = Some(e);
                    // The limiter holds every request of the category until `until`.
                }
                Outcome::Backoff(e) => {
                    failures += 1;
                    if failures >= inner.retry.max_attempts {
                        return Err(e);
                    }
                    let ceiling = inner
                        .retry
                        .base_delay
                        .saturating_mul(1u32 << (failures - 1).min(20))
                        .min(inner.retry.max_delay);
                    let delay = Duration::from_secs_f64(
                        rand::rng().random_range(0.0..=ceiling.as_secs_f64()),
                    );
                    if Instant::now() + delay > deadline {
                        return Err(deadline_error(ep, attempt, Some(e)));
                    }
                    tracing::debug!(endpoint = ep.template, attempt, delay_ms = delay.as_millis() as u64, error = %e, "retrying Zoom request");
                    inner.metrics.retry();
                    tokio::time::sleep(delay).await;
                    last = Some(e);
                }
            }
        }
    }

    async fn attempt(
        &self,
        req: &ApiRequest,
        token: &AccessToken,
        attempt: u32,
        deadline: Instant,
    ) -> Outcome {
        let inner = &self.inner;
        let ep = req.endpoint;
        let span = tracing::info_span!(
            "zoom.request",
            endpoint = ep.template,
            category = ep.category.as_str(),
            attempt,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
            tracking_id = tracing::field::Empty,
        );
        async {
            let base = inner.config.effective_api_base(token.api_url.as_deref());
            let url = format!("{base}{}", req.path);
            let remaining = deadline.saturating_duration_since(Instant::now());
            let timeout = inner
                .config
                .request_timeout()
                .min(remaining.max(Duration::from_millis(50)));
            let mut builder = inner
                .http
                .request(ep.method.reqwest(), url)
                .bearer_auth(token.token.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(timeout);
            if !req.query.is_empty() {
                builder = builder.query(&req.query);
            }
            if let Some(body) = &req.body {
                builder = builder.json(body);
            }
            inner.metrics.request(ep.template, ep.category);
            let started = std::time::Instant::now();
            let result = builder.send().await;
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    inner.metrics.transport_error();
                    let err = ZoomError::transport(ep.template, &e);
                    span.record("latency_ms", started.elapsed().as_millis() as u64);
                    tracing::debug!(error = %err, "Zoom request failed in transport");
                    return Outcome::Backoff(err);
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let tracking_id = headers
                .get("x-zm-trackingid")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = response.bytes().await;
            let latency = started.elapsed().as_millis() as u64;
            span.record("status", status);
            span.record("latency_ms", latency);
            if let Some(t) = &tracking_id {
                span.record("tracking_id", t.as_str());
            }
            let body = match body {
                Ok(b) => b.to_vec(),
                Err(e) => {
                    inner.metrics.transport_error();
                    let err = ZoomError::transport(ep.template, &e);
                    tracing::debug!(error = %err, "Zoom response body failed");
                    return Outcome::Backoff(err);
                }
            };
            tracing::debug!(status, latency_ms = latency, "Zoom request done");
            let category = headers
                .get("x-ratelimit-category")
                .and_then(|v| v.to_str().ok())
                .and_then(Category::from_header)
                .unwrap_or(ep.category);
            if (200..300).contains(&status) {
                inner
                    .limiter
                    .record_success(&inner.budget, category, limit_headers(&headers));
                return Outcome::Done(Answer { body, tracking_id });
            }
            let parsed = ErrorBody::parse(&body);
            let code = parsed.code();
            let message = parsed
                .message
                .as_deref()
                .map(|m| crate::error::strip_urls(&m.chars().take(300).collect::<String>()))
                .unwrap_or_else(|| http_reason(status));
            let api_error = ZoomError::Api {
                endpoint: ep.template,
                status,
                code,
                message: message.clone(),
                tracking_id: tracking_id.clone(),
            };
            match status {
                429 => {
                    inner.metrics.rate_limited();
                    let retry_after = parse_retry_after(&headers, Utc::now());
                    if is_daily_limit(&headers, &message) {
                        inner.metrics.daily_limit();
                        let reset_at = retry_after.unwrap_or_else(|| next_utc_midnight(Utc::now()));
                        inner.limiter.block_until(&inner.budget, category, reset_at);
                        tracing::warn!(%reset_at, "Zoom daily rate limit reached");
                        return Outcome::Fail(ZoomError::DailyLimit {
                            endpoint: ep.template,
                            category,
                            reset_at,
                            tracking_id,
                        });
                    }
                    inner.limiter.record_rate_limited(&inner.budget, category);
                    let wait = retry_after
                        .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                        .unwrap_or_else(|| {
                            Duration::from_millis(1000 + rand::rng().random_range(0..250))
                        })
                        .max(Duration::from_millis(50));
                    tracing::warn!(
                        wait_ms = wait.as_millis() as u64,
                        "Zoom answered 429; waiting"
                    );
                    Outcome::Wait(
                        wait,
                        ZoomError::RateLimited {
                            endpoint: ep.template,
                            category,
                            retry_after,
                            tracking_id,
                        },
                    )
                }
                401 if !matches!(code, Some(4700 | 4711)) => Outcome::Reauth(api_error),
                _ if code == Some(124) => Outcome::Reauth(api_error),
                500..=599 => {
                    inner.metrics.server_error();
                    Outcome::Backoff(api_error)
                }
                _ => Outcome::Fail(api_error),
            }
        }
        .instrument(span.clone())
        .await
    }
}

/// Waits for a daily limit's reset per request, at most (a server that keeps announcing a
/// reset that does not come is then believed).
const MAX_DAILY_WAITS: u32 = 2;
/// Added to the wait for a daily reset: the server's day must have turned.
const DAILY_RESET_SLACK: Duration = Duration::from_millis(200);

/// How long to wait for a daily quota that resets at `reset_at`, if that is before `deadline`:
/// Zoom's daily limits reset at 00:00 UTC, so a unit that meets one shortly before goes on
/// after midnight instead of failing until the next day's schedule.
fn daily_reset_wait(
    reset_at: DateTime<Utc>,
    deadline: Instant,
    waits: &mut u32,
) -> Option<Duration> {
    if *waits >= MAX_DAILY_WAITS {
        return None;
    }
    let wait = (reset_at - Utc::now()).to_std().unwrap_or(Duration::ZERO) + DAILY_RESET_SLACK;
    (Instant::now() + wait <= deadline).then(|| {
        *waits += 1;
        wait
    })
}

fn deadline_error(ep: Endpoint, attempts: u32, last: Option<ZoomError>) -> ZoomError {
    let last = last.unwrap_or(ZoomError::Invalid(
        "the deadline had already passed".to_string(),
    ));
    ZoomError::DeadlineExceeded {
        endpoint: ep.template,
        attempts,
        last: Box::new(last),
    }
}

fn http_reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("unexpected status")
        .to_string()
}

pub(crate) fn decode<T: DeserializeOwned>(
    endpoint: &'static str,
    bytes: &[u8],
) -> Result<T, ZoomError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ZoomError::Decode {
            endpoint,
            path,
            // serde_json's messages name the type and position, never echo string values
            // except for unknown variants; cap the length anyway.
            message: inner.to_string().chars().take(200).collect(),
        }
    })
}

/// `X-RateLimit-Type`, `-Limit` and `-Remaining`, when Zoom sends them (REFERENCE §8:
/// documented once, to be treated as optional).
fn limit_headers(headers: &HeaderMap) -> Option<LimitHeaders> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let kind = get("x-ratelimit-type")?.to_ascii_lowercase();
    let daily = match kind.as_str() {
        "qps" => false,
        k if k.contains("daily") => true,
        _ => return None,
    };
    Some(LimitHeaders {
        daily,
        limit: get("x-ratelimit-limit")?.parse().ok()?,
        remaining: get("x-ratelimit-remaining")?.parse().ok()?,
    })
}

fn is_daily_limit(headers: &HeaderMap, message: &str) -> bool {
    let by_header = headers
        .get("x-ratelimit-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("daily"));
    by_header || message.to_ascii_lowercase().contains("daily rate limit")
}

/// `Retry-After` as delta-seconds, an HTTP date or an ISO 8601 date-time (UTC if no offset).
pub(crate) fn parse_retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(now + chrono::Duration::seconds(secs.min(7 * 86_400) as i64));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(now + chrono::Duration::milliseconds((secs.min(604_800.0) * 1000.0) as i64));
    }
    let at = match DateTime::parse_from_rfc2822(value) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => crate::models::parse_time(value)?,
    };
    // An absolute time is on the server's clock: read it against the answer's `Date` so that a
    // difference between the two clocks does not change the wait. `Date` has whole seconds: a
    // difference under two seconds is below what it can show and is left alone.
    let skew = headers
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v.trim()).ok())
        .map(|server_now| now - server_now.with_timezone(&Utc))
        .filter(|skew| skew.abs() >= chrono::Duration::seconds(2));
    Some(at + skew.unwrap_or_else(chrono::Duration::zero))
}

pub(crate) fn next_utc_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now.date_naive() + chrono::Days::new(1);
    tomorrow.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn limit_headers_of_either_kind() {
        let of = |kind: &str, limit: &str, remaining: &str| {
            let mut h = HeaderMap::new();
            for (name, v) in [
                ("x-ratelimit-type", kind),
                ("x-ratelimit-limit", limit),
                ("x-ratelimit-remaining", remaining),
            ] {
                h.insert(name, HeaderValue::from_str(v).unwrap());
            }
            limit_headers(&h)
        };
        let headers = |daily, limit, remaining| {
            Some(LimitHeaders {
                daily,
                limit,
                remaining,
            })
        };
        assert_eq!(of("QPS", "30", "29"), headers(false, 30, 29));
        assert_eq!(of("Daily-limit", "60000", "12"), headers(true, 60_000, 12));
        assert_eq!(of(" daily-limit ", "10", "0"), headers(true, 10, 0));
        assert_eq!(of("per-minute", "10", "0"), None);
        assert_eq!(of("QPS", "thirty", "29"), None);
        assert_eq!(limit_headers(&HeaderMap::new()), None);
    }

    #[test]
    fn retry_after_forms() {
        let now = DateTime::parse_from_rfc3339("2026-02-28T23:59:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after(&headers("2"), now),
            Some(now + chrono::Duration::seconds(2))
        );
        let midnight = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after(&headers("2026-03-01T00:00:00Z"), now),
            Some(midnight)
        );
        // No offset: UTC, not local time.
        assert_eq!(
            parse_retry_after(&headers("2026-03-01T00:00:00"), now),
            Some(midnight)
        );
        assert_eq!(
            parse_retry_after(&headers("Sun, 01 Mar 2026 00:00:00 GMT"), now),
            Some(midnight)
        );
        assert_eq!(parse_retry_after(&headers("soon"), now), None);
        assert_eq!(next_utc_midnight(now), midnight);
    }

    #[test]
    fn an_absolute_retry_after_is_read_against_the_servers_date() {
        // The server's clock is 12 hours ahead of ours: its midnight is 3 s away for both.
        let now = DateTime::parse_from_rfc3339("2026-02-28T11:59:57Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut h = headers("2026-03-01T00:00:00Z");
        h.insert(
            reqwest::header::DATE,
            HeaderValue::from_static("Sat, 28 Feb 2026 23:59:57 GMT"),
        );
        assert_eq!(
            parse_retry_after(&h, now),
            Some(now + chrono::Duration::seconds(3))
        );
        // A delay in seconds needs no clock.
        h.insert(RETRY_AFTER, HeaderValue::from_static("4"));
        assert_eq!(
            parse_retry_after(&h, now),
            Some(now + chrono::Duration::seconds(4))
        );
    }

    #[test]
    fn daily_limit_detection() {
        let mut h = HeaderMap::new();
        assert!(is_daily_limit(
            &h,
            "You have reached the maximum daily rate limit for this API."
        ));
        assert!(!is_daily_limit(
            &h,
            "You have reached the maximum per-second rate limit for this API. Try again later."
        ));
        h.insert("x-ratelimit-type", HeaderValue::from_static("Daily-limit"));
        assert!(is_daily_limit(&h, ""));
    }

    #[test]
    fn decode_errors_name_the_json_path() {
        #[derive(Debug, Deserialize)]
        struct Page {
            #[allow(dead_code)]
            users: Vec<crate::User>,
        }
        let err = decode::<Page>(
            "GET /users",
            br#"{"users":[{"id":"a","email":"a@x","type":1},{"id":"b","email":"b@x","type":{"x":1}}]}"#,
        )
        .unwrap_err();
        match err {
            ZoomError::Decode { path, .. } => assert_eq!(path, "users[1].type"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
