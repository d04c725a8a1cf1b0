//! [`ConnectionStore`] and [`OAuthStateStore`].

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use serde_json::json;

use super::keys::{CONNECTIONS_PARTITION, conn_pk};
use super::{CAS_ATTEMPTS, Records, decode, encode};
use crate::backend::{Cond, Index, Item, Query, SkCond};
use crate::table::{GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, PK, SK};
use ports::{
    ConnectInviteRecord, ConnectionRecord, ConnectionStore, OAuthStateRecord, OAuthStateStore,
    StoreError,
};

impl Records {
    fn connection_item(record: &ConnectionRecord) -> Result<Item, StoreError> {
        encode(
            record,
            &[
                (PK, conn_pk(&record.connection_id)),
                (SK, "CONN".into()),
                (GSI1_PK, CONNECTIONS_PARTITION.into()),
                (GSI1_SK, conn_pk(&record.connection_id)),
                (GSI2_PK, format!("ZOOMACCT#{}", record.zoom_account_id)),
                (GSI2_SK, conn_pk(&record.connection_id)),
            ],
            None,
        )
        .map(|mut item| {
            item.insert("version".into(), json!(record.version));
            item
        })
    }
}

#[async_trait]
impl ConnectionStore for Records {
    async fn insert_connection(&self, record: &ConnectionRecord) -> Result<(), StoreError> {
        let mut record = record.clone();
        record.version = 1;
        self.table
            .put(Self::connection_item(&record)?, Some(Cond::NotExists))
            .await
    }

    async fn get_connection(&self, cid: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        self.table
            .get(&conn_pk(cid), "CONN")
            .await?
            .map(decode)
            .transpose()
    }

    async fn find_connection_by_zoom_account(
        &self,
        zoom_account_id: &str,
    ) -> Result<Option<ConnectionRecord>, StoreError> {
        let page = self
            .table
            .query(&Query::new(
                Index::Gsi2,
                format!("ZOOMACCT#{zoom_account_id}"),
                SkCond::BeginsWith("CONN#".into()),
            ))
            .await?;
        // The index is eventually consistent: confirm with a consistent read.
        match page.items.into_iter().next() {
            Some(item) => {
                let found: ConnectionRecord = decode(item)?;
                self.get_connection(&found.connection_id).await
            }
            None => Ok(None),
        }
    }

    async fn update_connection_if(
        &self,
        cid: &str,
        change: &(dyn for<'r> Fn(&'r mut ConnectionRecord) -> bool + Send + Sync),
    ) -> Result<ConnectionRecord, StoreError> {
        for _ in 0..CAS_ATTEMPTS {
            let Some(mut record) = self.get_connection(cid).await? else {
                return Err(StoreError::NotFound(format!("connection {cid}")));
            };
            let expected = record.version;
            let stored = record.clone();
            if !change(&mut record) {
                return Ok(stored);
            }
            record.connection_id = cid.to_owned();
            record.version = expected + 1;
            record.updated_at = Utc::now();
            let cond = Cond::Eq("version", json!(expected));
            match self
                .table
                .put(Self::connection_item(&record)?, Some(cond))
                .await
            {
                Ok(()) => return Ok(record),
                Err(StoreError::ConditionFailed) => {
                    let ms = rand::random_range(5..50);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict(format!(
            "connection {cid} changed concurrently {CAS_ATTEMPTS} times"
        )))
    }

    async fn delete_connection(&self, cid: &str) -> Result<(), StoreError> {
        self.table.delete(&conn_pk(cid), "CONN", None).await?;
        Ok(())
    }

    fn list_connections(&self) -> BoxStream<'_, Result<ConnectionRecord, StoreError>> {
        self.decoded(Query::new(
            Index::Gsi1,
            CONNECTIONS_PARTITION,
            SkCond::BeginsWith("CONN#".into()),
        ))
    }
}

#[async_trait]
impl OAuthStateStore for Records {
    async fn put_state(&self, record: &OAuthStateRecord) -> Result<(), StoreError> {
        let item = encode(
            record,
            &[
                (PK, format!("OAUTHSTATE#{}", record.state)),
                (SK, "OAUTHSTATE".into()),
            ],
            Some(record.expires_at.timestamp()),
        )?;
        self.table.put(item, Some(Cond::NotExists)).await
    }

    async fn consume_state(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OAuthStateRecord>, StoreError> {
        let record: Option<OAuthStateRecord> = self
            .take_once(&format!("OAUTHSTATE#{state}"), "OAUTHSTATE")
            .await?;
        Ok(record.filter(|r| r.expires_at > now))
    }

    async fn put_invite(&self, record: &ConnectInviteRecord) -> Result<(), StoreError> {
        let item = encode(
            record,
            &[
                (PK, format!("CONNECTINVITE#{}", record.key)),
                (SK, "CONNECTINVITE".into()),
            ],
            Some(record.expires_at.timestamp()),
        )?;
        self.table.put(item, Some(Cond::NotExists)).await
    }

    async fn consume_invite(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectInviteRecord>, StoreError> {
        let record: Option<ConnectInviteRecord> = self
            .take_once(&format!("CONNECTINVITE#{key}"), "CONNECTINVITE")
            .await?;
        Ok(record.filter(|r| r.expires_at > now))
    }
}

impl Records {
    /// Deletes the item and returns what it held. The delete is the single use: of concurrent
    /// callers exactly one gets the item. (An expired one is deleted too; callers check expiry.)
    async fn take_once<T: serde::de::DeserializeOwned>(
        &self,
        pk: &str,
        sk: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.table.delete(pk, sk, Some(Cond::Exists)).await {
            Ok(Some(item)) => Ok(Some(decode(item)?)),
            Ok(None) | Err(StoreError::ConditionFailed) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
