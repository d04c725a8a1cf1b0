//! The store ports: small traits the use cases name, one per aggregate; the AWS adapters
//! implement them (DynamoDB, memory). Key layout: `docs/data-model.md`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::StoreError;
use crate::contracts::ContractStore;
use crate::records::*;

/// OAuth states live this long.
pub const OAUTH_STATE_TTL: chrono::Duration = chrono::Duration::minutes(10);
/// Sync-run records are deleted by TTL after this long.
pub const SYNC_RUN_RETENTION: chrono::Duration = chrono::Duration::days(400);

// ----- traits -----------------------------------------------------------------------------

#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// Stores a new connection; `Err(ConditionFailed)` if the id exists.
    async fn insert_connection(&self, record: &ConnectionRecord) -> Result<(), StoreError>;
    async fn get_connection(
        &self,
        connection_id: &str,
    ) -> Result<Option<ConnectionRecord>, StoreError>;
    /// The connection of a Zoom account (reconnecting updates it instead of adding another).
    async fn find_connection_by_zoom_account(
        &self,
        zoom_account_id: &str,
    ) -> Result<Option<ConnectionRecord>, StoreError>;
    /// Read-modify-write with optimistic concurrency (retried on conflict); `NotFound` if the
    /// connection does not exist. `change` answers whether to write: `false` leaves the stored
    /// record as it is (a change refused on what it found). Returns the record as stored.
    async fn update_connection_if(
        &self,
        connection_id: &str,
        change: &(dyn for<'r> Fn(&'r mut ConnectionRecord) -> bool + Send + Sync),
    ) -> Result<ConnectionRecord, StoreError>;

    /// [`Self::update_connection_if`] with a change that always writes.
    async fn update_connection(
        &self,
        connection_id: &str,
        change: &(dyn for<'r> Fn(&'r mut ConnectionRecord) + Send + Sync),
    ) -> Result<ConnectionRecord, StoreError> {
        self.update_connection_if(connection_id, &|c| {
            change(c);
            true
        })
        .await
    }
    async fn delete_connection(&self, connection_id: &str) -> Result<(), StoreError>;
    /// Every connection (through an index partition, never a Scan), in id order.
    fn list_connections(&self) -> BoxStream<'_, Result<ConnectionRecord, StoreError>>;

    /// Marks an active connection as needing re-authorization (a deauthorized one stays so).
    async fn mark_needs_reauthorization(
        &self,
        connection_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<ConnectionRecord, StoreError> {
        let reason = reason.to_owned();
        self.update_connection(connection_id, &move |c| {
            if c.status.is_active() {
                c.status = ConnectionStatus::NeedsReauthorization {
                    reason: reason.clone(),
                    since: at,
                };
            }
        })
        .await
    }

    /// Records the outcome of a task run on the connection.
    async fn record_task_outcome(
        &self,
        connection_id: &str,
        task: &str,
        outcome: Result<(), String>,
        at: DateTime<Utc>,
    ) -> Result<ConnectionRecord, StoreError> {
        self.record_unit_outcome(connection_id, task, None, outcome, at)
            .await
    }

    /// Brings the connection's missing-scope notes of `task` up to date: adds `missing` (one
    /// note per scope) and drops the task's earlier notes of the scopes in `confirmed` (calls
    /// that needed them succeeded).
    async fn update_missing_scopes(
        &self,
        connection_id: &str,
        task: &str,
        missing: Vec<MissingScopeNote>,
        confirmed: Vec<String>,
    ) -> Result<ConnectionRecord, StoreError> {
        let task = task.to_owned();
        self.update_connection(connection_id, &move |c| {
            c.missing_scopes
                .retain(|n| n.noticed_by != task || !confirmed.contains(&n.scope));
            for note in &missing {
                if !c.missing_scopes.iter().any(|n| n.scope == note.scope) {
                    c.missing_scopes.push(note.clone());
                }
            }
        })
        .await
    }

    /// Like [`Self::record_task_outcome`], for one account's unit: a success also stamps the
    /// account's completion (`TaskOutcome::account_success_at`).
    async fn record_unit_outcome(
        &self,
        connection_id: &str,
        task: &str,
        account_id: Option<&str>,
        outcome: Result<(), String>,
        at: DateTime<Utc>,
    ) -> Result<ConnectionRecord, StoreError> {
        let task = task.to_owned();
        let account_id = account_id.map(str::to_owned);
        self.update_connection(connection_id, &move |c| {
            let entry = c.tasks.entry(task.clone()).or_default();
            match &outcome {
                Ok(()) => {
                    entry.last_success_at = Some(at);
                    if let Some(a) = &account_id {
                        entry.account_success_at.insert(a.clone(), at);
                    }
                }
                Err(e) => {
                    entry.last_error_at = Some(at);
                    entry.last_error = Some(e.clone());
                }
            }
        })
        .await
    }
}

#[async_trait]
pub trait OAuthStateStore: Send + Sync {
    /// Stores a new state (`Err(ConditionFailed)` if that state value exists).
    async fn put_state(&self, record: &OAuthStateRecord) -> Result<(), StoreError>;
    /// Atomically removes and returns the state if it exists and has not expired at `now`.
    /// A second call with the same state returns `None`.
    async fn consume_state(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OAuthStateRecord>, StoreError>;
    /// Stores a new connect link (`Err(ConditionFailed)` if its key exists).
    async fn put_invite(&self, record: &ConnectInviteRecord) -> Result<(), StoreError>;
    /// Atomically removes and returns the link with `key` if it exists and has not expired
    /// at `now`: a link opens one authorization.
    async fn consume_invite(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectInviteRecord>, StoreError>;
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Writes (idempotently) the accounts of a connection and marks the ones not among them
    /// as removed at `at`. Returns how many were newly marked removed.
    async fn sync_accounts(
        &self,
        connection_id: &str,
        accounts: &[AccountRecord],
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError>;
    fn list_accounts<'a>(
        &'a self,
        connection_id: &'a str,
    ) -> BoxStream<'a, Result<AccountRecord, StoreError>>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Idempotent batch upsert of roster records (a removed user that is back is un-removed).
    async fn upsert_users(
        &self,
        connection_id: &str,
        users: &[UserRecord],
    ) -> Result<usize, StoreError>;
    /// Writes activity records: last login and latest meeting created as given, latest meeting
    /// joined the later of the given and the stored date (joins only move forward, whichever
    /// unit found them). Each item is compare-and-swapped, so concurrent writers of one user
    /// (another account's unit advancing a join) lose nothing. Returns the items changed.
    async fn upsert_access(
        &self,
        connection_id: &str,
        access: &[UserAccess],
    ) -> Result<usize, StoreError>;
    /// Moves one user's latest meeting joined forward to `at` (never back), creating the
    /// activity record if there is none. Returns whether it moved.
    async fn advance_joined(
        &self,
        connection_id: &str,
        account_id: &str,
        user_key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// The account and key of the connection's user with this Zoom user id (the
    /// connection-wide index), preferring an account where the user is not removed.
    async fn locate_user_id(
        &self,
        connection_id: &str,
        user_id: &str,
    ) -> Result<Option<(String, String)>, StoreError>;
    /// Activity records of one account (also of users no longer in the roster), in key order.
    fn list_account_access<'a>(
        &'a self,
        connection_id: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<UserAccess, StoreError>>;
    /// Users of one account with their activity, in key order, paginated underneath.
    fn list_users<'a>(
        &'a self,
        connection_id: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<UserView, StoreError>>;
    async fn get_user(
        &self,
        connection_id: &str,
        account_id: &str,
        user_key: &str,
    ) -> Result<Option<UserView>, StoreError>;
    /// The user with that Zoom id in any account of the connection.
    async fn find_user_by_id(
        &self,
        connection_id: &str,
        user_id: &str,
    ) -> Result<Option<UserView>, StoreError>;
    /// Users with that email (case-insensitive) in any account of the connection.
    async fn find_users_by_email(
        &self,
        connection_id: &str,
        email: &str,
    ) -> Result<Vec<UserView>, StoreError>;
}

#[async_trait]
pub trait LicenseStore: Send + Sync {
    /// Replaces the licenses of one account: writes `licenses`, deletes the account's others.
    async fn replace_account_licenses(
        &self,
        connection_id: &str,
        account_id: &str,
        licenses: &[LicenseRecord],
    ) -> Result<(), StoreError>;
    /// Licenses of the whole connection (every account), in (account, license) order.
    fn list_licenses<'a>(
        &'a self,
        connection_id: &'a str,
    ) -> BoxStream<'a, Result<LicenseRecord, StoreError>>;
    fn list_account_licenses<'a>(
        &'a self,
        connection_id: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<LicenseRecord, StoreError>>;
    /// Writes a license only if the account has no license with that id (License
    /// Differentiation's stand-in until License Information records it). `false`: it existed.
    async fn insert_license_if_missing(
        &self,
        connection_id: &str,
        license: &LicenseRecord,
    ) -> Result<bool, StoreError>;
    /// Replaces the activity figures of one account's licenses (License Differentiation's
    /// own items, so it and License Information never overwrite each other's writes; the
    /// listings join them into `LicenseRecord::activity`).
    async fn replace_account_license_activity(
        &self,
        connection_id: &str,
        account_id: &str,
        activity: &BTreeMap<String, LicenseActivity>,
    ) -> Result<(), StoreError>;
}

/// Reclamation candidates, per account (`CONN#{cid}#ACCT#{aid}` / `CAND#{key}`, outside the
/// `USER#` range the roster queries).
#[async_trait]
pub trait CandidateStore: Send + Sync {
    /// Writes candidates (each replaces its user's earlier one).
    async fn put_candidates(
        &self,
        connection_id: &str,
        candidates: &[ReclamationCandidate],
    ) -> Result<(), StoreError>;
    /// Deletes the candidates of these users of one account (no longer candidates).
    async fn delete_candidates(
        &self,
        connection_id: &str,
        account_id: &str,
        user_keys: &[String],
    ) -> Result<(), StoreError>;
    /// The candidates of one account, in user-key order.
    fn list_account_candidates<'a>(
        &'a self,
        connection_id: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<ReclamationCandidate, StoreError>>;
}

#[async_trait]
pub trait SyncRunStore: Send + Sync {
    /// Creates or overwrites a run record (same run id and start time = same item).
    async fn put_run(&self, run: &SyncRunRecord) -> Result<(), StoreError>;
    /// The newest runs of a task for a connection, newest first.
    async fn recent_runs(
        &self,
        connection_id: &str,
        task: &str,
        limit: usize,
    ) -> Result<Vec<SyncRunRecord>, StoreError>;
    async fn get_checkpoint(
        &self,
        connection_id: &str,
        task: &str,
        account_id: &str,
    ) -> Result<Option<Checkpoint>, StoreError>;
    /// Compare-and-swap: succeeds only if the stored checkpoint's version is
    /// `checkpoint.version` (0 = none stored yet). Returns the stored checkpoint (version + 1);
    /// `Err(ConditionFailed)` if someone else moved it.
    async fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<Checkpoint, StoreError>;
    async fn delete_checkpoint(
        &self,
        connection_id: &str,
        task: &str,
        account_id: &str,
    ) -> Result<(), StoreError>;
    /// Stores part `seq` of a run's checkpoint data (progress too big for the checkpoint item:
    /// DynamoDB items hold at most 400 KB). Rewriting a part replaces it.
    async fn put_checkpoint_part(&self, part: &CheckpointPart) -> Result<(), StoreError>;
    /// Parts `seqs` of a run, in order (fewer if some are missing).
    async fn checkpoint_parts(
        &self,
        connection_id: &str,
        task: &str,
        account_id: &str,
        run_id: &str,
        seqs: std::ops::Range<u32>,
    ) -> Result<Vec<CheckpointPart>, StoreError>;
    /// Deletes every run's parts of a task and account (the unit finished).
    async fn delete_checkpoint_parts(
        &self,
        connection_id: &str,
        task: &str,
        account_id: &str,
    ) -> Result<usize, StoreError>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Records a request once. `false`: that request id was already recorded (a replay).
    async fn begin_request(&self, request: &AuditRequest) -> Result<bool, StoreError>;
    async fn get_request(&self, request_id: &str) -> Result<Option<AuditRequest>, StoreError>;
    /// Records one user's entry of a request once (an intent before a Zoom change, or a
    /// finished entry). `false`: already recorded.
    async fn record_entry(&self, entry: &AuditEntry) -> Result<bool, StoreError>;
    /// Completes the `intent` entry of the same request and user with `entry` (whose state is
    /// not `intent`), only if the stored entry is still an intent: a completion never
    /// overwrites a finished entry. `false`: no intent is stored there (already completed, by
    /// this request or by a later `reactivate`, or never written).
    async fn complete_entry(&self, entry: &AuditEntry) -> Result<bool, StoreError>;
    /// A request's entries, in user-key order.
    fn list_request_entries<'a>(
        &'a self,
        request_id: &'a str,
    ) -> BoxStream<'a, Result<AuditEntry, StoreError>>;
    /// A user's entries across requests, oldest first.
    fn list_user_entries<'a>(
        &'a self,
        connection_id: &'a str,
        user_key: &'a str,
    ) -> BoxStream<'a, Result<AuditEntry, StoreError>>;
}

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes the lease for `ttl` if it is free, expired, or already `owner`'s (renewal).
    async fn acquire(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError>;
    /// Gives the lease back if `owner` still holds it. `false`: someone else holds it now.
    async fn release(&self, name: &str, owner: &str) -> Result<bool, StoreError>;
    async fn get_lease(&self, name: &str) -> Result<Option<Lease>, StoreError>;
}

/// Which of a connection's tasks are spending its Zoom budget now (one mark per task: each
/// task runs one unit per connection at a time).
#[async_trait]
pub trait BudgetStore: Send + Sync {
    /// Marks the task as running until `mark.until` (a later call renews it).
    async fn mark_running(&self, mark: &RunningTask) -> Result<(), StoreError>;
    /// Clears the task's mark if `owner` still holds it.
    async fn clear_running(
        &self,
        connection_id: &str,
        task: &str,
        owner: &str,
    ) -> Result<(), StoreError>;
    /// The connection's marks that have not expired at `now`.
    async fn running_tasks(
        &self,
        connection_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<RunningTask>, StoreError>;
    /// The latest pace a unit of the connection recorded.
    async fn learned_pace(&self, connection_id: &str) -> Result<Option<LearnedPace>, StoreError>;
    /// Records `pace` as the connection's latest (the last writer wins).
    async fn record_pace(&self, pace: &LearnedPace) -> Result<(), StoreError>;
}

/// Deletes everything the connector recorded for a connection (after deauthorization and its
/// retention period; Zoom's Marketplace rules want a customer's data gone after they remove
/// the app): the connection, its accounts, users (roster and activity), licenses, contracts,
/// reclamation opportunities, sync runs, checkpoints, its token-refresh lease and its users'
/// reclamation audit trail.
#[async_trait]
pub trait PurgeStore: Send + Sync {
    /// Removes all of it; returns the number of items deleted. Idempotent (a retry after a
    /// partial purge finds what is left: the connection's partition goes last).
    async fn purge_connection(&self, connection_id: &str) -> Result<usize, StoreError>;
}

/// Declares `Store` as all of the given ports, and implements it for whatever implements them
/// all (the list is written once).
macro_rules! every_store {
    ($first:path $(, $rest:path)* $(,)?) => {
        /// Every store the integration tasks and the functions use, at once: what one table
        /// provides. The integration tasks and license administration take it whole;
        /// reclamation and connect keep the few ports they use (`Arc<dyn Store>` upcasts to
        /// each).
        pub trait Store: $first $(+ $rest)* {}

        impl<T: $first $(+ $rest)*> Store for T {}
    };
}

every_store!(
    ConnectionStore,
    OAuthStateStore,
    AccountStore,
    UserStore,
    LicenseStore,
    CandidateStore,
    SyncRunStore,
    AuditStore,
    LeaseStore,
    BudgetStore,
    PurgeStore,
    ContractStore,
);
