//! The AWS clients, built once per cold start, and what the functions build from them.

use std::sync::Arc;

use aws_adapters::{
    AppSecrets, AwsClients, AwsConfig, Records, S3FileStore, SecretsManagerTokenStore, SesNotifier,
};
use ports::{StoreError, TokenVault, VaultOptions};
use zoom::{OAuthClient, ZoomConfig};

use crate::StartupError;
use crate::sqs::SqsQueue;
use crate::webhook_secret::AppSecretWebhookSource;

pub struct Wiring {
    pub aws: AwsConfig,
    pub clients: AwsClients,
}

impl Wiring {
    pub async fn new(aws: AwsConfig) -> Self {
        let clients = AwsClients::new(&aws).await;
        Self { aws, clients }
    }

    /// Every store on the DynamoDB table.
    pub fn records(&self) -> Records {
        Records::dynamo(self.clients.dynamodb.clone(), self.aws.table_name.clone())
    }

    /// Notices through SES, sent from `from` (reclamation's `ZTS_NOTIFY_FROM`).
    pub fn notifier(&self, from: &str) -> SesNotifier {
        SesNotifier::new(self.clients.ses.clone(), from)
    }

    /// Reports and exports in `bucket` (`Vars::files`), through the S3 client of the same
    /// configuration as the others (path-style on a local endpoint).
    pub fn files(&self, bucket: &str) -> S3FileStore {
        S3FileStore::new(self.clients.s3.clone(), bucket)
    }

    /// One Secrets Manager secret per connection.
    pub fn token_store(&self) -> SecretsManagerTokenStore {
        SecretsManagerTokenStore::new(
            self.clients.secrets.clone(),
            self.aws.token_secret_prefix.clone(),
        )
    }

    /// The OAuth app credentials and the webhook secret token (read once per cold start).
    /// Refused when the token secrets' prefix covers the app secret: the functions that may
    /// write token secrets could then overwrite the app's credentials.
    pub async fn app_secrets(&self) -> Result<AppSecrets, StoreError> {
        check_secret_names(&self.aws)?;
        AppSecrets::fetch(&self.clients.secrets, &self.aws.app_secret_id).await
    }

    /// The rotation-safe token vault: tokens in Secrets Manager, the refresh lease and the
    /// connection's status in the table, refreshes through `zoom`'s OAuth client.
    pub fn token_vault(&self, zoom: &ZoomConfig) -> Result<TokenVault, StartupError> {
        let oauth = OAuthClient::new(zoom).map_err(|e| StartupError::Zoom(e.to_string()))?;
        let records = Arc::new(self.records());
        Ok(TokenVault {
            tokens: Arc::new(self.token_store()),
            leases: records.clone(),
            connections: records,
            refresher: Arc::new(oauth),
            options: VaultOptions::default(),
        })
    }

    /// The webhook secret token, read at start (`read_at_start`) and again when it may have
    /// been rotated.
    pub fn webhook_secret_source(&self, read_at_start: zoom::Secret) -> AppSecretWebhookSource {
        AppSecretWebhookSource::new(
            self.clients.secrets.clone(),
            self.aws.app_secret_id.clone(),
            read_at_start,
        )
    }

    pub fn queue(&self, queue_url: &str) -> SqsQueue {
        SqsQueue::new(self.clients.sqs.clone(), queue_url)
    }
}

/// The app secret must not be named like a connection's token secret (prefix + id).
pub(crate) fn check_secret_names(aws: &AwsConfig) -> Result<(), StoreError> {
    if aws.app_secret_id.starts_with(&aws.token_secret_prefix) {
        return Err(StoreError::Config(format!(
            "ZTS_TOKEN_SECRET_PREFIX {:?} covers the app secret {:?}: choose a prefix the app \
             secret's name does not start with",
            aws.token_secret_prefix, aws.app_secret_id
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_prefix_that_covers_the_app_secret_is_refused() {
        let defaults = AwsConfig::default();
        assert!(check_secret_names(&defaults).is_ok());
        for prefix in ["zoom-tiered-sync/", "", "zoom"] {
            let aws = AwsConfig {
                token_secret_prefix: prefix.into(),
                ..AwsConfig::default()
            };
            let e = check_secret_names(&aws).unwrap_err();
            assert!(
                e.to_string().contains("covers the app secret"),
                "{prefix:?}: {e}"
            );
        }
    }
}
