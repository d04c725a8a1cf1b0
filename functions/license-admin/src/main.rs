//! Lambda entry point: JSON logs, configuration and the DynamoDB and S3 clients built once,
//! then the handler. Needs the table and the files bucket (`ZTS_FILES_BUCKET`) only (no Zoom
//! calls, no secrets).

use std::sync::Arc;

use lambda_runtime::Error;
use lambda_wiring::{Vars, Wiring};
use license_admin::Admin;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_wiring::init_tracing();
    let vars = Vars::from_env();
    let files = vars.files()?;
    let wiring = Wiring::new(vars.aws()).await;
    let admin = Arc::new(
        Admin::with_system_clock(
            Arc::new(wiring.records()),
            Arc::new(wiring.files(&files.bucket)),
        )
        .with_link_ttl(files.link_ttl),
    );
    lambda_wiring::serve_json(|payload, _deadline| {
        let admin = &admin;
        async move { admin.handle(&payload).await }
    })
    .await
}
