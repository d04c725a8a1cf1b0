//! The engine's options (what a deployment may tune).

use std::time::Duration;

use crate::budget::BudgetTiming;

#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Application Access runs in full when the last full run is older than this.
    pub full_run_every: chrono::Duration,
    /// Stop this long before the invocation's deadline, checkpoint, and continue in a
    /// follow-up message.
    pub deadline_margin: Duration,
    /// Application Access looks at this many hosts at once, and at this many of a host's
    /// meetings at once (the limiter paces them; this only hides Zoom's latency).
    pub host_concurrency: usize,
    /// Heartbeat of the connection's budget split (`budget`).
    pub budget: BudgetTiming,
    /// The part of Zoom's daily Heavy cap Application Access may spend reading participant
    /// lists from the report API (Heavy) beside past meetings (Medium): a list goes there
    /// when Heavy's next slot comes sooner, while more than `1 - share` of the cap is left
    /// (the rest is for the account's other apps and tomorrow's report sweep). 0: Medium only.
    pub heavy_participants_share: f64,
    /// Users a unit sorts in memory before it writes them to scratch space (the temporary
    /// directory) as one sorted run: bounds a unit's memory whatever the account's size.
    pub scratch_run_items: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            full_run_every: chrono::Duration::days(7),
            deadline_margin: Duration::from_secs(60),
            host_concurrency: 16,
            budget: BudgetTiming::default(),
            heavy_participants_share: 0.5,
            scratch_run_items: crate::spill::RUN_ITEMS,
        }
    }
}
