//! Shared test helpers: moto connection (or skip/fail), per-test table and secret names, a
//! fake Zoom token endpoint that enforces rotation.
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_adapters::{AwsClients, AwsConfig, create_table_if_missing};
use chrono::{DateTime, Utc};
use ports::{StoreError, StoredTokens, TokenStore};
use rand::RngExt;
use zoom::{Secret, TokenError, TokenRefresher, TokenSet};

/// A random suffix so tests can share one moto.
pub(crate) fn unique(prefix: &str) -> String {
    let n: u64 = rand::rng().random();
    format!("{prefix}-{n:016x}")
}

pub(crate) struct Moto {
    pub clients: AwsClients,
    pub table: String,
    pub secret_prefix: String,
}

/// Clients pointed at moto with a fresh table, or `None` (after a printed notice) when no
/// endpoint is configured and `ZTS_REQUIRE_AWS` is unset. Under `make test`
/// (`ZTS_REQUIRE_AWS=1`) a missing endpoint fails the test.
pub(crate) async fn moto(test: &str) -> Option<Moto> {
    let config = AwsConfig::from_env();
    let Some(endpoint) = config.endpoint_url.clone() else {
        let required = std::env::var("ZTS_REQUIRE_AWS").is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "{test}: ZTS_REQUIRE_AWS is set but ZTS_AWS_ENDPOINT_URL is not: run the tests with \
             tools/local/test.sh (it starts moto), or `tools/local/moto.sh start` and \
             `eval \"$(tools/local/moto.sh env)\"`"
        );
        eprintln!(
            "NOTICE {test}: skipped, ZTS_AWS_ENDPOINT_URL is not set (start moto: \
             tools/local/moto.sh start && eval \"$(tools/local/moto.sh env)\")"
        );
        return None;
    };
    assert!(
        endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost"),
        "tests only run against a local endpoint, not {endpoint}"
    );
    let clients = AwsClients::new(&config).await;
    let table = unique("zts-test");
    create_table_if_missing(&clients.dynamodb, &table)
        .await
        .expect("create test table in moto");
    Some(Moto {
        clients,
        table,
        secret_prefix: format!("{}/", unique("zts-test-tokens")),
    })
}

/// Fake Zoom token endpoint with Zoom's rotation: each refresh token works once; reuse gets
/// `invalid_grant`. Counts successful refreshes.
pub(crate) struct FakeZoom {
    valid: Mutex<HashSet<String>>,
    issued: AtomicUsize,
    pub refreshes: AtomicUsize,
    pub rejected: AtomicUsize,
    pub latency: Duration,
    pub access_ttl: chrono::Duration,
}

impl FakeZoom {
    pub(crate) fn new() -> Self {
        Self {
            valid: Mutex::new(HashSet::new()),
            issued: AtomicUsize::new(0),
            refreshes: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
            latency: Duration::from_millis(50),
            access_ttl: chrono::Duration::seconds(3599),
        }
    }

    /// A fresh authorization whose access token expires at `expires_at`.
    pub(crate) fn authorize(&self, expires_at: DateTime<Utc>) -> TokenSet {
        let n = self.issued.fetch_add(1, Ordering::SeqCst);
        let refresh = format!("rt-{n}");
        self.valid.lock().unwrap().insert(refresh.clone());
        TokenSet {
            access_token: Secret::new(format!("at-{n}")),
            refresh_token: Secret::new(refresh),
            expires_at,
            scope: "user:read:admin".into(),
            api_url: Some("https://api.zoom.us".into()),
        }
    }

    pub(crate) fn is_valid(&self, refresh_token: &Secret) -> bool {
        self.valid.lock().unwrap().contains(refresh_token.expose())
    }

    pub(crate) fn refresh_count(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenRefresher for FakeZoom {
    async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, TokenError> {
        tokio::time::sleep(self.latency).await;
        let n = self.issued.fetch_add(1, Ordering::SeqCst);
        let refresh = format!("rt-{n}");
        {
            let mut valid = self.valid.lock().unwrap();
            if !valid.remove(refresh_token.expose()) {
                self.rejected.fetch_add(1, Ordering::SeqCst);
                return Err(TokenError::InvalidGrant {
                    reason: "Invalid Token!".into(),
                });
            }
            valid.insert(refresh.clone());
        }
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Ok(TokenSet {
            access_token: Secret::new(format!("at-{n}")),
            refresh_token: Secret::new(refresh),
            expires_at: Utc::now() + self.access_ttl,
            scope: "user:read:admin".into(),
            api_url: Some("https://api.zoom.us".into()),
        })
    }
}

/// Wraps a token store and fails its next `fail_writes` writes (a failure between Zoom's
/// refresh and the secret write).
pub(crate) struct FlakyWrites<S> {
    pub inner: S,
    pub fail_writes: AtomicU32,
    pub write_attempts: AtomicU32,
}

impl<S> FlakyWrites<S> {
    pub(crate) fn new(inner: S, fail_writes: u32) -> Self {
        Self {
            inner,
            fail_writes: AtomicU32::new(fail_writes),
            write_attempts: AtomicU32::new(0),
        }
    }
}

#[async_trait]
impl<S: TokenStore> TokenStore for FlakyWrites<S> {
    async fn read(&self, connection_id: &str) -> Result<Option<StoredTokens>, StoreError> {
        self.inner.read(connection_id).await
    }
    async fn write(&self, connection_id: &str, tokens: &StoredTokens) -> Result<(), StoreError> {
        self.write_attempts.fetch_add(1, Ordering::SeqCst);
        let failing = self
            .fail_writes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(StoreError::Secrets {
                op: "PutSecretValue",
                message: "injected failure: service unavailable".into(),
            });
        }
        self.inner.write(connection_id, tokens).await
    }
    async fn delete(&self, connection_id: &str) -> Result<(), StoreError> {
        self.inner.delete(connection_id).await
    }
}

/// The Zoom configuration of the sandbox's demo app, on a running sandbox.
pub(crate) fn sandbox_zoom_config(sb: &zoom_sandbox::RunningSandbox) -> zoom::ZoomConfig {
    sandbox_zoom_config_with_timeout(sb, Duration::from_secs(10))
}

/// As [`sandbox_zoom_config`], with the client's request timeout `timeout`.
pub(crate) fn sandbox_zoom_config_with_timeout(
    sb: &zoom_sandbox::RunningSandbox,
    timeout: Duration,
) -> zoom::ZoomConfig {
    let demo = zoom_sandbox::SandboxConfig::demo();
    let app = &demo.apps[0];
    zoom::ZoomConfig::builder()
        .region(zoom::Region::Na)
        .app(
            zoom::Region::Na,
            zoom::OAuthApp::new(
                app.client_id.clone(),
                Secret::new(app.client_secret.clone()),
                app.redirect_uris[0].clone(),
            ),
        )
        .oauth_base(sb.base_url())
        .request_timeout(timeout)
        .build()
        .expect("zoom config")
}

/// Connection `c1` on moto (table and token secret) holding a grant of the running sandbox
/// whose access token has expired, so the next use refreshes at the sandbox. Returns the
/// records, the token store and the stored tokens.
pub(crate) async fn sandbox_connection(
    moto: &Moto,
    sb: &zoom_sandbox::RunningSandbox,
) -> (
    aws_adapters::Records,
    std::sync::Arc<dyn TokenStore>,
    TokenSet,
) {
    use ports::{ConnectionRecord, ConnectionSettings, ConnectionStore, ZoomRegion};
    let records = aws_adapters::Records::dynamo(moto.clients.dynamodb.clone(), moto.table.clone());
    let tokens: std::sync::Arc<dyn TokenStore> =
        std::sync::Arc::new(aws_adapters::SecretsManagerTokenStore::new(
            moto.clients.secrets.clone(),
            moto.secret_prefix.clone(),
        ));
    records
        .insert_connection(&ConnectionRecord::new(
            "c1",
            "master",
            ZoomRegion::Na,
            ConnectionSettings::default(),
            Utc::now(),
        ))
        .await
        .unwrap();
    let granted = sb.state.issue_token_for_tests(&[]);
    let original = TokenSet {
        access_token: Secret::new(granted.access_token),
        refresh_token: Secret::new(granted.refresh_token.expect("refresh token")),
        expires_at: Utc::now() - chrono::Duration::seconds(5),
        scope: granted.scope,
        api_url: Some(granted.api_url),
    };
    tokens
        .write_new_authorization(
            "c1",
            &StoredTokens {
                tokens: original.clone(),
                refreshed_at: Utc::now() - chrono::Duration::hours(1),
            },
        )
        .await
        .unwrap();
    (records, tokens, original)
}
