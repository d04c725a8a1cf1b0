//! [`AccountStore`].

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, TryStreamExt};

use super::keys::conn_pk;
use super::{Records, encode};
use crate::backend::{Index, Query, SkCond, WriteOp};
use crate::table::{PK, SK};
use ports::{AccountRecord, AccountStore, StoreError};

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
            let item = encode(
                &account,
                &[
                    (PK, conn_pk(cid)),
                    (SK, format!("ACCT#{}", account.account_id)),
                ],
                None,
            )?;
            ops.insert(account.account_id.clone(), WriteOp::Put(item));
        }
        let existing: Vec<AccountRecord> = self.list_accounts(cid).try_collect().await?;
        let mut removed = 0;
        for mut account in existing {
            if !seen.contains(account.account_id.as_str()) && account.removed_at.is_none() {
                account.removed_at = Some(at);
                removed += 1;
                let item = encode(
                    &account,
                    &[
                        (PK, conn_pk(cid)),
                        (SK, format!("ACCT#{}", account.account_id)),
                    ],
                    None,
                )?;
                ops.insert(account.account_id.clone(), WriteOp::Put(item));
            }
        }
        self.table.batch_write(ops.into_values().collect()).await?;
        Ok(removed)
    }

    fn list_accounts<'a>(
        &'a self,
        cid: &'a str,
    ) -> BoxStream<'a, Result<AccountRecord, StoreError>> {
        self.decoded(Query::new(
            Index::Primary,
            conn_pk(cid),
            SkCond::BeginsWith("ACCT#".into()),
        ))
    }
}
