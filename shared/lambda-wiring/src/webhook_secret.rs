//! Zoom's webhook secret token from the app secret, re-read after a time to live and when a
//! signature does not match (the token may have been rotated), never more than once in
//! [`AppSecretWebhookSource::min_reread`].

use std::time::Duration;

use async_trait::async_trait;
use aws_adapters::AppSecrets;
use ports::{StoreError, WebhookSecretSource};
use tokio::sync::Mutex;
use tokio::time::Instant;
use zoom::Secret;

use crate::zoom_settings::webhook_secret;

pub struct AppSecretWebhookSource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    /// How long a read token is used before it is read again (default 5 minutes).
    pub ttl: Duration,
    /// The least time between two reads a mismatch asks for (default 30 s).
    pub min_reread: Duration,
    cached: Mutex<(Secret, Instant)>,
}

impl AppSecretWebhookSource {
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        secret_id: impl Into<String>,
        read_at_start: Secret,
    ) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
            ttl: Duration::from_secs(300),
            min_reread: Duration::from_secs(30),
            cached: Mutex::new((read_at_start, Instant::now())),
        }
    }

    async fn read(&self) -> Result<Secret, StoreError> {
        let secrets = AppSecrets::fetch(&self.client, &self.secret_id).await?;
        webhook_secret(&secrets).map_err(|e| StoreError::Config(e.0))
    }
}

#[async_trait]
impl WebhookSecretSource for AppSecretWebhookSource {
    async fn current(&self) -> Result<Secret, StoreError> {
        let mut cached = self.cached.lock().await;
        if cached.1.elapsed() >= self.ttl {
            match self.read().await {
                Ok(secret) => *cached = (secret, Instant::now()),
                // Keep verifying with the token in hand; the next request tries again.
                Err(e) => tracing::warn!(error = %e, "could not re-read the webhook secret token"),
            }
        }
        Ok(cached.0.clone())
    }

    async fn reread_after_mismatch(&self) -> Result<Option<Secret>, StoreError> {
        let mut cached = self.cached.lock().await;
        if cached.1.elapsed() < self.min_reread {
            return Ok(None);
        }
        let secret = self.read().await?;
        let changed = secret != cached.0;
        *cached = (secret.clone(), Instant::now());
        Ok(changed.then_some(secret))
    }
}
