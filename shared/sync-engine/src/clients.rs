//! How a task gets a Zoom client for a connection: built once per (connection, task) per
//! process; the engine sets its share of the connection's budget while a unit runs
//! (`budget`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ports::{ConnectionRecord, TokenVault};
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

    /// Whether each task gets its own client (and limiter), so that the engine may set the
    /// limiter's share of the connection's budget per task.
    fn per_task_clients(&self) -> bool {
        true
    }
}

/// Production factory: tokens from the vault (rotation-safe refresh), a limiter per task over
/// the whole `profile` (Business by default) that starts at the task's fixed weight, budget
/// key = connection id.
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
            .rate_profile(self.profile)
            .budget_key(connection.connection_id.clone())
            .retry_policy(self.retry)
            .build()
            .map_err(|e| SyncError::Client(e.to_string()))?;
        client.rate_limiter().set_share(task.budget_weight());
        if let Ok(mut m) = self.cache.lock() {
            m.insert(key, client.clone());
        }
        Ok(client)
    }
}

/// A fixed client for every connection and task (tests, local runs against the sandbox): its
/// limiter is never re-shared.
pub struct FixedClientFactory(pub ZoomClient);

#[async_trait]
impl ClientFactory for FixedClientFactory {
    async fn client(&self, _: &ConnectionRecord, _: Task) -> Result<ZoomClient, SyncError> {
        Ok(self.0.clone())
    }

    fn per_task_clients(&self) -> bool {
        false
    }
}
