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

pub(crate) const CLIENT_ID: &str = "sandbox-client-id";
pub(crate) const CLIENT_SECRET: &str = "sandbox-client-secret";
pub(crate) const REDIRECT_URI: &str = "http://localhost:9000/oauth/callback";

/// The sandbox at its fixed date ([`SandboxConfig::at_fixed_date`]): the tenant's users,
/// meetings and report days are the same whatever day the test runs. Token lifetimes are
/// relative (`expires_in`), so the client's own clock may differ from the sandbox's.
pub(crate) async fn sandbox(config: SandboxConfig) -> RunningSandbox {
    live_sandbox(config.at_fixed_date()).await
}

/// The sandbox with `config` as given (by default on real time, as Zoom is): for tests that
/// compare a time the sandbox sends (a daily cap's reset) with the client's clock.
pub(crate) async fn live_sandbox(config: SandboxConfig) -> RunningSandbox {
    zoom_sandbox::start_local(config)
        .await
        .expect("start sandbox")
}

/// Config pointing OAuth at the sandbox; the API base comes from the token's `api_url` (the
/// sandbox answers with its own base URL).
pub(crate) fn config(sb: &RunningSandbox) -> ZoomConfig {
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

pub(crate) fn oauth(sb: &RunningSandbox) -> OAuthClient {
    OAuthClient::new(&config(sb)).expect("oauth client")
}

/// A test grant issued directly by the sandbox (as if the master's owner had authorized).
pub(crate) fn test_tokens(sb: &RunningSandbox) -> TokenSet {
    let t = sb.state.issue_token_for_tests(&[]);
    TokenSet {
        access_token: Secret::new(t.access_token),
        refresh_token: Secret::new(t.refresh_token.expect("refresh token")),
        expires_at: Utc::now() + chrono::Duration::seconds(t.expires_in as i64),
        scope: t.scope,
        api_url: Some(sb.base_url()),
    }
}

pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        max_attempts: 10,
        default_budget: Duration::from_secs(120),
    }
}

pub(crate) struct Harness {
    pub client: ZoomClient,
    pub source: Arc<MemoryTokenSource>,
}

pub(crate) fn client_with(sb: &RunningSandbox, tokens: TokenSet, profile: RateProfile) -> Harness {
    let source = Arc::new(MemoryTokenSource::new(tokens, Arc::new(oauth(sb))));
    let client = ZoomClient::builder(config(sb), source.clone())
        .rate_profile(profile)
        .retry_policy(fast_retries())
        .budget_key("master")
        .build()
        .expect("client");
    Harness { client, source }
}

pub(crate) fn client(sb: &RunningSandbox) -> Harness {
    client_with(sb, test_tokens(sb), RateProfile::unlimited())
}

/// A refresher for mock servers: hands out `mock-at-{n}` / `mock-rt-{n}`.
pub(crate) struct MockRefresher(pub std::sync::atomic::AtomicU64);

#[async_trait::async_trait]
impl zoom::TokenRefresher for MockRefresher {
    async fn refresh(&self, _rt: &Secret) -> Result<TokenSet, zoom::TokenError> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        Ok(TokenSet {
            access_token: Secret::new(format!("mock-at-{n}")),
            refresh_token: Secret::new(format!("mock-rt-{n}")),
            expires_at: Utc::now() + chrono::Duration::hours(1),
            scope: String::new(),
            api_url: None,
        })
    }
}

/// Serve `router` on a loopback port; returns its base URL.
pub(crate) async fn mock_server(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

/// A client for a mock API server at `base` (API base `{base}/v2`).
pub(crate) fn mock_client(base: &str, retry: RetryPolicy, profile: RateProfile) -> ZoomClient {
    let tokens = TokenSet {
        access_token: Secret::new("mock-at-0"),
        refresh_token: Secret::new("mock-rt-0"),
        expires_at: Utc::now() + chrono::Duration::hours(1),
        scope: String::new(),
        api_url: Some("http://ignored.invalid".into()),
    };
    let source = Arc::new(MemoryTokenSource::new(
        tokens,
        Arc::new(MockRefresher(Default::default())),
    ));
    let config = ZoomConfig::builder()
        .api_base(format!("{base}/v2"))
        .request_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    ZoomClient::builder(config, source)
        .rate_profile(profile)
        .retry_policy(retry)
        .build()
        .unwrap()
}
