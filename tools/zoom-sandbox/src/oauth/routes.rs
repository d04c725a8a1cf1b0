//! The OAuth endpoints as axum handlers (`/oauth/authorize`, `/oauth/token`, `/oauth/revoke`),
//! who authorizes the app, and the test helper that issues tokens without the endpoints.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::responses::{OAuthError, TokenResponse};
use super::store::{GrantKind, Identity, PkceMethod, ct_eq};
use crate::config::{AuthorizeAs, ConsentMode, OAuthApp};
use crate::faults::{Fault, Target};
use crate::gate::{apply_fault, decide_fault, lose_answer};
use crate::state::SandboxState;

pub fn router() -> axum::Router<Arc<SandboxState>> {
    axum::Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
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
    // Faults with `oauth=true`, or lost answers whose path filter names this endpoint: a
    // refusing fault answers now; a lost answer after the grant is carried out (below).
    let fault = if state.faults.applies_to_oauth() {
        decide_fault(&state, &Target::OAUTH_TOKEN).await
    } else {
        None
    };
    if let Some(fault) = fault.filter(|f| f.lost().is_none()) {
        let r = apply_fault(&state, fault);
        state
            .stats
            .record_request("POST", template, None, r.status_code());
        return r.deliver(&state).await;
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
    if let Some(Fault::Lost(lost)) = fault {
        // The grant happened (a refresh rotated the token); the client never hears of it.
        drop(response);
        let r = lose_answer(&state, lost, "POST", template);
        state
            .stats
            .record_request("POST", template, None, r.status_code());
        return r.deliver(&state).await;
    }
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
