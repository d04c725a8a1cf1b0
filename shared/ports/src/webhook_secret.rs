//! Where Zoom's webhook secret token comes from: read at start, again after a while (it may be
//! rotated in the app secret), and at once when a signature does not match.

use async_trait::async_trait;
use zoom::Secret;

use crate::StoreError;

#[async_trait]
pub trait WebhookSecretSource: Send + Sync {
    /// The secret token as of now (a cached copy, re-read after its time to live).
    async fn current(&self) -> Result<Secret, StoreError>;
    /// A signature did not match: reads the token again unless it was read moments ago (so
    /// forged requests cannot make every request a read). `Some` when it changed.
    async fn reread_after_mismatch(&self) -> Result<Option<Secret>, StoreError>;
}

/// A token that never changes (tests, local runs).
pub struct FixedWebhookSecret(pub Secret);

#[async_trait]
impl WebhookSecretSource for FixedWebhookSecret {
    async fn current(&self) -> Result<Secret, StoreError> {
        Ok(self.0.clone())
    }

    async fn reread_after_mismatch(&self) -> Result<Option<Secret>, StoreError> {
        Ok(None)
    }
}
