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
//! connection (`gaps`).
//!
//! Memory stays flat in the account's size. A run is planned once: the account's listing
//! (sorted by key in scratch files, see `account_users`), the stored records (the store lists
//! them in key order) and the report sweep (spilled by host) are merged into the run's
//! entries, which go to checkpoint parts before any record is written. Segments then work
//! through the entries a part at a time; the records of finished entries and the joins found
//! wait in scratch space and are written when the segment ends, one write per user (monotone
//! writes: a redone entry writes the same dates). A join's id is this account's user if the
//! listing (a scratch table each segment) has it, else looked up in the connection-wide index. Long units stop before the deadline, save how far they got in
//! the checkpoint and continue in a follow-up message; a redelivered or restarted segment, or
//! a new unit finding the run unfinished, resumes from the last checkpoint.

mod gaps;
mod host;

use std::collections::BTreeSet;
use std::io;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use ports::{AccountKind, Checkpoint, CheckpointPart, StoreError, UserAccess};
use serde::{Deserialize, Serialize};
use sync_domain::ActivityDates;
use zoom::{ReportUserType, ZoomError};

use self::gaps::{Need, ScopeGaps};
use self::host::{HostActivity, RangeCounts, host_activity};
use super::account_users;
use super::ctx::{SCOPE_GAPS, UnitCtx, UnitProgress};
use crate::SyncError;
use crate::spill::{Latest, Sorted, SortedTable, Spill, value_at};
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
/// Joins written at once.
const JOIN_WRITES_AT_ONCE: usize = 16;
/// Entries per checkpoint part (at most about 300 bytes each): inside DynamoDB's 400 KB item
/// limit.
const PART_ENTRIES: usize = 1_000;
/// Activity records written at once.
const WRITE_BATCH: usize = 100;
/// A new unit that finds its account's run unfinished continues it (a first segment that
/// was redelivered after writing records) unless the run is older than this.
const RESUME_WITHIN: Duration = Duration::hours(12);

/// Where a run is: the checkpoint item's data. Its entries are in checkpoint parts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Progress {
    run_id: String,
    full: bool,
    started_at: DateTime<Utc>,
    /// Incremental runs: only meetings that started at or after this.
    since: Option<DateTime<Utc>>,
    /// The report sweep's ranges; `None`: the reports were not readable.
    ranges: Option<Vec<(NaiveDate, NaiveDate)>>,
    entries: usize,
    /// The first entry not finished.
    next_entry: usize,
    /// Parts `0..parts` hold the entries, [`PART_ENTRIES`] each.
    parts: u32,
    /// Some call was refused for a missing scope (the next run is then full).
    #[serde(default)]
    partial: bool,
}

/// One user the run looks at, as planned: a host whose meetings to read, or a user whose
/// record changes (new, or a last login that moved).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    #[serde(rename = "k")]
    key: String,
    /// Read the user's meetings (users with a Zoom id, which is then their key).
    #[serde(rename = "h", default, skip_serializing_if = "std::ops::Not::not")]
    host: bool,
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    last_login: Option<DateTime<Utc>>,
    /// The stored record's dates when the run was planned (`None`: no record).
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    stored: Option<ActivityDates>,
    /// Meetings the report counts per range (index into [`Progress::ranges`]).
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    hosted: Vec<(usize, u64)>,
}

impl Entry {
    /// The record the user gets once the entry is done: the login as listed, the later
    /// meeting created, the joins as stored (joins found move on separately). `None`: the
    /// stored record stays.
    fn record(&self, created: Option<DateTime<Utc>>, account_id: &str) -> Option<UserAccess> {
        let stored = self.stored.unwrap_or_default();
        let dates = ActivityDates {
            last_login: self.last_login,
            last_meeting_created: created.max(stored.last_meeting_created),
            last_meeting_joined: stored.last_meeting_joined,
        };
        (self.stored != Some(dates)).then(|| UserAccess {
            user_key: self.key.clone(),
            account_id: account_id.to_owned(),
            dates,
        })
    }
}

/// One checkpoint part: a slice of the run's entries, in key order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Part {
    entries: Vec<Entry>,
}

/// What the plan keeps of a listed user.
#[derive(Debug, Serialize, Deserialize)]
struct Listed {
    #[serde(rename = "i")]
    has_id: bool,
    #[serde(rename = "e")]
    email: String,
    #[serde(rename = "l", default)]
    last_login: Option<DateTime<Utc>>,
}

/// The account's users as Zoom lists them now, in scratch tables: by key (with what the plan
/// needs) and by lower-case e-mail (to the key).
struct Members {
    by_key: SortedTable,
    by_email: SortedTable,
    count: u64,
}

async fn list_members(ctx: &UnitCtx<'_>) -> Result<Members, SyncError> {
    let listed = account_users(ctx, |u| Listed {
        has_id: u.id.is_some(),
        email: u.email.to_lowercase(),
        last_login: u.last_login_time,
    })
    .await?;
    let mut emails: Spill<String> = Spill::new(ctx.options.scratch_run_items);
    let mut count = 0u64;
    let by_key = SortedTable::write(listed.map(|user| {
        let (key, listed) = user?;
        count += 1;
        emails.push(listed.email.clone(), key.clone())?;
        Ok::<_, SyncError>((
            key,
            serde_json::to_string(&listed).map_err(io::Error::from)?,
        ))
    }))?;
    let by_email = SortedTable::write(emails.into_sorted()?)?;
    Ok(Members {
        by_key,
        by_email,
        count,
    })
}

pub(crate) async fn run(ctx: &mut UnitCtx<'_>) -> Result<UnitProgress, SyncError> {
    let cid = ctx.connection.connection_id.clone();
    let task = ctx.unit.task.as_str().to_owned();
    let account_id = ctx.account.account_id.clone();
    let checkpoint = ctx.store.get_checkpoint(&cid, &task, &account_id).await?;
    let gaps = ScopeGaps::new(ctx.account.kind == AccountKind::Master);
    let now = ctx.now();
    let (members, mut progress) = match resume(ctx, checkpoint.as_ref()) {
        Some(progress) => (list_members(ctx).await?, progress),
        None => {
            let (full, since) = full_or_incremental(ctx, checkpoint.as_ref());
            let ranges = report_ranges(full, since, now);
            // The report (Heavy) is read while the users are listed (Medium): the budget of
            // neither waits for the other before the unit's first host.
            let (members, rows) =
                futures::try_join!(list_members(ctx), report_rows(ctx, &gaps, &ranges))?;
            let progress = plan(ctx, full, since, ranges, rows, &members).await?;
            ctx.count(if full { "full" } else { "incremental" }, 1);
            // Saved before any record is written: the plan's choices depend on the stored
            // records, so a restart continues this plan instead of making another.
            save_progress(ctx, checkpoint.as_ref(), &progress).await?;
            (members, progress)
        }
    };
    ctx.count("users", members.count);

    let first = progress.next_entry;
    let (since, ranges) = (progress.since, progress.ranges.clone());
    let run_id = progress.run_id.clone();
    let mut finished_ahead: BTreeSet<usize> = BTreeSet::new();
    let mut tally = Tally::default();
    let mut joins = Joins::new(ctx.options.scratch_run_items);
    // Records of finished entries, written with the joins when the segment ends (one write
    // per user however both moved).
    let mut records: Spill<UserAccess> = Spill::new(ctx.options.scratch_run_items);
    let mut stopped = false;
    // The next unit of the batch plans from here on; it starts its hosts once this unit has
    // `host_concurrency` entries left to start (the turn ends near the end of the entries,
    // below): a unit's first hosts all wait for their meeting list, and started only after
    // the last hosts before them, they left the budget a quarter idle for 0.1 s at every
    // change of account (BENCHMARKS.md, session 12).
    let hosts_turn = std::sync::Mutex::new(ctx.take_host_turn().await);
    let end_turn = || drop(hosts_turn.lock().ok().and_then(|mut turn| turn.take()));
    let last_entries = progress
        .entries
        .saturating_sub(ctx.options.host_concurrency.max(1));
    {
        let ctx: &UnitCtx<'_> = ctx;
        let (gaps, ranges, run_id) = (&gaps, ranges.as_deref(), run_id.as_str());
        // The entries from `first` on, a part at a time, looked at `host_concurrency` at
        // once, each result recorded when it comes (a host with many meetings does not hold
        // back the others); `next_entry` advances only past an unbroken run of finished
        // entries, so it stays "the first entry not finished" for the checkpoint (entries
        // finished beyond it are done again after a stop: their writes only repeat).
        let entries = stream::iter(first / PART_ENTRIES..progress.parts as usize)
            .then(move |seq| load_part(ctx, run_id, seq))
            .map_ok(move |(seq, part)| {
                stream::iter(
                    part.entries
                        .into_iter()
                        .enumerate()
                        .map(move |(i, entry)| Ok::<_, SyncError>((seq * PART_ENTRIES + i, entry))),
                )
            })
            .try_flatten()
            .try_filter(move |(position, _)| std::future::ready(*position >= first))
            .inspect_ok(|(position, _)| {
                if *position >= last_entries {
                    end_turn();
                }
            })
            .chain(stream::poll_fn(|_| {
                end_turn();
                std::task::Poll::Ready(None)
            }));
        let results = entries
            .map(|entry| async move {
                let (position, entry) = entry?;
                let activity = if entry.host {
                    let counts = ranges.map(|r| range_counts(r, &entry.hosted));
                    Some(host_activity(ctx, gaps, &entry.key, since, now, counts).await?)
                } else {
                    None
                };
                Ok::<_, SyncError>((position, entry, activity))
            })
            .buffer_unordered(ctx.options.host_concurrency.max(1));
        let mut results = std::pin::pin!(results);
        while let Some(result) = results.next().await {
            match result {
                Ok((position, entry, activity)) => {
                    let created = activity.as_ref().and_then(|a| a.created);
                    if let Some(activity) = activity {
                        tally.host(&activity);
                        joins.add(activity)?;
                    }
                    if let Some(record) = entry.record(created, &account_id) {
                        records.push(record.user_key.clone(), record)?;
                    }
                    finished_ahead.insert(position);
                    while finished_ahead.remove(&progress.next_entry) {
                        progress.next_entry += 1;
                    }
                }
                Err(SyncError::Zoom(ZoomError::DeadlineExceeded { .. })) => {
                    stopped = true;
                    break;
                }
                Err(e @ SyncError::Store(StoreError::NotFound(_))) => {
                    // A part of the plan is gone (e.g. its TTL): the run cannot go on; the
                    // next unit plans a full run instead of resuming this one.
                    abandon(ctx, checkpoint.as_ref()).await?;
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
            // Stop only once the checkpoint moves (a segment always gets somewhere).
            if ctx.out_of_time()
                && progress.next_entry > first
                && progress.next_entry < progress.entries
            {
                stopped = true;
                break;
            }
        }
    }
    // A segment that stopped early ends its turn here.
    end_turn();
    // What this segment found is written before the checkpoint says it is done.
    joins.write(ctx, &members, records, &mut tally).await?;
    tally.count(ctx);
    gaps.save(ctx, now).await?;
    ctx.count(SCOPE_GAPS, gaps.count());
    progress.partial |= gaps.count() > 0;
    if stopped {
        return save_and_continue(ctx, checkpoint, progress).await;
    }

    let previous_full = checkpoint.as_ref().and_then(|c| c.last_full_run_at);
    let version = current_version(ctx, &cid, &task, &account_id).await?;
    ctx.store
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
            // A run that missed fields makes the next one full (nothing is looked back for
            // once the scope is there).
            data: if progress.partial {
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

/// A host's report counts as ranges.
fn range_counts(ranges: &[(NaiveDate, NaiveDate)], hosted: &[(usize, u64)]) -> RangeCounts {
    hosted
        .iter()
        .filter_map(|&(w, n)| ranges.get(w).map(|r| (*r, n)))
        .collect()
}

/// The segment's counts.
#[derive(Debug, Default)]
struct Tally {
    hosts: u64,
    participant_lists: u64,
    report_lookups: u64,
    /// Activity records written (entries done, joins of this account's users moved).
    written: u64,
    joins_other_accounts: u64,
    joins_other_accounts_written: u64,
    join_ids_outside: u64,
}

impl Tally {
    fn host(&mut self, activity: &HostActivity) {
        self.hosts += 1;
        self.participant_lists += activity.participant_lists;
        self.report_lookups += activity.report_lookups;
    }

    fn count(&self, ctx: &mut UnitCtx<'_>) {
        ctx.count("hosts", self.hosts);
        ctx.count("participant_lists", self.participant_lists);
        ctx.count("report_lookups", self.report_lookups);
        ctx.count("written", self.written);
        ctx.count("joins_other_accounts", self.joins_other_accounts);
        ctx.count(
            "joins_other_accounts_written",
            self.joins_other_accounts_written,
        );
        ctx.count("join_ids_outside", self.join_ids_outside);
    }
}

/// Joins found and not written yet: the latest per Zoom user id, and per e-mail (rows
/// without an id), held in scratch space beyond `EngineOptions::scratch_run_items` users;
/// written when the segment ends (once per user and segment, however many meetings they
/// joined).
struct Joins {
    by_id: Latest,
    by_email: Latest,
}

impl Joins {
    fn new(in_memory: usize) -> Self {
        Self {
            by_id: Latest::new(in_memory),
            by_email: Latest::new(in_memory),
        }
    }

    fn add(&mut self, activity: HostActivity) -> io::Result<()> {
        for (id, at) in activity.joins {
            self.by_id.add(id, at)?;
        }
        for (email, at) in activity.email_joins {
            self.by_email.add(email, at)?;
        }
        Ok(())
    }

    /// Writes the segment's records and joins, a batch at a time as the merges
    /// ([`writes_by_id`], [`writes_by_email`]) find them.
    async fn write(
        self,
        ctx: &UnitCtx<'_>,
        members: &Members,
        records: Spill<UserAccess>,
        tally: &mut Tally,
    ) -> Result<(), SyncError> {
        let by_id = writes_by_id(
            self.by_id.into_sorted()?,
            records.into_sorted()?,
            members.by_key.scan()?,
        );
        let by_email = writes_by_email(self.by_email.into_sorted()?, members.by_email.scan()?);
        let mut pending = Pending::default();
        for write in by_id.chain(by_email) {
            pending.push(write?);
            pending.flush(ctx, tally, WRITE_BATCH).await?;
        }
        pending.flush(ctx, tally, 1).await
    }
}

/// One write of a segment's end.
#[derive(Debug, PartialEq)]
enum Write {
    /// A finished entry's record, with the latest join of its user the segment found.
    Record(UserAccess),
    /// A join of this account's user whose record the segment did not change.
    Own(String, DateTime<Utc>),
    /// A join by an id this account's listing does not have: another account's user (the
    /// connection-wide index names it) or someone from outside.
    Other(String, DateTime<Utc>),
}

/// The writes of the joins by id and of the finished entries' records: joins, records and
/// the listing are all in key order (a user's key is their id), so this is one merge, and it
/// yields each write as it comes (memory: one item of each source, however far apart the
/// joins are).
fn writes_by_id(
    joins: impl Iterator<Item = io::Result<(String, DateTime<Utc>)>>,
    records: impl Iterator<Item = io::Result<(String, UserAccess)>>,
    listed: impl Iterator<Item = io::Result<(String, String)>>,
) -> impl Iterator<Item = io::Result<Write>> {
    let (mut joins, mut records, mut listed) =
        (joins.peekable(), records.peekable(), listed.peekable());
    std::iter::from_fn(move || {
        let record_first = match (joins.peek(), records.peek()) {
            // A record's read error comes out first.
            (_, Some(Err(_))) | (None, _) => true,
            (Some(Ok((id, _))), Some(Ok((key, _)))) => key < id,
            _ => false,
        };
        if record_first {
            return records
                .next()
                .map(|r| r.map(|(_, record)| Write::Record(record)));
        }
        let (id, at) = match joins.next()? {
            Ok(join) => join,
            Err(e) => return Some(Err(e)),
        };
        let write = || -> io::Result<Write> {
            if value_at(&mut listed, &id)?.is_none() {
                return Ok(Write::Other(id, at));
            }
            if let Some(Ok((key, _))) = records.peek()
                && *key == id
                && let Some(record) = records.next()
            {
                let mut record = record?.1;
                record.dates.last_meeting_joined = record.dates.last_meeting_joined.max(Some(at));
                return Ok(Write::Record(record));
            }
            Ok(Write::Own(id, at))
        };
        Some(write())
    })
}

/// The writes of the joins by e-mail (rows without an id): the listed user with that e-mail,
/// found in the listing's e-mail table (both in e-mail order: one merge); e-mails nobody in
/// the account has are people from outside.
fn writes_by_email(
    joins: impl Iterator<Item = io::Result<(String, DateTime<Utc>)>>,
    emails: impl Iterator<Item = io::Result<(String, String)>>,
) -> impl Iterator<Item = io::Result<Write>> {
    let mut emails = emails.peekable();
    joins.filter_map(move |join| {
        join.and_then(|(email, at)| {
            Ok(value_at(&mut emails, &email)?.map(|key| Write::Own(key, at)))
        })
        .transpose()
    })
}

/// Writes waiting for a batch: records (the joins stored move on with them), joins of this
/// account's users, joins of others.
#[derive(Default)]
struct Pending {
    records: Vec<UserAccess>,
    own: Vec<(String, DateTime<Utc>)>,
    others: Vec<(String, DateTime<Utc>)>,
}

impl Pending {
    fn push(&mut self, write: Write) {
        match write {
            Write::Record(record) => self.records.push(record),
            Write::Own(key, at) => self.own.push((key, at)),
            Write::Other(id, at) => self.others.push((id, at)),
        }
    }

    /// Writes each kind that has `at_least` waiting (1: everything).
    async fn flush(
        &mut self,
        ctx: &UnitCtx<'_>,
        tally: &mut Tally,
        at_least: usize,
    ) -> Result<(), SyncError> {
        if self.records.len() >= at_least {
            tally.written += ctx
                .store
                .upsert_access(&ctx.connection.connection_id, &self.records)
                .await? as u64;
            self.records.clear();
        }
        if self.own.len() >= at_least {
            write_own(ctx, &mut self.own, tally).await?;
        }
        if self.others.len() >= at_least {
            write_others(ctx, &mut self.others, tally).await?;
        }
        Ok(())
    }
}

/// Joins of this account's users: their records here move forward (a user the unit has not
/// written yet gets one).
async fn write_own(
    ctx: &UnitCtx<'_>,
    own: &mut Vec<(String, DateTime<Utc>)>,
    tally: &mut Tally,
) -> Result<(), SyncError> {
    let (cid, account_id, store) = (
        ctx.connection.connection_id.as_str(),
        ctx.account.account_id.as_str(),
        ctx.store,
    );
    let moved: Vec<bool> = stream::iter(own.drain(..))
        .map(|(key, at)| async move { store.advance_joined(cid, account_id, &key, at).await })
        .buffer_unordered(JOIN_WRITES_AT_ONCE)
        .try_collect()
        .await?;
    tally.written += moved.iter().filter(|m| **m).count() as u64;
    Ok(())
}

/// Joins by ids this account's listing does not have: the account the connection-wide index
/// names, or someone from outside.
async fn write_others(
    ctx: &UnitCtx<'_>,
    others: &mut Vec<(String, DateTime<Utc>)>,
    tally: &mut Tally,
) -> Result<(), SyncError> {
    let (cid, store) = (ctx.connection.connection_id.as_str(), ctx.store);
    let outcomes: Vec<(bool, bool)> = stream::iter(others.drain(..))
        .map(|(id, at)| async move {
            match store.locate_user_id(cid, &id).await? {
                Some((account, key)) => {
                    let moved = store.advance_joined(cid, &account, &key, at).await?;
                    Ok::<_, StoreError>((true, moved))
                }
                None => Ok((false, false)),
            }
        })
        .buffer_unordered(JOIN_WRITES_AT_ONCE)
        .try_collect()
        .await?;
    let known = outcomes.iter().filter(|(k, _)| *k).count() as u64;
    tally.joins_other_accounts += known;
    tally.joins_other_accounts_written += outcomes.iter().filter(|(_, m)| *m).count() as u64;
    tally.join_ids_outside += outcomes.len() as u64 - known;
    Ok(())
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

/// The run to continue, if the checkpoint holds one: the run a follow-up message continues,
/// or (a new unit) an unfinished run of the account younger than [`RESUME_WITHIN`] that does
/// at least what the unit asks for.
fn resume(ctx: &UnitCtx<'_>, checkpoint: Option<&Checkpoint>) -> Option<Progress> {
    let progress: Progress =
        checkpoint.and_then(|c| serde_json::from_value(c.data.clone()).ok())?;
    let resumes = match ctx.unit.continues_run.as_deref() {
        Some(run_id) => run_id == progress.run_id,
        None => {
            ctx.started_at - progress.started_at < RESUME_WITHIN
                && (progress.full || ctx.unit.mode != Mode::Full)
        }
    };
    resumes.then_some(progress)
}

/// Part `seq` of the run's entries (`seq` and the entries, in key order).
async fn load_part(
    ctx: &UnitCtx<'_>,
    run_id: &str,
    seq: usize,
) -> Result<(usize, Part), SyncError> {
    let seq32 = u32::try_from(seq).map_err(|_| SyncError::Invalid("checkpoint part".into()))?;
    let mut parts = ctx
        .store
        .checkpoint_parts(
            &ctx.connection.connection_id,
            ctx.unit.task.as_str(),
            &ctx.account.account_id,
            run_id,
            seq32..seq32 + 1,
        )
        .await?;
    let part = parts
        .pop()
        .and_then(|p| serde_json::from_value::<Part>(p.data).ok())
        .ok_or_else(|| {
            tracing::warn!(run_id, seq, "checkpoint part missing or unreadable");
            SyncError::Store(StoreError::NotFound(format!(
                "part {seq} of run {run_id}'s checkpoint"
            )))
        })?;
    Ok((seq, part))
}

/// Saves the run's progress in the checkpoint (the watermark and last full run stay).
async fn save_progress(
    ctx: &UnitCtx<'_>,
    checkpoint: Option<&Checkpoint>,
    progress: &Progress,
) -> Result<Checkpoint, SyncError> {
    let (cid, task, account_id) = (
        &ctx.connection.connection_id,
        ctx.unit.task.as_str(),
        &ctx.account.account_id,
    );
    let version = current_version(ctx, cid, task, account_id).await?;
    Ok(ctx
        .store
        .put_checkpoint(&Checkpoint {
            connection_id: cid.clone(),
            task: task.to_owned(),
            account_id: account_id.clone(),
            watermark: checkpoint.and_then(|c| c.watermark),
            cursor: Some(progress.next_entry.to_string()),
            last_full_run_at: checkpoint.and_then(|c| c.last_full_run_at),
            data: serde_json::to_value(progress).map_err(|e| SyncError::Invalid(e.to_string()))?,
            updated_at: ctx.now(),
            version,
        })
        .await?)
}

/// Drops the run from the checkpoint (the watermark and last full run stay) and marks it
/// partial, so that the next unit plans a full run.
async fn abandon(ctx: &UnitCtx<'_>, checkpoint: Option<&Checkpoint>) -> Result<(), SyncError> {
    let (cid, task, account_id) = (
        &ctx.connection.connection_id,
        ctx.unit.task.as_str(),
        &ctx.account.account_id,
    );
    let version = current_version(ctx, cid, task, account_id).await?;
    ctx.store
        .put_checkpoint(&Checkpoint {
            connection_id: cid.clone(),
            task: task.to_owned(),
            account_id: account_id.clone(),
            watermark: checkpoint.and_then(|c| c.watermark),
            cursor: None,
            last_full_run_at: checkpoint.and_then(|c| c.last_full_run_at),
            data: serde_json::json!({ PARTIAL: true }),
            updated_at: ctx.now(),
            version,
        })
        .await?;
    Ok(())
}

/// Saves how far the run got and asks for a follow-up. The follow-up's deduplication id is
/// the checkpoint's new version: a redelivered segment that saves the same state sends the
/// same follow-up, and a segment that stopped without progress still sends a new one.
async fn save_and_continue(
    ctx: &mut UnitCtx<'_>,
    checkpoint: Option<Checkpoint>,
    progress: Progress,
) -> Result<UnitProgress, SyncError> {
    ctx.count("checkpointed_at_host", progress.next_entry as u64);
    let saved = save_progress(ctx, checkpoint.as_ref(), &progress).await?;
    let mut next = Unit::new(
        ctx.unit.task,
        &ctx.connection.connection_id,
        &ctx.account.account_id,
        ctx.unit.mode,
    );
    next.continues_run = Some(progress.run_id);
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
    let partial = checkpoint.is_some_and(|c| {
        c.data.get(PARTIAL).is_some_and(|p| p == true)
            || serde_json::from_value::<Progress>(c.data.clone()).is_ok_and(|p| p.partial)
    });
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

/// The report's counts by host key, in key order.
struct HostCounts {
    rows: std::iter::Peekable<Sorted<(usize, u64)>>,
}

impl HostCounts {
    /// The counts of `key` per range (keys asked in ascending order; rows of smaller keys,
    /// hosts the listing does not have, are passed over).
    fn take(&mut self, key: &str) -> Result<Vec<(usize, u64)>, SyncError> {
        let mut counts: Vec<(usize, u64)> = Vec::new();
        loop {
            match self.rows.peek() {
                Some(Ok((k, _))) if k.as_str() <= key => {
                    let same = k == key;
                    if let Some(Ok((_, (range, n)))) = self.rows.next()
                        && same
                    {
                        // A page repeated after an expired token: once per range.
                        counts.retain(|(r, _)| *r != range);
                        counts.push((range, n));
                    }
                }
                Some(Err(_)) => {
                    return Err(match self.rows.next() {
                        Some(Err(e)) => e.into(),
                        _ => SyncError::Scratch(io::Error::other("report counts")),
                    });
                }
                _ => return Ok(counts),
            }
        }
    }
}

/// The report's rows: how many meetings each host held per range (`GET /report/users?type=
/// active`, Heavy: a page per 300 hosts), by id, and by e-mail for rows without one. `None`
/// when the app may not read the reports.
struct ReportRows {
    by_key: Spill<(usize, u64)>,
    by_email: Spill<(usize, u64)>,
}

async fn report_rows(
    ctx: &UnitCtx<'_>,
    gaps: &ScopeGaps,
    ranges: &[(NaiveDate, NaiveDate)],
) -> Result<Option<ReportRows>, SyncError> {
    let run_items = ctx.options.scratch_run_items;
    let mut found = ReportRows {
        by_key: Spill::new(run_items),
        by_email: Spill::new(run_items),
    };
    // Every range's pages at once: the pages of one range follow each other, and a unit
    // that read the ranges one after the other left the budget idle while it planned.
    let mut rows = stream::select_all(ranges.iter().enumerate().map(|(range, (from, to))| {
        ctx.api()
            .report_users(ReportUserType::Active, *from, *to)
            .repeats_allowed()
            .stream()
            .map_ok(move |row| (range, row))
            .boxed()
    }));
    loop {
        let (range, row) = match rows.try_next().await {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                // Refused for a missing scope: noted, no reports; anything else fails.
                gaps.check::<()>(Need::Reports, Err(e))?;
                return Ok(None);
            }
        };
        let Some(n) = row.meetings else { continue };
        let n = n.max(0) as u64;
        match row.id.filter(|id| !id.is_empty()) {
            Some(id) => found.by_key.push(id, (range, n))?,
            None => found.by_email.push(row.email.to_lowercase(), (range, n))?,
        }
    }
    gaps.check(Need::Reports, Ok(()))?;
    Ok(Some(found))
}

impl ReportRows {
    /// The counts by host key: rows without an id are the listed user with that e-mail (in
    /// e-mail order, against the listing's e-mail table: one merge).
    fn by_host(self, members: &Members) -> Result<HostCounts, SyncError> {
        let Self {
            mut by_key,
            by_email,
        } = self;
        let mut emails = members.by_email.scan()?.peekable();
        for row in by_email.into_sorted()? {
            let (email, counts) = row?;
            if let Some(key) = value_at(&mut emails, &email)? {
                by_key.push(key, counts)?;
            }
        }
        Ok(HostCounts {
            rows: by_key.into_sorted()?.peekable(),
        })
    }
}

/// Plans a run: the listing merged with the stored records and the report sweep, all in key
/// order, into entries saved as checkpoint parts. Hosts: everyone with an id (full run, or no
/// reports), or (incremental) users whose last login moved, new users, and the hosts of the
/// report.
async fn plan(
    ctx: &UnitCtx<'_>,
    full: bool,
    since: Option<DateTime<Utc>>,
    ranges: Vec<(NaiveDate, NaiveDate)>,
    rows: Option<ReportRows>,
    members: &Members,
) -> Result<Progress, SyncError> {
    let mut hosted = rows.map(|r| r.by_host(members)).transpose()?;
    let mut progress = Progress {
        run_id: ctx.run_id.clone(),
        full,
        started_at: ctx.started_at,
        since,
        ranges: hosted.is_some().then_some(ranges),
        entries: 0,
        next_entry: 0,
        parts: 0,
        partial: false,
    };
    let (cid, account_id) = (&ctx.connection.connection_id, &ctx.account.account_id);
    let mut stored = ctx.store.list_account_access(cid, account_id);
    let mut next_stored = stored.try_next().await?;
    let mut part = Part::default();
    for user in members.by_key.scan()? {
        let (key, listed) = user?;
        let listed: Listed = serde_json::from_str(&listed).map_err(io::Error::from)?;
        while let Some(s) = next_stored.as_ref()
            && s.user_key < key
        {
            let previous = s.user_key.clone();
            next_stored = stored.try_next().await?;
            if next_stored.as_ref().is_some_and(|n| n.user_key <= previous) {
                return Err(SyncError::Invalid(
                    "the store listed the account's activity out of key order".into(),
                ));
            }
        }
        let stored_dates = next_stored
            .as_ref()
            .filter(|s| s.user_key == key)
            .map(|s| s.dates);
        let counts = match hosted.as_mut() {
            Some(h) => h.take(&key)?,
            None => Vec::new(),
        };
        let changed = stored_dates.is_none_or(|d| d.last_login != listed.last_login);
        let host =
            listed.has_id && (full || progress.ranges.is_none() || changed || !counts.is_empty());
        if !host && !changed {
            continue;
        }
        part.entries.push(Entry {
            key,
            host,
            last_login: listed.last_login,
            stored: stored_dates,
            hosted: counts,
        });
        progress.entries += 1;
        if part.entries.len() == PART_ENTRIES {
            save_part(ctx, &mut progress, std::mem::take(&mut part)).await?;
        }
    }
    if !part.entries.is_empty() {
        save_part(ctx, &mut progress, part).await?;
    }
    Ok(progress)
}

async fn save_part(
    ctx: &UnitCtx<'_>,
    progress: &mut Progress,
    part: Part,
) -> Result<(), SyncError> {
    ctx.store
        .put_checkpoint_part(&CheckpointPart {
            connection_id: ctx.connection.connection_id.clone(),
            task: ctx.unit.task.as_str().to_owned(),
            account_id: ctx.account.account_id.clone(),
            run_id: progress.run_id.clone(),
            seq: progress.parts,
            data: serde_json::to_value(&part).map_err(|e| SyncError::Invalid(e.to_string()))?,
        })
        .await?;
    progress.parts += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minute)
    }

    /// A full part of the longest entries (e-mail keys of 100 characters, every date, six
    /// report ranges) fits a DynamoDB item with room to spare.
    #[test]
    fn a_full_part_fits_an_item() {
        let entries = (0..PART_ENTRIES)
            .map(|i| Entry {
                key: format!("email:{}{i:06}@example.com", "x".repeat(75)),
                host: true,
                last_login: Some(at(i as i64)),
                stored: Some(ActivityDates {
                    last_login: Some(at(1)),
                    last_meeting_created: Some(at(2)),
                    last_meeting_joined: Some(at(3)),
                }),
                hosted: (0..6).map(|r| (r, 1_000 + r as u64)).collect(),
            })
            .collect();
        let part = Part { entries };
        let size = serde_json::to_vec(&part).unwrap().len();
        assert!(size < 350 * 1024, "a full part is {size} bytes");
        let back: Part = serde_json::from_value(serde_json::to_value(&part).unwrap()).unwrap();
        assert_eq!(back.entries, part.entries);
    }

    fn record(key: &str, joined: Option<DateTime<Utc>>) -> UserAccess {
        UserAccess {
            user_key: key.into(),
            account_id: "a".into(),
            dates: ActivityDates {
                last_login: Some(at(1)),
                last_meeting_created: None,
                last_meeting_joined: joined,
            },
        }
    }

    fn ok<T>(items: Vec<(&str, T)>) -> impl Iterator<Item = io::Result<(String, T)>> {
        items.into_iter().map(|(k, v)| Ok((k.to_owned(), v)))
    }

    /// The merge of joins, records and the listing: a record before the next join goes as it
    /// is, a join of a listed user with a record moves that record (to the later date), one
    /// without a record is the user's own write, an id the listing lacks is someone else's.
    #[test]
    fn writes_by_id_merge_joins_records_and_listing() {
        let listed = ok(["a", "b", "c", "e", "f", "g"]
            .into_iter()
            .map(|k| (k, String::new()))
            .collect());
        let records = ok(vec![
            ("a", record("a", None)),
            ("c", record("c", Some(at(50)))),
            ("e", record("e", Some(at(5)))),
            ("g", record("g", None)),
        ]);
        let joins = ok(vec![
            ("b", at(10)),
            ("c", at(20)),
            ("d", at(30)),
            ("e", at(40)),
            ("f", at(60)),
        ]);
        let writes: Vec<Write> = writes_by_id(joins, records, listed)
            .collect::<io::Result<_>>()
            .unwrap();
        assert_eq!(
            writes,
            vec![
                Write::Record(record("a", None)),
                Write::Own("b".into(), at(10)),
                // The stored join is later than the one found: it stays.
                Write::Record(record("c", Some(at(50)))),
                Write::Other("d".into(), at(30)),
                Write::Record(record("e", Some(at(40)))),
                Write::Own("f".into(), at(60)),
                Write::Record(record("g", None)),
            ]
        );
    }

    /// The merge reads no further than the write it yields: records far from any join are
    /// written a batch at a time instead of piling up until the next join (at 200,000 users
    /// they held 4 MB: BENCHMARKS.md, session 14).
    #[test]
    fn writes_by_id_read_one_record_per_write() {
        let pulled = std::cell::Cell::new(0usize);
        let keys: Vec<String> = (0..1_000).map(|i| format!("u{i:04}")).collect();
        let records = keys.iter().map(|k| {
            pulled.set(pulled.get() + 1);
            Ok((k.clone(), record(k, None)))
        });
        let listed = keys.iter().map(|k| Ok((k.clone(), String::new())));
        let joins = ok(vec![("u9999", at(1))]);
        let mut writes = writes_by_id(joins, records, listed);
        for n in 1..=150 {
            assert!(matches!(writes.next(), Some(Ok(Write::Record(_)))));
            assert!(
                pulled.get() <= n + 1,
                "{} records read for {n} writes",
                pulled.get()
            );
        }
        assert_eq!(writes.count(), 851, "the other records and the join");
    }

    /// Joins by e-mail are the listed user with that e-mail; unknown e-mails are dropped.
    #[test]
    fn writes_by_email_find_the_listed_user() {
        let emails = ok(vec![("a@x", "ka".to_owned()), ("c@x", "kc".to_owned())]);
        let joins = ok(vec![("a@x", at(1)), ("b@x", at(2)), ("c@x", at(3))]);
        let writes: Vec<Write> = writes_by_email(joins, emails)
            .collect::<io::Result<_>>()
            .unwrap();
        assert_eq!(
            writes,
            vec![
                Write::Own("ka".into(), at(1)),
                Write::Own("kc".into(), at(3))
            ]
        );
    }

    /// A read error of any source ends the merge with that error.
    #[test]
    fn writes_by_id_pass_read_errors_on() {
        fn broken<T>() -> impl Iterator<Item = io::Result<T>> {
            std::iter::once(Err(io::Error::other("scratch")))
        }
        let listed = || ok(vec![("a", String::new())]);
        assert!(
            writes_by_id(broken(), ok(vec![("a", record("a", None))]), listed())
                .any(|w| w.is_err())
        );
        assert!(writes_by_id(ok(vec![("a", at(1))]), broken(), listed()).any(|w| w.is_err()));
        assert!(
            writes_by_id(
                ok(vec![("a", at(1))]),
                ok(Vec::<(&str, UserAccess)>::new()),
                broken()
            )
            .any(|w| w.is_err())
        );
    }

    /// An entry's record: the login as listed, the later meeting created, the joins as stored;
    /// nothing when that is what is stored.
    #[test]
    fn an_entry_writes_only_what_moves() {
        let stored = ActivityDates {
            last_login: Some(at(10)),
            last_meeting_created: Some(at(20)),
            last_meeting_joined: Some(at(30)),
        };
        let entry = Entry {
            key: "u1".into(),
            host: true,
            last_login: Some(at(10)),
            stored: Some(stored),
            hosted: Vec::new(),
        };
        assert_eq!(entry.record(None, "a"), None);
        assert_eq!(entry.record(Some(at(15)), "a"), None, "an older find");
        let moved = entry.record(Some(at(25)), "a").unwrap();
        assert_eq!(
            moved.dates,
            ActivityDates {
                last_meeting_created: Some(at(25)),
                ..stored
            }
        );
        let login = Entry {
            last_login: Some(at(40)),
            ..entry.clone()
        };
        assert_eq!(
            login.record(None, "a").unwrap().dates.last_login,
            Some(at(40))
        );
        // A new user gets a record even with no dates at all.
        let new = Entry {
            last_login: None,
            stored: None,
            ..entry
        };
        assert_eq!(
            new.record(None, "a").unwrap().dates,
            ActivityDates::default()
        );
    }
}
