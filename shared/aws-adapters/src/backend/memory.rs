//! In-memory table with DynamoDB's semantics for the operations in [`Table`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;

use super::operations::{Cond, Index, Item, Page, Query, Table, WriteOp, str_attr};
use crate::table::{PK, SK};
use ports::StoreError;

/// Items per page when the query sets no limit (DynamoDB stops at 1 MB; a small page here makes
/// unit tests of callers exercise pagination).
const DEFAULT_PAGE: usize = 100;

#[derive(Debug, Default)]
pub struct MemoryTable {
    items: Mutex<Items>,
}

/// The items by primary key, and each secondary index as an ordered set of (index pk, index
/// sk, table pk, table sk): an index query reads its partition only, as DynamoDB does (a scan
/// of every item per lookup made the bench's 50,000-user run quadratic).
#[derive(Debug, Default)]
struct Items {
    by_key: BTreeMap<(String, String), Item>,
    gsi: [BTreeSet<IndexKey>; 2],
}

type IndexKey = (String, String, String, String);

const GSIS: [Index; 2] = [Index::Gsi1, Index::Gsi2];

impl Items {
    fn index_keys(key: &(String, String), item: &Item) -> [Option<IndexKey>; 2] {
        GSIS.map(|index| {
            let (pk_attr, sk_attr) = index.keys();
            Some((
                str_attr(item, pk_attr)?.to_owned(),
                str_attr(item, sk_attr)?.to_owned(),
                key.0.clone(),
                key.1.clone(),
            ))
        })
    }

    fn get(&self, key: &(String, String)) -> Option<&Item> {
        self.by_key.get(key)
    }

    fn insert(&mut self, key: (String, String), item: Item) {
        self.remove(&key);
        for (set, entry) in self.gsi.iter_mut().zip(Self::index_keys(&key, &item)) {
            if let Some(entry) = entry {
                set.insert(entry);
            }
        }
        self.by_key.insert(key, item);
    }

    fn remove(&mut self, key: &(String, String)) -> Option<Item> {
        let old = self.by_key.remove(key)?;
        for (set, entry) in self.gsi.iter_mut().zip(Self::index_keys(key, &old)) {
            if let Some(entry) = entry {
                set.remove(&entry);
            }
        }
        Some(old)
    }

    /// The items of one index partition, in (index sk, table pk, table sk) order.
    fn partition(
        &self,
        index: Index,
        pk: &str,
    ) -> impl Iterator<Item = (&(String, String), &Item)> {
        let set = &self.gsi[usize::from(index == Index::Gsi2)];
        let lower = (pk.to_owned(), String::new(), String::new(), String::new());
        set.range(lower..)
            .take_while(move |(ipk, ..)| ipk == pk)
            .filter_map(|(_, _, tpk, tsk)| self.by_key.get_key_value(&(tpk.clone(), tsk.clone())))
    }
}

impl MemoryTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every item, ordered by primary key (for tests).
    pub fn snapshot(&self) -> Vec<Item> {
        self.lock().by_key.values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Items> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// DynamoDB refuses items over 400 KB (names and values); the JSON size is close enough to
/// make a caller that would hit the limit fail here too.
const MAX_ITEM_BYTES: usize = 400 * 1024;

fn check_size(op: &'static str, item: &Item) -> Result<(), StoreError> {
    let size = serde_json::to_vec(item).map(|v| v.len()).unwrap_or(0);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::Dynamo {
            op,
            message: format!("Item size has exceeded the maximum allowed size ({size} bytes)"),
        });
    }
    Ok(())
}

/// A page as the query asked for it: the table keys only, or whole items.
fn projected(query: &Query, mut page: Page) -> Page {
    if query.keys_only {
        for item in &mut page.items {
            item.retain(|attr, _| attr == PK || attr == SK);
        }
    }
    page
}

fn primary_key(item: &Item) -> Result<(String, String), StoreError> {
    match (str_attr(item, PK), str_attr(item, SK)) {
        (Some(pk), Some(sk)) => Ok((pk.to_owned(), sk.to_owned())),
        _ => Err(StoreError::Dynamo {
            op: "PutItem",
            message: "item lacks its string keys pk/sk".into(),
        }),
    }
}

#[async_trait]
impl Table for MemoryTable {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        Ok(self.lock().get(&(pk.to_owned(), sk.to_owned())).cloned())
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError> {
        let key = primary_key(&item)?;
        check_size("PutItem", &item)?;
        let mut items = self.lock();
        if let Some(cond) = cond
            && !cond.eval(items.get(&key))
        {
            return Err(StoreError::ConditionFailed);
        }
        items.insert(key, item);
        Ok(())
    }

    async fn delete(
        &self,
        pk: &str,
        sk: &str,
        cond: Option<Cond>,
    ) -> Result<Option<Item>, StoreError> {
        let key = (pk.to_owned(), sk.to_owned());
        let mut items = self.lock();
        if let Some(cond) = cond
            && !cond.eval(items.get(&key))
        {
            return Err(StoreError::ConditionFailed);
        }
        Ok(items.remove(&key))
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let (pk_attr, sk_attr) = query.index.keys();
        let items = self.lock();
        let limit = query
            .limit
            .map(|l| l.max(1) as usize)
            .unwrap_or(DEFAULT_PAGE);
        if query.index == Index::Primary && query.forward {
            // The map is ordered by (pk, sk): read just this page (and one more to know
            // whether another page follows).
            let lower = match &query.start {
                Some(start) => std::ops::Bound::Excluded((
                    query.pk.clone(),
                    str_attr(start, SK).unwrap_or_default().to_owned(),
                )),
                None => std::ops::Bound::Included((query.pk.clone(), String::new())),
            };
            let mut page: Vec<Item> = items
                .by_key
                .range((lower, std::ops::Bound::Unbounded))
                .take_while(|((pk, _), _)| *pk == query.pk)
                .filter(|((_, sk), _)| query.sk.matches(sk))
                .take(limit + 1)
                .map(|(_, item)| item.clone())
                .collect();
            let next = if page.len() > limit {
                page.truncate(limit);
                page.last().map(|last| {
                    let mut key = Item::new();
                    for attr in [PK, SK] {
                        if let Some(v) = last.get(attr) {
                            key.insert(attr.to_owned(), v.clone());
                        }
                    }
                    key
                })
            } else {
                None
            };
            return Ok(projected(query, Page { items: page, next }));
        }
        // (index sk, table pk, table sk) orders items within an index partition as DynamoDB
        // does for our purposes (ties on the index sort key are ordered by the table key).
        // Both read only their partition (a range of the ordered map or of the index set).
        let candidates: Box<dyn Iterator<Item = (&(String, String), &Item)>> =
            if query.index == Index::Primary {
                // Forward pages start right after the previous page's key.
                let lower = match (&query.start, query.forward) {
                    (Some(start), true) => std::ops::Bound::Excluded((
                        query.pk.clone(),
                        str_attr(start, SK).unwrap_or_default().to_owned(),
                    )),
                    _ => std::ops::Bound::Included((query.pk.clone(), String::new())),
                };
                Box::new(
                    items
                        .by_key
                        .range((lower, std::ops::Bound::Unbounded))
                        .take_while(|((pk, _), _)| *pk == query.pk),
                )
            } else {
                Box::new(items.partition(query.index, &query.pk))
            };
        let mut hits: Vec<((String, String, String), &Item)> = candidates
            .filter_map(|((pk, sk), item)| {
                if str_attr(item, pk_attr)? != query.pk {
                    return None;
                }
                let isk = str_attr(item, sk_attr)?;
                query
                    .sk
                    .matches(isk)
                    .then(|| ((isk.to_owned(), pk.clone(), sk.clone()), item))
            })
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0));
        if !query.forward {
            hits.reverse();
        }
        let start_at = match &query.start {
            None => 0,
            Some(start) => {
                let key = (
                    str_attr(start, sk_attr).unwrap_or_default().to_owned(),
                    str_attr(start, PK).unwrap_or_default().to_owned(),
                    str_attr(start, SK).unwrap_or_default().to_owned(),
                );
                hits.iter()
                    .position(|(k, _)| if query.forward { *k > key } else { *k < key })
                    .unwrap_or(hits.len())
            }
        };
        let page: Vec<Item> = hits[start_at..]
            .iter()
            .take(limit)
            .map(|(_, item)| (*item).clone())
            .collect();
        let more = hits.len() > start_at + page.len();
        let next = match (more, page.last()) {
            (true, Some(last)) => {
                let mut key = Item::new();
                for attr in [PK, SK, pk_attr, sk_attr] {
                    if let Some(v) = last.get(attr) {
                        key.insert(attr.to_owned(), v.clone());
                    }
                }
                Some(key)
            }
            _ => None,
        };
        Ok(projected(query, Page { items: page, next }))
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        for op in &ops {
            if let WriteOp::Put(item) = op {
                check_size("BatchWriteItem", item)?;
            }
        }
        let mut items = self.lock();
        for op in ops {
            match op {
                WriteOp::Put(item) => {
                    let key = primary_key(&item)?;
                    items.insert(key, item);
                }
                WriteOp::Delete { pk, sk } => {
                    items.remove(&(pk, sk));
                }
            }
        }
        Ok(())
    }
}
