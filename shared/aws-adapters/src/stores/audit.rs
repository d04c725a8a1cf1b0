//! [`AuditStore`].

use async_trait::async_trait;
use futures::stream::BoxStream;

use super::keys::{audit_pk, audit_user_gsi, sort_time};
use super::{Records, decode, encode};
use crate::backend::{Index, Query, SkCond};
use crate::table::{GSI1_PK, GSI1_SK, PK, SK};
use ports::{AuditEntry, AuditRequest, AuditStore, StoreError};

#[async_trait]
impl AuditStore for Records {
    async fn begin_request(&self, request: &AuditRequest) -> Result<bool, StoreError> {
        let item = encode(
            request,
            &[(PK, audit_pk(&request.request_id)), (SK, "REQUEST".into())],
            None,
        )?;
        self.put_new(item).await
    }

    async fn get_request(&self, request_id: &str) -> Result<Option<AuditRequest>, StoreError> {
        self.table
            .get(&audit_pk(request_id), "REQUEST")
            .await?
            .map(decode)
            .transpose()
    }

    async fn record_entry(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        let item = encode(
            entry,
            &[
                (PK, audit_pk(&entry.request_id)),
                (SK, format!("ENTRY#{}", entry.user_key)),
                (
                    GSI1_PK,
                    audit_user_gsi(&entry.connection_id, &entry.user_key),
                ),
                (
                    GSI1_SK,
                    format!("{}#{}", sort_time(entry.at), entry.request_id),
                ),
            ],
            None,
        )?;
        self.put_new(item).await
    }

    fn list_request_entries<'a>(
        &'a self,
        request_id: &'a str,
    ) -> BoxStream<'a, Result<AuditEntry, StoreError>> {
        self.decoded_under(audit_pk(request_id), "ENTRY#")
    }

    fn list_user_entries<'a>(
        &'a self,
        cid: &'a str,
        user_key: &'a str,
    ) -> BoxStream<'a, Result<AuditEntry, StoreError>> {
        self.decoded(Query::new(
            Index::Gsi1,
            audit_user_gsi(cid, user_key),
            SkCond::Any,
        ))
    }
}
