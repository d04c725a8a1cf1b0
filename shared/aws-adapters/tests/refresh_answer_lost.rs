//! Zoom rotated the refresh token but its answer was lost (a dropped connection, a 502 page or a
//! timeout: the sandbox's `lost` fault on `/oauth/token`), with the tokens in Secrets Manager
//! and the lease in DynamoDB (moto).
//!
//! What has to happen (REFERENCE: refresh tokens rotate on every use and the old one dies at
//! once, so the stored refresh token is dead and the new one was never seen): the call that lost
//! the answer fails as transient; the next refresh, with the stored token, gets `invalid_grant`;
//! the connection is marked needs_reauthorization once, with one `alert=needs_reauthorization`
//! log line naming it, also when several invocations find the dead token at once; every later
//! call fails at once without asking Zoom. Requests to `/oauth/token` are counted by the
//! sandbox: exactly two (the lost one and the refused one), for each kind of lost answer.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::future::join_all;
use ports::*;
use serde_json::Value;
use zoom::{OAuthClient, RateProfile, RetryPolicy, Secret, TokenError, TokenSource, ZoomClient};
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::faults::{FaultConfig, Faults, Target};

/// The OAuth client's timeout; a lost answer of the timeout kind is held longer than this.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);
const HOLD_MS: u64 = 10_000;
/// Invocations at once when the network is back.
const CONCURRENT: usize = 8;
/// Calls after the grant died: each must fail at once.
const LATER_CALLS: usize = 4;

/// The log lines, as the functions write them (JSON), kept for the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    /// The `alert=needs_reauthorization` lines.
    fn alerts(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["fields"]["alert"] == NEEDS_REAUTHORIZATION)
            .collect()
    }
}

/// Logs of this test's thread (the runtime is single-threaded, so the vault's refresh task
/// logs here too) go to `captured`.
fn capture_logs(captured: &Captured) -> tracing::subscriber::DefaultGuard {
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_default(subscriber)
}

/// Every answer of `/oauth/token` lost (and nothing else), the first one as `kind`.
fn lose_token_answers(kind: &str) -> FaultConfig {
    (0..1_000)
        .map(|seed| {
            format!("lost=1,lost_paths=/oauth/token,hold={HOLD_MS}ms,seed={seed}")
                .parse::<FaultConfig>()
                .unwrap()
        })
        .find(|c| {
            let first = Faults::new(c.clone()).next(&Target::OAUTH_TOKEN).1;
            first.is_some_and(|f| f.kind() == kind)
        })
        .unwrap_or_else(|| panic!("a seed whose first lost answer is {kind}"))
}

/// Requests that reached `/oauth/token`, and `/v2` requests.
fn token_requests(sb: &zoom_sandbox::RunningSandbox) -> u64 {
    sb.state.stats.snapshot().endpoint("POST", "/oauth/token")
}

fn api_requests(sb: &zoom_sandbox::RunningSandbox) -> u64 {
    let stats = sb.state.stats.snapshot();
    stats
        .by_endpoint
        .iter()
        .filter(|(k, _)| k.contains(" /v2/"))
        .map(|(_, n)| n)
        .sum()
}

fn zoom_client(config: &zoom::ZoomConfig, source: Arc<VaultTokenSource>) -> ZoomClient {
    ZoomClient::builder(config.clone(), source)
        .rate_profile(RateProfile::unlimited())
        .retry_policy(RetryPolicy {
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            max_attempts: 5,
            default_budget: Duration::from_secs(30),
        })
        .build()
        .expect("zoom client")
}

/// One connection through a lost refresh answer of `kind`; returns the token requests that
/// reached the sandbox.
async fn lost_refresh(kind: &str, captured: &Captured) -> Option<u64> {
    let moto = common::moto(&format!("a_lost_refresh_answer ({kind})")).await?;
    let sb = zoom_sandbox::start_local(SandboxConfig::demo())
        .await
        .expect("start sandbox");
    let config = common::sandbox_zoom_config_with_timeout(&sb, CLIENT_TIMEOUT);
    let oauth = Arc::new(OAuthClient::new(&config).expect("oauth client"));
    // `c1`'s access token has expired: its next use refreshes.
    let (records, tokens, original) = common::sandbox_connection(&moto, &sb).await;
    let vault = TokenVault {
        tokens: tokens.clone(),
        leases: Arc::new(records.clone()),
        connections: Arc::new(records.clone()),
        refresher: oauth.clone(),
        options: VaultOptions {
            poll_interval: Duration::from_millis(50),
            ..VaultOptions::default()
        },
    };
    captured.clear();
    assert_eq!(token_requests(&sb), 0);

    // 1. Zoom rotates the refresh token; the answer is lost.
    sb.state.faults.set(lose_token_answers(kind));
    let err = vault
        .token_source("c1")
        .access_token(None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TokenError::Transient { .. }),
        "{kind}: a lost answer is transient: {err:?}"
    );
    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.endpoint("POST", "/oauth/token"), 1, "{kind}");
    assert_eq!(stats.lost_at("POST", "/oauth/token"), 1, "{kind}");
    assert_eq!(stats.fault(kind), 1, "{kind}");
    assert_eq!(stats.grants("refresh_token"), 1, "{kind}: Zoom did rotate");
    let stored = tokens.read("c1").await.unwrap().expect("tokens");
    assert_eq!(
        stored.tokens.refresh_token, original.refresh_token,
        "{kind}: the vault never saw the new refresh token"
    );
    let live = sb
        .state
        .oauth
        .refresh_token_for_tests(original.access_token.expose())
        .expect("the grant lives on at Zoom");
    assert_ne!(live, original.refresh_token.expose(), "{kind}: rotated");
    let connection = records.get_connection("c1").await.unwrap().unwrap();
    assert!(
        connection.status.is_active(),
        "{kind}: nothing is known to be dead yet"
    );
    assert!(captured.alerts().is_empty(), "{kind}");

    // 2. The network is back; the next invocations (several at once) refresh with the stored,
    //    dead, token: one of them asks Zoom and gets invalid_grant, the others wait for the
    //    lease and then find the connection marked.
    sb.state.faults.clear();
    let sources: Vec<_> = (0..CONCURRENT).map(|_| vault.token_source("c1")).collect();
    let results = join_all(sources.iter().map(|s| s.access_token(None))).await;
    for result in results {
        assert!(
            matches!(result, Err(TokenError::InvalidGrant { .. })),
            "{kind}: {result:?}"
        );
    }
    assert_eq!(
        token_requests(&sb),
        2,
        "{kind}: the lost one and the refused one"
    );
    let stats = sb.state.stats.snapshot();
    assert_eq!(
        stats.token_failures.get("refresh_token"),
        Some(&1),
        "{kind}"
    );
    let connection = records.get_connection("c1").await.unwrap().unwrap();
    assert!(
        matches!(
            connection.status,
            ConnectionStatus::NeedsReauthorization { .. }
        ),
        "{kind}: {:?}",
        connection.status
    );

    // 3. Later calls (the same invocation, new invocations, the API client, the idle refresh)
    //    fail at once without asking Zoom.
    let source = Arc::new(vault.token_source("c1"));
    for call in 0..LATER_CALLS {
        let started = Instant::now();
        let result = if call % 2 == 0 {
            source.access_token(None).await
        } else {
            vault.token_source("c1").access_token(None).await
        };
        assert!(
            matches!(result, Err(TokenError::InvalidGrant { .. })),
            "{kind}, call {call}: {result:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{kind}, call {call}: {:?}",
            started.elapsed()
        );
    }
    let before_api = api_requests(&sb);
    let answer = zoom_client(&config, source.clone()).me().user("me").await;
    assert!(answer.is_err(), "{kind}: {answer:?}");
    assert_eq!(
        api_requests(&sb),
        before_api,
        "{kind}: no API request either"
    );
    let report = vault
        .refresh_idle_connections(IDLE_REFRESH_MAX_AGE, Utc::now(), None)
        .await
        .unwrap();
    assert_eq!(
        report.checked, 0,
        "{kind}: an inactive connection is skipped"
    );
    assert_eq!(token_requests(&sb), 2, "{kind}: nothing more reached Zoom");
    assert_eq!(
        tokens.read("c1").await.unwrap().expect("tokens").tokens,
        stored.tokens,
        "{kind}: the stored tokens are as they were"
    );

    // Marked once, alerted once, naming the connection.
    let alerts = captured.alerts();
    assert_eq!(alerts.len(), 1, "{kind}: {alerts:#?}");
    assert_eq!(alerts[0]["fields"]["connection_id"], "c1");
    assert_eq!(alerts[0]["level"], "WARN");
    assert!(
        alerts[0]["fields"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("invalid_grant")),
        "{kind}: {alerts:#?}"
    );

    // For the record: the grant lives on at Zoom with the token the lost answer carried, out
    // of reach; a new authorization of the account replaces it.
    let requests = token_requests(&sb);
    zoom::TokenRefresher::refresh(&*oauth, &Secret::new(live))
        .await
        .expect("the rotated refresh token works");
    sb.shutdown().await;
    Some(requests)
}

#[tokio::test]
async fn a_lost_refresh_answer_marks_the_connection_once_and_never_loops() {
    let captured = Captured::default();
    let _logs = capture_logs(&captured);
    for kind in ["lost_drop", "lost_502", "lost_timeout"] {
        let Some(requests) = lost_refresh(kind, &captured).await else {
            return;
        };
        eprintln!("{kind}: {requests} requests reached /oauth/token");
        assert_eq!(requests, 2, "{kind}");
    }
}

/// While every answer is lost the vault cannot tell the grant died: each call costs exactly one
/// token request (the vault never retries one by itself) and the connection stays active. The
/// first answer that arrives is the `invalid_grant` and ends it.
#[tokio::test]
async fn while_answers_keep_getting_lost_each_call_costs_one_request() {
    let Some(moto) =
        common::moto("while_answers_keep_getting_lost_each_call_costs_one_request").await
    else {
        return;
    };
    let captured = Captured::default();
    let _logs = capture_logs(&captured);
    let sb = zoom_sandbox::start_local(SandboxConfig::demo())
        .await
        .expect("start sandbox");
    let config = common::sandbox_zoom_config_with_timeout(&sb, CLIENT_TIMEOUT);
    let (records, tokens, _) = common::sandbox_connection(&moto, &sb).await;
    let vault = TokenVault {
        tokens,
        leases: Arc::new(records.clone()),
        connections: Arc::new(records.clone()),
        refresher: Arc::new(OAuthClient::new(&config).expect("oauth client")),
        options: VaultOptions {
            poll_interval: Duration::from_millis(50),
            ..VaultOptions::default()
        },
    };
    // A seed whose first answers are 502s and drops, no holds (a fast test); the kinds are
    // the other test's concern.
    let calls = 4;
    let faults = (0..1_000)
        .map(|seed| {
            format!("lost=1,lost_paths=/oauth/token,hold={HOLD_MS}ms,seed={seed}")
                .parse::<FaultConfig>()
                .unwrap()
        })
        .find(|c| {
            let preview = Faults::new(c.clone());
            (0..calls).all(|_| {
                preview
                    .next(&Target::OAUTH_TOKEN)
                    .1
                    .is_some_and(|f| f.kind() != "lost_timeout")
            })
        })
        .expect("a seed without holds");
    sb.state.faults.set(faults);
    for call in 1..=calls {
        let err = vault
            .token_source("c1")
            .access_token(None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, TokenError::Transient { .. }),
            "call {call}: {err:?}"
        );
        assert_eq!(token_requests(&sb), call, "one request per call");
    }
    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.lost_at("POST", "/oauth/token"), calls);
    assert_eq!(stats.grants("refresh_token"), 1, "the first rotated");
    assert_eq!(
        stats.token_failures.get("refresh_token"),
        Some(&(calls - 1)),
        "the others were refused, unheard"
    );
    let connection = records.get_connection("c1").await.unwrap().unwrap();
    assert!(connection.status.is_active(), "{:?}", connection.status);
    assert!(captured.alerts().is_empty());

    sb.state.faults.clear();
    let err = vault
        .token_source("c1")
        .access_token(None)
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::InvalidGrant { .. }), "{err:?}");
    assert_eq!(token_requests(&sb), calls + 1);
    let connection = records.get_connection("c1").await.unwrap().unwrap();
    assert!(!connection.status.is_active());
    assert_eq!(captured.alerts().len(), 1);
    let err = vault
        .token_source("c1")
        .access_token(None)
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::InvalidGrant { .. }), "{err:?}");
    assert_eq!(token_requests(&sb), calls + 1);
    assert_eq!(captured.alerts().len(), 1);
    sb.shutdown().await;
}
