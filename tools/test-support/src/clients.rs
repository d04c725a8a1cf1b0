//! Zoom on a sandbox: the configuration, the grants' tokens and the clients (those of the
//! integration tests, of reclamation's sandbox test and of the benchmarks).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use zoom::{
    ConfigError, MemoryTokenSource, OAuthApp, OAuthClient, RateProfile, Region, RetryPolicy,
    Secret, TokenSet, ZoomClient, ZoomConfig,
};
use zoom_sandbox::RunningSandbox;
use zoom_sandbox::oauth::TokenResponse;

/// A Zoom configuration for the sandbox at `base_url`: the NA region with the OAuth app every
/// sandbox registers (`SandboxConfig::demo`), OAuth at the sandbox, requests given up after
/// `timeout`.
pub fn sandbox_config(base_url: &str, timeout: Duration) -> Result<ZoomConfig, ConfigError> {
    ZoomConfig::builder()
        .region(Region::Na)
        .app(
            Region::Na,
            OAuthApp::new(
                "sandbox-client-id",
                Secret::new("sandbox-client-secret"),
                "http://localhost:9000/oauth/callback",
            ),
        )
        .oauth_base(base_url)
        .request_timeout(timeout)
        .build()
}

/// The tokens of a sandbox grant as a client holds them (expiring `expires_in` seconds from
/// now), the API at `api_url`.
pub fn grant_tokens(t: &TokenResponse, api_url: &str) -> TokenSet {
    TokenSet {
        access_token: Secret::new(t.access_token.clone()),
        refresh_token: Secret::new(t.refresh_token.clone().expect("refresh token")),
        expires_at: Utc::now() + chrono::Duration::seconds(t.expires_in as i64),
        scope: t.scope.clone(),
        api_url: Some(api_url.to_owned()),
    }
}

/// A test grant of the sandbox's master account with `scopes` (every scope of the app when
/// empty), as a client's tokens.
pub fn sandbox_tokens(sb: &RunningSandbox, scopes: &[&str]) -> TokenSet {
    grant_tokens(&sb.state.issue_token_for_tests(scopes), &sb.base_url())
}

/// A Zoom client holding `tokens` in memory (refreshed through `config`'s OAuth), pacing itself
/// by `profile`, retrying by `retry` and spending the budget of `budget_key`: the one wiring of
/// the tests' and the benchmarks' clients.
pub fn client_on(
    config: ZoomConfig,
    tokens: TokenSet,
    profile: RateProfile,
    retry: RetryPolicy,
    budget_key: &str,
) -> Result<ZoomClient, ConfigError> {
    let oauth = OAuthClient::new(&config)?;
    let source = Arc::new(MemoryTokenSource::new(tokens, Arc::new(oauth)));
    ZoomClient::builder(config, source)
        .rate_profile(profile)
        .retry_policy(retry)
        .budget_key(budget_key)
        .build()
}

/// A client on the sandbox with the master's grant of every scope.
pub fn zoom_client(sb: &RunningSandbox) -> ZoomClient {
    client_with_scopes(sb, &[])
}

/// A client on the sandbox with the master's grant of `scopes` only.
pub fn client_with_scopes(sb: &RunningSandbox, scopes: &[&str]) -> ZoomClient {
    client_with_tokens(sb, sandbox_tokens(sb, scopes))
}

/// A client whose grant is dead: the access token expired and the refresh token was never
/// issued (the sandbox answers `invalid_grant`).
pub fn dead_grant_client(sb: &RunningSandbox) -> ZoomClient {
    client_with_tokens(
        sb,
        TokenSet {
            access_token: Secret::new("expired-access-token"),
            refresh_token: Secret::new("revoked-refresh-token"),
            expires_at: Utc::now() - chrono::Duration::hours(1),
            scope: String::new(),
            api_url: Some(sb.base_url()),
        },
    )
}

/// A client on the sandbox holding `tokens`: no pacing of its own (the sandbox's limits
/// answer), quick retries, the budget of "master".
pub fn client_with_tokens(sb: &RunningSandbox, tokens: TokenSet) -> ZoomClient {
    let config = sandbox_config(&sb.base_url(), Duration::from_secs(5)).expect("config");
    client_on(
        config,
        tokens,
        RateProfile::unlimited(),
        RetryPolicy {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(100),
            max_attempts: 12,
            default_budget: Duration::from_secs(120),
        },
        "master",
    )
    .expect("client")
}
