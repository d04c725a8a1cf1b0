//! A table wrapper that counts what a DynamoDB table would bill (write and read units, calls,
//! items) and the time spent inside the store, around the in-memory table.
//!
//! With `retain_users = false` the roster and activity items (`SK` beginning `USER#`) are
//! counted, sized and then dropped instead of kept: the worker's memory is then the worker's
//! own, as with DynamoDB, and not the fake database's (which grows with the tenant). Everything
//! else (connections, accounts, checkpoints, licenses, runs) is kept, so a full run behaves
//! exactly as against a table that starts empty.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use aws_adapters::backend::{Cond, Item, Page, Query, Table, WriteOp};
use ports::StoreError;
use serde::Serialize;

use crate::model::{item_size, write_units};

#[derive(Debug, Default)]
struct Counters {
    calls: AtomicU64,
    batch_calls: AtomicU64,
    items_written: AtomicU64,
    items_deleted: AtomicU64,
    write_units: AtomicU64,
    read_units: AtomicU64,
    bytes_written: AtomicU64,
    nanos: AtomicU64,
}

/// What the store was asked to do.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StoreFigures {
    /// Table API calls (a batch of 25 is one).
    pub calls: u64,
    pub batch_calls: u64,
    pub items_written: u64,
    pub items_deleted: u64,
    pub write_units: u64,
    pub read_units: u64,
    pub bytes_written: u64,
    /// Wall time spent inside the store's calls.
    pub micros: u64,
}

pub struct MeteredTable {
    inner: Arc<dyn Table>,
    retain_users: bool,
    c: Counters,
}

impl MeteredTable {
    pub fn new(inner: Arc<dyn Table>, retain_users: bool) -> Self {
        Self {
            inner,
            retain_users,
            c: Counters::default(),
        }
    }

    pub fn figures(&self) -> StoreFigures {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StoreFigures {
            calls: g(&self.c.calls),
            batch_calls: g(&self.c.batch_calls),
            items_written: g(&self.c.items_written),
            items_deleted: g(&self.c.items_deleted),
            write_units: g(&self.c.write_units),
            read_units: g(&self.c.read_units),
            bytes_written: g(&self.c.bytes_written),
            micros: g(&self.c.nanos) / 1_000,
        }
    }

    fn wrote(&self, item: &Item) {
        let size = item_size(item);
        self.c.items_written.fetch_add(1, Ordering::Relaxed);
        self.c.bytes_written.fetch_add(size, Ordering::Relaxed);
        self.c
            .write_units
            .fetch_add(write_units(size), Ordering::Relaxed);
    }

    fn deleted(&self) {
        self.c.items_deleted.fetch_add(1, Ordering::Relaxed);
        self.c.write_units.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self, bytes: u64) {
        self.c
            .read_units
            .fetch_add(bytes.div_ceil(4096).max(1), Ordering::Relaxed);
    }

    fn timed(&self, started: Instant) {
        self.c.calls.fetch_add(1, Ordering::Relaxed);
        self.c.nanos.fetch_add(
            u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn is_user_item(&self, item: &Item) -> bool {
        !self.retain_users
            && item
                .get(aws_adapters::table::SK)
                .and_then(serde_json::Value::as_str)
                .is_some_and(|sk| sk.starts_with("USER#"))
    }
}

#[async_trait]
impl Table for MeteredTable {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let t = Instant::now();
        let r = self.inner.get(pk, sk).await;
        if let Ok(item) = &r {
            self.read(item.as_ref().map_or(0, item_size));
        }
        self.timed(t);
        r
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError> {
        let t = Instant::now();
        self.wrote(&item);
        let r = if self.is_user_item(&item) {
            Ok(())
        } else {
            self.inner.put(item, cond).await
        };
        self.timed(t);
        r
    }

    async fn delete(
        &self,
        pk: &str,
        sk: &str,
        cond: Option<Cond>,
    ) -> Result<Option<Item>, StoreError> {
        let t = Instant::now();
        self.deleted();
        let r = self.inner.delete(pk, sk, cond).await;
        self.timed(t);
        r
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let t = Instant::now();
        let r = self.inner.query(query).await;
        if let Ok(page) = &r {
            self.read(page.items.iter().map(item_size).sum());
        }
        self.timed(t);
        r
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let t = Instant::now();
        self.c
            .batch_calls
            .fetch_add(ops.len().div_ceil(25) as u64, Ordering::Relaxed);
        let mut kept = Vec::with_capacity(ops.len());
        for op in ops {
            match &op {
                WriteOp::Put(item) => {
                    self.wrote(item);
                    if !self.is_user_item(item) {
                        kept.push(op);
                    }
                }
                WriteOp::Delete { .. } => {
                    self.deleted();
                    kept.push(op);
                }
            }
        }
        let r = if kept.is_empty() {
            Ok(())
        } else {
            self.inner.batch_write(kept).await
        };
        self.timed(t);
        r
    }
}
