//! OAuth against the sandbox: authorize URL, code exchange with PKCE, rotation, revoke, the
//! 401/124 path and single-flight refresh (counted by the sandbox's statistics).

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Utc;
use futures::future::join_all;
use tokio::time::Instant;
use zoom::{
    AccessToken, MemoryTokenSource, OAuthClient, Secret, TokenError, TokenSource, ZoomClient,
    ZoomError,
};
use zoom_sandbox::{RunningSandbox, SandboxConfig};

/// Walk the browser's path: authorize URL → sandbox → redirect with `code` and `state`.
async fn authorize(sb: &RunningSandbox, oauth: &OAuthClient) -> (zoom::AuthorizeRequest, Secret) {
    let request = oauth.authorize_url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http.get(request.url.clone()).send().await.unwrap();
    assert_eq!(
        response.status(),
        302,
        "authorize answered {}",
        response.status()
    );
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(common::REDIRECT_URI), "{location}");
    let url = url::Url::parse(&location).unwrap();
    let param = |k: &str| {
        url.query_pairs()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some(request.state.as_str()));
    let code = Secret::new(param("code").expect("code in redirect"));
    let _ = sb;
    (request, code)
}

#[tokio::test]
async fn authorize_url_has_state_and_pkce_and_no_scope() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let oauth = common::oauth(&sb);
    let a = oauth.authorize_url();
    let b = oauth.authorize_url();
    assert_ne!(a.state, b.state, "state must be random");
    assert_ne!(a.pkce_verifier, b.pkce_verifier);
    assert!(
        a.url
            .as_str()
            .starts_with(&format!("{}/oauth/authorize?", sb.base_url()))
    );
    let params: std::collections::BTreeMap<String, String> =
        a.url.query_pairs().into_owned().collect();
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], common::CLIENT_ID);
    assert_eq!(params["redirect_uri"], common::REDIRECT_URI);
    assert_eq!(params["code_challenge_method"], "S256");
    assert!(params["code_challenge"].len() >= 43);
    assert!(!params.contains_key("scope"));
    // The verifier is secret: Debug does not show it.
    assert!(!format!("{a:?}").contains(a.pkce_verifier.expose()));
}

#[tokio::test]
async fn code_exchange_rotation_and_typed_errors() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let oauth = common::oauth(&sb);

    let (request, code) = authorize(&sb, &oauth).await;
    let before = Utc::now();
    let tokens = oauth
        .exchange_code(&code, &request.pkce_verifier)
        .await
        .unwrap();
    let after = Utc::now();
    assert_eq!(tokens.api_url.as_deref(), Some(sb.base_url().as_str()));
    // Zoom's `expires_in` (the sandbox's access-token lifetime, 3599 s) counted from the
    // answer, which came between `before` and `after`: at most 9 s taken off as a safety
    // margin, nothing added, however long the exchange took (the upper bound used to be
    // `before` + 3600 s, which a 2 s exchange on a loaded machine exceeded).
    let ttl = chrono::Duration::seconds(sb.state.config.access_token_ttl_secs as i64);
    let lifetime = (tokens.expires_at - before).num_seconds();
    assert!(
        lifetime >= ttl.num_seconds() - 9 && tokens.expires_at <= after + ttl,
        "expires in {lifetime}s from before the exchange, {}s from after it",
        (tokens.expires_at - after).num_seconds()
    );
    assert!(tokens.scopes().any(|s| s == "user:master"));

    // Codes are single use.
    let err = oauth
        .exchange_code(&code, &request.pkce_verifier)
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::InvalidGrant { .. }), "{err:?}");

    // PKCE mismatch.
    let (_, code2) = authorize(&sb, &oauth).await;
    let err = oauth
        .exchange_code(&code2, &Secret::new("a".repeat(64)))
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::InvalidGrant { .. }), "{err:?}");

    // Rotation: the old refresh token dies at once.
    let rotated = oauth.refresh(&tokens.refresh_token).await.unwrap();
    assert_ne!(rotated.refresh_token, tokens.refresh_token);
    assert_ne!(rotated.access_token, tokens.access_token);
    let err = oauth.refresh(&tokens.refresh_token).await.unwrap_err();
    assert!(matches!(err, TokenError::InvalidGrant { .. }), "{err:?}");
    assert!(!err.is_retryable());
    let again = oauth.refresh(&rotated.refresh_token).await.unwrap();

    // Revoke ends the grant: the refresh token is refused afterwards.
    oauth.revoke(&again.access_token).await.unwrap();
    let err = oauth.refresh(&again.refresh_token).await.unwrap_err();
    assert!(matches!(err, TokenError::InvalidGrant { .. }), "{err:?}");

    // Wrong client secret: refused, but not as a dead grant.
    let mut config_app = oauth.app().clone();
    config_app.client_secret = Secret::new("wrong-secret");
    let bad =
        OAuthClient::with_http(&common::config(&sb), config_app, reqwest::Client::new()).unwrap();
    let fresh = common::test_tokens(&sb);
    let err = bad.refresh(&fresh.refresh_token).await.unwrap_err();
    assert!(matches!(err, TokenError::Rejected { .. }), "{err:?}");
    assert!(!err.to_string().contains("wrong-secret"));
}

#[tokio::test]
async fn revoked_grant_surfaces_as_invalid_grant() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let h = common::client(&sb);
    h.client.me().get().await.unwrap();
    sb.state.oauth.revoke_all();
    let err = h.client.me().get().await.unwrap_err();
    assert!(err.is_invalid_grant(), "{err:?}");
    assert!(matches!(
        err,
        ZoomError::Token(TokenError::InvalidGrant { .. })
    ));
    // The dead grant sticks: no further refresh attempts reach Zoom.
    let failures_before = sb
        .state
        .stats
        .snapshot()
        .token_failures
        .values()
        .sum::<u64>();
    let err = h.client.me().get().await.unwrap_err();
    assert!(err.is_invalid_grant());
    let failures_after = sb
        .state
        .stats
        .snapshot()
        .token_failures
        .values()
        .sum::<u64>();
    assert_eq!(failures_before, failures_after);
}

#[tokio::test]
async fn hundred_concurrent_requests_on_an_expired_token_refresh_once() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let mut tokens = common::test_tokens(&sb);
    tokens.expires_at = Utc::now() - chrono::Duration::seconds(5);
    let h = common::client_with(&sb, tokens, zoom::RateProfile::unlimited());
    let results = join_all((0..100).map(|_| {
        let c = h.client.clone();
        async move { c.me().user("me").await }
    }))
    .await;
    assert!(results.iter().all(|r| r.is_ok()));
    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.grants("refresh_token"), 1, "{:?}", stats.token_grants);
    assert_eq!(h.source.refresh_count(), 1);
}

/// Counts what the client was handed and what it reported rejected, by token.
struct Tally {
    inner: Arc<MemoryTokenSource>,
    handed: Mutex<std::collections::BTreeMap<String, u64>>,
    rejected: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Tally {
    fn new(inner: Arc<MemoryTokenSource>) -> Self {
        Self {
            inner,
            handed: Mutex::default(),
            rejected: Mutex::default(),
        }
    }

    fn count(map: &Mutex<std::collections::BTreeMap<String, u64>>, token: &AccessToken) {
        *map.lock()
            .unwrap()
            .entry(token.token.expose().to_owned())
            .or_default() += 1;
    }
}

#[async_trait]
impl TokenSource for Tally {
    async fn access_token(&self, deadline: Option<Instant>) -> Result<AccessToken, TokenError> {
        let t = self.inner.access_token(deadline).await?;
        Self::count(&self.handed, &t);
        Ok(t)
    }
    async fn token_rejected(
        &self,
        rejected: &AccessToken,
        deadline: Option<Instant>,
    ) -> Result<AccessToken, TokenError> {
        Self::count(&self.rejected, rejected);
        self.inner.token_rejected(rejected, deadline).await
    }
}

/// How many of the 100 requests go out with the old token depends on scheduling (on a loaded
/// machine the first 401 and its refresh can finish before the last requests pick a token),
/// so the test asserts what holds under any interleaving: exactly one refresh; every request
/// that used the old token saw a 401 and was retried once, with the new token, and succeeded;
/// no request saw two 401s; between 1 and 100 requests saw one.
#[tokio::test]
async fn token_rejected_by_zoom_refreshes_once_and_retries_once() {
    let sb = common::sandbox(SandboxConfig::demo().with_access_token_ttl(600)).await;
    let tokens = common::test_tokens(&sb);
    let old = tokens.access_token.expose().to_owned();
    let source = Arc::new(MemoryTokenSource::new(tokens, Arc::new(common::oauth(&sb))));
    let tally = Arc::new(Tally::new(source.clone()));
    let client = ZoomClient::builder(common::config(&sb), tally.clone())
        .rate_profile(zoom::RateProfile::unlimited())
        .retry_policy(common::fast_retries())
        .budget_key("master")
        .build()
        .unwrap();
    client.me().get().await.unwrap();
    // Zoom's clock moves past the token's expiry; our copy still looks valid, so Zoom answers
    // 401 code 124 to every concurrent request that still carries it.
    sb.state.clock.advance(700);
    let results = join_all((0..100).map(|_| {
        let c = client.clone();
        async move { c.me().get().await }
    }))
    .await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }

    // Exactly one refresh, at Zoom and in the token source.
    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.grants("refresh_token"), 1, "{:?}", stats.token_grants);
    assert_eq!(source.refresh_count(), 1);

    // Two tokens were handed out: the old one and its one replacement.
    let handed = tally.handed.lock().unwrap().clone();
    let rejected = tally.rejected.lock().unwrap().clone();
    assert_eq!(handed.len(), 2, "{handed:?}");
    let new = handed
        .keys()
        .find(|t| **t != old)
        .expect("the new token")
        .clone();
    // Only the old token was ever rejected: every request that used it (apart from the first
    // call, made before the clock moved) saw one 401; the new token saw none, so no request
    // saw a second 401.
    let saw_401 = handed[&old] - 1;
    assert_eq!(
        rejected,
        std::collections::BTreeMap::from([(old.clone(), saw_401)]),
        "rejections by token"
    );
    assert!(
        (1..=100).contains(&saw_401),
        "{saw_401} requests saw the 401"
    );
    assert_eq!(stats.status(401), saw_401);
    // Each 401 was followed by exactly one retry, with the new token; every other request
    // used the new token at once.
    assert_eq!(handed[&new], 100, "one successful attempt a request");
    let m = client.metrics();
    assert_eq!(m.token_rejections, saw_401);
    assert_eq!(m.requests, 1 + 100 + saw_401);
}

/// Records every token handed to the client, interleaved with the persist hook's writes.
struct Recording {
    inner: Arc<MemoryTokenSource>,
    log: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl TokenSource for Recording {
    async fn access_token(&self, deadline: Option<Instant>) -> Result<AccessToken, TokenError> {
        let t = self.inner.access_token(deadline).await?;
        self.log
            .lock()
            .unwrap()
            .push(format!("handed {}", t.token.expose()));
        Ok(t)
    }
    async fn token_rejected(
        &self,
        rejected: &AccessToken,
        deadline: Option<Instant>,
    ) -> Result<AccessToken, TokenError> {
        let t = self.inner.token_rejected(rejected, deadline).await?;
        self.log
            .lock()
            .unwrap()
            .push(format!("handed {}", t.token.expose()));
        Ok(t)
    }
}

#[tokio::test]
async fn rotated_refresh_token_is_stored_before_the_new_access_token_is_used() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let mut tokens = common::test_tokens(&sb);
    let original_refresh = tokens.refresh_token.clone();
    tokens.expires_at = Utc::now();
    let log = Arc::new(Mutex::new(Vec::new()));
    let stored = Arc::new(Mutex::new(None));
    let (log2, stored2) = (log.clone(), stored.clone());
    let source = Arc::new(
        MemoryTokenSource::new(tokens, Arc::new(common::oauth(&sb))).with_persist(move |set| {
            log2.lock().unwrap().push(format!(
                "stored {} with {}",
                set.refresh_token.expose(),
                set.access_token.expose()
            ));
            *stored2.lock().unwrap() = Some(set.clone());
            Ok(())
        }),
    );
    let recording = Arc::new(Recording {
        inner: source.clone(),
        log: log.clone(),
    });
    let client = ZoomClient::builder(common::config(&sb), recording)
        .build()
        .unwrap();
    client.me().get().await.unwrap();

    let stored = stored
        .lock()
        .unwrap()
        .clone()
        .expect("a refresh was persisted");
    let log = log.lock().unwrap().clone();
    let stored_at = log.iter().position(|l| l.starts_with("stored ")).unwrap();
    let first_use = log
        .iter()
        .position(|l| *l == format!("handed {}", stored.access_token.expose()))
        .expect("new token handed out");
    assert!(stored_at < first_use, "{log:?}");
    // What was stored is the only refresh token that still works.
    let oauth = common::oauth(&sb);
    assert!(matches!(
        oauth.refresh(&original_refresh).await,
        Err(TokenError::InvalidGrant { .. })
    ));
    oauth.refresh(&stored.refresh_token).await.unwrap();
}

/// A token source that must refresh but has no time to: it records the deadlines it was
/// given and refuses as the vault does.
struct NoTimeToRefresh {
    seen: Mutex<Vec<Option<Instant>>>,
}

#[async_trait]
impl TokenSource for NoTimeToRefresh {
    async fn access_token(&self, deadline: Option<Instant>) -> Result<AccessToken, TokenError> {
        self.seen.lock().unwrap().push(deadline);
        Err(TokenError::NoTimeToRefresh {
            left: deadline.map_or(std::time::Duration::MAX, |d| {
                d.saturating_duration_since(Instant::now())
            }),
            needed: std::time::Duration::from_secs(30),
        })
    }
    async fn token_rejected(
        &self,
        _rejected: &AccessToken,
        deadline: Option<Instant>,
    ) -> Result<AccessToken, TokenError> {
        self.access_token(deadline).await
    }
}

/// The token source sees the deadline the client was given (none without one), and a refresh
/// refused for lack of time ends the request as a deadline does: transient, not a dead grant,
/// and nothing reaches Zoom.
#[tokio::test]
async fn the_token_source_sees_the_callers_deadline_and_its_refusal_is_a_deadline() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let source = Arc::new(NoTimeToRefresh {
        seen: Mutex::new(Vec::new()),
    });
    let client = ZoomClient::builder(common::config(&sb), source.clone())
        .build()
        .unwrap();
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    let err = client.with_deadline(deadline).me().get().await.unwrap_err();
    match &err {
        ZoomError::DeadlineExceeded { last, .. } => assert!(
            matches!(**last, ZoomError::Token(TokenError::NoTimeToRefresh { .. })),
            "{err:?}"
        ),
        other => panic!("expected a deadline, got {other:?}"),
    }
    assert!(err.is_transient(), "{err}");
    assert!(!err.is_invalid_grant(), "{err}");
    assert!(
        err.to_string()
            .contains("not enough time left to refresh the Zoom tokens safely"),
        "{err}"
    );
    client.me().get().await.unwrap_err();
    assert_eq!(*source.seen.lock().unwrap(), vec![Some(deadline), None]);
    assert_eq!(client.metrics().requests, 0, "nothing was sent to Zoom");
}
