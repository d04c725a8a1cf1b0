//! The AWS clients, built once per cold start, and what the functions build from them.

use std::sync::Arc;

use aws_adapters::{AppSecrets, AwsClients, AwsConfig, Records, SecretsManagerTokenStore};
use ports::{StoreError, TokenVault, VaultOptions};
use zoom::{OAuthClient, ZoomConfig};

use crate::StartupError;
use crate::sqs::SqsQueue;

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

    /// One Secrets Manager secret per connection.
    pub fn token_store(&self) -> SecretsManagerTokenStore {
        SecretsManagerTokenStore::new(
            self.clients.secrets.clone(),
            self.aws.token_secret_prefix.clone(),
        )
    }

    /// The OAuth app credentials and the webhook secret token (read once per cold start).
    pub async fn app_secrets(&self) -> Result<AppSecrets, StoreError> {
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

    pub fn queue(&self, queue_url: &str) -> SqsQueue {
        SqsQueue::new(self.clients.sqs.clone(), queue_url)
    }
}
