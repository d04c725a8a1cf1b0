//! Application Access: per user, last login (list users), latest meeting created and latest
//! meeting joined, across the whole organization.
//!
//! Meetings of every kind (`host`): scheduled ones from the host's meeting list, each past
//! occurrence of recurring ones, and instant ones found through the reports. A participant row
//! whose `id` is a user of ANY account of the connection is a join for that user: joins of this
//! account's users are merged into this unit's records, joins of other accounts' users are
//! written to their records through the connection-wide user index (`locate_user_id`), and
//! every write keeps the later date, so units in any order, in parallel or redelivered, end
//! with the same records. Rows match by e-mail only where Zoom gives one (the host's own
//! account); rows of people outside the organization match nobody.
//!
//! Full run: every user with an id is a host candidate, and the report sweep covers the last
//! six months (the reports' reach) in 30-day ranges. Incremental run (after a full one): list
//! users (cheap, 300 per page) and sweep the report from the watermark (minus a day); only
//! users whose last login moved, new users and the hosts of the report are looked at, and only
//! meetings that started since the watermark (minus a day) have their participants read. Dates
//! only move forward: a date once seen stays until a later one replaces it.
//!
//! A call Zoom refuses for a missing scope leaves its fields out and notes the scope on the
//! connection (`gaps`). Long units stop before the deadline, save their progress in the
//! checkpoint and continue in a follow-up message; a redelivered or restarted segment resumes
//! from the last checkpoint.

mod gaps;
mod host;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use ports::{AccountKind, Checkpoint, CheckpointPart, StoreError, UserAccess};
use serde::{Deserialize, Serialize};
use sync_domain::ActivityDates;
use zoom::{ReportUserType, User, ZoomError};

use self::gaps::{Need, ScopeGaps};
use self::host::{AccountIndex, Hosted, host_activity};
use super::ctx::{SCOPE_GAPS, UnitCtx, UnitProgress};
use super::list_account_users;
use crate::SyncError;
use crate::unit::{Mode, Unit};

/// The report endpoints accept ranges of at most a month.
const MAX_INCREMENTAL_GAP_DAYS: i64 = 28;
/// Meetings that started this long before the watermark are looked at again (late ends,
/// clock skew, the report's whole-day ranges).
const OVERLAP: Duration = Duration::days(1);
/// The full run's report sweep: six ranges of 30 days (reports reach six months back).
const REPORT_RANGES: i64 = 6;
const REPORT_RANGE_DAYS: i64 = 30;
/// Checkpoint flag: the last run could not collect every field.
const PARTIAL: &str = "partial";
/// Other accounts' users looked up and written at once.
const FOREIGN_WRITES_AT_ONCE: usize = 16;

/// Where a run is: the checkpoint item's data. It stays small whatever the account's size;
/// the host list and the dates found so far go into checkpoint parts (DynamoDB items hold at
/// most 400 KB, about 5,000 users' worth of progress).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Progress {
    run_id: String,
    full: bool,
    started_at: DateTime<Utc>,
    /// Incremental runs: only meetings that started at or after this.
    since: Option<DateTime<Utc>>,
    host_count: usize,
    next_host: usize,
    /// Parts `0..parts` hold this run's hosts, then the dates found segment by segment.
    parts: u32,
}

/// One checkpoint part: a slice of the host list, or dates found in one segment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Part {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    hosts: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    created: BTreeMap<String, Option<DateTime<Utc>>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    joined: BTreeMap<String, DateTime<Utc>>,
}

/// Entries per part (about 60 bytes each): far inside the item limit.
const PART_ENTRIES: usize = 2_000;

/// A run in memory: its progress, hosts, and the dates found (all, and since the last save).
#[derive(Debug, Clone)]
struct RunState {
    progress: Progress,
    hosts: Vec<String>,
    /// Latest meeting created per processed host (`None`: the host has no meetings).
    created: BTreeMap<String, Option<DateTime<Utc>>>,
    joined: BTreeMap<String, DateTime<Utc>>,
    unsaved: Part,
}

impl RunState {
    fn new(progress: Progress, hosts: Vec<String>) -> Self {
        Self {
            progress,
            hosts,
            created: BTreeMap::new(),
            joined: BTreeMap::new(),
            unsaved: Part::default(),
        }
    }

    /// Rebuilds a run from its checkpoint and parts; `None` if parts are missing.
    fn restore(progress: Progress, parts: Vec<ports::CheckpointPart>) -> Option<Self> {
        if parts.len() != progress.parts as usize {
            return None;
        }
        let mut run = Self::new(progress, Vec::new());
        for part in parts {
            let part: Part = serde_json::from_value(part.data).ok()?;
            run.hosts.extend(part.hosts);
            run.created.extend(part.created);
            for (key, at) in part.joined {
                join(&mut run.joined, key, at);
            }
        }
        (run.hosts.len() == run.progress.host_count).then_some(run)
    }

    fn record(
        &mut self,
        key: String,
        created: Option<DateTime<Utc>>,
        joins: Vec<(String, DateTime<Utc>)>,
    ) {
        self.created.insert(key.clone(), created);
        self.unsaved.created.insert(key, created);
        for (k, at) in joins {
            join(&mut self.joined, k.clone(), at);
            join(&mut self.unsaved.joined, k, at);
        }
    }

    /// The parts this save writes: the host list on the first save, then what is unsaved.
    fn parts_to_save(&self) -> Vec<Part> {
        let mut parts = Vec::new();
        if self.progress.parts == 0 {
            parts.extend(self.hosts.chunks(PART_ENTRIES).map(|c| Part {
                hosts: c.to_vec(),
                ..Part::default()
            }));
        }
        let created: Vec<_> = self.unsaved.created.iter().collect();
        let joined: Vec<_> = self.unsaved.joined.iter().collect();
        for chunk in created.chunks(PART_ENTRIES) {
            parts.push(Part {
                created: chunk.iter().map(|(k, v)| ((*k).clone(), **v)).collect(),
                ..Part::default()
            });
        }
        for chunk in joined.chunks(PART_ENTRIES) {
            parts.push(Part {
                joined: chunk.iter().map(|(k, v)| ((*k).clone(), **v)).collect(),
                ..Part::default()
            });
        }
        parts
    }
}

/// Keeps the later join time.
fn join(joined: &mut BTreeMap<String, DateTime<Utc>>, key: String, at: DateTime<Utc>) {
    let e = joined.entry(key).or_insert(at);
    if at > *e {
        *e = at;
    }
}

/// Every stored access record of an account (tracked or not: they are the baseline of the
/// incremental run), keyed by user key.
async fn stored_access(ctx: &UnitCtx<'_>) -> Result<BTreeMap<String, UserAccess>, StoreError> {
    ctx.store
        .list_account_access(&ctx.connection.connection_id, &ctx.account.account_id)
        .map_ok(|a| (a.user_key.clone(), a))
        .try_collect()
        .await
}

pub(crate) async fn run(ctx: &mut UnitCtx<'_>) -> Result<UnitProgress, SyncError> {
    let cid = ctx.connection.connection_id.clone();
    let task = ctx.unit.task.as_str().to_owned();
    let account_id = ctx.account.account_id.clone();
    let checkpoint = ctx.store.get_checkpoint(&cid, &task, &account_id).await?;
    let users = list_account_users(ctx).await?;
    ctx.count("users", users.len() as u64);
    let stored = stored_access(ctx).await?;
    let gaps = ScopeGaps::new(ctx.account.kind == AccountKind::Master);
    let now = ctx.now();

    let resumed = resume(ctx, checkpoint.as_ref()).await?;
    let (full, since) = match &resumed {
        Some(run) => (run.progress.full, run.progress.since),
        None => full_or_incremental(ctx, checkpoint.as_ref()),
    };
    let hosted = sweep_reports(ctx, &gaps, report_ranges(full, since, now), &users).await?;
    let mut run = match resumed {
        Some(run) => run,
        None => {
            let run = plan(ctx, full, since, &users, &stored, hosted.as_ref());
            ctx.count(if full { "full" } else { "incremental" }, 1);
            run
        }
    };

    let index = AccountIndex {
        by_id: users
            .iter()
            .filter_map(|(k, u)| u.id.as_deref().map(|id| (id, k.as_str())))
            .collect(),
        by_email: users
            .iter()
            .map(|(k, u)| (u.email.to_lowercase(), k.as_str()))
            .collect(),
    };
    let since = run.progress.since;
    // Hosts are looked at `host_concurrency` at a time, each result recorded when it comes (a
    // host with many meetings does not hold back the others); `next_host` advances only past
    // an unbroken run of finished hosts, so it stays "the first host not finished" for the
    // checkpoint (hosts finished beyond it are looked at again after a stop: their dates
    // only repeat what the run holds).
    let first = run.progress.next_host;
    let pending: Vec<(usize, String, Option<String>)> = run.hosts[first..]
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let id = users.get(key).and_then(|u| u.id.clone());
            (first + i, key.clone(), id)
        })
        .collect();
    let mut finished_ahead: BTreeSet<usize> = BTreeSet::new();
    let mut processed = 0u64;
    let mut participant_lists = 0u64;
    let mut report_lookups = 0u64;
    let mut foreign: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut stopped = false;
    {
        let ctx: &UnitCtx<'_> = ctx;
        let (index, gaps, hosted) = (&index, &gaps, hosted.as_ref());
        let mut results = stream::iter(pending)
            .map(|(position, key, user_id)| async move {
                let activity = match user_id {
                    Some(id) => {
                        Some(host_activity(ctx, gaps, &id, since, now, hosted, index).await?)
                    }
                    None => None,
                };
                Ok::<_, SyncError>((position, key, activity))
            })
            .buffer_unordered(ctx.options.host_concurrency.max(1));
        while let Some(result) = results.next().await {
            match result {
                Ok((position, key, activity)) => {
                    if let Some(activity) = activity {
                        participant_lists += activity.participant_lists;
                        report_lookups += activity.report_lookups;
                        for (id, at) in activity.foreign {
                            later(&mut foreign, id, at);
                        }
                        run.record(key, activity.created, activity.joins);
                        processed += 1;
                    }
                    finished_ahead.insert(position);
                    while finished_ahead.remove(&run.progress.next_host) {
                        run.progress.next_host += 1;
                    }
                }
                Err(SyncError::Zoom(ZoomError::DeadlineExceeded { .. })) => {
                    stopped = true;
                    break;
                }
                Err(e) => return Err(e),
            }
            // Stop only once the checkpoint moves (a segment always gets somewhere).
            if ctx.out_of_time()
                && run.progress.next_host > first
                && run.progress.next_host < run.hosts.len()
            {
                stopped = true;
                break;
            }
        }
    }
    ctx.count("hosts", processed);
    ctx.count("participant_lists", participant_lists);
    ctx.count("report_lookups", report_lookups);
    write_foreign_joins(ctx, foreign).await?;
    gaps.save(ctx, now).await?;
    let partial = gaps.count() > 0;
    ctx.count(SCOPE_GAPS, gaps.count());
    if stopped {
        return save_and_continue(ctx, checkpoint, run).await;
    }

    // Merge and write.
    let mut changed = Vec::new();
    for (key, user) in &users {
        let base = stored.get(key);
        let record = merge(&run, key, user, base, &account_id);
        if base != Some(&record) {
            changed.push(record);
        }
    }
    let written = ctx.store.upsert_access(&cid, &changed).await?;
    ctx.count("written", written as u64);

    let previous_full = checkpoint.as_ref().and_then(|c| c.last_full_run_at);
    let version = current_version(ctx, &cid, &task, &account_id).await?;
    ctx.store
        .put_checkpoint(&Checkpoint {
            connection_id: cid.clone(),
            task: task.clone(),
            account_id: account_id.clone(),
            watermark: Some(run.progress.started_at),
            cursor: None,
            last_full_run_at: if run.progress.full {
                Some(run.progress.started_at)
            } else {
                previous_full
            },
            // A run that missed fields makes the next one full (nothing is looked back for
            // once the scope is there).
            data: if partial {
                serde_json::json!({ PARTIAL: true })
            } else {
                serde_json::Value::Null
            },
            updated_at: now,
            version,
        })
        .await?;
    ctx.store
        .delete_checkpoint_parts(&cid, &task, &account_id)
        .await?;
    Ok(UnitProgress::Done)
}

/// Keeps the later date per key.
fn later(map: &mut HashMap<String, DateTime<Utc>>, key: String, at: DateTime<Utc>) {
    let e = map.entry(key).or_insert(at);
    if at > *e {
        *e = at;
    }
}

/// Writes joins of users of other accounts of the connection to their records (found through
/// the connection-wide index; ids nobody in the connection has are people from outside).
async fn write_foreign_joins(
    ctx: &mut UnitCtx<'_>,
    foreign: HashMap<String, DateTime<Utc>>,
) -> Result<(), SyncError> {
    let cid = ctx.connection.connection_id.clone();
    let records = ctx.store;
    let outcomes: Vec<(bool, bool)> = stream::iter(foreign)
        .map(|(id, at)| {
            let cid = &cid;
            async move {
                match records.locate_user_id(cid, &id).await? {
                    Some((account, key)) => {
                        let moved = records.advance_joined(cid, &account, &key, at).await?;
                        Ok::<_, StoreError>((true, moved))
                    }
                    None => Ok((false, false)),
                }
            }
        })
        .buffer_unordered(FOREIGN_WRITES_AT_ONCE)
        .try_collect()
        .await?;
    let known = outcomes.iter().filter(|(k, _)| *k).count() as u64;
    ctx.count("joins_other_accounts", known);
    ctx.count(
        "joins_other_accounts_written",
        outcomes.iter().filter(|(_, m)| *m).count() as u64,
    );
    ctx.count("join_ids_outside", outcomes.len() as u64 - known);
    Ok(())
}

/// Dates only move forward: what this run found, or what is stored if that is later (a
/// meeting created or joined stays a fact when a later listing no longer shows it).
fn merge(
    run: &RunState,
    key: &str,
    user: &User,
    base: Option<&UserAccess>,
    account_id: &str,
) -> UserAccess {
    let created = run.created.get(key).copied().flatten();
    let joined = run.joined.get(key).copied();
    UserAccess {
        user_key: key.to_owned(),
        account_id: account_id.to_owned(),
        dates: ActivityDates {
            last_login: user.last_login_time,
            last_meeting_created: created.max(base.and_then(|b| b.dates.last_meeting_created)),
            last_meeting_joined: joined.max(base.and_then(|b| b.dates.last_meeting_joined)),
        },
    }
}

async fn current_version(
    ctx: &UnitCtx<'_>,
    cid: &str,
    task: &str,
    account_id: &str,
) -> Result<u64, SyncError> {
    Ok(ctx
        .store
        .get_checkpoint(cid, task, account_id)
        .await?
        .map(|c| c.version)
        .unwrap_or(0))
}

/// The run a follow-up message continues, if the checkpoint still holds it.
async fn resume(
    ctx: &UnitCtx<'_>,
    checkpoint: Option<&Checkpoint>,
) -> Result<Option<RunState>, SyncError> {
    let Some(run_id) = ctx.unit.continues_run.as_deref() else {
        return Ok(None);
    };
    let Some(progress) = checkpoint
        .and_then(|c| serde_json::from_value::<Progress>(c.data.clone()).ok())
        .filter(|p| p.run_id == run_id)
    else {
        return Ok(None);
    };
    let parts = ctx
        .store
        .checkpoint_parts(
            &ctx.connection.connection_id,
            ctx.unit.task.as_str(),
            &ctx.account.account_id,
            run_id,
            progress.parts,
        )
        .await?;
    let run = RunState::restore(progress, parts);
    if run.is_none() {
        tracing::warn!(run_id, "checkpoint parts missing: the unit starts over");
    }
    Ok(run)
}

/// Saves the run (parts first, then the checkpoint that counts them) and asks for a
/// follow-up. The follow-up's deduplication id is the checkpoint's new version: a redelivered
/// segment that saves the same state sends the same follow-up, and a segment that stopped
/// without progress still sends a new one.
async fn save_and_continue(
    ctx: &mut UnitCtx<'_>,
    checkpoint: Option<Checkpoint>,
    mut run: RunState,
) -> Result<UnitProgress, SyncError> {
    let cid = ctx.connection.connection_id.clone();
    let task = ctx.unit.task.as_str().to_owned();
    let account_id = ctx.account.account_id.clone();
    for part in run.parts_to_save() {
        ctx.store
            .put_checkpoint_part(&CheckpointPart {
                connection_id: cid.clone(),
                task: task.clone(),
                account_id: account_id.clone(),
                run_id: run.progress.run_id.clone(),
                seq: run.progress.parts,
                data: serde_json::to_value(&part).map_err(|e| SyncError::Invalid(e.to_string()))?,
            })
            .await?;
        run.progress.parts += 1;
    }
    run.unsaved = Part::default();
    let version = current_version(ctx, &cid, &task, &account_id).await?;
    ctx.count("checkpointed_at_host", run.progress.next_host as u64);
    let saved = ctx
        .store
        .put_checkpoint(&Checkpoint {
            connection_id: cid.clone(),
            task,
            account_id: account_id.clone(),
            watermark: checkpoint.as_ref().and_then(|c| c.watermark),
            cursor: Some(run.progress.next_host.to_string()),
            last_full_run_at: checkpoint.as_ref().and_then(|c| c.last_full_run_at),
            data: serde_json::to_value(&run.progress)
                .map_err(|e| SyncError::Invalid(e.to_string()))?,
            updated_at: ctx.now(),
            version,
        })
        .await?;
    let mut next = Unit::new(ctx.unit.task, &cid, &account_id, ctx.unit.mode);
    next.continues_run = Some(run.progress.run_id);
    Ok(UnitProgress::Continue {
        next,
        segment: format!("v{}", saved.version),
    })
}

/// Full or incremental, and since when (incremental runs).
fn full_or_incremental(
    ctx: &UnitCtx<'_>,
    checkpoint: Option<&Checkpoint>,
) -> (bool, Option<DateTime<Utc>>) {
    let now = ctx.started_at;
    let watermark = checkpoint.and_then(|c| c.watermark);
    let last_full = checkpoint.and_then(|c| c.last_full_run_at);
    let partial = checkpoint.is_some_and(|c| c.data.get(PARTIAL).is_some_and(|p| p == true));
    let full = match (ctx.unit.mode, watermark, last_full) {
        (Mode::Full, _, _) | (_, None, _) | (_, _, None) => true,
        _ if partial => true,
        (_, Some(w), _) if (now - w).num_days() >= MAX_INCREMENTAL_GAP_DAYS => true,
        (Mode::Incremental, _, _) => false,
        (_, _, Some(f)) => now - f >= ctx.options.full_run_every,
    };
    let since = (!full).then(|| watermark.unwrap_or(now) - OVERLAP);
    (full, since)
}

/// The report sweep's date ranges: six 30-day ranges back from today (full run), or the one
/// range since the watermark (incremental).
fn report_ranges(
    full: bool,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<(NaiveDate, NaiveDate)> {
    let today = now.date_naive();
    match (full, since) {
        (false, Some(since)) => vec![(since.date_naive().min(today), today)],
        _ => (0..REPORT_RANGES)
            .map(|i| {
                let to = today - Duration::days(i * REPORT_RANGE_DAYS);
                (to - Duration::days(REPORT_RANGE_DAYS - 1), to)
            })
            .collect(),
    }
}

/// How many meetings each host held per range (`GET /report/users?type=active`, Heavy: a page
/// per 300 hosts). `None` when the app may not read the reports.
async fn sweep_reports(
    ctx: &UnitCtx<'_>,
    gaps: &ScopeGaps,
    windows: Vec<(NaiveDate, NaiveDate)>,
    users: &BTreeMap<String, User>,
) -> Result<Option<Hosted>, SyncError> {
    let id_by_email: HashMap<String, &str> = users
        .values()
        .filter_map(|u| u.id.as_deref().map(|id| (u.email.to_lowercase(), id)))
        .collect();
    let mut by_host: HashMap<String, Vec<(usize, u64)>> = HashMap::new();
    for (w, (from, to)) in windows.iter().enumerate() {
        let result = ctx
            .api()
            .report_users(ReportUserType::Active, *from, *to)
            .stream()
            .try_collect::<Vec<zoom::ReportUser>>()
            .await;
        let Some(rows) = gaps.check(Need::Reports, result)? else {
            return Ok(None);
        };
        for row in rows {
            let id = row.id.clone().filter(|id| !id.is_empty()).or_else(|| {
                id_by_email
                    .get(&row.email.to_lowercase())
                    .map(|id| (*id).to_owned())
            });
            let (Some(id), Some(n)) = (id, row.meetings) else {
                continue;
            };
            by_host.entry(id).or_default().push((w, n.max(0) as u64));
        }
    }
    Ok(Some(Hosted { windows, by_host }))
}

/// Which hosts to look at: everyone with an id (full run, or no reports), or (incremental)
/// users whose last login moved, new users, and the hosts the report saw since the watermark.
fn plan(
    ctx: &UnitCtx<'_>,
    full: bool,
    since: Option<DateTime<Utc>>,
    users: &BTreeMap<String, User>,
    stored: &BTreeMap<String, UserAccess>,
    hosted: Option<&Hosted>,
) -> RunState {
    let progress = |host_count| Progress {
        run_id: ctx.run_id.clone(),
        full,
        started_at: ctx.started_at,
        since,
        host_count,
        next_host: 0,
        parts: 0,
    };
    let hosts: BTreeSet<String> = users
        .iter()
        .filter(|(k, u)| {
            u.id.as_deref().is_some_and(|id| {
                // Without the reports a daily run cannot tell who hosted: everyone.
                full || hosted.is_none()
                    || stored
                        .get(*k)
                        .is_none_or(|s| s.dates.last_login != u.last_login_time)
                    || hosted.is_some_and(|h| h.by_host.contains_key(id))
            })
        })
        .map(|(k, _)| k.clone())
        .collect();
    let hosts: Vec<String> = hosts.into_iter().collect();
    RunState::new(progress(hosts.len()), hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minute)
    }

    fn key(i: usize) -> String {
        format!("user-key-{i:012}")
    }

    fn saved_parts(run: &RunState) -> Vec<ports::CheckpointPart> {
        run.parts_to_save()
            .into_iter()
            .enumerate()
            .map(|(i, p)| ports::CheckpointPart {
                connection_id: "c".into(),
                task: "application-access".into(),
                account_id: "a".into(),
                run_id: run.progress.run_id.clone(),
                seq: run.progress.parts + i as u32,
                data: serde_json::to_value(&p).unwrap(),
            })
            .collect()
    }

    /// A 12,000-user account, saved in two segments: every part fits a DynamoDB item, and the
    /// restored run equals the one in memory (joins keep the later time across segments).
    #[test]
    fn big_runs_split_into_parts_that_restore_exactly() {
        let users = 12_000;
        let hosts: Vec<String> = (0..users).map(key).collect();
        let progress = Progress {
            run_id: "run-1".into(),
            full: true,
            started_at: at(0),
            since: None,
            host_count: users,
            next_host: 0,
            parts: 0,
        };
        let mut run = RunState::new(progress, hosts);
        let mut all_parts = Vec::new();
        for segment in 0..2 {
            let range = if segment == 0 { 0..7_000 } else { 7_000..users };
            for i in range {
                let created = (i % 3 != 0).then(|| at(i as i64));
                // Every host's meetings were joined by two users, one of them seen again
                // in the next segment with a later time.
                let joins = vec![
                    (key((i * 7) % users), at(10 * i as i64)),
                    (key(i % 100), at(i as i64)),
                ];
                run.record(key(i), created, joins);
                run.progress.next_host = i + 1;
            }
            let parts = saved_parts(&run);
            for p in &parts {
                let size = serde_json::to_vec(&p).unwrap().len();
                assert!(size < 350 * 1024, "part {} is {size} bytes", p.seq);
            }
            run.progress.parts += parts.len() as u32;
            run.unsaved = Part::default();
            all_parts.extend(parts);
        }
        let whole = serde_json::to_vec(&(&run.hosts, &run.created, &run.joined))
            .unwrap()
            .len();
        assert!(
            whole > 400 * 1024,
            "the test needs more than one item's worth ({whole})"
        );

        let restored =
            RunState::restore(run.progress.clone(), all_parts.clone()).expect("restores");
        assert_eq!(restored.hosts, run.hosts);
        assert_eq!(restored.created, run.created);
        assert_eq!(restored.joined, run.joined);
        assert_eq!(restored.progress.next_host, users);

        // A missing part: not resumable (the unit starts over instead of losing dates).
        let mut missing = all_parts;
        missing.remove(3);
        assert!(RunState::restore(run.progress.clone(), missing).is_none());
    }
}
