//! Where a connection's tokens are kept: the token-store port.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zoom::TokenSet;

use crate::StoreError;

/// What the secret of a connection holds: the token set and when it was last refreshed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    #[serde(flatten)]
    pub tokens: TokenSet,
    pub refreshed_at: DateTime<Utc>,
}

/// Where a connection's tokens are kept.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The current tokens (`AWSCURRENT`), `None` if the connection has none.
    async fn read(&self, connection_id: &str) -> Result<Option<StoredTokens>, StoreError>;
    /// Stores refreshed tokens durably (creates the secret if needed). Fails for a connection
    /// whose tokens were deleted (deauthorized) rather than bringing them back.
    async fn write(&self, connection_id: &str, tokens: &StoredTokens) -> Result<(), StoreError>;
    /// Stores the tokens of a new authorization (OAuth callback), restoring the secret if it
    /// was scheduled for deletion by an earlier deauthorization.
    async fn write_new_authorization(
        &self,
        connection_id: &str,
        tokens: &StoredTokens,
    ) -> Result<(), StoreError> {
        self.write(connection_id, tokens).await
    }
    /// Removes the tokens (Secrets Manager: scheduled deletion with the minimum 7-day window).
    async fn delete(&self, connection_id: &str) -> Result<(), StoreError>;
    /// Removes the tokens for good, with no recovery window (the purge after the retention
    /// period). Idempotent.
    async fn purge(&self, connection_id: &str) -> Result<(), StoreError> {
        self.delete(connection_id).await
    }
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    async fn read(&self, connection_id: &str) -> Result<Option<StoredTokens>, StoreError> {
        (**self).read(connection_id).await
    }
    async fn write(&self, connection_id: &str, tokens: &StoredTokens) -> Result<(), StoreError> {
        (**self).write(connection_id, tokens).await
    }
    async fn write_new_authorization(
        &self,
        connection_id: &str,
        tokens: &StoredTokens,
    ) -> Result<(), StoreError> {
        (**self)
            .write_new_authorization(connection_id, tokens)
            .await
    }
    async fn delete(&self, connection_id: &str) -> Result<(), StoreError> {
        (**self).delete(connection_id).await
    }
    async fn purge(&self, connection_id: &str) -> Result<(), StoreError> {
        (**self).purge(connection_id).await
    }
}
