//! Webhooks: signed exactly as Zoom signs them, checked by an independent receiver that
//! recomputes the HMAC from the raw body.

mod oauth_common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use oauth_common::*;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::config::AuthorizeAs;
use zoom_sandbox::webhooks::{self, SendOptions};

#[derive(Clone, Debug)]
struct Received {
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

#[derive(Clone)]
struct Receiver {
    secret: String,
    seen: Arc<Mutex<Vec<Received>>>,
}

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// A receiver as the connector's: verify the signature over the raw body, answer the CRC.
async fn receive(
    State(rx): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let get = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let received = Received {
        timestamp: get("x-zm-request-timestamp"),
        signature: get("x-zm-signature"),
        body: body.to_vec(),
    };
    rx.seen.lock().unwrap().push(received.clone());
    let mut message = format!("v0:{}:", received.timestamp).into_bytes();
    message.extend_from_slice(&body);
    let expected = format!("v0={}", hmac_hex(&rx.secret, &message));
    if expected != received.signature {
        return (StatusCode::UNAUTHORIZED, "bad signature".into());
    }
    let event: Value = serde_json::from_slice(&body).unwrap();
    if event["event"] == "endpoint.url_validation" {
        let plain = event["payload"]["plainToken"].as_str().unwrap();
        let answer =
            json!({"plainToken": plain, "encryptedToken": hmac_hex(&rx.secret, plain.as_bytes())});
        return (StatusCode::OK, answer.to_string());
    }
    (StatusCode::OK, "thanks".into())
}

async fn receiver(secret: &str) -> (String, Receiver) {
    let rx = Receiver {
        secret: secret.to_string(),
        seen: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/zoom/events", axum::routing::post(receive))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}/zoom/events"), rx)
}

#[tokio::test]
async fn app_deauthorized_is_signed_as_zoom_signs_and_revokes_the_grant() {
    let sb = start(SandboxConfig::demo()).await;
    let secret = sb.state.config.apps[0].webhook_secret.clone();
    let (url, rx) = receiver(&secret).await;
    let (access, refresh_token, _) = connect(&sb).await;

    let (status, delivery) = control(
        &sb,
        Method::POST,
        "webhooks/send",
        Some(json!({"url": url, "event": "app_deauthorized"})),
    )
    .await;
    assert_eq!(status, 200, "{delivery}");
    assert_eq!(
        delivery["status"], 200,
        "the receiver accepted the signature"
    );
    assert_eq!(delivery["body"], "thanks");

    let seen = rx.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let event: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(event["event"], "app_deauthorized");
    assert!(event["event_ts"].as_i64().unwrap() > 1_600_000_000_000);
    let p = &event["payload"];
    assert_eq!(p["account_id"], sb.state.tenant.master_account_id());
    assert_eq!(p["user_id"], sb.state.tenant.master_owner_user_id());
    assert_eq!(p["client_id"], client_id(&sb));
    assert!(
        p["deauthorization_time"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .is_ok()
    );
    let ts: i64 = seen[0].timestamp.parse().unwrap();
    assert!((ts - chrono::Utc::now().timestamp()).abs() < 60);

    // Uninstalling ended the grant.
    assert_eq!(api_get(&sb, &access, "/users/me").await.status(), 401);
    let (status, body) = refresh(&sb, &refresh_token).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn bad_signatures_and_stale_timestamps_on_request() {
    let sb = start(SandboxConfig::demo()).await;
    let secret = sb.state.config.apps[0].webhook_secret.clone();
    let (url, rx) = receiver(&secret).await;

    let (_, delivery) = control(
        &sb,
        Method::POST,
        "webhooks/send",
        Some(json!({"url": url, "bad_signature": true})),
    )
    .await;
    assert_eq!(delivery["status"], 401, "{delivery}");

    let (_, delivery) = control(
        &sb,
        Method::POST,
        "webhooks/send",
        Some(json!({"url": url, "timestamp_offset_secs": -600})),
    )
    .await;
    // Correctly signed, but ten minutes old.
    assert_eq!(delivery["status"], 200);
    let seen = rx.seen.lock().unwrap().clone();
    let ts: i64 = seen[1].timestamp.parse().unwrap();
    let age = chrono::Utc::now().timestamp() - ts;
    assert!((590..=700).contains(&age), "{age}");
}

#[tokio::test]
async fn url_validation_challenge() {
    let sb = start(SandboxConfig::demo()).await;
    let secret = sb.state.config.apps[0].webhook_secret.clone();
    let (url, _rx) = receiver(&secret).await;
    let (status, delivery) = control(
        &sb,
        Method::POST,
        "webhooks/send",
        Some(json!({"url": url, "event": "endpoint.url_validation", "plain_token": "qgg8vlvZRS6UYooatFL8Aw"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(delivery["status"], 200);
    let answer: Value = serde_json::from_str(delivery["body"].as_str().unwrap()).unwrap();
    assert_eq!(answer["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(
        answer["encryptedToken"],
        webhooks::encrypted_token(&secret, "qgg8vlvZRS6UYooatFL8Aw")
    );
    let sent: Value = serde_json::from_str(delivery["sent_body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["event"], "endpoint.url_validation");
}

#[tokio::test]
async fn in_process_sender_for_the_standalone_account() {
    let sb = start(SandboxConfig::demo()).await;
    let secret = sb.state.config.apps[0].webhook_secret.clone();
    let (url, _rx) = receiver(&secret).await;
    let d = webhooks::send_app_deauthorized(
        &sb.state,
        &url,
        AuthorizeAs::Standalone,
        &SendOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(d.status, 200);
    // The signature the sandbox reports is the one recomputed independently.
    let mut message = format!("v0:{}:", d.timestamp).into_bytes();
    message.extend_from_slice(d.sent_body.as_bytes());
    assert_eq!(d.signature, format!("v0={}", hmac_hex(&secret, &message)));
    let event: Value = serde_json::from_str(&d.sent_body).unwrap();
    assert_eq!(
        event["payload"]["account_id"],
        sb.state.tenant.standalone_account_id()
    );

    // An unreachable receiver is an error, not a panic.
    let (status, body) = control(
        &sb,
        Method::POST,
        "webhooks/send",
        Some(json!({"url": "http://127.0.0.1:9/nothing"})),
    )
    .await;
    assert_eq!(status, 502);
    assert!(body["error"].is_string());
}
