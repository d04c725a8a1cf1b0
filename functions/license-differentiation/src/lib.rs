//! The license-differentiation function: a schedule event plans and fans out one SQS message per
//! (connection, account); SQS batches run units (partial batch failures); a direct invoke
//! `{"connection_id": …, "account_id": …}` runs units inline. Logic: `sync-engine`;
//! events and wiring: `lambda-wiring`.

use sync_engine::Task;

pub const TASK: Task = Task::LicenseDifferentiation;
