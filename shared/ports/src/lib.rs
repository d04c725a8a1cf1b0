//! The ports: what the use cases (the integration tasks, reclamation, connect, license
//! administration) see of storage, with no AWS dependency. `aws-adapters` implements the store
//! traits on one DynamoDB table (and on an in-memory table with the same semantics) and the
//! token store on Secrets Manager.
//!
//! - [`records`]: the record types, as stored (layout: `docs/data-model.md`).
//! - [`stores`]: one small trait per aggregate, and [`Store`], all of them at once.
//! - [`contracts`]: admin-entered license state.
//! - [`opportunities`]: reclamation opportunities (notify-then-reclaim) and their history.
//! - [`notify`]: notices to people ([`Notifier`]).
//! - [`files`]: where reports and exports are delivered (written as a stream, read through a
//!   short-lived link).
//! - [`tokens`]: where a connection's tokens are kept.
//! - [`vault`]: the rotation-safe token source on the token store and the refresh lease.

pub mod contracts;
mod error;
pub mod files;
pub mod notify;
pub mod opportunities;
pub mod records;
pub mod stores;
pub mod tokens;
pub mod vault;
pub mod webhook_secret;

pub use contracts::{ContractRecord, ContractStore, UpdateError, update_contract};
pub use error::StoreError;
pub use files::{Chunks, FileError, FileLink, FileStore, MIN_PART_SIZE, Parts, StoredFile};
pub use notify::{MessageId, Notice, Notifier, NotifyError, RecordingNotifier};
pub use opportunities::{
    MAX_OPPORTUNITY_STEPS, OpportunityRecord, OpportunityState, OpportunityStep, OpportunityStore,
};
pub use records::*;
pub use stores::{
    AccountStore, AuditStore, BudgetStore, CandidateStore, ConnectionStore, LeaseStore,
    LicenseStore, OAuthStateStore, PurgeStore, Store, SyncRunStore, UserStore,
};
pub use tokens::{StoredTokens, TokenStore};
pub use vault::{
    IDLE_REFRESH_MAX_AGE, IdleRefreshReport, NEEDS_REAUTHORIZATION, TokenVault, VaultOptions,
    VaultTokenSource, refresh_lease_name,
};
pub use webhook_secret::{FixedWebhookSecret, WebhookSecretSource};
