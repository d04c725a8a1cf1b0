//! Zoom's event notifications (REFERENCE §6): signature check, URL validation, and
//! `app_deauthorized`.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zoom::Secret;

use ports::{ConnectionStatus, ConnectionStore, StoreError, TokenStore};

use crate::error::WebhookError;

type HmacSha256 = Hmac<Sha256>;

/// Oldest (or furthest in the future) request timestamp accepted, in seconds. Zoom documents
/// no tolerance; five minutes is the usual choice and bounds replays of a captured event.
pub const MAX_TIMESTAMP_SKEW_SECS: i64 = 300;

pub const SIGNATURE_HEADER: &str = "x-zm-signature";
pub const TIMESTAMP_HEADER: &str = "x-zm-request-timestamp";

fn mac(secret: &Secret) -> HmacSha256 {
    HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes keys of any length")
}

/// `"v0=" + hex(HMAC-SHA256(secret, "v0:{timestamp}:{body}"))` over the raw body bytes.
pub fn signature(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// `hex(HMAC-SHA256(secret, plainToken))`, the answer to `endpoint.url_validation`.
pub fn encrypted_token(secret: &Secret, plain_token: &str) -> String {
    let mut mac = mac(secret);
    mac.update(plain_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks `x-zm-signature` over the raw `body` (constant-time) and that
/// `x-zm-request-timestamp` is within [`MAX_TIMESTAMP_SKEW_SECS`] of `now`.
pub fn verify(
    secret: &Secret,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), WebhookError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let given = header(SIGNATURE_HEADER)
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::MissingSignature)?;
    let timestamp = header(TIMESTAMP_HEADER).ok_or(WebhookError::BadTimestamp)?;
    let seconds: i64 = timestamp.parse().map_err(|_| WebhookError::BadTimestamp)?;
    let expected = signature(secret, timestamp, body);
    if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(WebhookError::BadSignature);
    }
    let age_secs = now.timestamp().saturating_sub(seconds);
    if age_secs.unsigned_abs() > MAX_TIMESTAMP_SKEW_SECS as u64 {
        return Err(WebhookError::StaleTimestamp { age_secs });
    }
    Ok(())
}

/// A Zoom event, leniently parsed (unknown fields ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub event: String,
    #[serde(default)]
    pub payload: Value,
}

impl Event {
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        serde_json::from_slice(body).map_err(|e| {
            WebhookError::Malformed(format!("line {}, column {}", e.line(), e.column()))
        })
    }

    fn payload_str(&self, field: &str) -> Option<&str> {
        self.payload
            .get(field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    pub fn plain_token(&self) -> Option<&str> {
        self.payload_str("plainToken")
    }

    pub fn account_id(&self) -> Option<&str> {
        self.payload_str("account_id")
    }

    pub fn client_id(&self) -> Option<&str> {
        self.payload_str("client_id")
    }

    /// `payload.deauthorization_time`, if present and a valid RFC 3339 time.
    pub fn deauthorization_time(&self) -> Option<DateTime<Utc>> {
        self.payload_str("deauthorization_time")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    }
}

/// What an `app_deauthorized` event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeauthOutcome {
    /// No connection of that Zoom account: nothing to do.
    UnknownAccount,
    /// Tokens deleted and the connection marked deauthorized.
    Deauthorized {
        connection_id: String,
        purge_after: DateTime<Utc>,
    },
    /// Already deauthorized (a retried event): tokens deleted again (idempotent), status kept.
    AlreadyDeauthorized { connection_id: String },
    /// The event is older than the connection's authorization (a late or retried event of an
    /// earlier installation): nothing changed.
    Stale {
        connection_id: String,
        authorized_at: DateTime<Utc>,
    },
}

/// Deletes the connection's tokens (scheduled deletion of its secret), then marks it
/// deauthorized at `at` with its records due for purge after `now + retention`.
pub async fn deauthorize(
    connections: &dyn ConnectionStore,
    tokens: &dyn TokenStore,
    zoom_account_id: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    retention: chrono::Duration,
) -> Result<DeauthOutcome, StoreError> {
    let Some(connection) = connections
        .find_connection_by_zoom_account(zoom_account_id)
        .await?
    else {
        return Ok(DeauthOutcome::UnknownAccount);
    };
    let cid = connection.connection_id.clone();
    if let Some(authorized_at) = connection.authorized_at
        && at < authorized_at
    {
        return Ok(DeauthOutcome::Stale {
            connection_id: cid,
            authorized_at,
        });
    }
    // Tokens first: if marking fails, Zoom retries (5xx) and the delete is repeated harmlessly.
    tokens.delete(&cid).await?;
    let purge_after = now + retention;
    let stored = connections
        .update_connection(&cid, &move |c| {
            if !matches!(c.status, ConnectionStatus::Deauthorized { .. }) {
                c.status = ConnectionStatus::Deauthorized { at, purge_after };
            }
        })
        .await?;
    match stored.status {
        ConnectionStatus::Deauthorized {
            purge_after: stored_purge,
            ..
        } if stored_purge == purge_after => Ok(DeauthOutcome::Deauthorized {
            connection_id: cid,
            purge_after,
        }),
        _ => Ok(DeauthOutcome::AlreadyDeauthorized { connection_id: cid }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(sig: &str, ts: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, sig.parse().unwrap());
        h.insert(TIMESTAMP_HEADER, ts.parse().unwrap());
        h
    }

    #[test]
    fn matches_an_independent_hmac_vector() {
        // HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog").
        let secret = Secret::new("key");
        assert_eq!(
            encrypted_token(&secret, "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn verifies_signature_and_window() {
        let secret = Secret::new("s3cret");
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let body = br#"{"event":"x","payload":{}}"#;
        let ts = "1800000000";
        let good = signature(&secret, ts, body);
        assert!(verify(&secret, &headers(&good, ts), body, now).is_ok());
        // Within the window either way.
        let later = now + chrono::Duration::seconds(300);
        assert!(verify(&secret, &headers(&good, ts), body, later).is_ok());
        let earlier = now - chrono::Duration::seconds(300);
        assert!(verify(&secret, &headers(&good, ts), body, earlier).is_ok());
        // Outside it.
        let stale = now + chrono::Duration::seconds(301);
        assert!(matches!(
            verify(&secret, &headers(&good, ts), body, stale),
            Err(WebhookError::StaleTimestamp { age_secs: 301 })
        ));
        // A timestamp ahead of our clock by more than the window is refused too.
        let behind = now - chrono::Duration::seconds(301);
        assert!(matches!(
            verify(&secret, &headers(&good, ts), body, behind),
            Err(WebhookError::StaleTimestamp { age_secs: -301 })
        ));
        // One changed body byte, another secret, another timestamp, upper-case hex.
        assert!(matches!(
            verify(
                &secret,
                &headers(&good, ts),
                br#"{"event":"y","payload":{}}"#,
                now
            ),
            Err(WebhookError::BadSignature)
        ));
        let other = signature(&Secret::new("other"), ts, body);
        assert!(verify(&secret, &headers(&other, ts), body, now).is_err());
        assert!(verify(&secret, &headers(&good, "1800000001"), body, now).is_err());
        assert!(verify(&secret, &headers(&good.to_uppercase(), ts), body, now).is_err());
        assert!(matches!(
            verify(&secret, &headers(&good, "soon"), body, now),
            Err(WebhookError::BadTimestamp)
        ));
        assert!(matches!(
            verify(&secret, &HeaderMap::new(), body, now),
            Err(WebhookError::MissingSignature)
        ));
    }

    #[test]
    fn parses_events_leniently() {
        let e = Event::parse(
            br#"{"event":"app_deauthorized","event_ts":"1","payload":{"account_id":"A1",
                "deauthorization_time":"2026-01-02T03:04:05.678Z","extra":1}}"#,
        )
        .unwrap();
        assert_eq!(e.account_id(), Some("A1"));
        assert_eq!(
            e.deauthorization_time().unwrap().to_rfc3339(),
            "2026-01-02T03:04:05.678+00:00"
        );
        assert!(Event::parse(b"not json").is_err());
        assert!(Event::parse(br#"{"payload":{}}"#).is_err());
    }
}
