//! Sandbox configuration: the tenant, the OAuth apps, rate limits, faults and token lifetimes.
//! (Owner: OAuth/gate side. Extend freely; keep `SandboxConfig::demo()` working.)

use crate::tenant::TenantSpec;

/// One OAuth app registered with the sandbox (a Zoom Marketplace app).
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    /// Allow-listed redirect URIs (exact match).
    pub redirect_uris: Vec<String>,
    /// Scopes granted to every token of this app.
    pub scopes: Vec<String>,
    /// Secret token used to sign webhook events.
    pub webhook_secret: String,
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub tenant: TenantSpec,
    pub apps: Vec<OAuthApp>,
    /// Access-token lifetime in seconds (Zoom: 3599).
    pub access_token_ttl_secs: u64,
}

impl SandboxConfig {
    /// The 3-account demo tenant with one app holding every scope the connector needs.
    pub fn demo() -> Self {
        Self {
            tenant: TenantSpec::demo(),
            apps: vec![OAuthApp {
                client_id: "sandbox-client-id".into(),
                client_secret: "sandbox-client-secret".into(),
                redirect_uris: vec!["http://localhost:9000/oauth/callback".into()],
                scopes: [
                    "account:master",
                    "user:master",
                    "report:master",
                    "meeting:master",
                    "billing:master",
                    "user:read:admin",
                    "user:write:admin",
                    "meeting:read:admin",
                    "report:read:admin",
                ]
                .into_iter()
                .map(String::from)
                .collect(),
                webhook_secret: "sandbox-webhook-secret".into(),
            }],
            access_token_ttl_secs: 3599,
        }
    }
}
