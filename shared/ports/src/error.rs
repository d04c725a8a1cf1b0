//! Errors of the storage layer.

/// A storage operation (DynamoDB or Secrets Manager in production) failed, or a stored record could not be used.
///
/// Messages never contain token or secret values: SDK errors name the operation and AWS's error
/// code and message only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A conditional write found the item in another state (expected outcome of some calls;
    /// the typed store methods turn it into a return value where it is not an error).
    #[error("the item is not in the expected state (conditional check failed)")]
    ConditionFailed,
    /// An optimistic update kept losing to concurrent writers.
    #[error("concurrent updates kept conflicting: {0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("DynamoDB {op} failed: {message}")]
    Dynamo { op: &'static str, message: String },
    #[error("Secrets Manager {op} failed: {message}")]
    Secrets { op: &'static str, message: String },
    #[error("stored record could not be decoded: {0}")]
    Decode(String),
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl StoreError {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Dynamo { .. } | Self::Secrets { .. } | Self::Conflict(_)
        )
    }
}
