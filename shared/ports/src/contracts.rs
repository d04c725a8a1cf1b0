//! What admins enter per license (License Management, issue #9): whether the connector
//! manages the license, and its contract fields. Kept in items of their own,
//! `pk = CONN#{cid}`, `sk = CONTRACT#{accountId}#{licenseId}`, beside (never inside) the
//! `LIC#` items that License Information rewrites, so its runs never lose them. The
//! connection's purge removes them with the rest of its partition.
//!
//! The fields are stored as validated text (dates as `YYYY-MM-DD`, cost as decimal text);
//! the `licensing` crate parses and validates them.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// One license's management state and contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractRecord {
    pub account_id: String,
    /// The license's id as License Information records it (e.g. `{accountId}:licensed`).
    pub license_id: String,
    /// In the managed set (the report's default scope).
    pub managed: bool,
    pub effective_date: Option<NaiveDate>,
    pub expiration_date: Option<NaiveDate>,
    /// Decimal text, e.g. `"12000.5"` (never a float).
    pub cost: Option<String>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// `monthly`, `quarterly`, `annual` or `one-time`.
    pub payment_frequency: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    /// Optimistic-concurrency counter, managed by the store (0: not stored yet).
    #[serde(default)]
    pub version: u64,
}

impl ContractRecord {
    /// A license nobody has touched yet: unmanaged, no contract.
    pub fn new(account_id: &str, license_id: &str, by: &str, at: DateTime<Utc>) -> Self {
        Self {
            account_id: account_id.to_owned(),
            license_id: license_id.to_owned(),
            managed: false,
            effective_date: None,
            expiration_date: None,
            cost: None,
            currency: None,
            payment_frequency: None,
            updated_at: at,
            updated_by: by.to_owned(),
            version: 0,
        }
    }
}

/// Admin-entered license state of a connection.
#[async_trait]
pub trait ContractStore: Send + Sync {
    async fn get_contract(
        &self,
        connection_id: &str,
        account_id: &str,
        license_id: &str,
    ) -> Result<Option<ContractRecord>, StoreError>;

    /// Compare-and-swap write: succeeds only if the stored version is `record.version`
    /// (0 = none stored). Returns the stored record (version + 1); `Err(ConditionFailed)` if
    /// someone else changed it meanwhile.
    async fn put_contract(
        &self,
        connection_id: &str,
        record: &ContractRecord,
    ) -> Result<ContractRecord, StoreError>;

    /// Every license's record of the connection, in (account, license) order.
    fn list_contracts<'a>(
        &'a self,
        connection_id: &'a str,
    ) -> BoxStream<'a, Result<ContractRecord, StoreError>>;
}

/// Read-modify-write of a license's record with optimistic concurrency (retried on conflict),
/// starting from a fresh record when none is stored. `change` may refuse with an error of its
/// own, which is returned as is (nothing written). A free function, so that `ContractStore`
/// stays object-safe.
pub async fn update_contract<E>(
    store: &(impl ContractStore + ?Sized),
    connection_id: &str,
    account_id: &str,
    license_id: &str,
    change: &(dyn for<'r> Fn(&'r mut ContractRecord) -> Result<(), E> + Send + Sync),
) -> Result<ContractRecord, UpdateError<E>>
where
    E: Send + 'static,
{
    for _ in 0..8 {
        let current = store
            .get_contract(connection_id, account_id, license_id)
            .await?
            .unwrap_or_else(|| ContractRecord::new(account_id, license_id, "", Utc::now()));
        let mut next = current.clone();
        change(&mut next).map_err(UpdateError::Refused)?;
        next.account_id = account_id.to_owned();
        next.license_id = license_id.to_owned();
        next.version = current.version;
        match store.put_contract(connection_id, &next).await {
            Ok(stored) => return Ok(stored),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict(format!(
        "license {license_id} of connection {connection_id} changed concurrently"
    ))
    .into())
}

/// Why [`update_contract`] did not write.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    #[error("the change was refused")]
    Refused(E),
    #[error(transparent)]
    Store(#[from] StoreError),
}
