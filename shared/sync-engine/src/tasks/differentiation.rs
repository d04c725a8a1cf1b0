//! License Differentiation (no Zoom calls): from the stored roster and activity, per license:
//! users active within 30/60/90 days and users inactive beyond the connection's threshold
//! (latest of last login, meeting created, meeting joined; never-active users count from
//! their active date). Counted over users with status `active` (deactivated users hold no
//! seat, pending ones never signed in). The inactive ones are stored as reclamation
//! candidates.
//!
//! A license License Information has not recorded yet gets a stand-in record from the stored
//! roster, counted the same way (`licenses::Tally`): `assigned` = users with status `active`,
//! `inactive` = deactivated users (their own figure, not seats), pending users nothing; no
//! Zoom figure (`zoom_assigned` stays empty: this task calls no Zoom endpoint). License
//! Information's record replaces it on its next run.
//!
//! When an admin turned License Information off for the connection, this task records the
//! account's licenses itself (replacing the account's license items): one per license kind
//! its users hold, with the name and Provisioned figure an admin entered by hand where there is
//! an entry (`ConnectionRecord::manual_licenses`), else the ones derived from the plan.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;
use futures::stream::BoxStream;
use ports::{LicenseActivity, LicenseRecord, ReclamationCandidate, StoreError};
use sync_domain::{ActivityBands, LicenseKind};

use super::ctx::{UnitCtx, UnitProgress};
use super::licenses::Tally;
use crate::SyncError;

pub(crate) async fn run(ctx: &mut UnitCtx<'_>) -> Result<UnitProgress, SyncError> {
    let settings = ctx.settings();
    let threshold = settings.inactivity_threshold;
    let now = ctx.now();
    let cid = ctx.connection.connection_id.clone();
    let account_id = ctx.account.account_id.clone();
    let plan = super::plan_name(ctx.account);
    // The stored users, streamed; candidates written as they come, merged with the stored
    // ones (both in key order) so that those no longer inactive are deleted.
    let mut views = ctx.store.list_users(&cid, &account_id);
    let mut candidates = Candidates::new(ctx.store.list_account_candidates(&cid, &account_id));
    let mut bands: BTreeMap<LicenseKind, ActivityBands> = BTreeMap::new();
    let mut tallies: BTreeMap<LicenseKind, Tally> = BTreeMap::new();
    let mut users = 0u64;
    while let Some(view) = views.try_next().await? {
        users += 1;
        let r = &view.roster;
        let kind = LicenseKind::from_user_type(r.user_type);
        if r.is_removed() || !kind.is_tracked(&settings) {
            continue;
        }
        tallies.entry(kind).or_default().add(&r.status);
        if r.status != "active" {
            continue;
        }
        let d = view.activity();
        bands
            .entry(kind)
            .or_default()
            .add(&d, r.active_date, threshold, now);
        if d.is_inactive(r.active_date, threshold, now) {
            let candidate = ReclamationCandidate {
                account_id: account_id.clone(),
                user_key: r.key(),
                user_id: r.user_id.clone(),
                email: r.email.clone(),
                license_id: kind.unique_id(&account_id),
                license_name: r
                    .license_name
                    .clone()
                    .unwrap_or_else(|| kind.license_name(&plan)),
                user_type: r.user_type,
                last_login: d.last_login,
                last_meeting_created: d.last_meeting_created,
                last_meeting_joined: d.last_meeting_joined,
                last_activity: d.last_activity(),
                days_inactive: d.days_inactive(r.active_date, now).unwrap_or_default(),
                threshold_days: threshold.days(),
                computed_at: now,
            };
            candidates.add(ctx, candidate).await?;
        }
    }
    drop(views);
    let candidates = candidates.finish(ctx).await?;
    let seats = ctx.account.seats.unwrap_or(0);
    let record = |kind: LicenseKind, t: &Tally| LicenseRecord {
        account_id: account_id.clone(),
        license_id: kind.unique_id(&account_id),
        name: kind.license_name(&plan),
        provisioned: kind.provisioned(seats, &settings),
        assigned: t.assigned,
        active: t.active,
        inactive: t.inactive,
        activity: None,
        as_of: now.date_naive(),
        zoom_assigned: None,
        zoom_assigned_note: None,
        entered_by_hand: false,
    };
    let license_ids: BTreeSet<String> = if ctx
        .connection
        .task_enabled(sync_domain::Task::LicenseInformation)
    {
        let mut ids: BTreeSet<String> = ctx
            .store
            .list_account_licenses(&cid, &account_id)
            .map_ok(|l| l.license_id)
            .try_collect()
            .await?;
        // Licenses License Information has not recorded yet get their figures from the
        // roster, seats = status active (written only if still missing: License
        // Information's records win).
        for (kind, t) in &tallies {
            if ids.insert(kind.unique_id(&account_id)) {
                ctx.store
                    .insert_license_if_missing(&cid, &record(*kind, t))
                    .await?;
            }
        }
        ids
    } else {
        // License Information is off: this task records the account's licenses, with
        // what the admin entered by hand (and licenses entered for kinds nobody holds).
        for m in ctx
            .connection
            .manual_licenses
            .iter()
            .filter(|m| m.account_id == account_id)
        {
            if let Some(kind) = LicenseKind::from_unique_id(&account_id, &m.license_id)
                && kind.is_tracked(&settings)
            {
                tallies.entry(kind).or_default();
            }
        }
        let records: Vec<LicenseRecord> = tallies
            .iter()
            .map(|(kind, t)| {
                let mut r = record(*kind, t);
                if let Some(m) = ctx.connection.manual_license(&account_id, &r.license_id) {
                    r.name = m.name.clone().unwrap_or(r.name);
                    r.provisioned = m.provisioned.unwrap_or(r.provisioned);
                    r.entered_by_hand = true;
                }
                r
            })
            .collect();
        ctx.store
            .replace_account_licenses(&cid, &account_id, &records)
            .await?;
        records.into_iter().map(|r| r.license_id).collect()
    };
    let activity: BTreeMap<String, LicenseActivity> = license_ids
        .iter()
        .map(|license_id| {
            let b = LicenseKind::from_unique_id(&account_id, license_id)
                .and_then(|k| bands.get(&k))
                .copied()
                .unwrap_or_default();
            let figures = LicenseActivity {
                active_30_days: b.active_30_days,
                active_60_days: b.active_60_days,
                active_90_days: b.active_90_days,
                threshold_days: u32::from(threshold.days()),
                inactive_beyond_threshold: b.inactive,
            };
            (license_id.clone(), figures)
        })
        .collect();
    ctx.store
        .replace_account_license_activity(&cid, &account_id, &activity)
        .await?;
    ctx.count("users", users);
    ctx.count("licenses", activity.len() as u64);
    ctx.count("candidates", candidates);
    Ok(UnitProgress::Done)
}

/// Candidates written a batch at a time, and the stored candidates of users no longer among
/// them deleted: a merge of the new candidates with the stored ones, both in key order.
struct Candidates<'s> {
    stored: BoxStream<'s, Result<ReclamationCandidate, StoreError>>,
    next_stored: Option<String>,
    started: bool,
    writes: Vec<ReclamationCandidate>,
    deletes: Vec<String>,
    written: u64,
}

/// Candidates written or deleted at once.
const BATCH: usize = 100;

impl<'s> Candidates<'s> {
    fn new(stored: BoxStream<'s, Result<ReclamationCandidate, StoreError>>) -> Self {
        Self {
            stored,
            next_stored: None,
            started: false,
            writes: Vec::new(),
            deletes: Vec::new(),
            written: 0,
        }
    }

    /// Stored candidates with keys below `key` (all of them: `None`) are no longer candidates;
    /// one with `key` itself is replaced.
    async fn pass_stored(&mut self, key: Option<&str>) -> Result<(), StoreError> {
        if !self.started {
            self.started = true;
            self.next_stored = self.stored.try_next().await?.map(|c| c.user_key);
        }
        while let Some(stored) = self.next_stored.take() {
            match key {
                Some(k) if stored.as_str() > k => {
                    self.next_stored = Some(stored);
                    return Ok(());
                }
                Some(k) if stored == k => {
                    self.next_stored = self.stored.try_next().await?.map(|c| c.user_key);
                    return Ok(());
                }
                _ => {
                    self.deletes.push(stored);
                    self.next_stored = self.stored.try_next().await?.map(|c| c.user_key);
                }
            }
        }
        Ok(())
    }

    async fn add(
        &mut self,
        ctx: &UnitCtx<'_>,
        candidate: ReclamationCandidate,
    ) -> Result<(), StoreError> {
        self.pass_stored(Some(&candidate.user_key)).await?;
        self.writes.push(candidate);
        self.flush(ctx, BATCH).await
    }

    async fn flush(&mut self, ctx: &UnitCtx<'_>, at_least: usize) -> Result<(), StoreError> {
        let (cid, account_id) = (&ctx.connection.connection_id, &ctx.account.account_id);
        if self.writes.len() >= at_least.max(1) {
            ctx.store.put_candidates(cid, &self.writes).await?;
            self.written += self.writes.len() as u64;
            self.writes.clear();
        }
        if self.deletes.len() >= at_least.max(1) {
            ctx.store
                .delete_candidates(cid, account_id, &self.deletes)
                .await?;
            self.deletes.clear();
        }
        Ok(())
    }

    /// Deletes the remaining stored ones and writes what is left; returns the candidates.
    async fn finish(mut self, ctx: &UnitCtx<'_>) -> Result<u64, StoreError> {
        self.pass_stored(None).await?;
        self.flush(ctx, 1).await?;
        Ok(self.written)
    }
}
