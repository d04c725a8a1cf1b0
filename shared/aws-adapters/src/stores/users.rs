//! [`UserStore`]: the roster (`USER#k`) and each user's activity item (`USER#k#ACCESS`),
//! adjacent in the account's user partition.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use super::keys::{ACCESS_SUFFIX, access_sk, email_gsi, uid_gsi, user_sk, users_pk};
use super::{CAS_ATTEMPTS, DATA, Records, decode, encode};
use crate::backend::{Cond, Index, Item, Query, SkCond, WriteOp, query_all, str_attr};
use crate::table::{GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, PK, SK};
use ports::{StoreError, UserAccess, UserRecord, UserStore, UserView};
use sync_domain::ActivityDates;

/// Activity items written at once by one `upsert_access` (each is a read and a conditional put).
const ACCESS_WRITES_AT_ONCE: usize = 16;

impl Records {
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
            next.dates.last_meeting_joined = next
                .dates
                .last_meeting_joined
                .max(stored.as_ref().and_then(|s| s.dates.last_meeting_joined));
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
                dates: ActivityDates::default(),
            });
            a.dates.last_meeting_joined = Some(at);
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
}
