//! The use case: select users from the stored roster and activity, re-check each one live at
//! Zoom, act (or, in a dry run, say what would be done), audit, summarize.
//!
//! - `run`: [`Reclaimer::handle`] / [`Reclaimer::run`] and execute: the connection and data
//!   checks, the cap, the lease, the audit.
//! - `selection`: the users a request is about, and what the stored records decide already.
//! - `acting`: the live re-check of one user and the change (or what would be done).
//! - `journal`: each user's audit entry: an intent before the Zoom change, completed after.
//! - `restore`: undoing an earlier request (reactivate), resolving entries left as intents.
//! - `response`: the lines, the summary, the response.
//! - `notices`: notify-then-reclaim's notify step and the notice's text.
//! - `opportunities`: its reclaim-notified step (selection from the recorded opportunities,
//!   and their states after the run) and the history.
//!
//! The rules themselves (paid seats, who is never changed, the threshold) are
//! `sync_domain::reclamation`'s.

mod acting;
mod journal;
mod notices;
mod opportunities;
mod response;
mod restore;
mod run;
mod selection;

use std::sync::Arc;
use std::time::Duration;

use ports::{
    AccountStore, AuditStore, ConnectionStore, LeaseStore, Notifier, OpportunityStore, Store,
    UserStore,
};
pub use sync_domain::Clock;

pub use response::{
    DRY_RUN_LIVE_CHECKS, MAX_LISTED_USERS, Outcome, ReclamationResponse, Summary, UserResult,
    reason,
};

use crate::gateway::ZoomConnector;

/// A request holds its lease this long at most (Lambda's 15 minutes plus margin).
const LEASE_TTL: Duration = Duration::from_secs(16 * 60);

/// The integration task whose completion dates the activity data (its name in
/// `ConnectionRecord::tasks`).
pub const ACCESS_TASK: &str = "application-access";

/// The record stores reclamation reads and writes.
#[derive(Clone)]
pub struct Stores {
    pub connections: Arc<dyn ConnectionStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub users: Arc<dyn UserStore>,
    pub audit: Arc<dyn AuditStore>,
    pub leases: Arc<dyn LeaseStore>,
    /// Notify-then-reclaim's opportunities.
    pub opportunities: Arc<dyn OpportunityStore>,
}

impl Stores {
    /// Every store from one implementation of all of them (the table).
    pub fn from_store<S: Store + OpportunityStore + 'static>(r: Arc<S>) -> Self {
        Self {
            connections: r.clone(),
            accounts: r.clone(),
            users: r.clone(),
            audit: r.clone(),
            opportunities: r.clone(),
            leases: r,
        }
    }
}

/// The reclamation use case.
pub struct Reclaimer {
    stores: Stores,
    zoom: Arc<dyn ZoomConnector>,
    clock: Clock,
    /// Notify-then-reclaim's notices (`None`: not configured; notify execute is refused).
    notifier: Option<Arc<dyn Notifier>>,
}

impl Reclaimer {
    pub fn new(stores: Stores, zoom: Arc<dyn ZoomConnector>) -> Self {
        Self {
            stores,
            zoom,
            clock: sync_domain::system_clock(),
            notifier: None,
        }
    }

    /// Sends notify-then-reclaim's notices through `notifier`.
    pub fn with_notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
}
