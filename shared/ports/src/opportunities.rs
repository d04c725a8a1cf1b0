//! Reclamation opportunities (notify-then-reclaim, `docs/reclamation.md`): one record per user
//! of a connection, its current state and the history of its steps (opportunity → notified →
//! reclaimed, or kept because the user came back; restored when a reclaim is undone). Items of their own in the connection's
//! partition, `pk = CONN#{cid}`, `sk = OPP#{accountId}#{userKey}`, so the connection's purge
//! removes them with the rest of the partition. Every write is a compare-and-swap on
//! `version`: two runs never both move one user's opportunity.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// An opportunity keeps at most this many steps (the oldest are dropped; each cycle of
/// notify and reclaim adds two or three).
pub const MAX_OPPORTUNITY_STEPS: usize = 100;

/// Where a user's opportunity stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpportunityState {
    /// Selected by a notify run, the notice about to be sent (a run that ended here sent
    /// nothing that was recorded; a later notify run sends the notice).
    Opportunity,
    /// The notice was sent; the grace period runs until `grace_ends_at`.
    Notified,
    /// Deactivated or downgraded by a reclaim-notified run after the grace period.
    Reclaimed,
    /// The user came back (activity after the notice): nothing was done.
    Kept,
    /// No longer a candidate (became an admin, protected, left the account, …): nothing done.
    Skipped,
    /// The notice could not be sent: the user is not reclaimed from this notice.
    Failed,
    /// Reclaimed, then given back by a `reactivate` of the reclaiming request.
    Restored,
}

impl OpportunityState {
    pub const ALL: [Self; 7] = [
        Self::Opportunity,
        Self::Notified,
        Self::Reclaimed,
        Self::Kept,
        Self::Skipped,
        Self::Failed,
        Self::Restored,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opportunity => "opportunity",
            Self::Notified => "notified",
            Self::Reclaimed => "reclaimed",
            Self::Kept => "kept",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
            Self::Restored => "restored",
        }
    }
}

/// One step of an opportunity's history: the state it moved to, when, by whom, in which
/// request and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpportunityStep {
    pub state: OpportunityState,
    pub at: DateTime<Utc>,
    /// The request's `requested_by`.
    pub by: String,
    pub request_id: String,
    /// The request's `reason`.
    pub reason: String,
    /// What happened (the notice's message id, the activity that kept the user, …).
    pub detail: String,
}

/// One user's opportunity in a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpportunityRecord {
    pub connection_id: String,
    pub account_id: String,
    /// The user key of the roster (the Zoom user id).
    pub user_key: String,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub license_name: Option<String>,
    /// What the notice announced and the reclaim does: `deactivate` or `downgrade`.
    pub action: String,
    /// The inactivity (more than this many whole days) the user was selected on; the reclaim
    /// re-checks the same.
    pub inactive_days: u32,
    /// Days inactive when notified.
    pub days_inactive: Option<i64>,
    pub state: OpportunityState,
    /// When the notice was sent (the current cycle's).
    pub notified_at: Option<DateTime<Utc>>,
    /// The grace period's end: a reclaim-notified run acts from this instant on, not before.
    pub grace_ends_at: Option<DateTime<Utc>>,
    /// The notice's message id (SES).
    pub message_id: Option<String>,
    /// The executed request that reclaimed the user (its audit: `reactivate` with
    /// `restore_request_id` set to it undoes the change).
    pub reclaim_request_id: Option<String>,
    /// Every step, oldest first (at most [`MAX_OPPORTUNITY_STEPS`]).
    pub history: Vec<OpportunityStep>,
    /// Optimistic-concurrency counter, managed by the store (0: not stored yet).
    #[serde(default)]
    pub version: u64,
}

impl OpportunityRecord {
    /// A user's first opportunity: nothing recorded yet (state `opportunity`, no steps).
    pub fn new(connection_id: &str, account_id: &str, user_key: &str) -> Self {
        Self {
            connection_id: connection_id.to_owned(),
            account_id: account_id.to_owned(),
            user_key: user_key.to_owned(),
            user_id: None,
            email: None,
            license_name: None,
            action: String::new(),
            inactive_days: 0,
            days_inactive: None,
            state: OpportunityState::Opportunity,
            notified_at: None,
            grace_ends_at: None,
            message_id: None,
            reclaim_request_id: None,
            history: Vec::new(),
            version: 0,
        }
    }

    /// Moves the opportunity to `step.state` and appends the step to the history.
    pub fn record(&mut self, step: OpportunityStep) {
        self.state = step.state;
        self.history.push(step);
        if self.history.len() > MAX_OPPORTUNITY_STEPS {
            let extra = self.history.len() - MAX_OPPORTUNITY_STEPS;
            self.history.drain(..extra);
        }
    }

    /// Notified, and the grace period has ended at `now` (exactly at its end counts as ended).
    pub fn grace_ended(&self, now: DateTime<Utc>) -> bool {
        self.state == OpportunityState::Notified && self.grace_ends_at.is_some_and(|e| e <= now)
    }
}

/// The opportunities of a connection.
#[async_trait]
pub trait OpportunityStore: Send + Sync {
    async fn get_opportunity(
        &self,
        connection_id: &str,
        account_id: &str,
        user_key: &str,
    ) -> Result<Option<OpportunityRecord>, StoreError>;

    /// Compare-and-swap write: succeeds only if the stored version is `record.version`
    /// (0 = none stored). Returns the stored record (version + 1); `Err(ConditionFailed)` if
    /// another run changed it meanwhile.
    async fn put_opportunity(
        &self,
        record: &OpportunityRecord,
    ) -> Result<OpportunityRecord, StoreError>;

    /// Every opportunity of the connection, in (account, user key) order.
    fn list_opportunities<'a>(
        &'a self,
        connection_id: &'a str,
    ) -> BoxStream<'a, Result<OpportunityRecord, StoreError>>;
}
