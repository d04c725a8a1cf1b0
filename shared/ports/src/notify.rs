//! Notices to people (reclamation's notify-then-reclaim flow): one small port, [`Notifier`],
//! implemented on Amazon SES by `aws-adapters` and in memory by [`RecordingNotifier`] (tests).
//!
//! A [`Notice`] is a finished message: the use case writes its text; a notifier only delivers
//! it. It never carries a secret or a link with a token.

use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One e-mail to one person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// Simple HTML body with the same content.
    pub html: String,
}

/// The id the delivery service gave a sent message (SES: `MessageId`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a notice was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// No sender is configured (`ZTS_NOTIFY_FROM` unset): nothing can be sent.
    #[error("notices are not configured: {0}")]
    NotConfigured(String),
    /// The service refused this message (an unverified sender, a rejected address): sending
    /// it again unchanged will not help.
    #[error("the notice was refused: {0}")]
    Rejected(String),
    /// The service could not be reached or failed (throttling, 5xx, network): a later try
    /// may work.
    #[error("the notice could not be sent (temporary): {0}")]
    Unavailable(String),
}

impl NotifyError {
    /// A short name of the failure for logs (the message may name the recipient).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotConfigured(_) => "not_configured",
            Self::Rejected(_) => "rejected",
            Self::Unavailable(_) => "unavailable",
        }
    }

    /// Whether sending again later may work.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Delivers notices.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, notice: &Notice) -> Result<MessageId, NotifyError>;
}

/// In memory: keeps every notice it is given (tests), and refuses the recipients in
/// `refuse` (a rejected address).
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    sent: Mutex<Vec<(MessageId, Notice)>>,
    refuse: Mutex<Vec<String>>,
}

impl RecordingNotifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Notices to `to` are refused from now on.
    pub fn refuse(&self, to: &str) {
        self.lock_refuse().push(to.to_lowercase());
    }

    /// Every notice sent so far, with its id, in order.
    pub fn sent(&self) -> Vec<(MessageId, Notice)> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn lock_refuse(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.refuse.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn send(&self, notice: &Notice) -> Result<MessageId, NotifyError> {
        if self.lock_refuse().contains(&notice.to.to_lowercase()) {
            return Err(NotifyError::Rejected(format!(
                "address {} rejected",
                notice.to
            )));
        }
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let id = MessageId(format!("msg-{:04}", sent.len() + 1));
        sent.push((id.clone(), notice.clone()));
        Ok(id)
    }
}
