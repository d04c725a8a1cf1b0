//! Lambda entry point: JSON logs, configuration and clients built once, then the handler.
//! Reads the Zoom settings (`lambda_wiring::ZoomSettings`) and the AWS adapters' variables.

use std::sync::Arc;

use lambda_runtime::Error;
use lambda_wiring::{StartupError, Wiring, ZoomSettings};
use reclamation::{Reclaimer, Stores, ZoomUsersGateway};

/// The use case on the AWS adapters and the Zoom client (once per cold start).
async fn build(wiring: &Wiring, zoom: &ZoomSettings) -> Result<Reclaimer, StartupError> {
    let zoom_config = zoom.zoom_config(&wiring.app_secrets().await?)?;
    let vault = wiring.token_vault(&zoom_config)?;
    Ok(Reclaimer::new(
        Stores::from_store(Arc::new(wiring.records())),
        Arc::new(ZoomUsersGateway::new(zoom_config, vault)),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (wiring, zoom) = lambda_wiring::start_with_zoom().await?;
    let reclaimer = build(&wiring, &zoom)
        .await
        .map_err(lambda_wiring::refused)?;
    lambda_wiring::serve_json(|payload, _deadline| {
        let reclaimer = &reclaimer;
        async move { reclaimer.handle(&payload).await }
    })
    .await
}
