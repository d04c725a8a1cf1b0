//! The error of a configuration value, shared by the configuration and the fault settings (which
//! the configuration holds), so that neither has to import the other to report one.

/// A configuration value that could not be parsed (CLI flag, env variable or control request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);
