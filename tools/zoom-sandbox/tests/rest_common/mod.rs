//! Helpers shared by the REST, schema and tenant tests: start a sandbox with a tenant, get a
//! bearer token, call `/v2` endpoints as a client would.
#![allow(dead_code)]

use serde_json::Value;
use zoom_sandbox::config::AuthorizeAs;
use zoom_sandbox::tenant::TenantSpec;
use zoom_sandbox::{RunningSandbox, SandboxConfig};

pub(crate) struct Api {
    pub sb: RunningSandbox,
    pub token: String,
    pub http: reqwest::Client,
}

/// A sandbox on `spec`'s tenant at the fixed date ([`SandboxConfig::at_fixed_date`]): the
/// tenant anchored at [`zoom_sandbox::tenant::fixed_anchor`] (whatever anchor `spec` had) and
/// the clock started 36 hours later, so the data, the report windows and the 6-month limit
/// are the same on every day the tests run.
pub(crate) async fn start(spec: TenantSpec) -> Api {
    let config = SandboxConfig {
        tenant: spec,
        ..SandboxConfig::demo()
    }
    .at_fixed_date();
    let sb = zoom_sandbox::start_local(config)
        .await
        .expect("sandbox starts");
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    Api {
        sb,
        token,
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap(),
    }
}

impl Api {
    /// A token for the stand-alone (non-master) account's owner with the app's scopes.
    pub(crate) fn standalone_token(&self) -> String {
        self.sb
            .state
            .issue_token_for_tests_as(AuthorizeAs::Standalone, &[])
            .access_token
    }

    pub(crate) fn token_with(&self, scopes: &[&str]) -> String {
        self.sb.state.issue_token_for_tests(scopes).access_token
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.sb.api_base_url(), path)
    }

    pub(crate) async fn get_as(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"))
        };
        (status, v)
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(&self.token, path).await
    }

    /// GET that must succeed.
    pub(crate) async fn ok(&self, path: &str) -> Value {
        let (s, v) = self.get(path).await;
        assert_eq!(s, 200, "GET {path}: {v}");
        v
    }

    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let r = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).expect("JSON")
            },
        )
    }

    /// Every item of a paginated listing (`key` holds the items), following `next_page_token`.
    pub(crate) async fn list_all(&self, path: &str, key: &str, page_size: usize) -> Vec<Value> {
        self.list_all_as(&self.token, path, key, page_size).await
    }

    /// [`Api::list_all`] with another token.
    pub(crate) async fn list_all_as(
        &self,
        bearer: &str,
        path: &str,
        key: &str,
        page_size: usize,
    ) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let url = if token.is_empty() {
                format!("{path}{sep}page_size={page_size}")
            } else {
                format!("{path}{sep}page_size={page_size}&next_page_token={token}")
            };
            let (status, v) = self.get_as(bearer, &url).await;
            assert_eq!(status, 200, "GET {url}: {v}");
            let items = v[key]
                .as_array()
                .unwrap_or_else(|| panic!("{url}: no {key}: {v}"));
            assert!(
                items.len() <= page_size,
                "{url}: page larger than page_size"
            );
            out.extend(items.iter().cloned());
            token = v["next_page_token"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if token.is_empty() {
                break;
            }
        }
        out
    }

    /// The path prefix addressing an account: own form for the caller's account, master form
    /// for sub accounts.
    pub(crate) fn prefix(&self, account_id: &str) -> String {
        if account_id == self.sb.state.tenant.master_account_id() {
            String::new()
        } else {
            format!("/accounts/{account_id}")
        }
    }
}

/// Percent-encode a path segment (every reserved character).
pub(crate) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Encode a meeting UUID as Zoom requires: twice when it starts with `/` or contains `//`.
pub(crate) fn enc_uuid(uuid: &str) -> String {
    if uuid.starts_with('/') || uuid.contains("//") {
        enc(&enc(uuid))
    } else {
        enc(uuid)
    }
}
