//! Control endpoints under `/_sandbox/` (not part of Zoom's API; no authentication — the
//! sandbox listens on loopback by default):
//!
//! | method and path | body | effect |
//! |---|---|---|
//! | `GET /_sandbox/clock` | | `{"now": …}` |
//! | `POST /_sandbox/clock/advance` | `{"seconds": 301}` | move the sandbox clock forward |
//! | `GET`/`PUT /_sandbox/consent` | `{"mode": "approve"\|"deny"}` | consent on `/oauth/authorize` |
//! | `GET`/`PUT /_sandbox/authorize-as` | `{"account": "master"\|"standalone"}` | who authorizes |
//! | `GET`/`POST`/`DELETE /_sandbox/faults` | `FaultConfig` JSON (e.g. `{"lost": 0.05, "lost_methods": ["PUT"], "lost_paths": ["/oauth/token"]}`), or `{"spec": "5xx=0.05,…"}`; `"revoke_tokens": true` also revokes every grant | faults |
//! | `POST /_sandbox/faults/revoke-tokens` | | revoke every grant now |
//! | `GET /_sandbox/stats`, `POST /_sandbox/stats/reset` | | request statistics |
//! | `GET`/`PUT /_sandbox/rate-limits` | partial `RateLimitConfig` JSON | profile, scale, budget (resets buckets) |
//! | `POST /_sandbox/rate-limits/reset` | | refill buckets, zero daily counters |
//! | `POST /_sandbox/webhooks/send` | `{"url", "event", …}` | send a signed webhook, return the receiver's answer |

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{AuthorizeAs, ConsentMode, RateLimitConfig};
use crate::faults::FaultConfig;
use crate::state::SandboxState;
use crate::webhooks::{self, SendOptions};

pub fn router() -> axum::Router<Arc<SandboxState>> {
    axum::Router::new()
        .route("/_sandbox/clock", get(clock))
        .route("/_sandbox/clock/advance", post(advance_clock))
        .route(
            "/_sandbox/consent",
            get(get_consent).put(set_consent).post(set_consent),
        )
        .route(
            "/_sandbox/authorize-as",
            get(get_authorize_as)
                .put(set_authorize_as)
                .post(set_authorize_as),
        )
        .route(
            "/_sandbox/faults",
            get(get_faults)
                .post(set_faults)
                .put(set_faults)
                .delete(clear_faults),
        )
        .route("/_sandbox/faults/revoke-tokens", post(revoke_tokens))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/stats/reset", post(reset_stats))
        .route(
            "/_sandbox/rate-limits",
            get(get_rate_limits)
                .put(set_rate_limits)
                .post(set_rate_limits),
        )
        .route("/_sandbox/rate-limits/reset", post(reset_rate_limits))
        .route("/_sandbox/webhooks/send", post(send_webhook))
}

fn bad_request(message: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.to_string() })),
    )
        .into_response()
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

async fn clock(State(state): State<Arc<SandboxState>>) -> Json<Value> {
    Json(json!({ "now": state.clock.now() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(
    State(state): State<Arc<SandboxState>>,
    body: axum::body::Bytes,
) -> Response {
    match parse::<Advance>(&body) {
        Ok(a) => {
            state.clock.advance(a.seconds);
            Json(json!({ "now": state.clock.now() })).into_response()
        }
        Err(e) => bad_request(e),
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Consent {
    mode: ConsentMode,
}

async fn get_consent(State(state): State<Arc<SandboxState>>) -> Json<Consent> {
    Json(Consent {
        mode: state.oauth.settings().consent,
    })
}

async fn set_consent(State(state): State<Arc<SandboxState>>, body: axum::body::Bytes) -> Response {
    match parse::<Consent>(&body) {
        Ok(c) => {
            state.oauth.set_consent(c.mode);
            Json(c).into_response()
        }
        Err(e) => bad_request(e),
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct As {
    account: AuthorizeAs,
}

async fn get_authorize_as(State(state): State<Arc<SandboxState>>) -> Json<Value> {
    let who = state.oauth.settings().authorize_as;
    let id = crate::oauth::identity(&state, who);
    Json(json!({ "account": who, "account_id": id.account_id, "user_id": id.user_id }))
}

async fn set_authorize_as(
    State(state): State<Arc<SandboxState>>,
    body: axum::body::Bytes,
) -> Response {
    match parse::<As>(&body) {
        Ok(a) => {
            state.oauth.set_authorize_as(a.account);
            get_authorize_as(State(state)).await.into_response()
        }
        Err(e) => bad_request(e),
    }
}

async fn get_faults(State(state): State<Arc<SandboxState>>) -> Json<FaultConfig> {
    Json(state.faults.config())
}

async fn set_faults(State(state): State<Arc<SandboxState>>, body: axum::body::Bytes) -> Response {
    let mut value: Value = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    let Some(obj) = value.as_object_mut() else {
        return bad_request("expected a JSON object");
    };
    let revoke = obj
        .remove("revoke_tokens")
        .map(|v| v.as_bool().unwrap_or(false))
        .unwrap_or(false);
    let config = match obj.remove("spec") {
        Some(Value::String(spec)) if obj.is_empty() => match spec.parse::<FaultConfig>() {
            Ok(c) => c,
            Err(e) => return bad_request(e),
        },
        Some(_) => return bad_request("\"spec\" must be a string and come alone"),
        None => match serde_json::from_value::<FaultConfig>(value) {
            Ok(c) => c,
            Err(e) => return bad_request(format!("invalid faults: {e}")),
        },
    };
    if let Err(e) = config.validate() {
        return bad_request(e);
    }
    state.faults.set(config);
    if revoke {
        let n = state.oauth.revoke_all();
        state.stats.record_revocations(n);
    }
    Json(state.faults.config()).into_response()
}

async fn clear_faults(State(state): State<Arc<SandboxState>>) -> Json<FaultConfig> {
    state.faults.clear();
    Json(state.faults.config())
}

async fn revoke_tokens(State(state): State<Arc<SandboxState>>) -> Json<Value> {
    let n = state.oauth.revoke_all();
    state.stats.record_revocations(n);
    Json(json!({ "revoked_grants": n }))
}

async fn stats(State(state): State<Arc<SandboxState>>) -> Json<crate::stats::StatsSnapshot> {
    Json(state.stats.snapshot())
}

async fn reset_stats(State(state): State<Arc<SandboxState>>) -> Json<crate::stats::StatsSnapshot> {
    state.stats.reset(state.clock.now());
    Json(state.stats.snapshot())
}

async fn get_rate_limits(State(state): State<Arc<SandboxState>>) -> Json<RateLimitConfig> {
    Json(state.rate_limiter.config())
}

/// Fields given replace the current ones; the others stay.
async fn set_rate_limits(
    State(state): State<Arc<SandboxState>>,
    body: axum::body::Bytes,
) -> Response {
    let patch: Value = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    let Some(patch) = patch.as_object() else {
        return bad_request("expected a JSON object");
    };
    let mut current = serde_json::to_value(state.rate_limiter.config()).unwrap_or(Value::Null);
    if let Some(obj) = current.as_object_mut() {
        for (k, v) in patch {
            obj.insert(k.clone(), v.clone());
        }
    }
    let config: RateLimitConfig = match serde_json::from_value(current) {
        Ok(c) => c,
        Err(e) => return bad_request(format!("invalid rate limits: {e}")),
    };
    if let Err(e) = config.validate() {
        return bad_request(e);
    }
    state.rate_limiter.set_config(config);
    Json(state.rate_limiter.config()).into_response()
}

async fn reset_rate_limits(State(state): State<Arc<SandboxState>>) -> Json<RateLimitConfig> {
    state.rate_limiter.reset();
    Json(state.rate_limiter.config())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
enum WebhookEvent {
    #[default]
    #[serde(rename = "app_deauthorized")]
    AppDeauthorized,
    #[serde(rename = "endpoint.url_validation")]
    UrlValidation,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendWebhook {
    url: String,
    #[serde(default)]
    event: WebhookEvent,
    /// Whose deauthorization (default: the master account).
    #[serde(default)]
    account: AuthorizeAs,
    /// For `endpoint.url_validation` (random when absent).
    #[serde(default)]
    plain_token: Option<String>,
    #[serde(default)]
    bad_signature: bool,
    #[serde(default)]
    timestamp_offset_secs: i64,
    #[serde(default)]
    client_id: Option<String>,
}

async fn send_webhook(State(state): State<Arc<SandboxState>>, body: axum::body::Bytes) -> Response {
    let req: SendWebhook = match parse(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    let opts = SendOptions {
        bad_signature: req.bad_signature,
        timestamp_offset_secs: req.timestamp_offset_secs,
        client_id: req.client_id,
    };
    let result = match req.event {
        WebhookEvent::AppDeauthorized => {
            webhooks::send_app_deauthorized(&state, &req.url, req.account, &opts).await
        }
        WebhookEvent::UrlValidation => {
            let plain = req.plain_token.unwrap_or_else(|| {
                use rand::RngExt;
                format!("{:032x}", rand::rng().random::<u128>())
            });
            webhooks::send_url_validation(&state, &req.url, &plain, &opts).await
        }
    };
    match result {
        Ok(d) => Json(d).into_response(),
        Err(webhooks::WebhookError::UnknownApp) => bad_request("unknown client_id"),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}
