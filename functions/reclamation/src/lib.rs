//! Reclamation: take Zoom licenses back from users who no longer use them, safely.
//!
//! An admin invokes the function with a [`ReclamationRequest`] (see `events/reclamation/` and
//! `docs/reclamation.md`). Users are selected from the synced roster and activity records
//! (explicit ids/emails, or a policy of inactivity), re-checked live at Zoom, then deactivated
//! (default), downgraded to Basic, or, for `reactivate`, restored from an earlier request's
//! audit. Dry run is the default and changes nothing at Zoom.
//!
//! - [`request`]: the request, strictly parsed and validated.
//! - [`reclaim`]: the use case ([`Reclaimer`]) over the store traits of `ports` and the
//!   Zoom traits of [`gateway`].
//! - [`gateway`]: [`ZoomUsers`] / [`ZoomConnector`] and their `zoom`-client implementation.

pub mod error;
pub mod gateway;
pub mod reclaim;
pub mod request;

use std::sync::Arc;

pub use error::ReclamationError;
pub use gateway::{AccountRef, LiveUser, ZoomConnector, ZoomFailure, ZoomUsers, ZoomUsersGateway};
pub use reclaim::{Clock, Outcome, Reclaimer, ReclamationResponse, Stores, Summary, UserResult};
pub use request::{Action, Execution, Policy, ReclamationRequest};

pub use lambda_wiring::StartupError;

/// Builds the use case from the AWS clients and the Zoom settings (once per cold start).
pub async fn build(
    wiring: &lambda_wiring::Wiring,
    zoom: &lambda_wiring::ZoomSettings,
) -> Result<Reclaimer, StartupError> {
    let zoom_config = zoom.zoom_config(&wiring.app_secrets().await?)?;
    let vault = wiring.token_vault(&zoom_config)?;
    Ok(Reclaimer::new(
        Stores::from_store(Arc::new(wiring.records())),
        Arc::new(ZoomUsersGateway::new(zoom_config, vault)),
    ))
}
