//! The license-information function: a schedule event plans and fans out one SQS message per
//! (connection, account); SQS batches run units (partial batch failures); a direct invoke
//! `{"connection_id": …, "account_id": …}` runs units inline. Logic: `sync-engine`.

use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;
use sync_engine::{SyncEngine, Task};

pub const TASK: Task = Task::LicenseInformation;

pub async fn handler(engine: &SyncEngine, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    Ok(sync_engine::runtime::handle(engine, TASK, payload, context.deadline).await?)
}
