//! Application Access: per user, last login (list users), latest meeting created (the user's
//! scheduled meetings' `created_at`) and latest meeting joined (past-meeting participant rows
//! carrying the user's id, or an internal row with the user's email; external rows never
//! match).
//!
//! Full run: every user with an id is a host candidate: list their scheduled meetings, then the
//! participants of each meeting that has started. Incremental run (after a full one): list
//! users (cheap, 300 per page) and report the hosts active since the watermark
//! (`GET /report/users?type=active`, a page per 300 hosts); only users whose last login moved,
//! new users and those hosts have their meetings listed, and only meetings that started since
//! the watermark (minus a day) have their participants fetched. Dates are merged with the
//! stored ones (created: replaced for re-listed hosts; joined: the later of both). A full run
//! every `full_run_every` (or `mode: full`) repairs drift such as deleted meetings.
//!
//! Long units stop before the deadline, save their progress in the checkpoint and continue in
//! a follow-up message; a redelivered or restarted segment resumes from the last checkpoint.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_adapters::backend::{Index, Item, Query, SkCond, query_all};
use aws_adapters::{Checkpoint, StoreError, SyncRunStore, UserAccess, UserStore};
use chrono::{DateTime, Duration, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use zoom::{MeetingListType, ReportUserType, User, ZoomError};

use super::list_account_users;
use crate::SyncError;
use crate::engine::{TaskOutcome, UnitCtx};
use crate::unit::{Mode, Unit};

/// The report endpoints accept ranges of at most a month.
const MAX_INCREMENTAL_GAP_DAYS: i64 = 28;
/// Meetings that started this long before the watermark are looked at again (late ends,
/// clock skew, the report's whole-day ranges).
const OVERLAP: Duration = Duration::days(1);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Progress {
    run_id: String,
    full: bool,
    started_at: DateTime<Utc>,
    /// Incremental runs: only meetings that started at or after this.
    since: Option<DateTime<Utc>>,
    hosts: Vec<String>,
    next_host: usize,
    /// Latest meeting created per processed host (`None`: the host has no meetings).
    created: BTreeMap<String, Option<DateTime<Utc>>>,
    joined: BTreeMap<String, DateTime<Utc>>,
}

/// Every stored access record of an account (tracked or not: they are the baseline of the
/// incremental run), keyed by user key.
async fn stored_access(ctx: &UnitCtx<'_>) -> Result<BTreeMap<String, UserAccess>, StoreError> {
    let pk = format!(
        "CONN#{}#ACCT#{}",
        ctx.connection.connection_id, ctx.account.account_id
    );
    let items: Vec<Item> = query_all(
        &**ctx.engine.records.table(),
        Query::new(Index::Primary, pk, SkCond::BeginsWith("USER#".into())),
    )
    .try_collect()
    .await?;
    let mut out = BTreeMap::new();
    for item in items {
        let is_access = item
            .get(aws_adapters::table::SK)
            .and_then(serde_json::Value::as_str)
            .is_some_and(|sk| sk.ends_with("#ACCESS"));
        if is_access {
            let a: UserAccess = crate::candidates::decode_record(item)?;
            out.insert(a.user_key.clone(), a);
        }
    }
    Ok(out)
}

pub(crate) async fn run(ctx: &mut UnitCtx<'_>) -> Result<TaskOutcome, SyncError> {
    let cid = ctx.connection.connection_id.clone();
    let task = ctx.unit.task.as_str().to_owned();
    let account_id = ctx.account.account_id.clone();
    let checkpoint = ctx
        .engine
        .records
        .get_checkpoint(&cid, &task, &account_id)
        .await?;
    let users = list_account_users(ctx).await?;
    ctx.count("users", users.len() as u64);
    let stored = stored_access(ctx).await?;

    let resumed = ctx.unit.continues_run.as_ref().and_then(|run| {
        checkpoint
            .as_ref()
            .and_then(|c| serde_json::from_value::<Progress>(c.data.clone()).ok())
            .filter(|p| &p.run_id == run)
    });
    let mut progress = match resumed {
        Some(p) => p,
        None => {
            let p = plan(ctx, checkpoint.as_ref(), &users, &stored).await?;
            ctx.count(if p.full { "full" } else { "incremental" }, 1);
            p
        }
    };

    let id_to_key: HashMap<&str, &str> = users
        .iter()
        .filter_map(|(k, u)| u.id.as_deref().map(|id| (id, k.as_str())))
        .collect();
    let email_to_key: HashMap<String, &str> = users
        .iter()
        .map(|(k, u)| (u.email.to_lowercase(), k.as_str()))
        .collect();
    let now = ctx.now();
    let mut processed = 0u64;
    let mut participant_lists = 0u64;
    while progress.next_host < progress.hosts.len() {
        if ctx.out_of_time() && processed > 0 {
            return save_and_continue(ctx, checkpoint, progress).await;
        }
        let key = progress.hosts[progress.next_host].clone();
        let Some(user_id) = users.get(&key).and_then(|u| u.id.clone()) else {
            progress.next_host += 1;
            continue;
        };
        match host_activity(
            ctx,
            &user_id,
            progress.since,
            now,
            &id_to_key,
            &email_to_key,
        )
        .await
        {
            Ok((created, joins, lists)) => {
                participant_lists += lists;
                progress.created.insert(key, created);
                for (k, t) in joins {
                    let e = progress.joined.entry(k).or_insert(t);
                    if t > *e {
                        *e = t;
                    }
                }
                progress.next_host += 1;
                processed += 1;
            }
            Err(SyncError::Zoom(ZoomError::DeadlineExceeded { .. })) => {
                return save_and_continue(ctx, checkpoint, progress).await;
            }
            Err(e) => return Err(e),
        }
    }
    ctx.count("hosts", processed);
    ctx.count("participant_lists", participant_lists);

    // Merge and write.
    let mut changed = Vec::new();
    for (key, user) in &users {
        let base = stored.get(key);
        let record = merge(&progress, key, user, base, &account_id);
        if base != Some(&record) {
            changed.push(record);
        }
    }
    ctx.engine.records.upsert_access(&cid, &changed).await?;
    ctx.count("written", changed.len() as u64);

    let previous_full = checkpoint.as_ref().and_then(|c| c.last_full_run_at);
    let version = current_version(ctx, &cid, &task, &account_id).await?;
    ctx.engine
        .records
        .put_checkpoint(&Checkpoint {
            connection_id: cid.clone(),
            task: task.clone(),
            account_id: account_id.clone(),
            watermark: Some(progress.started_at),
            cursor: None,
            last_full_run_at: if progress.full {
                Some(progress.started_at)
            } else {
                previous_full
            },
            data: serde_json::Value::Null,
            updated_at: now,
            version,
        })
        .await?;
    Ok(TaskOutcome::Done)
}

fn merge(
    progress: &Progress,
    key: &str,
    user: &User,
    base: Option<&UserAccess>,
    account_id: &str,
) -> UserAccess {
    let joined = progress.joined.get(key).copied();
    let (created, joined) = if progress.full {
        (progress.created.get(key).copied().flatten(), joined)
    } else {
        let created = match progress.created.get(key) {
            Some(c) => *c,
            None => base.and_then(|b| b.last_meeting_created),
        };
        let old = base.and_then(|b| b.last_meeting_joined);
        (created, joined.max(old))
    };
    UserAccess {
        user_key: key.to_owned(),
        account_id: account_id.to_owned(),
        last_login: user.last_login_time,
        last_meeting_created: created,
        last_meeting_joined: joined,
    }
}

async fn current_version(
    ctx: &UnitCtx<'_>,
    cid: &str,
    task: &str,
    account_id: &str,
) -> Result<u64, SyncError> {
    Ok(ctx
        .engine
        .records
        .get_checkpoint(cid, task, account_id)
        .await?
        .map(|c| c.version)
        .unwrap_or(0))
}

async fn save_and_continue(
    ctx: &mut UnitCtx<'_>,
    checkpoint: Option<Checkpoint>,
    progress: Progress,
) -> Result<TaskOutcome, SyncError> {
    let cid = ctx.connection.connection_id.clone();
    let task = ctx.unit.task.as_str().to_owned();
    let account_id = ctx.account.account_id.clone();
    let version = current_version(ctx, &cid, &task, &account_id).await?;
    ctx.count("checkpointed_at_host", progress.next_host as u64);
    let run_id = progress.run_id.clone();
    let cursor = progress.next_host;
    ctx.engine
        .records
        .put_checkpoint(&Checkpoint {
            connection_id: cid.clone(),
            task,
            account_id: account_id.clone(),
            watermark: checkpoint.as_ref().and_then(|c| c.watermark),
            cursor: Some(progress.next_host.to_string()),
            last_full_run_at: checkpoint.as_ref().and_then(|c| c.last_full_run_at),
            data: serde_json::to_value(&progress).unwrap_or_default(),
            updated_at: ctx.now(),
            version,
        })
        .await?;
    let mut next = Unit::new(ctx.unit.task, &cid, &account_id, ctx.unit.mode);
    next.continues_run = Some(run_id);
    Ok(TaskOutcome::Continue {
        next,
        segment: format!("at-{cursor}"),
    })
}

/// Decides full or incremental and which hosts to look at.
async fn plan(
    ctx: &UnitCtx<'_>,
    checkpoint: Option<&Checkpoint>,
    users: &BTreeMap<String, User>,
    stored: &BTreeMap<String, UserAccess>,
) -> Result<Progress, SyncError> {
    let now = ctx.started_at;
    let watermark = checkpoint.and_then(|c| c.watermark);
    let last_full = checkpoint.and_then(|c| c.last_full_run_at);
    let full = match (ctx.unit.mode, watermark, last_full) {
        (Mode::Full, _, _) | (_, None, _) | (_, _, None) => true,
        (_, Some(w), _) if (now - w).num_days() >= MAX_INCREMENTAL_GAP_DAYS => true,
        (Mode::Incremental, _, _) => false,
        (_, _, Some(f)) => now - f >= ctx.engine.options.full_run_every,
    };
    let mut progress = Progress {
        run_id: ctx.run_id.clone(),
        full,
        started_at: now,
        since: None,
        hosts: Vec::new(),
        next_host: 0,
        created: BTreeMap::new(),
        joined: BTreeMap::new(),
    };
    if full {
        progress.hosts = users
            .iter()
            .filter(|(_, u)| u.id.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        return Ok(progress);
    }
    let since = watermark.unwrap_or(now) - OVERLAP;
    progress.since = Some(since);
    let mut hosts: BTreeSet<String> = users
        .iter()
        .filter(|(k, u)| {
            u.id.is_some()
                && stored
                    .get(*k)
                    .is_none_or(|s| s.last_login != u.last_login_time)
        })
        .map(|(k, _)| k.clone())
        .collect();
    let by_id: HashMap<&str, &str> = users
        .iter()
        .filter_map(|(k, u)| u.id.as_deref().map(|id| (id, k.as_str())))
        .collect();
    let by_email: HashMap<String, &str> = users
        .iter()
        .map(|(k, u)| (u.email.to_lowercase(), k.as_str()))
        .collect();
    let mut report = ctx
        .api()
        .report_users(ReportUserType::Active, since.date_naive(), now.date_naive())
        .stream();
    while let Some(row) = report.try_next().await? {
        let key = row
            .id
            .as_deref()
            .and_then(|id| by_id.get(id))
            .or_else(|| by_email.get(&row.email.to_lowercase()));
        if let Some(k) = key {
            hosts.insert((*k).to_owned());
        }
    }
    progress.hosts = hosts.into_iter().collect();
    Ok(progress)
}

type HostActivity = (Option<DateTime<Utc>>, Vec<(String, DateTime<Utc>)>, u64);

/// One host: the latest meeting created, and the joins found in their started meetings.
async fn host_activity(
    ctx: &UnitCtx<'_>,
    user_id: &str,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    id_to_key: &HashMap<&str, &str>,
    email_to_key: &HashMap<String, &str>,
) -> Result<HostActivity, SyncError> {
    let meetings: Vec<zoom::Meeting> = ctx
        .api()
        .user_meetings(user_id, MeetingListType::Scheduled)
        .stream()
        .try_collect()
        .await?;
    let created = meetings.iter().filter_map(|m| m.created_at).max();
    let mut joins = Vec::new();
    let mut lists = 0;
    for m in &meetings {
        let Some(start) = m.start_time else { continue };
        if start > now || since.is_some_and(|s| start < s) {
            continue;
        }
        let meeting = if m.uuid.is_empty() {
            match m.id {
                Some(id) => id.to_string(),
                None => continue,
            }
        } else {
            m.uuid.clone()
        };
        lists += 1;
        let rows: Vec<zoom::Participant> = match ctx
            .zoom()
            .past_meeting_participants(&meeting)
            .stream()
            .try_collect()
            .await
        {
            Ok(rows) => rows,
            // Not ended yet (or gone): no participants.
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e.into()),
        };
        for p in rows {
            let Some(join) = p.join_time else { continue };
            let key =
                p.id.as_deref()
                    .filter(|id| !id.is_empty())
                    .and_then(|id| id_to_key.get(id).copied())
                    .or_else(|| {
                        p.internal_user
                            .then_some(p.user_email.as_deref())
                            .flatten()
                            .filter(|e| !e.is_empty())
                            .and_then(|e| email_to_key.get(&e.to_lowercase()).copied())
                    });
            if let Some(k) = key {
                joins.push((k.to_owned(), join));
            }
        }
    }
    Ok((created, joins, lists))
}
