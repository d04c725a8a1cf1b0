//! Errors of the integration tasks, classified by what the caller should do.

use ports::StoreError;
use zoom::ZoomError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    #[error(transparent)]
    Zoom(#[from] ZoomError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("queue: {0}")]
    Queue(String),
    #[error("connection {0} not found")]
    UnknownConnection(String),
    #[error("connection {connection_id} is not active ({state})")]
    Inactive {
        connection_id: String,
        state: &'static str,
    },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("could not build the Zoom client: {0}")]
    Client(String),
}

impl SyncError {
    /// The grant is dead: the connection needs re-authorization.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, Self::Zoom(e) if e.is_invalid_grant())
    }

    /// The daily quota is spent: nothing helps before the reset.
    pub fn daily_reset(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            Self::Zoom(ZoomError::DailyLimit { reset_at, .. }) => Some(*reset_at),
            _ => None,
        }
    }

    /// Worth redelivering the message later (SQS retry, then the DLQ).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Zoom(e) => e.is_transient() && self.daily_reset().is_none(),
            Self::Store(e) => e.is_retryable(),
            Self::Queue(_) => true,
            _ => false,
        }
    }
}
