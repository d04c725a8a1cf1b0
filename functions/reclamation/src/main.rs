//! Lambda entry point: JSON logs, configuration and clients built once, then the handler.
//! Reads the Zoom settings (`lambda_wiring::ZoomSettings`), the AWS adapters' variables and
//! `ZTS_NOTIFY_FROM` (the notices' sender, an SES identity; unset: no notices).

use std::sync::Arc;

use lambda_runtime::Error;
use lambda_wiring::{StartupError, Vars, Wiring, ZoomSettings};
use reclamation::{Reclaimer, Stores, ZoomUsersGateway};

/// The use case on the AWS adapters and the Zoom client (once per cold start).
async fn build(wiring: &Wiring, zoom: &ZoomSettings) -> Result<Reclaimer, StartupError> {
    let zoom_config = zoom.zoom_config(&wiring.app_secrets().await?)?;
    let vault = wiring.token_vault(&zoom_config)?;
    let reclaimer = Reclaimer::new(
        Stores::from_store(Arc::new(wiring.records())),
        Arc::new(ZoomUsersGateway::new(zoom_config, vault)),
    );
    Ok(match Vars::from_env().get("ZTS_NOTIFY_FROM") {
        Some(from) => reclaimer.with_notifier(Arc::new(wiring.notifier(&from))),
        None => reclaimer,
    })
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
