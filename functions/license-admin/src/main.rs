//! Lambda entry point: JSON logs, configuration and the DynamoDB client built once, then the
//! handler. Needs the table only (no Zoom calls, no secrets).

use std::sync::Arc;

use lambda_runtime::Error;
use lambda_wiring::{Vars, Wiring};
use license_admin::Admin;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_wiring::init_tracing();
    let wiring = Wiring::new(Vars::from_env().aws()).await;
    let admin = Arc::new(Admin::with_system_clock(Arc::new(wiring.records())));
    lambda_wiring::serve_json(|payload, _deadline| {
        let admin = &admin;
        async move { admin.handle(&payload).await }
    })
    .await
}
