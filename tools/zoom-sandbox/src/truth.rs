use std::sync::Arc;

use crate::state::SandboxState;

pub fn router() -> axum::Router<Arc<SandboxState>> {
    axum::Router::new()
}
