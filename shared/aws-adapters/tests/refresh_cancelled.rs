//! A unit cancelled around a token refresh (the invocation's deadline) never loses the
//! connection: 100 refreshes against the sandbox's rotating token endpoint, each cancelled at a
//! random point, with the tokens in Secrets Manager and the lease in DynamoDB (moto). After
//! each, the stored refresh token is still the valid one: the next refresh succeeds.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ports::*;
use rand::RngExt;
use zoom::{OAuthClient, TokenSource};
use zoom_sandbox::SandboxConfig;

/// Secrets Manager with the time a write takes before it reaches the service (a new
/// connection, TLS, signing): a cancellation then can fall between Zoom's answer and the write.
struct SlowWrites(Arc<dyn TokenStore>);

#[async_trait::async_trait]
impl TokenStore for SlowWrites {
    async fn read(&self, connection_id: &str) -> Result<Option<StoredTokens>, StoreError> {
        self.0.read(connection_id).await
    }
    async fn write(&self, connection_id: &str, tokens: &StoredTokens) -> Result<(), StoreError> {
        tokio::time::sleep(Duration::from_millis(15)).await;
        self.0.write(connection_id, tokens).await
    }
    async fn delete(&self, connection_id: &str) -> Result<(), StoreError> {
        self.0.delete(connection_id).await
    }
}

/// The stored tokens with their access token expired, so the next use refreshes.
async fn expire(tokens: &dyn TokenStore) {
    let mut stored = tokens.read("c1").await.unwrap().expect("tokens");
    stored.tokens.expires_at = Utc::now() - chrono::Duration::seconds(5);
    tokens.write("c1", &stored).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_refreshes_never_lose_the_connection() {
    let Some(moto) = common::moto("cancelled_refreshes_never_lose_the_connection").await else {
        return;
    };
    let sb = zoom_sandbox::start_local(SandboxConfig::demo())
        .await
        .expect("start sandbox");
    let config = common::sandbox_zoom_config(&sb);
    let (records, tokens, _) = common::sandbox_connection(&moto, &sb).await;
    let vault = TokenVault {
        tokens: Arc::new(SlowWrites(tokens.clone())),
        leases: Arc::new(records.clone()),
        connections: Arc::new(records.clone()),
        refresher: Arc::new(OAuthClient::new(&config).expect("oauth client")),
        // A lease taken by an invocation cancelled while acquiring it is never released: it
        // expires (short here, so the test does not wait a minute for it).
        options: VaultOptions {
            poll_interval: Duration::from_millis(20),
            lease_ttl: Duration::from_secs(2),
            ..VaultOptions::default()
        },
    };
    let lease = refresh_lease_name("c1");
    let mut cancelled = 0;
    for run in 0..100 {
        expire(tokens.as_ref()).await;
        let source = vault.token_source("c1");
        let after = Duration::from_micros(rand::rng().random_range(0..40_000));
        if tokio::time::timeout(after, source.access_token(None))
            .await
            .is_err()
        {
            cancelled += 1;
        }
        // A refresh that was started finishes by itself and then releases the lease; a lease
        // taken by an invocation cancelled while acquiring it expires instead. Wait for either
        // (an event, not a fixed time: on a slow machine a refresh still writing when the
        // next run's `expire` reads and rewrites the tokens would put back a rotated-away
        // refresh token, a loss the test, not the vault, caused).
        let waiting = std::time::Instant::now();
        while records
            .get_lease(&lease)
            .await
            .unwrap()
            .is_some_and(|l| l.expires_at > Utc::now())
        {
            assert!(
                waiting.elapsed() < Duration::from_secs(60),
                "run {run}: the refresh lease was neither released nor expired"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let connection = records.get_connection("c1").await.unwrap().unwrap();
        assert!(
            connection.status.is_active(),
            "run {run} (cancelled after {after:?}): {:?}",
            connection.status
        );
    }
    // The stored refresh token is the live one: one more refresh, not cancelled, succeeds.
    expire(tokens.as_ref()).await;
    let token = vault.token_source("c1").access_token(None).await;
    assert!(token.is_ok(), "after {cancelled} cancellations: {token:?}");
    assert!(
        cancelled > 10,
        "the runs were cancelled at varied points: {cancelled}"
    );
}
