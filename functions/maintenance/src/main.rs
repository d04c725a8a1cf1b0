//! Lambda entry point: JSON logs, configuration and clients built once, then the handler.
//! Reads the Zoom settings (`lambda_wiring::ZoomSettings`, for the idle-token refresh) and the
//! AWS adapters' variables.

use std::sync::Arc;

use lambda_runtime::Error;
use lambda_wiring::{StartupError, Wiring, ZoomSettings};
use maintenance::Maintenance;

async fn build(wiring: &Wiring, zoom: &ZoomSettings) -> Result<Maintenance, StartupError> {
    let zoom_config = zoom.zoom_config(&wiring.app_secrets().await?)?;
    Ok(Maintenance {
        store: Arc::new(wiring.records()),
        tokens: Arc::new(wiring.token_store()),
        vault: wiring.token_vault(&zoom_config)?,
        clock: sync_domain::system_clock(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (wiring, zoom) = lambda_wiring::start_with_zoom().await?;
    let maintenance = build(&wiring, &zoom)
        .await
        .map_err(lambda_wiring::refused)?;
    lambda_wiring::serve_json(|payload, deadline| {
        let maintenance = &maintenance;
        async move { maintenance.handle(&payload, deadline).await }
    })
    .await
}
