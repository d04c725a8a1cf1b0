//! The table operations the stores use ([`Table`]) and their vocabulary: items, indexes,
//! queries, pages and write conditions. Both implementations depend on this file only.

use std::cmp::Ordering;

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::Value;

use crate::table::{GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_PK, GSI2_SK, PK, SK};
use ports::StoreError;

/// One item: attribute name → JSON value (strings, numbers, booleans, null, lists, maps).
pub type Item = serde_json::Map<String, Value>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    Primary,
    Gsi1,
    Gsi2,
}

impl Index {
    pub fn name(self) -> Option<&'static str> {
        match self {
            Self::Primary => None,
            Self::Gsi1 => Some(GSI1),
            Self::Gsi2 => Some(GSI2),
        }
    }

    pub fn keys(self) -> (&'static str, &'static str) {
        match self {
            Self::Primary => (PK, SK),
            Self::Gsi1 => (GSI1_PK, GSI1_SK),
            Self::Gsi2 => (GSI2_PK, GSI2_SK),
        }
    }
}

/// Condition on the sort key of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkCond {
    Any,
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
}

impl SkCond {
    pub(crate) fn matches(&self, sk: &str) -> bool {
        match self {
            Self::Any => true,
            Self::BeginsWith(p) => sk.starts_with(p.as_str()),
            Self::Between(a, b) => a.as_str() <= sk && sk <= b.as_str(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SkCond,
    /// Ascending sort-key order when true.
    pub forward: bool,
    pub limit: Option<i32>,
    /// Where the previous page stopped (its `next`).
    pub start: Option<Item>,
    /// The items' table keys only (`pk`, `sk`): what a delete needs. DynamoDB still reads
    /// (and bills, and pages at 1 MB of) whole items, but sends and parses the keys only.
    pub keys_only: bool,
}

impl Query {
    pub fn new(index: Index, pk: impl Into<String>, sk: SkCond) -> Self {
        Self {
            index,
            pk: pk.into(),
            sk,
            forward: true,
            limit: None,
            start: None,
            keys_only: false,
        }
    }

    pub fn keys_only(mut self) -> Self {
        self.keys_only = true;
        self
    }

    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    pub fn limit(mut self, limit: i32) -> Self {
        self.limit = Some(limit);
        self
    }
}

#[derive(Clone, Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Key to continue from; `None` when the query is exhausted.
    pub next: Option<Item>,
}

/// A write condition, evaluated against the item currently stored under the same key.
#[derive(Clone, Debug)]
pub enum Cond {
    NotExists,
    Exists,
    Eq(&'static str, Value),
    /// The attribute exists and is less than the value.
    Lt(&'static str, Value),
    /// The attribute exists and is greater than the value.
    Gt(&'static str, Value),
    Or(Vec<Cond>),
    And(Vec<Cond>),
}

impl Cond {
    /// Evaluates the condition against `item` (`None`: no item stored), as DynamoDB does.
    pub(crate) fn eval(&self, item: Option<&Item>) -> bool {
        let attr = |name: &str| item.and_then(|i| i.get(name));
        match self {
            Self::NotExists => item.is_none(),
            Self::Exists => item.is_some(),
            Self::Eq(name, v) => attr(name).is_some_and(|a| compare(a, v) == Some(Ordering::Equal)),
            Self::Lt(name, v) => attr(name).is_some_and(|a| compare(a, v) == Some(Ordering::Less)),
            Self::Gt(name, v) => {
                attr(name).is_some_and(|a| compare(a, v) == Some(Ordering::Greater))
            }
            Self::Or(cs) => cs.iter().any(|c| c.eval(item)),
            Self::And(cs) => cs.iter().all(|c| c.eval(item)),
        }
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (x, y) if x == y => Some(Ordering::Equal),
        _ => None,
    }
}

#[derive(Clone, Debug)]
pub enum WriteOp {
    Put(Item),
    Delete { pk: String, sk: String },
}

/// The table operations the stores use. Reads of the primary index are strongly consistent.
#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError>;
    /// Put the whole item; `Err(ConditionFailed)` when `cond` does not hold.
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError>;
    /// Delete and return the old item (if any); `Err(ConditionFailed)` when `cond` does not hold.
    async fn delete(
        &self,
        pk: &str,
        sk: &str,
        cond: Option<Cond>,
    ) -> Result<Option<Item>, StoreError>;
    /// One page of a query.
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;
    /// Unconditional puts and deletes, 25 per request, unprocessed items retried with backoff.
    /// One key must not appear twice in one call.
    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;
}

/// Every item of a query, page after page.
pub fn query_all(table: &dyn Table, query: Query) -> BoxStream<'_, Result<Item, StoreError>> {
    stream::try_unfold(Some(query), move |state| async move {
        let Some(query) = state else {
            return Ok(None);
        };
        let page = table.query(&query).await?;
        let next = page.next.map(|start| Query {
            start: Some(start),
            ..query
        });
        Ok::<_, StoreError>(Some((stream::iter(page.items.into_iter().map(Ok)), next)))
    })
    .map(|r| match r {
        Ok(s) => s.left_stream(),
        Err(e) => stream::once(async move { Err(e) }).right_stream(),
    })
    .flatten()
    .boxed()
}

pub(crate) fn str_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(Value::as_str)
}
