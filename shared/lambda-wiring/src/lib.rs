//! The one place where functions meet AWS and Lambda: every `main.rs` is a few lines over this.
//!
//! - [`init_tracing`]: JSON logs (the template sets Lambda's JSON log format), `RUST_LOG`.
//! - [`Vars`], [`ConfigError`]: configuration read once from the environment.
//! - [`ZoomSettings`]: the deployment region's OAuth app and the Zoom endpoints.
//! - [`Wiring`]: the AWS clients built once, and from them the records, the token store, the
//!   token vault and the SQS queue.
//! - [`task`]: the four task functions: their configuration, engine, typed event
//!   ([`TaskEvent`]) and whole `main` ([`run_task_function`]).
//!
//! The use cases never see this crate: they take the port traits (`ports`) and the engine.

mod clients;
mod sqs;
pub mod task;
mod vars;
mod zoom_settings;

pub use clients::Wiring;
pub use sqs::SqsQueue;
pub use task::{TaskConfig, TaskEvent, TaskResponse, run_task_function, task_engine};
pub use vars::{ConfigError, Vars};
pub use zoom_settings::ZoomSettings;

/// Why a function could not start (cold start).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("reading the app secret: {0}")]
    Secrets(#[from] ports::StoreError),
    #[error("building the Zoom client: {0}")]
    Zoom(String),
}

/// JSON logs, one object per line; `RUST_LOG` filters (default `info`).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .with_span_list(false)
        .init();
}
