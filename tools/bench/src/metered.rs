//! A table wrapper that counts what a DynamoDB table would bill (write and read units, calls,
//! items) and the time spent inside the store, around the in-memory table.
//!
//! With `retain_users = false` the per-user items (roster and activity, `SK` beginning `USER#`;
//! reclamation candidates, `CAND#`) are counted, sized and then dropped instead of kept, and
//! checkpoint parts (`CKPTPART#`, an access run's entries: they grow with the account) are kept
//! in scratch files: the worker's memory is then the worker's own, as with DynamoDB, and not the
//! fake database's (which grows with the tenant). Everything else (connections, accounts,
//! checkpoints, licenses, runs) is kept in memory, so a full run behaves exactly as against a
//! table that starts empty.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use aws_adapters::backend::{Cond, Index, Item, Page, Query, SkCond, Table, WriteOp};
use aws_adapters::table::{PK, SK};
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
    files: Option<Files>,
}

/// Items kept in scratch files, one file per item, with an index of their keys in memory.
struct Files {
    dir: PathBuf,
    index: Mutex<BTreeMap<(String, String), PathBuf>>,
    next: AtomicU64,
}

/// Sort-key prefix of the items kept in files.
const IN_FILES: &str = "CKPTPART#";

impl Files {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("zts-bench-table-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self {
            dir,
            index: Mutex::default(),
            next: AtomicU64::new(0),
        }
    }

    fn io(e: impl std::fmt::Display) -> StoreError {
        StoreError::Dynamo {
            op: "bench file table",
            message: e.to_string(),
        }
    }

    fn index(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), PathBuf>> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn put(&self, pk: &str, sk: &str, item: &Item) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(Self::io)?;
        let path = self
            .dir
            .join(self.next.fetch_add(1, Ordering::Relaxed).to_string());
        std::fs::write(&path, serde_json::to_vec(item).map_err(Self::io)?).map_err(Self::io)?;
        if let Some(old) = self.index().insert((pk.to_owned(), sk.to_owned()), path) {
            let _ = std::fs::remove_file(old);
        }
        Ok(())
    }

    fn read(path: &PathBuf) -> Result<Item, StoreError> {
        serde_json::from_slice(&std::fs::read(path).map_err(Self::io)?).map_err(Self::io)
    }

    fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let path = self.index().get(&(pk.to_owned(), sk.to_owned())).cloned();
        path.as_ref().map(Self::read).transpose()
    }

    fn delete(&self, pk: &str, sk: &str) -> Option<Item> {
        let path = self.index().remove(&(pk.to_owned(), sk.to_owned()))?;
        let item = Self::read(&path).ok();
        let _ = std::fs::remove_file(path);
        item
    }

    /// A primary-index query for items in files (in sort-key order, one page).
    fn query(&self, q: &Query) -> Option<Result<Page, StoreError>> {
        let in_files = |sk: &str| sk.starts_with(IN_FILES);
        let matches: Box<dyn Fn(&str) -> bool> = match &q.sk {
            SkCond::BeginsWith(p) if in_files(p) => {
                let p = p.clone();
                Box::new(move |sk| sk.starts_with(&p))
            }
            SkCond::Between(a, b) if in_files(a) && in_files(b) => {
                let (a, b) = (a.clone(), b.clone());
                Box::new(move |sk| a.as_str() <= sk && sk <= b.as_str())
            }
            _ => return None,
        };
        if q.index != Index::Primary {
            return None;
        }
        // One page as DynamoDB gives it: from after `start`, in the query's order, until
        // `limit` items or the first item that reaches 1 MB read.
        let after = q
            .start
            .as_ref()
            .and_then(|s| s.get(SK)?.as_str())
            .map(str::to_owned);
        let mut paths: Vec<(String, PathBuf)> = self
            .index()
            .iter()
            .filter(|((pk, sk), _)| *pk == q.pk && matches(sk))
            .map(|((_, sk), path)| (sk.clone(), path.clone()))
            .collect();
        if !q.forward {
            paths.reverse();
        }
        let limit = q.limit.map_or(usize::MAX, |l| l.max(1) as usize);
        let mut rest = paths
            .into_iter()
            .filter(|(sk, _)| match &after {
                None => true,
                Some(a) if q.forward => sk > a,
                Some(a) => sk < a,
            })
            .peekable();
        let (mut items, mut bytes) = (Vec::new(), 0u64);
        while let Some((sk, path)) = rest.next_if(|_| items.len() < limit && bytes < PAGE_BYTES) {
            if q.keys_only {
                // Read in full by DynamoDB (the page ends at 1 MB of whole items), sent as keys.
                bytes += std::fs::metadata(&path).map_or(0, |m| m.len());
                items.push(key_item(&q.pk, &sk));
                continue;
            }
            match Self::read(&path) {
                Ok(item) => {
                    bytes += item_size(&item);
                    items.push(item);
                }
                Err(e) => return Some(Err(e)),
            }
        }
        // The last item's key, as DynamoDB's LastEvaluatedKey.
        let next = match (rest.peek(), items.last()) {
            (Some(_), Some(last)) => Some(key_item(&q.pk, keys(last).1)),
            _ => None,
        };
        Some(Ok(Page { items, next }))
    }
}

/// An item's key as DynamoDB sends it (a keys-only item, a `LastEvaluatedKey`).
fn key_item(pk: &str, sk: &str) -> Item {
    Item::from_iter([
        (PK.to_owned(), serde_json::Value::from(pk)),
        (SK.to_owned(), serde_json::Value::from(sk)),
    ])
}

/// DynamoDB ends a query page once it has read 1 MB.
const PAGE_BYTES: u64 = 1 << 20;

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn keys(item: &Item) -> (&str, &str) {
    let attr = |name| {
        item.get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    };
    (attr(aws_adapters::table::PK), attr(aws_adapters::table::SK))
}

impl MeteredTable {
    pub fn new(inner: Arc<dyn Table>, retain_users: bool) -> Self {
        Self {
            inner,
            retain_users,
            c: Counters::default(),
            files: (!retain_users).then(Files::new),
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
        let sk = keys(item).1;
        !self.retain_users && (sk.starts_with("USER#") || sk.starts_with("CAND#"))
    }

    /// The file table, for an item (or key) kept in files.
    fn files_for(&self, sk: &str) -> Option<&Files> {
        self.files.as_ref().filter(|_| sk.starts_with(IN_FILES))
    }
}

#[async_trait]
impl Table for MeteredTable {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let t = Instant::now();
        let r = match self.files_for(sk) {
            Some(files) => files.get(pk, sk),
            None => self.inner.get(pk, sk).await,
        };
        if let Ok(item) = &r {
            self.read(item.as_ref().map_or(0, item_size));
        }
        self.timed(t);
        r
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError> {
        let t = Instant::now();
        self.wrote(&item);
        let (pk, sk) = keys(&item);
        let r = if self.is_user_item(&item) {
            Ok(())
        } else if let Some(files) = self.files_for(sk) {
            files.put(pk, sk, &item)
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
        let r = match self.files_for(sk) {
            Some(files) => Ok(files.delete(pk, sk)),
            None => self.inner.delete(pk, sk, cond).await,
        };
        self.timed(t);
        r
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let t = Instant::now();
        let r = match self.files.as_ref().and_then(|f| f.query(query)) {
            Some(page) => page,
            None => self.inner.query(query).await,
        };
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
                    let (pk, sk) = keys(item);
                    if let Some(files) = self.files_for(sk) {
                        files.put(pk, sk, item)?;
                    } else if !self.is_user_item(item) {
                        kept.push(op);
                    }
                }
                WriteOp::Delete { pk, sk } => {
                    self.deleted();
                    match self.files_for(sk) {
                        Some(files) => {
                            files.delete(pk, sk);
                        }
                        None => kept.push(op),
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_adapters::backend::{MemoryTable, query_all};
    use futures::TryStreamExt;

    /// A checkpoint part of about `kb` KB.
    fn part(n: usize, kb: usize) -> Item {
        serde_json::json!({ PK: "CONN#c", SK: format!("CKPTPART#a#{n:04}"), "data": "x".repeat(kb * 1024) })
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn parts_in_files_come_in_pages_of_one_megabyte_as_from_dynamodb() {
        let table = MeteredTable::new(Arc::new(MemoryTable::default()), false);
        for n in 0..5 {
            table.put(part(n, 300), None).await.unwrap();
        }
        let query = Query::new(
            Index::Primary,
            "CONN#c",
            SkCond::BeginsWith("CKPTPART#a#".into()),
        );
        // 300 KB items: the page that reaches 1 MB ends with its fourth item.
        let first = table.query(&query).await.unwrap();
        let sks = |page: &Page| -> Vec<String> {
            page.items.iter().map(|i| keys(i).1.to_owned()).collect()
        };
        assert_eq!(sks(&first).len(), 4);
        let next = first.next.clone().expect("a second page");
        assert_eq!(next.len(), 2, "the key only: {next:?}");
        let second = table
            .query(&Query {
                start: Some(next),
                ..query.clone()
            })
            .await
            .unwrap();
        assert_eq!(sks(&second), vec!["CKPTPART#a#0004".to_owned()]);
        assert!(second.next.is_none());
        // A limit, and backwards.
        let limited = table
            .query(&Query {
                limit: Some(2),
                forward: false,
                ..query.clone()
            })
            .await
            .unwrap();
        assert_eq!(
            sks(&limited),
            vec!["CKPTPART#a#0004".to_owned(), "CKPTPART#a#0003".to_owned()]
        );
        // Keys only: the same pages, the keys alone.
        let keys_only = table.query(&query.clone().keys_only()).await.unwrap();
        assert_eq!(sks(&keys_only), sks(&first));
        assert!(keys_only.items.iter().all(|i| i.len() == 2));
        // Every page read through: all five, in order.
        let all: Vec<Item> = query_all(&table, query).try_collect().await.unwrap();
        let all: Vec<&str> = all.iter().map(|i| keys(i).1).collect();
        assert_eq!(
            all,
            (0..5)
                .map(|n| format!("CKPTPART#a#{n:04}"))
                .collect::<Vec<_>>()
        );
    }
}
