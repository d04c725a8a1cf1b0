//! A task function through its real entry point (#17): `lambda_wiring::run_task_function` in a
//! process of its own (`task-function`), polling a local Lambda Runtime API, with its
//! configuration from the environment, the SQS queue, the table and the token vault on moto and
//! Zoom at the sandbox. Schedule event → units on the FIFO queue → an SQS batch (with a poison
//! message at its end) → records; then a redelivery of a finished message changes no record. The
//! stored roster equals what the sandbox's truth implies, per account.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::Duration;

use aws_adapters::{AppCredentials, AppSecrets, AwsConfig, SecretsManagerTokenStore};
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::Utc;
use ports::{StoredTokens, TokenStore, ZoomRegion};
use reliability::RuntimeApi;
use serde_json::{Value, json};
use test_support::*;

const TASK: &str = "application-roster";

fn sqs_record(m: &aws_sdk_sqs::types::Message, queue_arn: &str) -> Value {
    json!({
        "messageId": m.message_id(),
        "receiptHandle": m.receipt_handle(),
        "body": m.body(),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": m.md5_of_body().unwrap_or(""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    })
}

/// The stored, not removed, user keys per account.
async fn stored_keys(
    records: &aws_adapters::Records,
    cid: &str,
    accounts: &[String],
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for a in accounts {
        let keys = views(records, cid, a)
            .await
            .into_iter()
            .filter(|(_, v)| v.roster.removed_at.is_none())
            .map(|(k, _)| k)
            .collect();
        out.insert(a.clone(), keys);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_queue_batch_and_redelivery_through_the_real_entry_point() {
    let Some(clients) = moto_clients("entry_point").await else {
        eprintln!("NOTICE entry_point: skipped, no local AWS");
        return;
    };
    let aws = AwsConfig::from_env();
    let n: u64 = rand::random();
    let table = format!("zts-entry-{n:016x}");
    let prefix = format!("zts-entry-tokens-{n:016x}/");
    let app_secret = format!("zts-entry-app-{n:016x}");
    aws_adapters::create_table_if_missing(&clients.dynamodb, &table)
        .await
        .unwrap();
    let records = aws_adapters::Records::dynamo(clients.dynamodb.clone(), table.clone());
    let queue_url = clients
        .sqs
        .create_queue()
        .queue_name(format!("zts-entry-{n:016x}.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::VisibilityTimeout, "300")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let queue_arn = format!("arn:aws:sqs:us-east-1:000000000000:zts-entry-{n:016x}.fifo");

    let sb = sandbox(demo_spec()).await;
    let app = sb.state.config.apps[0].clone();
    AppSecrets {
        apps: BTreeMap::from([(
            ZoomRegion::Na,
            AppCredentials {
                client_id: app.client_id.clone(),
                client_secret: app.client_secret.clone().into(),
            },
        )]),
        webhook_secret_token: app.webhook_secret.clone().into(),
    }
    .store(&clients.secrets, &app_secret)
    .await
    .unwrap();
    let truth = truth(&sb);
    let cid = "conn-entry";
    let s = settings(false, false);
    connect(&records, &truth, cid, s).await;
    SecretsManagerTokenStore::new(clients.secrets.clone(), prefix.clone())
        .write_new_authorization(
            cid,
            &StoredTokens {
                tokens: sandbox_tokens(&sb, &[]),
                refreshed_at: Utc::now(),
            },
        )
        .await
        .unwrap();

    // The function process, as Lambda starts it.
    let runtime = RuntimeApi::start().await.unwrap();
    let log_path = std::env::temp_dir().join(format!("zts-entry-{n:016x}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let logs = || {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        text.lines().rev().take(20).collect::<Vec<_>>().join("\n")
    };
    let mut function = tokio::process::Command::new(env!("CARGO_BIN_EXE_task-function"))
        .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", TASK)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/local/entry-point")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("ZTS_TASK", TASK)
        .env("ZTS_TABLE_NAME", &table)
        .env("ZTS_APP_SECRET_ID", &app_secret)
        .env("ZTS_TOKEN_SECRET_PREFIX", &prefix)
        .env("ZTS_QUEUE_URL", &queue_url)
        .env("ZTS_ZOOM_REGION", "NA")
        .env("ZTS_ZOOM_OAUTH_BASE", sb.base_url())
        .env("ZTS_ZOOM_API_BASE", format!("{}/v2", sb.base_url()))
        .env(
            "ZTS_AWS_REGION",
            aws.region.as_deref().unwrap_or("us-east-1"),
        )
        .env("RUST_LOG", "warn")
        .stderr(Stdio::from(log.try_clone().unwrap()))
        .stdout(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .expect("start task-function");
    // The stack's function timeout: each invocation gets its 15 timeouts.
    let timeout = Duration::from_secs(900);

    // 1. The schedule event (the committed one): the function plans units onto the queue.
    let schedule: Value = serde_json::from_str(include_str!(
        "../../../events/application-roster/schedule.json"
    ))
    .unwrap();
    let planned = runtime.invoke(schedule, timeout).await.expect("answered");
    let planned = planned.unwrap_or_else(|e| panic!("schedule refused: {e}"));
    let accounts: Vec<String> = tree(&truth).iter().map(|a| a.id.clone()).collect();
    let mut messages = Vec::new();
    for _ in 0..10 {
        let got = clients
            .sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        messages.extend(got.messages().iter().cloned());
        if messages.len() >= accounts.len() {
            break;
        }
    }
    assert_eq!(
        messages.len(),
        accounts.len(),
        "one unit per account on the queue: {planned}"
    );

    // 2. The units as one SQS batch, a poison message last: the units run, the poison comes back.
    let mut batch: Vec<Value> = messages.iter().map(|m| sqs_record(m, &queue_arn)).collect();
    let mut poison = batch[0].clone();
    poison["messageId"] = "poison".into();
    poison["body"] = "{not a unit".into();
    batch.push(poison);
    let answer = runtime
        .invoke(json!({ "Records": batch }), timeout)
        .await
        .expect("answered")
        .unwrap_or_else(|e| panic!("batch refused: {e}"));
    let failures: Vec<&str> = answer["batchItemFailures"]
        .as_array()
        .expect("a partial batch response")
        .iter()
        .filter_map(|f| f["itemIdentifier"].as_str())
        .collect();
    assert_eq!(
        failures,
        ["poison"],
        "only the poison comes back: {answer}; the function's last log lines:\n{}",
        logs()
    );

    // The roster equals the truth's tracked users, per account.
    let now = Utc::now();
    let os = oracle_settings(&s);
    let expected: BTreeMap<String, BTreeSet<String>> = oracle::expect_tenant(&truth, &os, now)
        .into_iter()
        .map(|e| (e.account.id.clone(), e.users.keys().cloned().collect()))
        .collect();
    let stored = stored_keys(&records, cid, &accounts).await;
    assert_eq!(stored, expected, "stored roster vs the truth");
    assert!(stored.values().map(BTreeSet::len).sum::<usize>() > 0);

    // 3. SQS delivers a finished message again (its deletion was lost): nothing changes.
    let users_before = stored_keys(&records, cid, &accounts).await;
    let again = runtime
        .invoke(
            json!({ "Records": [sqs_record(&messages[0], &queue_arn)] }),
            timeout,
        )
        .await
        .expect("answered")
        .unwrap_or_else(|e| panic!("redelivery refused: {e}"));
    assert_eq!(again["batchItemFailures"], json!([]), "{again}");
    assert_eq!(stored_keys(&records, cid, &accounts).await, users_before);
    let runs = task_runs(&records, cid, sync_engine::Task::ApplicationRoster, 100).await;
    assert_eq!(runs.len(), accounts.len() + 1, "one run per delivery");

    assert!(
        runtime.init_errors().is_empty(),
        "{:?}",
        runtime.init_errors()
    );
    function.start_kill().ok();
    let _ = function.wait().await;
}
