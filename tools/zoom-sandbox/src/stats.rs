//! Request statistics: what the sandbox served, for tests and benchmarks.
//! In process: `state.stats.snapshot()`; over HTTP: `GET /_sandbox/stats`
//! (`POST /_sandbox/stats/reset` clears them).

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ratelimit::{Category, LimitKind};

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// When the counters were last reset (sandbox clock).
    pub since: Option<DateTime<Utc>>,
    /// Every request that went through the `/v2` gate or the OAuth endpoints.
    pub requests: u64,
    /// By `"{METHOD} {matched path template}"`, e.g. `"GET /v2/accounts/{accountId}/users"`.
    pub by_endpoint: BTreeMap<String, u64>,
    /// `/v2` requests by rate-limit category (`Light`, `Medium`, `Heavy`, `Resource-intensive`).
    pub by_category: BTreeMap<String, u64>,
    /// By HTTP status (dropped connections have none; see `faults`).
    pub by_status: BTreeMap<u16, u64>,
    /// 429s from the rate limiter (not injected ones): all, per-second and daily.
    pub rate_limited: u64,
    pub rate_limited_qps: u64,
    pub rate_limited_daily: u64,
    /// Rate-limiter 429s by category.
    pub rate_limited_by_category: BTreeMap<String, u64>,
    /// Injected faults by kind (`500`, `502`, `503`, `timeout`, `drop`, `429`, `latency`; for
    /// answers lost after the request was carried out: `lost_drop`, `lost_502`, `lost_timeout`).
    pub faults: BTreeMap<String, u64>,
    /// Requests carried out whose answer was then lost, by `"{METHOD} {template}"` (e.g.
    /// `"POST /oauth/token"`).
    #[serde(default)]
    pub lost_answers: BTreeMap<String, u64>,
    /// Successful token grants by grant type (`authorization_code`, `refresh_token`,
    /// `account_credentials`, `test`).
    pub token_grants: BTreeMap<String, u64>,
    /// Failed token requests by grant type (`unknown` when missing or unsupported).
    pub token_failures: BTreeMap<String, u64>,
    /// Grants ended by `/oauth/revoke`, a newer authorization, a webhook or a fault.
    pub revocations: u64,
    /// `/v2` requests being served now, and the most at once since the reset (how much a
    /// client overlaps its requests).
    #[serde(default)]
    pub in_flight: u64,
    #[serde(default)]
    pub max_in_flight: u64,
}

impl StatsSnapshot {
    /// Requests to one endpoint, e.g. `snapshot.endpoint("GET", "/v2/users")`.
    pub fn endpoint(&self, method: &str, template: &str) -> u64 {
        self.by_endpoint
            .get(&format!("{method} {template}"))
            .copied()
            .unwrap_or(0)
    }

    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    pub fn grants(&self, grant_type: &str) -> u64 {
        self.token_grants.get(grant_type).copied().unwrap_or(0)
    }

    pub fn fault(&self, kind: &str) -> u64 {
        self.faults.get(kind).copied().unwrap_or(0)
    }

    /// Answers lost after the request was carried out, all endpoints.
    pub fn lost(&self) -> u64 {
        self.lost_answers.values().sum()
    }

    /// Answers lost at one endpoint, e.g. `snapshot.lost_at("POST", "/oauth/token")`.
    pub fn lost_at(&self, method: &str, template: &str) -> u64 {
        self.lost_answers
            .get(&format!("{method} {template}"))
            .copied()
            .unwrap_or(0)
    }
}

/// A request in flight (see [`Stats::begin_request`]).
pub struct InFlight<'a>(&'a Stats);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.with(|s| s.in_flight = s.in_flight.saturating_sub(1));
    }
}

#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<StatsSnapshot>,
    /// `Some` once [`Stats::keep_journal`] was called.
    journal: Mutex<Option<Vec<Served>>>,
}

/// One `/v2` request as served, for tests that look at the order of a client's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub method: String,
    /// The path as requested, e.g. `/v2/users/abc/meetings`.
    pub path: String,
    /// Its rate-limit category (`None` for a path no route matched).
    pub category: Option<Category>,
    pub began: std::time::Instant,
    pub ended: std::time::Instant,
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    if let Some(v) = map.get_mut(key) {
        *v += 1;
    } else {
        map.insert(key.to_string(), 1);
    }
}

impl Stats {
    fn with<R>(&self, f: impl FnOnce(&mut StatsSnapshot) -> R) -> R {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        self.with(|s| s.clone())
    }

    pub fn reset(&self, now: DateTime<Utc>) {
        self.with(|s| {
            *s = StatsSnapshot {
                since: Some(now),
                in_flight: s.in_flight,
                max_in_flight: s.in_flight,
                ..StatsSnapshot::default()
            }
        });
    }

    /// A `/v2` request starts; it counts as in flight until the guard drops (also when the
    /// client goes away mid-request).
    pub fn begin_request(&self) -> InFlight<'_> {
        self.with(|s| {
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
        });
        InFlight(self)
    }

    /// From now on, every `/v2` request is kept in the journal (tests only: it grows).
    pub fn keep_journal(&self) {
        let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        journal.get_or_insert_with(Vec::new);
    }

    /// The requests kept since [`Stats::keep_journal`], in the order they ended.
    pub fn journal(&self) -> Vec<Served> {
        let journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        journal.clone().unwrap_or_default()
    }

    /// Keeps `served` if the journal is kept.
    pub fn record_served(&self, served: impl FnOnce() -> Served) {
        let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(journal) = journal.as_mut() {
            journal.push(served());
        }
    }

    /// One finished request. `status` is `None` for a dropped connection.
    pub fn record_request(
        &self,
        method: &str,
        template: &str,
        category: Option<Category>,
        status: Option<u16>,
    ) {
        self.with(|s| {
            s.requests += 1;
            bump(&mut s.by_endpoint, &format!("{method} {template}"));
            if let Some(c) = category {
                bump(&mut s.by_category, c.header_name());
            }
            if let Some(status) = status {
                *s.by_status.entry(status).or_default() += 1;
            }
        });
    }

    pub fn record_rate_limited(&self, category: Category, kind: LimitKind) {
        self.with(|s| {
            s.rate_limited += 1;
            match kind {
                LimitKind::Qps => s.rate_limited_qps += 1,
                LimitKind::Daily => s.rate_limited_daily += 1,
            }
            bump(&mut s.rate_limited_by_category, category.header_name());
        });
    }

    pub fn record_fault(&self, kind: &str) {
        self.with(|s| bump(&mut s.faults, kind));
    }

    /// A carried-out request whose answer was lost (`kind`: `lost_drop`, `lost_502`,
    /// `lost_timeout`).
    pub fn record_lost_answer(&self, kind: &str, method: &str, template: &str) {
        self.with(|s| {
            bump(&mut s.faults, kind);
            bump(&mut s.lost_answers, &format!("{method} {template}"));
        });
    }

    pub fn record_grant(&self, grant_type: &str) {
        self.with(|s| bump(&mut s.token_grants, grant_type));
    }

    pub fn record_grant_failure(&self, grant_type: &str) {
        self.with(|s| bump(&mut s.token_failures, grant_type));
    }

    pub fn record_revocations(&self, n: u64) {
        if n > 0 {
            self.with(|s| s.revocations += n);
        }
    }
}
