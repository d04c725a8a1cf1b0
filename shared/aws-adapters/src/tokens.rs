//! The token-store port on Secrets Manager, and in memory.

use async_trait::async_trait;

use ports::{StoreError, StoredTokens, TokenStore};

/// [`TokenStore`] on Secrets Manager: one secret per connection, named prefix + id.
#[derive(Clone, Debug)]
pub struct SecretsManagerTokenStore {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
}

impl SecretsManagerTokenStore {
    pub fn new(client: aws_sdk_secretsmanager::Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
        }
    }

    pub fn secret_name(&self, connection_id: &str) -> String {
        format!("{}{connection_id}", self.prefix)
    }

    /// Takes a secret out of its scheduled deletion; one that never existed or is not deleted
    /// needs nothing.
    async fn restore_if_deleted(&self, connection_id: &str) -> Result<(), StoreError> {
        match self
            .client
            .restore_secret()
            .secret_id(self.secret_name(connection_id))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_resource_not_found_exception() || s.is_invalid_request_exception()
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(crate::error::secrets_error("RestoreSecret", e)),
        }
    }
}

#[async_trait]
impl TokenStore for SecretsManagerTokenStore {
    async fn read(&self, connection_id: &str) -> Result<Option<StoredTokens>, StoreError> {
        let res = self
            .client
            .get_secret_value()
            .secret_id(self.secret_name(connection_id))
            .version_stage("AWSCURRENT")
            .send()
            .await;
        let out = match res {
            Ok(out) => out,
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_resource_not_found_exception() || s.is_invalid_request_exception()
                }) =>
            {
                // Not found, or scheduled for deletion (deauthorized).
                return Ok(None);
            }
            Err(e) => return Err(crate::error::secrets_error("GetSecretValue", e)),
        };
        let Some(text) = out.secret_string() else {
            return Ok(None);
        };
        serde_json::from_str(text)
            .map(Some)
            // serde's message can quote input; name the connection only.
            .map_err(|_| StoreError::Decode(format!("token secret of {connection_id} is invalid")))
    }

    async fn write(&self, connection_id: &str, tokens: &StoredTokens) -> Result<(), StoreError> {
        let name = self.secret_name(connection_id);
        let body = serde_json::to_string(tokens).map_err(|e| StoreError::Decode(e.to_string()))?;
        let put = || {
            self.client
                .put_secret_value()
                .secret_id(&name)
                .secret_string(&body)
                .send()
        };
        match put().await {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                let created = self
                    .client
                    .create_secret()
                    .name(&name)
                    .description("Zoom OAuth tokens of one connection (zoom-tiered-sync)")
                    .secret_string(&body)
                    .send()
                    .await;
                match created {
                    Ok(_) => return Ok(()),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_exists_exception()) => {}
                    Err(e) => return Err(crate::error::secrets_error("CreateSecret", e)),
                }
            }
            // Including a secret scheduled for deletion (deauthorized): a refresh that was in
            // flight must not bring the tokens back; only a new authorization does.
            Err(e) => return Err(crate::error::secrets_error("PutSecretValue", e)),
        }
        put()
            .await
            .map(|_| ())
            .map_err(|e| crate::error::secrets_error("PutSecretValue", e))
    }

    async fn write_new_authorization(
        &self,
        connection_id: &str,
        tokens: &StoredTokens,
    ) -> Result<(), StoreError> {
        self.restore_if_deleted(connection_id).await?;
        self.write(connection_id, tokens).await
    }

    async fn delete(&self, connection_id: &str) -> Result<(), StoreError> {
        match self
            .client
            .delete_secret()
            .secret_id(self.secret_name(connection_id))
            .recovery_window_in_days(7)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_resource_not_found_exception() || s.is_invalid_request_exception()
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(crate::error::secrets_error("DeleteSecret", e)),
        }
    }

    async fn purge(&self, connection_id: &str) -> Result<(), StoreError> {
        // A secret scheduled for deletion (the deauthorization) cannot be deleted again:
        // restore it first, then delete it without a recovery window.
        self.restore_if_deleted(connection_id).await?;
        match self
            .client
            .delete_secret()
            .secret_id(self.secret_name(connection_id))
            .force_delete_without_recovery(true)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(crate::error::secrets_error("DeleteSecret", e)),
        }
    }
}

/// In-memory [`TokenStore`] (unit tests, local use).
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: std::sync::Mutex<std::collections::HashMap<String, StoredTokens>>,
}

impl MemoryTokenStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, StoredTokens>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn read(&self, connection_id: &str) -> Result<Option<StoredTokens>, StoreError> {
        Ok(self.lock().get(connection_id).cloned())
    }
    async fn write(&self, connection_id: &str, tokens: &StoredTokens) -> Result<(), StoreError> {
        self.lock().insert(connection_id.to_owned(), tokens.clone());
        Ok(())
    }
    async fn delete(&self, connection_id: &str) -> Result<(), StoreError> {
        self.lock().remove(connection_id);
        Ok(())
    }
}
