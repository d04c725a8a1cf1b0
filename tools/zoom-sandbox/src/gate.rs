//! The gate every `/v2` request passes before its handler: bearer-token check (401 code 124),
//! injected faults, rate limits on the caller's budget account for the endpoint's category
//! (`crate::api::endpoint_category`), request statistics, and Zoom's response headers
//! (`x-zm-trackingid`, `X-RateLimit-*`). It puts the [`Caller`] into request extensions.
//! (Owner: OAuth/gate side.)
//!
//! STUB until the OAuth side lands: admits everything as the master account with the first
//! app's scopes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::Caller;
use crate::state::SandboxState;

pub async fn gate(
    State(state): State<Arc<SandboxState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let app = &state.config.apps[0];
    request.extensions_mut().insert(Caller {
        account_id: state.tenant.master_account_id().to_string(),
        user_id: None,
        client_id: app.client_id.clone(),
        scopes: app.scopes.iter().cloned().collect(),
    });
    let mut response = next.run(request).await;
    if let Ok(v) = crate::error::tracking_id().parse() {
        response.headers_mut().insert("x-zm-trackingid", v);
    }
    response
}
