//! Token-endpoint details a mock can pin down: HTTP Basic client authentication, the form sent,
//! and how Zoom's error shapes (400 or 401, `{reason, error}` or `{code, message}`) and transient
//! failures map to `TokenError`.

mod common;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use serde_json::json;
use zoom::{OAuthApp, OAuthClient, Region, Secret, TokenError, ZoomConfig};

type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn token_server(
    status: StatusCode,
    content_type: &'static str,
    body: String,
) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let router = axum::Router::new().route(
        "/oauth/token",
        post(move |headers: HeaderMap, form: String| {
            let s = s.clone();
            let body = body.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                s.lock().unwrap().push((auth, form));
                (status, [("content-type", content_type)], body)
            }
        }),
    );
    (common::mock_server(router).await, seen)
}

fn oauth(base: &str) -> OAuthClient {
    let config = ZoomConfig::builder()
        .region(Region::Eu)
        .app(
            Region::Eu,
            OAuthApp::new("eu-client", Secret::new("eu-secret"), "https://app.test/cb"),
        )
        .oauth_base(base)
        .build()
        .unwrap();
    OAuthClient::new(&config).unwrap()
}

#[tokio::test]
async fn refresh_sends_basic_auth_and_the_refresh_form() {
    let body = json!({"access_token": "at-new", "token_type": "bearer", "refresh_token": "rt-new",
        "expires_in": 3599, "scope": "user:master account:master", "api_url": "https://api.zoom.us"});
    let (base, seen) = token_server(StatusCode::OK, "application/json", body.to_string()).await;
    let set = oauth(&base).refresh(&Secret::new("rt-old")).await.unwrap();
    assert_eq!(set.access_token.expose(), "at-new");
    assert_eq!(set.refresh_token.expose(), "rt-new");
    assert_eq!(set.api_url.as_deref(), Some("https://api.zoom.us"));
    assert_eq!(
        set.scopes().collect::<Vec<_>>(),
        ["user:master", "account:master"]
    );
    let (auth, form) = seen.lock().unwrap()[0].clone();
    let expected = base64::engine::general_purpose::STANDARD.encode("eu-client:eu-secret");
    assert_eq!(auth, format!("Basic {expected}"));
    let form: std::collections::BTreeMap<String, String> =
        url::form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "rt-old");
    assert!(!form.contains_key("client_secret"));
}

#[tokio::test]
async fn invalid_grant_with_400_or_401_is_typed() {
    for status in [StatusCode::BAD_REQUEST, StatusCode::UNAUTHORIZED] {
        let body = json!({"reason": "Invalid Token!", "error": "invalid_grant"}).to_string();
        let (base, _) = token_server(status, "application/json", body).await;
        let err = oauth(&base).refresh(&Secret::new("rt")).await.unwrap_err();
        match err {
            TokenError::InvalidGrant { reason } => assert_eq!(reason, "Invalid Token!"),
            other => panic!("{status}: {other:?}"),
        }
    }
    // Zoom's numeric shape for a revoked authorization (4741) is a dead grant too.
    let body = json!({"code": 4741, "message": "Token has been revoked."}).to_string();
    let (base, _) = token_server(StatusCode::UNAUTHORIZED, "application/json", body).await;
    let err = oauth(&base).refresh(&Secret::new("rt")).await.unwrap_err();
    assert!(matches!(err, TokenError::InvalidGrant { .. }), "{err:?}");
}

#[tokio::test]
async fn other_failures_are_rejected_or_transient() {
    let body = json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"});
    let (base, _) = token_server(
        StatusCode::UNAUTHORIZED,
        "application/json",
        body.to_string(),
    )
    .await;
    let err = oauth(&base).refresh(&Secret::new("rt")).await.unwrap_err();
    assert!(matches!(err, TokenError::Rejected { .. }), "{err:?}");
    assert!(!err.is_retryable());

    for (status, ct, body) in [
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            "{}".to_string(),
        ),
        (
            StatusCode::BAD_GATEWAY,
            "text/html",
            "<html>bad gateway</html>".to_string(),
        ),
        (
            StatusCode::OK,
            "text/html",
            "<html>proxy login</html>".to_string(),
        ),
    ] {
        let (base, _) = token_server(status, ct, body).await;
        let err = oauth(&base).refresh(&Secret::new("rt")).await.unwrap_err();
        assert!(err.is_retryable(), "{status}: {err:?}");
    }
    // A token endpoint that cannot be reached at all.
    let err = oauth("http://127.0.0.1:9")
        .refresh(&Secret::new("rt"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}
