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
}

impl SandboxState {
    pub fn new(config: SandboxConfig) -> Self {
        let tenant = Tenant::generate(config.tenant.clone());
        Self {
            oauth: crate::oauth::store::OAuthStore::new(&config),
            rate_limiter: crate::ratelimit::RateLimiter::new(config.rate_limits.clone()),
            faults: crate::faults::Faults::new(config.faults.clone()),
            stats: crate::stats::Stats::default(),
            config,
            tenant,
            clock: Clock::default(),
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
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.offset_secs.load(Ordering::Relaxed))
    }

    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}
