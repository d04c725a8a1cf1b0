//! OAuth app credentials (per Zoom region) and the webhook secret token, from one Secrets
//! Manager secret read once per cold start.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use zoom::Secret;

use ports::StoreError;
use ports::ZoomRegion;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: Secret,
}

/// The secret's JSON: `{"apps": {"NA": {"client_id": …, "client_secret": …}, …},
/// "webhook_secret_token": …}`. Regions without an app are simply absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSecrets {
    pub apps: BTreeMap<ZoomRegion, AppCredentials>,
    pub webhook_secret_token: Secret,
}

impl AppSecrets {
    pub fn app(&self, region: ZoomRegion) -> Option<&AppCredentials> {
        self.apps.get(&region)
    }

    /// Reads the secret (`AWSCURRENT`) now, without caching.
    pub async fn fetch(
        client: &aws_sdk_secretsmanager::Client,
        secret_id: &str,
    ) -> Result<Self, StoreError> {
        let out = client
            .get_secret_value()
            .secret_id(secret_id)
            .version_stage("AWSCURRENT")
            .send()
            .await
            .map_err(|e| crate::error::secrets_error("GetSecretValue", e))?;
        let text = out
            .secret_string()
            .ok_or_else(|| StoreError::Config(format!("secret {secret_id} has no string value")))?;
        serde_json::from_str(text).map_err(|e| {
            // Only the position: serde's message could quote a value.
            StoreError::Config(format!(
                "secret {secret_id} is not valid app-secrets JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }

    /// Creates or updates the secret (local demo and tests; in AWS an operator sets it).
    pub async fn store(
        &self,
        client: &aws_sdk_secretsmanager::Client,
        secret_id: &str,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(self).map_err(|e| StoreError::Decode(e.to_string()))?;
        match client
            .put_secret_value()
            .secret_id(secret_id)
            .secret_string(&body)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                client
                    .create_secret()
                    .name(secret_id)
                    .secret_string(body)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| crate::error::secrets_error("CreateSecret", e))
            }
            Err(e) => Err(crate::error::secrets_error("PutSecretValue", e)),
        }
    }
}

/// Loads [`AppSecrets`] on first use and keeps them for the life of the process (one read
/// per Lambda cold start). Concurrent first callers share one read.
#[derive(Debug)]
pub struct AppSecretsLoader {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    cell: tokio::sync::OnceCell<Arc<AppSecrets>>,
}

impl AppSecretsLoader {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
            cell: tokio::sync::OnceCell::new(),
        }
    }

    pub async fn get(&self) -> Result<Arc<AppSecrets>, StoreError> {
        self.cell
            .get_or_try_init(|| async {
                AppSecrets::fetch(&self.client, &self.secret_id)
                    .await
                    .map(Arc::new)
            })
            .await
            .cloned()
    }
}
