//! The AWS adapters of the ports (`ports` crate): the store traits on one DynamoDB table
//! ([`Records`]), the token store on Secrets Manager, the OAuth app secret, and the AWS clients.
//!
//! - [`stores`]: [`Records`] implements every store trait on a [`backend::Table`]: DynamoDB
//!   ([`Records::dynamo`]) or an in-memory table with the same semantics
//!   ([`Records::in_memory`], for tests of every crate).
//! - [`tokens`]: [`SecretsManagerTokenStore`] and [`MemoryTokenStore`].
//! - [`SesNotifier`]: notices (reclamation's notify-then-reclaim) through Amazon SES.
//! - [`files`]: the file port on S3 ([`S3FileStore`]) and in memory ([`MemoryFileStore`]).
//! - [`app_secrets`]: OAuth app credentials and the webhook secret, read once per cold start.
//! - [`table`]: the table definition (`infra/template.yaml` is checked against it).

pub mod app_secrets;
pub mod backend;
mod config;
mod contracts;
mod error;
pub mod files;
mod ses;
pub mod stores;
pub mod table;
pub mod tokens;

pub use app_secrets::{AppCredentials, AppSecrets, AppSecretsLoader};
pub use config::{AwsClients, AwsConfig};
pub use files::{MemoryFile, MemoryFileStore, S3FileStore};
pub use ses::SesNotifier;
pub use stores::Records;
pub use table::{TABLE, create_table_if_missing};
pub use tokens::{MemoryTokenStore, SecretsManagerTokenStore};
