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

pub use error::ReclamationError;
pub use gateway::{AccountRef, LiveUser, ZoomConnector, ZoomFailure, ZoomUsers, ZoomUsersGateway};
pub use reclaim::{
    Clock, DRY_RUN_LIVE_CHECKS, MAX_LISTED_USERS, Outcome, Reclaimer, ReclamationResponse, Stores,
    Summary, UserResult,
};
pub use request::{Action, Execution, Policy, ReclamationRequest, Step};
