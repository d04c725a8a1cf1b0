//! The four tasks' bodies.

pub(crate) mod access;
pub(crate) mod differentiation;
pub(crate) mod licenses;
pub(crate) mod roster;

use std::collections::BTreeMap;

use aws_adapters::user_key;
use futures::TryStreamExt;
use sync_domain::LicenseKind;
use zoom::{User, UserStatus};

use crate::SyncError;
use crate::engine::UnitCtx;

/// Every user of the unit's account: one listing per status (Zoom lists one status per call),
/// keyed like the stored records (a user seen twice while changing status counts once, last
/// listing wins).
pub(crate) async fn list_account_users(
    ctx: &UnitCtx<'_>,
) -> Result<BTreeMap<String, User>, SyncError> {
    let api = ctx.api();
    let mut users = BTreeMap::new();
    for status in [
        UserStatus::Active,
        UserStatus::Inactive,
        UserStatus::Pending,
    ] {
        let mut stream = api.users(status.clone()).stream();
        while let Some(mut user) = stream.try_next().await? {
            if user.status.is_none() {
                user.status = Some(status.clone());
            }
            user.id = user.id.filter(|id| !id.is_empty());
            users.insert(user_key(user.id.as_deref(), &user.email), user);
        }
    }
    Ok(users)
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
pub(crate) fn plan_name(account: &aws_adapters::AccountRecord) -> String {
    account
        .account_type
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "Licensed".into())
}
