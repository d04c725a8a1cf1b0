//! Why a function could not start.

use crate::ConfigError;

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
