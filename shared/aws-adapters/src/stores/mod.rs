//! [`Records`], which implements the small store traits of the `ports` crate (the ones the
//! domain and functions depend on) on a [`Table`] (DynamoDB in production, memory in unit
//! tests). Key layout: `docs/data-model.md`.
//!
//! Here: [`Records`], its constructors, the record encoding ([`DATA`]) and the helpers every
//! store uses; the keys in `keys`; one file per aggregate's store traits: `connections`
//! (connections and OAuth states), `accounts`, `users` (roster and activity), `licenses`
//! (licenses and their activity figures), `candidates` (reclamation candidates), `runs` (sync
//! runs and checkpoints), `audit`, `leases` (leases and running-task marks), `opportunities`
//! (notify-then-reclaim) and `purge`.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::backend::{
    Cond, DynamoTable, Index, Item, MemoryTable, Query, SkCond, Table, WriteOp, query_all, str_attr,
};
use crate::table::{PK, SK, TTL};

/// Keys deleted per `batch_write` call (four DynamoDB requests of 25).
const DELETE_CHUNK: usize = 100;
use ports::StoreError;

mod accounts;
mod audit;
mod candidates;
mod connections;
mod keys;
mod leases;
mod licenses;
mod opportunities;
mod purge;
mod runs;
mod users;

const CAS_ATTEMPTS: u32 = 8;

/// Attribute holding the record itself, as one JSON document (see docs/data-model.md: whole
/// records are always written at once; one attribute instead of one per field keeps items
/// cheap to (de)serialize and identical between the DynamoDB table and the in-memory fake).
pub const DATA: &str = "d";

fn encode<T: Serialize>(
    record: &T,
    keys: &[(&str, String)],
    ttl: Option<i64>,
) -> Result<Item, StoreError> {
    let data = serde_json::to_string(record).map_err(|e| StoreError::Decode(e.to_string()))?;
    let mut item = Item::new();
    for (attr, value) in keys {
        item.insert((*attr).to_owned(), Value::String(value.clone()));
    }
    item.insert(DATA.to_owned(), Value::String(data));
    if let Some(ttl) = ttl {
        item.insert(TTL.to_owned(), json!(ttl));
    }
    Ok(item)
}

fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let pk = str_attr(&item, PK).unwrap_or_default();
    let sk = str_attr(&item, SK).unwrap_or_default();
    let data = str_attr(&item, DATA)
        .ok_or_else(|| StoreError::Decode(format!("item {pk}/{sk} has no record attribute")))?;
    serde_json::from_str(data).map_err(|e| {
        StoreError::Decode(format!(
            "item {pk}/{sk}: {} at line {} column {}",
            e.classify_name(),
            e.line(),
            e.column()
        ))
    })
}

/// Whether a conditional write was made: `false` when its condition failed.
fn written<T>(result: Result<T, StoreError>) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e),
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "unexpected record shape",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}

/// All stores on one table.
#[derive(Clone)]
pub struct Records {
    table: Arc<dyn Table>,
    /// This process's clock, for the leases' expiry (processes' clocks differ a little).
    clock: sync_domain::Clock,
}

impl Records {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            table,
            clock: sync_domain::system_clock(),
        }
    }

    /// The same records on a clock of their own (tests: processes whose clocks are skewed).
    pub fn with_clock(mut self, clock: sync_domain::Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn dynamo(client: aws_sdk_dynamodb::Client, table_name: impl Into<String>) -> Self {
        Self::new(Arc::new(DynamoTable::new(client, table_name)))
    }

    /// In-memory fake with the same semantics (for unit tests of other crates).
    pub fn in_memory() -> Self {
        Self::new(Arc::new(MemoryTable::new()))
    }

    pub fn table(&self) -> &Arc<dyn Table> {
        &self.table
    }

    fn decoded<'a, T: DeserializeOwned + Send + 'a>(
        &'a self,
        query: Query,
    ) -> BoxStream<'a, Result<T, StoreError>> {
        query_all(&*self.table, query)
            .and_then(|item| async move { decode(item) })
            .boxed()
    }

    /// The records of partition `pk` whose sort keys begin with `prefix`.
    fn decoded_under<'a, T: DeserializeOwned + Send + 'a>(
        &'a self,
        pk: String,
        prefix: impl Into<String>,
    ) -> BoxStream<'a, Result<T, StoreError>> {
        self.decoded(Query::new(
            Index::Primary,
            pk,
            SkCond::BeginsWith(prefix.into()),
        ))
    }

    /// Puts `item` unless an item with its keys exists; whether it did.
    async fn put_new(&self, item: Item) -> Result<bool, StoreError> {
        written(self.table.put(item, Some(Cond::NotExists)).await)
    }

    /// Replaces the items of partition `pk` under sort-key `prefix` with `items` (keyed by
    /// sort key): one batch of puts and deletes.
    async fn replace_under_prefix(
        &self,
        pk: String,
        prefix: String,
        items: Vec<(String, Item)>,
    ) -> Result<(), StoreError> {
        let mut ops: BTreeMap<String, WriteOp> = items
            .into_iter()
            .map(|(sk, item)| (sk, WriteOp::Put(item)))
            .collect();
        let existing: Vec<Item> = query_all(
            &*self.table,
            Query::new(Index::Primary, pk.clone(), SkCond::BeginsWith(prefix)),
        )
        .try_collect()
        .await?;
        for item in existing {
            let sk = str_attr(&item, SK).unwrap_or_default().to_owned();
            ops.entry(sk.clone())
                .or_insert(WriteOp::Delete { pk: pk.clone(), sk });
        }
        self.table.batch_write(ops.into_values().collect()).await
    }

    /// Deletes the items of partition `pk` whose sort keys match `sk`; returns how many. Keys
    /// only, deleted as they are read: memory stays a chunk however large the partition (a
    /// purge, a 200,000-user run's checkpoint parts).
    async fn delete_matching(&self, pk: String, sk: SkCond) -> Result<usize, StoreError> {
        let mut chunks = query_all(
            &*self.table,
            Query::new(Index::Primary, pk.clone(), sk).keys_only(),
        )
        .map_ok(|item| WriteOp::Delete {
            pk: pk.clone(),
            sk: str_attr(&item, SK).unwrap_or_default().to_owned(),
        })
        .try_chunks(DELETE_CHUNK);
        let mut deleted = 0;
        while let Some(keys) = chunks.try_next().await.map_err(|e| e.1)? {
            deleted += keys.len();
            self.table.batch_write(keys).await?;
        }
        Ok(deleted)
    }
}
