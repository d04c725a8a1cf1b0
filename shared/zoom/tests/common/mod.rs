//! Shared helpers: an in-process sandbox and a client wired to it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use zoom::{
    MemoryTokenSource, OAuthApp, OAuthClient, RateProfile, Region, RetryPolicy, Secret, TokenSet,
    ZoomClient, ZoomConfig,
};
use zoom_sandbox::{RunningSandbox, SandboxConfig};

pub const CLIENT_ID: &str = "sandbox-client-id";
pub const CLIENT_SECRET: &str = "sandbox-client-secret";
pub const REDIRECT_URI: &str = "http://localhost:9000/oauth/callback";

pub async fn sandbox(config: SandboxConfig) -> RunningSandbox {
    zoom_sandbox::start_local(config)
        .await
        .expect("start sandbox")
}

/// Config pointing OAuth at the sandbox; the API base comes from the token's `api_url` (the
/// sandbox answers with its own base URL).
pub fn config(sb: &RunningSandbox) -> ZoomConfig {
    ZoomConfig::builder()
        .region(Region::Na)
        .app(
            Region::Na,
            OAuthApp::new(CLIENT_ID, Secret::new(CLIENT_SECRET), REDIRECT_URI),
        )
        .oauth_base(sb.base_url())
        .request_timeout(Duration::from_secs(5))
        .build()
        .expect("config")
}

pub fn oauth(sb: &RunningSandbox) -> OAuthClient {
    OAuthClient::new(&config(sb)).expect("oauth client")
}

/// A test grant issued directly by the sandbox (as if the master's owner had authorized).
pub fn test_tokens(sb: &RunningSandbox) -> TokenSet {
    let t = sb.state.issue_token_for_tests(&[]);
    TokenSet {
        access_token: Secret::new(t.access_token),
        refresh_token: Secret::new(t.refresh_token.expect("refresh token")),
        expires_at: Utc::now() + chrono::Duration::seconds(t.expires_in as i64),
        scope: t.scope,
        api_url: Some(sb.base_url()),
    }
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        max_attempts: 10,
        default_budget: Duration::from_secs(120),
    }
}

pub struct Harness {
    pub client: ZoomClient,
    pub source: Arc<MemoryTokenSource>,
}

pub fn client_with(sb: &RunningSandbox, tokens: TokenSet, profile: RateProfile) -> Harness {
    let source = Arc::new(MemoryTokenSource::new(tokens, Arc::new(oauth(sb))));
    let client = ZoomClient::builder(config(sb), source.clone())
        .rate_profile(profile)
        .retry_policy(fast_retries())
        .budget_key("master")
        .build()
        .expect("client");
    Harness { client, source }
}

pub fn client(sb: &RunningSandbox) -> Harness {
    client_with(sb, test_tokens(sb), RateProfile::unlimited())
}
