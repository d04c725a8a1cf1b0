//! Injected faults: configured shares, seeded determinism, and each kind's behaviour on the wire.

mod oauth_common;

use std::time::{Duration, Instant};

use oauth_common::*;
use reqwest::Method;
use serde_json::{Value, json};
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::faults::FaultConfig;

fn with_faults(spec: &str) -> SandboxConfig {
    SandboxConfig::demo().with_faults(spec.parse::<FaultConfig>().unwrap())
}

/// Statuses of `n` sequential requests (`0` for a connection error).
async fn statuses(sb: &zoom_sandbox::RunningSandbox, token: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let r = http()
            .get(format!("{}/users/me", sb.api_base_url()))
            .bearer_auth(token)
            .send()
            .await;
        out.push(match r {
            Ok(r) => {
                let status = r.status().as_u16();
                // A dropped connection may also surface while reading the body.
                match r.bytes().await {
                    Ok(_) => status,
                    Err(_) => 0,
                }
            }
            Err(_) => 0,
        });
    }
    out
}

fn share(xs: &[u16], status: u16) -> f64 {
    xs.iter().filter(|s| **s == status).count() as f64 / xs.len() as f64
}

#[tokio::test]
async fn server_errors_come_at_the_configured_shares_and_follow_the_seed() {
    let run = |spec: &'static str| async move {
        let sb = start(with_faults(spec)).await;
        let token = sb.state.issue_token_for_tests(&[]).access_token;
        let got = statuses(&sb, &token, 300).await;
        let stats = sb.state.stats.snapshot();
        (got, stats)
    };
    let (a, stats) = run("500=0.1,502=0.05,503=0.1,seed=7").await;
    let (b, _) = run("500=0.1,502=0.05,503=0.1,seed=7").await;
    let (c, _) = run("500=0.1,502=0.05,503=0.1,seed=8").await;
    assert_eq!(a, b, "same seed, same faults at the same requests");
    assert_ne!(a, c, "another seed, other requests");
    for (status, expected) in [(500, 0.1), (502, 0.05), (503, 0.1)] {
        let got = share(&a, status);
        assert!(
            (got - expected).abs() < 0.06,
            "{status}: {got} vs {expected}"
        );
        assert_eq!(
            stats.fault(&status.to_string()),
            a.iter().filter(|s| **s == status).count() as u64
        );
    }
    assert_eq!(
        share(&a, 200) + share(&a, 500) + share(&a, 502) + share(&a, 503),
        1.0
    );
}

#[tokio::test]
async fn server_error_bodies_look_like_zooms() {
    let sb = start(with_faults("500=1")).await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    let r = api_get(&sb, &token, "/users/me").await;
    assert_eq!(r.status().as_u16(), 500);
    assert!(header(&r, "x-zm-trackingid").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 500);
    assert!(body["message"].is_string());

    let (s, _) = control(&sb, Method::POST, "faults", Some(json!({"spec": "502=1"}))).await;
    assert_eq!(s, 200);
    let r = api_get(&sb, &token, "/users/me").await;
    assert_eq!(r.status().as_u16(), 502);
    assert!(r.text().await.unwrap().contains("Bad Gateway"));
}

#[tokio::test]
async fn dropped_connections_close_without_a_response() {
    let sb = start(with_faults("drop=0.25,seed=3")).await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    let got = statuses(&sb, &token, 120).await;
    let dropped = got.iter().filter(|s| **s == 0).count();
    assert!((12..=50).contains(&dropped), "{dropped} of 120 dropped");
    assert_eq!(got.iter().filter(|s| **s == 200).count(), 120 - dropped);
    assert_eq!(sb.state.stats.snapshot().fault("drop"), dropped as u64);
}

#[tokio::test]
async fn timeouts_hold_the_request_past_the_clients_timeout() {
    let sb = start(with_faults("timeout=1,hold=60s")).await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let err = client
        .get(format!("{}/users/me", sb.api_base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(sb.state.stats.snapshot().fault("timeout"), 1);
    // Held requests do not keep the sandbox from shutting down.
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(30), sb.shutdown())
        .await
        .expect("shutdown does not wait for held requests");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn latency_is_added_to_every_request() {
    let sb = start(with_faults("latency=300ms,jitter=50ms")).await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(api_get(&sb, &token, "/users/me").await.status(), 200);
        assert!(started.elapsed() >= Duration::from_millis(300));
    }
}

#[tokio::test]
async fn bursts_of_429_and_revoked_tokens_on_demand() {
    let sb = start(SandboxConfig::demo()).await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    assert_eq!(api_get(&sb, &token, "/users/me").await.status(), 200);

    let (s, cfg) = control(&sb, Method::POST, "faults", Some(json!({"burst_429": 3}))).await;
    assert_eq!(s, 200);
    assert_eq!(cfg["burst_429"], 3);
    for _ in 0..3 {
        let r = api_get(&sb, &token, "/users/me").await;
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(header(&r, "x-ratelimit-type"), Some("QPS"));
        assert_eq!(header(&r, "x-ratelimit-category"), Some("Light"));
        assert!(header(&r, "retry-after").is_some());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], 429);
    }
    assert_eq!(api_get(&sb, &token, "/users/me").await.status(), 200);
    assert_eq!(sb.state.stats.snapshot().fault("429"), 3);

    let (s, _) = control(
        &sb,
        Method::POST,
        "faults",
        Some(json!({"revoke_tokens": true})),
    )
    .await;
    assert_eq!(s, 200);
    let r = api_get(&sb, &token, "/users/me").await;
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 124);
}

#[tokio::test]
async fn control_api_sets_and_clears_faults() {
    let sb = start(SandboxConfig::demo()).await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    let (s, cfg) = control(
        &sb,
        Method::POST,
        "faults",
        Some(json!({"spec": "503=1,latency=5ms"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(cfg["error_503"], 1.0);
    assert_eq!(cfg["latency_ms"], 5);
    let r = api_get(&sb, &token, "/users/me").await;
    assert_eq!(r.status().as_u16(), 503);
    let (s, _) = control(&sb, Method::DELETE, "faults", None).await;
    assert_eq!(s, 200);
    assert_eq!(api_get(&sb, &token, "/users/me").await.status(), 200);

    for bad in [
        json!({"spec": "drop=2"}),
        json!({"spec": "colour=red"}),
        json!({"drop": 0.7, "error_500": 0.7}),
        json!({"unknown_field": 1}),
    ] {
        let (s, body) = control(&sb, Method::POST, "faults", Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad}");
        assert!(body["error"].is_string());
    }
    assert_eq!(api_get(&sb, &token, "/users/me").await.status(), 200);
}

#[tokio::test]
async fn the_token_endpoint_is_faulted_only_when_asked() {
    let sb = start(with_faults("503=1")).await;
    let master = sb.state.tenant.master_account_id().to_string();
    let form = [
        ("grant_type", "account_credentials"),
        ("account_id", master.as_str()),
    ];
    let (status, body) = token(&sb, &form).await;
    assert_eq!(status, 200);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(api_get(&sb, access, "/users/me").await.status(), 503);

    control(
        &sb,
        Method::POST,
        "faults",
        Some(json!({"error_503": 1.0, "oauth": true})),
    )
    .await;
    let (status, _) = token(&sb, &form).await;
    assert_eq!(status, 503);
    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.endpoint("POST", "/oauth/token"), 2);
    assert_eq!(stats.fault("503"), 2);
}
