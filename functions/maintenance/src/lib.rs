//! The maintenance function: what keeps every connection healthy and lawful, once a day
//! (EventBridge Scheduler, `events/maintenance/`).
//!
//! - **purge**: a connection deauthorized in Zoom (`app_deauthorized`) keeps its records for the
//!   retention period (`DeauthorizedRetentionDays`), then everything of it is deleted: its items
//!   (`ports::PurgeStore`) and its token secret, for good. Idempotent: a failed purge is retried
//!   the next day; one connection's failure does not stop the others.
//! - **refresh-idle-tokens**: connections whose tokens were not refreshed for a week are
//!   refreshed through the token vault (`ports::TokenVault::refresh_idle_connections`), so an
//!   unused refresh token never lapses.
//!
//! The event: `{"jobs": ["purge", "refresh-idle-tokens"]}` (both when `jobs` is absent).

use std::sync::Arc;

use futures::TryStreamExt;
use ports::{
    ConnectionRecord, ConnectionStatus, IDLE_REFRESH_MAX_AGE, Store, StoreError, TokenStore,
    TokenVault,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_domain::Clock;

/// What one run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Job {
    Purge,
    RefreshIdleTokens,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceRequest {
    #[serde(default = "all_jobs")]
    pub jobs: Vec<Job>,
}

fn all_jobs() -> Vec<Job> {
    vec![Job::Purge, Job::RefreshIdleTokens]
}

#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error("invalid maintenance event: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<MaintenanceError> for lambda_runtime::Diagnostic {
    fn from(e: MaintenanceError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: match e {
                MaintenanceError::Invalid(_) => "InvalidEvent",
                MaintenanceError::Store(_) => "StoreError",
            }
            .to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// A connection whose records were deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub connection_id: String,
    pub items: usize,
}

/// A deauthorized connection still within its retention period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    pub connection_id: String,
    pub purge_after: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub purged: Vec<Purged>,
    pub waiting: Vec<Waiting>,
    /// Connection id and why; retried on the next run.
    pub failed: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RefreshReport {
    pub checked: usize,
    pub refreshed: Vec<String>,
    pub failed: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MaintenanceReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purge: Option<PurgeReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_idle_tokens: Option<RefreshReport>,
}

/// The use case, over the ports.
pub struct Maintenance {
    pub store: Arc<dyn Store>,
    pub tokens: Arc<dyn TokenStore>,
    pub vault: TokenVault,
    pub clock: Clock,
}

impl Maintenance {
    /// Handles one invocation payload.
    /// Handles one invocation payload; `deadline` is the invocation's (no token refresh starts
    /// too close to it).
    pub async fn handle(
        &self,
        payload: &Value,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Value, MaintenanceError> {
        let request: MaintenanceRequest =
            sync_domain::parse_payload(payload).map_err(MaintenanceError::Invalid)?;
        let report = self.run(&request.jobs, deadline).await?;
        Ok(serde_json::to_value(report).unwrap_or_default())
    }

    pub async fn run(
        &self,
        jobs: &[Job],
        deadline: Option<tokio::time::Instant>,
    ) -> Result<MaintenanceReport, MaintenanceError> {
        let mut report = MaintenanceReport::default();
        if jobs.contains(&Job::Purge) {
            report.purge = Some(self.purge_expired().await?);
        }
        if jobs.contains(&Job::RefreshIdleTokens) {
            let r = self
                .vault
                .refresh_idle_connections(IDLE_REFRESH_MAX_AGE, (self.clock)(), deadline)
                .await?;
            tracing::info!(
                job = "refresh-idle-tokens",
                checked = r.checked,
                refreshed = r.refreshed.len(),
                failed = r.failed.len(),
                "idle tokens refreshed"
            );
            report.refresh_idle_tokens = Some(RefreshReport {
                checked: r.checked,
                refreshed: r.refreshed,
                failed: r.failed,
            });
        }
        Ok(report)
    }

    /// Deletes every connection deauthorized before its `purge_after`: the token secret first
    /// (for good), then its records (the connection item last, so a retry finds the rest).
    pub async fn purge_expired(&self) -> Result<PurgeReport, StoreError> {
        let now = (self.clock)();
        let connections: Vec<ConnectionRecord> =
            self.store.list_connections().try_collect().await?;
        let mut report = PurgeReport::default();
        for connection in connections {
            let ConnectionStatus::Deauthorized { purge_after, .. } = connection.status else {
                continue;
            };
            let cid = connection.connection_id;
            if purge_after > now {
                report.waiting.push(Waiting {
                    connection_id: cid,
                    purge_after,
                });
                continue;
            }
            let purged = match self.tokens.purge(&cid).await {
                Ok(()) => self.store.purge_connection(&cid).await,
                Err(e) => Err(e),
            };
            match purged {
                Ok(items) => {
                    tracing::info!(job = "purge", connection_id = %cid, items, %purge_after, "connection purged");
                    report.purged.push(Purged {
                        connection_id: cid,
                        items,
                    });
                }
                Err(e) => {
                    tracing::warn!(job = "purge", connection_id = %cid, error = %e, "purge failed; retried on the next run");
                    report.failed.push((cid, e.to_string()));
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_their_jobs_or_get_both() {
        let both: MaintenanceRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(both.jobs, [Job::Purge, Job::RefreshIdleTokens]);
        let purge: MaintenanceRequest = serde_json::from_str(r#"{"jobs": ["purge"]}"#).unwrap();
        assert_eq!(purge.jobs, [Job::Purge]);
        assert!(serde_json::from_str::<MaintenanceRequest>(r#"{"jobs": ["vacuum"]}"#).is_err());
        assert!(serde_json::from_str::<MaintenanceRequest>(r#"{"job": "purge"}"#).is_err());
    }
}
