//! Helpers shared by the OAuth, rate-limit, fault and webhook tests: drive the sandbox over HTTP
//! as a client (or a browser following the OAuth redirect) would.
#![allow(dead_code)]

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use zoom_sandbox::{RunningSandbox, SandboxConfig};

pub(crate) const REDIRECT: &str = "http://localhost:9000/oauth/callback";

pub(crate) async fn start(config: SandboxConfig) -> RunningSandbox {
    zoom_sandbox::start_local(config)
        .await
        .expect("sandbox starts")
}

thread_local! {
    // One client per test (each test runs on its own thread and runtime): building a client
    // costs tens of milliseconds.
    static HTTP: reqwest::Client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
}

/// A client that does not follow redirects (we inspect `Location`).
pub(crate) fn http() -> reqwest::Client {
    HTTP.with(|c| c.clone())
}

pub(crate) fn client_id(sb: &RunningSandbox) -> String {
    sb.state.config.apps[0].client_id.clone()
}

pub(crate) fn client_secret(sb: &RunningSandbox) -> String {
    sb.state.config.apps[0].client_secret.clone()
}

/// `GET /oauth/authorize` with these parameters; returns the response (not followed).
pub(crate) async fn authorize(sb: &RunningSandbox, params: &[(&str, &str)]) -> reqwest::Response {
    http()
        .get(format!("{}/oauth/authorize", sb.base_url()))
        .query(params)
        .send()
        .await
        .unwrap()
}

/// Query parameters of a redirect's `Location`, checking it points at `redirect`.
pub(crate) fn redirect_params(
    response: &reqwest::Response,
    redirect: &str,
) -> HashMap<String, String> {
    assert_eq!(response.status().as_u16(), 302, "expected a redirect");
    let location = response
        .headers()
        .get("location")
        .expect("Location header")
        .to_str()
        .unwrap();
    let url = url::Url::parse(location).unwrap();
    assert_eq!(
        &location[..redirect.len()],
        redirect,
        "redirected to the registered redirect URI"
    );
    url.query_pairs().into_owned().collect()
}

pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Authorize with PKCE S256 and return the code.
pub(crate) async fn code(sb: &RunningSandbox, verifier: &str) -> String {
    let cid = client_id(sb);
    let challenge = s256(verifier);
    let r = authorize(
        sb,
        &[
            ("response_type", "code"),
            ("client_id", &cid),
            ("redirect_uri", REDIRECT),
            ("state", "st-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let p = redirect_params(&r, REDIRECT);
    assert_eq!(p.get("state").map(String::as_str), Some("st-1"));
    p.get("code").cloned().expect("a code")
}

/// `POST /oauth/token` with Basic client auth; returns (status, JSON body).
pub(crate) async fn token(sb: &RunningSandbox, form: &[(&str, &str)]) -> (u16, Value) {
    token_as(sb, &client_id(sb), &client_secret(sb), form).await
}

pub(crate) async fn token_as(
    sb: &RunningSandbox,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = http()
        .post(format!("{}/oauth/token", sb.base_url()))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The whole authorization-code flow with PKCE: (access_token, refresh_token, body).
pub(crate) async fn connect(sb: &RunningSandbox) -> (String, String, Value) {
    let verifier = "a-verifier-of-sufficient-length-0123456789-abcdefghijklmnop";
    let code = code(sb, verifier).await;
    let (status, body) = token(
        sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (
        body["access_token"].as_str().unwrap().to_string(),
        body["refresh_token"].as_str().unwrap().to_string(),
        body,
    )
}

pub(crate) async fn refresh(sb: &RunningSandbox, refresh_token: &str) -> (u16, Value) {
    token(
        sb,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// `GET {base}/v2{path}` with a bearer token.
pub(crate) async fn api_get(sb: &RunningSandbox, token: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{}", sb.api_base_url(), path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn control(
    sb: &RunningSandbox,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http().request(method, format!("{}/_sandbox/{}", sb.base_url(), path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn advance(sb: &RunningSandbox, seconds: i64) {
    let (s, _) = control(
        sb,
        reqwest::Method::POST,
        "clock/advance",
        Some(serde_json::json!({ "seconds": seconds })),
    )
    .await;
    assert_eq!(s, 200);
}

pub(crate) fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}
