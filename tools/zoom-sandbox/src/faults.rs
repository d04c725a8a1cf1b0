//! Faults on demand: server errors, timeouts, dropped connections, latency, 429 bursts and
//! revoked tokens, applied by the gate to `/v2` requests (and to `/oauth/token` when `oauth` is set).
//!
//! Per run: `--faults "5xx=0.05,drop=0.02,latency=20ms,seed=7"` (syntax in [`FaultConfig`]'s
//! `FromStr`). Per test: `POST /_sandbox/faults` with a JSON [`FaultConfig`] (or `{"spec": "…"}`),
//! `DELETE /_sandbox/faults` to clear.
//!
//! Decisions are deterministic given the seed: the n-th request through the fault stage draws
//! from `splitmix64(seed, n)`, so a sequential client sees the same faults at the same requests on
//! every run (concurrent clients see the same fault counts, in an order set by arrival).

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
}

pub const DEFAULT_HOLD_MS: u64 = 30_000;

impl FaultConfig {
    pub fn is_empty(&self) -> bool {
        let none = FaultConfig {
            seed: self.seed,
            oauth: self.oauth,
            hold_ms: self.hold_ms,
            ..FaultConfig::default()
        };
        *self == none
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let shares = [
            self.error_500,
            self.error_502,
            self.error_503,
            self.timeout,
            self.drop,
            self.rate_limit,
        ];
        if shares.iter().any(|s| !(0.0..=1.0).contains(s)) {
            return Err(ConfigError("fault shares must be within 0..=1".into()));
        }
        if shares.iter().sum::<f64>() > 1.0 + 1e-9 {
            return Err(ConfigError("fault shares add up to more than 1".into()));
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
    /// `seed=7`, `oauth=true` (also fault `/oauth/token`). Shares accept `0.05` or `5%`;
    /// `none` or an empty string means no faults.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut c = FaultConfig::default();
        for item in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if item.eq_ignore_ascii_case("none") {
                continue;
            }
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| ConfigError(format!("faults item {item:?} is not key=value")))?;
            let key = key.trim().to_ascii_lowercase();
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
                other => {
                    return Err(ConfigError(format!(
                        "unknown faults key {other:?} (known: 5xx, 500, 502, 503, timeout, hold, drop, \
                         latency, jitter, 429, burst429, seed, oauth)"
                    )));
                }
            }
        }
        c.validate()?;
        Ok(c)
    }
}

/// What the fault stage decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Status(u16),
    Timeout { hold_ms: u64 },
    Drop,
    TooManyRequests,
}

impl Fault {
    pub fn kind(self) -> &'static str {
        match self {
            Fault::Status(500) => "500",
            Fault::Status(502) => "502",
            Fault::Status(503) => "503",
            Fault::Status(_) => "5xx",
            Fault::Timeout { .. } => "timeout",
            Fault::Drop => "drop",
            Fault::TooManyRequests => "429",
        }
    }
}

/// The run's fault settings and counters (in `SandboxState::faults`).
#[derive(Debug, Default)]
pub struct Faults {
    config: RwLock<FaultConfig>,
    sequence: AtomicU64,
    burst_left: AtomicU64,
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
        c
    }

    /// Replace the settings; the deterministic sequence restarts from request 0.
    pub fn set(&self, config: FaultConfig) {
        self.burst_left.store(config.burst_429, Ordering::Relaxed);
        self.sequence.store(0, Ordering::Relaxed);
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = config;
    }

    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    pub fn applies_to_oauth(&self) -> bool {
        self.config.read().unwrap_or_else(|e| e.into_inner()).oauth
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
    pub fn next(&self) -> (Duration, Option<Fault>) {
        let c = self
            .config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        let latency = self.latency(&c, n);
        if self
            .burst_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
            .is_ok()
        {
            return (latency, Some(Fault::TooManyRequests));
        }
        let r = unit(splitmix64(c.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n));
        let table = [
            (c.error_500, Fault::Status(500)),
            (c.error_502, Fault::Status(502)),
            (c.error_503, Fault::Status(503)),
            (
                c.timeout,
                Fault::Timeout {
                    hold_ms: c.hold_ms.unwrap_or(DEFAULT_HOLD_MS),
                },
            ),
            (c.drop, Fault::Drop),
            (c.rate_limit, Fault::TooManyRequests),
        ];
        let mut acc = 0.0;
        for (share, fault) in table {
            acc += share;
            if share > 0.0 && r < acc {
                return (latency, Some(fault));
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
            (0..20_000).map(|_| f.next().1).collect::<Vec<_>>()
        };
        let a = run(1);
        assert_eq!(a, run(1));
        assert_ne!(a, run(2));
        let share = |f: Fault| a.iter().filter(|x| **x == Some(f)).count() as f64 / a.len() as f64;
        assert!((share(Fault::Status(500)) - 0.1).abs() < 0.01);
        assert!((share(Fault::Drop) - 0.05).abs() < 0.01);
    }

    #[test]
    fn burst_counts_down() {
        let f = Faults::new(FaultConfig {
            burst_429: 2,
            ..FaultConfig::default()
        });
        assert_eq!(f.next().1, Some(Fault::TooManyRequests));
        assert_eq!(f.next().1, Some(Fault::TooManyRequests));
        assert_eq!(f.next().1, None);
        assert_eq!(f.config().burst_429, 0);
    }
}
