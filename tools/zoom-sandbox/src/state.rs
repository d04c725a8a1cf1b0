//! What every handler sees.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

use crate::config::SandboxConfig;
use crate::tenant::Tenant;

pub struct SandboxState {
    pub config: SandboxConfig,
    pub tenant: Tenant,
    pub clock: Clock,
    // OAuth/gate side:
    pub oauth: crate::oauth::store::OAuthStore,
    pub rate_limiter: crate::ratelimit::RateLimiter,
    pub faults: crate::faults::Faults,
    pub stats: crate::stats::Stats,
    /// The last few `GET /report/users` reports, per overlay version (the API side's cache).
    pub(crate) report_users: crate::users_report::UsersReportCache,
}

impl SandboxState {
    pub fn new(config: SandboxConfig) -> Self {
        let tenant = Tenant::generate(config.tenant.clone());
        Self {
            oauth: crate::oauth::store::OAuthStore::new(&config),
            rate_limiter: crate::ratelimit::RateLimiter::new(config.rate_limits.clone()),
            faults: crate::faults::Faults::new(config.faults.clone()),
            stats: crate::stats::Stats::default(),
            report_users: crate::users_report::UsersReportCache::default(),
            clock: Clock::starting_at(config.clock_start),
            config,
            tenant,
        }
    }
}

/// The sandbox's notion of now: real time plus an offset tests can advance
/// (expire codes, tokens and page tokens; simulate the next day) without sleeping.
#[derive(Debug, Default)]
pub struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    /// Real time (`None`), or a clock that reads `start` now and runs on from there.
    pub fn starting_at(start: Option<DateTime<Utc>>) -> Self {
        let clock = Self::default();
        if let Some(start) = start {
            clock.move_to(start);
        }
        clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.offset_secs.load(Ordering::Relaxed))
    }

    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }

    /// Moves the clock (either way) so that it reads `t` now and runs on from there. The
    /// offset has whole seconds, rounded up: the clock reads less than a second after `t`,
    /// never before it.
    pub fn move_to(&self, t: DateTime<Utc>) {
        let gap = t - self.now();
        // `num_seconds` truncates toward zero; a positive remainder rounds up.
        let secs = gap.num_seconds() + i64::from(gap.subsec_nanos() > 0);
        self.advance(secs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_moved_to_a_time_reads_it_and_runs_on() {
        let t: DateTime<Utc> = "2026-06-02T12:00:00.250Z".parse().unwrap();
        let clock = Clock::starting_at(Some(t));
        let read = clock.now();
        assert!(
            read >= t && read - t < chrono::Duration::seconds(2),
            "{read}"
        );
        // Back and forth: still never before the target.
        let earlier = t - chrono::Duration::days(200);
        clock.move_to(earlier);
        let read = clock.now();
        assert!(read >= earlier && read - earlier < chrono::Duration::seconds(2));
        clock.advance(60);
        assert!(clock.now() >= earlier + chrono::Duration::seconds(60));
        // Real time when not started elsewhere.
        let real = Clock::starting_at(None).now();
        assert!((real - Utc::now()).num_seconds().abs() < 2);
    }
}
