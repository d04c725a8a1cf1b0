//! AWS adapters: DynamoDB records and the Secrets Manager token vault behind small traits,
//! with in-memory fakes of the same semantics for unit tests of the domain and functions.
//!
//! - [`stores`]: `ConnectionStore`, `OAuthStateStore`, `AccountStore`, `UserStore`,
//!   `LicenseStore`, `SyncRunStore`, `AuditStore`, `LeaseStore`, all implemented by
//!   [`Records`] (DynamoDB via [`Records::dynamo`], memory via [`Records::in_memory`]).
//! - [`vault`]: tokens per connection in Secrets Manager and [`VaultTokenSource`], the
//!   rotation-safe `zoom::TokenSource`.
//! - [`app_secrets`]: OAuth app credentials and the webhook secret, read once per cold start.
//! - [`table`]: the table definition (`infra/template.yaml` is checked against it).

pub mod app_secrets;
pub mod backend;
mod config;
pub mod contracts;
mod error;
pub mod records;
pub mod stores;
pub mod table;
pub mod vault;

pub use app_secrets::{AppCredentials, AppSecrets, AppSecretsLoader};
pub use config::{AwsClients, AwsConfig};
pub use contracts::{ContractRecord, ContractStore, UpdateError};
pub use error::StoreError;
pub use records::*;
pub use stores::{
    AccountStore, AuditStore, BudgetStore, CandidateStore, ConnectionStore, LeaseStore,
    LicenseStore, OAuthStateStore, PurgeStore, Records, RosterChanges, SyncRunStore, UserStore,
};
pub use table::{TABLE, create_table_if_missing};
pub use vault::{
    IdleRefreshReport, MemoryTokenStore, SecretsManagerTokenStore, StoredTokens, TokenStore,
    TokenVault, VaultOptions, VaultTokenSource,
};
