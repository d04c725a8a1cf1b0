//! The function's configuration, read once from the environment (names and URLs only; the
//! OAuth app credentials, needed to refresh tokens, come from Secrets Manager).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ZTS_ZOOM_REGION` | deployment region: whose Zoom app (NA, APAC, EU) refreshes tokens | `NA` |
//! | `ZTS_ZOOM_OAUTH_BASE` | Zoom's OAuth host | `https://zoom.us` |
//! | `ZTS_ZOOM_API_BASE` | Zoom's API base including `/v2` (else the token's `api_url`) | unset |
//! | `ZTS_OAUTH_REDIRECT_URI` | the app's registered redirect URI (not used by refreshes) | `https://localhost/oauth/callback` |
//!
//! plus the AWS adapters' variables (`ZTS_TABLE_NAME`, `ZTS_TOKEN_SECRET_PREFIX`,
//! `ZTS_APP_SECRET_ID`, `ZTS_AWS_ENDPOINT_URL`, `ZTS_AWS_REGION`).

use aws_adapters::{AppSecrets, AwsConfig};
use ports::ZoomRegion;
use zoom::{OAuthApp, ZoomConfig};

#[derive(Debug, Clone, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Clone)]
pub struct Config {
    pub aws: AwsConfig,
    pub region: ZoomRegion,
    pub oauth_base: Option<String>,
    pub api_base: Option<String>,
    pub redirect_uri: String,
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
        Ok(Self {
            aws: AwsConfig::from_lookup(&var),
            region,
            oauth_base: get("ZTS_ZOOM_OAUTH_BASE"),
            api_base: get("ZTS_ZOOM_API_BASE"),
            redirect_uri: get("ZTS_OAUTH_REDIRECT_URI")
                .unwrap_or_else(|| "https://localhost/oauth/callback".into()),
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
        let region: zoom::Region = self.region.into();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_region() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.region, ZoomRegion::Na);
        assert_eq!(c.api_base, None);
        let e =
            Config::from_lookup(|k| (k == "ZTS_ZOOM_REGION").then(|| "mars".into())).unwrap_err();
        assert!(e.to_string().contains("ZTS_ZOOM_REGION"), "{e}");
    }
}
