//! [`PurgeStore`].

use async_trait::async_trait;
use futures::stream::TryStreamExt;

use std::collections::BTreeSet;

use super::Records;
use super::keys::{audit_pk, conn_pk, lease_pk, users_pk};
use crate::backend::SkCond;
use ports::{
    AccountRecord, AccountStore, AuditEntry, AuditStore, PurgeStore, StoreError, UserStore,
    UserView, refresh_lease_name,
};

#[async_trait]
impl PurgeStore for Records {
    async fn purge_connection(&self, cid: &str) -> Result<usize, StoreError> {
        let accounts: Vec<AccountRecord> = self.list_accounts(cid).try_collect().await?;
        // The audit trail of the connection's users (found through the roster, which keeps
        // removed users): each request is one connection's, so its whole partition goes.
        let mut requests = BTreeSet::new();
        for account in &accounts {
            let users: Vec<UserView> = self
                .list_users(cid, &account.account_id)
                .try_collect()
                .await?;
            for user in users {
                let entries: Vec<AuditEntry> = self
                    .list_user_entries(cid, &user.roster.key())
                    .try_collect()
                    .await?;
                requests.extend(entries.into_iter().map(|e| e.request_id));
            }
        }
        let mut partitions: Vec<String> = requests.iter().map(|r| audit_pk(r)).collect();
        partitions.push(lease_pk(&refresh_lease_name(cid)));
        partitions.extend(accounts.iter().map(|a| users_pk(cid, &a.account_id)));
        // The connection's own partition last: it holds the account list a retry needs.
        partitions.push(conn_pk(cid));
        let mut deleted = 0;
        for pk in partitions {
            deleted += self.delete_matching(pk, SkCond::Any).await?;
        }
        Ok(deleted)
    }
}
