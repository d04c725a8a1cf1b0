//! The use cases' dependencies and tunables, built once per cold start; the request handling
//! (`connect`, `webhook`) and the routing (crate root) are `impl App` blocks of their own.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ports::{
    ConnectionStore, FixedWebhookSecret, OAuthStateStore, TokenStore, WebhookSecretSource,
    ZoomRegion,
};
use zoom::Secret;

use crate::config::DEFAULT_RETENTION_DAYS;
use crate::gateway::ZoomAuth;

pub use sync_domain::Clock;

/// Tunables of the use cases.
#[derive(Debug, Clone)]
pub struct Options {
    /// The deployment region (whose Zoom app authorizes).
    pub region: ZoomRegion,
    /// How long a `/connect` state may wait for its callback.
    pub state_ttl: chrono::Duration,
    /// How long a deauthorized connection's records are kept before purge.
    pub deauthorized_retention: chrono::Duration,
    /// The Zoom accounts this deployment may connect (empty: any the admin's links name).
    pub allowed_zoom_accounts: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            region: ZoomRegion::Na,
            state_ttl: ports::stores::OAUTH_STATE_TTL,
            deauthorized_retention: chrono::Duration::days(DEFAULT_RETENTION_DAYS),
            allowed_zoom_accounts: Vec::new(),
        }
    }
}

/// Everything a request needs, built once per cold start.
#[derive(Clone)]
pub struct App {
    pub options: Options,
    pub states: Arc<dyn OAuthStateStore>,
    pub connections: Arc<dyn ConnectionStore>,
    pub tokens: Arc<dyn TokenStore>,
    pub zoom: Arc<dyn ZoomAuth>,
    /// Zoom's webhook secret token (verifies `x-zm-signature`), re-read when it may have
    /// been rotated.
    pub webhook_secret: Arc<dyn WebhookSecretSource>,
    pub clock: Clock,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl App {
    pub fn new(
        options: Options,
        states: Arc<dyn OAuthStateStore>,
        connections: Arc<dyn ConnectionStore>,
        tokens: Arc<dyn TokenStore>,
        zoom: Arc<dyn ZoomAuth>,
        webhook_secret: Secret,
    ) -> Self {
        Self {
            options,
            states,
            connections,
            tokens,
            zoom,
            webhook_secret: Arc::new(FixedWebhookSecret(webhook_secret)),
            clock: Arc::new(Utc::now),
        }
    }

    /// The webhook secret token from `source` (production: the app secret, re-read).
    pub fn with_webhook_secret(mut self, source: Arc<dyn WebhookSecretSource>) -> Self {
        self.webhook_secret = source;
        self
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}
