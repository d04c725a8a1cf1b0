//! Zoom webhook deliveries (REFERENCE §6), signed exactly as Zoom signs them:
//! `x-zm-request-timestamp: <unix seconds>` and
//! `x-zm-signature: v0=hex(HMAC-SHA256(secret, "v0:{timestamp}:{raw body}"))`.
//!
//! In process: [`send_app_deauthorized`], [`send_url_validation`]; over HTTP:
//! `POST /_sandbox/webhooks/send` (see `control.rs`).

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::AuthorizeAs;
use crate::state::SandboxState;

type HmacSha256 = Hmac<Sha256>;

/// `"v0=" + hex(HMAC-SHA256(secret, "v0:{timestamp}:{body}"))`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// `hex(HMAC-SHA256(secret, plainToken))`, the answer to a URL-validation challenge.
pub fn encrypted_token(secret: &str, plain_token: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(plain_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// How to send (defaults: a correct signature and a fresh timestamp).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendOptions {
    /// Sign with a wrong secret (the receiver must refuse it).
    pub bad_signature: bool,
    /// Shift the timestamp (e.g. `-600` for a stale one), seconds.
    pub timestamp_offset_secs: i64,
    /// App whose webhook secret signs the event (the first app when absent).
    pub client_id: Option<String>,
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub status: u16,
    pub body: String,
    /// The exact body sent, and its timestamp and signature headers (for tests).
    pub sent_body: String,
    pub timestamp: i64,
    pub signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("unknown app client id")]
    UnknownApp,
    #[error("webhook delivery failed: {0}")]
    Delivery(String),
}

fn app<'a>(
    state: &'a SandboxState,
    opts: &SendOptions,
) -> Result<&'a crate::config::OAuthApp, WebhookError> {
    match &opts.client_id {
        Some(id) => state.config.app(id).ok_or(WebhookError::UnknownApp),
        None => state.config.apps.first().ok_or(WebhookError::UnknownApp),
    }
}

async fn deliver(
    state: &SandboxState,
    url: &str,
    secret: &str,
    body: String,
    opts: &SendOptions,
) -> Result<Delivery, WebhookError> {
    let timestamp = state.clock.now().timestamp() + opts.timestamp_offset_secs;
    let signing_secret = if opts.bad_signature {
        format!("not-{secret}")
    } else {
        secret.to_string()
    };
    let signature = signature(&signing_secret, timestamp, body.as_bytes());
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .user_agent("Zoom Marketplace/1.0a")
        .build()
        .map_err(|e| WebhookError::Delivery(e.to_string()))?;
    let response = client
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header("x-zm-request-timestamp", timestamp.to_string())
        .header("x-zm-signature", &signature)
        .header("x-zm-request-id", crate::error::tracking_id())
        .header("x-zm-trackingid", crate::error::tracking_id())
        .body(body.clone())
        .send()
        .await
        .map_err(|e| WebhookError::Delivery(e.without_url().to_string()))?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|e| WebhookError::Delivery(e.without_url().to_string()))?;
    tracing::info!(status, "webhook delivered");
    Ok(Delivery {
        status,
        body: text,
        sent_body: body,
        timestamp,
        signature,
    })
}

/// The `app_deauthorized` event Zoom sends when `who`'s account uninstalls the app.
pub fn app_deauthorized_body(state: &SandboxState, who: AuthorizeAs, client_id: &str) -> String {
    use rand::RngExt;
    let identity = crate::oauth::identity(state, who);
    let now = state.clock.now();
    let id: u128 = rand::rng().random();
    serde_json::json!({
        "event": "app_deauthorized",
        "event_ts": now.timestamp_millis(),
        "payload": {
            "account_id": identity.account_id,
            "user_id": identity.user_id,
            "client_id": client_id,
            "deauthorization_time": now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "signature": format!("{id:032x}"),
        }
    })
    .to_string()
}

/// Send a signed `app_deauthorized` event for `who`'s account to `url`. Like Zoom, the
/// sandbox first revokes that app's grants on that account.
pub async fn send_app_deauthorized(
    state: &SandboxState,
    url: &str,
    who: AuthorizeAs,
    opts: &SendOptions,
) -> Result<Delivery, WebhookError> {
    let app = app(state, opts)?;
    let account = crate::oauth::identity(state, who).account_id;
    let revoked = state.oauth.revoke_app_account(&app.client_id, &account);
    state.stats.record_revocations(revoked);
    let body = app_deauthorized_body(state, who, &app.client_id);
    deliver(state, url, &app.webhook_secret, body, opts).await
}

/// Send the `endpoint.url_validation` challenge. The receiver should answer
/// `{"plainToken": …, "encryptedToken": hex(HMAC-SHA256(secret, plainToken))}`
/// (check with [`encrypted_token`]).
pub async fn send_url_validation(
    state: &SandboxState,
    url: &str,
    plain_token: &str,
    opts: &SendOptions,
) -> Result<Delivery, WebhookError> {
    let app = app(state, opts)?;
    let body = serde_json::json!({
        "payload": { "plainToken": plain_token },
        "event_ts": state.clock.now().timestamp_millis(),
        "event": "endpoint.url_validation",
    })
    .to_string();
    deliver(state, url, &app.webhook_secret, body, opts).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_an_independent_hmac() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog") (RFC 4231 style
        // well-known vector): f7bc83f4…
        let mut mac = HmacSha256::new_from_slice(b"key").unwrap();
        mac.update(b"The quick brown fox jumps over the lazy dog");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        let s = signature("secret", 1_700_000_000, b"{}");
        assert!(s.starts_with("v0=") && s.len() == 3 + 64);
        assert_ne!(s, signature("secret", 1_700_000_001, b"{}"));
    }
}
