//! The vault against the real pieces: the Zoom sandbox's token endpoint (rotation, request
//! statistics) through `zoom::OAuthClient`, Secrets Manager and the DynamoDB lease in moto.
//! 50 concurrent "invocations" (each its own token source and Zoom client) start with an
//! expired access token: exactly one refresh reaches Zoom, all 50 calls succeed, and the
//! secret holds the newest refresh token.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::join_all;
use ports::*;
use zoom::{OAuthClient, RateProfile, RetryPolicy, TokenError, ZoomClient};
use zoom_sandbox::SandboxConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_invocations_refresh_once_at_the_sandbox() {
    let Some(moto) = common::moto("fifty_invocations_refresh_once_at_the_sandbox").await else {
        return;
    };
    let sb = zoom_sandbox::start_local(SandboxConfig::demo())
        .await
        .expect("start sandbox");
    let config = common::sandbox_zoom_config(&sb);
    let oauth = Arc::new(OAuthClient::new(&config).expect("oauth client"));

    let (records, tokens, original) = common::sandbox_connection(&moto, &sb).await;
    let vault = TokenVault {
        tokens: tokens.clone(),
        leases: Arc::new(records.clone()),
        connections: Arc::new(records.clone()),
        refresher: oauth.clone(),
        options: VaultOptions {
            poll_interval: Duration::from_millis(100),
            ..VaultOptions::default()
        },
    };
    let before = sb.state.stats.snapshot().grants("refresh_token");

    let calls = (0..50).map(|_| {
        let source = Arc::new(vault.token_source("c1"));
        let client = ZoomClient::builder(config.clone(), source)
            .rate_profile(RateProfile::unlimited())
            .retry_policy(RetryPolicy {
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(200),
                max_attempts: 5,
                default_budget: Duration::from_secs(120),
            })
            .build()
            .expect("zoom client");
        async move { client.me().user("me").await }
    });
    let results = join_all(calls).await;
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
        .collect();
    assert!(failures.is_empty(), "all 50 proceed: {failures:?}");

    let stats = sb.state.stats.snapshot();
    assert_eq!(
        stats.grants("refresh_token") - before,
        1,
        "exactly one refresh at Zoom: {:?}",
        stats.token_grants
    );
    let stored = tokens.read("c1").await.unwrap().expect("tokens stored");
    assert_ne!(stored.tokens.refresh_token, original.refresh_token);
    assert!(stored.tokens.expires_at > Utc::now());
    // The stored refresh token is the live one; the original is dead (rotation).
    assert!(matches!(
        zoom::TokenRefresher::refresh(&*oauth, &original.refresh_token).await,
        Err(TokenError::InvalidGrant { .. })
    ));
    zoom::TokenRefresher::refresh(&*oauth, &stored.tokens.refresh_token)
        .await
        .expect("the stored refresh token works");
    assert!(
        records
            .get_connection("c1")
            .await
            .unwrap()
            .unwrap()
            .status
            .is_active()
    );
    sb.shutdown().await;
}
