//! License Information: per account and license: unique id, name, provisioned seats,
//! assigned users (active and inactive status; pending users hold no seat yet), and the
//! active/inactive status split. Seats and plan come fresh from the account's details.

use std::collections::BTreeMap;

use aws_adapters::{AccountKind, LicenseRecord, LicenseStore};
use sync_domain::LicenseKind;

use super::{kind_of, list_account_users, status_str};
use crate::SyncError;
use crate::engine::{TaskOutcome, UnitCtx};

#[derive(Default)]
pub(crate) struct Tally {
    pub assigned: u64,
    pub active: u64,
    pub inactive: u64,
}

impl Tally {
    pub fn add(&mut self, status: &str) {
        match status {
            "active" => {
                self.assigned += 1;
                self.active += 1;
            }
            "inactive" => {
                self.assigned += 1;
                self.inactive += 1;
            }
            _ => {}
        }
    }
}

pub(crate) async fn run(ctx: &mut UnitCtx<'_>) -> Result<TaskOutcome, SyncError> {
    let settings = ctx.settings();
    let details = match ctx.account.kind {
        AccountKind::Master => ctx.zoom().me().get().await?,
        AccountKind::Sub => {
            ctx.zoom()
                .account(ctx.account.account_id.clone())
                .get()
                .await?
        }
    };
    let plan = details
        .account_type
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| super::plan_name(ctx.account));
    let seats = details
        .seats
        .and_then(|s| u64::try_from(s).ok())
        .or(ctx.account.seats)
        .unwrap_or(0);
    let users = list_account_users(ctx).await?;
    let mut tallies: BTreeMap<LicenseKind, Tally> = BTreeMap::new();
    tallies.entry(LicenseKind::Licensed).or_default();
    for user in users.values() {
        let kind = kind_of(user);
        if kind.is_tracked(&settings) {
            tallies.entry(kind).or_default().add(&status_str(user));
        }
    }
    let account_id = ctx.account.account_id.clone();
    let cid = ctx.connection.connection_id.clone();
    let as_of = ctx.now().date_naive();
    let licenses: Vec<LicenseRecord> = tallies
        .into_iter()
        .map(|(kind, t)| {
            let license_id = kind.unique_id(&account_id);
            LicenseRecord {
                // License Differentiation's figures live in their own items.
                activity: None,
                account_id: account_id.clone(),
                name: kind.license_name(&plan),
                provisioned: kind.provisioned(seats, &settings),
                assigned: t.assigned,
                active: t.active,
                inactive: t.inactive,
                as_of,
                zoom_assigned: None,
                zoom_assigned_note: None,
                license_id,
            }
        })
        .collect();
    ctx.engine
        .records
        .replace_account_licenses(&cid, &account_id, &licenses)
        .await?;
    ctx.count("users", users.len() as u64);
    ctx.count("licenses", licenses.len() as u64);
    Ok(TaskOutcome::Done)
}
