//! Zoom OAuth (authorization-code flow with PKCE) on top of the `oauth2` crate.
//!
//! The `oauth2` crate builds the requests (HTTP Basic client authentication, PKCE, form bodies);
//! they are sent with our own reqwest client through [`OAuthHttp`]. Zoom's token-endpoint errors
//! (`{"reason":"Invalid Token!","error":"invalid_grant"}`, sometimes `{"code":4733,"message":…}`)
//! map to [`TokenError`]: a dead grant is `InvalidGrant`, anything that may pass on a retry is
//! `Transient`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, ErrorResponse, ExtraTokenFields, HttpRequest, HttpResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use url::Url;

use crate::config::{ConfigError, OAuthApp, ZoomConfig};
use crate::{Secret, TokenError, TokenRefresher, TokenSet};

/// Fields of Zoom's token response beyond RFC 6749.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct ZoomTokenFields {
    /// API host for this authorization, e.g. `https://api.zoom.us`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
}

impl ExtraTokenFields for ZoomTokenFields {}

type ZoomTokenResponse = StandardTokenResponse<ZoomTokenFields, BasicTokenType>;

/// Zoom's token-endpoint error body: `{"reason", "error"}` or `{"code", "message"}`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ZoomOAuthErrorBody {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
}

impl ZoomOAuthErrorBody {
    fn reason_text(&self) -> String {
        let text = self
            .reason
            .as_deref()
            .or(self.error_description.as_deref())
            .or(self.message.as_deref())
            .unwrap_or("no reason given");
        // Zoom's reasons are short phrases; cap them so nothing large is ever echoed.
        let mut text: String = text.chars().take(160).collect();
        if let Some(code) = self.code {
            text = format!("{text} (code {code})");
        }
        text
    }

    /// `invalid_grant`, or one of Zoom's numeric codes that mean the grant is gone
    /// (4733/4734 code expired/invalid, 4735 owner deleted, 4737 authorization missing,
    /// 4741 revoked by a newer authorization).
    fn is_invalid_grant(&self) -> bool {
        self.error.as_deref() == Some("invalid_grant")
            || matches!(self.code, Some(4733 | 4734 | 4735 | 4737 | 4741))
    }
}

impl std::fmt::Display for ZoomOAuthErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            self.error.as_deref().unwrap_or("error"),
            self.reason_text()
        )
    }
}

impl ErrorResponse for ZoomOAuthErrorBody {}

type OAuth2Client = oauth2::Client<
    ZoomOAuthErrorBody,
    ZoomTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Failure sending a token-endpoint request (or a status that means "try again later").
#[derive(Debug, thiserror::Error)]
pub enum OAuthHttpError {
    #[error("token endpoint unreachable: {0}")]
    Transport(String),
    #[error("token endpoint answered HTTP {0}")]
    Status(u16),
    #[error("invalid token-endpoint request: {0}")]
    Build(String),
}

/// The HTTP function given to `oauth2`: sends its requests with our reqwest client.
#[derive(Clone, Debug)]
pub struct OAuthHttp {
    client: reqwest::Client,
}

impl OAuthHttp {
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, OAuthHttpError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let response = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| OAuthHttpError::Transport(crate::error::describe_reqwest_error(&e)))?;
        let status = response.status();
        // 5xx and 429 are transient whatever the body says.
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(OAuthHttpError::Status(status.as_u16()));
        }
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| OAuthHttpError::Transport(crate::error::describe_reqwest_error(&e)))?;
        let mut builder = http::Response::builder().status(status);
        if let Some(h) = builder.headers_mut() {
            *h = headers;
        }
        builder
            .body(bytes.to_vec())
            .map_err(|e| OAuthHttpError::Build(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for OAuthHttp {
    type Error = OAuthHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, OAuthHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// What the browser is sent to, and what must be kept (server side) until the callback.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// Zoom's authorize URL with `response_type`, `client_id`, `redirect_uri`, `state` and the
    /// S256 `code_challenge` (and no `scope`: Zoom takes scopes from the app).
    pub url: Url,
    /// Random state to check on the callback.
    pub state: String,
    /// PKCE verifier for the code exchange.
    pub pkce_verifier: Secret,
}

/// Zoom's OAuth endpoints for one app.
#[derive(Clone)]
pub struct OAuthClient {
    inner: OAuth2Client,
    http: OAuthHttp,
    app: OAuthApp,
    revoke_url: Url,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.app.client_id)
            .field("client_secret", &self.app.client_secret)
            .field("redirect_uri", &self.app.redirect_uri)
            .finish()
    }
}

fn oauth_url(base: &Url, path: &str) -> String {
    format!("{}{}", base.as_str().trim_end_matches('/'), path)
}

impl OAuthClient {
    /// OAuth client for the configured region's app.
    pub fn new(config: &ZoomConfig) -> Result<Self, ConfigError> {
        let http = crate::tls::http_client_builder()
            .timeout(config.request_timeout())
            .connect_timeout(config.connect_timeout())
            // Never follow redirects from a token endpoint.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError(format!("HTTP client: {e}")))?;
        Self::with_http(config, config.app()?.clone(), http)
    }

    /// OAuth client for `app`, sending with `http`.
    pub fn with_http(
        config: &ZoomConfig,
        app: OAuthApp,
        http: reqwest::Client,
    ) -> Result<Self, ConfigError> {
        let base = config.oauth_base();
        let auth_url = AuthUrl::new(oauth_url(base, "/oauth/authorize"))
            .map_err(|e| ConfigError(format!("authorize URL: {e}")))?;
        let token_url = TokenUrl::new(oauth_url(base, "/oauth/token"))
            .map_err(|e| ConfigError(format!("token URL: {e}")))?;
        let redirect = RedirectUrl::new(app.redirect_uri.clone())
            .map_err(|e| ConfigError(format!("redirect URI: {e}")))?;
        let revoke_url = Url::parse(&oauth_url(base, "/oauth/revoke"))
            .map_err(|e| ConfigError(format!("revoke URL: {e}")))?;
        let inner = oauth2::Client::new(ClientId::new(app.client_id.clone()))
            .set_client_secret(ClientSecret::new(app.client_secret.expose().to_string()))
            .set_auth_type(AuthType::BasicAuth)
            .set_auth_uri(auth_url)
            .set_token_uri(token_url)
            .set_redirect_uri(redirect);
        Ok(Self {
            inner,
            http: OAuthHttp::new(http),
            app,
            revoke_url,
        })
    }

    pub fn app(&self) -> &OAuthApp {
        &self.app
    }

    /// Authorize URL with a fresh random `state` and a PKCE S256 challenge.
    pub fn authorize_url(&self) -> AuthorizeRequest {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .inner
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .url();
        AuthorizeRequest {
            url,
            state: state.secret().clone(),
            pkce_verifier: Secret::new(verifier.secret().clone()),
        }
    }

    /// Exchange an authorization code (with its PKCE verifier) for tokens.
    pub async fn exchange_code(
        &self,
        code: &Secret,
        pkce_verifier: &Secret,
    ) -> Result<TokenSet, TokenError> {
        let span = tracing::info_span!(
            "zoom.oauth",
            grant = "authorization_code",
            outcome = tracing::field::Empty
        );
        let result = self
            .inner
            .exchange_code(AuthorizationCode::new(code.expose().to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.expose().to_string()))
            .request_async(&self.http)
            .instrument(span.clone())
            .await;
        finish(&span, result, None)
    }

    /// Exchange a refresh token for a new token set. Zoom rotates the refresh token: the one in
    /// the result is the only one that still works.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, TokenError> {
        let span = tracing::info_span!(
            "zoom.oauth",
            grant = "refresh_token",
            outcome = tracing::field::Empty
        );
        let rt = RefreshToken::new(refresh_token.expose().to_string());
        let result = self
            .inner
            .exchange_refresh_token(&rt)
            .request_async(&self.http)
            .instrument(span.clone())
            .await;
        finish(&span, result, Some(refresh_token))
    }

    /// Revoke a token (`POST /oauth/revoke`, form `token=`), which ends the authorization.
    pub async fn revoke(&self, token: &Secret) -> Result<(), TokenError> {
        let span = tracing::info_span!(
            "zoom.oauth",
            grant = "revoke",
            outcome = tracing::field::Empty
        );
        async {
            let response = self
                .http
                .client
                .post(self.revoke_url.clone())
                .basic_auth(&self.app.client_id, Some(self.app.client_secret.expose()))
                .form(&[("token", token.expose())])
                .send()
                .await
                .map_err(|e| TokenError::Transient {
                    reason: format!("revoke: {}", crate::error::describe_reqwest_error(&e)),
                })?;
            let status = response.status();
            if status.is_success() {
                span.record("outcome", "ok");
                return Ok(());
            }
            span.record("outcome", "error");
            if status.is_server_error() || status.as_u16() == 429 {
                return Err(TokenError::Transient {
                    reason: format!("revoke: HTTP {status}"),
                });
            }
            let body: ZoomOAuthErrorBody = response.json().await.unwrap_or_default();
            Err(map_error_body(&body))
        }
        .instrument(span.clone())
        .await
    }
}

fn map_error_body(body: &ZoomOAuthErrorBody) -> TokenError {
    if body.is_invalid_grant() {
        TokenError::InvalidGrant {
            reason: body.reason_text(),
        }
    } else {
        TokenError::Rejected {
            error: body
                .error
                .clone()
                .unwrap_or_else(|| "error".to_string())
                .chars()
                .take(64)
                .collect(),
            reason: body.reason_text(),
        }
    }
}

fn finish(
    span: &tracing::Span,
    result: Result<ZoomTokenResponse, RequestTokenError<OAuthHttpError, ZoomOAuthErrorBody>>,
    previous_refresh: Option<&Secret>,
) -> Result<TokenSet, TokenError> {
    let mapped = match result {
        Ok(response) => to_token_set(&response, previous_refresh),
        Err(RequestTokenError::ServerResponse(body)) => Err(map_error_body(&body)),
        Err(RequestTokenError::Request(e)) => Err(TokenError::Transient {
            reason: e.to_string(),
        }),
        // Never include the body: on a 200 it holds tokens.
        Err(RequestTokenError::Parse(e, _body)) => Err(TokenError::Transient {
            reason: format!("unreadable token-endpoint response at `{}`", e.path()),
        }),
        Err(RequestTokenError::Other(text)) => Err(TokenError::Transient {
            reason: crate::error::strip_urls(&text),
        }),
    };
    match &mapped {
        Ok(_) => span.record("outcome", "ok"),
        Err(TokenError::InvalidGrant { .. }) => span.record("outcome", "invalid_grant"),
        Err(_) => span.record("outcome", "error"),
    };
    if let Err(e) = &mapped {
        tracing::warn!(parent: span, error = %e, "Zoom token endpoint request failed");
    }
    mapped
}

fn to_token_set(
    response: &ZoomTokenResponse,
    previous_refresh: Option<&Secret>,
) -> Result<TokenSet, TokenError> {
    let expires_in = response
        .expires_in()
        .unwrap_or(Duration::from_secs(3599))
        .as_secs()
        .min(i64::MAX as u64 / 2);
    let refresh_token = match (response.refresh_token(), previous_refresh) {
        (Some(rt), _) => Secret::new(rt.secret().clone()),
        (None, Some(prev)) => prev.clone(),
        (None, None) => {
            return Err(TokenError::Transient {
                reason: "token response without refresh_token".into(),
            });
        }
    };
    let scope = response
        .scopes()
        .map(|s| {
            s.iter()
                .map(|scope| scope.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Ok(TokenSet {
        access_token: Secret::new(response.access_token().secret().clone()),
        refresh_token,
        expires_at: Utc::now() + chrono::Duration::seconds(expires_in as i64),
        scope,
        api_url: response.extra_fields().api_url.clone(),
    })
}

#[async_trait]
impl TokenRefresher for OAuthClient {
    async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, TokenError> {
        OAuthClient::refresh(self, refresh_token).await
    }
}
