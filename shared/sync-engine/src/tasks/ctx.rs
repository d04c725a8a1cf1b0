//! What a task body gets for one unit and what it gives back. The engine builds the context
//! from its parts (store, clock, options) and the unit's connection, account and Zoom client;
//! the tasks never see the engine itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ports::{AccountKind, AccountRecord, ConnectionRecord, Store};
use sync_domain::Clock;
use tokio::time::Instant;
use zoom::ZoomClient;

use crate::options::EngineOptions;
use crate::turns::HostTurn;
use crate::unit::Unit;

/// The count a unit sets when Zoom refused some of its calls for a missing scope.
pub(crate) const SCOPE_GAPS: &str = "scope_gaps";

/// Context a task body gets for one unit.
pub(crate) struct UnitCtx<'a> {
    pub(crate) store: &'a dyn Store,
    pub(crate) clock: &'a Clock,
    pub(crate) options: &'a EngineOptions,
    pub(crate) connection: &'a ConnectionRecord,
    pub(crate) account: &'a AccountRecord,
    pub(crate) unit: &'a Unit,
    pub(crate) client: Option<ZoomClient>,
    pub(crate) deadline: Option<Instant>,
    /// Taken before looking at hosts when units overlap ([`crate::turns`]).
    pub(crate) host_turn: Option<HostTurn>,
    pub(crate) run_id: String,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) counts: BTreeMap<String, u64>,
}

impl UnitCtx<'_> {
    pub(crate) fn zoom(&self) -> &ZoomClient {
        self.client
            .as_ref()
            .expect("tasks that call Zoom get a client")
    }

    /// The account's API: `me` for the master, the master prefix for sub accounts.
    pub(crate) fn api(&self) -> zoom::AccountApi {
        match self.account.kind {
            AccountKind::Master => self.zoom().me(),
            AccountKind::Sub => self.zoom().account(self.account.account_id.clone()),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Whether the invocation should stop and continue in a follow-up message.
    pub(crate) fn out_of_time(&self) -> bool {
        self.deadline
            .is_some_and(|d| Instant::now() + self.options.deadline_margin >= d)
    }

    /// Waits for the unit before this one to start its last host (and lets the next unit
    /// start); the turn lasts while the guard is held. `None` when the unit runs alone.
    pub(crate) async fn take_host_turn(&mut self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.host_turn.take() {
            Some(turn) => Some(turn.take().await),
            None => None,
        }
    }

    pub(crate) fn count(&mut self, name: &str, n: u64) {
        *self.counts.entry(name.to_owned()).or_default() += n;
    }

    pub(crate) fn settings(&self) -> sync_domain::ConnectionSettings {
        self.connection.settings
    }
}

/// How a task body's run of a unit ended (not `ports::TaskOutcome`, a connection's per-task
/// status record).
pub(crate) enum UnitProgress {
    Done,
    /// Stopped at a checkpoint; continue with this unit. `segment` names the checkpoint (run
    /// and cursor), so a redelivered segment that reaches the same checkpoint sends a follow-up
    /// with the same FIFO deduplication id instead of a second one.
    Continue {
        next: Unit,
        segment: String,
    },
}
