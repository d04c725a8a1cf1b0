//! The function's error: refusals before anything happened (the caller's to fix) and our own
//! failures (a retry may help). Per-user Zoom failures are not errors: they are reported in
//! the response.

use chrono::{DateTime, Utc};
use ports::StoreError;

use crate::request::RequestError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReclamationError {
    #[error(transparent)]
    InvalidRequest(#[from] RequestError),
    #[error("connection {0} does not exist")]
    ConnectionNotFound(String),
    #[error("connection {id} cannot be used: {state}")]
    ConnectionUnavailable { id: String, state: String },
    #[error(
        "the connection's authorization lacks the write scope for this action (one of: {}); \
         nothing was changed. Add the scope to the Zoom app and reconnect the account",
        missing.join(", ")
    )]
    MissingScope { missing: Vec<String> },
    #[error(
        "Application Access has not completed for this connection within the last {max_age_hours} \
         hours ({detail}); nothing was changed. Acting on older activity data could deactivate \
         people who have been active since: wait for (or run) Application Access, or allow older \
         data with `max_data_age_hours` (at most 168)"
    )]
    StaleData {
        /// The oldest per-account completion over the connection's current accounts (`None`:
        /// an account never completed).
        data_as_of: Option<DateTime<Utc>>,
        max_age_hours: u32,
        detail: String,
    },
    #[error(
        "the connection's activity data is partial: the app lacks {} (not collected: {}); \
         nothing was changed. Acting on partial activity data could deactivate people who are \
         active: add the scope to the Zoom app, reconnect the account and let Application Access \
         run again",
        scopes.join(", "),
        not_collected.join("; ")
    )]
    PartialActivityData {
        scopes: Vec<String>,
        not_collected: Vec<String>,
    },
    #[error(
        "{selected} users would be acted on, more than the cap of {cap}; nothing was changed. \
         Narrow the selection or raise `max_users`"
    )]
    CapExceeded { selected: usize, cap: u32 },
    #[error(
        "request id {0} was already used for a different request; use a new request_id \
         (a replay must repeat the same request)"
    )]
    RequestIdReused(String),
    #[error("request {0} (to restore) is not in the audit")]
    RestoreNotFound(String),
    #[error("request {0} is being processed by another invocation; try again in a minute")]
    InProgress(String),
    #[error(
        "notices are not configured for this function (set ZTS_NOTIFY_FROM to a sender \
         identity verified in SES, the stack's NotifyFromAddress); nothing was sent"
    )]
    NotificationsNotConfigured,
    #[error("record store: {0}")]
    Store(#[from] StoreError),
    #[error("Zoom access: {0}")]
    Zoom(String),
}

impl ReclamationError {
    /// Short type reported to the Lambda runtime (`errorType`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::ConnectionNotFound(_) => "ConnectionNotFound",
            Self::ConnectionUnavailable { .. } => "ConnectionUnavailable",
            Self::MissingScope { .. } => "MissingScope",
            Self::StaleData { .. } => "StaleData",
            Self::PartialActivityData { .. } => "PartialActivityData",
            Self::CapExceeded { .. } => "CapExceeded",
            Self::RequestIdReused(_) => "RequestIdReused",
            Self::RestoreNotFound(_) => "RestoreNotFound",
            Self::InProgress(_) => "InProgress",
            Self::NotificationsNotConfigured => "NotificationsNotConfigured",
            Self::Store(_) => "StoreError",
            Self::Zoom(_) => "ZoomError",
        }
    }

    /// Whether the caller must change something (as opposed to our or AWS's failure).
    pub fn is_caller_error(&self) -> bool {
        !self.is_retryable()
    }

    /// Whether invoking again unchanged may succeed (stale data: after the next Application
    /// Access run).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Store(_) | Self::Zoom(_) | Self::InProgress(_) | Self::StaleData { .. }
        )
    }
}

impl From<ReclamationError> for lambda_runtime::Diagnostic {
    fn from(e: ReclamationError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.kind().to_owned(),
            error_message: e.to_string(),
        }
    }
}
