//! [`LeaseStore`] and [`BudgetStore`] (the running-task marks and the learned pace).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::TryStreamExt;
use serde_json::json;

use super::keys::{conn_pk, lease_pk, running_sk};
use super::{Records, decode, encode, written};
use crate::backend::Cond;
use crate::table::{PK, SK};
use ports::{BudgetStore, LearnedPace, Lease, LeaseStore, RunningTask, StoreError};

#[async_trait]
impl LeaseStore for Records {
    async fn acquire(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = (self.clock)();
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(60));
        let lease = Lease {
            name: name.to_owned(),
            owner: owner.to_owned(),
            expires_at: now + ttl,
        };
        let mut item = encode(
            &lease,
            &[(PK, lease_pk(name)), (SK, "LEASE".into())],
            // DynamoDB's TTL sweep removes long-dead leases; correctness uses expires_ms.
            Some((lease.expires_at + chrono::Duration::days(1)).timestamp()),
        )?;
        item.insert(
            "expires_ms".into(),
            json!(lease.expires_at.timestamp_millis()),
        );
        item.insert("owner".into(), json!(owner));
        let cond = Cond::Or(vec![
            Cond::NotExists,
            Cond::Lt("expires_ms", json!(now.timestamp_millis())),
            Cond::Eq("owner", json!(owner)),
        ]);
        written(self.table.put(item, Some(cond)).await)
    }

    async fn release(&self, name: &str, owner: &str) -> Result<bool, StoreError> {
        written(
            self.table
                .delete(
                    &lease_pk(name),
                    "LEASE",
                    Some(Cond::Eq("owner", json!(owner))),
                )
                .await,
        )
    }

    async fn get_lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        self.table
            .get(&lease_pk(name), "LEASE")
            .await?
            .map(decode)
            .transpose()
    }
}

#[async_trait]
impl BudgetStore for Records {
    async fn mark_running(&self, mark: &RunningTask) -> Result<(), StoreError> {
        let mut item = encode(
            mark,
            &[
                (PK, conn_pk(&mark.connection_id)),
                (SK, running_sk(&mark.task)),
            ],
            Some((mark.until + chrono::Duration::days(1)).timestamp()),
        )?;
        item.insert("owner".into(), json!(mark.owner));
        self.table.put(item, None).await
    }

    async fn clear_running(&self, cid: &str, task: &str, owner: &str) -> Result<(), StoreError> {
        match self
            .table
            .delete(
                &conn_pk(cid),
                &running_sk(task),
                Some(Cond::Eq("owner", json!(owner))),
            )
            .await
        {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn running_tasks(
        &self,
        cid: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<RunningTask>, StoreError> {
        let marks: Vec<RunningTask> = self
            .decoded_under(conn_pk(cid), "RUNNING#")
            .try_collect()
            .await?;
        Ok(marks.into_iter().filter(|m| m.until > now).collect())
    }

    async fn learned_pace(&self, cid: &str) -> Result<Option<LearnedPace>, StoreError> {
        self.table
            .get(&conn_pk(cid), PACE_SK)
            .await?
            .map(decode)
            .transpose()
    }

    async fn record_pace(&self, pace: &LearnedPace) -> Result<(), StoreError> {
        let item = encode(
            pace,
            &[(PK, conn_pk(&pace.connection_id)), (SK, PACE_SK.into())],
            Some((pace.at + chrono::Duration::days(1)).timestamp()),
        )?;
        self.table.put(item, None).await
    }
}

/// The sort key of a connection's [`LearnedPace`].
const PACE_SK: &str = "PACE";
