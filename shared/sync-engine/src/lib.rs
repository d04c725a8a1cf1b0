//! The scheduled integration tasks (Application Roster, Application Access, License
//! Information, License Differentiation): planning and fan-out over SQS, units with
//! checkpoints, sync-run records. No AWS and no Lambda here: `lambda-wiring` builds the engine
//! with its AWS adapters and turns Lambda events into these calls.
//! Design: `docs/integration-tasks.md`.

pub mod budget;
pub mod clients;
pub mod engine;
mod error;
mod options;
pub mod queue;
mod spill;
mod tasks;
mod turns;
pub mod unit;

pub use budget::{BudgetTiming, share_of};
pub use clients::{ClientFactory, FixedClientFactory, VaultClientFactory};
pub use engine::{
    Clock, DirectReport, PlanReport, QueuedMessage, SyncEngine, UnitReport, system_clock,
};
pub use error::{FAILURE_REASONS, SyncError};
pub use options::EngineOptions;
pub use ports::ReclamationCandidate;
pub use queue::{MemoryQueue, UnitQueue};
pub use unit::{DirectInvoke, Mode, ScheduleEvent, Task, Unit};
