//! Reclamation: take Zoom licenses back from users who no longer use them, safely.
//!
//! An admin invokes the function with a [`ReclamationRequest`] (see `events/reclamation/` and
//! `docs/reclamation.md`). Users are selected from the synced roster and activity records
//! (explicit ids/emails, or a policy of inactivity), re-checked live at Zoom, then deactivated
//! (default), downgraded to Basic, or, for `reactivate`, restored from an earlier request's
//! audit. Dry run is the default and changes nothing at Zoom.
//!
//! - [`request`]: the request, strictly parsed and validated.
//! - [`reclaim`]: the use case ([`Reclaimer`]) over the store traits of `aws-adapters` and the
//!   Zoom traits of [`gateway`].
//! - [`gateway`]: [`ZoomUsers`] / [`ZoomConnector`] and their `zoom`-client implementation.

pub mod config;
pub mod error;
pub mod gateway;
pub mod reclaim;
pub mod request;

use std::sync::Arc;

pub use config::{Config, ConfigError};
pub use error::ReclamationError;
pub use gateway::{AccountRef, LiveUser, ZoomConnector, ZoomFailure, ZoomGateway, ZoomUsers};
pub use reclaim::{Clock, Outcome, Reclaimer, ReclamationResponse, Stores, Summary, UserResult};
pub use request::{Action, Mode, Policy, ReclamationRequest};

/// Why the function could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("reading the app secret: {0}")]
    Secrets(#[from] ports::StoreError),
    #[error("building the OAuth client: {0}")]
    Zoom(String),
}

/// Builds the use case from the configuration and the AWS clients (once per cold start).
pub async fn build(
    config: &Config,
    clients: &aws_adapters::AwsClients,
) -> Result<Reclaimer, StartupError> {
    let secrets =
        aws_adapters::AppSecrets::fetch(&clients.secrets, &config.aws.app_secret_id).await?;
    let zoom_config = config.zoom_config(&secrets)?;
    let records =
        aws_adapters::Records::dynamo(clients.dynamodb.clone(), config.aws.table_name.clone());
    let records_arc = Arc::new(records.clone());
    let oauth =
        zoom::OAuthClient::new(&zoom_config).map_err(|e| StartupError::Zoom(e.to_string()))?;
    let vault = ports::TokenVault {
        tokens: Arc::new(aws_adapters::SecretsManagerTokenStore::new(
            clients.secrets.clone(),
            config.aws.token_secret_prefix.clone(),
        )),
        leases: records_arc.clone(),
        connections: records_arc,
        refresher: Arc::new(oauth),
        options: ports::VaultOptions::default(),
    };
    Ok(Reclaimer::new(
        Stores::from_records(records),
        Arc::new(ZoomGateway::new(zoom_config, vault)),
    ))
}
