//! How a task gets a Zoom client for a connection: built once per (connection, task) per
//! process, with the task's share of the connection's budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_adapters::{ConnectionRecord, TokenVault};
use zoom::{RateProfile, RetryPolicy, ZoomClient, ZoomConfig};

use crate::SyncError;
use crate::unit::Task;

#[async_trait]
pub trait ClientFactory: Send + Sync {
    async fn client(
        &self,
        connection: &ConnectionRecord,
        task: Task,
    ) -> Result<ZoomClient, SyncError>;
}

/// Production factory: tokens from the vault (rotation-safe refresh), limiter at the task's
/// share of `profile` (Business by default), budget key = connection id.
pub struct VaultClientFactory {
    config: ZoomConfig,
    vault: TokenVault,
    profile: RateProfile,
    retry: RetryPolicy,
    cache: Mutex<HashMap<(String, Task), ZoomClient>>,
}

impl VaultClientFactory {
    pub fn new(config: ZoomConfig, vault: TokenVault, profile: RateProfile) -> Self {
        Self {
            config,
            vault,
            profile,
            retry: RetryPolicy::default(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

#[async_trait]
impl ClientFactory for VaultClientFactory {
    async fn client(
        &self,
        connection: &ConnectionRecord,
        task: Task,
    ) -> Result<ZoomClient, SyncError> {
        let key = (connection.connection_id.clone(), task);
        if let Some(c) = self.cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(c);
        }
        let source = Arc::new(self.vault.token_source(connection.connection_id.clone()));
        let client = ZoomClient::builder(self.config.clone(), source)
            .rate_profile(self.profile.scaled(task.budget_share().max(0.01)))
            .budget_key(connection.connection_id.clone())
            .retry_policy(self.retry)
            .build()
            .map_err(|e| SyncError::Client(e.to_string()))?;
        if let Ok(mut m) = self.cache.lock() {
            m.insert(key, client.clone());
        }
        Ok(client)
    }
}

/// A fixed client for every connection (tests, local runs against the sandbox).
pub struct FixedClientFactory(pub ZoomClient);

#[async_trait]
impl ClientFactory for FixedClientFactory {
    async fn client(&self, _: &ConnectionRecord, _: Task) -> Result<ZoomClient, SyncError> {
        Ok(self.0.clone())
    }
}
