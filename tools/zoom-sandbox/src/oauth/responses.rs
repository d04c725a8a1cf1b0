//! What the token endpoint answers, in Zoom's shapes: the token response (never shown by `Debug`)
//! and the `{"reason": …, "error": …}` errors.

use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Zoom's token response. `Debug` never shows the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refresh_token: Option<String>,
    pub expires_in: u64,
    pub scope: String,
    pub api_url: String,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("api_url", &self.api_url)
            .finish()
    }
}

/// An error of the token endpoint, in Zoom's shape `{"reason": …, "error": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub reason: String,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, reason: impl Into<String>) -> Self {
        Self {
            status,
            error,
            reason: reason.into(),
        }
    }

    /// 4702/4704: unknown client or wrong secret.
    pub fn invalid_client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client_id or client_secret",
        )
    }

    /// 4706: no client credentials at all.
    pub fn missing_client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client ID or client secret is missing.",
        )
    }

    /// Dead, rotated, revoked or unknown refresh token.
    pub fn invalid_token() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid Token!")
    }

    /// 4734: unknown or already used code.
    pub fn invalid_code() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid authorization code",
        )
    }

    /// 4733: expired code.
    pub fn expired_code() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Authorization code is expired.",
        )
    }

    /// 4709.
    pub fn redirect_mismatch() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Redirect URI mismatch.",
        )
    }

    pub fn invalid_verifier() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid code verifier.",
        )
    }

    /// 4705.
    pub fn unsupported_grant() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant type",
        )
    }

    /// 4706.
    pub fn missing_grant() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing grant type.",
        )
    }

    pub fn invalid_request(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", reason)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "reason": self.reason, "error": self.error }).to_string();
        let mut r = (self.status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
        r
    }
}

/// A grant's fresh tokens, before they are shaped as a [`TokenResponse`].
pub(super) struct Tokens {
    pub(super) access_token: String,
    pub(super) refresh_token: Option<String>,
    pub(super) expires_in: u64,
    pub(super) scope: String,
}

impl Tokens {
    pub(super) fn into_response(self, api_url: String) -> TokenResponse {
        TokenResponse {
            access_token: self.access_token,
            token_type: "bearer".into(),
            refresh_token: self.refresh_token,
            expires_in: self.expires_in,
            scope: self.scope,
            api_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_debug_hides_tokens() {
        let t = TokenResponse {
            access_token: "secret-access".into(),
            token_type: "bearer".into(),
            refresh_token: Some("secret-refresh".into()),
            expires_in: 1,
            scope: "a b".into(),
            api_url: String::new(),
        };
        let text = format!("{t:?}");
        assert!(!text.contains("secret-access") && !text.contains("secret-refresh"));
    }
}
