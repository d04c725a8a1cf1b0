//! The rotation-safe token vault against a fake Zoom token endpoint that enforces rotation,
//! on moto (Secrets Manager + DynamoDB lease) and on the in-memory fakes.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_adapters::*;
use chrono::Utc;
use common::{FakeZoom, FlakyWrites};
use ports::vault::{IDLE_REFRESH_MAX_AGE, refresh_lease_name};
use ports::*;
use zoom::{TokenError, TokenSource};

struct Env {
    records: Records,
    tokens: Arc<dyn TokenStore>,
    fake: Arc<FakeZoom>,
}

impl Env {
    fn vault(&self, tokens: Arc<dyn TokenStore>) -> TokenVault {
        TokenVault {
            tokens,
            leases: Arc::new(self.records.clone()),
            connections: Arc::new(self.records.clone()),
            refresher: self.fake.clone(),
            options: VaultOptions {
                write_backoff: Duration::from_millis(20),
                poll_interval: Duration::from_millis(100),
                ..VaultOptions::default()
            },
        }
    }

    /// A connection whose access token has expired.
    async fn connect(&self, id: &str) -> StoredTokens {
        self.records
            .insert_connection(&ConnectionRecord::new(
                id,
                format!("zoom-{id}"),
                ZoomRegion::Na,
                ConnectionSettings::default(),
                Utc::now(),
            ))
            .await
            .unwrap();
        let stored = StoredTokens {
            tokens: self
                .fake
                .authorize(Utc::now() - chrono::Duration::minutes(1)),
            refreshed_at: Utc::now() - chrono::Duration::hours(1),
        };
        self.tokens.write(id, &stored).await.unwrap();
        stored
    }
}

async fn moto_env(test: &str) -> Option<Env> {
    let moto = common::moto(test).await?;
    Some(Env {
        records: Records::dynamo(moto.clients.dynamodb.clone(), moto.table.clone()),
        tokens: Arc::new(SecretsManagerTokenStore::new(
            moto.clients.secrets.clone(),
            moto.secret_prefix.clone(),
        )),
        fake: Arc::new(FakeZoom::new()),
    })
}

fn memory_env() -> Env {
    Env {
        records: Records::in_memory(),
        tokens: Arc::new(MemoryTokenStore::new()),
        fake: Arc::new(FakeZoom::new()),
    }
}

/// 50 separate token sources (as 50 Lambda invocations would have) ask at once for a token
/// whose access token expired: exactly one refresh, all get the new token, the secret holds
/// the newest refresh token.
async fn fifty_concurrent(env: Env) {
    env.connect("c1").await;
    let vault = env.vault(env.tokens.clone());
    let mut handles = Vec::new();
    for _ in 0..50 {
        let source = vault.token_source("c1");
        handles.push(tokio::spawn(async move { source.access_token(None).await }));
    }
    let mut tokens = Vec::new();
    for h in handles {
        tokens.push(h.await.unwrap().expect("every invocation gets a token"));
    }
    assert_eq!(env.fake.refresh_count(), 1, "exactly one refresh at Zoom");
    assert_eq!(env.fake.rejected.load(Ordering::SeqCst), 0);
    let stored = env.tokens.read("c1").await.unwrap().unwrap();
    assert!(
        env.fake.is_valid(&stored.tokens.refresh_token),
        "secret holds the live refresh token"
    );
    for t in &tokens {
        assert_eq!(t.token, stored.tokens.access_token);
        assert!(t.expires_at > Utc::now());
    }
    assert!(
        env.records
            .get_lease(&refresh_lease_name("c1"))
            .await
            .unwrap()
            .is_none(),
        "lease released"
    );
    assert!(
        env.records
            .get_connection("c1")
            .await
            .unwrap()
            .unwrap()
            .status
            .is_active()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_invocations_refresh_once_moto() {
    let Some(env) = moto_env("fifty_concurrent").await else {
        return;
    };
    fifty_concurrent(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_invocations_refresh_once_memory() {
    fifty_concurrent(memory_env()).await;
}

/// With 10 s before the caller's deadline (under `MIN_TIME_FOR_REFRESH`) an expired token is
/// not refreshed: no request reaches Zoom, the secret and the lease are untouched, the
/// connection stays active, and the caller gets the transient `NoTimeToRefresh`. With 60 s
/// left the refresh happens.
async fn no_refresh_close_to_the_deadline(env: Env) {
    let original = env.connect("c1").await;
    let vault = env.vault(env.tokens.clone());
    let soon = tokio::time::Instant::now() + Duration::from_secs(10);
    let err = vault
        .token_source("c1")
        .access_token(Some(soon))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TokenError::NoTimeToRefresh { .. }) && err.is_retryable(),
        "{err}"
    );
    assert_eq!(env.fake.refresh_count(), 0, "no refresh request at Zoom");
    assert_eq!(env.tokens.read("c1").await.unwrap().unwrap(), original);
    assert!(env.fake.is_valid(&original.tokens.refresh_token));
    assert!(
        env.records
            .get_lease(&refresh_lease_name("c1"))
            .await
            .unwrap()
            .is_none(),
        "no lease taken"
    );
    assert!(
        env.records
            .get_connection("c1")
            .await
            .unwrap()
            .unwrap()
            .status
            .is_active()
    );
    let later = tokio::time::Instant::now() + Duration::from_secs(60);
    let token = vault
        .token_source("c1")
        .access_token(Some(later))
        .await
        .unwrap();
    assert_eq!(env.fake.refresh_count(), 1);
    let stored = env.tokens.read("c1").await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token, token.token);
    assert!(env.fake.is_valid(&stored.tokens.refresh_token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_refresh_close_to_the_deadline_moto() {
    let Some(env) = moto_env("no_refresh_close_to_the_deadline").await else {
        return;
    };
    no_refresh_close_to_the_deadline(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_refresh_close_to_the_deadline_memory() {
    no_refresh_close_to_the_deadline(memory_env()).await;
}

/// A valid token is served without any refresh; one instance caches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_token_needs_no_refresh() {
    let env = memory_env();
    let fresh = StoredTokens {
        tokens: env
            .fake
            .authorize(Utc::now() + chrono::Duration::minutes(50)),
        refreshed_at: Utc::now(),
    };
    env.connect("c1").await;
    env.tokens.write("c1", &fresh).await.unwrap();
    let source = env.vault(env.tokens.clone()).token_source("c1");
    let token = source.access_token(None).await.unwrap();
    assert_eq!(token.token, fresh.tokens.access_token);
    assert_eq!(env.fake.refresh_count(), 0);
    // Zoom rejects it (401/124): one forced refresh, then the new token.
    let next = source.token_rejected(&token, None).await.unwrap();
    assert_ne!(next.token, token.token);
    assert_eq!(env.fake.refresh_count(), 1);
    // Another caller reporting the same stale token gets the new one without a refresh.
    let other = env.vault(env.tokens.clone()).token_source("c1");
    assert_eq!(
        other.token_rejected(&token, None).await.unwrap().token,
        next.token
    );
    assert_eq!(env.fake.refresh_count(), 1);
    assert!(matches!(
        env.vault(env.tokens.clone())
            .token_source("nobody")
            .access_token(None)
            .await,
        Err(TokenError::Missing)
    ));
}

/// The secret write fails twice right after Zoom rotated the token: the retry stores it, the
/// caller gets the new token, the connection stays active.
async fn write_failure_survived(env: Env) {
    env.connect("c1").await;
    let flaky = Arc::new(FlakyWrites::new(env.tokens.clone(), 2));
    let vault = env.vault(flaky.clone());
    let token = vault.token_source("c1").access_token(None).await.unwrap();
    assert_eq!(env.fake.refresh_count(), 1);
    assert_eq!(flaky.write_attempts.load(Ordering::SeqCst), 3);
    let stored = env.tokens.read("c1").await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token, token.token);
    assert!(env.fake.is_valid(&stored.tokens.refresh_token));
    assert!(
        env.records
            .get_connection("c1")
            .await
            .unwrap()
            .unwrap()
            .status
            .is_active()
    );
    // The next invocation uses the stored token without refreshing.
    vault.token_source("c1").access_token(None).await.unwrap();
    assert_eq!(env.fake.refresh_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_failure_after_refresh_is_retried_moto() {
    let Some(env) = moto_env("write_failure_survived").await else {
        return;
    };
    write_failure_survived(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_failure_after_refresh_is_retried_memory() {
    write_failure_survived(memory_env()).await;
}

/// If the write keeps failing, the connection is marked as needing re-authorization with a
/// reason and the caller gets StoreFailed; the new token is never handed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_failing_for_good_marks_reauthorization() {
    let env = memory_env();
    env.connect("c1").await;
    let flaky = Arc::new(FlakyWrites::new(env.tokens.clone(), 1000));
    let vault = env.vault(flaky.clone());
    let err = vault
        .token_source("c1")
        .access_token(None)
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::StoreFailed { .. }), "{err}");
    assert_eq!(
        flaky.write_attempts.load(Ordering::SeqCst),
        VaultOptions::default().write_attempts
    );
    match env
        .records
        .get_connection("c1")
        .await
        .unwrap()
        .unwrap()
        .status
    {
        ConnectionStatus::NeedsReauthorization { reason, .. } => {
            assert!(reason.contains("Secrets Manager"), "{reason}");
            assert!(reason.contains("connected again"), "{reason}");
        }
        other => panic!("expected needs_reauthorization, got {other:?}"),
    }
    assert!(!err.to_string().contains("rt-"), "no token in the error");
}

/// invalid_grant (someone else used the refresh token outside our lease, or the grant was
/// revoked) marks the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_grant_marks_reauthorization() {
    let env = memory_env();
    let stored = env.connect("c1").await;
    // The refresh token is used elsewhere: rotated away.
    zoom::TokenRefresher::refresh(&*env.fake, &stored.tokens.refresh_token)
        .await
        .unwrap();
    let err = env
        .vault(env.tokens.clone())
        .token_source("c1")
        .access_token(None)
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::InvalidGrant { .. }), "{err}");
    assert!(matches!(
        env.records
            .get_connection("c1")
            .await
            .unwrap()
            .unwrap()
            .status,
        ConnectionStatus::NeedsReauthorization { .. }
    ));
    assert_eq!(env.fake.rejected.load(Ordering::SeqCst), 1);
    // Later invocations do not send the dead refresh token to Zoom again.
    for _ in 0..3 {
        let err = env
            .vault(env.tokens.clone())
            .token_source("c1")
            .access_token(None)
            .await
            .unwrap_err();
        assert!(matches!(err, TokenError::InvalidGrant { .. }), "{err}");
    }
    assert_eq!(env.fake.rejected.load(Ordering::SeqCst), 1);
    assert_eq!(env.fake.refresh_count(), 1, "only the outside refresh");
}

/// A holder that crashed with the lease taken blocks refreshes only until the lease expires.
async fn crashed_holder(env: Env) {
    env.connect("c1").await;
    let lease_ttl = Duration::from_secs(2);
    assert!(
        env.records
            .acquire(&refresh_lease_name("c1"), "crashed-invocation", lease_ttl)
            .await
            .unwrap()
    );
    let expires = env
        .records
        .get_lease(&refresh_lease_name("c1"))
        .await
        .unwrap()
        .unwrap()
        .expires_at;
    let vault = env.vault(env.tokens.clone());
    let token = vault.token_source("c1").access_token(None).await.unwrap();
    assert!(
        Utc::now() >= expires,
        "no refresh before the crashed holder's lease expired"
    );
    assert_eq!(env.fake.refresh_count(), 1);
    let stored = env.tokens.read("c1").await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token, token.token);
    assert!(env.fake.is_valid(&stored.tokens.refresh_token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashed_lease_holder_expires_moto() {
    let Some(env) = moto_env("crashed_holder").await else {
        return;
    };
    crashed_holder(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashed_lease_holder_expires_memory() {
    crashed_holder(memory_env()).await;
}

/// Idle connections: tokens not refreshed for `max_age` are refreshed; fresher ones and
/// inactive connections are left alone.
async fn idle_refresh(env: Env) {
    let now = Utc::now();
    for (id, age_days) in [("old", 10), ("fresh", 1), ("gone", 30)] {
        env.connect(id).await;
        let stored = StoredTokens {
            // Access token still valid: only the age of the refresh token matters.
            tokens: env.fake.authorize(now + chrono::Duration::minutes(30)),
            refreshed_at: now - chrono::Duration::days(age_days),
        };
        env.tokens.write(id, &stored).await.unwrap();
    }
    env.records
        .update_connection("gone", &|c| {
            c.status = ConnectionStatus::Deauthorized {
                at: now,
                purge_after: now + chrono::Duration::days(10),
            }
        })
        .await
        .unwrap();
    let vault = env.vault(env.tokens.clone());
    // Ten seconds before the invocation's deadline nothing is started; the next run does it.
    let late = vault
        .refresh_idle_connections(
            IDLE_REFRESH_MAX_AGE,
            now,
            Some(tokio::time::Instant::now() + std::time::Duration::from_secs(10)),
        )
        .await
        .unwrap();
    assert_eq!(late.failed.len(), 1, "{late:?}");
    assert_eq!(late.failed[0].0, "old");
    assert_eq!(env.fake.refresh_count(), 0, "no refresh started");
    let report = vault
        .refresh_idle_connections(IDLE_REFRESH_MAX_AGE, now, None)
        .await
        .unwrap();
    assert_eq!(report.checked, 2);
    assert_eq!(report.refreshed, vec!["old".to_string()]);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(env.fake.refresh_count(), 1);
    let old = env.tokens.read("old").await.unwrap().unwrap();
    assert!(old.refreshed_at >= now);
    assert!(env.fake.is_valid(&old.tokens.refresh_token));
    // Run again: nothing is due.
    let again = vault
        .refresh_idle_connections(IDLE_REFRESH_MAX_AGE, Utc::now(), None)
        .await
        .unwrap();
    assert!(again.refreshed.is_empty());
    assert_eq!(env.fake.refresh_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_refreshed_moto() {
    let Some(env) = moto_env("idle_refresh").await else {
        return;
    };
    idle_refresh(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_refreshed_memory() {
    idle_refresh(memory_env()).await;
}

/// Secrets Manager specifics: AWSCURRENT after many versions, deletion and restore.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_manager_versions_and_deletion() {
    let Some(moto) = common::moto("secrets_manager_versions_and_deletion").await else {
        return;
    };
    let store =
        SecretsManagerTokenStore::new(moto.clients.secrets.clone(), moto.secret_prefix.clone());
    let fake = FakeZoom::new();
    assert!(store.read("c1").await.unwrap().is_none());
    let mut last = None;
    for _ in 0..5 {
        let stored = StoredTokens {
            tokens: fake.authorize(Utc::now()),
            refreshed_at: Utc::now(),
        };
        store.write("c1", &stored).await.unwrap();
        last = Some(stored);
    }
    assert_eq!(store.read("c1").await.unwrap(), last);
    store.delete("c1").await.unwrap();
    assert!(
        store.read("c1").await.unwrap().is_none(),
        "deleted tokens are gone"
    );
    store.delete("c1").await.unwrap();
    // Reconnecting restores the secret with the new tokens.
    let again = StoredTokens {
        tokens: fake.authorize(Utc::now()),
        refreshed_at: Utc::now(),
    };
    store.write_new_authorization("c1", &again).await.unwrap();
    assert_eq!(store.read("c1").await.unwrap(), Some(again.clone()));
    // A first connection goes through the same call.
    store.write_new_authorization("c2", &again).await.unwrap();
    assert_eq!(store.read("c2").await.unwrap(), Some(again));
}

/// App credentials and the webhook secret are read once per process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_secrets_read_once() {
    let Some(moto) = common::moto("app_secrets_read_once").await else {
        return;
    };
    let id = common::unique("zts-test-app");
    let secrets = AppSecrets {
        apps: [(
            ZoomRegion::Eu,
            AppCredentials {
                client_id: "client-eu".into(),
                client_secret: zoom::Secret::new("eu-secret"),
            },
        )]
        .into(),
        webhook_secret_token: zoom::Secret::new("whsec"),
    };
    secrets.store(&moto.clients.secrets, &id).await.unwrap();
    let loader = AppSecretsLoader::new(moto.clients.secrets.clone(), id.clone());
    let first = loader.get().await.unwrap();
    assert_eq!(*first, secrets);
    assert_eq!(first.app(ZoomRegion::Eu).unwrap().client_id, "client-eu");
    assert!(first.app(ZoomRegion::Na).is_none());
    assert!(
        !format!("{first:?}").contains("eu-secret"),
        "Debug redacts secrets"
    );
    // Changed in Secrets Manager: this process keeps what it read at cold start.
    let changed = AppSecrets {
        webhook_secret_token: zoom::Secret::new("rotated"),
        ..secrets.clone()
    };
    changed.store(&moto.clients.secrets, &id).await.unwrap();
    assert_eq!(*loader.get().await.unwrap(), secrets);
    // A new process (cold start) sees the new value.
    let cold = AppSecretsLoader::new(moto.clients.secrets.clone(), id);
    assert_eq!(*cold.get().await.unwrap(), changed);
}
