//! Wiring for the function binaries: configuration from the environment, the engine built
//! once per cold start, and the Lambda deadline.

use std::sync::Arc;
use std::time::Duration;

use aws_adapters::{AppSecretsLoader, AwsClients, AwsConfig, Records, SecretsManagerTokenStore};
use ports::{TokenVault, VaultOptions, ZoomRegion};
use tokio::time::Instant;
use zoom::{OAuthApp, OAuthClient, RateProfile, Region, ZoomConfig};

use crate::{EngineOptions, SqsQueue, SyncEngine, SyncError, VaultClientFactory, system_clock};

/// One function's configuration (names and URLs only; secrets come from Secrets Manager).
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    pub aws: AwsConfig,
    /// `ZTS_QUEUE_URL`: this task's FIFO queue (schedule fan-out and follow-ups).
    pub queue_url: String,
    /// `ZTS_ZOOM_REGION` (NA, APAC, EU; default NA): the OAuth app used for refreshes.
    pub region: ZoomRegion,
    /// `ZTS_ZOOM_OAUTH_BASE` / `ZTS_ZOOM_API_BASE`: overrides (the local sandbox).
    pub oauth_base: Option<String>,
    pub api_base: Option<String>,
    /// `ZTS_RATE_PROFILE`: business (default), pro, free or unlimited; `ZTS_RATE_SCALE`
    /// multiplies it (a sandbox scaled the same way).
    pub rate_profile: RateProfile,
    /// `ZTS_DEADLINE_MARGIN_SECS` (default 60).
    pub deadline_margin: Duration,
}

impl FunctionConfig {
    pub fn from_env() -> Result<Self, SyncError> {
        let get = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        let queue_url = get("ZTS_QUEUE_URL")
            .ok_or_else(|| SyncError::Invalid("ZTS_QUEUE_URL is not set".into()))?;
        let region = get("ZTS_ZOOM_REGION")
            .map(|r| r.parse::<ZoomRegion>().map_err(SyncError::Invalid))
            .transpose()?
            .unwrap_or(ZoomRegion::Na);
        let base = match get("ZTS_RATE_PROFILE").as_deref().unwrap_or("business") {
            "business" => RateProfile::business(),
            "pro" => RateProfile::pro(),
            "free" => RateProfile::free(),
            "unlimited" => RateProfile::unlimited(),
            other => {
                return Err(SyncError::Invalid(format!(
                    "ZTS_RATE_PROFILE {other:?}: business, pro, free or unlimited"
                )));
            }
        };
        let scale = get("ZTS_RATE_SCALE")
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| SyncError::Invalid(format!("ZTS_RATE_SCALE {s:?}")))
            })
            .transpose()?
            .unwrap_or(1.0);
        let margin = get("ZTS_DEADLINE_MARGIN_SECS")
            .and_then(|s| s.parse().ok())
            .unwrap_or(60);
        Ok(Self {
            aws: AwsConfig::from_env(),
            queue_url,
            region,
            oauth_base: get("ZTS_ZOOM_OAUTH_BASE"),
            api_base: get("ZTS_ZOOM_API_BASE"),
            rate_profile: base.scaled(scale),
            deadline_margin: Duration::from_secs(margin),
        })
    }
}

fn zoom_region(r: ZoomRegion) -> Region {
    match r {
        ZoomRegion::Na => Region::Na,
        ZoomRegion::Apac => Region::Apac,
        ZoomRegion::Eu => Region::Eu,
    }
}

/// Builds the engine: AWS clients, the OAuth app (read once), the token vault, the SQS queue.
pub async fn engine_from_config(config: &FunctionConfig) -> Result<SyncEngine, SyncError> {
    let clients = AwsClients::new(&config.aws).await;
    let records = Records::dynamo(clients.dynamodb.clone(), config.aws.table_name.clone());
    let secrets = AppSecretsLoader::new(clients.secrets.clone(), config.aws.app_secret_id.clone())
        .get()
        .await?;
    let app = secrets.app(config.region).ok_or_else(|| {
        SyncError::Invalid(format!(
            "the app secret has no OAuth app for region {}",
            config.region.as_str()
        ))
    })?;
    let region = zoom_region(config.region);
    let mut builder = ZoomConfig::builder().region(region).app(
        region,
        OAuthApp::new(
            app.client_id.clone(),
            app.client_secret.clone(),
            "https://localhost/oauth/callback",
        ),
    );
    if let Some(b) = &config.oauth_base {
        builder = builder.oauth_base(b.clone());
    }
    if let Some(b) = &config.api_base {
        builder = builder.api_base(b.clone());
    }
    let zoom_config = builder
        .build()
        .map_err(|e| SyncError::Client(e.to_string()))?;
    let oauth = OAuthClient::new(&zoom_config).map_err(|e| SyncError::Client(e.to_string()))?;
    let vault = TokenVault {
        tokens: Arc::new(SecretsManagerTokenStore::new(
            clients.secrets.clone(),
            config.aws.token_secret_prefix.clone(),
        )),
        leases: Arc::new(records.clone()),
        connections: Arc::new(records.clone()),
        refresher: Arc::new(oauth),
        options: VaultOptions::default(),
    };
    Ok(SyncEngine {
        store: Arc::new(records),
        clients: Arc::new(VaultClientFactory::new(
            zoom_config,
            vault,
            config.rate_profile,
        )),
        queue: Arc::new(SqsQueue::new(clients.sqs.clone(), config.queue_url.clone())),
        clock: system_clock(),
        options: EngineOptions {
            deadline_margin: config.deadline_margin,
            ..EngineOptions::default()
        },
    })
}

/// Below this, a deadline header is a duration, not an epoch time (1e12 ms is September 2001).
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// The invocation's deadline as an `Instant`. Lambda sends epoch milliseconds; `cargo lambda
/// watch` (1.9) sends the remaining time in milliseconds instead, so small values are read as that.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Option<Instant> {
    deadline_at(deadline_ms, chrono::Utc::now().timestamp_millis())
}

fn deadline_at(deadline_ms: u64, now_epoch_ms: i64) -> Option<Instant> {
    if deadline_ms == 0 {
        return None;
    }
    let remaining_ms = if deadline_ms < EPOCH_MS_FLOOR {
        deadline_ms
    } else {
        deadline_ms.saturating_sub(u64::try_from(now_epoch_ms).unwrap_or(0))
    };
    Some(Instant::now() + Duration::from_millis(remaining_ms))
}

/// The whole handler of a task's function: any of the three event kinds.
pub async fn handle(
    engine: &SyncEngine,
    task: crate::Task,
    payload: serde_json::Value,
    deadline_ms: u64,
) -> Result<serde_json::Value, SyncError> {
    engine
        .handle_event(task, payload, deadline_from_epoch_ms(deadline_ms))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remaining_secs(deadline: Option<Instant>) -> u64 {
        deadline
            .expect("a deadline")
            .duration_since(Instant::now())
            .as_secs()
    }

    #[test]
    fn epoch_deadlines_count_from_now() {
        let now = 1_800_000_000_000_i64;
        let in_five_minutes = 1_800_000_300_000_u64;
        let secs = remaining_secs(deadline_at(in_five_minutes, now));
        assert!((299..=300).contains(&secs), "{secs}");
        // Already past: no time left, not a wrap-around.
        assert_eq!(remaining_secs(deadline_at(1_799_999_000_000, now)), 0);
    }

    #[test]
    fn cargo_lambda_watch_durations_are_remaining_time() {
        let secs = remaining_secs(deadline_at(600_000, 1_800_000_000_000));
        assert!((599..=600).contains(&secs), "{secs}");
        assert!(deadline_at(0, 1_800_000_000_000).is_none());
    }
}
