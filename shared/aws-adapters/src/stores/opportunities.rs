//! [`OpportunityStore`]: items of their own in the connection's partition,
//! `pk = CONN#{cid}`, `sk = OPP#{accountId}#{userKey}` (removed by the connection's purge with
//! the rest of the partition), written by compare-and-swap on the top-level `version`.

use async_trait::async_trait;
use futures::stream::BoxStream;
use ports::{OpportunityRecord, OpportunityStore, StoreError};
use serde_json::json;

use super::keys::conn_pk;
use super::{Records, decode, encode};
use crate::backend::Cond;
use crate::table::{PK, SK};

const PREFIX: &str = "OPP#";

fn sk(account_id: &str, user_key: &str) -> String {
    format!("{PREFIX}{account_id}#{user_key}")
}

#[async_trait]
impl OpportunityStore for Records {
    async fn get_opportunity(
        &self,
        cid: &str,
        account_id: &str,
        user_key: &str,
    ) -> Result<Option<OpportunityRecord>, StoreError> {
        self.table
            .get(&conn_pk(cid), &sk(account_id, user_key))
            .await?
            .map(decode)
            .transpose()
    }

    async fn put_opportunity(
        &self,
        record: &OpportunityRecord,
    ) -> Result<OpportunityRecord, StoreError> {
        let mut next = record.clone();
        next.version = record.version + 1;
        let mut item = encode(
            &next,
            &[
                (PK, conn_pk(&record.connection_id)),
                (SK, sk(&record.account_id, &record.user_key)),
            ],
            None,
        )?;
        item.insert("version".into(), json!(next.version));
        let cond = if record.version == 0 {
            Cond::NotExists
        } else {
            Cond::Eq("version", json!(record.version))
        };
        self.table.put(item, Some(cond)).await?;
        Ok(next)
    }

    fn list_opportunities<'a>(
        &'a self,
        cid: &'a str,
    ) -> BoxStream<'a, Result<OpportunityRecord, StoreError>> {
        self.decoded_under(conn_pk(cid), PREFIX)
    }
}
