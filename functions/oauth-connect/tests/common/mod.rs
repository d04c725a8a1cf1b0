//! Shared test helpers: API Gateway fixtures, response bodies, a fake Zoom for handler tests.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::Utc;
use lambda_http::{Body, Request, Response};
use oauth_connect::{AccountCheck, VerifyError, ZoomAuth};
use zoom::{AuthorizeRequest, Secret, TokenError, TokenSet};

pub(crate) fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/oauth-connect")
}

/// The fixture's JSON text.
pub(crate) fn fixture_text(name: &str) -> String {
    let path = fixtures_dir().join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture as the request `lambda_http` hands to the handler.
pub(crate) fn fixture(name: &str) -> Request {
    lambda_http::request::from_str(&fixture_text(name))
        .unwrap_or_else(|e| panic!("fixture {name} is not an API Gateway v2 request: {e}"))
}

/// An API Gateway v2 request built from the `connect` fixture, with another method, path,
/// query, headers and body (what API Gateway would hand over for that browser request).
pub(crate) fn apigw_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Request {
    let mut event: serde_json::Value = serde_json::from_str(&fixture_text("connect")).unwrap();
    event["routeKey"] = format!("{method} {path}").into();
    event["rawPath"] = path.into();
    event["rawQueryString"] = query.into();
    event
        .as_object_mut()
        .unwrap()
        .remove("queryStringParameters");
    event["requestContext"]["http"]["method"] = method.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["requestContext"]["routeKey"] = format!("{method} {path}").into();
    let n: u64 = rand::random();
    event["requestContext"]["requestId"] = format!("test-{n:016x}").into();
    for (k, v) in headers {
        event["headers"][*k] = (*v).into();
    }
    if let Some(body) = body {
        event["body"] = body.into();
    }
    lambda_http::request::from_str(&event.to_string()).expect("valid request")
}

pub(crate) fn text(response: &Response<Body>) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

pub(crate) fn json(response: &Response<Body>) -> serde_json::Value {
    serde_json::from_slice(response.body().as_ref())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(response)))
}

pub(crate) fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Every scope the connector needs (classic; the sandbox's default app holds the same).
pub(crate) const ALL_SCOPES: &str = "account:master user:master report:master meeting:master \
     billing:master user:read:admin user:write:admin meeting:read:admin report:read:admin";

/// The five classic scopes of the integration's documentation (issue #14): every required
/// scope, but not the master's own meetings, reports and plan usage, nor past participants.
pub(crate) const DOCUMENTED_FIVE: &[&str] = &[
    "account:master",
    "user:master",
    "report:master",
    "meeting:master",
    "user:write:admin",
];

pub(crate) const FIXTURE_VERIFIER: &str = "fixture-verifier-0123456789abcdef0123456789abcdef0123";
pub(crate) const MASTER_ACCOUNT: &str = "fixture-master-account";
pub(crate) const STANDALONE_ACCOUNT: &str = "fixture-standalone-account";

/// A Zoom stand-in for handler tests. Codes (as in the fixtures):
/// `fixture-code` → a master account with every scope (or [`FakeZoom::scopes`] when set);
/// `fixture-code-missing-scope` → no `user:master` (a required scope); `fixture-code-standalone` → an account without the Master Account feature;
/// anything else → `invalid_grant`. The PKCE verifier must be [`FIXTURE_VERIFIER`].
#[derive(Default)]
pub(crate) struct FakeZoom {
    pub exchanged: Mutex<Vec<String>>,
    pub revoked: Mutex<Vec<String>>,
    pub authorize_calls: Mutex<u32>,
    pub account_name: Mutex<String>,
    /// The scopes `fixture-code` grants instead of [`ALL_SCOPES`].
    pub scopes: Mutex<Option<String>>,
}

impl FakeZoom {
    pub(crate) fn new() -> Self {
        let fake = Self::default();
        *fake.account_name.lock().unwrap() = "Fixture Master <Inc> & Co".into();
        fake
    }

    /// Makes `fixture-code` grant exactly `scopes`.
    pub(crate) fn grant(&self, scopes: &[&str]) {
        *self.scopes.lock().unwrap() = Some(scopes.join(" "));
    }

    pub(crate) fn revoked(&self) -> Vec<String> {
        self.revoked.lock().unwrap().clone()
    }
}

#[async_trait]
impl ZoomAuth for FakeZoom {
    fn authorize(&self) -> AuthorizeRequest {
        *self.authorize_calls.lock().unwrap() += 1;
        let n: u128 = rand::random();
        let state = format!("{n:032x}");
        AuthorizeRequest {
            url: url::Url::parse(&format!(
                "https://zoom.example.test/oauth/authorize?response_type=code&client_id=fixture-client-id&state={state}&code_challenge=x&code_challenge_method=S256"
            ))
            .unwrap(),
            state,
            pkce_verifier: Secret::new(FIXTURE_VERIFIER),
        }
    }

    async fn exchange_code(
        &self,
        code: &Secret,
        verifier: &Secret,
    ) -> Result<TokenSet, TokenError> {
        self.exchanged
            .lock()
            .unwrap()
            .push(code.expose().to_string());
        if verifier.expose() != FIXTURE_VERIFIER {
            return Err(TokenError::InvalidGrant {
                reason: "Invalid code verifier.".into(),
            });
        }
        let scope = match code.expose() {
            "fixture-code" => self
                .scopes
                .lock()
                .unwrap()
                .clone()
                .unwrap_or_else(|| ALL_SCOPES.to_string()),
            "fixture-code-standalone" => ALL_SCOPES.to_string(),
            "fixture-code-missing-scope" => ALL_SCOPES.replace("user:master ", ""),
            _ => {
                return Err(TokenError::InvalidGrant {
                    reason: "Authorization code is expired.".into(),
                });
            }
        };
        Ok(TokenSet {
            access_token: Secret::new(format!("at-{}", code.expose())),
            refresh_token: Secret::new(format!("rt-{}", code.expose())),
            expires_at: Utc::now() + chrono::Duration::seconds(3599),
            scope,
            api_url: Some("https://api.zoom.example.test".into()),
        })
    }

    async fn revoke(&self, token: &Secret) -> Result<(), TokenError> {
        self.revoked
            .lock()
            .unwrap()
            .push(token.expose().to_string());
        Ok(())
    }

    async fn check_account(&self, tokens: TokenSet) -> Result<AccountCheck, VerifyError> {
        if tokens.access_token.expose() == "at-fixture-code-standalone" {
            return Err(VerifyError::NotMasterAccount {
                status: 400,
                code: Some(200),
                message: "No permission.".into(),
            });
        }
        Ok(AccountCheck {
            account_id: MASTER_ACCOUNT.into(),
            account_name: self.account_name.lock().unwrap().clone(),
            sub_accounts: 3,
            tokens,
        })
    }
}

/// Fixture names used by the tests of this crate (each test file adds what it loads).
pub(crate) fn all_fixture_names() -> BTreeSet<String> {
    std::fs::read_dir(fixtures_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect()
}
