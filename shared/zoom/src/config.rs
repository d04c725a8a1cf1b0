//! Client configuration: the regional OAuth apps and the base URLs.

use std::collections::BTreeMap;
use std::time::Duration;

use url::Url;

use crate::Secret;

/// Zoom's deployment regions; each has its own Marketplace app (client id and secret).
/// Serialized as `NA`, `APAC`, `EU` (how connections and the app secret store it).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Region {
    #[serde(rename = "NA")]
    Na,
    #[serde(rename = "APAC")]
    Apac,
    #[serde(rename = "EU")]
    Eu,
}

impl Region {
    pub const ALL: [Region; 3] = [Self::Na, Self::Apac, Self::Eu];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Na => "NA",
            Self::Apac => "APAC",
            Self::Eu => "EU",
        }
    }
}

impl std::str::FromStr for Region {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "NA" | "US" => Ok(Self::Na),
            "APAC" => Ok(Self::Apac),
            "EU" => Ok(Self::Eu),
            other => Err(ConfigError(format!(
                "unknown Zoom region {other:?} (expected NA, APAC or EU)"
            ))),
        }
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Zoom Marketplace OAuth app.
#[derive(Clone, Debug)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: Secret,
    /// The redirect URI registered with the app (must match exactly).
    pub redirect_uri: String,
}

impl OAuthApp {
    pub fn new(
        client_id: impl Into<String>,
        client_secret: Secret,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid Zoom client configuration: {0}")]
pub struct ConfigError(pub String);

/// Where to find Zoom and which app to use. Build with [`ZoomConfig::builder`].
#[derive(Clone, Debug)]
pub struct ZoomConfig {
    region: Region,
    apps: BTreeMap<Region, OAuthApp>,
    oauth_base: Url,
    api_base: Url,
    api_base_overridden: bool,
    request_timeout: Duration,
    connect_timeout: Duration,
}

pub const DEFAULT_OAUTH_BASE: &str = "https://zoom.us";
pub const DEFAULT_API_BASE: &str = "https://api.zoom.us/v2";

impl ZoomConfig {
    pub fn builder() -> ZoomConfigBuilder {
        ZoomConfigBuilder::default()
    }

    pub fn region(&self) -> Region {
        self.region
    }

    /// The OAuth app of the configured region.
    pub fn app(&self) -> Result<&OAuthApp, ConfigError> {
        self.app_for(self.region)
    }

    pub fn app_for(&self, region: Region) -> Result<&OAuthApp, ConfigError> {
        self.apps
            .get(&region)
            .ok_or_else(|| ConfigError(format!("no OAuth app configured for region {region}")))
    }

    pub fn oauth_base(&self) -> &Url {
        &self.oauth_base
    }

    pub fn api_base(&self) -> &Url {
        &self.api_base
    }

    /// Whether the API base was set explicitly (then it wins over a token's `api_url`).
    pub fn api_base_overridden(&self) -> bool {
        self.api_base_overridden
    }

    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The API base to use with a token that carries `api_url` (Zoom: `https://api.zoom.us`):
    /// `{api_url}/v2`, unless the API base was overridden explicitly or the `api_url` is not
    /// one this client may send a bearer token to ([`Self::trusts_api_url`]); then the
    /// configured base.
    pub fn effective_api_base(&self, token_api_url: Option<&str>) -> String {
        let base = match token_api_url.map(str::trim) {
            Some(api_url) if !self.api_base_overridden && !api_url.is_empty() => {
                if self.trusts_api_url(api_url) {
                    format!("{}/v2", api_url.trim_end_matches('/'))
                } else {
                    tracing::warn!(
                        api_url,
                        "ignoring a token's api_url that is not https on a Zoom host"
                    );
                    self.api_base.as_str().to_string()
                }
            }
            _ => self.api_base.as_str().to_string(),
        };
        base.trim_end_matches('/').to_string()
    }

    /// Whether a token's `api_url` may receive the token: `https` on a Zoom host (`zoom.us`,
    /// `zoom.com`, `zoomgov.com` and their subdomains), or the very server that issued the
    /// token (the OAuth base, set explicitly only for local development against the sandbox).
    pub fn trusts_api_url(&self, api_url: &str) -> bool {
        let Ok(url) = Url::parse(api_url) else {
            return false;
        };
        let issuer = &self.oauth_base;
        if url.scheme() == issuer.scheme()
            && url.host_str() == issuer.host_str()
            && url.port_or_known_default() == issuer.port_or_known_default()
        {
            return true;
        }
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        url.scheme() == "https"
            && url.username().is_empty()
            && url.password().is_none()
            && ["zoom.us", "zoom.com", "zoomgov.com"]
                .iter()
                .any(|zoom| host == *zoom || host.ends_with(&format!(".{zoom}")))
    }
}

/// Builder for [`ZoomConfig`].
#[derive(Debug, Clone)]
pub struct ZoomConfigBuilder {
    region: Region,
    apps: BTreeMap<Region, OAuthApp>,
    oauth_base: String,
    api_base: Option<String>,
    request_timeout: Duration,
    connect_timeout: Duration,
}

impl Default for ZoomConfigBuilder {
    fn default() -> Self {
        Self {
            region: Region::Na,
            apps: BTreeMap::new(),
            oauth_base: DEFAULT_OAUTH_BASE.into(),
            api_base: None,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl ZoomConfigBuilder {
    /// The deployment region whose app this configuration uses.
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// Register the OAuth app of one region.
    pub fn app(mut self, region: Region, app: OAuthApp) -> Self {
        self.apps.insert(region, app);
        self
    }

    /// OAuth base (default `https://zoom.us`); `/oauth/authorize`, `/oauth/token` and
    /// `/oauth/revoke` are resolved under it.
    pub fn oauth_base(mut self, url: impl Into<String>) -> Self {
        self.oauth_base = url.into();
        self
    }

    /// API base including `/v2` (default `https://api.zoom.us/v2`). Setting it explicitly makes it
    /// win over the `api_url` of token responses.
    pub fn api_base(mut self, url: impl Into<String>) -> Self {
        self.api_base = Some(url.into());
        self
    }

    /// Whole-request timeout for one HTTP attempt (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub fn build(self) -> Result<ZoomConfig, ConfigError> {
        let parse = |what: &str, s: &str| {
            let url = Url::parse(s.trim_end_matches('/'))
                .map_err(|e| ConfigError(format!("{what} is not a valid URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ConfigError(format!("{what} must be an http(s) URL")));
            }
            Ok(url)
        };
        let oauth_base = parse("oauth_base", &self.oauth_base)?;
        let api_base_overridden = self.api_base.is_some();
        let api_base = parse(
            "api_base",
            self.api_base.as_deref().unwrap_or(DEFAULT_API_BASE),
        )?;
        Ok(ZoomConfig {
            region: self.region,
            apps: self.apps,
            oauth_base,
            api_base,
            api_base_overridden,
            request_timeout: self.request_timeout,
            connect_timeout: self.connect_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_api_url_is_used_unless_api_base_is_overridden() {
        let default = ZoomConfig::builder().build().unwrap();
        assert_eq!(
            default.effective_api_base(Some("https://api-ca.zoom.us/")),
            "https://api-ca.zoom.us/v2"
        );
        assert_eq!(default.effective_api_base(None), "https://api.zoom.us/v2");

        let overridden = ZoomConfig::builder()
            .api_base("http://127.0.0.1:9/v2/")
            .build()
            .unwrap();
        assert_eq!(
            overridden.effective_api_base(Some("https://api.zoom.us")),
            "http://127.0.0.1:9/v2"
        );
    }

    #[test]
    fn a_token_api_url_must_be_https_on_a_zoom_host_or_the_issuer() {
        let zoom = ZoomConfig::builder().build().unwrap();
        for trusted in [
            "https://api.zoom.us",
            "https://api-eu.zoom.us/",
            "https://api.zoomgov.com",
            "https://zoom.com",
        ] {
            assert!(zoom.trusts_api_url(trusted), "{trusted}");
        }
        for refused in [
            "http://api.zoom.us",
            "https://api.zoom.us.attacker.example",
            "https://attacker.example/api.zoom.us",
            "https://notzoom.us",
            "https://user:pw@api.zoom.us",
            "http://127.0.0.1:9",
            "not a url",
        ] {
            assert!(!zoom.trusts_api_url(refused), "{refused}");
            assert_eq!(
                zoom.effective_api_base(Some(refused)),
                "https://api.zoom.us/v2"
            );
        }
        // Local development: the sandbox that issued the token (the OAuth base set explicitly).
        let sandbox = ZoomConfig::builder()
            .oauth_base("http://127.0.0.1:8090")
            .build()
            .unwrap();
        assert_eq!(
            sandbox.effective_api_base(Some("http://127.0.0.1:8090")),
            "http://127.0.0.1:8090/v2"
        );
        assert!(!sandbox.trusts_api_url("http://127.0.0.1:8091"));
    }

    #[test]
    fn apps_are_per_region() {
        let config = ZoomConfig::builder()
            .region(Region::Eu)
            .app(
                Region::Na,
                OAuthApp::new("na", Secret::new("s1"), "https://x/cb"),
            )
            .app(
                Region::Eu,
                OAuthApp::new("eu", Secret::new("s2"), "https://x/cb"),
            )
            .build()
            .unwrap();
        assert_eq!(config.app().unwrap().client_id, "eu");
        assert!(config.app_for(Region::Apac).is_err());
        assert_eq!("apac".parse::<Region>().unwrap(), Region::Apac);
        assert!("mars".parse::<Region>().is_err());
        assert!(ZoomConfig::builder().oauth_base("ftp://x").build().is_err());
    }
}
