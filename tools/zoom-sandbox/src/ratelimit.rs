//! Zoom's rate limits: per budget account (the token's account, i.e. the master, by default) and
//! category, with the plan profiles of REFERENCE §8.
//!
//! Design (documented in the README):
//! - Per-second (and Resource-intensive per-minute) limits are **token buckets** holding at most one
//!   window's worth of requests (80 for Light under Business; 20 for Resource-intensive) and
//!   refilled continuously at the limit's rate. The long-run rate is exactly the limit; a burst is
//!   never more than one window's worth; a client pacing itself at (or just below) the limit never
//!   sees a 429 however its requests jitter.
//! - Daily caps count requests per UTC day (reset at 00:00 UTC on the sandbox clock). Business,
//!   Education and Pro share one daily cap between Heavy and Resource-intensive; Free has one per
//!   category.
//! - Time is the sandbox clock, so advancing it refills buckets and ends days.
//! - A request rejected for one limit does not consume the other.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::Method;
use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::config::{RateLimitConfig, RateLimitProfile};

/// Zoom's rate-limit categories; every endpoint is labelled with one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Category {
    Light,
    Medium,
    Heavy,
    #[serde(rename = "Resource-intensive")]
    ResourceIntensive,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Self::Light,
        Self::Medium,
        Self::Heavy,
        Self::ResourceIntensive,
    ];

    /// The name Zoom uses in `X-RateLimit-Category`.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Light => "Light",
            Self::Medium => "Medium",
            Self::Heavy => "Heavy",
            Self::ResourceIntensive => "Resource-intensive",
        }
    }
}

/// Zoom's rate-limit category of an endpoint, from the method and the route's matched path
/// (with or without the `/v2` nest prefix). `None` for paths the `/v2` router (`crate::api`) does
/// not serve.
pub fn endpoint_category(method: &Method, matched_path: &str) -> Option<Category> {
    let path = matched_path.strip_prefix("/v2").unwrap_or(matched_path);
    if method == Method::GET && path == "/accounts" {
        return Some(Category::Medium);
    }
    if method == Method::GET && path == "/accounts/{accountId}" {
        return Some(Category::Light);
    }
    let path = path.strip_prefix("/accounts/{accountId}").unwrap_or(path);
    let m = method.clone();
    Some(match (m, path) {
        (Method::GET, "/plans") => Category::Medium,
        (Method::GET, "/plans/usage") => Category::Heavy,
        (Method::GET, "/users/summary") => Category::Medium,
        (Method::GET, "/users") => Category::Medium,
        (Method::GET | Method::PATCH, "/users/{userId}") => Category::Light,
        (Method::PUT, "/users/{userId}/status") => Category::Light,
        (Method::GET, "/users/{userId}/meetings") => Category::Medium,
        (Method::GET, "/meetings/{meetingId}") => Category::Light,
        // Past meeting participants and past meeting instances (`…/instances`): both Medium.
        (Method::GET, "/past_meetings/{*rest}") => Category::Medium,
        (Method::GET, p) if p.starts_with("/report/") => Category::Heavy,
        _ => return None,
    })
}

/// Which limit answered 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum LimitKind {
    /// Per-second (per-minute for Resource-intensive): `X-RateLimit-Type: QPS`.
    Qps,
    /// Daily cap: `X-RateLimit-Type: Daily-limit`.
    Daily,
}

impl LimitKind {
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Qps => "QPS",
            Self::Daily => "Daily-limit",
        }
    }
}

/// 429 body messages, as Zoom's.
pub const QPS_MESSAGE: &str =
    "You have reached the maximum per-second rate limit for this API. Try again later.";
pub const DAILY_MESSAGE: &str = "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.";

/// A per-window limit: `count` requests per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowLimit {
    pub count: f64,
    pub window_secs: f64,
}

/// Which counter a daily cap lives in (Heavy and Resource-intensive may share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DailyGroup {
    Light,
    Medium,
    Heavy,
    ResourceIntensive,
    HeavyAndResourceIntensive,
}

/// The limits of one plan profile, unscaled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoryLimits {
    pub window: WindowLimit,
    pub daily: Option<(DailyGroup, u64)>,
}

/// Zoom's published limits (REFERENCE §8). `None` when the profile is `off`.
pub fn profile_limits(profile: RateLimitProfile, category: Category) -> Option<CategoryLimits> {
    use Category::*;
    let per_sec = |count: f64| WindowLimit {
        count,
        window_secs: 1.0,
    };
    let per_min = |count: f64| WindowLimit {
        count,
        window_secs: 60.0,
    };
    let (window, daily) = match profile {
        RateLimitProfile::Off => return None,
        RateLimitProfile::Business | RateLimitProfile::Education => match category {
            Light => (per_sec(80.0), None),
            Medium => (per_sec(60.0), None),
            Heavy => (
                per_sec(40.0),
                Some((DailyGroup::HeavyAndResourceIntensive, 60_000)),
            ),
            ResourceIntensive => (
                per_min(20.0),
                Some((DailyGroup::HeavyAndResourceIntensive, 60_000)),
            ),
        },
        RateLimitProfile::Pro => match category {
            Light => (per_sec(30.0), None),
            Medium => (per_sec(20.0), None),
            Heavy => (
                per_sec(10.0),
                Some((DailyGroup::HeavyAndResourceIntensive, 30_000)),
            ),
            ResourceIntensive => (
                per_min(10.0),
                Some((DailyGroup::HeavyAndResourceIntensive, 30_000)),
            ),
        },
        RateLimitProfile::Free => match category {
            Light => (per_sec(4.0), Some((DailyGroup::Light, 6_000))),
            Medium => (per_sec(2.0), Some((DailyGroup::Medium, 2_000))),
            Heavy => (per_sec(1.0), Some((DailyGroup::Heavy, 1_000))),
            ResourceIntensive => (per_min(10.0), Some((DailyGroup::ResourceIntensive, 30_000))),
        },
    };
    Some(CategoryLimits { window, daily })
}

/// The outcome of a rate-limit check: the headers to send either way.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub category: Category,
    /// `None` when admitted.
    pub limited: Option<LimitKind>,
    /// `X-RateLimit-Type`, `-Limit`, `-Remaining` values.
    pub kind: LimitKind,
    pub limit: u64,
    pub remaining: u64,
    /// `Retry-After`: seconds for QPS, an ISO date-time (next 00:00 UTC) for daily.
    pub retry_after: Option<String>,
}

impl Decision {
    /// Zoom's headers for this decision.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            (
                "x-ratelimit-category",
                self.category.header_name().to_string(),
            ),
            ("x-ratelimit-type", self.kind.header_name().to_string()),
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
        ];
        if let Some(r) = &self.retry_after {
            h.push(("retry-after", r.clone()));
        }
        h
    }

    pub fn message(&self) -> &'static str {
        match self.limited {
            Some(LimitKind::Daily) => DAILY_MESSAGE,
            _ => QPS_MESSAGE,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: DateTime<Utc>,
}

#[derive(Debug)]
struct DailyCounter {
    day: NaiveDate,
    used: u64,
}

#[derive(Debug)]
struct Inner {
    config: RateLimitConfig,
    buckets: HashMap<(String, Category), Bucket>,
    daily: HashMap<(String, DailyGroup), DailyCounter>,
}

/// Per-(budget account, category) limiter. Cheap: one short mutex section per request.
#[derive(Debug)]
pub struct RateLimiter {
    inner: Mutex<Inner>,
}

fn secs_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    let d = b - a;
    (d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6).max(0.0)
}

/// The start of the next UTC day, as Zoom's daily `Retry-After` (`2026-03-01T00:00:00Z`).
pub fn next_utc_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now.date_naive() + Duration::days(1);
    tomorrow
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now)
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            inner: Mutex::new(Inner {
                config,
                buckets: HashMap::new(),
                daily: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn config(&self) -> RateLimitConfig {
        self.lock().config.clone()
    }

    /// Switch profile/scale/budget; every bucket and daily counter starts afresh.
    pub fn set_config(&self, config: RateLimitConfig) {
        let mut inner = self.lock();
        inner.config = config;
        inner.buckets.clear();
        inner.daily.clear();
    }

    /// Forget all consumption (full buckets, zero daily use).
    pub fn reset(&self) {
        let mut inner = self.lock();
        inner.buckets.clear();
        inner.daily.clear();
    }

    /// The effective (scaled) limits of a category under the current settings.
    pub fn effective(&self, category: Category) -> Option<(WindowLimit, Option<u64>)> {
        let inner = self.lock();
        effective(&inner.config, category).map(|(w, d)| (w, d.map(|(_, cap)| cap)))
    }

    /// Admit or refuse one request of `category` on `account`'s budget at `now`.
    /// Returns `None` when rate limits are off.
    pub fn check(&self, account: &str, category: Category, now: DateTime<Utc>) -> Option<Decision> {
        let mut inner = self.lock();
        let (window, daily) = effective(&inner.config, category)?;
        let foreign_share = inner.config.foreign_share;
        let capacity = window.count.max(1.0);
        let rate = window.count / window.window_secs;
        let limit = window.count.round().max(1.0) as u64;

        // Daily cap first: when exhausted nothing else matters until the next UTC day.
        let today = now.date_naive();
        let daily_left = if let Some((group, cap)) = daily {
            let counter = inner
                .daily
                .entry((account.to_string(), group))
                .or_insert(DailyCounter {
                    day: today,
                    used: 0,
                });
            if counter.day != today {
                counter.day = today;
                counter.used = 0;
            }
            if counter.used >= cap {
                return Some(Decision {
                    category,
                    limited: Some(LimitKind::Daily),
                    kind: LimitKind::Daily,
                    limit: cap,
                    remaining: 0,
                    retry_after: Some(
                        next_utc_midnight(now)
                            .format("%Y-%m-%dT%H:%M:%SZ")
                            .to_string(),
                    ),
                });
            }
            Some((group, cap, cap - counter.used))
        } else {
            None
        };

        let bucket = inner
            .buckets
            .entry((account.to_string(), category))
            .or_insert(Bucket {
                tokens: capacity,
                last: now,
            });
        if now > bucket.last {
            bucket.tokens = (bucket.tokens + secs_between(bucket.last, now) * rate).min(capacity);
            // The foreign app's bursts, one per whole second passed. It gets its share even
            // when the bucket is empty (what it takes then is owed from the next refill, up
            // to a bucket's worth): the account's other app is not the one slowed down.
            let seconds_turned = now.timestamp() - bucket.last.timestamp();
            if foreign_share > 0.0 && seconds_turned > 0 {
                let burst = foreign_share * rate * seconds_turned as f64;
                bucket.tokens = (bucket.tokens - burst).max(-capacity);
            }
            bucket.last = now;
        }
        if bucket.tokens < 1.0 {
            let wait = ((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64;
            return Some(Decision {
                category,
                limited: Some(LimitKind::Qps),
                kind: LimitKind::Qps,
                limit,
                remaining: 0,
                retry_after: Some(wait.to_string()),
            });
        }
        bucket.tokens -= 1.0;
        let qps_remaining = bucket.tokens.floor() as u64;

        if let Some((group, cap, left)) = daily_left {
            if let Some(counter) = inner.daily.get_mut(&(account.to_string(), group)) {
                counter.used += 1;
            }
            return Some(Decision {
                category,
                limited: None,
                kind: LimitKind::Daily,
                limit: cap,
                remaining: left - 1,
                retry_after: None,
            });
        }
        Some(Decision {
            category,
            limited: None,
            kind: LimitKind::Qps,
            limit,
            remaining: qps_remaining,
            retry_after: None,
        })
    }
}

fn effective(
    config: &RateLimitConfig,
    category: Category,
) -> Option<(WindowLimit, Option<(DailyGroup, u64)>)> {
    let limits = profile_limits(config.profile, category)?;
    let window = WindowLimit {
        count: limits.window.count * config.scale,
        window_secs: limits.window.window_secs,
    };
    let daily_scale = config.effective_daily_scale();
    let daily = limits
        .daily
        .map(|(group, cap)| (group, ((cap as f64) * daily_scale).round().max(1.0) as u64));
    Some((window, daily))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn bucket_admits_one_window_then_refills_at_the_rate() {
        let rl = RateLimiter::new(RateLimitConfig::profile(RateLimitProfile::Business));
        let now = t0();
        let admitted = (0..100)
            .filter(|_| {
                rl.check("m", Category::Medium, now)
                    .unwrap()
                    .limited
                    .is_none()
            })
            .count();
        assert_eq!(admitted, 60);
        let d = rl.check("m", Category::Medium, now).unwrap();
        assert_eq!(d.limited, Some(LimitKind::Qps));
        assert_eq!(d.retry_after.as_deref(), Some("1"));
        // 0.5 s later: 30 more.
        let later = now + Duration::milliseconds(500);
        let admitted = (0..100)
            .filter(|_| {
                rl.check("m", Category::Medium, later)
                    .unwrap()
                    .limited
                    .is_none()
            })
            .count();
        assert_eq!(admitted, 30);
        // Other accounts and categories have their own budgets.
        assert!(
            rl.check("other", Category::Medium, later)
                .unwrap()
                .limited
                .is_none()
        );
        assert!(
            rl.check("m", Category::Light, later)
                .unwrap()
                .limited
                .is_none()
        );
    }

    #[test]
    fn paced_at_the_limit_is_never_limited() {
        let rl = RateLimiter::new(RateLimitConfig::profile(RateLimitProfile::Business));
        let mut now = t0();
        for _ in 0..6_000 {
            let d = rl.check("m", Category::Medium, now).unwrap();
            assert!(d.limited.is_none());
            now += Duration::microseconds(1_000_000 / 60 + 1);
        }
    }

    #[test]
    fn a_foreign_app_spends_its_share_in_bursts() {
        // Business Medium: 60/s. A foreign app takes half of each second's refill: a client
        // asking every 7 ms for 20 s gets the full bucket (60) plus the refill less the
        // foreign app's bursts.
        let admitted = |foreign_share: f64| {
            let rl = RateLimiter::new(RateLimitConfig {
                foreign_share,
                ..RateLimitConfig::profile(RateLimitProfile::Business)
            });
            let mut now = t0();
            let mut admitted = 0u64;
            let end = now + Duration::seconds(20);
            while now < end {
                let d = rl.check("m", Category::Medium, now).unwrap();
                admitted += u64::from(d.limited.is_none());
                // The headers show the account's whole limit.
                assert_eq!(d.limit, 60);
                now += Duration::milliseconds(7);
            }
            admitted as f64
        };
        let (alone, shared) = (admitted(0.0), admitted(0.5));
        let near = |got: f64, want: f64| (got - want).abs() <= want * 0.02;
        assert!(near(alone, 60.0 + 60.0 * 20.0), "{alone}");
        // 19 whole seconds turn after the start (12:00:00) and before the end: 19 bursts.
        assert!(near(shared, 60.0 + 60.0 * 20.0 - 30.0 * 19.0), "{shared}");
        let bad = RateLimitConfig {
            foreign_share: 0.99,
            ..RateLimitConfig::profile(RateLimitProfile::Business)
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn combined_daily_cap_and_reset() {
        let cfg = RateLimitConfig {
            profile: RateLimitProfile::Business,
            daily_scale: Some(0.0001), // 6 a day
            ..RateLimitConfig::default()
        };
        let rl = RateLimiter::new(cfg);
        let now = t0();
        for _ in 0..3 {
            assert!(
                rl.check("m", Category::Heavy, now)
                    .unwrap()
                    .limited
                    .is_none()
            );
        }
        for _ in 0..3 {
            assert!(
                rl.check("m", Category::ResourceIntensive, now)
                    .unwrap()
                    .limited
                    .is_none()
            );
        }
        let d = rl.check("m", Category::Heavy, now).unwrap();
        assert_eq!(d.limited, Some(LimitKind::Daily));
        assert_eq!(d.retry_after.as_deref(), Some("2026-03-02T00:00:00Z"));
        assert_eq!(
            rl.check("m", Category::ResourceIntensive, now)
                .unwrap()
                .limited,
            Some(LimitKind::Daily)
        );
        let tomorrow: DateTime<Utc> = "2026-03-02T00:00:01Z".parse().unwrap();
        assert!(
            rl.check("m", Category::Heavy, tomorrow)
                .unwrap()
                .limited
                .is_none()
        );
    }

    #[test]
    fn off_and_scale() {
        let rl = RateLimiter::new(RateLimitConfig::default());
        assert!(rl.check("m", Category::Heavy, t0()).is_none());
        rl.set_config(RateLimitConfig {
            profile: RateLimitProfile::Pro,
            scale: 0.5,
            ..RateLimitConfig::default()
        });
        let (w, daily) = rl.effective(Category::Light).unwrap();
        assert_eq!(w.count, 15.0);
        assert_eq!(daily, None);
        assert_eq!(rl.effective(Category::Heavy).unwrap().1, Some(15_000));
    }

    #[test]
    fn categories() {
        use Category::*;
        let cases = [
            (Method::GET, "/v2/accounts", Medium),
            (Method::GET, "/v2/accounts/{accountId}", Light),
            (Method::GET, "/v2/accounts/{accountId}/plans", Medium),
            (Method::GET, "/v2/accounts/{accountId}/plans/usage", Heavy),
            (Method::GET, "/v2/users", Medium),
            (Method::GET, "/v2/accounts/{accountId}/users", Medium),
            (Method::GET, "/v2/users/{userId}", Light),
            (
                Method::PATCH,
                "/v2/accounts/{accountId}/users/{userId}",
                Light,
            ),
            (Method::PUT, "/v2/users/{userId}/status", Light),
            (Method::GET, "/v2/users/summary", Medium),
            (Method::GET, "/v2/users/{userId}/meetings", Medium),
            (Method::GET, "/v2/past_meetings/{*rest}", Medium),
            (
                Method::GET,
                "/v2/accounts/{accountId}/past_meetings/{*rest}",
                Medium,
            ),
            (Method::GET, "/v2/report/users", Heavy),
            (
                Method::GET,
                "/v2/accounts/{accountId}/report/meetings/{*rest}",
                Heavy,
            ),
            (Method::GET, "/v2/meetings/{meetingId}", Light),
        ];
        for (m, p, c) in cases {
            assert_eq!(endpoint_category(&m, p), Some(c), "{m} {p}");
        }
        assert_eq!(endpoint_category(&Method::DELETE, "/v2/users"), None);
    }
}
