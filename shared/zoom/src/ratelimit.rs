//! Client-side pacing per (budget account, rate-limit category).
//!
//! Zoom limits requests per account and category (Light/Medium/Heavy/Resource-intensive) with
//! per-second rates and daily caps, and shares the budget among every app on the account (a
//! master's calls against its sub accounts draw on the master's budget). The limiter spaces
//! requests evenly at the configured rate so that a correctly configured client sees (almost)
//! no 429 answers in steady state while many requests are in flight.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// Zoom's rate-limit categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Category {
    Light,
    Medium,
    Heavy,
    ResourceIntensive,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Self::Light,
        Self::Medium,
        Self::Heavy,
        Self::ResourceIntensive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "Light",
            Self::Medium => "Medium",
            Self::Heavy => "Heavy",
            Self::ResourceIntensive => "Resource-intensive",
        }
    }

    /// Parse Zoom's `X-RateLimit-Category` header value.
    pub fn from_header(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "light" => Some(Self::Light),
            "medium" => Some(Self::Medium),
            "heavy" => Some(Self::Heavy),
            "resource-intensive" | "resource intensive" | "resource_intensive" => {
                Some(Self::ResourceIntensive)
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Requests per second allowed in each category (`None`: not limited on our side).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateProfile {
    pub light: Option<f64>,
    pub medium: Option<f64>,
    pub heavy: Option<f64>,
    pub resource_intensive: Option<f64>,
    /// Share of the limit the client aims for (default 0.95): a little headroom absorbs jitter
    /// in arrival times at Zoom and other apps on the account.
    pub headroom: f64,
}

impl RateProfile {
    /// Business, Education, Enterprise and partner plans: Light 80/s, Medium 60/s, Heavy 40/s,
    /// Resource-intensive 20/min.
    pub fn business() -> Self {
        Self::per_second(80.0, 60.0, 40.0, 20.0 / 60.0)
    }

    /// Education: the Business numbers.
    pub fn education() -> Self {
        Self::business()
    }

    /// The profile of a Zoom plan / account type as `GET /accounts/{id}` names it (`Business`,
    /// `Education`, `Enterprise`, `API Partner`, `Pro`, `Free`, …). Unknown names get the
    /// Business numbers, since every plan above Pro shares them.
    pub fn for_plan(account_type: &str) -> Self {
        match account_type.trim().to_ascii_lowercase().as_str() {
            "free" | "basic" | "free trial" => Self::free(),
            "pro" => Self::pro(),
            _ => Self::business(),
        }
    }

    /// Pro: Light 30/s, Medium 20/s, Heavy 10/s, Resource-intensive 10/min.
    pub fn pro() -> Self {
        Self::per_second(30.0, 20.0, 10.0, 10.0 / 60.0)
    }

    /// Free: Light 4/s, Medium 2/s, Heavy 1/s, Resource-intensive 10/min.
    pub fn free() -> Self {
        Self::per_second(4.0, 2.0, 1.0, 10.0 / 60.0)
    }

    /// Custom per-second rates.
    pub fn per_second(light: f64, medium: f64, heavy: f64, resource_intensive: f64) -> Self {
        Self {
            light: Some(light),
            medium: Some(medium),
            heavy: Some(heavy),
            resource_intensive: Some(resource_intensive),
            headroom: 0.95,
        }
    }

    /// No client-side pacing at all.
    pub fn unlimited() -> Self {
        Self {
            light: None,
            medium: None,
            heavy: None,
            resource_intensive: None,
            headroom: 1.0,
        }
    }

    /// Every rate multiplied by `factor` (benchmarks against a sandbox scaled the same way).
    pub fn scaled(mut self, factor: f64) -> Self {
        for r in [
            &mut self.light,
            &mut self.medium,
            &mut self.heavy,
            &mut self.resource_intensive,
        ] {
            *r = r.map(|v| v * factor);
        }
        self
    }

    pub fn with_headroom(mut self, headroom: f64) -> Self {
        self.headroom = headroom.clamp(0.05, 1.0);
        self
    }

    /// The account's limit for `category` (requests per second), before headroom.
    pub fn limit(&self, category: Category) -> Option<f64> {
        match category {
            Category::Light => self.light,
            Category::Medium => self.medium,
            Category::Heavy => self.heavy,
            Category::ResourceIntensive => self.resource_intensive,
        }
    }

    fn interval(&self, category: Category) -> Option<Duration> {
        self.limit(category)
            .filter(|r| *r > 0.0 && r.is_finite())
            .map(|r| Duration::from_secs_f64(1.0 / (r * self.headroom)))
    }
}

#[derive(Debug)]
struct Bucket {
    interval: Option<Duration>,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    /// Earliest time the next request may start.
    next: Instant,
    /// The daily quota is exhausted until this time.
    blocked_until: Option<DateTime<Utc>>,
}

/// Why a request may not be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    DailyLimit(DateTime<Utc>),
}

/// Pacing state for every (budget account, category) pair. Share it (`Arc`) between every client
/// that spends the same account's budget; clones of a [`crate::ZoomClient`] share theirs.
#[derive(Debug)]
pub struct RateLimiter {
    profile: RateProfile,
    /// The part of the profile this limiter may use now (f64 bits; 1.0 = all of it). Clients in
    /// other processes that spend the same account's budget get the rest.
    share: AtomicU64,
    buckets: Mutex<HashMap<(String, Category), Arc<Bucket>>>,
}

impl RateLimiter {
    pub fn new(profile: RateProfile) -> Arc<Self> {
        Arc::new(Self {
            profile,
            share: AtomicU64::new(1.0f64.to_bits()),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    pub fn profile(&self) -> &RateProfile {
        &self.profile
    }

    /// The share of the profile this limiter paces at (0.01..=1.0).
    pub fn share(&self) -> f64 {
        f64::from_bits(self.share.load(Ordering::Relaxed))
    }

    /// Paces at `share` of the profile from the next reservation on (clamped to 0.01..=1.0;
    /// not a number: unchanged). Slots already handed out keep their time.
    pub fn set_share(&self, share: f64) {
        if !share.is_nan() {
            self.share
                .store(share.clamp(0.01, 1.0).to_bits(), Ordering::Relaxed);
        }
    }

    fn bucket(&self, budget: &str, category: Category) -> Arc<Bucket> {
        let mut buckets = self.buckets.lock().expect("limiter lock");
        buckets
            .entry((budget.to_string(), category))
            .or_insert_with(|| {
                Arc::new(Bucket {
                    interval: self.profile.interval(category),
                    state: Mutex::new(BucketState {
                        next: Instant::now(),
                        blocked_until: None,
                    }),
                })
            })
            .clone()
    }

    /// Reserve the next slot of the category and return when it starts; the caller sleeps until
    /// then (or gives up if that is past its deadline).
    pub(crate) fn reserve(&self, budget: &str, category: Category) -> Result<Instant, Denied> {
        let bucket = self.bucket(budget, category);
        let mut state = bucket.state.lock().expect("bucket lock");
        if let Some(until) = state.blocked_until {
            if Utc::now() < until {
                return Err(Denied::DailyLimit(until));
            }
            state.blocked_until = None;
        }
        let now = Instant::now();
        let slot = state.next.max(now);
        if let Some(interval) = bucket.interval {
            state.next = slot + interval.div_f64(self.share());
        }
        Ok(slot)
    }

    /// Zoom answered 429 (per-second): nobody in this category starts before `until`.
    pub(crate) fn pause_until(&self, budget: &str, category: Category, until: Instant) {
        let bucket = self.bucket(budget, category);
        let mut state = bucket.state.lock().expect("bucket lock");
        if state.next < until {
            state.next = until;
        }
    }

    /// The daily quota of the category is exhausted until `reset_at`.
    pub(crate) fn block_until(&self, budget: &str, category: Category, reset_at: DateTime<Utc>) {
        let bucket = self.bucket(budget, category);
        let mut state = bucket.state.lock().expect("bucket lock");
        state.blocked_until = Some(state.blocked_until.map_or(reset_at, |b| b.max(reset_at)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_at_the_configured_rate() {
        let limiter = RateLimiter::new(RateProfile::business().with_headroom(1.0));
        let start = Instant::now();
        let slots: Vec<_> = (0..61)
            .map(|_| limiter.reserve("acct", Category::Medium).unwrap())
            .collect();
        // 61 requests at 60/s: the last one starts one second after the first.
        let span = slots[60] - slots[0];
        assert!(
            (span.as_secs_f64() - 1.0).abs() < 0.001,
            "61 Medium slots span {span:?}"
        );
        assert_eq!(slots[0], start);
        // Other categories and accounts have their own budgets.
        assert_eq!(limiter.reserve("acct", Category::Light).unwrap(), start);
        assert_eq!(limiter.reserve("other", Category::Medium).unwrap(), start);
    }

    #[tokio::test(start_paused = true)]
    async fn a_share_slows_pacing_from_the_next_slot() {
        let limiter = RateLimiter::new(RateProfile::business().with_headroom(1.0));
        let medium = || limiter.reserve("acct", Category::Medium).unwrap();
        let first = medium();
        let full_rate = medium() - first;
        limiter.set_share(0.25);
        let a = medium();
        let quarter_rate = medium() - a;
        assert!((full_rate.as_secs_f64() - 1.0 / 60.0).abs() < 1e-6);
        assert!((quarter_rate.as_secs_f64() - 4.0 / 60.0).abs() < 1e-6);
        // Out-of-range shares are clamped, NaN ignored.
        limiter.set_share(7.0);
        assert_eq!(limiter.share(), 1.0);
        limiter.set_share(f64::NAN);
        assert_eq!(limiter.share(), 1.0);
        limiter.set_share(0.0);
        assert_eq!(limiter.share(), 0.01);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_and_daily_block() {
        let limiter = RateLimiter::new(RateProfile::pro());
        let later = Instant::now() + Duration::from_secs(2);
        limiter.pause_until("a", Category::Heavy, later);
        assert!(limiter.reserve("a", Category::Heavy).unwrap() >= later);
        let reset = Utc::now() + chrono::Duration::hours(3);
        limiter.block_until("a", Category::Heavy, reset);
        assert_eq!(
            limiter.reserve("a", Category::Heavy),
            Err(Denied::DailyLimit(reset))
        );
        assert!(limiter.reserve("a", Category::Medium).is_ok());
    }

    #[test]
    fn profiles_and_scaling() {
        let p = RateProfile::business().scaled(10.0);
        assert_eq!(p.limit(Category::Medium), Some(600.0));
        assert!(
            (RateProfile::business()
                .limit(Category::ResourceIntensive)
                .unwrap()
                - 1.0 / 3.0)
                .abs()
                < 1e-9
        );
        assert_eq!(RateProfile::unlimited().limit(Category::Light), None);
        assert_eq!(RateProfile::for_plan("Pro"), RateProfile::pro());
        assert_eq!(RateProfile::for_plan("Education"), RateProfile::business());
        assert_eq!(RateProfile::for_plan("Free"), RateProfile::free());
        assert_eq!(
            Category::from_header("Resource-intensive"),
            Some(Category::ResourceIntensive)
        );
    }
}
