//! Schedule → plan → SQS fan-out → units, with the event files of `events/<task>/` read as
//! the task functions read them ([`TaskEvent`]); skipped and failing connections; partial batch
//! failures; direct invokes.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use lambda_wiring::TaskEvent;
use ports::{ConnectionRecord, ConnectionStatus, ConnectionStore};
use serde_json::Value;
use sync_engine::{ClientFactory, PlanReport, SyncEngine, SyncError, Task};
use test_support::*;
use zoom::ZoomClient;

/// One event through the task function's event type and handler, answered as JSON.
async fn handle_event(engine: &SyncEngine, task: Task, event: Value) -> Result<Value, SyncError> {
    let event = TaskEvent::from_value(event)?;
    let response = lambda_wiring::task::handle(engine, task, event, None).await?;
    Ok(serde_json::to_value(response).expect("responses serialize"))
}

fn event(task: Task, case: &str) -> Value {
    let text = match (task, case) {
        (Task::ApplicationRoster, "schedule") => {
            include_str!("../../../events/application-roster/schedule.json")
        }
        (Task::ApplicationRoster, "sqs") => {
            include_str!("../../../events/application-roster/sqs.json")
        }
        (Task::ApplicationRoster, "sqs-poison") => {
            include_str!("../../../events/application-roster/sqs-poison.json")
        }
        (Task::ApplicationRoster, "direct") => {
            include_str!("../../../events/application-roster/direct.json")
        }
        (Task::ApplicationRoster, "direct-account") => {
            include_str!("../../../events/application-roster/direct-account.json")
        }
        (Task::ApplicationAccess, "schedule") => {
            include_str!("../../../events/application-access/schedule.json")
        }
        (Task::ApplicationAccess, "schedule-full") => {
            include_str!("../../../events/application-access/schedule-full.json")
        }
        (Task::ApplicationAccess, "sqs") => {
            include_str!("../../../events/application-access/sqs.json")
        }
        (Task::ApplicationAccess, "sqs-poison") => {
            include_str!("../../../events/application-access/sqs-poison.json")
        }
        (Task::ApplicationAccess, "direct") => {
            include_str!("../../../events/application-access/direct.json")
        }
        (Task::ApplicationAccess, "direct-account") => {
            include_str!("../../../events/application-access/direct-account.json")
        }
        (Task::LicenseInformation, "schedule") => {
            include_str!("../../../events/license-information/schedule.json")
        }
        (Task::LicenseInformation, "sqs") => {
            include_str!("../../../events/license-information/sqs.json")
        }
        (Task::LicenseInformation, "sqs-poison") => {
            include_str!("../../../events/license-information/sqs-poison.json")
        }
        (Task::LicenseInformation, "direct") => {
            include_str!("../../../events/license-information/direct.json")
        }
        (Task::LicenseInformation, "direct-account") => {
            include_str!("../../../events/license-information/direct-account.json")
        }
        (Task::LicenseDifferentiation, "schedule") => {
            include_str!("../../../events/license-differentiation/schedule.json")
        }
        (Task::LicenseDifferentiation, "sqs") => {
            include_str!("../../../events/license-differentiation/sqs.json")
        }
        (Task::LicenseDifferentiation, "sqs-poison") => {
            include_str!("../../../events/license-differentiation/sqs-poison.json")
        }
        (Task::LicenseDifferentiation, "direct") => {
            include_str!("../../../events/license-differentiation/direct.json")
        }
        (Task::LicenseDifferentiation, "direct-account") => {
            include_str!("../../../events/license-differentiation/direct-account.json")
        }
        _ => panic!("no event {case} for {task}"),
    };
    serde_json::from_str(text).expect("event JSON")
}

/// A client per connection (the dead-grant one for `conn-broken`).
struct PerConnection(HashMap<String, ZoomClient>, ZoomClient);

#[async_trait]
impl ClientFactory for PerConnection {
    async fn client(&self, c: &ConnectionRecord, _: Task) -> Result<ZoomClient, SyncError> {
        Ok(self.0.get(&c.connection_id).unwrap_or(&self.1).clone())
    }
}

const DEMO: &str = "conn-demo";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_fans_out_units_that_store_the_truth_and_isolate_failures() {
    let mut env = env(demo_spec(), "fanout").await;
    let truth = truth(&env.sb);
    let s = settings(true, true);
    connect(&env.records, &truth, DEMO, s).await;
    for (cid, status) in [
        (
            "conn-deauthorized",
            ConnectionStatus::Deauthorized {
                at: Utc::now(),
                purge_after: Utc::now(),
            },
        ),
        (
            "conn-reauth",
            ConnectionStatus::NeedsReauthorization {
                reason: "test".into(),
                since: Utc::now(),
            },
        ),
        ("conn-broken", ConnectionStatus::Active),
    ] {
        connect(&env.records, &truth, cid, s).await;
        env.records
            .update_connection(cid, &move |c| c.status = status.clone())
            .await
            .unwrap();
    }
    let factory = PerConnection(
        HashMap::from([("conn-broken".to_owned(), dead_grant_client(&env.sb))]),
        env.client.clone(),
    );
    env.engine = SyncEngine {
        clients: Arc::new(factory),
        ..env.engine.clone()
    };
    let accounts = tree(&truth).len();
    for task in Task::ALL {
        let out = handle_event(&env.engine, task, event(task, "schedule"))
            .await
            .expect("plan");
        let plan: PlanReport = serde_json::from_value(out).unwrap();
        let mut skipped = plan.skipped_connections.clone();
        skipped.sort();
        if task == Task::ApplicationRoster {
            assert_eq!(skipped, ["conn-deauthorized", "conn-reauth"], "{task}");
            // The dead grant fails only its own connection, which now needs re-authorization.
            assert_eq!(plan.failed_connections.len(), 1, "{task}: {plan:?}");
            assert_eq!(plan.failed_connections[0].0, "conn-broken");
            assert_eq!(plan.units, accounts);
        } else {
            // From then on the broken connection is skipped like the other inactive ones.
            assert_eq!(
                skipped,
                ["conn-broken", "conn-deauthorized", "conn-reauth"],
                "{task}"
            );
            assert!(plan.failed_connections.is_empty(), "{task}: {plan:?}");
            assert_eq!(plan.units, accounts, "{task}: {plan:?}");
        }
        assert_eq!(drain(&env, task).await, accounts, "{task}");
    }
    let broken = env
        .records
        .get_connection("conn-broken")
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(broken.status, ConnectionStatus::NeedsReauthorization { .. }),
        "{:?}",
        broken.status
    );
    assert!(broken.tasks["application-roster"].last_error.is_some());
    let now = (env.engine.clock)();
    assert_matches_truth(&env.records, &truth, DEMO, &s, now).await;
    let demo = env.records.get_connection(DEMO).await.unwrap().unwrap();
    for task in Task::ALL {
        let outcome = &demo.tasks[task.as_str()];
        assert!(
            outcome.last_success_at.is_some() && outcome.last_error.is_none(),
            "{task}"
        );
        let runs = task_runs(&env.records, DEMO, task, 10).await;
        assert_eq!(runs.len(), accounts, "{task}: one run record per unit");
        for run in runs {
            assert_eq!(run.status, ports::RunStatus::Succeeded);
            if task.uses_zoom() {
                let total: u64 = run.requests_by_endpoint.values().sum();
                assert!(total > 0, "{task}: requests by endpoint recorded");
                assert_eq!(run.counts["requests"], total, "{task}");
            } else {
                assert!(
                    run.requests_by_endpoint.is_empty(),
                    "{task} calls no Zoom endpoint"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_and_direct_event_files_run_and_poison_messages_are_reported() {
    let env = env(demo_spec(), "sqs_and_direct").await;
    let truth = truth(&env.sb);
    connect(&env.records, &truth, DEMO, settings(false, false)).await;
    for task in Task::ALL {
        let sqs = event(task, "sqs");
        let n = sqs["Records"].as_array().unwrap().len();
        let out = handle_event(&env.engine, task, sqs).await.unwrap();
        assert_eq!(out["batchItemFailures"], serde_json::json!([]), "{task}");
        let runs = task_runs(&env.records, DEMO, task, 10).await;
        assert_eq!(runs.len(), n, "{task}");

        // Unreadable bodies and messages for another task fail (then go to the DLQ); the
        // good message in the same batch succeeds.
        let poison = event(task, "sqs-poison");
        let ids: Vec<String> = poison["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["messageId"].as_str().unwrap().to_owned())
            .collect();
        let out = handle_event(&env.engine, task, poison).await.unwrap();
        let failed: Vec<&str> = out["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap())
            .collect();
        assert_eq!(failed, [ids[1].as_str(), ids[2].as_str()], "{task}");

        let out = handle_event(&env.engine, task, event(task, "direct"))
            .await
            .unwrap();
        assert_eq!(
            out["units"].as_array().unwrap().len(),
            tree(&truth).len(),
            "{task}"
        );
        assert_eq!(out["failed"], serde_json::json!([]), "{task}");
        let out = handle_event(&env.engine, task, event(task, "direct-account"))
            .await
            .unwrap();
        assert_eq!(out["units"].as_array().unwrap().len(), 1, "{task}");
        assert_eq!(
            out["units"][0]["unit"]["account_id"],
            event(task, "direct-account")["account_id"]
        );
    }
    let now = (env.engine.clock)();
    assert_matches_truth(&env.records, &truth, DEMO, &settings(false, false), now).await;
    // A schedule event for another task is refused.
    assert!(
        handle_event(
            &env.engine,
            Task::ApplicationRoster,
            event(Task::ApplicationAccess, "schedule")
        )
        .await
        .is_err()
    );
    let full = event(Task::ApplicationAccess, "schedule-full");
    assert_eq!(full["mode"], "full");
}
