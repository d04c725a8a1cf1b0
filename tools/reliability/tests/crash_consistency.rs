//! Crash consistency (#17): the four task functions run as Lambda runs them (`task-function`
//! processes polling a local Runtime API, SQS FIFO queues, the table and the token vault on moto,
//! Zoom at the sandbox with seeded faults, `/oauth/token` included) while a proxy in front of
//! moto SIGKILLs the function at seeded store writes: after the N-th DynamoDB write it either
//! lets the write through or not, then the process is killed before it sees the answer (a crash
//! between two store writes). Killed invocations are delivered again (schedule: Scheduler's
//! retry; units: the queue's visibility timeout), with a fresh process, until every queue is
//! empty. Then a clean run of the four tasks must end with records equal to the sandbox's truth:
//! nothing lost, nothing duplicated, no unit stuck, the connection still active.
//!
//! Answers are lost too (the sandbox's `lost=`: carried out, then dropped, a 502 or a held 504):
//! per seed ([`TokenFate`]), either on 3% of the `/v2` reads, or on the refresh the first
//! invocation makes, or the process is killed after Zoom rotated the token and before the save.
//! In the last two Zoom has made the grant unusable: the connection must then be flagged for
//! re-authorization and the tasks must stop asking for tokens; after the admin connects again
//! the clean run must still end with the truth. Otherwise the connection must stay active.
//!
//! Each seed is reproducible: it picks the kill points and the sandbox's fault sequence.
//! `ZTS_SOAK_ROUNDS` seeds (default 3; `make soak`: 20). `ZTS_SEED=n` runs that seed alone; to
//! narrow a failing seed down, `ZTS_KILLS=k` sets the kill points per seed (default 3) and
//! `ZTS_ZOOM_FAULTS=0` turns the Zoom faults off, `ZTS_ZOOM_FAULT_SPEC` replaces them (the
//! sandbox's `--faults` syntax, e.g. `500=0.05`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use rand::{RngExt, SeedableRng};
use reliability::stack::sqs_record;
use reliability::{RuntimeApi, Stack};
use serde_json::{Value, json};
use sync_engine::Task;
use test_support::*;
use tokio::sync::Notify;
use zoom_sandbox::faults::FaultConfig;

/// DynamoDB's write operations (the store writes a kill lands between).
const WRITES: [&str; 5] = [
    "DynamoDB_20120810.PutItem",
    "DynamoDB_20120810.UpdateItem",
    "DynamoDB_20120810.DeleteItem",
    "DynamoDB_20120810.BatchWriteItem",
    "DynamoDB_20120810.TransactWriteItems",
];
/// The token vault's save of a rotated token (the only Secrets Manager write the tasks make).
const TOKEN_SAVE: &str = "secretsmanager.PutSecretValue";
const VISIBILITY_SECS: u32 = 2;
const MAX_RECEIVES: u32 = 12;
/// How long a lost answer of the timeout kind is held before its 504.
const LOST_HOLD_MS: u64 = 3_000;

/// The AWS endpoint the functions see: forwards to moto, counts DynamoDB writes, and at a kill
/// point forwards the write (or not) and then never answers, signalling `killed`.
struct KillingProxy {
    moto: String,
    http: reqwest::Client,
    writes: AtomicU64,
    /// Write numbers at which to kill; `true`: the write reaches moto first.
    kill_at: std::sync::Mutex<BTreeMap<u64, bool>>,
    kill: Notify,
    kills: AtomicU64,
    /// Kill at the next token save without letting it through: Zoom has rotated the refresh
    /// token and the process dies before storing it.
    kill_token_save: AtomicBool,
}

impl KillingProxy {
    fn new(moto: String, kill_at: BTreeMap<u64, bool>, kill_token_save: bool) -> Arc<Self> {
        Arc::new(Self {
            moto,
            http: reqwest::Client::new(),
            writes: AtomicU64::new(0),
            kill_at: std::sync::Mutex::new(kill_at),
            kill: Notify::new(),
            kills: AtomicU64::new(0),
            kill_token_save: AtomicBool::new(kill_token_save),
        })
    }

    async fn forward(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::response::Response {
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if target == TOKEN_SAVE && self.kill_token_save.swap(false, Ordering::SeqCst) {
            self.kills.fetch_add(1, Ordering::SeqCst);
            self.kill.notify_one();
            std::future::pending::<()>().await;
        }
        if WRITES.contains(&target.as_str()) {
            let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
            let point = self.kill_at.lock().unwrap().remove(&n);
            if let Some(applied) = point {
                if applied {
                    let _ = self.send(&method, &uri, &headers, body.clone()).await;
                }
                self.kills.fetch_add(1, Ordering::SeqCst);
                self.kill.notify_one();
                // The process dies waiting for this answer.
                std::future::pending::<()>().await;
            }
        }
        match self.send(&method, &uri, &headers, body).await {
            Ok((status, headers, body)) => {
                let mut response = axum::response::Response::new(axum::body::Body::from(body));
                *response.status_mut() = status;
                *response.headers_mut() = headers;
                response
            }
            Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
        }
    }

    async fn send(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<(StatusCode, HeaderMap, Bytes), reqwest::Error> {
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.moto))
            .body(body);
        for (k, v) in headers {
            if k != "host" && k != "content-length" {
                request = request.header(k, v);
            }
        }
        let response = request.send().await?;
        let status = response.status();
        let mut out = HeaderMap::new();
        for (k, v) in response.headers() {
            if k != "content-length" && k != "transfer-encoding" && k != "connection" {
                out.insert(k.clone(), v.clone());
            }
        }
        Ok((status, out, response.bytes().await?))
    }
}

async fn start_proxy(proxy: Arc<KillingProxy>) -> SocketAddr {
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let proxy = proxy.clone();
            async move { proxy.forward(method, uri, headers, body).await }
        },
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// One task function: invokes it with `event` in a fresh process, killed when the proxy says.
/// `None`: killed (or died) before answering.
async fn invoke_once(
    stack: &Stack,
    task: Task,
    proxy: &KillingProxy,
    proxy_url: &str,
    event: Value,
) -> Option<Value> {
    let runtime = RuntimeApi::start().await.unwrap();
    let mut function = stack
        .start_function(
            env!("CARGO_BIN_EXE_task-function"),
            task,
            &runtime,
            proxy_url,
        )
        .unwrap();
    let answer = tokio::select! {
        answer = runtime.invoke(event, Duration::from_secs(900)) => answer,
        _ = proxy.kill.notified() => None,
        _ = function.child.wait() => None,
    };
    function.child.start_kill().ok();
    let _ = function.child.wait().await;
    match answer {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => panic!("{task} refused an event: {e}\n{}", function.last_logs(20)),
        None => None,
    }
}

/// Runs `task` as the stack would: the schedule event (retried while killed), then batches of
/// its queue until the queue is empty. Panics on a stuck unit.
async fn run_task(stack: &Stack, task: Task, proxy: &KillingProxy, proxy_url: &str) {
    let schedule = json!({"task": task.as_str(), "mode": "scheduled"});
    let mut attempts = 0;
    while invoke_once(stack, task, proxy, proxy_url, schedule.clone())
        .await
        .is_none()
    {
        attempts += 1;
        assert!(attempts < 5, "{task}: the schedule never got through");
    }
    let (url, arn) = stack.queues[&task].clone();
    let mut receives: BTreeMap<String, u32> = BTreeMap::new();
    let mut idle = 0;
    loop {
        let got = stack
            .clients
            .sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let messages = got.messages().to_vec();
        if messages.is_empty() {
            // Empty now; in flight ones come back after the visibility timeout.
            let attrs = stack
                .clients
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                .send()
                .await
                .unwrap();
            let count = |name: aws_sdk_sqs::types::QueueAttributeName| {
                attrs
                    .attributes()
                    .and_then(|a| a.get(&name))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let pending = count(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
            ) + count(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            );
            if pending == 0 {
                idle += 1;
                if idle >= 2 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        idle = 0;
        for m in &messages {
            let r = receives
                .entry(m.message_id().unwrap_or("").to_owned())
                .or_default();
            *r += 1;
            assert!(
                *r <= MAX_RECEIVES,
                "{task}: a unit is stuck: {:?}",
                m.body()
            );
        }
        let batch: Vec<Value> = messages.iter().map(|m| sqs_record(m, &arn)).collect();
        let Some(answer) =
            invoke_once(stack, task, proxy, proxy_url, json!({ "Records": batch })).await
        else {
            continue; // killed: the whole batch comes back after the visibility timeout
        };
        let failed: Vec<&str> = answer["batchItemFailures"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["itemIdentifier"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        for m in &messages {
            if !failed.contains(&m.message_id().unwrap_or("")) {
                stack
                    .clients
                    .sqs
                    .delete_message()
                    .queue_url(&url)
                    .receipt_handle(m.receipt_handle().unwrap_or(""))
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// A grant Zoom made unusable: the connection is flagged for re-authorization, and the tasks
/// stop asking Zoom for tokens (another round of the four adds no token request). Returns the
/// token requests made so far.
async fn assert_flagged_and_quiet(
    stack: &Stack,
    sb: &zoom_sandbox::RunningSandbox,
    proxy: &KillingProxy,
    proxy_url: &str,
    context: &str,
) -> u64 {
    let status = ports::ConnectionStore::get_connection(&stack.records, &stack.connection_id)
        .await
        .unwrap()
        .unwrap()
        .status;
    assert!(
        matches!(status, ports::ConnectionStatus::NeedsReauthorization { .. }),
        "{context}: connection {status:?}"
    );
    let token_requests = sb.state.stats.snapshot().endpoint("POST", "/oauth/token");
    for task in Task::ALL {
        run_task(stack, task, proxy, proxy_url).await;
    }
    assert_eq!(
        sb.state.stats.snapshot().endpoint("POST", "/oauth/token"),
        token_requests,
        "{context}: the tasks kept asking for tokens on a dead grant"
    );
    token_requests
}

/// A round of the four tasks; the records must then equal the truth.
async fn clean_round(
    stack: &Stack,
    proxy: &KillingProxy,
    proxy_url: &str,
    truth: &zoom_sandbox::truth::TenantTruth,
    s: &ports::ConnectionSettings,
) -> Stats {
    for task in Task::ALL {
        run_task(stack, task, proxy, proxy_url).await;
    }
    assert_matches_truth(
        &stack.records,
        truth,
        &stack.connection_id,
        s,
        chrono::Utc::now(),
    )
    .await
}

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What happens to the refresh token the first invocation rotates (picked by the seed, so the
/// three seeds of `make test` see each once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenFate {
    /// Stored (token endpoint faults permitting); answers lost on Zoom's `/v2` reads instead.
    Kept,
    /// Zoom rotates the refresh token and its answer is lost: Zoom made the grant unusable.
    AnswerLost,
    /// Zoom rotates it and the function is killed before the save reaches Secrets Manager.
    KilledBeforeSave,
}

impl TokenFate {
    fn of_seed(seed: u64) -> Self {
        match seed % 5 {
            1 => Self::AnswerLost,
            3 => Self::KilledBeforeSave,
            _ => Self::Kept,
        }
    }
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("ZTS_SEED").ok().and_then(|v| v.parse().ok()) {
        return vec![seed];
    }
    let rounds: u64 = std::env::var("ZTS_SOAK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    (1..=rounds).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_and_zoom_faults_leave_the_records_of_the_truth() {
    let Some(clients) = moto_clients("crash_consistency").await else {
        eprintln!("NOTICE crash_consistency: skipped, no local AWS");
        return;
    };
    let moto = aws_adapters::AwsConfig::from_env().endpoint_url.unwrap();
    for seed in seeds() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let fate = TokenFate::of_seed(seed);
        // The functions run on the machine's clock: the tenant's anchor is the generator's
        // default (the latest midnight), not the tests' fixed one.
        let sb = sandbox(zoom_sandbox::tenant::TenantSpec::demo()).await;
        let truth = truth(&sb);
        let s = settings(true, false);
        // Expired, so the first invocation refreshes at the (faulty) token endpoint.
        let mut tokens = sandbox_tokens(&sb, &[]);
        tokens.expires_at = chrono::Utc::now() - chrono::Duration::minutes(1);
        let n: u64 = rand::random();
        let name = format!("crash-{seed}-{n:08x}");
        let stack = Stack::create(clients.clone(), &sb, &name, s, tokens, VISIBILITY_SECS)
            .await
            .unwrap();
        // Kill points among the first 140 DynamoDB writes (a faulty run makes about 120-140).
        let mut kill_at = BTreeMap::new();
        while kill_at.len() < knob("ZTS_KILLS", 3) as usize {
            kill_at.insert(rng.random_range(1..=140u64), rng.random_bool(0.5));
        }
        let points = kill_at.clone();
        let proxy = KillingProxy::new(moto.clone(), kill_at, fate == TokenFate::KilledBeforeSave);
        let proxy_url = format!("http://{}", start_proxy(proxy.clone()).await);
        if let Ok(spec) = std::env::var("ZTS_ZOOM_FAULT_SPEC") {
            let mut faults: FaultConfig = spec.parse().expect("ZTS_ZOOM_FAULT_SPEC");
            faults.seed = seed;
            sb.state.faults.set(faults);
        } else if knob("ZTS_ZOOM_FAULTS", 1) != 0 {
            // Lost answers: on 3% of the `/v2` reads, or on the first refresh for `AnswerLost`.
            let lost_path = match fate {
                TokenFate::AnswerLost => "/oauth/token",
                _ => "/v2",
            };
            sb.state.faults.set(FaultConfig {
                error_500: 0.03,
                error_503: 0.02,
                drop: 0.02,
                rate_limit: 0.01,
                oauth: true,
                lost: if fate == TokenFate::AnswerLost {
                    1.0
                } else {
                    0.03
                },
                lost_limit: (fate == TokenFate::AnswerLost).then_some(1),
                lost_paths: vec![lost_path.into()],
                hold_ms: Some(LOST_HOLD_MS),
                seed,
                ..Default::default()
            });
        } else if fate == TokenFate::AnswerLost {
            sb.state.faults.set(FaultConfig {
                lost: 1.0,
                lost_limit: Some(1),
                lost_paths: vec!["/oauth/token".into()],
                hold_ms: Some(LOST_HOLD_MS),
                seed,
                ..Default::default()
            });
        }
        for task in Task::ALL {
            run_task(&stack, task, &proxy, &proxy_url).await;
        }
        let writes = proxy.writes.load(Ordering::SeqCst);
        let kills = proxy.kills.load(Ordering::SeqCst);
        let zoom = sb.state.stats.snapshot();
        let faults = zoom.faults.clone();
        let lost_refreshes = zoom.lost_at("POST", "/oauth/token");
        sb.state.faults.clear();
        proxy.kill_at.lock().unwrap().clear();
        let connection = || async {
            ports::ConnectionStore::get_connection(&stack.records, &stack.connection_id)
                .await
                .unwrap()
                .unwrap()
        };
        let grant_lost = match fate {
            TokenFate::Kept => false,
            TokenFate::AnswerLost => {
                assert!(
                    lost_refreshes > 0,
                    "seed {seed}: no refresh answer was lost"
                );
                true
            }
            TokenFate::KilledBeforeSave => {
                assert!(
                    !proxy.kill_token_save.load(Ordering::SeqCst),
                    "seed {seed}: the token save was never reached"
                );
                true
            }
        };
        if grant_lost {
            // Zoom made the grant unusable.
            assert_flagged_and_quiet(
                &stack,
                &sb,
                &proxy,
                &proxy_url,
                &format!("seed {seed} ({fate:?})"),
            )
            .await;
            // An admin connects the account again.
            stack.reauthorize(sandbox_tokens(&sb, &[])).await.unwrap();
        } else {
            assert_eq!(lost_refreshes, 0, "seed {seed}: a refresh answer was lost");
            let status = connection().await.status;
            assert!(
                status.is_active(),
                "seed {seed}: a connection was lost with its grant alive: {status:?}"
            );
        }

        // The clean run: no faults, no kills.
        let stats = clean_round(&stack, &proxy, &proxy_url, &truth, &s).await;
        let status = connection().await.status;
        assert!(status.is_active(), "seed {seed}: connection {status:?}");
        eprintln!(
            "seed {seed}: token {fate:?}, kill points {points:?}, {kills} kills in {writes} writes; Zoom faults {faults:?}; records equal the truth ({stats:?})"
        );
    }
}

/// The admin revokes the app at Zoom while Application Access runs (its access and refresh
/// tokens die at once). The connection must be flagged for re-authorization, the units must
/// not loop on the dead grant (the queue drains; another round asks Zoom for no token), and
/// after the admin connects again a clean run ends with the truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_revoked_mid_sync_is_flagged_and_recovered() {
    let Some(clients) = moto_clients("grant_revoked_mid_sync").await else {
        eprintln!("NOTICE grant_revoked_mid_sync: skipped, no local AWS");
        return;
    };
    let moto = aws_adapters::AwsConfig::from_env().endpoint_url.unwrap();
    let sb = sandbox(zoom_sandbox::tenant::TenantSpec::demo()).await;
    let truth = truth(&sb);
    let s = settings(true, false);
    let n: u64 = rand::random();
    let name = format!("revoked-{n:08x}");
    let stack = Stack::create(
        clients.clone(),
        &sb,
        &name,
        s,
        sandbox_tokens(&sb, &[]),
        VISIBILITY_SECS,
    )
    .await
    .unwrap();
    let proxy = KillingProxy::new(moto, BTreeMap::new(), false);
    let proxy_url = format!("http://{}", start_proxy(proxy.clone()).await);
    run_task(&stack, Task::ApplicationRoster, &proxy, &proxy_url).await;

    // Revoke once Access has made a few dozen requests.
    let started = sb.state.stats.snapshot().requests;
    let revoker = tokio::spawn({
        let state = sb.state.clone();
        async move {
            while state.stats.snapshot().requests < started + 40 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            state.oauth.revoke_all()
        }
    });
    run_task(&stack, Task::ApplicationAccess, &proxy, &proxy_url).await;
    let revoked = tokio::time::timeout(Duration::from_secs(5), revoker)
        .await
        .expect("Access ended before its 40th request: nothing was revoked mid-run");
    assert!(revoked.unwrap() > 0, "the grant was revoked mid-run");
    let token_requests =
        assert_flagged_and_quiet(&stack, &sb, &proxy, &proxy_url, "revoked mid-sync").await;

    stack.reauthorize(sandbox_tokens(&sb, &[])).await.unwrap();
    let stats = clean_round(&stack, &proxy, &proxy_url, &truth, &s).await;
    eprintln!(
        "grant revoked after {} requests of Access; {token_requests} token requests; records equal the truth ({stats:?})",
        40
    );
}
