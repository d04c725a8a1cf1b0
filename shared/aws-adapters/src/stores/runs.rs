//! [`SyncRunStore`]: sync runs, checkpoints and checkpoint parts.

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::{StreamExt, TryStreamExt};
use serde_json::json;

use super::keys::{checkpoint_parts_prefix, checkpoint_sk, conn_pk, sort_time};
use super::{Records, decode, encode};
use crate::backend::{Cond, Index, Query, SkCond};
use crate::table::{PK, SK};
use ports::stores::SYNC_RUN_RETENTION;
use ports::{Checkpoint, CheckpointPart, StoreError, SyncRunRecord, SyncRunStore};

/// Abandoned parts (a run that never finished) are deleted by TTL after this long.
const CHECKPOINT_PART_RETENTION: chrono::Duration = chrono::Duration::days(14);

#[async_trait]
impl SyncRunStore for Records {
    async fn put_run(&self, run: &SyncRunRecord) -> Result<(), StoreError> {
        let sk = format!(
            "RUN#{}#{}#{}",
            run.task,
            sort_time(run.started_at),
            run.run_id
        );
        let ttl = (run.started_at + SYNC_RUN_RETENTION).timestamp();
        let item = encode(
            run,
            &[(PK, conn_pk(&run.connection_id)), (SK, sk)],
            Some(ttl),
        )?;
        self.table.put(item, None).await
    }

    async fn recent_runs(
        &self,
        cid: &str,
        task: &str,
        limit: usize,
    ) -> Result<Vec<SyncRunRecord>, StoreError> {
        let query = Query::new(
            Index::Primary,
            conn_pk(cid),
            SkCond::BeginsWith(format!("RUN#{task}#")),
        )
        .backward()
        .limit(limit.clamp(1, 1000) as i32);
        self.decoded(query).take(limit).try_collect().await
    }

    async fn get_checkpoint(
        &self,
        cid: &str,
        task: &str,
        account_id: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        self.table
            .get(&conn_pk(cid), &checkpoint_sk(task, account_id))
            .await?
            .map(decode)
            .transpose()
    }

    async fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<Checkpoint, StoreError> {
        let mut next = checkpoint.clone();
        next.version = checkpoint.version + 1;
        let mut item = encode(
            &next,
            &[
                (PK, conn_pk(&checkpoint.connection_id)),
                (SK, checkpoint_sk(&checkpoint.task, &checkpoint.account_id)),
            ],
            None,
        )?;
        item.insert("version".into(), json!(next.version));
        let cond = if checkpoint.version == 0 {
            Cond::NotExists
        } else {
            Cond::Eq("version", json!(checkpoint.version))
        };
        self.table.put(item, Some(cond)).await?;
        Ok(next)
    }

    async fn delete_checkpoint(
        &self,
        cid: &str,
        task: &str,
        account_id: &str,
    ) -> Result<(), StoreError> {
        self.table
            .delete(&conn_pk(cid), &checkpoint_sk(task, account_id), None)
            .await?;
        Ok(())
    }

    async fn put_checkpoint_part(&self, part: &CheckpointPart) -> Result<(), StoreError> {
        let sk = format!(
            "{}{}#{:06}",
            checkpoint_parts_prefix(&part.task, &part.account_id),
            part.run_id,
            part.seq
        );
        let ttl = (Utc::now() + CHECKPOINT_PART_RETENTION).timestamp();
        let item = encode(
            part,
            &[(PK, conn_pk(&part.connection_id)), (SK, sk)],
            Some(ttl),
        )?;
        self.table.put(item, None).await
    }

    async fn checkpoint_parts(
        &self,
        cid: &str,
        task: &str,
        account_id: &str,
        run_id: &str,
        seqs: std::ops::Range<u32>,
    ) -> Result<Vec<CheckpointPart>, StoreError> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let prefix = checkpoint_parts_prefix(task, account_id);
        let sk = |seq: u32| format!("{prefix}{run_id}#{seq:06}");
        self.decoded::<CheckpointPart>(Query::new(
            Index::Primary,
            conn_pk(cid),
            SkCond::Between(sk(seqs.start), sk(seqs.end - 1)),
        ))
        .try_filter(|p| std::future::ready(seqs.contains(&p.seq)))
        .try_collect()
        .await
    }

    async fn delete_checkpoint_parts(
        &self,
        cid: &str,
        task: &str,
        account_id: &str,
    ) -> Result<usize, StoreError> {
        self.delete_matching(
            conn_pk(cid),
            SkCond::BeginsWith(checkpoint_parts_prefix(task, account_id)),
        )
        .await
    }
}
