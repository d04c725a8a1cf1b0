//! The `/v2` REST endpoints. (Owner: tenant/api side.)

use std::sync::Arc;

use crate::state::SandboxState;

pub fn router(_state: Arc<SandboxState>) -> axum::Router<Arc<SandboxState>> {
    axum::Router::new()
}
