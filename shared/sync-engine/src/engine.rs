//! The engine: planning and fan-out, running units with sync-run records and connection
//! outcomes, and the three ways work arrives (schedule, queued messages, direct invoke; their
//! Lambda event shapes are `lambda-wiring`'s).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use ports::{
    AccountKind, AccountRecord, ConnectionRecord, ConnectionStatus, RunStatus, Store, SyncRunRecord,
};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use zoom::ZoomClient;

use crate::budget::BudgetMember;
use crate::clients::ClientFactory;
use crate::queue::UnitQueue;
use crate::tasks::ctx::{SCOPE_GAPS, UnitCtx, UnitProgress};
use crate::turns::{HostTurn, Step, run_in_turns};
use crate::unit::{DirectInvoke, Mode, ScheduleEvent, Task, Unit};
use crate::{SyncError, tasks};

// Also reachable here, where they were first defined (`sync_engine::engine::…`).
pub use crate::options::EngineOptions;
pub use sync_domain::{Clock, system_clock};

/// Everything a task needs, built once per process.
#[derive(Clone)]
pub struct SyncEngine {
    pub store: Arc<dyn Store>,
    pub clients: Arc<dyn ClientFactory>,
    pub queue: Arc<dyn UnitQueue>,
    pub clock: Clock,
    pub options: EngineOptions,
}

/// What one unit did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitReport {
    pub unit: Unit,
    pub run: SyncRunRecord,
    /// A follow-up message continues the unit.
    pub continued: bool,
}

/// The result of planning (schedule event).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanReport {
    pub task: Option<Task>,
    pub connections: usize,
    pub skipped_connections: Vec<String>,
    pub failed_connections: Vec<(String, String)>,
    /// Active connections whose admin turned this task off (`ConnectionRecord::disabled_tasks`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub turned_off: Vec<String>,
    pub units: usize,
}

/// The result of a direct invoke.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectReport {
    pub connection_id: String,
    pub units: Vec<UnitReport>,
    pub failed: Vec<(String, String)>,
}

/// The `records_written` field of the "unit finished" log line (a metric): how many records of
/// the connection's data this run (or segment) of the unit wrote to the store, from the counts
/// its task keeps:
/// - Application Roster: user records written because they were new or changed (`written`)
///   plus stored users newly marked removed (`removed`); unchanged users are not written;
/// - Application Access: activity records changed (`written`, on the unit's last segment) plus
///   users of other accounts whose latest join moved forward (`joins_other_accounts_written`);
/// - License Information: the account's license records, all rewritten (`licenses`);
/// - License Differentiation: the account's license-activity records (`licenses`) and
///   reclamation candidates (`candidates`), both rewritten (stand-in licenses it inserts for
///   licenses License Information has not recorded yet are not counted).
///
/// Bookkeeping (sync-run records, checkpoints, connection outcomes) is not counted.
pub(crate) fn records_written(task: Task, counts: &BTreeMap<String, u64>) -> u64 {
    let written_by: &[&str] = match task {
        Task::ApplicationRoster => &["written", "removed"],
        Task::ApplicationAccess => &["written", "joins_other_accounts_written"],
        Task::LicenseInformation => &["licenses"],
        Task::LicenseDifferentiation => &["licenses", "candidates"],
    };
    written_by
        .iter()
        .map(|name| counts.get(*name).copied().unwrap_or(0))
        .fold(0, u64::saturating_add)
}

/// A run record of `unit` starting at `started_at` (status running, nothing counted yet).
fn new_run(unit: &Unit, started_at: DateTime<Utc>) -> SyncRunRecord {
    SyncRunRecord {
        run_id: format!("{}-{}", started_at.format("%Y%m%dT%H%M%S"), random_id()),
        connection_id: unit.connection_id.clone(),
        task: unit.task.as_str().to_owned(),
        account_id: Some(unit.account_id.clone()),
        started_at,
        finished_at: None,
        status: RunStatus::Running,
        counts: BTreeMap::new(),
        requests_by_endpoint: BTreeMap::new(),
        rate_limited: 0,
        retries: 0,
        duration_ms: 0,
        error: None,
    }
}

fn random_id() -> String {
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

impl SyncEngine {
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Refreshes a connection's accounts from Zoom (master via `me`, sub accounts via
    /// `GET /accounts`) and stores them (accounts gone from Zoom are marked removed).
    pub async fn refresh_accounts(
        &self,
        connection: &ConnectionRecord,
        client: &ZoomClient,
    ) -> Result<Vec<AccountRecord>, SyncError> {
        let master = client.me().get().await?;
        let mut accounts = vec![AccountRecord {
            account_id: master.id.clone(),
            kind: AccountKind::Master,
            name: Some(master.account_name.clone()).filter(|s| !s.is_empty()),
            owner_email: master.owner_email.clone(),
            account_type: master.account_type.clone(),
            seats: master.seats.and_then(|s| u64::try_from(s).ok()),
            created_at: master.created_at,
            removed_at: None,
        }];
        let mut subs = client.sub_accounts().stream();
        while let Some(sub) = subs.try_next().await? {
            if sub.id.is_empty() || sub.id == master.id {
                continue;
            }
            accounts.push(AccountRecord {
                account_id: sub.id.clone(),
                kind: AccountKind::Sub,
                name: Some(sub.account_name.clone()).filter(|s| !s.is_empty()),
                owner_email: Some(sub.owner_email.clone()).filter(|s| !s.is_empty()),
                account_type: sub.account_type.clone(),
                seats: sub.seats.and_then(|s| u64::try_from(s).ok()),
                created_at: sub.created_at,
                removed_at: None,
            });
        }
        self.store
            .sync_accounts(&connection.connection_id, &accounts, self.now())
            .await?;
        Ok(accounts)
    }

    async fn stored_accounts(&self, cid: &str) -> Result<Vec<AccountRecord>, SyncError> {
        let accounts: Vec<AccountRecord> = self.store.list_accounts(cid).try_collect().await?;
        Ok(accounts
            .into_iter()
            .filter(|a| a.removed_at.is_none())
            .collect())
    }

    /// The accounts a connection's units cover: fresh from Zoom for tasks that call Zoom,
    /// the stored ones for License Differentiation.
    async fn accounts_for(
        &self,
        connection: &ConnectionRecord,
        task: Task,
    ) -> Result<Vec<AccountRecord>, SyncError> {
        if task.uses_zoom() {
            let client = self.clients.client(connection, task).await?;
            self.refresh_accounts(connection, &client).await
        } else {
            self.stored_accounts(&connection.connection_id).await
        }
    }

    /// Schedule event: every active connection, every account, one message each.
    pub async fn plan(&self, task: Task, mode: Mode) -> Result<PlanReport, SyncError> {
        let salt = format!("{}-{}", self.now().format("%Y%m%dT%H%M%S"), random_id());
        let connections: Vec<ConnectionRecord> =
            self.store.list_connections().try_collect().await?;
        let mut report = PlanReport {
            task: Some(task),
            ..Default::default()
        };
        for connection in connections {
            let cid = connection.connection_id.clone();
            if !connection.status.is_active() {
                // Said again at every planning, so the alarm keeps notifying until an admin
                // connects the account again.
                if let ConnectionStatus::NeedsReauthorization { reason, since } = &connection.status
                {
                    tracing::warn!(
                        alert = ports::NEEDS_REAUTHORIZATION,
                        connection_id = %cid,
                        task = %task,
                        %since,
                        reason = %reason,
                        "connection skipped: it needs re-authorization"
                    );
                }
                report.skipped_connections.push(cid);
                continue;
            }
            if !connection.task_enabled(task) {
                report.turned_off.push(cid);
                continue;
            }
            report.connections += 1;
            let units = match self.accounts_for(&connection, task).await {
                Ok(accounts) => accounts
                    .iter()
                    .map(|a| Unit::new(task, &cid, &a.account_id, mode))
                    .collect::<Vec<_>>(),
                Err(e) => {
                    tracing::warn!(connection_id = %cid, task = %task, error = %e, "planning failed for a connection");
                    self.record_failure(&cid, task, &e).await;
                    report.failed_connections.push((cid, e.to_string()));
                    continue;
                }
            };
            self.queue.send(&units, &salt).await?;
            report.units += units.len();
        }
        tracing::info!(
            task = %task,
            connections = report.connections,
            skipped = report.skipped_connections.len(),
            turned_off = report.turned_off.len(),
            failed = report.failed_connections.len(),
            units = report.units,
            "planned"
        );
        Ok(report)
    }

    /// Records a failed unit or plan on the connection: invalid grant → needs
    /// re-authorization; anything else → the task's last error.
    pub(crate) async fn record_failure(&self, cid: &str, task: Task, error: &SyncError) {
        let now = self.now();
        let message = match error.daily_reset() {
            Some(reset) => format!("{error}; resumes after the daily reset at {reset}"),
            None => error.to_string(),
        };
        if error.is_invalid_grant() {
            let marked = self
                .store
                .mark_needs_reauthorization(
                    cid,
                    "the Zoom grant is no longer valid (invalid_grant)",
                    now,
                )
                .await;
            // One alert per dead grant: when the token vault found it dead, it has marked the
            // connection (at its own time) and said so already.
            let marked_here = matches!(
                marked.as_ref().map(|c| &c.status),
                Ok(ConnectionStatus::NeedsReauthorization { since, .. }) if *since == now
            );
            if marked_here {
                tracing::warn!(
                    alert = ports::NEEDS_REAUTHORIZATION,
                    connection_id = %cid,
                    task = %task,
                    "connection needs re-authorization: the Zoom grant is no longer valid"
                );
            }
        }
        if let Err(e) = self
            .store
            .record_task_outcome(cid, task.as_str(), Err(message), now)
            .await
        {
            tracing::warn!(connection_id = %cid, error = %e, "could not record the task outcome");
        }
    }

    /// Runs one unit (or one segment of it, up to `deadline`) and writes its sync-run record.
    pub async fn run_unit(
        &self,
        unit: &Unit,
        deadline: Option<Instant>,
    ) -> Result<UnitReport, SyncError> {
        self.run_unit_in_turn(unit, deadline, None).await
    }

    /// Runs a unit in its turn ([`crate::turns`]), giving the unit back with the result.
    async fn run_in_turn(
        &self,
        unit: Unit,
        deadline: Option<Instant>,
        turn: HostTurn,
    ) -> (Unit, Result<UnitReport, SyncError>) {
        let result = self.run_unit_in_turn(&unit, deadline, Some(turn)).await;
        (unit, result)
    }

    /// [`Self::run_unit`], taking `turn` (if any) before it looks at hosts.
    pub(crate) async fn run_unit_in_turn(
        &self,
        unit: &Unit,
        deadline: Option<Instant>,
        turn: Option<HostTurn>,
    ) -> Result<UnitReport, SyncError> {
        let cid = unit.connection_id.as_str();
        let connection = self
            .store
            .get_connection(cid)
            .await?
            .ok_or_else(|| SyncError::UnknownConnection(cid.to_owned()))?;
        if !connection.status.is_active() {
            return Err(SyncError::Inactive {
                connection_id: cid.to_owned(),
                state: match connection.status {
                    ConnectionStatus::NeedsReauthorization { .. } => "needs re-authorization",
                    ConnectionStatus::Deauthorized { .. } => "deauthorized",
                    ConnectionStatus::Active => "active",
                },
            });
        }
        let started = Instant::now();
        let started_at = self.now();
        if !connection.task_enabled(unit.task) {
            return Ok(self.skipped(unit, started_at).await);
        }
        let client = if unit.task.uses_zoom() {
            // Counters of its own: the next unit of the batch may start before this one ends.
            let c = self
                .clients
                .client(&connection, unit.task)
                .await?
                .with_own_counters();
            // Zoom calls end half the margin before the invocation's deadline: the unit then
            // still has time to record its outcome and answer its batch before Lambda stops it.
            Some(match deadline {
                Some(d) => {
                    c.with_deadline(d.checked_sub(self.options.deadline_margin / 2).unwrap_or(d))
                }
                None => c,
            })
        } else {
            None
        };
        let mut run = new_run(unit, started_at);
        let budget = match &client {
            Some(c) if self.clients.per_task_clients() => Some(
                BudgetMember::join(
                    self.store.clone(),
                    cid,
                    unit.task,
                    &run.run_id,
                    c.rate_limiter().clone(),
                    self.options.budget,
                )
                .await,
            ),
            _ => None,
        };
        let result = self
            .run_body(&connection, unit, client.clone(), deadline, turn, &run)
            .await;
        if let Some(member) = budget {
            member.leave().await;
        }
        let metrics = client.as_ref().map(ZoomClient::metrics).unwrap_or_default();
        run.finished_at = Some(self.now());
        run.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        run.requests_by_endpoint = metrics.requests_by_endpoint.clone();
        run.rate_limited = metrics.rate_limited_429;
        run.retries = metrics.retries;
        let outcome = match result {
            Ok((counts, outcome)) => {
                run.counts = counts;
                run.counts.insert("requests".into(), metrics.requests);
                outcome
            }
            Err(e) => {
                run.status = RunStatus::Failed;
                run.error = Some(e.to_string());
                run.counts.insert("requests".into(), metrics.requests);
                let _ = self.store.put_run(&run).await;
                self.record_failure(cid, unit.task, &e).await;
                tracing::warn!(
                    task = %unit.task, connection_id = %cid, account_id = %unit.account_id,
                    run_id = %run.run_id, requests = metrics.requests, error = %e,
                    reason = e.failure_reason(),
                    "unit failed"
                );
                return Err(e);
            }
        };
        let continued = match outcome {
            UnitProgress::Done => {
                run.status = RunStatus::Succeeded;
                false
            }
            UnitProgress::Continue { next, segment } => {
                run.status = RunStatus::Continued;
                self.queue.send(&[next], &segment).await?;
                true
            }
        };
        self.store.put_run(&run).await?;
        if !continued {
            // A unit that could not collect every field (a missing scope) succeeded, but the
            // account's data is not complete: reclamation does not count it as completed.
            let complete = run.counts.get(SCOPE_GAPS).copied().unwrap_or(0) == 0;
            self.store
                .record_unit_outcome(
                    cid,
                    unit.task.as_str(),
                    complete.then_some(unit.account_id.as_str()),
                    Ok(()),
                    self.now(),
                )
                .await?;
        }
        tracing::info!(
            task = %unit.task,
            connection_id = %cid,
            account_id = %unit.account_id,
            run_id = %run.run_id,
            status = ?run.status,
            counts = ?run.counts,
            requests = metrics.requests,
            rate_limited = run.rate_limited,
            retries = run.retries,
            duration_ms = run.duration_ms,
            records_written = records_written(unit.task, &run.counts),
            "unit finished"
        );
        Ok(UnitReport {
            unit: unit.clone(),
            run,
            continued,
        })
    }

    /// A unit of a task the admin turned off for its connection (queued before, or invoked
    /// directly): nothing runs; the run record says so.
    async fn skipped(&self, unit: &Unit, at: DateTime<Utc>) -> UnitReport {
        let mut run = new_run(unit, at);
        run.finished_at = Some(at);
        run.status = RunStatus::Skipped;
        if let Err(e) = self.store.put_run(&run).await {
            tracing::warn!(run_id = %run.run_id, error = %e, "could not record the skipped run");
        }
        tracing::info!(
            task = %unit.task,
            connection_id = %unit.connection_id,
            account_id = %unit.account_id,
            "unit skipped: the task is turned off for the connection"
        );
        UnitReport {
            unit: unit.clone(),
            run,
            continued: false,
        }
    }

    async fn run_body(
        &self,
        connection: &ConnectionRecord,
        unit: &Unit,
        client: Option<ZoomClient>,
        deadline: Option<Instant>,
        host_turn: Option<HostTurn>,
        run: &SyncRunRecord,
    ) -> Result<(BTreeMap<String, u64>, UnitProgress), SyncError> {
        let mut accounts = self.stored_accounts(&connection.connection_id).await?;
        if !accounts.iter().any(|a| a.account_id == unit.account_id)
            && let Some(c) = &client
        {
            accounts = self.refresh_accounts(connection, c).await?;
        }
        let account = accounts
            .into_iter()
            .find(|a| a.account_id == unit.account_id)
            .ok_or_else(|| {
                SyncError::Invalid(format!(
                    "account {} is not an account of connection {}",
                    unit.account_id, connection.connection_id
                ))
            })?;
        let mut ctx = UnitCtx {
            store: self.store.as_ref(),
            clock: &self.clock,
            options: &self.options,
            connection,
            account: &account,
            unit,
            client,
            deadline,
            host_turn,
            run_id: run.run_id.clone(),
            started_at: run.started_at,
            counts: BTreeMap::new(),
        };
        let outcome = match unit.task {
            Task::ApplicationRoster => tasks::roster::run(&mut ctx).await?,
            Task::ApplicationAccess => tasks::access::run(&mut ctx).await?,
            Task::LicenseInformation => tasks::licenses::run(&mut ctx).await?,
            Task::LicenseDifferentiation => tasks::differentiation::run(&mut ctx).await?,
        };
        Ok((ctx.counts, outcome))
    }

    /// Direct invoke: the connection's units (one account or all), inline, in turns
    /// ([`crate::turns`]); follow-up segments of long units run inline too.
    pub async fn run_direct(
        &self,
        task: Task,
        request: &DirectInvoke,
        deadline: Option<Instant>,
    ) -> Result<DirectReport, SyncError> {
        let mode = request.mode().map_err(SyncError::Invalid)?;
        let cid = request.connection_id.as_str();
        let connection = self
            .store
            .get_connection(cid)
            .await?
            .ok_or_else(|| SyncError::UnknownConnection(cid.to_owned()))?;
        let accounts: Vec<String> = match &request.account_id {
            Some(a) => vec![a.clone()],
            None => self
                .accounts_for(&connection, task)
                .await?
                .into_iter()
                .map(|a| a.account_id)
                .collect(),
        };
        let mut report = DirectReport {
            connection_id: cid.to_owned(),
            ..Default::default()
        };
        let inline = InlineQueue::default();
        let engine = SyncEngine {
            queue: Arc::new(inline.clone()),
            ..self.clone()
        };
        let queue = accounts
            .into_iter()
            .map(|account_id| {
                let unit = Unit::new(task, cid, &account_id, mode);
                (account_id, unit)
            })
            .collect();
        run_in_turns(
            queue,
            |unit, turn| engine.run_in_turn(unit, deadline, turn),
            || false,
            |account_id, _, result| match result {
                Ok(r) => {
                    report.units.push(r);
                    inline.take_for(&account_id).map_or(Step::Next, Step::Then)
                }
                Err(e) => {
                    report.failed.push((account_id, e.to_string()));
                    Step::Next
                }
            },
        )
        .await;
        Ok(report)
    }

    /// Schedule event: plans the task in the event's mode (an event for another task is refused).
    pub async fn on_schedule(
        &self,
        task: Task,
        event: &ScheduleEvent,
    ) -> Result<PlanReport, SyncError> {
        if event.task != task {
            return Err(SyncError::Invalid(format!(
                "schedule event for {} sent to {task}",
                event.task
            )));
        }
        let mode = event.mode().map_err(SyncError::Invalid)?;
        self.plan(task, mode).await
    }

    /// A batch of queued messages: runs each message's unit and returns the ids of the
    /// messages to deliver again: failures that may succeed later, unreadable bodies and
    /// messages for another task (the queue redelivers them, then moves them to the DLQ).
    /// FIFO order: the first failure ends the batch, and every message after it is returned
    /// unprocessed; so is the rest of the batch once the invocation is within the deadline
    /// margin, before a unit starts.
    pub async fn run_messages(
        &self,
        task: Task,
        messages: impl IntoIterator<Item = QueuedMessage>,
        deadline: Option<Instant>,
    ) -> Vec<String> {
        let mut redeliver = Vec::new();
        let mut queue = VecDeque::new();
        let mut pending = messages.into_iter();
        while let Some(message) = pending.next() {
            let id = message.id;
            match serde_json::from_str::<Unit>(&message.body) {
                Ok(unit) if unit.task == task => {
                    queue.push_back((id, unit));
                    continue;
                }
                Err(e) => tracing::error!(message_id = %id, error = %e, "unreadable message"),
                Ok(unit) => {
                    tracing::error!(message_id = %id, unit_task = %unit.task, "message for another task")
                }
            }
            redeliver.push(id);
            redeliver.extend(pending.by_ref().map(|m| m.id));
        }
        let mut failed = Vec::new();
        let margin = self.options.deadline_margin;
        let not_run = run_in_turns(
            queue,
            |unit, turn| self.run_in_turn(unit, deadline, turn),
            || {
                let out_of_time = deadline.is_some_and(|d| Instant::now() + margin >= d);
                if out_of_time {
                    tracing::warn!(
                        "deadline margin reached: the rest of the batch is delivered again"
                    );
                }
                out_of_time
            },
            |id, _, result| match result {
                Err(e) if e.is_retryable() => {
                    failed.push(id);
                    Step::Stop
                }
                _ => Step::Next,
            },
        )
        .await;
        failed.into_iter().chain(not_run).chain(redeliver).collect()
    }
}

/// One message from the units' queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// Reported back when the message should be delivered again.
    pub id: String,
    /// A [`Unit`] as JSON.
    pub body: String,
}

/// Follow-ups of a direct invoke stay in the invocation.
#[derive(Clone, Default)]
struct InlineQueue(Arc<std::sync::Mutex<Vec<Unit>>>);

impl InlineQueue {
    /// The follow-up of `account_id`'s unit, if it sent one.
    fn take_for(&self, account_id: &str) -> Option<Unit> {
        let mut units = self.0.lock().ok()?;
        let at = units.iter().position(|u| u.account_id == account_id)?;
        Some(units.remove(at))
    }
}

#[async_trait::async_trait]
impl UnitQueue for InlineQueue {
    async fn send(&self, units: &[Unit], _salt: &str) -> Result<(), SyncError> {
        if let Ok(mut v) = self.0.lock() {
            v.extend(units.iter().cloned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn records_written_counts_what_each_task_writes() {
        // Roster: 40 listed, 30 tracked of which 4 written (new or changed) and 2 marked
        // removed; the unchanged and the untracked are not written.
        let roster = counts(&[
            ("listed", 40),
            ("tracked", 30),
            ("written", 4),
            ("skipped_untracked", 10),
            ("removed", 2),
            ("requests", 3),
        ]);
        assert_eq!(records_written(Task::ApplicationRoster, &roster), 6);
        // Access: lookups are reads; 7 own records and 2 other accounts' users written.
        let access = counts(&[
            ("users", 30),
            ("hosts", 12),
            ("participant_lists", 20),
            ("report_lookups", 9),
            ("written", 7),
            ("joins_other_accounts", 5),
            ("joins_other_accounts_written", 2),
            ("join_ids_outside", 3),
            ("requests", 50),
        ]);
        assert_eq!(records_written(Task::ApplicationAccess, &access), 9);
        // A segment that stopped at a checkpoint wrote no records of its own.
        let segment = counts(&[("hosts", 1), ("checkpointed_at_host", 1), ("requests", 4)]);
        assert_eq!(records_written(Task::ApplicationAccess, &segment), 0);
        let licenses = counts(&[
            ("users", 30),
            ("licenses", 3),
            ("zoom_figures", 1),
            ("zoom_differs", 0),
        ]);
        assert_eq!(records_written(Task::LicenseInformation, &licenses), 3);
        let differentiation = counts(&[("users", 30), ("licenses", 3), ("candidates", 5)]);
        assert_eq!(
            records_written(Task::LicenseDifferentiation, &differentiation),
            8
        );
        assert_eq!(
            records_written(Task::ApplicationRoster, &BTreeMap::new()),
            0
        );
    }
}
