//! A task function through its real entry point (#17): `lambda_wiring::run_task_function` in a
//! process of its own (`task-function`), polling a local Lambda Runtime API, with its
//! configuration from the environment, the SQS queue, the table and the token vault on moto and
//! Zoom at the sandbox. Schedule event → units on the FIFO queue → an SQS batch (with a poison
//! message at its end) → records; then a redelivery of a finished message changes no record. The
//! stored roster equals what the sandbox's truth implies, per account.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::Utc;
use reliability::stack::sqs_record;
use reliability::{RuntimeApi, Stack};
use serde_json::{Value, json};
use sync_engine::Task;
use test_support::*;

const TASK: Task = Task::ApplicationRoster;

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
    let moto = aws_adapters::AwsConfig::from_env().endpoint_url.unwrap();
    let sb = sandbox(demo_spec()).await;
    let truth = truth(&sb);
    let s = settings(false, false);
    let n: u64 = rand::random();
    let stack = Stack::create(
        clients.clone(),
        &sb,
        &format!("entry-{n:016x}"),
        s,
        sandbox_tokens(&sb, &[]),
        300,
    )
    .await
    .unwrap();
    let cid = stack.connection_id.as_str();
    let records = &stack.records;
    let (queue_url, queue_arn) = stack.queues[&TASK].clone();

    // The function process, as Lambda starts it.
    let runtime = RuntimeApi::start().await.unwrap();
    let mut function = stack
        .start_function(env!("CARGO_BIN_EXE_task-function"), TASK, &runtime, &moto)
        .expect("start task-function");
    // The stack's function timeout: each invocation gets its 15 minutes.
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
        function.last_logs(20)
    );

    // The roster equals the truth's tracked users, per account.
    let now = Utc::now();
    let os = oracle_settings(&s);
    let expected: BTreeMap<String, BTreeSet<String>> = oracle::expect_tenant(&truth, &os, now)
        .into_iter()
        .map(|e| (e.account.id.clone(), e.users.keys().cloned().collect()))
        .collect();
    let stored = stored_keys(records, cid, &accounts).await;
    assert_eq!(stored, expected, "stored roster vs the truth");
    assert!(stored.values().map(BTreeSet::len).sum::<usize>() > 0);

    // 3. SQS delivers a finished message again (its deletion was lost): nothing changes.
    let users_before = stored_keys(records, cid, &accounts).await;
    let again = runtime
        .invoke(
            json!({ "Records": [sqs_record(&messages[0], &queue_arn)] }),
            timeout,
        )
        .await
        .expect("answered")
        .unwrap_or_else(|e| panic!("redelivery refused: {e}"));
    assert_eq!(again["batchItemFailures"], json!([]), "{again}");
    assert_eq!(stored_keys(records, cid, &accounts).await, users_before);
    let runs = task_runs(records, cid, TASK, 100).await;
    assert_eq!(runs.len(), accounts.len() + 1, "one run per delivery");

    assert!(
        runtime.init_errors().is_empty(),
        "{:?}",
        runtime.init_errors()
    );
    function.child.start_kill().ok();
    let _ = function.child.wait().await;
}
