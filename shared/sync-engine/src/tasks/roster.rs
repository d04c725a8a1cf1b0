//! Application Roster: every tracked user of the account; users gone from Zoom (or no longer
//! tracked under the connection's Include options) are marked removed with the date. Only
//! new and changed records are written.

use ports::UserRecord;

use super::ctx::{UnitCtx, UnitProgress};
use super::{kind_of, list_account_users, plan_name, status_str};
use crate::SyncError;

pub(crate) async fn run(ctx: &mut UnitCtx<'_>) -> Result<UnitProgress, SyncError> {
    let settings = ctx.settings();
    let plan = plan_name(ctx.account);
    let listed = list_account_users(ctx).await?;
    let mut records = Vec::with_capacity(listed.len());
    for user in listed.values() {
        let kind = kind_of(user);
        if !kind.is_tracked(&settings) {
            continue;
        }
        records.push(UserRecord {
            user_id: user.id.clone(),
            email: user.email.clone(),
            first_name: Some(user.first_name.clone()).filter(|s| !s.is_empty()),
            last_name: Some(user.last_name.clone()).filter(|s| !s.is_empty()),
            user_type: user.user_type.code(),
            status: status_str(user),
            role_id: user.role_id.clone(),
            role_name: user.role_name.clone(),
            account_id: ctx.account.account_id.clone(),
            active_date: user.user_created_at,
            license_name: Some(kind.license_name(&plan)),
            removed_at: None,
        });
    }
    let changes = ctx
        .store
        .sync_account_roster(
            &ctx.connection.connection_id,
            &ctx.account.account_id,
            &records,
            ctx.now(),
        )
        .await?;
    ctx.count("listed", listed.len() as u64);
    ctx.count("tracked", (changes.written + changes.unchanged) as u64);
    ctx.count("written", changes.written as u64);
    ctx.count("skipped_untracked", (listed.len() - records.len()) as u64);
    ctx.count("removed", changes.removed as u64);
    Ok(UnitProgress::Done)
}
