//! Reclamation candidates (written by License Differentiation, read by the reclamation
//! function), stored in the same table as the users: `PK = CONN#{cid}#ACCT#{account}`,
//! `SK = CAND#{user_key}` (outside the `USER#` range the roster queries).

use aws_adapters::StoreError;
use aws_adapters::backend::{Index, Item, Query, SkCond, Table, WriteOp, query_all};
use aws_adapters::stores::DATA;
use aws_adapters::table::{PK, SK};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReclamationCandidate {
    pub account_id: String,
    pub user_key: String,
    pub user_id: Option<String>,
    pub email: String,
    pub license_id: String,
    pub license_name: String,
    pub user_type: i64,
    pub last_login: Option<DateTime<Utc>>,
    pub last_meeting_created: Option<DateTime<Utc>>,
    pub last_meeting_joined: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
    pub days_inactive: i64,
    pub threshold_days: u16,
    pub computed_at: DateTime<Utc>,
}

fn pk(cid: &str, account_id: &str) -> String {
    format!("CONN#{cid}#ACCT#{account_id}")
}

const PREFIX: &str = "CAND#";

/// Replaces the candidates of one account.
pub async fn replace_candidates(
    table: &dyn Table,
    cid: &str,
    account_id: &str,
    candidates: &[ReclamationCandidate],
) -> Result<(), StoreError> {
    let pk = pk(cid, account_id);
    let mut ops = std::collections::BTreeMap::new();
    for c in candidates {
        let sk = format!("{PREFIX}{}", c.user_key);
        let mut item = Item::new();
        item.insert(PK.into(), Value::String(pk.clone()));
        item.insert(SK.into(), Value::String(sk.clone()));
        item.insert(
            DATA.into(),
            Value::String(serde_json::to_string(c).map_err(|e| StoreError::Decode(e.to_string()))?),
        );
        ops.insert(sk, WriteOp::Put(item));
    }
    let existing: Vec<Item> = query_all(
        table,
        Query::new(
            Index::Primary,
            pk.clone(),
            SkCond::BeginsWith(PREFIX.into()),
        ),
    )
    .try_collect()
    .await?;
    for item in existing {
        let sk = item
            .get(SK)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !ops.contains_key(&sk) {
            ops.insert(sk.clone(), WriteOp::Delete { pk: pk.clone(), sk });
        }
    }
    table.batch_write(ops.into_values().collect()).await
}

/// The candidates of one account, in user-key order.
pub async fn list_candidates(
    table: &dyn Table,
    cid: &str,
    account_id: &str,
) -> Result<Vec<ReclamationCandidate>, StoreError> {
    let items: Vec<Item> = query_all(
        table,
        Query::new(
            Index::Primary,
            pk(cid, account_id),
            SkCond::BeginsWith(PREFIX.into()),
        ),
    )
    .try_collect()
    .await?;
    items.into_iter().map(decode_record).collect()
}

/// A record stored the way `aws-adapters` stores them: the JSON document in the `d`
/// attribute beside the keys.
pub(crate) fn decode_record<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let data = item
        .get(DATA)
        .and_then(Value::as_str)
        .ok_or_else(|| StoreError::Decode("item has no record attribute".into()))?;
    serde_json::from_str(data).map_err(|e| StoreError::Decode(e.to_string()))
}
