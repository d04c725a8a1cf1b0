//! Zoom's OAuth 2.0 endpoints (REFERENCE §5): `GET /oauth/authorize`, `POST /oauth/token`
//! (`authorization_code` with PKCE, `refresh_token` with rotation, `account_credentials`) and
//! `POST /oauth/revoke`, plus the token store the gate checks bearer tokens against.
//!
//! Behaviour worth knowing (also in the README):
//! - Tokens are opaque random strings (`zsb_at_…`, `zsb_rt_…`, codes `zsb_code_…`), never JWT-like.
//! - Scopes come from the app's configuration. A non-empty `scope` parameter on `/oauth/authorize`
//!   is rejected (redirect with `error=invalid_scope`): Zoom answers "Invalid scope" to it since
//!   2021. `scope` on `/oauth/token` is ignored.
//! - Refresh tokens rotate: each refresh returns a new one and kills the old one at once; reuse
//!   gets HTTP 400 `{"reason":"Invalid Token!","error":"invalid_grant"}`. Access tokens issued
//!   before a refresh stay valid until they expire.
//! - A new authorization of the same app by the same account revokes the earlier grants (and all
//!   their tokens). Server-to-server (`account_credentials`) tokens coexist.
//! - Codes live 5 minutes (configurable) and are single use: the first exchange attempt consumes
//!   the code whether or not it succeeds.
//! - All expiry uses the sandbox clock.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::Caller;
use crate::config::{AuthorizeAs, ConsentMode, OAuthApp, SandboxConfig};
use crate::state::SandboxState;

pub fn router() -> axum::Router<Arc<SandboxState>> {
    axum::Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
}

// ---------------------------------------------------------------------------------------------
// Identities

/// An account and the user acting for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account_id: String,
    pub user_id: String,
}

/// Who authorizes the app for `who` (the master's owner, or the stand-alone account's owner).
pub fn identity(state: &SandboxState, who: AuthorizeAs) -> Identity {
    let t = &state.tenant;
    match who {
        AuthorizeAs::Master => Identity {
            account_id: t.master_account_id().to_string(),
            user_id: t.master_owner_user_id().to_string(),
        },
        AuthorizeAs::Standalone => Identity {
            account_id: t.standalone_account_id().to_string(),
            user_id: t.standalone_owner_user_id().to_string(),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Token store

/// How a grant came to be; the name is the `grant_type` counted in statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    AuthorizationCode,
    AccountCredentials,
    /// Issued directly by [`SandboxState::issue_token_for_tests`].
    Test,
}

#[derive(Debug, Clone)]
struct Grant {
    kind: GrantKind,
    client_id: String,
    account_id: String,
    user_id: String,
    scopes: Vec<String>,
    /// The current (only valid) refresh token, if the grant has one.
    refresh_token: Option<String>,
}

#[derive(Debug, Clone)]
struct AccessEntry {
    grant: u64,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct CodeEntry {
    client_id: String,
    redirect_uri: String,
    challenge: Option<(PkceMethod, String)>,
    identity: Identity,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PkceMethod {
    Plain,
    S256,
}

#[derive(Default)]
struct Inner {
    next_grant: u64,
    grants: HashMap<u64, Grant>,
    access: HashMap<String, AccessEntry>,
    refresh: HashMap<String, u64>,
    codes: HashMap<String, CodeEntry>,
    issued_since_prune: u64,
}

impl Inner {
    fn remove_grant(&mut self, id: u64) -> bool {
        let Some(grant) = self.grants.remove(&id) else {
            return false;
        };
        if let Some(rt) = grant.refresh_token {
            self.refresh.remove(&rt);
        }
        self.access.retain(|_, a| a.grant != id);
        true
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        self.issued_since_prune += 1;
        if self.issued_since_prune >= 1024 {
            self.issued_since_prune = 0;
            self.access.retain(|_, a| a.expires_at > now);
            self.codes.retain(|_, c| c.expires_at > now);
        }
    }
}

/// Runtime-switchable authorize behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeSettings {
    pub consent: ConsentMode,
    pub authorize_as: AuthorizeAs,
}

/// All codes, grants and tokens of the run (in `SandboxState::oauth`).
pub struct OAuthStore {
    inner: Mutex<Inner>,
    settings: RwLock<AuthorizeSettings>,
    /// `http://HOST:PORT` once the sandbox listens (set by `start`).
    base_url: std::sync::OnceLock<String>,
}

impl fmt::Debug for OAuthStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthStore").finish_non_exhaustive()
    }
}

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

fn random_token(prefix: &str) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    let a: u128 = rng.random();
    let b: u128 = rng.random();
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(&a.to_le_bytes());
    bytes[16..].copy_from_slice(&b.to_le_bytes());
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl OAuthStore {
    pub fn new(config: &SandboxConfig) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            settings: RwLock::new(AuthorizeSettings {
                consent: config.consent,
                authorize_as: config.authorize_as,
            }),
            base_url: std::sync::OnceLock::new(),
        }
    }

    /// Record the address the sandbox listens on (for `api_url` where no request tells it).
    pub fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn settings(&self) -> AuthorizeSettings {
        *self.settings.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_consent(&self, consent: ConsentMode) {
        self.settings
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .consent = consent;
    }

    pub fn set_authorize_as(&self, who: AuthorizeAs) {
        self.settings
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .authorize_as = who;
    }

    /// The caller behind a bearer token, if the token is known, unexpired and not revoked.
    pub fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Option<Caller> {
        let inner = self.lock();
        let entry = inner.access.get(token)?;
        if entry.expires_at <= now {
            return None;
        }
        let grant = inner.grants.get(&entry.grant)?;
        Some(Caller {
            account_id: grant.account_id.clone(),
            user_id: Some(grant.user_id.clone()),
            client_id: grant.client_id.clone(),
            scopes: grant.scopes.iter().cloned().collect::<BTreeSet<_>>(),
        })
    }

    /// Create a grant and its first tokens. `revoke_earlier`: end earlier grants of the same
    /// kind for this app and account (Zoom: a new authorization revokes the old one).
    #[allow(clippy::too_many_arguments)]
    fn new_grant(
        &self,
        kind: GrantKind,
        client_id: &str,
        identity: &Identity,
        scopes: Vec<String>,
        with_refresh: bool,
        ttl_secs: u64,
        now: DateTime<Utc>,
    ) -> (Tokens, u64) {
        let mut inner = self.lock();
        let mut revoked = 0;
        if kind == GrantKind::AuthorizationCode {
            let earlier: Vec<u64> = inner
                .grants
                .iter()
                .filter(|(_, g)| {
                    g.kind == kind
                        && g.client_id == client_id
                        && g.account_id == identity.account_id
                })
                .map(|(id, _)| *id)
                .collect();
            for id in earlier {
                if inner.remove_grant(id) {
                    revoked += 1;
                }
            }
        }
        inner.prune(now);
        let id = inner.next_grant;
        inner.next_grant += 1;
        let access = random_token("zsb_at_");
        let refresh = with_refresh.then(|| random_token("zsb_rt_"));
        inner.access.insert(
            access.clone(),
            AccessEntry {
                grant: id,
                expires_at: now + Duration::seconds(ttl_secs as i64),
            },
        );
        if let Some(rt) = &refresh {
            inner.refresh.insert(rt.clone(), id);
        }
        let scope = scopes.join(" ");
        inner.grants.insert(
            id,
            Grant {
                kind,
                client_id: client_id.to_string(),
                account_id: identity.account_id.clone(),
                user_id: identity.user_id.clone(),
                scopes,
                refresh_token: refresh.clone(),
            },
        );
        (
            Tokens {
                access_token: access,
                refresh_token: refresh,
                expires_in: ttl_secs,
                scope,
            },
            revoked,
        )
    }

    fn issue_code(
        &self,
        client_id: &str,
        redirect_uri: &str,
        challenge: Option<(PkceMethod, String)>,
        identity: Identity,
        ttl_secs: u64,
        now: DateTime<Utc>,
    ) -> String {
        let code = random_token("zsb_code_");
        let mut inner = self.lock();
        inner.prune(now);
        inner.codes.insert(
            code.clone(),
            CodeEntry {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                challenge,
                identity,
                expires_at: now + Duration::seconds(ttl_secs as i64),
            },
        );
        code
    }

    /// Consume a code (single use: whatever the outcome) and check it.
    fn take_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Identity, OAuthError> {
        let entry = self
            .lock()
            .codes
            .remove(code)
            .ok_or_else(OAuthError::invalid_code)?;
        if entry.client_id != client_id {
            return Err(OAuthError::invalid_code());
        }
        if entry.expires_at <= now {
            return Err(OAuthError::expired_code());
        }
        if redirect_uri != Some(entry.redirect_uri.as_str()) {
            return Err(OAuthError::redirect_mismatch());
        }
        if let Some((method, challenge)) = &entry.challenge {
            let verifier = verifier.ok_or_else(OAuthError::invalid_verifier)?;
            let computed = match method {
                PkceMethod::Plain => verifier.to_string(),
                PkceMethod::S256 => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            };
            if !ct_eq(&computed, challenge) {
                return Err(OAuthError::invalid_verifier());
            }
        }
        Ok(entry.identity)
    }

    /// Rotate a refresh token: the old one dies at once.
    fn refresh(
        &self,
        refresh_token: &str,
        client_id: &str,
        ttl_secs: u64,
        now: DateTime<Utc>,
    ) -> Result<Tokens, OAuthError> {
        let mut inner = self.lock();
        let id = *inner
            .refresh
            .get(refresh_token)
            .ok_or_else(OAuthError::invalid_token)?;
        let grant = inner
            .grants
            .get(&id)
            .ok_or_else(OAuthError::invalid_token)?;
        if grant.client_id != client_id {
            return Err(OAuthError::invalid_token());
        }
        let scope = grant.scopes.join(" ");
        inner.refresh.remove(refresh_token);
        inner.prune(now);
        let access = random_token("zsb_at_");
        let refresh = random_token("zsb_rt_");
        inner.access.insert(
            access.clone(),
            AccessEntry {
                grant: id,
                expires_at: now + Duration::seconds(ttl_secs as i64),
            },
        );
        inner.refresh.insert(refresh.clone(), id);
        if let Some(g) = inner.grants.get_mut(&id) {
            g.refresh_token = Some(refresh.clone());
        }
        Ok(Tokens {
            access_token: access,
            refresh_token: Some(refresh),
            expires_in: ttl_secs,
            scope,
        })
    }

    /// Revoke the grant behind an access or refresh token. Returns whether one was found.
    pub fn revoke_token(&self, token: &str, client_id: Option<&str>) -> bool {
        let mut inner = self.lock();
        let id = inner
            .access
            .get(token)
            .map(|a| a.grant)
            .or_else(|| inner.refresh.get(token).copied());
        let Some(id) = id else { return false };
        if let Some(client) = client_id
            && inner.grants.get(&id).is_some_and(|g| g.client_id != client)
        {
            return false;
        }
        inner.remove_grant(id)
    }

    /// Revoke every grant (the "revoked tokens" fault). Returns how many.
    pub fn revoke_all(&self) -> u64 {
        let mut inner = self.lock();
        let n = inner.grants.len() as u64;
        inner.grants.clear();
        inner.access.clear();
        inner.refresh.clear();
        n
    }

    /// Revoke every grant of an app on an account (deauthorization).
    pub fn revoke_app_account(&self, client_id: &str, account_id: &str) -> u64 {
        let mut inner = self.lock();
        let ids: Vec<u64> = inner
            .grants
            .iter()
            .filter(|(_, g)| g.client_id == client_id && g.account_id == account_id)
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter().filter(|id| inner.remove_grant(*id)).count() as u64
    }

    /// Live grants (for control/debugging; never exposes tokens).
    pub fn grant_count(&self) -> usize {
        self.lock().grants.len()
    }
}

struct Tokens {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: u64,
    scope: String,
}

impl Tokens {
    fn into_response(self, api_url: String) -> TokenResponse {
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

impl SandboxState {
    /// TEST HELPER (not part of Zoom's API): a user-level token for the master account's owner,
    /// as if the first app had been authorized, with exactly `scopes` (the app's scopes when
    /// empty). Counted as grant type `test`. `api_url` is the sandbox's base URL.
    pub fn issue_token_for_tests(&self, scopes: &[&str]) -> TokenResponse {
        self.issue_token_for_tests_as(AuthorizeAs::Master, scopes)
    }

    /// TEST HELPER: like [`Self::issue_token_for_tests`] for the master or the stand-alone account.
    pub fn issue_token_for_tests_as(&self, who: AuthorizeAs, scopes: &[&str]) -> TokenResponse {
        let app = &self.config.apps[0];
        let scopes: Vec<String> = if scopes.is_empty() {
            app.scopes.clone()
        } else {
            scopes.iter().map(|s| s.to_string()).collect()
        };
        let identity = identity(self, who);
        let (tokens, _) = self.oauth.new_grant(
            GrantKind::Test,
            &app.client_id,
            &identity,
            scopes,
            true,
            self.config.access_token_ttl_secs,
            self.clock.now(),
        );
        self.stats.record_grant("test");
        let api_url = self
            .config
            .public_url
            .clone()
            .or_else(|| self.oauth.base_url.get().cloned())
            .unwrap_or_default();
        tokens.into_response(api_url)
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

fn api_url(state: &SandboxState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_string();
    }
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_default()
}

fn error_page(status: StatusCode, code: u32, message: &str) -> Response {
    let message = html_escape(message);
    let body = format!(
        "<!DOCTYPE html><html><head><title>Zoom sandbox: error {code}</title></head>\
         <body><h1>Error {code}</h1><p id=\"error-code\">{code}</p><p id=\"error-message\">{message}</p></body></html>"
    );
    (status, Html(body)).into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = redirect_uri.to_string();
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    let query = ser.finish();
    url.push(if redirect_uri.contains('?') { '&' } else { '?' });
    url.push_str(&query);
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&url) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

async fn authorize(
    State(state): State<Arc<SandboxState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let response = authorize_inner(&state, &q);
    state.stats.record_request(
        "GET",
        "/oauth/authorize",
        None,
        Some(response.status().as_u16()),
    );
    response
}

fn authorize_inner(state: &Arc<SandboxState>, q: &HashMap<String, String>) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(app) = get("client_id").and_then(|id| state.config.app(id)) else {
        return error_page(StatusCode::BAD_REQUEST, 4700, "Invalid client_id.");
    };
    let Some(redirect_uri) =
        get("redirect_uri").filter(|r| app.redirect_uris.iter().any(|a| a == r))
    else {
        return error_page(StatusCode::BAD_REQUEST, 4709, "Redirect URI mismatch.");
    };
    let st = get("state");
    let fail = |error: &str, description: &str| {
        let mut p = vec![("error", error), ("error_description", description)];
        if let Some(s) = st {
            p.push(("state", s));
        }
        redirect(redirect_uri, &p)
    };
    if get("response_type") != Some("code") {
        return fail("unsupported_response_type", "response_type must be code.");
    }
    if get("scope").is_some_and(|s| !s.trim().is_empty()) {
        return fail(
            "invalid_scope",
            "Invalid scope: scopes are configured on the app, not requested.",
        );
    }
    let challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) => None,
        (None, Some(_)) => return fail("invalid_request", "code_challenge is missing."),
        (Some(c), None | Some("plain")) => Some((PkceMethod::Plain, c.to_string())),
        (Some(c), Some("S256")) => Some((PkceMethod::S256, c.to_string())),
        (Some(_), Some(_)) => {
            return fail(
                "invalid_request",
                "code_challenge_method must be S256 or plain.",
            );
        }
    };
    let settings = state.oauth.settings();
    if settings.consent == ConsentMode::Deny {
        let mut p = vec![("error", "access_denied")];
        if let Some(s) = st {
            p.push(("state", s));
        }
        return redirect(redirect_uri, &p);
    }
    let identity = identity(state, settings.authorize_as);
    tracing::info!(
        client_id = %app.client_id,
        account_id = %identity.account_id,
        pkce = challenge.is_some(),
        "authorization approved"
    );
    let code = state.oauth.issue_code(
        &app.client_id,
        redirect_uri,
        challenge,
        identity,
        state.config.code_ttl_secs,
        state.clock.now(),
    );
    let mut p = vec![("code", code.as_str())];
    if let Some(s) = st {
        p.push(("state", s));
    }
    redirect(redirect_uri, &p)
}

/// Client credentials from HTTP Basic, or from `client_id`/`client_secret` parameters.
fn client_from(
    state: &SandboxState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<OAuthApp, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            let (scheme, rest) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        });
    let (id, secret) = if let Some(b64) = basic {
        let decoded = STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(OAuthError::invalid_client)?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(OAuthError::invalid_client)?;
        (id.to_string(), secret.to_string())
    } else {
        match (params.get("client_id"), params.get("client_secret")) {
            (Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => return Err(OAuthError::missing_client()),
        }
    };
    let app = state
        .config
        .app(&id)
        .ok_or_else(OAuthError::invalid_client)?;
    if !ct_eq(&secret, &app.client_secret) {
        return Err(OAuthError::invalid_client());
    }
    Ok(app.clone())
}

/// Query parameters merged with an `application/x-www-form-urlencoded` body (Zoom accepts both).
fn params_of(uri: &axum::http::Uri, body: &[u8]) -> HashMap<String, String> {
    let mut params: HashMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    params.extend(url::form_urlencoded::parse(body).into_owned());
    params
}

async fn token(
    State(state): State<Arc<SandboxState>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let template = "/oauth/token";
    if state.faults.applies_to_oauth()
        && let Some(r) = crate::gate::inject_fault(&state).await
    {
        state
            .stats
            .record_request("POST", template, None, r.status_code());
        return r.response;
    }
    let params = params_of(&uri, &body);
    let grant_type = params.get("grant_type").cloned().unwrap_or_default();
    let stat_name = match grant_type.as_str() {
        "authorization_code" | "refresh_token" | "account_credentials" => grant_type.as_str(),
        _ => "unknown",
    };
    let response = match token_inner(&state, &headers, &params).await {
        Ok(t) => {
            state.stats.record_grant(stat_name);
            let mut r = axum::Json(t).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=UTF-8"),
            );
            r
        }
        Err(e) => {
            tracing::info!(grant_type = stat_name, error = e.error, reason = %e.reason, "token request refused");
            state.stats.record_grant_failure(stat_name);
            e.into_response()
        }
    };
    state
        .stats
        .record_request("POST", template, None, Some(response.status().as_u16()));
    response
}

async fn token_inner(
    state: &SandboxState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let app = client_from(state, headers, params)?;
    let now = state.clock.now();
    let ttl = state.config.access_token_ttl_secs;
    let api_url = api_url(state, headers);
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    match get("grant_type") {
        None => Err(OAuthError::missing_grant()),
        Some("authorization_code") => {
            let code = get("code").ok_or_else(OAuthError::invalid_code)?;
            let identity = state.oauth.take_code(
                code,
                &app.client_id,
                get("redirect_uri"),
                get("code_verifier"),
                now,
            )?;
            let (tokens, revoked) = state.oauth.new_grant(
                GrantKind::AuthorizationCode,
                &app.client_id,
                &identity,
                app.scopes.clone(),
                true,
                ttl,
                now,
            );
            state.stats.record_revocations(revoked);
            Ok(tokens.into_response(api_url))
        }
        Some("refresh_token") => {
            let rt = get("refresh_token").ok_or_else(OAuthError::invalid_token)?;
            let tokens = state.oauth.refresh(rt, &app.client_id, ttl, now)?;
            Ok(tokens.into_response(api_url))
        }
        Some("account_credentials") => {
            let account = get("account_id")
                .ok_or_else(|| OAuthError::invalid_request("Missing account_id."))?;
            let identity = [AuthorizeAs::Master, AuthorizeAs::Standalone]
                .into_iter()
                .map(|who| identity(state, who))
                .find(|i| i.account_id == account)
                .ok_or_else(|| OAuthError::invalid_request("Invalid account_id."))?;
            let (tokens, _) = state.oauth.new_grant(
                GrantKind::AccountCredentials,
                &app.client_id,
                &identity,
                app.scopes.clone(),
                false,
                ttl,
                now,
            );
            Ok(tokens.into_response(api_url))
        }
        Some(_) => Err(OAuthError::unsupported_grant()),
    }
}

async fn revoke(
    State(state): State<Arc<SandboxState>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let params = params_of(&uri, &body);
    let response = match client_from(&state, &headers, &params) {
        Err(e) => e.into_response(),
        Ok(app) => match params.get("token").filter(|t| !t.is_empty()) {
            None => OAuthError::invalid_request("Missing token.").into_response(),
            Some(token) => {
                if state.oauth.revoke_token(token, Some(&app.client_id)) {
                    state.stats.record_revocations(1);
                }
                let mut r = axum::Json(serde_json::json!({ "status": "success" })).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json;charset=UTF-8"),
                );
                r
            }
        },
    };
    state.stats.record_request(
        "POST",
        "/oauth/revoke",
        None,
        Some(response.status().as_u16()),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_opaque_and_distinct() {
        let a = random_token("zsb_at_");
        let b = random_token("zsb_at_");
        assert_ne!(a, b);
        assert!(a.starts_with("zsb_at_") && !a.starts_with("ey"));
        assert!(a.len() > 40);
    }

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
