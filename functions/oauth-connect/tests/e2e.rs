//! End to end against the in-process Zoom sandbox and moto: a browser's path through
//! `/connect` → Zoom's authorize → `/oauth/callback`, every refusal leaving DynamoDB and
//! Secrets Manager as they were, and Zoom's deauthorization webhook delivered over HTTP by the
//! sandbox's sender.
//!
//! Needs moto: run with `tools/local/test.sh`, or `tools/local/moto.sh start` and
//! `eval "$(tools/local/moto.sh env)"`. Without `ZTS_AWS_ENDPOINT_URL` the test prints a
//! notice and passes, unless `ZTS_REQUIRE_AWS` is set.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use aws_adapters::{
    AppCredentials, AppSecrets, AwsClients, Records, SecretsManagerTokenStore,
    create_table_if_missing,
};
use common::*;
use futures::TryStreamExt;
use lambda_http::{Body, Request, Response};
use oauth_connect::{App, Config, build_app};
use ports::{ConnectionStatus, ConnectionStore, TokenStore, ZoomRegion};
use serde_json::json;
use zoom::Secret;
use zoom_sandbox::config::{AuthorizeAs, ConsentMode};
use zoom_sandbox::webhooks::{SendOptions, send_app_deauthorized, send_url_validation};
use zoom_sandbox::{RunningSandbox, SandboxConfig};

const REDIRECT: &str = "https://connect.example.test/oauth/callback";

/// Everything this test binary logs (JSON lines), to check that no secret ever appears.
static LOGS: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();

struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    LOGS.get_or_init(|| {
        let buf = Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = buf.clone();
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,oauth_connect=trace,zoom=trace,aws_adapters=trace,zoom_sandbox=off",
            ))
            .with_writer(move || Capture(writer.clone()))
            .try_init();
        buf
    });
}

fn logs() -> String {
    String::from_utf8_lossy(&LOGS.get().unwrap().lock().unwrap()).into_owned()
}

fn unique(prefix: &str) -> String {
    let n: u64 = rand::random();
    format!("{prefix}-{n:016x}")
}

struct Env {
    app: App,
    clients: AwsClients,
    records: Records,
    vault: SecretsManagerTokenStore,
    table: String,
    secret_prefix: String,
    /// At the fixed date ([`SandboxConfig::at_fixed_date`]).
    sandbox: RunningSandbox,
    /// Seconds added to the function's clock (expire states without sleeping).
    offset: Arc<AtomicI64>,
    browser: reqwest::Client,
    webhook_secret: String,
    /// The admin's link minting (the connect-link function's use case, same table).
    minter: connect_link::LinkMinter,
    /// The browser's binding cookie (`name=value`) from the last `/connect`.
    cookie: std::sync::Mutex<Option<String>>,
}

/// Moto's endpoint, or `None` (after a notice) when no local AWS is configured.
fn moto_endpoint(test: &str) -> Option<String> {
    match std::env::var("ZTS_AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(endpoint) => {
            assert!(
                endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost"),
                "tests only run against a local endpoint, not {endpoint}"
            );
            Some(endpoint)
        }
        None => {
            let required =
                std::env::var("ZTS_REQUIRE_AWS").is_ok_and(|v| !v.is_empty() && v != "0");
            assert!(
                !required,
                "{test}: ZTS_REQUIRE_AWS is set but ZTS_AWS_ENDPOINT_URL is not: run \
                 tools/local/test.sh, or tools/local/moto.sh start and eval \"$(tools/local/moto.sh env)\""
            );
            eprintln!("NOTICE {test}: skipped, ZTS_AWS_ENDPOINT_URL is not set (start moto)");
            None
        }
    }
}

/// A sandbox whose app redirects to [`REDIRECT`], moto resources of this test only, and the
/// function wired exactly as `main` wires it (from configuration variables). The sandbox runs
/// at the fixed date (its tenant anchored at 2026-06-01, its clock from 36 hours later) and the
/// function's clock starts where the sandbox's reads and runs on at the same pace (plus
/// [`Env::offset`]): what either side signs, issues or stamps is judged at the same time on the
/// other, on whatever day the test runs. Advancing the sandbox clock (an expired code) leaves
/// the function's clock alone, as before.
async fn setup(test: &str, sandbox_config: SandboxConfig) -> Option<Env> {
    let endpoint = moto_endpoint(test)?;
    capture_logs();
    let mut sandbox_config = sandbox_config.at_fixed_date();
    for app in &mut sandbox_config.apps {
        app.redirect_uris = vec![REDIRECT.to_string()];
    }
    let sandbox_app = sandbox_config.apps[0].clone();
    let sandbox = zoom_sandbox::start_local(sandbox_config).await.unwrap();

    let table = unique("zts-oc-test");
    let secret_prefix = format!("{}/", unique("zts-oc-tokens"));
    let app_secret_id = unique("zts-oc-app");
    let vars: HashMap<&str, String> = HashMap::from([
        ("ZTS_AWS_ENDPOINT_URL", endpoint),
        ("ZTS_TABLE_NAME", table.clone()),
        ("ZTS_TOKEN_SECRET_PREFIX", secret_prefix.clone()),
        ("ZTS_APP_SECRET_ID", app_secret_id.clone()),
        ("ZTS_ZOOM_REGION", "NA".to_string()),
        ("ZTS_OAUTH_REDIRECT_URI", REDIRECT.to_string()),
        ("ZTS_ZOOM_OAUTH_BASE", sandbox.base_url()),
    ]);
    let config =
        Config::from_lookup(|k| vars.get(k).cloned().or_else(|| std::env::var(k).ok())).unwrap();
    let wiring = lambda_wiring::Wiring::new(config.aws.clone()).await;
    let clients = wiring.clients.clone();
    create_table_if_missing(&clients.dynamodb, &table)
        .await
        .unwrap();
    AppSecrets {
        apps: BTreeMap::from([(
            ZoomRegion::Na,
            AppCredentials {
                client_id: sandbox_app.client_id.clone(),
                client_secret: Secret::new(sandbox_app.client_secret.clone()),
            },
        )]),
        webhook_secret_token: Secret::new(sandbox_app.webhook_secret.clone()),
    }
    .store(&clients.secrets, &app_secret_id)
    .await
    .unwrap();

    let offset = Arc::new(AtomicI64::new(0));
    let clock_offset = offset.clone();
    let (zoom_then, since) = (sandbox.state.clock.now(), std::time::Instant::now());
    let app = build_app(&config, &wiring)
        .await
        .unwrap()
        .with_clock(Arc::new(move || {
            zoom_then
                + since.elapsed()
                + chrono::Duration::seconds(clock_offset.load(Ordering::Relaxed))
        }));
    let minter = connect_link::LinkMinter {
        states: Arc::new(Records::dynamo(clients.dynamodb.clone(), table.clone())),
        config: connect_link::LinkConfig {
            connect_url: url::Url::parse("https://connect.example.test/connect").unwrap(),
        },
        clock: app.clock.clone(),
    };
    Some(Env {
        minter,
        cookie: std::sync::Mutex::new(None),
        app,
        records: Records::dynamo(clients.dynamodb.clone(), table.clone()),
        vault: SecretsManagerTokenStore::new(clients.secrets.clone(), secret_prefix.clone()),
        clients,
        table,
        secret_prefix,
        sandbox,
        offset,
        browser: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        webhook_secret: sandbox_app.webhook_secret,
    })
}

/// What DynamoDB (all items but pending OAuth states) and Secrets Manager (this test's token
/// secrets, with their current values) hold.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    items: Vec<String>,
    secrets: Vec<(String, bool, Option<String>)>,
}

impl Env {
    async fn snapshot(&self) -> Snapshot {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .clients
                .dynamodb
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            for item in out.items() {
                let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned();
                if pk
                    .as_deref()
                    .is_some_and(|pk| pk.starts_with("OAUTHSTATE#"))
                {
                    continue;
                }
                let sorted: BTreeMap<_, _> = item.iter().collect();
                items.push(format!("{sorted:?}"));
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        items.sort();

        let mut secrets = Vec::new();
        let mut next = None;
        loop {
            let out = self
                .clients
                .secrets
                .list_secrets()
                .include_planned_deletion(true)
                .set_next_token(next)
                .send()
                .await
                .unwrap();
            for s in out.secret_list() {
                let name = s.name().unwrap_or_default().to_string();
                if !name.starts_with(&self.secret_prefix) {
                    continue;
                }
                let deleted = s.deleted_date().is_some();
                let value = if deleted {
                    None
                } else {
                    self.clients
                        .secrets
                        .get_secret_value()
                        .secret_id(&name)
                        .version_stage("AWSCURRENT")
                        .send()
                        .await
                        .ok()
                        .and_then(|v| v.secret_string().map(str::to_string))
                };
                secrets.push((name, deleted, value));
            }
            next = out.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        secrets.sort();
        Snapshot { items, secrets }
    }

    /// The admin mints a link (`mint`: the connect-link request without `requested_by`) and
    /// the browser opens it: `GET /connect?invite=` as API Gateway delivers it. Keeps the
    /// binding cookie the answer sets, as a browser does.
    async fn connect(&self, mint: serde_json::Value) -> Response<Body> {
        let mut request = mint;
        request["requested_by"] = "it-admin@example.test".into();
        let link = self.minter.handle(&request).await.expect("link minted");
        let query = url::Url::parse(&link.connect_url)
            .unwrap()
            .query()
            .unwrap()
            .to_string();
        let r = self.open_connect(&query).await;
        let cookie = header(&r, "set-cookie")
            .split(';')
            .next()
            .filter(|c| !c.is_empty())
            .map(String::from);
        *self.cookie.lock().unwrap() = cookie;
        r
    }

    /// `GET /connect?{query}`, whatever the query.
    async fn open_connect(&self, query: &str) -> Response<Body> {
        self.app
            .handle(apigw_request("GET", "/connect", query, &[], None))
            .await
    }

    /// The browser: `/connect` → follow the 302 to the sandbox's authorize → the sandbox's 302
    /// back to the callback URL, returned as the API Gateway request for `/oauth/callback`.
    async fn browse_to_callback(&self, mint: serde_json::Value, accept_json: bool) -> Request {
        let url = self.browse(mint).await;
        self.callback_request(&url, accept_json)
    }

    /// As [`Self::browse_to_callback`], returning the callback URL the browser is sent to.
    async fn browse(&self, mint: serde_json::Value) -> String {
        let r = self.connect(mint).await;
        assert_eq!(r.status(), 302, "{}", text(&r));
        let authorize = header(&r, "location").to_string();
        assert!(
            authorize.starts_with(&format!("{}/oauth/authorize?", self.sandbox.base_url())),
            "{authorize}"
        );
        let at_zoom = self.browser.get(&authorize).send().await.unwrap();
        assert_eq!(at_zoom.status(), 302, "sandbox authorize");
        at_zoom.headers()["location"].to_str().unwrap().to_string()
    }

    /// The browser's request to `url` (the callback), with its binding cookie if it has one.
    fn callback_request(&self, url: &str, accept_json: bool) -> Request {
        assert!(url.starts_with(REDIRECT), "{url}");
        let query = url::Url::parse(url)
            .unwrap()
            .query()
            .unwrap_or("")
            .to_string();
        let cookie = self.cookie.lock().unwrap().clone();
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if accept_json {
            headers.push(("accept", "application/json"));
        }
        if let Some(cookie) = cookie.as_deref() {
            headers.push(("cookie", cookie));
        }
        apigw_request("GET", "/oauth/callback", &query, &headers, None)
    }

    /// The PKCE verifier kept with a pending state (read from the table, not consumed).
    async fn pending_verifier(&self, state: &str) -> String {
        let item = self
            .clients
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("OAUTHSTATE#{state}")),
            )
            .key(
                "sk",
                aws_sdk_dynamodb::types::AttributeValue::S("OAUTHSTATE".into()),
            )
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .expect("pending state stored");
        let data = item[aws_adapters::stores::DATA].as_s().unwrap();
        let record: ports::OAuthStateRecord = serde_json::from_str(data).unwrap();
        record.pkce_verifier.expose().to_string()
    }

    async fn connections(&self) -> Vec<ports::ConnectionRecord> {
        self.records.list_connections().try_collect().await.unwrap()
    }

    /// Serves the function over HTTP (as `cargo lambda watch` would) for the sandbox's
    /// webhook sender; returns the events URL.
    async fn serve(&self) -> String {
        let app = Arc::new(self.app.clone());
        let router = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let app = app.clone();
            async move {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                let request = http::Request::from_parts(parts, Body::from(bytes.to_vec()));
                let (parts, body) = app.handle(request).await.into_parts();
                axum::response::Response::from_parts(
                    parts,
                    axum::body::Body::from(body.as_ref().to_vec()),
                )
            }
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        format!("http://{addr}/zoom/events")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_connects_reconnects_and_zoom_deauthorizes() {
    let Some(env) = setup("browser_connects", SandboxConfig::demo()).await else {
        return;
    };
    let tenant = &env.sandbox.state.tenant;
    let master_id = tenant.master_account_id().to_string();
    let master_name = tenant.account_by_id(&master_id).unwrap().name.clone();
    let sub_count = tenant.sub_accounts().len() as u64;
    assert!(sub_count > 0);

    // --- connect ------------------------------------------------------------------------
    let empty = env.snapshot().await;
    let callback_url = env
        .browse(json!({"include_free_users": true, "inactivity_threshold_days": 30}))
        .await;
    let mut secrets = vec![
        query_value(&callback_url, "code"),
        env.pending_verifier(&query_value(&callback_url, "state"))
            .await,
    ];
    let r = env
        .app
        .handle(env.callback_request(&callback_url, true))
        .await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    let v = json(&r);
    let c = &v["connection"];
    assert_eq!(c["zoom_account_id"], master_id.as_str());
    assert_eq!(c["account_name"], master_name.as_str());
    assert_eq!(c["sub_accounts"], sub_count);
    assert_eq!(c["reconnected"], false);
    assert_eq!(c["settings"]["include_free_users"], "yes");
    assert_eq!(c["settings"]["include_on_premises"], "no");
    assert_eq!(c["settings"]["inactivity_threshold_days"], 30);

    let connections = env.connections().await;
    assert_eq!(connections.len(), 1);
    let conn = connections[0].clone();
    assert_eq!(conn.zoom_account_id, master_id);
    assert_eq!(conn.status, ConnectionStatus::Active);
    assert!(
        conn.settings.include_free_users.is_yes() && !conn.settings.include_on_premises.is_yes()
    );
    assert_eq!(conn.settings.inactivity_threshold.days(), 30);
    assert!(
        conn.missing_scopes.is_empty(),
        "the sandbox's default app has every scope: {:?}",
        conn.missing_scopes
    );
    assert_eq!(c["missing_scopes"], serde_json::json!([]));
    let stored = env
        .vault
        .read(&conn.connection_id)
        .await
        .unwrap()
        .expect("tokens in Secrets Manager");
    // The stored access token works at Zoom, with the app's scopes.
    assert!(
        env.sandbox
            .state
            .oauth
            .authenticate(
                stored.tokens.access_token.expose(),
                env.sandbox.state.clock.now()
            )
            .is_some()
    );
    assert!(stored.tokens.scopes().any(|s| s == "user:master"));
    secrets.push(stored.tokens.access_token.expose().to_string());
    secrets.push(stored.tokens.refresh_token.expose().to_string());
    let connected = env.snapshot().await;
    assert_ne!(connected, empty);
    assert_eq!(connected.secrets.len(), 1);

    // --- the same callback again: refused, nothing changes --------------------------------
    let r = env
        .app
        .handle(env.callback_request(&callback_url, true))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(json(&r)["error"], "invalid_state");
    assert_eq!(env.snapshot().await, connected);

    // --- reconnect with other settings: same connection, new tokens ------------------------
    let callback = env
        .browse_to_callback(
            json!({"include_on_premises": true, "inactivity_threshold_days": 120}),
            false,
        )
        .await;
    let r = env.app.handle(callback).await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    let page = text(&r);
    assert!(page.contains("Reconnected"), "{page}");
    assert!(page.contains(&format!("{sub_count} sub account")), "{page}");
    let connections = env.connections().await;
    assert_eq!(connections.len(), 1, "never a duplicate");
    assert_eq!(connections[0].connection_id, conn.connection_id);
    assert!(!connections[0].settings.include_free_users.is_yes());
    assert!(connections[0].settings.include_on_premises.is_yes());
    assert_eq!(connections[0].settings.inactivity_threshold.days(), 120);
    let restored = env.vault.read(&conn.connection_id).await.unwrap().unwrap();
    assert_ne!(restored.tokens.access_token, stored.tokens.access_token);
    secrets.push(restored.tokens.access_token.expose().to_string());
    secrets.push(restored.tokens.refresh_token.expose().to_string());
    let connected = env.snapshot().await;

    // --- webhooks over HTTP from the sandbox's sender --------------------------------------
    let url = env.serve().await;
    let state = &env.sandbox.state;
    let validation = send_url_validation(state, &url, "plain-token-123", &SendOptions::default())
        .await
        .unwrap();
    assert_eq!(validation.status, 200, "{}", validation.body);
    let answer: serde_json::Value = serde_json::from_str(&validation.body).unwrap();
    assert_eq!(
        answer["encryptedToken"],
        zoom_sandbox::webhooks::encrypted_token(&env.webhook_secret, "plain-token-123")
    );

    for (what, opts) in [
        (
            "bad signature",
            SendOptions {
                bad_signature: true,
                ..SendOptions::default()
            },
        ),
        (
            "stale timestamp",
            SendOptions {
                timestamp_offset_secs: -600,
                ..SendOptions::default()
            },
        ),
    ] {
        let d = send_app_deauthorized(state, &url, AuthorizeAs::Master, &opts)
            .await
            .unwrap();
        assert_eq!(d.status, 401, "{what}: {}", d.body);
        assert_eq!(env.snapshot().await, connected, "{what} changed nothing");
    }

    let before = (env.app.clock)();
    let d = send_app_deauthorized(state, &url, AuthorizeAs::Master, &SendOptions::default())
        .await
        .unwrap();
    assert_eq!(d.status, 200, "{}", d.body);
    assert!(
        env.vault.read(&conn.connection_id).await.unwrap().is_none(),
        "tokens removed"
    );
    let after = env.snapshot().await;
    assert!(
        after.secrets[0].1,
        "secret scheduled for deletion: {:?}",
        after.secrets
    );
    let c = env
        .records
        .get_connection(&conn.connection_id)
        .await
        .unwrap()
        .unwrap();
    match c.status {
        ConnectionStatus::Deauthorized { at, purge_after } => {
            assert!(at >= before - chrono::Duration::seconds(5) && at <= (env.app.clock)());
            let retention = purge_after - at;
            assert!(
                (retention - chrono::Duration::days(10)).num_seconds().abs() < 60,
                "purge after 10 days: {retention}"
            );
        }
        other => panic!("not deauthorized: {other:?}"),
    }
    assert!(
        !c.status.is_active(),
        "scheduled tasks skip non-active connections"
    );

    // --- connecting again after the uninstall brings the connection back -------------------
    let callback = env.browse_to_callback(json!({}), true).await;
    let r = env.app.handle(callback).await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(json(&r)["connection"]["reconnected"], true);
    let c = env
        .records
        .get_connection(&conn.connection_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, ConnectionStatus::Active);
    assert!(env.vault.read(&conn.connection_id).await.unwrap().is_some());
    assert_eq!(env.connections().await.len(), 1);

    // --- Zoom delivers the uninstall's event again after the re-install (a retry: same body,
    // signed afresh). It is older than the new authorization: nothing changes.
    let reinstalled = env.snapshot().await;
    let timestamp = state.clock.now().timestamp();
    let retry = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("x-zm-request-timestamp", timestamp.to_string())
        .header(
            "x-zm-signature",
            zoom_sandbox::webhooks::signature(
                &env.webhook_secret,
                timestamp,
                d.sent_body.as_bytes(),
            ),
        )
        .body(d.sent_body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 200, "acknowledged, so Zoom stops retrying");
    assert_eq!(
        env.snapshot().await,
        reinstalled,
        "the stale event changed nothing"
    );
    assert!(env.vault.read(&conn.connection_id).await.unwrap().is_some());

    // --- the logs of all this hold no token, code, verifier or secret ----------------------
    let app = &env.sandbox.state.config.apps[0];
    secrets.push(app.client_secret.clone());
    secrets.push(app.webhook_secret.clone());
    let logs = logs();
    assert!(
        logs.contains("Zoom account connected"),
        "logs were captured"
    );
    assert!(logs.contains("connection deauthorized"));
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret value");
        assert!(
            !logs.contains(secret.as_str()),
            "a secret value appears in the logs"
        );
    }
}

fn query_value(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {url}"))
}

/// Runs one refused callback and checks: the documented status, error code and words, and
/// DynamoDB and Secrets Manager exactly as before `/connect`.
async fn assert_refused(
    env: &Env,
    what: &str,
    request: Request,
    before: &Snapshot,
    status: u16,
    code: &str,
    words: &[&str],
) {
    let r = env.app.handle(request).await;
    assert_eq!(r.status(), status, "{what}: {}", text(&r));
    let v = json(&r);
    assert_eq!(v["error"], code, "{what}");
    let message = v["message"].as_str().unwrap();
    for w in words {
        assert!(message.contains(w), "{what}: {message:?} lacks {w:?}");
    }
    assert!(v["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(&env.snapshot().await, before, "{what}: storage changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_stores_nothing() {
    let Some(env) = setup("every_refusal", SandboxConfig::demo()).await else {
        return;
    };
    let oauth = &env.sandbox.state.oauth;
    let before = env.snapshot().await;

    // Declined at Zoom.
    oauth.set_consent(ConsentMode::Deny);
    let req = env.browse_to_callback(json!({}), true).await;
    assert!(req.uri().query().unwrap().contains("error=access_denied"));
    assert_refused(
        &env,
        "access_denied",
        req,
        &before,
        403,
        "access_denied",
        &["choose Allow"],
    )
    .await;
    oauth.set_consent(ConsentMode::Approve);

    // An account without the Master Account feature; its grant is revoked.
    oauth.set_authorize_as(AuthorizeAs::Standalone);
    let grants = oauth.grant_count();
    let req = env.browse_to_callback(json!({}), true).await;
    assert_refused(
        &env,
        "standalone",
        req,
        &before,
        403,
        "not_master_account",
        &["Account Management > Sub Accounts"],
    )
    .await;
    assert_eq!(oauth.grant_count(), grants, "the refused grant was revoked");
    oauth.set_authorize_as(AuthorizeAs::Master);

    // A code Zoom no longer accepts (older than 5 minutes at the sandbox).
    let req = env.browse_to_callback(json!({}), true).await;
    env.sandbox.state.clock.advance(301);
    assert_refused(
        &env,
        "expired code",
        req,
        &before,
        400,
        "exchange_failed",
        &["5 minutes"],
    )
    .await;

    // A state older than 10 minutes.
    let req = env.browse_to_callback(json!({}), true).await;
    env.offset.store(601, Ordering::Relaxed);
    assert_refused(
        &env,
        "expired state",
        req,
        &before,
        400,
        "invalid_state",
        &["10 minutes"],
    )
    .await;
    env.offset.store(0, Ordering::Relaxed);

    // A forged state (with a real, fresh code).
    let req = env.browse_to_callback(json!({}), true).await;
    let query = req.uri().query().unwrap().to_string();
    let code = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let forged = env.callback_request(
        &format!("{REDIRECT}?code={code}&state=forged0123456789abcdef"),
        true,
    );
    assert_refused(
        &env,
        "forged state",
        forged,
        &before,
        400,
        "invalid_state",
        &["unknown"],
    )
    .await;

    // A forged state too long to be a table key is refused the same way (not a 500).
    let long = "s".repeat(4000);
    let forged = env.callback_request(&format!("{REDIRECT}?code={code}&state={long}"), true);
    assert_refused(
        &env,
        "long forged state",
        forged,
        &before,
        400,
        "invalid_state",
        &["unknown"],
    )
    .await;

    // No state, no code.
    let no_state = env.callback_request(&format!("{REDIRECT}?code={code}"), true);
    assert_refused(
        &env,
        "missing state",
        no_state,
        &before,
        400,
        "missing_state",
        &["no state"],
    )
    .await;
    let req = env.browse_to_callback(json!({}), true).await;
    let query = req.uri().query().unwrap().to_string();
    let state_only: String = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "state")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let no_code = env.callback_request(&format!("{REDIRECT}?{state_only}"), true);
    assert_refused(
        &env,
        "missing code",
        no_code,
        &before,
        400,
        "missing_code",
        &["no authorization code"],
    )
    .await;

    // Without an admin's link nothing reaches Zoom; nor does a link with settings added.
    let grants_before = env.sandbox.state.oauth.grant_count();
    let r = env
        .open_connect("include_free_users=yes&inactivity_threshold=15")
        .await;
    assert_eq!(r.status(), 400);
    let r = env.open_connect("").await;
    assert_eq!(r.status(), 403);
    assert!(text(&r).contains("administrator"), "{}", text(&r));
    assert_eq!(env.snapshot().await, before);

    // The real flow finished in another browser (no binding cookie): refused before the code
    // is exchanged, so the grant at Zoom is never created.
    let callback_url = env.browse(json!({})).await;
    *env.cookie.lock().unwrap() = None;
    let r = env
        .app
        .handle(env.callback_request(&callback_url, true))
        .await;
    assert_eq!(r.status(), 403, "{}", text(&r));
    assert_eq!(json(&r)["error"], "other_browser");
    assert_eq!(
        env.sandbox.state.oauth.grant_count(),
        grants_before,
        "no code exchanged"
    );
    assert_eq!(env.snapshot().await, before);
    assert!(env.connections().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_missing_a_required_scope_is_refused_by_name() {
    let all: Vec<&str> = zoom_sandbox::config::DEFAULT_SCOPES
        .iter()
        .copied()
        .filter(|s| *s != "user:master")
        .collect();
    let Some(env) = setup("missing_scope", SandboxConfig::demo().with_scopes(&all)).await else {
        return;
    };
    let before = env.snapshot().await;
    let grants = env.sandbox.state.oauth.grant_count();
    let req = env.browse_to_callback(json!({}), true).await;
    assert_refused(
        &env,
        "missing scope",
        req,
        &before,
        403,
        "missing_scopes",
        &[
            "user:master",
            "user:read:list_users:master",
            "list the users of the sub accounts",
        ],
    )
    .await;
    assert_eq!(env.sandbox.state.oauth.grant_count(), grants, "revoked");

    // The admin's browser gets a page saying the same.
    let r = env
        .app
        .handle(env.browse_to_callback(json!({}), false).await)
        .await;
    assert_eq!(r.status(), 403);
    let page = text(&r);
    assert!(
        page.contains("The Zoom app lacks required scopes"),
        "{page}"
    );
    assert!(
        page.contains("user:master (or, for apps with granular scopes: user:read:list_users:master), to list the users of the sub accounts"),
        "{page}"
    );
    assert!(
        !page.contains("report:"),
        "only the missing scopes are named: {page}"
    );
    assert_eq!(env.snapshot().await, before);
    assert_eq!(env.sandbox.state.oauth.grant_count(), grants, "revoked");
}

/// Issue #14: an app holding exactly the five classic scopes of the integration's
/// documentation connects; the page and the connection say what is not collected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_five_scopes_connect_and_name_what_is_not_collected() {
    let config = SandboxConfig::demo().with_scopes(DOCUMENTED_FIVE);
    let Some(env) = setup("documented_five", config).await else {
        return;
    };
    let grants = env.sandbox.state.oauth.grant_count();
    let r = env
        .app
        .handle(env.browse_to_callback(json!({}), false).await)
        .await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    let page = text(&r);
    for words in [
        "Zoom account connected",
        "Some fields will not be collected",
        "<strong>Meeting Joined dates (past meeting participants)</strong> (Application Access). \
         To collect them, add <code>meeting:read:admin</code> (apps with classic scopes) or \
         <code>meeting:read:list_past_participants:admin</code> (apps with granular scopes).",
        "Meeting Joined dates from past occurrences of recurring meetings",
        "Meeting Created dates of the master account&#x27;s users",
        "instant meetings hosted in the master account",
        "Zoom&#x27;s own count of the master account&#x27;s assigned seats",
        "To collect everything, add to an app with classic scopes: \
         <code>meeting:read:admin</code>, <code>report:read:admin</code>, \
         <code>account:read:admin</code> or <code>billing:master</code>;",
        "reclamation will not deactivate or downgrade anyone",
    ] {
        assert!(page.contains(words), "{words:?} missing from {page}");
    }
    // What the five cover is not named.
    for covered in [
        "meeting:master",
        "report:master",
        "list_meetings:master",
        "report:read:list_users:master",
    ] {
        assert!(!page.contains(covered), "{covered} is granted: {page}");
    }
    assert_eq!(
        env.sandbox.state.oauth.grant_count(),
        grants + 1,
        "the grant is kept"
    );

    let connections = env.connections().await;
    assert_eq!(connections.len(), 1);
    let c = &connections[0];
    assert_eq!(c.status, ConnectionStatus::Active);
    let notes: Vec<&str> = c
        .missing_scopes
        .iter()
        .map(|n| n.not_collected.as_str())
        .collect();
    use oauth_connect::scopes::*;
    assert_eq!(
        notes,
        vec![
            NOT_COLLECTED_PARTICIPANTS,
            NOT_COLLECTED_INSTANCES,
            NOT_COLLECTED_MASTER_MEETINGS,
            NOT_COLLECTED_MASTER_REPORTS,
            NOT_COLLECTED_MASTER_PLAN_USAGE,
        ]
    );
    assert!(c.missing_scopes.iter().all(|n| n.noticed_by == "connect"));
    assert!(c.missing_scopes[0].scope.contains("meeting:read:admin"));
    assert!(
        c.missing_scopes[0]
            .scope
            .contains("meeting:read:list_past_participants:admin")
    );
    assert!(c.activity_is_partial());
    let stored = env.vault.read(&c.connection_id).await.unwrap().unwrap();
    let mut granted: Vec<&str> = stored.tokens.scope.split_whitespace().collect();
    granted.sort();
    let mut five = DOCUMENTED_FIVE.to_vec();
    five.sort();
    assert_eq!(granted, five);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn granular_apps_connect_with_notes_only_for_what_they_lack() {
    let all_granular: Vec<&str> = oauth_connect::scopes::REQUIREMENTS
        .iter()
        .flat_map(|r| r.granular.iter().copied())
        .collect();
    let config = SandboxConfig::demo().with_scopes(&all_granular);
    let Some(env) = setup("granular_all", config).await else {
        return;
    };
    let r = env
        .app
        .handle(
            env.browse_to_callback(json!({"include_on_premises": true}), true)
                .await,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(
        json(&r)["connection"]["missing_scopes"],
        serde_json::json!([])
    );
    let r = env
        .app
        .handle(env.browse_to_callback(json!({}), false).await)
        .await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert!(!text(&r).contains("not be collected"), "{}", text(&r));
    let connections = env.connections().await;
    assert_eq!(connections.len(), 1);
    assert!(connections[0].missing_scopes.is_empty());
    drop(env);

    let lacking: Vec<&str> = all_granular
        .iter()
        .copied()
        .filter(|s| *s != "meeting:read:list_past_participants:admin")
        .collect();
    let config = SandboxConfig::demo().with_scopes(&lacking);
    let Some(env) = setup("granular_no_participants", config).await else {
        return;
    };
    let r = env
        .app
        .handle(env.browse_to_callback(json!({}), false).await)
        .await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    let page = text(&r);
    assert!(
        page.contains(
            "<strong>Meeting Joined dates (past meeting participants)</strong> (Application \
             Access). To collect them, add <code>meeting:read:admin</code> (apps with classic \
             scopes) or <code>meeting:read:list_past_participants:admin</code> (apps with \
             granular scopes)."
        ),
        "{page}"
    );
    let c = &env.connections().await[0];
    assert_eq!(c.missing_scopes.len(), 1, "{:?}", c.missing_scopes);
    assert!(c.missing_scopes[0].not_collected.contains("Meeting Joined"));
    assert_eq!(c.missing_scopes[0].noticed_by, "connect");
    assert!(c.activity_is_partial());
}
