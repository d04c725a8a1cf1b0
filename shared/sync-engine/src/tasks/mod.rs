//! The four tasks' bodies.

pub(crate) mod access;
pub(crate) mod ctx;
pub(crate) mod differentiation;
pub(crate) mod licenses;
pub(crate) mod roster;

use std::collections::BTreeMap;

use futures::TryStreamExt;
use ports::user_key;
use sync_domain::LicenseKind;
use zoom::{User, UserStatus};

use self::ctx::UnitCtx;
use crate::SyncError;

/// Every user of the unit's account: one listing per status (Zoom lists one status per call;
/// the three run at once, their pages in order), keyed like the stored records (a user seen
/// twice while changing status counts once, the later status in this order wins).
pub(crate) async fn list_account_users(
    ctx: &UnitCtx<'_>,
) -> Result<BTreeMap<String, User>, SyncError> {
    let api = ctx.api();
    let listing = |status: UserStatus| {
        let api = &api;
        async move {
            let mut users: Vec<User> = api.users(status.clone()).stream().try_collect().await?;
            for user in &mut users {
                if user.status.is_none() {
                    user.status = Some(status.clone());
                }
                user.id = user.id.take().filter(|id| !id.is_empty());
            }
            Ok::<_, SyncError>(users)
        }
    };
    let (active, inactive, pending) = futures::try_join!(
        listing(UserStatus::Active),
        listing(UserStatus::Inactive),
        listing(UserStatus::Pending)
    )?;
    Ok(active
        .into_iter()
        .chain(inactive)
        .chain(pending)
        .map(|user| (user_key(user.id.as_deref(), &user.email), user))
        .collect())
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

/// The account's plan name (license name of Licensed users).
pub(crate) fn plan_name(account: &ports::AccountRecord) -> String {
    account
        .account_type
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "Licensed".into())
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
