//! [`ContractStore`] on the table: items of their own, `pk = CONN#{cid}`,
//! `sk = CONTRACT#{accountId}#{licenseId}`, beside (never inside) the `LIC#` items.

use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use ports::{ContractRecord, ContractStore, StoreError};
use serde_json::{Value, json};

use crate::backend::{Cond, Index, Item, Query, SkCond, query_all, str_attr};
use crate::stores::{DATA, Records};
use crate::table::{PK, SK};

const PREFIX: &str = "CONTRACT#";

fn pk(cid: &str) -> String {
    format!("CONN#{cid}")
}

fn sk(account_id: &str, license_id: &str) -> String {
    format!("{PREFIX}{account_id}#{license_id}")
}

fn encode(cid: &str, record: &ContractRecord) -> Result<Item, StoreError> {
    let mut item = Item::new();
    item.insert(PK.into(), Value::String(pk(cid)));
    item.insert(
        SK.into(),
        Value::String(sk(&record.account_id, &record.license_id)),
    );
    item.insert(
        DATA.into(),
        Value::String(
            serde_json::to_string(record).map_err(|e| StoreError::Decode(e.to_string()))?,
        ),
    );
    item.insert("version".into(), json!(record.version));
    Ok(item)
}

fn decode(item: &Item) -> Result<ContractRecord, StoreError> {
    let key = format!(
        "{}/{}",
        str_attr(item, PK).unwrap_or_default(),
        str_attr(item, SK).unwrap_or_default()
    );
    let data = str_attr(item, DATA)
        .ok_or_else(|| StoreError::Decode(format!("item {key} has no record attribute")))?;
    serde_json::from_str(data).map_err(|e| StoreError::Decode(format!("item {key}: {e}")))
}

#[async_trait]
impl ContractStore for Records {
    async fn get_contract(
        &self,
        cid: &str,
        account_id: &str,
        license_id: &str,
    ) -> Result<Option<ContractRecord>, StoreError> {
        self.table()
            .get(&pk(cid), &sk(account_id, license_id))
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn put_contract(
        &self,
        cid: &str,
        record: &ContractRecord,
    ) -> Result<ContractRecord, StoreError> {
        let mut next = record.clone();
        next.version = record.version + 1;
        let cond = if record.version == 0 {
            Cond::NotExists
        } else {
            Cond::Eq("version", json!(record.version))
        };
        self.table().put(encode(cid, &next)?, Some(cond)).await?;
        Ok(next)
    }

    fn list_contracts<'a>(
        &'a self,
        cid: &'a str,
    ) -> BoxStream<'a, Result<ContractRecord, StoreError>> {
        query_all(
            &**self.table(),
            Query::new(Index::Primary, pk(cid), SkCond::BeginsWith(PREFIX.into())),
        )
        .and_then(|item| async move { decode(&item) })
        .boxed()
    }
}
