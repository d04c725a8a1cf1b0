//! [`AccountStore`].

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, TryStreamExt};

use super::keys::conn_pk;
use super::{Records, encode};
use crate::backend::WriteOp;
use crate::table::{PK, SK};
use ports::{AccountRecord, AccountStore, StoreError};

/// The write of one account record.
fn account_put(cid: &str, account: &AccountRecord) -> Result<WriteOp, StoreError> {
    let sk = format!("ACCT#{}", account.account_id);
    let item = encode(account, &[(PK, conn_pk(cid)), (SK, sk)], None)?;
    Ok(WriteOp::Put(item))
}

#[async_trait]
impl AccountStore for Records {
    async fn sync_accounts(
        &self,
        cid: &str,
        accounts: &[AccountRecord],
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let seen: HashSet<&str> = accounts.iter().map(|a| a.account_id.as_str()).collect();
        let mut ops = BTreeMap::new();
        for account in accounts {
            let mut account = account.clone();
            account.removed_at = None;
            ops.insert(account.account_id.clone(), account_put(cid, &account)?);
        }
        let existing: Vec<AccountRecord> = self.list_accounts(cid).try_collect().await?;
        let mut removed = 0;
        for mut account in existing {
            if !seen.contains(account.account_id.as_str()) && account.removed_at.is_none() {
                account.removed_at = Some(at);
                removed += 1;
                ops.insert(account.account_id.clone(), account_put(cid, &account)?);
            }
        }
        self.table.batch_write(ops.into_values().collect()).await?;
        Ok(removed)
    }

    fn list_accounts<'a>(
        &'a self,
        cid: &'a str,
    ) -> BoxStream<'a, Result<AccountRecord, StoreError>> {
        self.decoded_under(conn_pk(cid), "ACCT#")
    }
}
