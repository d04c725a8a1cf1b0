//! The four tasks' bodies.

pub(crate) mod access;
pub(crate) mod ctx;
pub(crate) mod differentiation;
pub(crate) mod licenses;
pub(crate) mod roster;

use futures::TryStreamExt;
use ports::user_key;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sync_domain::LicenseKind;
use zoom::{User, UserStatus};

use self::ctx::UnitCtx;
use crate::SyncError;
use crate::spill::{Sorted, Spill};

/// Every user of the unit's account, in key order (the store's order), in memory bounded
/// whatever the account's size: one listing per status (Zoom lists one status per call; the
/// three run at once), each user turned into what the task keeps (`keep`) and spilled to
/// scratch space. A user listed twice (a status change while listing, or pages repeated after
/// an expired page token) comes once: the later status in the order active, inactive,
/// pending wins.
pub(crate) async fn account_users<T: Serialize + DeserializeOwned>(
    ctx: &UnitCtx<'_>,
    keep: impl Fn(&User) -> T,
) -> Result<ListedUsers<T>, SyncError> {
    let api = ctx.api();
    let listing = |rank: u8, status: UserStatus| {
        api.users(status.clone())
            .repeats_allowed()
            .stream()
            .map_ok(move |mut user| {
                if user.status.is_none() {
                    user.status = Some(status.clone());
                }
                user.id = user.id.take().filter(|id| !id.is_empty());
                (rank, user)
            })
    };
    let mut all = futures::stream::select_all([
        listing(0, UserStatus::Active),
        listing(1, UserStatus::Inactive),
        listing(2, UserStatus::Pending),
    ]);
    let mut spill = Spill::new(ctx.options.scratch_run_items);
    while let Some((rank, user)) = all.try_next().await? {
        spill.push(
            user_key(user.id.as_deref(), &user.email),
            (rank, keep(&user)),
        )?;
    }
    Ok(ListedUsers {
        sorted: spill.into_sorted()?.peekable(),
    })
}

/// What [`account_users`] kept of each user, in key order, one per key.
pub(crate) struct ListedUsers<T: DeserializeOwned> {
    sorted: std::iter::Peekable<Sorted<(u8, T)>>,
}

impl<T: DeserializeOwned> Iterator for ListedUsers<T> {
    type Item = Result<(String, T), SyncError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (key, (mut rank, mut kept)) = match self.sorted.next()? {
            Ok(entry) => entry,
            Err(e) => return Some(Err(e.into())),
        };
        // Repeats sort together, in listing order: the highest rank wins, then the latest.
        while let Some(Ok((next, _))) = self.sorted.peek()
            && *next == key
        {
            if let Some(Ok((_, (r, k)))) = self.sorted.next()
                && r >= rank
            {
                (rank, kept) = (r, k);
            }
        }
        Some(Ok((key, kept)))
    }
}

pub(crate) fn kind_of(user: &User) -> LicenseKind {
    LicenseKind::from_user_type(user.user_type.code())
}

pub(crate) fn status_str(user: &User) -> String {
    user.status
        .as_ref()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_else(|| "active".into())
}

/// The account's plan name (license name of Licensed users), as the customer knows it
/// (`sync_domain::plan_license_name`).
pub(crate) fn plan_name(account: &ports::AccountRecord) -> String {
    sync_domain::plan_license_name(account.account_type.as_deref(), None)
}

/// Brings the connection's missing-scope notes of the unit's task up to date: adds `notes`,
/// drops the task's notes named in `confirmed` (calls that needed them worked). Writes only
/// when something changes.
pub(crate) async fn save_scope_notes(
    ctx: &UnitCtx<'_>,
    notes: Vec<ports::MissingScopeNote>,
    confirmed: Vec<String>,
) -> Result<(), SyncError> {
    let known = |n: &ports::MissingScopeNote| {
        ctx.connection
            .missing_scopes
            .iter()
            .any(|k| k.scope == n.scope && k.not_collected == n.not_collected)
    };
    if confirmed.is_empty() && notes.iter().all(known) {
        return Ok(());
    }
    ctx.store
        .update_missing_scopes(
            &ctx.connection.connection_id,
            ctx.unit.task.as_str(),
            notes,
            confirmed,
        )
        .await?;
    Ok(())
}
