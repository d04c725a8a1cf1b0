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
        // Fail closed: an empty credential is a placeholder nobody replaced (the stack creates
        // the secret with them), never a working app.
        if app.client_id.trim().is_empty() || app.client_secret.expose().trim().is_empty() {
            return Err(ConfigError(format!(
                "the app secret's OAuth app for region {} has an empty client_id or client_secret: \
                 put the Zoom app's credentials in the app secret (README, Deploy)",
                self.region.as_str()
            )));
        }
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

/// The webhook secret token Zoom signs its event notifications with; an empty one would let
/// anyone sign (HMAC with an empty key), so it refuses to start instead.
pub fn webhook_secret(secrets: &AppSecrets) -> Result<zoom::Secret, ConfigError> {
    if secrets.webhook_secret_token.expose().trim().is_empty() {
        return Err(ConfigError(
            "the app secret's webhook_secret_token is empty: anyone could sign Zoom's event \
             notifications; put the Zoom app's secret token in the app secret (README, Deploy)"
                .into(),
        ));
    }
    Ok(secrets.webhook_secret_token.clone())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aws_adapters::AppCredentials;
    use zoom::Secret;

    use super::*;

    fn secrets(client_id: &str, client_secret: &str, webhook: &str) -> AppSecrets {
        AppSecrets {
            apps: BTreeMap::from([(
                ZoomRegion::Na,
                AppCredentials {
                    client_id: client_id.into(),
                    client_secret: Secret::new(client_secret),
                },
            )]),
            webhook_secret_token: Secret::new(webhook),
        }
    }

    #[test]
    fn empty_credentials_refuse_to_start() {
        let settings = ZoomSettings::from_vars(&Vars::from_lookup(|_| None)).unwrap();
        assert!(settings.zoom_config(&secrets("id", "secret", "w")).is_ok());
        for (id, secret) in [("", "secret"), ("id", ""), ("  ", " ")] {
            let e = settings.zoom_config(&secrets(id, secret, "w")).unwrap_err();
            assert!(e.0.contains("empty client_id or client_secret"), "{e}");
            assert!(!e.0.contains("secret\""), "no value in the message: {e}");
        }
        // A region without an app is refused too (the deployment's region picks the app).
        let eu = ZoomSettings {
            region: ZoomRegion::Eu,
            ..settings
        };
        assert!(eu.zoom_config(&secrets("id", "secret", "w")).is_err());
        assert_eq!(
            webhook_secret(&secrets("id", "secret", "token"))
                .unwrap()
                .expose(),
            "token"
        );
        let e = webhook_secret(&secrets("id", "secret", " ")).unwrap_err();
        assert!(e.0.contains("webhook_secret_token is empty"), "{e}");
    }

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
