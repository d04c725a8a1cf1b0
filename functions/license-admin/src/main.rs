//! Lambda entry point: JSON logs, configuration and the DynamoDB client built once, then the
//! handler. Needs the table only (no Zoom calls, no secrets).

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use lambda_wiring::{Vars, Wiring};
use license_admin::Admin;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_wiring::init_tracing();
    let wiring = Wiring::new(Vars::from_env().aws()).await;
    let admin = Arc::new(Admin::with_system_clock(Arc::new(wiring.records())));
    run(service_fn(move |event: LambdaEvent<Value>| {
        let admin = admin.clone();
        async move {
            admin
                .handle(&event.payload)
                .await
                .inspect_err(|e| tracing::warn!(error = %e, kind = e.kind(), "request refused"))
        }
    }))
    .await
}
