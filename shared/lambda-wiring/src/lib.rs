//! The one place where functions meet AWS and Lambda: every `main.rs` is a few lines over this.
//!
//! - [`init_tracing`]: JSON logs (the template sets Lambda's JSON log format), `RUST_LOG`.
//! - [`Vars`], [`ConfigError`]: configuration read once from the environment.
//! - [`ZoomSettings`]: the deployment region's OAuth app and the Zoom endpoints.
//! - [`Wiring`]: the AWS clients built once, and from them the records, the token store, the
//!   token vault, the SQS queue and the file store (reports and exports).
//! - [`task`]: the four task functions: their configuration, engine, typed event
//!   ([`TaskEvent`]) and whole `main` ([`run_task_function`]).
//!
//! - `allocator`: the process's allocator (jemalloc, flat memory in the account's size).
//!
//! The use cases never see this crate: they take the port traits (`ports`) and the engine.

mod allocator;
mod clients;
mod error;
mod logging;
mod serve;
mod sqs;
pub mod task;
mod vars;
mod webhook_secret;
mod zoom_settings;

pub use clients::Wiring;
pub use error::StartupError;
pub use logging::{init_tracing, log_subscriber, refused};
pub use serve::{serve_json, start_with_zoom};
pub use sqs::SqsQueue;
pub use task::{TaskConfig, TaskEvent, TaskResponse, run_task_function, task_engine};
pub use vars::{ConfigError, FilesConfig, Vars};
pub use webhook_secret::AppSecretWebhookSource;
pub use zoom_settings::{ZoomSettings, webhook_secret};
