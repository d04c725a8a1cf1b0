//! Per-client counters a task can snapshot and report (requests by endpoint and category, 429s,
//! retries). Shared by every clone of a client; a clone with counters of its own
//! (`ZoomClient::with_own_counters`) counts in both.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::ratelimit::Category;

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, Category), u64>>,
    rate_limited: AtomicU64,
    retries: AtomicU64,
    token_rejections: AtomicU64,
    transport_errors: AtomicU64,
    server_errors: AtomicU64,
    daily_limit_hits: AtomicU64,
    page_restarts: AtomicU64,
    /// The counters this one's requests count in too.
    parent: Option<Arc<Metrics>>,
}

impl Metrics {
    /// Counters of their own whose every count also goes to `parent`.
    pub(crate) fn within(parent: Arc<Metrics>) -> Self {
        Self {
            parent: Some(parent),
            ..Self::default()
        }
    }

    /// Counts in these counters and every ancestor's.
    fn each(&self, count: impl Fn(&Metrics)) {
        let mut next = Some(self);
        while let Some(m) = next {
            count(m);
            next = m.parent.as_deref();
        }
    }

    pub(crate) fn request(&self, endpoint: &'static str, category: Category) {
        self.each(|m| {
            *m.requests
                .lock()
                .expect("metrics lock")
                .entry((endpoint, category))
                .or_default() += 1;
        });
    }

    pub(crate) fn rate_limited(&self) {
        self.each(|m| {
            m.rate_limited.fetch_add(1, Ordering::Relaxed);
        });
    }
    pub(crate) fn retry(&self) {
        self.each(|m| {
            m.retries.fetch_add(1, Ordering::Relaxed);
        });
    }
    pub(crate) fn token_rejected(&self) {
        self.each(|m| {
            m.token_rejections.fetch_add(1, Ordering::Relaxed);
        });
    }
    pub(crate) fn transport_error(&self) {
        self.each(|m| {
            m.transport_errors.fetch_add(1, Ordering::Relaxed);
        });
    }
    pub(crate) fn server_error(&self) {
        self.each(|m| {
            m.server_errors.fetch_add(1, Ordering::Relaxed);
        });
    }
    pub(crate) fn daily_limit(&self) {
        self.each(|m| {
            m.daily_limit_hits.fetch_add(1, Ordering::Relaxed);
        });
    }
    pub(crate) fn page_restart(&self) {
        self.each(|m| {
            m.page_restarts.fetch_add(1, Ordering::Relaxed);
        });
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        let requests = self.requests.lock().expect("metrics lock").clone();
        let mut by_endpoint = BTreeMap::new();
        let mut by_category = BTreeMap::new();
        for ((endpoint, category), n) in &requests {
            *by_endpoint.entry(endpoint.to_string()).or_default() += n;
            *by_category
                .entry(category.as_str().to_string())
                .or_default() += n;
        }
        MetricsSnapshot {
            requests: requests.values().sum(),
            requests_by_endpoint: by_endpoint,
            requests_by_category: by_category,
            rate_limited_429: self.rate_limited.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            token_rejections: self.token_rejections.load(Ordering::Relaxed),
            transport_errors: self.transport_errors.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
            daily_limit_hits: self.daily_limit_hits.load(Ordering::Relaxed),
            page_restarts: self.page_restarts.load(Ordering::Relaxed),
        }
    }
}

/// Counters of one client (and its clones) since it was built. Every HTTP attempt counts as a
/// request, retries included: this is what Zoom charges against the budget.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MetricsSnapshot {
    pub requests: u64,
    /// Keyed by endpoint template, e.g. `GET /accounts/{accountId}/users`.
    pub requests_by_endpoint: BTreeMap<String, u64>,
    /// Keyed by category name (`Light`, `Medium`, `Heavy`, `Resource-intensive`).
    pub requests_by_category: BTreeMap<String, u64>,
    pub rate_limited_429: u64,
    pub retries: u64,
    /// 401 / code 124 answers that made the client ask its token source for a new token.
    pub token_rejections: u64,
    pub transport_errors: u64,
    pub server_errors: u64,
    pub daily_limit_hits: u64,
    /// Listings restarted from page 1 after an expired page token.
    pub page_restarts: u64,
}
