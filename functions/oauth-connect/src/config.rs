//! The function's configuration, read once from the environment (names and URLs only; the
//! OAuth app credentials and the webhook secret token come from Secrets Manager).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ZTS_ZOOM_REGION` | deployment region: whose Zoom app (NA, APAC, EU) connects accounts | `NA` |
//! | `ZTS_OAUTH_REDIRECT_URI` | this function's `/oauth/callback` URL, as registered with the Zoom app | required |
//! | `ZTS_ZOOM_OAUTH_BASE` | Zoom's OAuth host | `https://zoom.us` |
//! | `ZTS_ZOOM_API_BASE` | Zoom's API base including `/v2` (else the token's `api_url`) | unset |
//! | `ZTS_DEAUTHORIZED_RETENTION_DAYS` | days a deauthorized connection's records are kept | `10` |
//! | `ZTS_ZOOM_VERIFY_TIMEOUT_SECS` | time budget of the account checks in the callback | `20` |
//!
//! plus the AWS adapters' variables (`ZTS_TABLE_NAME`, `ZTS_TOKEN_SECRET_PREFIX`,
//! `ZTS_APP_SECRET_ID`, `ZTS_AWS_ENDPOINT_URL`, `ZTS_AWS_REGION`).

use std::time::Duration;

use aws_adapters::{AppSecrets, AwsConfig};
use ports::ZoomRegion;
use zoom::{OAuthApp, Region, ZoomConfig};

#[derive(Debug, Clone, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Default retention of a deauthorized connection's records.
pub const DEFAULT_RETENTION_DAYS: i64 = 10;

#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsConfig,
    pub region: ZoomRegion,
    pub redirect_uri: String,
    pub oauth_base: Option<String>,
    pub api_base: Option<String>,
    pub deauthorized_retention: chrono::Duration,
    pub verify_timeout: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Self::from_env`], reading variables through `var` (for tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let region = match get("ZTS_ZOOM_REGION") {
            Some(r) => r
                .parse::<ZoomRegion>()
                .map_err(|e| ConfigError(format!("ZTS_ZOOM_REGION: {e}")))?,
            None => ZoomRegion::Na,
        };
        let redirect_uri = get("ZTS_OAUTH_REDIRECT_URI").ok_or_else(|| {
            ConfigError(
                "ZTS_OAUTH_REDIRECT_URI (the registered /oauth/callback URL) is not set".into(),
            )
        })?;
        url::Url::parse(&redirect_uri)
            .map_err(|e| ConfigError(format!("ZTS_OAUTH_REDIRECT_URI is not a URL: {e}")))?;
        let positive = |name: &str, default: i64| -> Result<i64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0 && *n <= 3650)
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "{name} must be a whole number from 1 to 3650, not {v:?}"
                        ))
                    }),
            }
        };
        let retention_days = positive("ZTS_DEAUTHORIZED_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)?;
        let verify_secs = positive("ZTS_ZOOM_VERIFY_TIMEOUT_SECS", 20)?;
        Ok(Self {
            aws: AwsConfig::from_lookup(&var),
            region,
            redirect_uri,
            oauth_base: get("ZTS_ZOOM_OAUTH_BASE"),
            api_base: get("ZTS_ZOOM_API_BASE"),
            deauthorized_retention: chrono::Duration::days(retention_days),
            verify_timeout: Duration::from_secs(verify_secs as u64),
        })
    }

    /// The Zoom client configuration for the deployment region's app from `secrets`.
    pub fn zoom_config(&self, secrets: &AppSecrets) -> Result<ZoomConfig, ConfigError> {
        let app = secrets.app(self.region).ok_or_else(|| {
            ConfigError(format!(
                "the app secret has no OAuth app for region {}",
                self.region.as_str()
            ))
        })?;
        let region = zoom_region(self.region);
        let mut builder = ZoomConfig::builder().region(region).app(
            region,
            OAuthApp::new(
                app.client_id.clone(),
                app.client_secret.clone(),
                self.redirect_uri.clone(),
            ),
        );
        if let Some(base) = &self.oauth_base {
            builder = builder.oauth_base(base.clone());
        }
        if let Some(base) = &self.api_base {
            builder = builder.api_base(base.clone());
        }
        builder.build().map_err(|e| ConfigError(e.to_string()))
    }
}

pub fn zoom_region(region: ZoomRegion) -> Region {
    match region {
        ZoomRegion::Na => Region::Na,
        ZoomRegion::Apac => Region::Apac,
        ZoomRegion::Eu => Region::Eu,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        let c = config(&[("ZTS_OAUTH_REDIRECT_URI", "https://x.example/oauth/callback")]).unwrap();
        assert_eq!(c.region, ZoomRegion::Na);
        assert_eq!(c.deauthorized_retention, chrono::Duration::days(10));
        let c = config(&[
            ("ZTS_OAUTH_REDIRECT_URI", "https://x.example/oauth/callback"),
            ("ZTS_ZOOM_REGION", "eu"),
            ("ZTS_DEAUTHORIZED_RETENTION_DAYS", "30"),
        ])
        .unwrap();
        assert_eq!(c.region, ZoomRegion::Eu);
        assert_eq!(c.deauthorized_retention, chrono::Duration::days(30));
    }

    #[test]
    fn bad_values_are_named() {
        let e = config(&[]).unwrap_err();
        assert!(e.0.contains("ZTS_OAUTH_REDIRECT_URI"));
        let e = config(&[
            ("ZTS_OAUTH_REDIRECT_URI", "https://x.example/cb"),
            ("ZTS_ZOOM_REGION", "mars"),
        ])
        .unwrap_err();
        assert!(e.0.contains("ZTS_ZOOM_REGION"));
        let e = config(&[
            ("ZTS_OAUTH_REDIRECT_URI", "https://x.example/cb"),
            ("ZTS_DEAUTHORIZED_RETENTION_DAYS", "0"),
        ])
        .unwrap_err();
        assert!(e.0.contains("ZTS_DEAUTHORIZED_RETENTION_DAYS"));
    }
}
