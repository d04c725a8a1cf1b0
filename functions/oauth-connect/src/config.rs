//! The function's configuration, read once from the environment (names and URLs only; the
//! OAuth app credentials and the webhook secret token come from Secrets Manager).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ZTS_OAUTH_REDIRECT_URI` | this function's `/oauth/callback` URL, as registered with the Zoom app | required |
//! | `ZTS_DEAUTHORIZED_RETENTION_DAYS` | days a deauthorized connection's records are kept | `10` |
//! | `ZTS_ZOOM_VERIFY_TIMEOUT_SECS` | time budget of the account checks in the callback | `20` |
//! | `ZTS_ALLOWED_ZOOM_ACCOUNTS` | comma-separated Zoom account ids this deployment may connect | any |
//!
//! plus the Zoom settings (`lambda_wiring::ZoomSettings`: `ZTS_ZOOM_REGION`,
//! `ZTS_ZOOM_OAUTH_BASE`, `ZTS_ZOOM_API_BASE`) and the AWS adapters' variables
//! (`ZTS_TABLE_NAME`, `ZTS_TOKEN_SECRET_PREFIX`, `ZTS_APP_SECRET_ID`, `ZTS_AWS_ENDPOINT_URL`,
//! `ZTS_AWS_REGION`).

use std::time::Duration;

use aws_adapters::AwsConfig;
pub use lambda_wiring::ConfigError;
use lambda_wiring::{Vars, ZoomSettings};

/// Default retention of a deauthorized connection's records.
pub const DEFAULT_RETENTION_DAYS: i64 = 10;

#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsConfig,
    /// The region and endpoints; `redirect_uri` is always set here.
    pub zoom: ZoomSettings,
    pub deauthorized_retention: chrono::Duration,
    pub verify_timeout: Duration,
    /// Empty: any account an admin's link leads to.
    pub allowed_zoom_accounts: Vec<String>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&Vars::from_env())
    }

    /// As [`Self::from_env`], reading variables through `var` (for tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_vars(&Vars::from_lookup(var))
    }

    fn from_vars<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, ConfigError> {
        let redirect_uri = vars.required(
            "ZTS_OAUTH_REDIRECT_URI",
            "the registered /oauth/callback URL",
        )?;
        url::Url::parse(&redirect_uri)
            .map_err(|e| ConfigError(format!("ZTS_OAUTH_REDIRECT_URI is not a URL: {e}")))?;
        let zoom = ZoomSettings {
            redirect_uri: Some(redirect_uri),
            ..ZoomSettings::from_vars(vars)?
        };
        let retention_days = vars.number_in(
            "ZTS_DEAUTHORIZED_RETENTION_DAYS",
            1..=3650,
            DEFAULT_RETENTION_DAYS,
        )?;
        let verify_secs = vars.number_in("ZTS_ZOOM_VERIFY_TIMEOUT_SECS", 1..=3650, 20)?;
        Ok(Self {
            aws: vars.aws(),
            zoom,
            deauthorized_retention: chrono::Duration::days(retention_days),
            verify_timeout: Duration::from_secs(verify_secs.unsigned_abs()),
            allowed_zoom_accounts: vars
                .get("ZTS_ALLOWED_ZOOM_ACCOUNTS")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ports::ZoomRegion;
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
        assert_eq!(c.zoom.region, ZoomRegion::Na);
        assert_eq!(c.deauthorized_retention, chrono::Duration::days(10));
        let c = config(&[
            ("ZTS_OAUTH_REDIRECT_URI", "https://x.example/oauth/callback"),
            ("ZTS_ZOOM_REGION", "eu"),
            ("ZTS_DEAUTHORIZED_RETENTION_DAYS", "30"),
        ])
        .unwrap();
        assert_eq!(c.zoom.region, ZoomRegion::Eu);
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
