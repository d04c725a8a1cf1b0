//! The OAuth connect function: one Lambda behind API Gateway (HTTP API) serving
//!
//! - `GET /connect?invite=`: consumes a one-time link an admin minted (the `connect-link`
//!   function, IAM-gated; the link carries the settings), stores a single-use OAuth state (10
//!   minutes, PKCE verifier, settings, region, digest of a browser nonce), sets the nonce as an
//!   `HttpOnly; Secure; SameSite=Lax` cookie and redirects (302) to Zoom's authorize URL of the
//!   deployment region's app;
//! - `GET /oauth/callback?code=&state=`: consumes the state, checks the cookie came back from
//!   the same browser, exchanges the code, verifies the scopes ([`scopes`]), the Master Account
//!   feature and the allowed accounts, stores the tokens (Secrets Manager) and the connection
//!   (DynamoDB), and answers with an HTML page or JSON;
//! - `POST /zoom/events`: Zoom's signed event notifications ([`webhook`]): URL validation and
//!   `app_deauthorized`.
//!
//! [`App::handle`] takes a `lambda_http::Request` and always returns a response: expected
//! failures are 4xx answers that say what to do, internal ones a generic 5xx with the request
//! id (detail in the log). Dependencies are small traits, so tests run it in-process with
//! in-memory stores or against moto and the Zoom sandbox.

mod app;
pub mod config;
pub mod connect;
pub mod error;
pub mod gateway;
pub mod pages;
pub mod scopes;
pub mod webhook;

use std::sync::Arc;

use http::{Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use lambda_wiring::Wiring;
use rand::RngExt;
use serde_json::json;
use tracing::Instrument;

pub use app::{App, Clock, Options};
pub use config::Config;
pub use connect::Params;
pub use error::{ConnectError, Failure, RouteError, WebhookError};
pub use gateway::{AccountCheck, VerifyError, ZoomAuth, ZoomAuthGateway};
pub use pages::{Connected, Format};

pub const CONNECT_PATH: &str = "/connect";
pub const CALLBACK_PATH: &str = "/oauth/callback";
pub const EVENTS_PATH: &str = "/zoom/events";

pub use lambda_wiring::StartupError;

/// Wires the production dependencies (DynamoDB records, Secrets Manager tokens, Zoom through
/// the `zoom` crate) from `config`; reads the app secret once.
pub async fn build_app(config: &Config, wiring: &Wiring) -> Result<App, StartupError> {
    let secrets = wiring.app_secrets().await?;
    let zoom = ZoomAuthGateway::new(config.zoom.zoom_config(&secrets)?, config.verify_timeout)
        .map_err(|e| StartupError::Zoom(e.to_string()))?;
    let records = Arc::new(wiring.records());
    let webhook_secret = lambda_wiring::webhook_secret(&secrets)?;
    Ok(App::new(
        Options {
            region: config.zoom.region,
            deauthorized_retention: config.deauthorized_retention,
            allowed_zoom_accounts: config.allowed_zoom_accounts.clone(),
            ..Options::default()
        },
        records.clone(),
        records,
        Arc::new(wiring.token_store()),
        Arc::new(zoom),
        webhook_secret.clone(),
    )
    .with_webhook_secret(Arc::new(wiring.webhook_secret_source(webhook_secret))))
}

impl App {
    /// Answers one request. Never fails: every error becomes a response.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let request_id = request_id(&req);
        let path = route_path(&req);
        let method = req.method().clone();
        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %method,
            route = route_name(&path),
            status = tracing::field::Empty,
        );
        async move {
            let response = self.route(req, &path, &request_id).await;
            tracing::Span::current().record("status", response.status().as_u16());
            response
        }
        .instrument(span)
        .await
    }

    async fn route(&self, req: Request, path: &str, request_id: &str) -> Response<Body> {
        let format = Format::negotiate(req.headers());
        let method = req.method();
        match path {
            // Not HEAD: a link checker's HEAD must not use up the one-time link.
            CONNECT_PATH if method == Method::GET => {
                let params = Params::parse(req.uri().query());
                match self.start_connect(&params).await {
                    Ok(start) => {
                        with_cookie(pages::redirect(&start.authorize_url), &start.set_cookie)
                    }
                    Err(e) => self.fail(format, &e.failure(), &e, request_id),
                }
            }
            CALLBACK_PATH if method == Method::GET => {
                let params = Params::parse(req.uri().query());
                let nonce = connect::binding_cookie(req.headers());
                let response = match self.finish_connect(&params, nonce.as_deref()).await {
                    Ok(connected) => pages::connected(format, &connected),
                    Err(e) => self.fail(format, &e.failure(), &e, request_id),
                };
                // The nonce was good for this one callback.
                with_cookie(response, &connect::clear_binding_cookie())
            }
            EVENTS_PATH if method == Method::POST => match self.zoom_event(&req).await {
                Ok(response) => response,
                Err(e) => self.fail(Format::Json, &e.failure(), &e, request_id),
            },
            CONNECT_PATH | CALLBACK_PATH | EVENTS_PATH => {
                let e = RouteError::MethodNotAllowed;
                self.fail(format, &e.failure(), &e, request_id)
            }
            _ => {
                let e = RouteError::NotFound;
                self.fail(format, &e.failure(), &e, request_id)
            }
        }
    }

    /// Logs the cause (4xx: warn, 5xx: error) and renders the failure.
    fn fail(
        &self,
        format: Format,
        failure: &Failure,
        cause: &dyn std::error::Error,
        request_id: &str,
    ) -> Response<Body> {
        if failure.is_internal() {
            tracing::error!(error = %cause, code = failure.code, "request failed");
        } else {
            tracing::warn!(error = %cause, code = failure.code, "request refused");
        }
        pages::failure(format, failure, request_id)
    }

    /// `POST /zoom/events`.
    async fn zoom_event(&self, req: &Request) -> Result<Response<Body>, WebhookError> {
        let body: &[u8] = req.body().as_ref();
        let mut secret = self.webhook_secret.current().await?;
        match webhook::verify(&secret, req.headers(), body, self.now()) {
            Err(WebhookError::BadSignature) => {
                // The token may have been rotated since it was read: once more with a fresh one.
                let Some(rotated) = self.webhook_secret.reread_after_mismatch().await? else {
                    return Err(WebhookError::BadSignature);
                };
                webhook::verify(&rotated, req.headers(), body, self.now())?;
                tracing::info!("webhook secret token re-read: it had been rotated");
                secret = rotated;
            }
            other => other?,
        }
        let event = webhook::Event::parse(body)?;
        match event.event.as_str() {
            "endpoint.url_validation" => {
                let plain = event.plain_token().ok_or_else(|| {
                    WebhookError::Malformed("endpoint.url_validation without plainToken".into())
                })?;
                tracing::info!(
                    event = "endpoint.url_validation",
                    "answering URL validation"
                );
                Ok(pages::json(
                    StatusCode::OK,
                    &json!({
                        "plainToken": plain,
                        "encryptedToken": webhook::encrypted_token(&secret, plain),
                    }),
                ))
            }
            "app_deauthorized" => {
                let account_id = event.account_id().ok_or_else(|| {
                    WebhookError::Malformed("app_deauthorized without payload.account_id".into())
                })?;
                let now = self.now();
                let at = event.deauthorization_time().unwrap_or(now);
                let outcome = webhook::deauthorize(
                    &*self.connections,
                    &*self.tokens,
                    account_id,
                    at,
                    now,
                    self.options.deauthorized_retention,
                )
                .await?;
                match &outcome {
                    webhook::DeauthOutcome::UnknownAccount => tracing::info!(
                        event = "app_deauthorized",
                        zoom_account_id = account_id,
                        "deauthorization of an account that is not connected: nothing to do"
                    ),
                    webhook::DeauthOutcome::Deauthorized {
                        connection_id,
                        purge_after,
                    } => tracing::info!(
                        event = "app_deauthorized",
                        zoom_account_id = account_id,
                        connection_id,
                        %purge_after,
                        client_id = event.client_id().unwrap_or(""),
                        "connection deauthorized: tokens deleted, records due for purge"
                    ),
                    webhook::DeauthOutcome::Stale {
                        connection_id,
                        authorized_at,
                    } => tracing::warn!(
                        event = "app_deauthorized",
                        zoom_account_id = account_id,
                        connection_id,
                        deauthorized_at = %at,
                        %authorized_at,
                        "deauthorization older than the connection's authorization ignored"
                    ),
                    webhook::DeauthOutcome::AlreadyDeauthorized { connection_id } => {
                        tracing::info!(
                            event = "app_deauthorized",
                            zoom_account_id = account_id,
                            connection_id,
                            "connection was already deauthorized"
                        )
                    }
                }
                Ok(pages::json(StatusCode::OK, &json!({ "status": "ok" })))
            }
            other => {
                tracing::info!(
                    event = %error::truncate(other, 80),
                    "ignoring an event this function does not handle"
                );
                Ok(pages::json(StatusCode::OK, &json!({ "status": "ignored" })))
            }
        }
    }
}

fn with_cookie(mut response: Response<Body>, set_cookie: &str) -> Response<Body> {
    if let Ok(value) = http::HeaderValue::from_str(set_cookie) {
        response
            .headers_mut()
            .append(http::header::SET_COOKIE, value);
    }
    response
}

/// The request id shown to the admin and logged: API Gateway's, else the Lambda invocation's,
/// else a random one (local runs).
pub fn request_id(req: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some(id) = ctx.request_id.as_deref().filter(|id| !id.is_empty())
    {
        return id.to_string();
    }
    if let Some(ctx) = req.lambda_context_ref()
        && !ctx.request_id.is_empty()
    {
        return ctx.request_id.clone();
    }
    let n: u64 = rand::rng().random();
    format!("local-{n:016x}")
}

/// The request path without the API Gateway stage prefix (for a named stage, lambda_http puts
/// `/{stage}` in front of the route's path).
pub fn route_path(req: &Request) -> String {
    let path = req.uri().path();
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some(stage) = ctx.stage.as_deref().filter(|s| *s != "$default")
        && let Some(rest) = path.strip_prefix(&format!("/{stage}"))
        && rest.starts_with('/')
    {
        return rest.to_string();
    }
    path.to_string()
}

fn route_name(path: &str) -> &'static str {
    match path {
        CONNECT_PATH => CONNECT_PATH,
        CALLBACK_PATH => CALLBACK_PATH,
        EVENTS_PATH => EVENTS_PATH,
        _ => "other",
    }
}
