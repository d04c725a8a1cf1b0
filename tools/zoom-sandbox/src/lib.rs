//! Zoom sandbox: a local stand-in for Zoom's OAuth and REST API with synthetic master-account
//! tenants, rate limits and injectable faults.
//!
//! Module owners (while the sandbox is being built by two people in parallel):
//! - tenant, api, truth: synthetic data, the `/v2` endpoints, the `/_sandbox/truth` ground truth;
//! - config, oauth, gate, ratelimit, faults, stats, webhooks, control, main: OAuth, the request
//!   gate (auth, faults, rate limits, statistics, headers), webhooks and the binary.
//!
//! Shared and stable: error (Zoom's error bodies), auth (the authenticated caller and scope checks),
//! state (what every handler sees).

pub mod api;
pub mod auth;
pub mod config;
mod config_error;
pub mod control;
pub mod error;
pub mod faults;
pub mod gate;
pub mod oauth;
pub mod ratelimit;
pub mod state;
pub mod stats;
pub mod tenant;
pub mod truth;
mod users_report;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

pub use config::SandboxConfig;
pub use state::SandboxState;

/// The whole sandbox as one axum router.
pub fn router(state: Arc<SandboxState>) -> axum::Router {
    axum::Router::new()
        .merge(oauth::router())
        .nest("/v2", api::router(state.clone()))
        .merge(truth::router())
        .merge(control::router())
        .with_state(state.clone())
        .layer(axum::middleware::map_response(add_tracking_id))
        .layer(axum::middleware::map_response_with_state(state, add_date))
}

/// Every HTTP server sends `Date` (RFC 9110 §6.6.1); the sandbox's is its own clock's, as a
/// server's is, so a client can read an absolute `Retry-After` (the daily limit's next
/// midnight) against the server's time rather than its own.
async fn add_date(
    axum::extract::State(state): axum::extract::State<Arc<SandboxState>>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    let date = state
        .clock
        .now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(v) = date.parse() {
        response.headers_mut().insert(axum::http::header::DATE, v);
    }
    response
}

/// Zoom sends `x-zm-trackingid` on every response.
async fn add_tracking_id(mut response: axum::response::Response) -> axum::response::Response {
    if !response.headers().contains_key("x-zm-trackingid")
        && let Ok(v) = error::tracking_id().parse()
    {
        response.headers_mut().insert("x-zm-trackingid", v);
    }
    response
}

/// A sandbox serving on a loopback port; dropped or [`RunningSandbox::shutdown`] stops it.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    pub state: Arc<SandboxState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`: the OAuth base (`/oauth/...`) and the API host.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v2`.
    pub fn api_base_url(&self) -> String {
        format!("{}/v2", self.base_url())
    }

    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Requests held by a `timeout` fault would delay the graceful shutdown.
        self.state.faults.release_held();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.state.faults.release_held();
    }
}

/// Start a sandbox on `addr` (use port 0 for an ephemeral port, as tests do).
pub async fn start(config: SandboxConfig, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
    let state = Arc::new(SandboxState::new(config));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    state.oauth.set_base_url(format!("http://{addr}"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await;
    });
    Ok(RunningSandbox {
        addr,
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Start on an ephemeral loopback port.
pub async fn start_local(config: SandboxConfig) -> std::io::Result<RunningSandbox> {
    start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}
