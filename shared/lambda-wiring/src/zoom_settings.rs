//! The deployment region's Zoom OAuth app and endpoints.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ZTS_ZOOM_REGION` | deployment region: whose Zoom app (NA, APAC, EU) connects and refreshes | `NA` |
//! | `ZTS_ZOOM_OAUTH_BASE` | Zoom's OAuth host | `https://zoom.us` |
//! | `ZTS_ZOOM_API_BASE` | Zoom's API base including `/v2` (else the token's `api_url`) | unset |
//! | `ZTS_OAUTH_REDIRECT_URI` | the app's registered `/oauth/callback` URL (refreshes do not use it) | `https://localhost/oauth/callback` |

use aws_adapters::AppSecrets;
use ports::ZoomRegion;
use zoom::{OAuthApp, ZoomConfig};

use crate::{ConfigError, Vars};

/// The redirect URI of functions that only refresh tokens (Zoom checks it on code exchange only).
const REFRESH_ONLY_REDIRECT_URI: &str = "https://localhost/oauth/callback";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomSettings {
    pub region: ZoomRegion,
    pub oauth_base: Option<String>,
    pub api_base: Option<String>,
    pub redirect_uri: Option<String>,
}

impl ZoomSettings {
    pub fn from_vars<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, ConfigError> {
        let region = match vars.get("ZTS_ZOOM_REGION") {
            Some(r) => r
                .parse::<ZoomRegion>()
                .map_err(|e| ConfigError(format!("ZTS_ZOOM_REGION: {e}")))?,
            None => ZoomRegion::Na,
        };
        Ok(Self {
            region,
            oauth_base: vars.get("ZTS_ZOOM_OAUTH_BASE"),
            api_base: vars.get("ZTS_ZOOM_API_BASE"),
            redirect_uri: vars.get("ZTS_OAUTH_REDIRECT_URI"),
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
        let region = self.region;
        let redirect = self
            .redirect_uri
            .clone()
            .unwrap_or_else(|| REFRESH_ONLY_REDIRECT_URI.into());
        let mut builder = ZoomConfig::builder().region(region).app(
            region,
            OAuthApp::new(app.client_id.clone(), app.client_secret.clone(), redirect),
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
        let s = ZoomSettings::from_vars(&Vars::from_lookup(|_| None)).unwrap();
        assert_eq!(s.region, ZoomRegion::Na);
        assert_eq!(s.api_base, None);
        let e = ZoomSettings::from_vars(&Vars::from_lookup(|k| {
            (k == "ZTS_ZOOM_REGION").then(|| "mars".into())
        }))
        .unwrap_err();
        assert!(e.to_string().contains("ZTS_ZOOM_REGION"), "{e}");
    }
}
