//! Many processes, one token (#17): 8 OS processes (`token-worker`), each with 8 concurrent
//! Zoom calls and a clock of its own (skewed by up to ±1.5 s), start together on a connection
//! whose access token has expired, against moto (DynamoDB lease, Secrets Manager tokens) and the
//! Zoom sandbox (rotating refresh tokens). Each round: exactly one refresh reaches Zoom, no
//! refresh is refused (`invalid_grant`), all 64 calls succeed and the stored refresh token is
//! the live one. `ZTS_SOAK_ROUNDS` sets the rounds (default 3; `make soak` runs 20).

use std::process::Stdio;
use std::time::Duration;

use aws_adapters::SecretsManagerTokenStore;
use chrono::Utc;
use ports::{ConnectionSettings, TokenStore};
use reliability::Stack;
use test_support::{moto_clients, sandbox_tokens};
use zoom_sandbox::SandboxConfig;

const PROCESSES: usize = 8;
const TASKS: usize = 8;
const SKEWS_MS: [i64; PROCESSES] = [-1500, -1000, -500, -100, 0, 400, 900, 1500];

fn rounds() -> usize {
    std::env::var("ZTS_SOAK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_with_skewed_clocks_refresh_once() {
    let Some(clients) = moto_clients("many_processes").await else {
        eprintln!("NOTICE many_processes: skipped, no local AWS");
        return;
    };
    let sb = zoom_sandbox::start_local(SandboxConfig::demo())
        .await
        .expect("sandbox");
    let app = sb.state.config.apps[0].clone();

    for round in 0..rounds() {
        let mut original = sandbox_tokens(&sb, &[]);
        // Expired for every skewed clock.
        original.expires_at = Utc::now() - chrono::Duration::minutes(10);
        let n: u64 = rand::random();
        let stack = Stack::create(
            clients.clone(),
            &sb,
            &format!("procs-{round}-{n:016x}"),
            ConnectionSettings::default(),
            original.clone(),
            30,
        )
        .await
        .unwrap();
        let (cid, table, prefix) = (&stack.connection_id, &stack.table, &stack.token_prefix);
        let tokens = SecretsManagerTokenStore::new(clients.secrets.clone(), prefix.clone());
        let before = sb.state.stats.snapshot();

        let start_at = Utc::now().timestamp_millis() + 1_500;
        let children: Vec<_> = SKEWS_MS
            .iter()
            .map(|skew| {
                tokio::process::Command::new(env!("CARGO_BIN_EXE_token-worker"))
                    .args([
                        "--connection",
                        cid,
                        "--skew-ms",
                        &skew.to_string(),
                        "--tasks",
                        &TASKS.to_string(),
                        "--start-at-ms",
                        &start_at.to_string(),
                        "--oauth-base",
                        &sb.base_url(),
                        "--client-id",
                        &app.client_id,
                        "--redirect-uri",
                        &app.redirect_uris[0],
                    ])
                    .env("TOKEN_WORKER_CLIENT_SECRET", &app.client_secret)
                    .env("ZTS_TABLE_NAME", table)
                    .env("ZTS_TOKEN_SECRET_PREFIX", prefix)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .expect("start token-worker")
            })
            .collect();
        let mut ok = 0;
        for (child, skew) in children.into_iter().zip(SKEWS_MS) {
            let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
                .await
                .expect("a worker hung")
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "round {round}, worker with skew {skew} ms: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
            ok += line["ok"].as_u64().unwrap();
        }
        assert_eq!(
            ok,
            (PROCESSES * TASKS) as u64,
            "round {round}: every call proceeds"
        );

        let after = sb.state.stats.snapshot();
        assert_eq!(
            after.grants("refresh_token") - before.grants("refresh_token"),
            1,
            "round {round}: exactly one refresh at Zoom"
        );
        let refused = |s: &zoom_sandbox::stats::StatsSnapshot| {
            s.token_failures.get("refresh_token").copied().unwrap_or(0)
        };
        assert_eq!(
            refused(&after),
            refused(&before),
            "round {round}: no refresh refused (invalid_grant)"
        );
        let stored = tokens.read(cid).await.unwrap().expect("tokens stored");
        assert_ne!(stored.tokens.refresh_token, original.refresh_token);
        eprintln!(
            "round {round}: {PROCESSES} processes x {TASKS} calls, skews {SKEWS_MS:?} ms: 1 refresh, {ok} calls ok"
        );
    }
}
