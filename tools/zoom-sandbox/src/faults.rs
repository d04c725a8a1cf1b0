//! Faults on demand: server errors, timeouts, dropped connections, latency, 429 bursts,
//! revoked tokens and lost answers, applied by the gate to `/v2` requests (and to `/oauth/token`
//! when `oauth` is set).
//!
//! Two families:
//! - **refused** (`500`/`502`/`503`, `timeout`, `drop`, `429`): injected *before* the handler, so
//!   the request changes nothing;
//! - **lost answers** (`lost`): the request is *carried out* (the handler runs and its change is
//!   made: a user's status, a PATCH, a refresh-token rotation) and then its answer is lost — the
//!   connection dropped, a 502 load-balancer page, or held for `hold` then 504. Optionally only for
//!   some methods (`lost_methods`) and paths (`lost_paths`, prefixes of the path or the route
//!   template); a path filter that names `/oauth/token` also loses token answers without `oauth`.
//!
//! Per run: `--faults "5xx=0.05,drop=0.02,latency=20ms,seed=7"` (syntax in [`FaultConfig`]'s
//! `FromStr`). Per test: `POST /_sandbox/faults` with a JSON [`FaultConfig`] (or `{"spec": "…"}`),
//! `DELETE /_sandbox/faults` to clear.
//!
//! Decisions are deterministic given the seed: the n-th request through the fault stage draws
//! from `splitmix64(seed, n)` (the fault, and for a lost answer which of the three answers), so a
//! sequential client sees the same faults at the same requests on every run (concurrent clients
//! see the same fault counts, in an order set by arrival). Shares are disjoint slices of that one
//! draw: adding `lost` does not move the other faults.

use std::str::FromStr;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::config_error::ConfigError;

/// Which faults to inject. Shares are probabilities per request in `[0, 1]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Share of requests answered 500 (JSON body).
    pub error_500: f64,
    /// Share answered 502 (an HTML body, as a load balancer sends).
    pub error_502: f64,
    /// Share answered 503 (JSON body).
    pub error_503: f64,
    /// Share of requests held for `hold_ms` (longer than any sane client timeout), then
    /// answered 504.
    pub timeout: f64,
    /// How long a `timeout` request is held (default 30 s).
    pub hold_ms: Option<u64>,
    /// Share of requests whose connection is closed without a response.
    pub drop: f64,
    /// Added to every request, plus a uniform `0..=jitter_ms`.
    pub latency_ms: u64,
    pub jitter_ms: u64,
    /// Share of requests answered with a (per-second) 429.
    pub rate_limit: f64,
    /// The next N requests are answered 429 (counts down; re-arm through the control API).
    pub burst_429: u64,
    pub seed: u64,
    /// Also inject into `POST /oauth/token`.
    pub oauth: bool,
    /// Share of requests carried out and then answered with a lost answer (a dropped
    /// connection, a 502 load-balancer page or a `hold_ms` hold then 504, picked per request
    /// from the seed). Applies to the requests [`FaultConfig::lost_methods`] and
    /// [`FaultConfig::lost_paths`] let through.
    pub lost: f64,
    /// Only these methods lose answers (e.g. `["PUT", "PATCH", "POST"]`; any case). Empty: any.
    pub lost_methods: Vec<String>,
    /// Only requests under these paths lose answers: a prefix, segment by segment, of the
    /// request's path or of its route template (`/v2/users` covers `/v2/users/abc/status`;
    /// `/v2/users/{userId}/status` names one endpoint). Empty: every `/v2` request, and
    /// `POST /oauth/token` when `oauth` is set. A prefix covering `/oauth/token` applies there
    /// whatever `oauth` says.
    pub lost_paths: Vec<String>,
    /// At most this many answers are lost (then the requests `lost` would have hit are answered
    /// normally; counts down like `burst_429`). `None`: no limit.
    pub lost_limit: Option<u64>,
}

pub const DEFAULT_HOLD_MS: u64 = 30_000;

/// The path of Zoom's token endpoint.
pub const OAUTH_TOKEN_PATH: &str = "/oauth/token";

/// The request the fault stage decides for (lost answers look at its method and path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// `GET`, `PUT`, …
    pub method: &'a str,
    /// The request's path, without the query (e.g. `/v2/users/abc/status`).
    pub path: &'a str,
    /// Its route template, when it matched one (e.g. `/v2/users/{userId}/status`).
    pub template: Option<&'a str>,
}

impl Target<'static> {
    /// `POST /oauth/token`.
    pub const OAUTH_TOKEN: Target<'static> = Target {
        method: "POST",
        path: OAUTH_TOKEN_PATH,
        template: Some(OAUTH_TOKEN_PATH),
    };
}

impl Target<'_> {
    fn is_oauth_token(&self) -> bool {
        self.path == OAUTH_TOKEN_PATH
    }
}

/// Whether `path` is `prefix` or lies under it (segment-wise: `/v2/users` covers
/// `/v2/users/abc` but not `/v2/users_x`; `/` covers everything).
fn under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    prefix.is_empty()
        || path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl FaultConfig {
    pub fn is_empty(&self) -> bool {
        let none = FaultConfig {
            seed: self.seed,
            oauth: self.oauth,
            hold_ms: self.hold_ms,
            lost_methods: self.lost_methods.clone(),
            lost_paths: self.lost_paths.clone(),
            ..FaultConfig::default()
        };
        *self == none
    }

    /// Whether `target` may get a lost answer (its method and path pass the filters).
    pub fn lost_applies(&self, target: &Target<'_>) -> bool {
        let method = self.lost_methods.is_empty()
            || self
                .lost_methods
                .iter()
                .any(|m| m.trim().eq_ignore_ascii_case(target.method));
        let path = if self.lost_paths.is_empty() {
            !target.is_oauth_token() || self.oauth
        } else {
            self.lost_paths.iter().any(|p| {
                under(target.path, p.trim()) || target.template.is_some_and(|t| under(t, p.trim()))
            })
        };
        method && path
    }

    /// Whether `target` goes through the fault stage at all: every `/v2` request; the token
    /// endpoint with `oauth`, or when a lost-answer path filter names it.
    pub fn draws_for(&self, target: &Target<'_>) -> bool {
        !target.is_oauth_token() || self.oauth || (self.lost > 0.0 && self.lost_applies(target))
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let shares = [
            self.error_500,
            self.error_502,
            self.error_503,
            self.timeout,
            self.drop,
            self.rate_limit,
            self.lost,
        ];
        if shares.iter().any(|s| !(0.0..=1.0).contains(s)) {
            return Err(ConfigError("fault shares must be within 0..=1".into()));
        }
        if shares.iter().sum::<f64>() > 1.0 + 1e-9 {
            return Err(ConfigError("fault shares add up to more than 1".into()));
        }
        if let Some(m) = self
            .lost_methods
            .iter()
            .find(|m| m.trim().is_empty() || !m.trim().chars().all(|c| c.is_ascii_alphabetic()))
        {
            return Err(ConfigError(format!(
                "faults lost_methods: {m:?} is not an HTTP method"
            )));
        }
        if let Some(p) = self.lost_paths.iter().find(|p| !p.trim().starts_with('/')) {
            return Err(ConfigError(format!(
                "faults lost_paths: {p:?} does not start with /"
            )));
        }
        Ok(())
    }
}

fn parse_share(key: &str, v: &str) -> Result<f64, ConfigError> {
    let v = v.trim();
    let x = if let Some(p) = v.strip_suffix('%') {
        p.trim().parse::<f64>().map(|p| p / 100.0)
    } else {
        v.parse::<f64>()
    }
    .map_err(|_| ConfigError(format!("faults {key}: {v:?} is not a share (0.05 or 5%)")))?;
    Ok(x)
}

/// `20ms`, `1.5s`, `2m` or a bare number of milliseconds.
pub fn parse_duration_ms(key: &str, v: &str) -> Result<u64, ConfigError> {
    let v = v.trim();
    let err = || ConfigError(format!("faults {key}: {v:?} is not a duration (20ms, 2s)"));
    let (num, factor) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (v, 1.0)
    };
    let x: f64 = num.trim().parse().map_err(|_| err())?;
    if !x.is_finite() || x < 0.0 {
        return Err(err());
    }
    Ok((x * factor).round() as u64)
}

impl FromStr for FaultConfig {
    type Err = ConfigError;

    /// Comma-separated `key=value` items:
    /// `5xx=0.05` (split evenly over 500/502/503), `500=`, `502=`, `503=`, `timeout=0.01`,
    /// `hold=30s`, `drop=0.02`, `latency=20ms`, `jitter=10ms`, `429=0.05`, `burst429=10`,
    /// `seed=7`, `oauth=true` (also fault `/oauth/token`), `lost=0.05` (carried out, answer
    /// lost), `lost_methods=PUT,PATCH,POST`, `lost_paths=/oauth/token,/v2/users`, `lost_limit=1` (at
    /// most that many lost). A list key
    /// takes the items after it that are not `key=value` (or `|`-separated values:
    /// `lost_methods=PUT|PATCH`). Shares accept `0.05` or `5%`; `none` or an empty string means
    /// no faults.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut c = FaultConfig::default();
        // The list key whose values the following bare items continue.
        let mut list: Option<&'static str> = None;
        for item in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if item.eq_ignore_ascii_case("none") {
                continue;
            }
            let Some((key, value)) = item.split_once('=') else {
                match list {
                    Some(key) => {
                        push_list(&mut c, key, item);
                        continue;
                    }
                    None => {
                        return Err(ConfigError(format!(
                            "faults item {item:?} is not key=value"
                        )));
                    }
                }
            };
            let key = key.trim().to_ascii_lowercase();
            list = None;
            match key.as_str() {
                "5xx" => {
                    let x = parse_share(&key, value)? / 3.0;
                    c.error_500 = x;
                    c.error_502 = x;
                    c.error_503 = x;
                }
                "500" => c.error_500 = parse_share(&key, value)?,
                "502" => c.error_502 = parse_share(&key, value)?,
                "503" => c.error_503 = parse_share(&key, value)?,
                "timeout" => c.timeout = parse_share(&key, value)?,
                "hold" => c.hold_ms = Some(parse_duration_ms(&key, value)?),
                "drop" => c.drop = parse_share(&key, value)?,
                "latency" => c.latency_ms = parse_duration_ms(&key, value)?,
                "jitter" => c.jitter_ms = parse_duration_ms(&key, value)?,
                "429" => c.rate_limit = parse_share(&key, value)?,
                "burst429" => {
                    c.burst_429 = value.trim().parse().map_err(|_| {
                        ConfigError(format!("faults burst429: {value:?} is not a count"))
                    })?
                }
                "seed" => {
                    c.seed = value
                        .trim()
                        .parse()
                        .map_err(|_| ConfigError(format!("faults seed: {value:?} is not a u64")))?
                }
                "oauth" => {
                    c.oauth = match value.trim() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        v => return Err(ConfigError(format!("faults oauth: {v:?} is not a bool"))),
                    }
                }
                "lost" => c.lost = parse_share(&key, value)?,
                "lost_limit" => {
                    c.lost_limit = Some(value.trim().parse().map_err(|_| {
                        ConfigError(format!("faults lost_limit: {value:?} is not a count"))
                    })?)
                }
                "lost_methods" | "lost_paths" => {
                    let key = if key == "lost_methods" {
                        "lost_methods"
                    } else {
                        "lost_paths"
                    };
                    push_list(&mut c, key, value);
                    list = Some(key);
                }
                other => {
                    return Err(ConfigError(format!(
                        "unknown faults key {other:?} (known: 5xx, 500, 502, 503, timeout, hold, drop, \
                         latency, jitter, 429, burst429, seed, oauth, lost, lost_methods, lost_paths, lost_limit)"
                    )));
                }
            }
        }
        c.validate()?;
        Ok(c)
    }
}

/// Appends `|`-separated `values` to the list `key` (`lost_methods`, upper-cased, or
/// `lost_paths`).
fn push_list(c: &mut FaultConfig, key: &str, values: &str) {
    let values = values.split('|').map(str::trim).filter(|v| !v.is_empty());
    if key == "lost_methods" {
        c.lost_methods
            .extend(values.map(|v| v.to_ascii_uppercase()));
    } else {
        c.lost_paths.extend(values.map(str::to_owned));
    }
}

/// What the fault stage decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Status(u16),
    Timeout {
        hold_ms: u64,
    },
    Drop,
    TooManyRequests,
    /// Carry the request out, then lose its answer.
    Lost(LostAnswer),
}

/// How a carried-out request's answer is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostAnswer {
    /// The connection closes without a response.
    Drop,
    /// The load balancer's HTML 502 page.
    BadGateway,
    /// Held for `hold_ms` (longer than any client timeout), then the load balancer's 504.
    Timeout { hold_ms: u64 },
}

impl Fault {
    /// The kind counted in the statistics (`faults`).
    pub fn kind(self) -> &'static str {
        match self {
            Fault::Status(500) => "500",
            Fault::Status(502) => "502",
            Fault::Status(503) => "503",
            Fault::Status(_) => "5xx",
            Fault::Timeout { .. } => "timeout",
            Fault::Drop => "drop",
            Fault::TooManyRequests => "429",
            Fault::Lost(lost) => lost.kind(),
        }
    }

    /// The lost answer, if the request is to be carried out and its answer lost.
    pub fn lost(self) -> Option<LostAnswer> {
        match self {
            Fault::Lost(lost) => Some(lost),
            _ => None,
        }
    }
}

impl LostAnswer {
    /// `lost_drop`, `lost_502` or `lost_timeout`.
    pub fn kind(self) -> &'static str {
        match self {
            LostAnswer::Drop => "lost_drop",
            LostAnswer::BadGateway => "lost_502",
            LostAnswer::Timeout { .. } => "lost_timeout",
        }
    }
}

/// The run's fault settings and counters (in `SandboxState::faults`).
#[derive(Debug, Default)]
pub struct Faults {
    config: RwLock<FaultConfig>,
    sequence: AtomicU64,
    burst_left: AtomicU64,
    /// Lost answers left under `lost_limit` (`u64::MAX`: no limit).
    lost_left: AtomicU64,
    release: tokio::sync::Notify,
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        let faults = Self::default();
        faults.set(config);
        faults
    }

    pub fn config(&self) -> FaultConfig {
        let mut c = self
            .config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        c.burst_429 = self.burst_left.load(Ordering::Relaxed);
        c.lost_limit = c.lost_limit.map(|_| self.lost_left.load(Ordering::Relaxed));
        c
    }

    /// Replace the settings; the deterministic sequence restarts from request 0.
    pub fn set(&self, config: FaultConfig) {
        self.burst_left.store(config.burst_429, Ordering::Relaxed);
        self.lost_left
            .store(config.lost_limit.unwrap_or(u64::MAX), Ordering::Relaxed);
        self.sequence.store(0, Ordering::Relaxed);
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = config;
    }

    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    /// Whether `POST /oauth/token` goes through the fault stage (`oauth`, or lost answers whose
    /// path filter names it).
    pub fn applies_to_oauth(&self) -> bool {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .draws_for(&Target::OAUTH_TOKEN)
    }

    /// Latency to add to the next request (fixed + seeded jitter).
    fn latency(&self, c: &FaultConfig, n: u64) -> Duration {
        let jitter = if c.jitter_ms > 0 {
            splitmix64(c.seed ^ n.wrapping_mul(0xA24B_AED4_963E_E407)) % (c.jitter_ms + 1)
        } else {
            0
        };
        Duration::from_millis(c.latency_ms + jitter)
    }

    /// Decide the next request's fate: the latency to add and the fault to inject, if any.
    /// Every request through the fault stage takes the next number of the sequence (see
    /// [`FaultConfig::draws_for`]); a token request that is there only for lost answers (no
    /// `oauth`) gets no latency and no refused fault.
    pub fn next(&self, target: &Target<'_>) -> (Duration, Option<Fault>) {
        let c = self
            .config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        let refusable = !target.is_oauth_token() || c.oauth;
        let latency = if refusable {
            self.latency(&c, n)
        } else {
            Duration::ZERO
        };
        if refusable
            && self
                .burst_left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
                .is_ok()
        {
            return (latency, Some(Fault::TooManyRequests));
        }
        let r = unit(splitmix64(c.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n));
        let hold_ms = c.hold_ms.unwrap_or(DEFAULT_HOLD_MS);
        let lost = if c.lost > 0.0 && c.lost_applies(target) {
            // Which answer is lost: a second draw from (seed, n), one in three each.
            let pick = splitmix64(c.seed.rotate_left(29) ^ n.wrapping_mul(0xD6E8_FEB8_6659_FD93));
            Some(match pick % 3 {
                0 => LostAnswer::Drop,
                1 => LostAnswer::BadGateway,
                _ => LostAnswer::Timeout { hold_ms },
            })
        } else {
            None
        };
        // A refused fault does not apply to a token request there only for lost answers.
        let refused = |fault: Fault| refusable.then_some(fault);
        let table = [
            (c.error_500, refused(Fault::Status(500))),
            (c.error_502, refused(Fault::Status(502))),
            (c.error_503, refused(Fault::Status(503))),
            (c.timeout, refused(Fault::Timeout { hold_ms })),
            (c.drop, refused(Fault::Drop)),
            (c.rate_limit, refused(Fault::TooManyRequests)),
            (c.lost, lost.map(Fault::Lost)),
        ];
        // Each fault owns a slice of [0, 1) whether or not it applies to this request, so a
        // fault's share of the requests it applies to is exactly its configured share.
        let mut end = 0.0;
        for (share, fault) in table {
            end += share;
            if share > 0.0 && r < end {
                if matches!(fault, Some(Fault::Lost(_)))
                    && self
                        .lost_left
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                            left.checked_sub(1)
                        })
                        .is_err()
                {
                    return (latency, None);
                }
                return (latency, fault);
            }
        }
        (latency, None)
    }

    /// Wait out a `timeout` fault; returns early when the sandbox shuts down.
    pub async fn hold(&self, ms: u64) {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
            _ = self.release.notified() => {}
        }
    }

    /// Release every held request (used at shutdown).
    pub fn release_held(&self) {
        self.release.notify_waiters();
    }
}

fn json(status: StatusCode, code: u16, message: &str) -> Response {
    let body = serde_json::json!({ "code": code, "message": message }).to_string();
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

fn html(status: StatusCode, title: &str) -> Response {
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    );
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

/// The response of an injected server error (Zoom-like: JSON from the API tier for 500/503,
/// an HTML page from the load balancer for 502 and 504).
pub fn status_response(status: u16) -> Response {
    match status {
        502 => html(StatusCode::BAD_GATEWAY, "502 Bad Gateway"),
        503 => json(
            StatusCode::SERVICE_UNAVAILABLE,
            503,
            "The service is temporarily unavailable. Please try again later.",
        ),
        504 => html(StatusCode::GATEWAY_TIMEOUT, "504 Gateway Time-out"),
        _ => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            500,
            "Internal server error.",
        ),
    }
}

/// A response whose body fails at once: hyper closes the connection without completing (or,
/// in practice, sending) the response, so the client sees a connection error.
pub fn dropped_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: connection dropped",
        ))
    });
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = StatusCode::OK;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Target<'static> = Target {
        method: "GET",
        path: "/v2/users/me",
        template: Some("/v2/users/{userId}"),
    };
    const STATUS: Target<'static> = Target {
        method: "PUT",
        path: "/v2/accounts/sub1/users/u1/status",
        template: Some("/v2/accounts/{accountId}/users/{userId}/status"),
    };

    #[test]
    fn parses_the_documented_syntax() {
        let c: FaultConfig =
            "5xx=0.06,drop=2%,latency=20ms,jitter=1s,timeout=0.01,hold=5s,429=0.1,burst429=3,seed=7,oauth=true"
                .parse()
                .unwrap();
        assert!((c.error_500 - 0.02).abs() < 1e-12);
        assert!((c.error_503 - 0.02).abs() < 1e-12);
        assert!((c.drop - 0.02).abs() < 1e-12);
        assert_eq!(c.latency_ms, 20);
        assert_eq!(c.jitter_ms, 1000);
        assert_eq!(c.hold_ms, Some(5000));
        assert_eq!(c.burst_429, 3);
        assert_eq!(c.seed, 7);
        assert!(c.oauth);
        assert!("".parse::<FaultConfig>().unwrap().is_empty());
        assert!("drop=2".parse::<FaultConfig>().is_err());
        assert!("drop=0.6,500=0.6".parse::<FaultConfig>().is_err());
        assert!("explode=1".parse::<FaultConfig>().is_err());
    }

    #[test]
    fn decisions_follow_the_seed_and_the_shares() {
        let run = |seed| {
            let f = Faults::new(FaultConfig {
                error_500: 0.1,
                drop: 0.05,
                seed,
                ..FaultConfig::default()
            });
            (0..20_000).map(|_| f.next(&ME).1).collect::<Vec<_>>()
        };
        let a = run(1);
        assert_eq!(a, run(1));
        assert_ne!(a, run(2));
        let share = |f: Fault| a.iter().filter(|x| **x == Some(f)).count() as f64 / a.len() as f64;
        assert!((share(Fault::Status(500)) - 0.1).abs() < 0.01);
        assert!((share(Fault::Drop) - 0.05).abs() < 0.01);
    }

    #[test]
    fn lost_limit_counts_down_and_leaves_the_other_draws_alone() {
        let config: FaultConfig = "lost=1,500=0,lost_limit=2,seed=4".parse().unwrap();
        assert_eq!(config.lost_limit, Some(2));
        let f = Faults::new(config);
        let lost: Vec<bool> = (0..5)
            .map(|_| matches!(f.next(&ME).1, Some(Fault::Lost(_))))
            .collect();
        assert_eq!(lost, [true, true, false, false, false]);
        assert_eq!(f.config().lost_limit, Some(0));
        // With a limit, the faults other than `lost` fall where they fall without one.
        let run = |limit| {
            let f = Faults::new(FaultConfig {
                error_500: 0.2,
                lost: 0.3,
                lost_limit: limit,
                seed: 9,
                ..FaultConfig::default()
            });
            (0..2_000)
                .map(|_| f.next(&ME).1 == Some(Fault::Status(500)))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(Some(1)), run(None));
        assert!("lost_limit=x".parse::<FaultConfig>().is_err());
    }

    #[test]
    fn burst_counts_down() {
        let f = Faults::new(FaultConfig {
            burst_429: 2,
            ..FaultConfig::default()
        });
        assert_eq!(f.next(&ME).1, Some(Fault::TooManyRequests));
        assert_eq!(f.next(&ME).1, Some(Fault::TooManyRequests));
        assert_eq!(f.next(&ME).1, None);
        assert_eq!(f.config().burst_429, 0);
    }

    #[test]
    fn parses_the_lost_answer_keys() {
        let c: FaultConfig =
            "lost=5%,lost_methods=put,PATCH,POST,lost_paths=/oauth/token,/v2/users,seed=3"
                .parse()
                .unwrap();
        assert!((c.lost - 0.05).abs() < 1e-12);
        assert_eq!(c.lost_methods, ["PUT", "PATCH", "POST"]);
        assert_eq!(c.lost_paths, ["/oauth/token", "/v2/users"]);
        assert_eq!(c.seed, 3);
        // `|` separates values too; the lists alone are no fault.
        let c: FaultConfig = "lost_methods=PUT|PATCH,lost_paths=/v2".parse().unwrap();
        assert_eq!(c.lost_methods, ["PUT", "PATCH"]);
        assert!(c.is_empty());
        assert!("lost=0.5,drop=0.6".parse::<FaultConfig>().is_err());
        assert!(
            "lost=1,lost_paths=oauth/token"
                .parse::<FaultConfig>()
                .is_err()
        );
        assert!("lost=1,lost_methods=P-T".parse::<FaultConfig>().is_err());
        assert!(
            "seed=3,PUT".parse::<FaultConfig>().is_err(),
            "a bare item after a non-list key"
        );
        // JSON as the control endpoint takes it.
        let j: FaultConfig = serde_json::from_value(serde_json::json!({
            "lost": 0.05, "lost_methods": ["PUT"], "lost_paths": ["/oauth/token"]
        }))
        .unwrap();
        assert_eq!(j.lost_methods, ["PUT"]);
        assert_eq!(j.lost_paths, ["/oauth/token"]);
    }

    #[test]
    fn lost_answer_filters() {
        let c = |spec: &str| spec.parse::<FaultConfig>().unwrap();
        let token = Target::OAUTH_TOKEN;
        // No filter: every /v2 request; the token endpoint only with `oauth`.
        assert!(c("lost=1").lost_applies(&ME));
        assert!(!c("lost=1").lost_applies(&token));
        assert!(!c("lost=1").draws_for(&token));
        assert!(c("lost=1,oauth=true").lost_applies(&token));
        // A path filter naming the token endpoint applies there without `oauth`.
        assert!(c("lost=1,lost_paths=/oauth/token").lost_applies(&token));
        assert!(c("lost=1,lost_paths=/oauth/token").draws_for(&token));
        assert!(!c("lost=1,lost_paths=/oauth/token").lost_applies(&ME));
        assert!(!c("lost=1,lost_paths=/v2,oauth=true").lost_applies(&token));
        // Prefixes go segment by segment, over the path or the route template.
        assert!(c("lost=1,lost_paths=/v2/users").lost_applies(&ME));
        assert!(!c("lost=1,lost_paths=/v2/user").lost_applies(&ME));
        assert!(c("lost=1,lost_paths=/v2/accounts/").lost_applies(&STATUS));
        assert!(
            c("lost=1,lost_paths=/v2/accounts/{accountId}/users/{userId}/status")
                .lost_applies(&STATUS)
        );
        assert!(!c("lost=1,lost_paths=/v2/users").lost_applies(&STATUS));
        // Methods, any case.
        assert!(c("lost=1,lost_methods=put").lost_applies(&STATUS));
        assert!(!c("lost=1,lost_methods=PUT,PATCH").lost_applies(&ME));
        assert!(c("lost=1,lost_methods=POST,lost_paths=/oauth").lost_applies(&token));
        // Without a share the token endpoint stays out of the fault stage.
        assert!(!c("lost_paths=/oauth/token").draws_for(&token));
    }

    #[test]
    fn lost_answers_follow_the_seed_and_the_share() {
        let run = |seed: u64| {
            let f = Faults::new(
                format!("lost=0.2,500=0.1,lost_methods=PUT,hold=5s,seed={seed}")
                    .parse()
                    .unwrap(),
            );
            (0..6_000)
                .map(|i| f.next(if i % 2 == 0 { &STATUS } else { &ME }).1)
                .collect::<Vec<_>>()
        };
        let a = run(11);
        assert_eq!(a, run(11), "same seed, same fates");
        assert_ne!(a, run(12));
        let puts: Vec<_> = a.iter().step_by(2).collect();
        let gets: Vec<_> = a.iter().skip(1).step_by(2).collect();
        let lost = |xs: &[&Option<Fault>], kind: &str| {
            xs.iter()
                .filter(|f| f.is_some_and(|f| f.lost().is_some() && f.kind() == kind))
                .count() as f64
                / xs.len() as f64
        };
        let all_lost = |xs: &[&Option<Fault>]| {
            ["lost_drop", "lost_502", "lost_timeout"]
                .iter()
                .map(|k| lost(xs, k))
                .sum::<f64>()
        };
        assert!((all_lost(&puts) - 0.2).abs() < 0.03, "{}", all_lost(&puts));
        for kind in ["lost_drop", "lost_502", "lost_timeout"] {
            assert!((lost(&puts, kind) - 0.2 / 3.0).abs() < 0.02, "{kind}");
        }
        assert_eq!(all_lost(&gets), 0.0, "GETs are not lost (lost_methods=PUT)");
        // The other faults keep their share on both.
        for xs in [&puts, &gets] {
            let e500 = xs
                .iter()
                .filter(|f| ***f == Some(Fault::Status(500)))
                .count() as f64;
            assert!((e500 / xs.len() as f64 - 0.1).abs() < 0.02);
        }
        assert!(a.contains(&Some(Fault::Lost(LostAnswer::Timeout { hold_ms: 5_000 }))));
    }

    /// Adding `lost` leaves the other faults where they were (its slice comes last).
    #[test]
    fn lost_does_not_move_the_other_faults() {
        let fates = |spec: &str| {
            let f = Faults::new(spec.parse().unwrap());
            (0..2_000).map(|_| f.next(&ME).1).collect::<Vec<_>>()
        };
        let without = fates("500=0.1,drop=0.05,seed=9");
        let with = fates("500=0.1,drop=0.05,lost=0.3,seed=9");
        for (a, b) in without.iter().zip(&with) {
            match a {
                Some(f) => assert_eq!(Some(*f), *b),
                None => assert!(b.is_none_or(|f| f.lost().is_some())),
            }
        }
    }

    /// A token request there only for lost answers gets no refused fault and no latency; with
    /// `oauth` it gets both.
    #[test]
    fn token_requests_without_oauth_only_lose_answers() {
        let f = Faults::new(
            "500=0.5,lost=0.5,latency=5ms,burst429=2,lost_paths=/oauth/token"
                .parse()
                .unwrap(),
        );
        let fates: Vec<_> = (0..400).map(|_| f.next(&Target::OAUTH_TOKEN)).collect();
        assert!(fates.iter().all(|(latency, _)| latency.is_zero()));
        assert!(
            fates
                .iter()
                .all(|(_, fault)| fault.is_none_or(|f| f.lost().is_some()))
        );
        assert!(fates.iter().any(|(_, fault)| fault.is_some()));
        assert_eq!(f.config().burst_429, 2, "the burst is left for /v2");
        let f = Faults::new("500=0.5,latency=5ms,oauth=true".parse().unwrap());
        let (latency, _) = f.next(&Target::OAUTH_TOKEN);
        assert_eq!(latency, Duration::from_millis(5));
    }
}
