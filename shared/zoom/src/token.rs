//! The contract between the API client and whoever keeps a connection's tokens.
//!
//! The client never refreshes tokens itself: it asks a [`TokenSource`] for a valid access token
//! and reports when Zoom rejected one (HTTP 401 / code 124). Implementations:
//! [`crate::MemoryTokenSource`] here (tests, local use) and the Secrets Manager vault in
//! `aws-adapters`, which serializes refreshes across Lambda invocations.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::Secret;

/// Tokens of one authorization, as kept by a token source. Expiry is absolute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Secret,
    pub expires_at: DateTime<Utc>,
    /// Granted scopes, space separated as Zoom sends them.
    pub scope: String,
    /// API host from the token response (e.g. `https://api.zoom.us`), if Zoom sent one.
    pub api_url: Option<String>,
}

impl TokenSet {
    /// Whether the access token should be refreshed now, `margin` before it really expires.
    pub fn expires_within(&self, margin: chrono::Duration, now: DateTime<Utc>) -> bool {
        self.expires_at - margin <= now
    }

    /// Whether the access token, received at `received_at`, is due for a refresh at `now`:
    /// [`refresh_margin`] before it expires.
    pub fn refresh_due(
        &self,
        max_margin: chrono::Duration,
        received_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        self.expires_within(
            refresh_margin(max_margin, self.expires_at - received_at),
            now,
        )
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }
}

/// How long before its expiry a token that lives `lifetime` is refreshed: `max_margin`, but at
/// most a quarter of the token's own lifetime, so a short-lived token (Zoom's are an hour; a
/// stand-in's may be a minute) is used for three quarters of its life instead of being
/// refreshed before every request.
pub fn refresh_margin(
    max_margin: chrono::Duration,
    lifetime: chrono::Duration,
) -> chrono::Duration {
    max_margin.min(lifetime / 4).max(chrono::Duration::zero())
}

/// An access token handed to the client for one or more requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    pub token: Secret,
    pub expires_at: DateTime<Utc>,
    /// API host to use with this token (from the token response), if any.
    pub api_url: Option<String>,
}

impl From<&TokenSet> for AccessToken {
    fn from(set: &TokenSet) -> Self {
        Self {
            token: set.access_token.clone(),
            expires_at: set.expires_at,
            api_url: set.api_url.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Zoom refused the refresh token (`invalid_grant`): the connection must be authorized again.
    #[error("the Zoom authorization is no longer valid and must be renewed: {reason}")]
    InvalidGrant { reason: String },
    /// The new tokens could not be stored durably; the connection needs re-authorization.
    #[error("refreshed tokens could not be stored: {reason}")]
    StoreFailed { reason: String },
    /// A transient failure (network, 5xx, lease busy for too long): retrying later may work.
    #[error("temporary failure obtaining a Zoom access token: {reason}")]
    Transient { reason: String },
    /// The connection has no tokens (deauthorized or never connected).
    #[error("no Zoom tokens are stored for this connection")]
    Missing,
    /// The token endpoint refused the request for another reason (e.g. `invalid_client`: wrong
    /// app credentials, `invalid_request`): a configuration problem, not fixed by retrying.
    #[error("Zoom's token endpoint refused the request ({error}): {reason}")]
    Rejected { error: String, reason: String },
    /// The access token must be refreshed, but the caller's deadline is too close to start a
    /// refresh: once sent to Zoom it must complete and be stored, and an invocation frozen or
    /// ended in between would lose the rotated refresh token. Nothing was sent to Zoom; the
    /// stored tokens are unchanged. Like a deadline, it passes: try again in a later invocation.
    #[error(
        "not enough time left to refresh the Zoom tokens safely ({} ms before the deadline, at least {} s needed); the unit will be retried",
        .left.as_millis(),
        .needed.as_secs()
    )]
    NoTimeToRefresh {
        /// Time left before the caller's deadline when the refresh would have started.
        left: Duration,
        /// The least time a refresh may start with.
        needed: Duration,
    },
}

impl TokenError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::NoTimeToRefresh { .. })
    }

    /// The caller's deadline, not the grant, stopped the refresh: treat like a deadline.
    pub fn is_out_of_time(&self) -> bool {
        matches!(self, Self::NoTimeToRefresh { .. })
    }
}

/// Supplies valid access tokens to the API client.
///
/// `deadline` is the caller's (e.g. the Lambda invocation's, from
/// [`crate::ZoomClient::with_deadline`]; `None`: the caller has none). A source whose refresh
/// must not be interrupted (the vault in `ports`) refuses to start one too close to it with
/// [`TokenError::NoTimeToRefresh`], and still hands out a current token that needs no refresh.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// A currently valid access token, refreshing first if it expires soon.
    async fn access_token(&self, deadline: Option<Instant>) -> Result<AccessToken, TokenError>;

    /// Zoom rejected `rejected` (401 / code 124). Refresh unless someone already replaced it
    /// (single-flight: concurrent callers reporting the same token cause one refresh), and
    /// return the token to retry with.
    async fn token_rejected(
        &self,
        rejected: &AccessToken,
        deadline: Option<Instant>,
    ) -> Result<AccessToken, TokenError>;
}

/// Exchanges a refresh token for a new token set at Zoom's token endpoint.
///
/// Implemented by [`crate::OAuthClient`]. Zoom rotates the refresh token on every use: the
/// returned set holds the only refresh token that still works, so the caller must store it
/// before doing anything else.
#[async_trait]
pub trait TokenRefresher: Send + Sync {
    async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, TokenError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_is_at_most_a_quarter_of_the_lifetime() {
        let five_min = chrono::Duration::minutes(5);
        let margin = |secs| refresh_margin(five_min, chrono::Duration::seconds(secs));
        assert_eq!(margin(3_600), five_min);
        assert_eq!(margin(60), chrono::Duration::seconds(15));
        assert_eq!(margin(1_200), five_min);
        assert_eq!(margin(-5), chrono::Duration::zero());
    }
}
