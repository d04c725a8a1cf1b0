//! The small store traits the domain and functions depend on, and [`Records`], which
//! implements all of them on a [`Table`] (DynamoDB in production, memory in unit tests).
//! Key layout: `docs/data-model.md`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::backend::{
    Cond, DynamoTable, Index, Item, MemoryTable, Query, SkCond, Table, WriteOp, query_all, str_attr,
};
use crate::table::{GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, PK, SK, TTL};
use ports::StoreError;
use ports::stores::*;
use ports::*;

const CONNECTIONS_PARTITION: &str = "CONNS";
const ACCESS_SUFFIX: &str = "#ACCESS";
const CAS_ATTEMPTS: u32 = 8;
/// Activity items written at once by one `upsert_access` (each is a read and a conditional put).
const ACCESS_WRITES_AT_ONCE: usize = 16;

// ----- keys -------------------------------------------------------------------------------

fn conn_pk(cid: &str) -> String {
    format!("CONN#{cid}")
}
fn users_pk(cid: &str, account_id: &str) -> String {
    format!("CONN#{cid}#ACCT#{account_id}")
}
fn user_sk(key: &str) -> String {
    format!("USER#{key}")
}
fn access_sk(key: &str) -> String {
    format!("USER#{key}{ACCESS_SUFFIX}")
}
fn email_gsi(cid: &str, email: &str) -> String {
    format!("CONN#{cid}#EMAIL#{}", email.to_lowercase())
}
fn uid_gsi(cid: &str, user_id: &str) -> String {
    format!("CONN#{cid}#UID#{user_id}")
}
fn audit_pk(request_id: &str) -> String {
    format!("AUDIT#{request_id}")
}
fn audit_user_gsi(cid: &str, user_key: &str) -> String {
    format!("CONN#{cid}#AUDITUSER#{user_key}")
}
fn running_sk(task: &str) -> String {
    format!("RUNNING#{task}")
}
fn lease_pk(name: &str) -> String {
    format!("LEASE#{name}")
}
/// Fixed-width UTC time for sort keys (sorts as text in time order).
fn sort_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

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

// ----- implementation ---------------------------------------------------------------------

/// All stores on one table.
#[derive(Clone)]
pub struct Records {
    table: Arc<dyn Table>,
}

impl Records {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
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

    fn connection_item(record: &ConnectionRecord) -> Result<Item, StoreError> {
        encode(
            record,
            &[
                (PK, conn_pk(&record.connection_id)),
                (SK, "CONN".into()),
                (GSI1_PK, CONNECTIONS_PARTITION.into()),
                (GSI1_SK, conn_pk(&record.connection_id)),
                (GSI2_PK, format!("ZOOMACCT#{}", record.zoom_account_id)),
                (GSI2_SK, conn_pk(&record.connection_id)),
            ],
            None,
        )
        .map(|mut item| {
            item.insert("version".into(), json!(record.version));
            item
        })
    }

    fn user_item(cid: &str, user: &UserRecord) -> Result<Item, StoreError> {
        let key = user.key();
        let mut keys = vec![
            (PK, users_pk(cid, &user.account_id)),
            (SK, user_sk(&key)),
            (GSI1_PK, email_gsi(cid, &user.email)),
            (GSI1_SK, format!("ACCT#{}#USER#{key}", user.account_id)),
        ];
        if let Some(id) = user.user_id.as_deref().filter(|id| !id.is_empty()) {
            keys.push((GSI2_PK, uid_gsi(cid, id)));
            keys.push((GSI2_SK, format!("ACCT#{}", user.account_id)));
        }
        encode(user, &keys, None)
    }

    async fn user_view(&self, cid: &str, roster: UserRecord) -> Result<UserView, StoreError> {
        let access = self
            .table
            .get(
                &users_pk(cid, &roster.account_id),
                &access_sk(&roster.key()),
            )
            .await?
            .map(decode)
            .transpose()?;
        Ok(UserView { roster, access })
    }
}

#[async_trait]
impl ConnectionStore for Records {
    async fn insert_connection(&self, record: &ConnectionRecord) -> Result<(), StoreError> {
        let mut record = record.clone();
        record.version = 1;
        self.table
            .put(Self::connection_item(&record)?, Some(Cond::NotExists))
            .await
    }

    async fn get_connection(&self, cid: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        self.table
            .get(&conn_pk(cid), "CONN")
            .await?
            .map(decode)
            .transpose()
    }

    async fn find_connection_by_zoom_account(
        &self,
        zoom_account_id: &str,
    ) -> Result<Option<ConnectionRecord>, StoreError> {
        let page = self
            .table
            .query(&Query::new(
                Index::Gsi2,
                format!("ZOOMACCT#{zoom_account_id}"),
                SkCond::BeginsWith("CONN#".into()),
            ))
            .await?;
        // The index is eventually consistent: confirm with a consistent read.
        match page.items.into_iter().next() {
            Some(item) => {
                let found: ConnectionRecord = decode(item)?;
                self.get_connection(&found.connection_id).await
            }
            None => Ok(None),
        }
    }

    async fn update_connection(
        &self,
        cid: &str,
        change: &(dyn for<'r> Fn(&'r mut ConnectionRecord) + Send + Sync),
    ) -> Result<ConnectionRecord, StoreError> {
        for _ in 0..CAS_ATTEMPTS {
            let Some(mut record) = self.get_connection(cid).await? else {
                return Err(StoreError::NotFound(format!("connection {cid}")));
            };
            let expected = record.version;
            change(&mut record);
            record.connection_id = cid.to_owned();
            record.version = expected + 1;
            record.updated_at = Utc::now();
            let cond = Cond::Eq("version", json!(expected));
            match self
                .table
                .put(Self::connection_item(&record)?, Some(cond))
                .await
            {
                Ok(()) => return Ok(record),
                Err(StoreError::ConditionFailed) => {
                    let ms = rand::random_range(5..50);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict(format!(
            "connection {cid} changed concurrently {CAS_ATTEMPTS} times"
        )))
    }

    async fn delete_connection(&self, cid: &str) -> Result<(), StoreError> {
        self.table.delete(&conn_pk(cid), "CONN", None).await?;
        Ok(())
    }

    fn list_connections(&self) -> BoxStream<'_, Result<ConnectionRecord, StoreError>> {
        self.decoded(Query::new(
            Index::Gsi1,
            CONNECTIONS_PARTITION,
            SkCond::BeginsWith("CONN#".into()),
        ))
    }
}

#[async_trait]
impl OAuthStateStore for Records {
    async fn put_state(&self, record: &OAuthStateRecord) -> Result<(), StoreError> {
        let item = encode(
            record,
            &[
                (PK, format!("OAUTHSTATE#{}", record.state)),
                (SK, "OAUTHSTATE".into()),
            ],
            Some(record.expires_at.timestamp()),
        )?;
        self.table.put(item, Some(Cond::NotExists)).await
    }

    async fn consume_state(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OAuthStateRecord>, StoreError> {
        // The delete is the single use: of concurrent consumers exactly one gets the old item.
        // An expired state is deleted too, but not handed out.
        match self
            .table
            .delete(
                &format!("OAUTHSTATE#{state}"),
                "OAUTHSTATE",
                Some(Cond::Exists),
            )
            .await
        {
            Ok(Some(item)) => {
                let record: OAuthStateRecord = decode(item)?;
                Ok((record.expires_at > now).then_some(record))
            }
            Ok(None) | Err(StoreError::ConditionFailed) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl AccountStore for Records {
    async fn sync_accounts(
        &self,
        cid: &str,
        accounts: &[AccountRecord],
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let seen: HashSet<&str> = accounts.iter().map(|a| a.account_id.as_str()).collect();
        let mut ops = BTreeMap::new();
        for account in accounts {
            let mut account = account.clone();
            account.removed_at = None;
            let item = encode(
                &account,
                &[
                    (PK, conn_pk(cid)),
                    (SK, format!("ACCT#{}", account.account_id)),
                ],
                None,
            )?;
            ops.insert(account.account_id.clone(), WriteOp::Put(item));
        }
        let existing: Vec<AccountRecord> = self.list_accounts(cid).try_collect().await?;
        let mut removed = 0;
        for mut account in existing {
            if !seen.contains(account.account_id.as_str()) && account.removed_at.is_none() {
                account.removed_at = Some(at);
                removed += 1;
                let item = encode(
                    &account,
                    &[
                        (PK, conn_pk(cid)),
                        (SK, format!("ACCT#{}", account.account_id)),
                    ],
                    None,
                )?;
                ops.insert(account.account_id.clone(), WriteOp::Put(item));
            }
        }
        self.table.batch_write(ops.into_values().collect()).await?;
        Ok(removed)
    }

    fn list_accounts<'a>(
        &'a self,
        cid: &'a str,
    ) -> BoxStream<'a, Result<AccountRecord, StoreError>> {
        self.decoded(Query::new(
            Index::Primary,
            conn_pk(cid),
            SkCond::BeginsWith("ACCT#".into()),
        ))
    }
}

#[async_trait]
impl UserStore for Records {
    async fn upsert_users(&self, cid: &str, users: &[UserRecord]) -> Result<usize, StoreError> {
        // One key once per batch (DynamoDB rejects duplicates); the last record wins.
        let mut ops = BTreeMap::new();
        for user in users {
            let item = Self::user_item(cid, user)?;
            ops.insert((user.account_id.clone(), user.key()), WriteOp::Put(item));
        }
        let n = ops.len();
        self.table.batch_write(ops.into_values().collect()).await?;
        Ok(n)
    }

    async fn upsert_access(&self, cid: &str, access: &[UserAccess]) -> Result<usize, StoreError> {
        // One write per user (the last record of a key wins), a few at a time.
        let mut latest = BTreeMap::new();
        for a in access {
            latest.insert((a.account_id.clone(), a.user_key.clone()), a.clone());
        }
        let changed: Vec<bool> = stream::iter(latest.into_values())
            .map(|a| async move {
                self.merge_access(cid, &a.account_id.clone(), &a.user_key.clone(), move |_| {
                    a.clone()
                })
                .await
            })
            .buffer_unordered(ACCESS_WRITES_AT_ONCE)
            .try_collect()
            .await?;
        Ok(changed.into_iter().filter(|c| *c).count())
    }

    async fn advance_joined(
        &self,
        cid: &str,
        account_id: &str,
        user_key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.merge_access(cid, account_id, user_key, |stored| {
            let mut a = stored.cloned().unwrap_or_else(|| UserAccess {
                user_key: user_key.to_owned(),
                account_id: account_id.to_owned(),
                last_login: None,
                last_meeting_created: None,
                last_meeting_joined: None,
            });
            a.last_meeting_joined = Some(at);
            a
        })
        .await
    }

    async fn locate_user_id(
        &self,
        cid: &str,
        user_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self.roster_by_id(cid, user_id).await?.map(|u| {
            let key = u.key();
            (u.account_id, key)
        }))
    }

    fn list_account_access<'a>(
        &'a self,
        cid: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<UserAccess, StoreError>> {
        query_all(
            &*self.table,
            Query::new(
                Index::Primary,
                users_pk(cid, account_id),
                SkCond::BeginsWith("USER#".into()),
            ),
        )
        .try_filter(|item| {
            let is_access = str_attr(item, SK).is_some_and(|sk| sk.ends_with(ACCESS_SUFFIX));
            async move { is_access }
        })
        .and_then(|item| async move { decode(item) })
        .boxed()
    }

    fn list_users<'a>(
        &'a self,
        cid: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<UserView, StoreError>> {
        // Roster `USER#k` sorts right before its activity item `USER#k#ACCESS` (Zoom ids use
        // [A-Za-z0-9_-], all above '#'), so one query yields both, adjacent.
        let items = query_all(
            &*self.table,
            Query::new(
                Index::Primary,
                users_pk(cid, account_id),
                SkCond::BeginsWith("USER#".into()),
            ),
        );
        type State<'s> = (
            BoxStream<'s, Result<Item, StoreError>>,
            Option<UserRecord>,
            bool,
        );
        let init: State<'a> = (items, None, false);
        stream::try_unfold(init, |(mut items, mut pending, done)| async move {
            if done {
                return Ok(None);
            }
            loop {
                let Some(item) = items.next().await else {
                    return Ok(pending.take().map(|roster| {
                        (
                            UserView {
                                roster,
                                access: None,
                            },
                            (items, None, true),
                        )
                    }));
                };
                let item = item?;
                let is_access = str_attr(&item, SK).is_some_and(|sk| sk.ends_with(ACCESS_SUFFIX));
                if is_access {
                    let access: UserAccess = decode(item)?;
                    match pending.take() {
                        Some(roster) if roster.key() == access.user_key => {
                            let view = UserView {
                                roster,
                                access: Some(access),
                            };
                            return Ok(Some((view, (items, None, false))));
                        }
                        Some(roster) => {
                            // Activity of a user whose roster is elsewhere (or absent): the
                            // pending roster has none.
                            let view = UserView {
                                roster,
                                access: None,
                            };
                            return Ok(Some((view, (items, None, false))));
                        }
                        None => continue,
                    }
                }
                let roster: UserRecord = decode(item)?;
                if let Some(previous) = pending.replace(roster) {
                    let view = UserView {
                        roster: previous,
                        access: None,
                    };
                    return Ok(Some((view, (items, pending, false))));
                }
            }
        })
        .boxed()
    }

    async fn get_user(
        &self,
        cid: &str,
        account_id: &str,
        user_key: &str,
    ) -> Result<Option<UserView>, StoreError> {
        let Some(item) = self
            .table
            .get(&users_pk(cid, account_id), &user_sk(user_key))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.user_view(cid, decode(item)?).await?))
    }

    async fn find_user_by_id(
        &self,
        cid: &str,
        user_id: &str,
    ) -> Result<Option<UserView>, StoreError> {
        match self.roster_by_id(cid, user_id).await? {
            Some(u) => Ok(Some(self.user_view(cid, u).await?)),
            None => Ok(None),
        }
    }

    async fn find_users_by_email(
        &self,
        cid: &str,
        email: &str,
    ) -> Result<Vec<UserView>, StoreError> {
        let rosters: Vec<UserRecord> = self
            .decoded(Query::new(Index::Gsi1, email_gsi(cid, email), SkCond::Any))
            .try_collect()
            .await?;
        let mut views = Vec::with_capacity(rosters.len());
        for roster in rosters {
            views.push(self.user_view(cid, roster).await?);
        }
        Ok(views)
    }

    async fn sync_account_roster(
        &self,
        cid: &str,
        account_id: &str,
        users: &[UserRecord],
        at: DateTime<Utc>,
    ) -> Result<RosterChanges, StoreError> {
        // The last record of a key wins, as in `upsert_users`.
        let mut incoming: BTreeMap<String, &UserRecord> =
            users.iter().map(|u| (u.key(), u)).collect();
        let mut changes = RosterChanges::default();
        let mut ops = Vec::new();
        let mut stored = self.list_users(cid, account_id);
        while let Some(view) = stored.try_next().await? {
            let mut roster = view.roster;
            match incoming.get(&roster.key()) {
                Some(new) if **new == roster => {
                    incoming.remove(&roster.key());
                    changes.unchanged += 1;
                }
                Some(_) => {}
                None if roster.removed_at.is_none() => {
                    roster.removed_at = Some(at);
                    ops.push(WriteOp::Put(Self::user_item(cid, &roster)?));
                    changes.removed += 1;
                }
                None => {}
            }
        }
        drop(stored);
        for user in incoming.values() {
            ops.push(WriteOp::Put(Self::user_item(cid, user)?));
            changes.written += 1;
        }
        self.table.batch_write(ops).await?;
        Ok(changes)
    }
}

fn license_sk(account_id: &str, license_id: &str) -> String {
    format!("LIC#{account_id}#{license_id}")
}
fn license_activity_sk(account_id: &str, license_id: &str) -> String {
    format!("LICACT#{account_id}#{license_id}")
}

/// A license's activity figures, as License Differentiation stores them.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredLicenseActivity {
    account_id: String,
    license_id: String,
    activity: LicenseActivity,
}

impl Records {
    /// The roster record of the connection's user with this Zoom user id (`gsi2`), preferring
    /// the account where the user is not removed (a user moved between accounts).
    async fn roster_by_id(
        &self,
        cid: &str,
        user_id: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let page = self
            .table
            .query(&Query::new(Index::Gsi2, uid_gsi(cid, user_id), SkCond::Any))
            .await?;
        let mut found: Vec<UserRecord> = page
            .items
            .into_iter()
            .map(decode)
            .collect::<Result<_, _>>()?;
        found.sort_by_key(|u| u.removed_at.is_some());
        Ok(found.into_iter().next())
    }

    /// Compare-and-swap of one activity record: `change` gets the stored record (if any) and
    /// returns the new one, whose joined date is then kept at the later of both. Returns
    /// whether the stored item changed.
    async fn merge_access(
        &self,
        cid: &str,
        account_id: &str,
        user_key: &str,
        change: impl Fn(Option<&UserAccess>) -> UserAccess + Send + Sync,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = (users_pk(cid, account_id), access_sk(user_key));
        for _ in 0..CAS_ATTEMPTS {
            let item = self.table.get(&pk, &sk).await?;
            let stored: Option<UserAccess> = item.clone().map(decode).transpose()?;
            let mut next = change(stored.as_ref());
            next.account_id = account_id.to_owned();
            next.user_key = user_key.to_owned();
            next.last_meeting_joined = next
                .last_meeting_joined
                .max(stored.as_ref().and_then(|s| s.last_meeting_joined));
            if stored.as_ref() == Some(&next) {
                return Ok(false);
            }
            let cond = match item.as_ref().and_then(|i| i.get(DATA)) {
                Some(data) => Cond::Eq(DATA, data.clone()),
                None => Cond::NotExists,
            };
            let new_item = encode(&next, &[(PK, pk.clone()), (SK, sk.clone())], None)?;
            match self.table.put(new_item, Some(cond)).await {
                Ok(()) => return Ok(true),
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict(format!(
            "activity of {user_key} in {account_id} kept changing"
        )))
    }

    fn license_item(cid: &str, license: &LicenseRecord) -> Result<Item, StoreError> {
        // The activity lives in its own item (see `replace_account_license_activity`).
        let record = LicenseRecord {
            activity: None,
            ..license.clone()
        };
        encode(
            &record,
            &[
                (PK, conn_pk(cid)),
                (SK, license_sk(&license.account_id, &license.license_id)),
            ],
            None,
        )
    }

    /// Licenses under `sk_prefix` (`LIC#` or `LIC#{aid}#`) with the activity items joined in.
    fn licenses_with_activity<'a>(
        &'a self,
        cid: &'a str,
        account_id: Option<&'a str>,
    ) -> BoxStream<'a, Result<LicenseRecord, StoreError>> {
        let suffix = account_id.map(|a| format!("{a}#")).unwrap_or_default();
        let activity_query = Query::new(
            Index::Primary,
            conn_pk(cid),
            SkCond::BeginsWith(format!("LICACT#{suffix}")),
        );
        let license_query = Query::new(
            Index::Primary,
            conn_pk(cid),
            SkCond::BeginsWith(format!("LIC#{suffix}")),
        );
        stream::once(async move {
            let activity: BTreeMap<(String, String), LicenseActivity> = self
                .decoded::<StoredLicenseActivity>(activity_query)
                .map_ok(|a| ((a.account_id, a.license_id), a.activity))
                .try_collect()
                .await?;
            Ok::<_, StoreError>(self.decoded::<LicenseRecord>(license_query).map_ok(
                move |mut l| {
                    l.activity = activity
                        .get(&(l.account_id.clone(), l.license_id.clone()))
                        .cloned();
                    l
                },
            ))
        })
        .try_flatten()
        .boxed()
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

    /// Deletes the items of partition `pk` whose sort keys match `sk`; returns how many.
    async fn delete_matching(&self, pk: String, sk: SkCond) -> Result<usize, StoreError> {
        let keys: Vec<WriteOp> =
            query_all(&*self.table, Query::new(Index::Primary, pk.clone(), sk))
                .map_ok(|item| WriteOp::Delete {
                    pk: pk.clone(),
                    sk: str_attr(&item, SK).unwrap_or_default().to_owned(),
                })
                .try_collect()
                .await?;
        let n = keys.len();
        if n > 0 {
            self.table.batch_write(keys).await?;
        }
        Ok(n)
    }
}

#[async_trait]
impl LicenseStore for Records {
    async fn replace_account_licenses(
        &self,
        cid: &str,
        account_id: &str,
        licenses: &[LicenseRecord],
    ) -> Result<(), StoreError> {
        let items = licenses
            .iter()
            .map(|l| {
                Ok((
                    license_sk(account_id, &l.license_id),
                    Self::license_item(cid, l)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.replace_under_prefix(conn_pk(cid), format!("LIC#{account_id}#"), items)
            .await
    }

    fn list_licenses<'a>(
        &'a self,
        cid: &'a str,
    ) -> BoxStream<'a, Result<LicenseRecord, StoreError>> {
        self.licenses_with_activity(cid, None)
    }

    fn list_account_licenses<'a>(
        &'a self,
        cid: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<LicenseRecord, StoreError>> {
        self.licenses_with_activity(cid, Some(account_id))
    }

    async fn insert_license_if_missing(
        &self,
        cid: &str,
        license: &LicenseRecord,
    ) -> Result<bool, StoreError> {
        match self
            .table
            .put(Self::license_item(cid, license)?, Some(Cond::NotExists))
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn replace_account_license_activity(
        &self,
        cid: &str,
        account_id: &str,
        activity: &BTreeMap<String, LicenseActivity>,
    ) -> Result<(), StoreError> {
        let items = activity
            .iter()
            .map(|(license_id, a)| {
                let sk = license_activity_sk(account_id, license_id);
                let record = StoredLicenseActivity {
                    account_id: account_id.to_owned(),
                    license_id: license_id.clone(),
                    activity: a.clone(),
                };
                Ok((
                    sk.clone(),
                    encode(&record, &[(PK, conn_pk(cid)), (SK, sk)], None)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.replace_under_prefix(conn_pk(cid), format!("LICACT#{account_id}#"), items)
            .await
    }
}

const CANDIDATE_PREFIX: &str = "CAND#";

#[async_trait]
impl CandidateStore for Records {
    async fn replace_account_candidates(
        &self,
        cid: &str,
        account_id: &str,
        candidates: &[ReclamationCandidate],
    ) -> Result<(), StoreError> {
        let pk = users_pk(cid, account_id);
        let items = candidates
            .iter()
            .map(|c| {
                let sk = format!("{CANDIDATE_PREFIX}{}", c.user_key);
                Ok((sk.clone(), encode(c, &[(PK, pk.clone()), (SK, sk)], None)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.replace_under_prefix(pk, CANDIDATE_PREFIX.into(), items)
            .await
    }

    fn list_account_candidates<'a>(
        &'a self,
        cid: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<ReclamationCandidate, StoreError>> {
        self.decoded(Query::new(
            Index::Primary,
            users_pk(cid, account_id),
            SkCond::BeginsWith(CANDIDATE_PREFIX.into()),
        ))
    }
}

fn checkpoint_sk(task: &str, account_id: &str) -> String {
    format!("CKPT#{task}#{account_id}")
}
fn checkpoint_parts_prefix(task: &str, account_id: &str) -> String {
    format!("CKPTPART#{task}#{account_id}#")
}
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
        count: u32,
    ) -> Result<Vec<CheckpointPart>, StoreError> {
        let prefix = format!("{}{run_id}#", checkpoint_parts_prefix(task, account_id));
        let parts: Vec<CheckpointPart> = self
            .decoded(Query::new(
                Index::Primary,
                conn_pk(cid),
                SkCond::BeginsWith(prefix),
            ))
            .try_collect()
            .await?;
        Ok(parts.into_iter().filter(|p| p.seq < count).collect())
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

#[async_trait]
impl AuditStore for Records {
    async fn begin_request(&self, request: &AuditRequest) -> Result<bool, StoreError> {
        let item = encode(
            request,
            &[(PK, audit_pk(&request.request_id)), (SK, "REQUEST".into())],
            None,
        )?;
        match self.table.put(item, Some(Cond::NotExists)).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn get_request(&self, request_id: &str) -> Result<Option<AuditRequest>, StoreError> {
        self.table
            .get(&audit_pk(request_id), "REQUEST")
            .await?
            .map(decode)
            .transpose()
    }

    async fn record_entry(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        let item = encode(
            entry,
            &[
                (PK, audit_pk(&entry.request_id)),
                (SK, format!("ENTRY#{}", entry.user_key)),
                (
                    GSI1_PK,
                    audit_user_gsi(&entry.connection_id, &entry.user_key),
                ),
                (
                    GSI1_SK,
                    format!("{}#{}", sort_time(entry.at), entry.request_id),
                ),
            ],
            None,
        )?;
        match self.table.put(item, Some(Cond::NotExists)).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn list_request_entries<'a>(
        &'a self,
        request_id: &'a str,
    ) -> BoxStream<'a, Result<AuditEntry, StoreError>> {
        self.decoded(Query::new(
            Index::Primary,
            audit_pk(request_id),
            SkCond::BeginsWith("ENTRY#".into()),
        ))
    }

    fn list_user_entries<'a>(
        &'a self,
        cid: &'a str,
        user_key: &'a str,
    ) -> BoxStream<'a, Result<AuditEntry, StoreError>> {
        self.decoded(Query::new(
            Index::Gsi1,
            audit_user_gsi(cid, user_key),
            SkCond::Any,
        ))
    }
}

#[async_trait]
impl LeaseStore for Records {
    async fn acquire(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = Utc::now();
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
        match self.table.put(item, Some(cond)).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn release(&self, name: &str, owner: &str) -> Result<bool, StoreError> {
        match self
            .table
            .delete(
                &lease_pk(name),
                "LEASE",
                Some(Cond::Eq("owner", json!(owner))),
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
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
            .decoded(Query::new(
                Index::Primary,
                conn_pk(cid),
                SkCond::BeginsWith("RUNNING#".into()),
            ))
            .try_collect()
            .await?;
        Ok(marks.into_iter().filter(|m| m.until > now).collect())
    }
}

#[async_trait]
impl PurgeStore for Records {
    async fn purge_connection(&self, cid: &str) -> Result<usize, StoreError> {
        let accounts: Vec<AccountRecord> = self.list_accounts(cid).try_collect().await?;
        let mut partitions: Vec<String> = accounts
            .iter()
            .map(|a| users_pk(cid, &a.account_id))
            .collect();
        // The connection's own partition last: it holds the account list a retry needs.
        partitions.push(conn_pk(cid));
        let mut deleted = 0;
        for pk in partitions {
            deleted += self.delete_matching(pk, SkCond::Any).await?;
        }
        Ok(deleted)
    }
}
