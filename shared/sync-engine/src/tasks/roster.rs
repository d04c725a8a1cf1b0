//! Application Roster: every tracked user of the account; users gone from Zoom (or no longer
//! tracked under the connection's Include options) are marked removed with the date. Only
//! new and changed records are written.
//!
//! Memory stays flat in the account's size: Zoom's listings are spilled in key order
//! (`account_users`) and merged with the stored roster, which the store lists in the same
//! order; writes go out a batch at a time.

use std::cmp::Ordering;

use futures::TryStreamExt;
use ports::UserRecord;

use super::ctx::{UnitCtx, UnitProgress};
use super::{account_users, kind_of, plan_name, status_str};
use crate::SyncError;

/// Records written at once.
const WRITE_BATCH: usize = 100;

pub(crate) async fn run(ctx: &mut UnitCtx<'_>) -> Result<UnitProgress, SyncError> {
    let settings = ctx.settings();
    let plan = plan_name(ctx.account);
    let cid = ctx.connection.connection_id.clone();
    let account_id = ctx.account.account_id.clone();
    let now = ctx.now();
    // `None`: listed, but not tracked under the connection's options.
    let mut listed = account_users(ctx, |user| {
        let kind = kind_of(user);
        kind.is_tracked(&settings).then(|| UserRecord {
            user_id: user.id.clone(),
            email: user.email.clone(),
            first_name: Some(user.first_name.clone()).filter(|s| !s.is_empty()),
            last_name: Some(user.last_name.clone()).filter(|s| !s.is_empty()),
            user_type: user.user_type.code(),
            status: status_str(user),
            role_id: user.role_id.clone(),
            role_name: user.role_name.clone(),
            account_id: account_id.clone(),
            active_date: user.user_created_at,
            license_name: Some(kind.license_name(&plan)),
            removed_at: None,
        })
    })
    .await?;

    let mut stored = ctx.store.list_users(&cid, &account_id);
    let mut next_listed = listed.next().transpose()?;
    let mut next_stored = stored.try_next().await?.map(|v| (v.roster.key(), v.roster));
    let mut tally = Tally::default();
    let mut writes: Vec<UserRecord> = Vec::new();
    loop {
        let order = match (&next_listed, &next_stored) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((listed_key, _)), Some((stored_key, _))) => listed_key.cmp(stored_key),
        };
        let (listed_user, stored_user) = match order {
            Ordering::Less => (next_listed.take(), None),
            Ordering::Greater => (None, next_stored.take()),
            Ordering::Equal => (next_listed.take(), next_stored.take()),
        };
        if let Some(write) = tally.reconcile(
            listed_user.map(|(_, record)| record),
            stored_user.as_ref().map(|(_, record)| record),
            now,
        ) {
            writes.push(write);
        }
        if next_listed.is_none() {
            next_listed = listed.next().transpose()?;
        }
        if next_stored.is_none()
            && let Some(view) = stored.try_next().await?
        {
            let key = view.roster.key();
            // The merge needs the store's key order; out of order it would mark listed users
            // removed.
            if stored_user
                .as_ref()
                .is_some_and(|(previous, _)| *previous >= key)
            {
                return Err(SyncError::Invalid(
                    "the store listed the account's users out of key order".into(),
                ));
            }
            next_stored = Some((key, view.roster));
        }
        if writes.len() >= WRITE_BATCH {
            ctx.store.upsert_users(&cid, &writes).await?;
            writes.clear();
        }
    }
    drop(stored);
    if !writes.is_empty() {
        ctx.store.upsert_users(&cid, &writes).await?;
    }
    ctx.count("listed", tally.listed);
    ctx.count("tracked", tally.written + tally.unchanged);
    ctx.count("written", tally.written);
    ctx.count("skipped_untracked", tally.untracked);
    ctx.count("removed", tally.removed);
    Ok(UnitProgress::Done)
}

/// What the merge did.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    listed: u64,
    untracked: u64,
    written: u64,
    unchanged: u64,
    removed: u64,
}

impl Tally {
    /// One key of the merge: what Zoom listed (`Some(None)`: listed, not tracked) and what is
    /// stored. Returns the record to write, if any.
    fn reconcile(
        &mut self,
        listed: Option<Option<UserRecord>>,
        stored: Option<&UserRecord>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<UserRecord> {
        if let Some(listed) = &listed {
            self.listed += 1;
            self.untracked += u64::from(listed.is_none());
        }
        match (listed.flatten(), stored) {
            (Some(new), Some(old)) if new == *old => {
                self.unchanged += 1;
                None
            }
            (Some(new), _) => {
                self.written += 1;
                Some(new)
            }
            // Gone from Zoom, or no longer tracked: removed now (an earlier date stays).
            (None, Some(old)) if !old.is_removed() => {
                self.removed += 1;
                Some(UserRecord {
                    removed_at: Some(now),
                    ..old.clone()
                })
            }
            (None, _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use super::*;

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000 + day)
    }

    fn user(id: &str, first: &str) -> UserRecord {
        UserRecord {
            user_id: Some(id.into()),
            email: format!("{id}@example.com"),
            first_name: Some(first.into()),
            last_name: None,
            user_type: 2,
            status: "active".into(),
            role_id: None,
            role_name: None,
            account_id: "a".into(),
            active_date: Some(at(0)),
            license_name: Some("Business".into()),
            removed_at: None,
        }
    }

    /// Every case of the merge, each written (or not) as the roster's rules say.
    #[test]
    fn each_key_is_written_only_when_it_changes() {
        let mut tally = Tally::default();
        let same = user("same", "Ann");
        assert_eq!(
            tally.reconcile(Some(Some(same.clone())), Some(&same), at(9)),
            None
        );
        let renamed = user("renamed", "Bea");
        assert_eq!(
            tally.reconcile(
                Some(Some(renamed.clone())),
                Some(&user("renamed", "Bee")),
                at(9)
            ),
            Some(renamed)
        );
        let new = user("new", "Cy");
        assert_eq!(
            tally.reconcile(Some(Some(new.clone())), None, at(9)),
            Some(new)
        );
        // Gone from Zoom: removed now.
        let gone = user("gone", "Di");
        let written = tally.reconcile(None, Some(&gone), at(9)).unwrap();
        assert_eq!(written.removed_at, Some(at(9)));
        assert_eq!(
            UserRecord {
                removed_at: None,
                ..written
            },
            gone
        );
        // Still listed, no longer tracked: removed too.
        assert_eq!(
            tally
                .reconcile(Some(None), Some(&user("untracked", "Ed")), at(9))
                .map(|u| u.removed_at),
            Some(Some(at(9)))
        );
        // Already removed: the first date stays (nothing written).
        let removed = UserRecord {
            removed_at: Some(at(3)),
            ..user("removed", "Flo")
        };
        assert_eq!(tally.reconcile(None, Some(&removed), at(9)), None);
        assert_eq!(tally.reconcile(Some(None), Some(&removed), at(9)), None);
        // Back at Zoom: written without the date.
        let back = user("removed", "Flo");
        assert_eq!(
            tally.reconcile(Some(Some(back.clone())), Some(&removed), at(9)),
            Some(back)
        );
        // Listed, untracked, never stored: nothing.
        assert_eq!(tally.reconcile(Some(None), None, at(9)), None);
        assert_eq!(
            tally,
            Tally {
                listed: 7,
                untracked: 3,
                written: 3,
                unchanged: 1,
                removed: 2,
            }
        );
    }
}
