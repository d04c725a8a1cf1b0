//! [`Table`] on DynamoDB.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, PutRequest, ReturnValue, Select, WriteRequest,
};
use futures::stream::{self, StreamExt, TryStreamExt};
use rand::RngExt;
use serde_json::{Number, Value};

use super::operations::{Cond, Item, Page, Query, SkCond, Table, WriteOp};
use crate::table::{PK, SK};
use ports::StoreError;

/// DynamoDB's limit of requests per BatchWriteItem call.
pub(super) const BATCH_WRITE_MAX: usize = 25;
/// BatchWriteItem calls in flight at once for one `batch_write`.
const BATCH_CONCURRENCY: usize = 4;
/// Attempts for a batch whose items keep coming back as unprocessed.
const BATCH_ATTEMPTS: u32 = 10;

#[derive(Clone, Debug)]
pub struct DynamoTable {
    client: Client,
    name: String,
}

impl DynamoTable {
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

pub(crate) fn to_attr(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(to_attr).collect()),
        Value::Object(m) => {
            AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect())
        }
    }
}

pub(crate) fn from_attr(attr: &AttributeValue) -> Result<Value, StoreError> {
    Ok(match attr {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => parse_number(n)?,
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attr).collect::<Result<_, _>>()?),
        AttributeValue::M(m) => Value::Object(from_map(m)?),
        AttributeValue::Ss(ss) => Value::Array(ss.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(ns) => Value::Array(
            ns.iter()
                .map(|n| parse_number(n))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(StoreError::Decode(format!(
                "unsupported DynamoDB attribute type {other:?}"
            )));
        }
    })
}

fn parse_number(n: &str) -> Result<Value, StoreError> {
    if let Ok(i) = n.parse::<i64>() {
        return Ok(Value::Number(i.into()));
    }
    if let Ok(u) = n.parse::<u64>() {
        return Ok(Value::Number(u.into()));
    }
    n.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| StoreError::Decode(format!("number {n:?} out of range")))
}

pub(crate) fn to_map(item: &Item) -> HashMap<String, AttributeValue> {
    item.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect()
}

pub(crate) fn from_map(map: &HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    map.iter()
        .map(|(k, v)| Ok((k.clone(), from_attr(v)?)))
        .collect()
}

fn key_map(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(pk.to_owned())),
        (SK.to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// A condition expression with its placeholder maps.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    fn name(&mut self, attr: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attr.to_owned());
        placeholder
    }

    fn value(&mut self, v: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), v);
        placeholder
    }

    fn cond(&mut self, cond: &Cond) -> String {
        match cond {
            Cond::NotExists => format!("attribute_not_exists({})", self.name(PK)),
            Cond::Exists => format!("attribute_exists({})", self.name(PK)),
            Cond::Eq(a, v) => self.cmp(a, "=", v),
            Cond::Lt(a, v) => self.cmp(a, "<", v),
            Cond::Gt(a, v) => self.cmp(a, ">", v),
            Cond::Or(cs) => self.join(cs, " OR "),
            Cond::And(cs) => self.join(cs, " AND "),
        }
    }

    fn cmp(&mut self, attr: &str, op: &str, v: &Value) -> String {
        let n = self.name(attr);
        let v = self.value(to_attr(v));
        format!("{n} {op} {v}")
    }

    fn join(&mut self, cs: &[Cond], sep: &str) -> String {
        let parts: Vec<String> = cs.iter().map(|c| self.cond(c)).collect();
        format!("({})", parts.join(sep))
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// Sends `requests` with `send` (which returns the unprocessed ones) until none are left,
/// sleeping with exponential backoff and full jitter between attempts (as AWS recommends for
/// `UnprocessedItems`). Fails after `attempts` sends that left items unprocessed.
pub async fn retry_unprocessed<T, F, Fut>(
    mut requests: Vec<T>,
    attempts: u32,
    base_delay: Duration,
    mut send: F,
) -> Result<u32, StoreError>
where
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, StoreError>>,
{
    let mut attempt = 0;
    while !requests.is_empty() {
        attempt += 1;
        if attempt > attempts {
            return Err(StoreError::Dynamo {
                op: "BatchWriteItem",
                message: format!(
                    "{} items still unprocessed after {attempts} attempts",
                    requests.len()
                ),
            });
        }
        if attempt > 1 {
            let cap = base_delay.saturating_mul(1 << (attempt - 2).min(10));
            let cap = cap.min(Duration::from_secs(5));
            let delay = rand::rng().random_range(0..=cap.as_millis() as u64);
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        requests = send(requests).await?;
    }
    Ok(attempt)
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_map(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| crate::error::dynamo_error("GetItem", e))?;
        out.item().map(from_map).transpose()
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError> {
        let mut expr = Expr::default();
        let cond = cond.map(|c| expr.cond(&c));
        let res = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(to_map(&item)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::ConditionFailed)
            }
            Err(e) => Err(crate::error::dynamo_error("PutItem", e)),
        }
    }

    async fn delete(
        &self,
        pk: &str,
        sk: &str,
        cond: Option<Cond>,
    ) -> Result<Option<Item>, StoreError> {
        let mut expr = Expr::default();
        let cond = cond.map(|c| expr.cond(&c));
        let res = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_map(pk, sk)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => out.attributes().map(from_map).transpose(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::ConditionFailed)
            }
            Err(e) => Err(crate::error::dynamo_error("DeleteItem", e)),
        }
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let (pk_attr, sk_attr) = query.index.keys();
        let mut expr = Expr::default();
        let pk_name = expr.name(pk_attr);
        let pk_value = expr.value(AttributeValue::S(query.pk.clone()));
        let mut key_cond = format!("{pk_name} = {pk_value}");
        match &query.sk {
            SkCond::Any => {}
            SkCond::BeginsWith(prefix) => {
                let n = expr.name(sk_attr);
                let v = expr.value(AttributeValue::S(prefix.clone()));
                key_cond.push_str(&format!(" AND begins_with({n}, {v})"));
            }
            SkCond::Between(a, b) => {
                let n = expr.name(sk_attr);
                let va = expr.value(AttributeValue::S(a.clone()));
                let vb = expr.value(AttributeValue::S(b.clone()));
                key_cond.push_str(&format!(" AND {n} BETWEEN {va} AND {vb}"));
            }
        }
        let projection = query
            .keys_only
            .then(|| format!("{}, {}", expr.name(PK), expr.name(SK)));
        let out = self
            .client
            .query()
            .table_name(&self.name)
            .set_index_name(query.index.name().map(str::to_owned))
            .key_condition_expression(key_cond)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .scan_index_forward(query.forward)
            .set_limit(query.limit)
            .set_consistent_read(query.index.name().is_none().then_some(true))
            .select(if projection.is_some() {
                Select::SpecificAttributes
            } else {
                Select::AllAttributes
            })
            .set_projection_expression(projection)
            .set_exclusive_start_key(query.start.as_ref().map(to_map))
            .send()
            .await
            .map_err(|e| crate::error::dynamo_error("Query", e))?;
        let items = out
            .items()
            .iter()
            .map(from_map)
            .collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key()
            .filter(|k| !k.is_empty())
            .map(from_map)
            .transpose()?;
        Ok(Page { items, next })
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let requests: Vec<WriteRequest> = ops
            .into_iter()
            .map(|op| match op {
                WriteOp::Put(item) => WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(to_map(&item)))
                            .build()
                            .expect("put request has its item"),
                    )
                    .build(),
                WriteOp::Delete { pk, sk } => WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(key_map(&pk, &sk)))
                            .build()
                            .expect("delete request has its key"),
                    )
                    .build(),
            })
            .collect();
        let chunks: Vec<Vec<WriteRequest>> = requests
            .chunks(BATCH_WRITE_MAX)
            .map(<[WriteRequest]>::to_vec)
            .collect();
        stream::iter(chunks)
            .map(|chunk| {
                retry_unprocessed(
                    chunk,
                    BATCH_ATTEMPTS,
                    Duration::from_millis(50),
                    |batch| async move {
                        let out = self
                            .client
                            .batch_write_item()
                            .request_items(&self.name, batch)
                            .send()
                            .await
                            .map_err(|e| crate::error::dynamo_error("BatchWriteItem", e))?;
                        Ok(out
                            .unprocessed_items
                            .and_then(|mut m| m.remove(&self.name))
                            .unwrap_or_default())
                    },
                )
            })
            .buffer_unordered(BATCH_CONCURRENCY)
            .try_for_each(|_| async { Ok(()) })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A BatchWriteItem stand-in that leaves part of each call unprocessed.
    #[tokio::test]
    async fn unprocessed_items_are_resent_until_done() {
        let sent: Mutex<Vec<Vec<u32>>> = Mutex::new(Vec::new());
        let attempts = retry_unprocessed(
            (0..25).collect::<Vec<u32>>(),
            10,
            Duration::from_millis(1),
            |batch| {
                sent.lock().unwrap().push(batch.clone());
                // Throttled: only the first 10 of each call are processed.
                let rest = batch.into_iter().skip(10).collect();
                async move { Ok(rest) }
            },
        )
        .await
        .unwrap();
        let sent = sent.into_inner().unwrap();
        assert_eq!(attempts, 3);
        assert_eq!(sent.iter().map(Vec::len).collect::<Vec<_>>(), [25, 15, 5]);
        let mut all: Vec<u32> = sent
            .iter()
            .flat_map(|b| b.iter().take(10).copied())
            .collect();
        all.sort();
        assert_eq!(all, (0..25).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn items_never_processed_give_an_error() {
        let err = retry_unprocessed(vec![1, 2, 3], 4, Duration::from_millis(1), |batch| async {
            Ok(batch)
        })
        .await
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("3 items still unprocessed after 4 attempts"),
            "{err}"
        );
    }

    #[test]
    fn attribute_values_round_trip() {
        let value = serde_json::json!({
            "s": "Zoë", "n": 42, "neg": -7, "big": u64::MAX, "f": 1.5, "b": true, "null": null,
            "l": [1, "two", [3]], "m": {"nested": {"x": "y"}}
        });
        let attr = to_attr(&value);
        assert_eq!(from_attr(&attr).unwrap(), value);
    }
}
