//! Client-side pacing per (budget account, rate-limit category).
//!
//! Zoom limits requests per account and category (Light/Medium/Heavy/Resource-intensive) with
//! per-second rates and daily caps, and shares the budget among every app on the account (a
//! master's calls against its sub accounts draw on the master's budget). The limiter spaces
//! requests evenly at the configured rate so that a correctly configured client sees (almost)
//! no 429 answers in steady state while many requests are in flight.
//!
//! The configured rate is an upper bound, not a promise: the account may be on a smaller plan,
//! other apps spend the same budget, Zoom changes the numbers. Each bucket therefore paces at
//! a learned part of it (its *pace*, 1.0 until Zoom says otherwise):
//! - a per-second 429 cuts the pace by [`CUT_ON_429`] (once per [`CUT_GAP`], since the
//!   requests already in flight were sent at the old pace) and remembers the pace it was met at;
//! - `X-RateLimit-Limit` on a per-second answer caps the pace at the account's real limit;
//!   `X-RateLimit-Remaining` under [`LOW_REMAINING`] of it (someone else is draining the
//!   bucket) trims it by [`TRIM_ON_LOW`] (once per [`TRIM_GAP`]), before a 429 comes;
//! - successes win back [`RECOVERY_PER_SEC`] of the configured rate per second up to just
//!   below the pace the last 429 was met at, then grow it by [`PROBE_PER_SEC`] of itself per
//!   second; a 429 is forgotten after [`FORGET_429_AFTER`].
//!
//! Without 429s and without the headers the pace stays 1.0: the configured rate, as before.

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
    /// The learned part of the configured rate this bucket paces at (see the module docs).
    pace: f64,
    /// The most the account's `X-RateLimit-Limit` allows, as a part of the configured rate.
    cap: f64,
    /// The pace the last per-second 429 was met at (recovery above it is slow).
    limited_at: f64,
    /// A 429 holds the category until then (slots handed out before it must wait too).
    paused_until: Option<Instant>,
    /// When the pace last grew (recovery is by time, not by request count).
    grown_at: Instant,
    /// The daily cap and what is left of it, as the last answer's headers said.
    daily: Option<(u64, u64)>,
    /// When the pace was last cut by a 429, or trimmed on a low `X-RateLimit-Remaining`.
    cut_at: Option<Instant>,
    trimmed_at: Option<Instant>,
}

/// The pace a per-second 429 leaves: this part of what it was.
pub(crate) const CUT_ON_429: f64 = 0.7;
/// At most one cut per this long: the answers to requests sent before the cut arrive after it.
pub(crate) const CUT_GAP: Duration = Duration::from_secs(1);
/// `X-RateLimit-Remaining` below this part of `X-RateLimit-Limit` trims the pace.
pub(crate) const LOW_REMAINING: f64 = 0.25;
/// The pace a low `X-RateLimit-Remaining` leaves: this part of what it was.
pub(crate) const TRIM_ON_LOW: f64 = 0.9;
/// At most one trim per this long.
pub(crate) const TRIM_GAP: Duration = Duration::from_millis(250);
/// What a second of successes wins back, as a part of the configured rate, up to
/// [`RECOVER_TO`] of the pace the last 429 was met at.
pub(crate) const RECOVERY_PER_SEC: f64 = 0.05;
pub(crate) const RECOVER_TO: f64 = 0.95;
/// Beyond that, the pace grows by this part of itself per second: the limit is probed slowly.
pub(crate) const PROBE_PER_SEC: f64 = 0.002;
/// A 429 older than this no longer holds recovery back (the account's budget may have grown:
/// another app stopped).
pub(crate) const FORGET_429_AFTER: Duration = Duration::from_secs(60);
/// The pace never falls below this (1% of Business Medium is 0.6 requests a second).
pub(crate) const MIN_PACE: f64 = 0.01;

/// What Zoom's rate-limit headers said: a per-second budget (`X-RateLimit-Type: QPS`) or the
/// daily cap (`Daily-limit`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LimitHeaders {
    pub daily: bool,
    pub limit: u64,
    pub remaining: u64,
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
                        pace: 1.0,
                        cap: 1.0,
                        limited_at: f64::INFINITY,
                        paused_until: None,
                        daily: None,
                        grown_at: Instant::now(),
                        cut_at: None,
                        trimmed_at: None,
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
            state.next = slot + interval.div_f64(self.share() * state.pace);
        }
        Ok(slot)
    }

    /// When the next request of `category` on `budget` could start (a peek: nothing reserved).
    pub fn next_slot(&self, budget: &str, category: Category) -> Instant {
        let bucket = self.bucket(budget, category);
        let state = bucket.state.lock().expect("bucket lock");
        state.next.max(Instant::now())
    }

    /// The daily cap of `category` and what is left of it today, as Zoom's last answer said
    /// (`None`: no answer with the daily headers yet).
    pub fn daily_left(&self, budget: &str, category: Category) -> Option<(u64, u64)> {
        let bucket = self.bucket(budget, category);
        let state = bucket.state.lock().expect("bucket lock");
        state.daily
    }

    /// The part of the configured rate `category` of `budget` paces at now (1.0: all of it).
    pub fn pace(&self, budget: &str, category: Category) -> f64 {
        self.bucket(budget, category)
            .state
            .lock()
            .expect("bucket lock")
            .pace
    }

    /// The pace of every category of `budget` this limiter has paced.
    pub fn paces(&self, budget: &str) -> Vec<(Category, f64)> {
        let buckets: Vec<(Category, Arc<Bucket>)> = self
            .buckets
            .lock()
            .expect("limiter lock")
            .iter()
            .filter(|((b, _), _)| b == budget)
            .map(|((_, c), bucket)| (*c, bucket.clone()))
            .collect();
        let mut paces: Vec<(Category, f64)> = buckets
            .into_iter()
            .map(|(c, bucket)| (c, bucket.state.lock().expect("bucket lock").pace))
            .collect();
        paces.sort_by_key(|(c, _)| *c);
        paces
    }

    /// Starts `category` of `budget` at `pace` (what another process of the same connection
    /// learned), unless this limiter already paces lower.
    pub fn adopt_pace(&self, budget: &str, category: Category, pace: f64) {
        if !pace.is_finite() {
            return;
        }
        let bucket = self.bucket(budget, category);
        let mut state = bucket.state.lock().expect("bucket lock");
        state.pace = state.pace.min(pace.clamp(MIN_PACE, 1.0));
        state.grown_at = Instant::now();
    }

    /// Zoom answered a request of `category` (2xx): the pace recovers, within what the headers
    /// (when Zoom sent them for a per-second budget) say the account allows.
    pub(crate) fn record_success(
        &self,
        budget: &str,
        category: Category,
        headers: Option<LimitHeaders>,
    ) {
        let configured = self.profile.limit(category);
        let bucket = self.bucket(budget, category);
        let mut state = bucket.state.lock().expect("bucket lock");
        let now = Instant::now();
        if let Some(h) = headers.filter(|h| h.daily) {
            state.daily = Some((h.limit, h.remaining));
        }
        let headers = headers.filter(|h| !h.daily);
        // Resource-intensive's window is a minute: its header counts are not per second.
        if let (Some(h), Some(configured), false) =
            (headers, configured, category == Category::ResourceIntensive)
            && h.limit > 0
            && configured > 0.0
        {
            state.cap = (h.limit as f64 / configured).clamp(MIN_PACE, 1.0);
            if (h.remaining as f64) < LOW_REMAINING * h.limit as f64 {
                // The bucket runs low: trim (not more often than the answers can show the
                // effect), and do not grow meanwhile.
                if state.trimmed_at.is_none_or(|t| now - t >= TRIM_GAP) {
                    state.pace = (state.pace * TRIM_ON_LOW).max(MIN_PACE);
                    state.trimmed_at = Some(now);
                }
                state.pace = state.pace.min(state.cap);
                state.grown_at = now;
                return;
            }
        }
        let elapsed = (now - state.grown_at)
            .min(Duration::from_secs(1))
            .as_secs_f64();
        state.grown_at = now;
        if state.cut_at.is_some_and(|t| now - t >= FORGET_429_AFTER) {
            state.limited_at = f64::INFINITY;
        }
        let below_the_429 = state.limited_at * RECOVER_TO;
        let grown = if state.pace < below_the_429 {
            (state.pace + RECOVERY_PER_SEC * elapsed).min(below_the_429)
        } else {
            state.pace * (1.0 + PROBE_PER_SEC * elapsed)
        };
        state.pace = grown.min(state.cap).max(MIN_PACE);
    }

    /// Zoom answered a per-second 429 for `category`: the pace is cut (once per burst).
    pub(crate) fn record_rate_limited(&self, budget: &str, category: Category) {
        let bucket = self.bucket(budget, category);
        let mut state = bucket.state.lock().expect("bucket lock");
        let now = Instant::now();
        if state.cut_at.is_some_and(|t| now - t < CUT_GAP) {
            return;
        }
        state.limited_at = state.pace;
        state.pace = (state.pace * CUT_ON_429).max(MIN_PACE);
        state.cut_at = Some(now);
        state.grown_at = now;
    }

    /// Zoom answered 429 (per-second): nobody in this category starts before `until`.
    pub(crate) fn pause_until(&self, budget: &str, category: Category, until: Instant) {
        let bucket = self.bucket(budget, category);
        let mut state = bucket.state.lock().expect("bucket lock");
        if state.next < until {
            state.next = until;
        }
        if state.paused_until.is_none_or(|p| p < until) {
            state.paused_until = Some(until);
        }
    }

    /// Whether a 429 paused the category after a slot was handed out: the slot's holder must
    /// reserve again rather than send into an empty bucket.
    pub(crate) fn paused(&self, budget: &str, category: Category) -> bool {
        let bucket = self.bucket(budget, category);
        let state = bucket.state.lock().expect("bucket lock");
        state.paused_until.is_some_and(|p| Instant::now() < p)
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

    const M: Category = Category::Medium;

    fn business() -> Arc<RateLimiter> {
        RateLimiter::new(RateProfile::business().with_headroom(1.0))
    }

    /// The spacing of the next two Medium slots, in seconds.
    fn spacing(limiter: &RateLimiter) -> f64 {
        let a = limiter.reserve("acct", M).unwrap();
        let b = limiter.reserve("acct", M).unwrap();
        (b - a).as_secs_f64()
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_cuts_the_pace_once_per_burst() {
        let limiter = business();
        limiter.record_rate_limited("acct", M);
        assert!((limiter.pace("acct", M) - CUT_ON_429).abs() < 1e-9);
        // The other answers of the same burst do not cut again.
        limiter.record_rate_limited("acct", M);
        assert!((limiter.pace("acct", M) - CUT_ON_429).abs() < 1e-9);
        tokio::time::advance(CUT_GAP).await;
        limiter.record_rate_limited("acct", M);
        assert!((limiter.pace("acct", M) - CUT_ON_429 * CUT_ON_429).abs() < 1e-9);
        // Slots are spaced at the pace: 60/s × 0.49.
        let gap = spacing(&limiter);
        assert!((gap - 1.0 / (60.0 * 0.49)).abs() < 1e-6, "{gap}");
        // Other categories and budgets keep theirs.
        assert_eq!(limiter.pace("acct", Category::Light), 1.0);
        assert_eq!(limiter.pace("other", M), 1.0);
        // Never below the floor.
        for _ in 0..50 {
            tokio::time::advance(CUT_GAP).await;
            limiter.record_rate_limited("acct", M);
        }
        assert_eq!(limiter.pace("acct", M), MIN_PACE);
    }

    #[tokio::test(start_paused = true)]
    async fn successes_recover_fast_below_the_429_then_probe() {
        let limiter = business();
        limiter.record_rate_limited("acct", M); // met at 1.0, now 0.7
        let mut paces = vec![];
        for _ in 0..10 {
            tokio::time::advance(Duration::from_secs(1)).await;
            limiter.record_success("acct", M, None);
            paces.push(limiter.pace("acct", M));
        }
        // 0.05 a second up to 0.95 of the pace the 429 was met at …
        assert!((paces[0] - 0.75).abs() < 1e-9, "{paces:?}");
        assert!((paces[3] - 0.90).abs() < 1e-9, "{paces:?}");
        assert!((paces[4] - 0.95).abs() < 1e-9, "{paces:?}");
        // … then 0.2% of itself a second.
        assert!(
            (paces[5] - 0.95 * (1.0 + PROBE_PER_SEC)).abs() < 1e-9,
            "{paces:?}"
        );
        // Never above the configured rate; the 429 is forgotten after a minute.
        for _ in 0..120 {
            tokio::time::advance(Duration::from_secs(1)).await;
            limiter.record_success("acct", M, None);
        }
        assert_eq!(limiter.pace("acct", M), 1.0);
        // Without any 429 nothing changes: the configured rate as before.
        assert_eq!(limiter.pace("acct", Category::Light), 1.0);
        limiter.record_success("acct", Category::Light, None);
        assert_eq!(limiter.pace("acct", Category::Light), 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_limit_header_caps_and_a_low_remaining_trims() {
        let limiter = business();
        // The account allows 20 Medium a second, not 60.
        let h = |remaining| LimitHeaders {
            daily: false,
            limit: 20,
            remaining,
        };
        limiter.record_success("acct", M, Some(h(19)));
        assert!((limiter.pace("acct", M) - 1.0 / 3.0).abs() < 1e-9);
        let gap = spacing(&limiter);
        assert!((gap - 1.0 / 20.0).abs() < 1e-6, "{gap}");
        // Remaining under a quarter of the limit: trimmed, once per 250 ms, no growth between.
        limiter.record_success("acct", M, Some(h(4)));
        let trimmed = limiter.pace("acct", M);
        assert!((trimmed - TRIM_ON_LOW / 3.0).abs() < 1e-9, "{trimmed}");
        tokio::time::advance(Duration::from_millis(100)).await;
        limiter.record_success("acct", M, Some(h(3)));
        assert_eq!(limiter.pace("acct", M), trimmed);
        tokio::time::advance(TRIM_GAP).await;
        limiter.record_success("acct", M, Some(h(3)));
        assert!((limiter.pace("acct", M) - trimmed * TRIM_ON_LOW).abs() < 1e-9);
        // A full bucket again: recovery, up to the cap only.
        for _ in 0..30 {
            tokio::time::advance(Duration::from_secs(1)).await;
            limiter.record_success("acct", M, Some(h(19)));
        }
        assert!((limiter.pace("acct", M) - 1.0 / 3.0).abs() < 1e-9);
        // Resource-intensive counts per minute: its header is not a per-second limit.
        limiter.record_success("acct", Category::ResourceIntensive, Some(h(19)));
        assert_eq!(limiter.pace("acct", Category::ResourceIntensive), 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_daily_headers_are_kept_and_do_not_pace() {
        let limiter = business();
        let heavy = Category::Heavy;
        assert_eq!(limiter.daily_left("acct", heavy), None);
        let daily = |remaining| LimitHeaders {
            daily: true,
            limit: 60_000,
            remaining,
        };
        limiter.record_success("acct", heavy, Some(daily(59_000)));
        assert_eq!(limiter.daily_left("acct", heavy), Some((60_000, 59_000)));
        // A count far below the per-second rate is not a per-second limit: no cap, no trim.
        limiter.record_success("acct", heavy, Some(daily(3)));
        assert_eq!(limiter.daily_left("acct", heavy), Some((60_000, 3)));
        assert_eq!(limiter.pace("acct", heavy), 1.0);
        assert_eq!(limiter.daily_left("other", heavy), None);
        // The next slot is a peek: it moves only when a request is admitted.
        let first = limiter.next_slot("acct", heavy);
        assert_eq!(limiter.next_slot("acct", heavy), first);
        limiter.reserve("acct", heavy).unwrap();
        limiter.reserve("acct", heavy).unwrap();
        assert!(limiter.next_slot("acct", heavy) > first);
    }

    #[tokio::test(start_paused = true)]
    async fn an_adopted_pace_only_lowers() {
        let limiter = business();
        limiter.adopt_pace("acct", M, 0.4);
        assert_eq!(limiter.pace("acct", M), 0.4);
        limiter.adopt_pace("acct", M, 0.9);
        assert_eq!(limiter.pace("acct", M), 0.4);
        limiter.adopt_pace("acct", M, f64::NAN);
        assert_eq!(limiter.pace("acct", M), 0.4);
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
