//! [`PurgeStore`].

use async_trait::async_trait;
use futures::stream::TryStreamExt;

use super::Records;
use super::keys::{conn_pk, users_pk};
use crate::backend::SkCond;
use ports::{AccountRecord, AccountStore, PurgeStore, StoreError};

#[async_trait]
impl PurgeStore for Records {
    async fn purge_connection(&self, cid: &str) -> Result<usize, StoreError> {
        let accounts: Vec<AccountRecord> = self.list_accounts(cid).try_collect().await?;
        let mut partitions: Vec<String> = accounts
            .iter()
            .map(|a| users_pk(cid, &a.account_id))
            .collect();
        // The connection's own partition last: it holds the account list a retry needs.
        partitions.push(conn_pk(cid));
        let mut deleted = 0;
        for pk in partitions {
            deleted += self.delete_matching(pk, SkCond::Any).await?;
        }
        Ok(deleted)
    }
}
