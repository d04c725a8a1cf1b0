//! Lambda entry point: JSON logs, configuration and the DynamoDB client built once, then the
//! handler. Needs the table only (no Zoom calls, no secrets).

use std::sync::Arc;

use connect_link::{LinkConfig, LinkMinter};
use lambda_runtime::Error;
use lambda_wiring::{Vars, Wiring};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_wiring::init_tracing();
    let vars = Vars::from_env();
    let config = LinkConfig::from_vars(&vars).map_err(lambda_wiring::refused)?;
    let wiring = Wiring::new(vars.aws()).await;
    let minter = LinkMinter {
        states: Arc::new(wiring.records()),
        config,
        clock: sync_domain::system_clock(),
    };
    lambda_wiring::serve_json(|payload, _deadline| {
        let minter = &minter;
        async move { minter.handle(&payload).await }
    })
    .await
}
