//! A batch of queued units in FIFO order: the first failure ends it and everything after it is
//! delivered again unprocessed; a batch that reaches the deadline margin hands the rest back
//! before starting another unit.

use std::time::Duration;

use sync_engine::{Mode, QueuedMessage, Task, Unit};
use test_support::*;

fn message(id: &str, unit: &Unit) -> QueuedMessage {
    QueuedMessage {
        id: id.into(),
        body: serde_json::to_string(unit).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_failure_and_the_deadline_hand_the_rest_back() {
    let env = env(demo_spec(), "batches").await;
    let truth = truth(&env.sb);
    let cid = "conn-batches";
    connect(&env.records, &truth, cid, settings(false, false)).await;
    let task = Task::ApplicationRoster;
    let accounts: Vec<String> = tree(&truth).iter().map(|a| a.id.clone()).collect();
    let unit = |i: usize| Unit::new(task, cid, &accounts[i], Mode::Auto);

    // good, unreadable, good: the second good one must not run before the unreadable one.
    let batch = vec![
        message("m0", &unit(0)),
        QueuedMessage {
            id: "m1".into(),
            body: "{not a unit".into(),
        },
        message("m2", &unit(1)),
    ];
    let redeliver = env.engine.run_messages(task, batch, None).await;
    assert_eq!(redeliver, ["m1", "m2"]);
    assert_eq!(
        task_runs(&env.records, cid, task, 10).await.len(),
        1,
        "only m0 ran"
    );

    // Within the deadline margin before the first unit: nothing runs, everything comes back.
    let deadline =
        tokio::time::Instant::now() + env.engine.options.deadline_margin - Duration::from_secs(1);
    let batch = vec![message("m3", &unit(0)), message("m4", &unit(1))];
    let redeliver = env.engine.run_messages(task, batch, Some(deadline)).await;
    assert_eq!(redeliver, ["m3", "m4"]);
    assert_eq!(
        task_runs(&env.records, cid, task, 10).await.len(),
        1,
        "nothing else ran"
    );
}

/// A unit whose Zoom calls outlast the invocation ends before the deadline, not at it: its calls
/// stop half the margin before, the failure is recorded and the batch answered in time, so
/// Lambda's timeout never returns the whole batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_unit_ends_before_the_deadline_and_records_its_failure() {
    let mut env = env(demo_spec(), "batches_slow").await;
    let truth = truth(&env.sb);
    let cid = "conn-batches-slow";
    connect(&env.records, &truth, cid, settings(false, false)).await;
    let task = Task::ApplicationRoster;
    let accounts: Vec<String> = tree(&truth).iter().map(|a| a.id.clone()).collect();
    env.engine.options.deadline_margin = Duration::from_secs(8);
    // Every Zoom answer takes 30 s: far longer than the invocation has.
    env.sb.state.faults.set(zoom_sandbox::faults::FaultConfig {
        latency_ms: 30_000,
        ..Default::default()
    });
    let started = tokio::time::Instant::now();
    // The unit may start (the margin is not reached); Zoom calls must stop at deadline - 4 s.
    let deadline = started + Duration::from_secs(10);
    let batch = vec![
        message("s0", &Unit::new(task, cid, &accounts[0], Mode::Auto)),
        message("s1", &Unit::new(task, cid, &accounts[1], Mode::Auto)),
    ];
    let redeliver = env.engine.run_messages(task, batch, Some(deadline)).await;
    let ended = tokio::time::Instant::now();
    env.sb.state.faults.clear();
    assert!(
        ended < deadline,
        "the batch was answered {:?} after the deadline",
        ended - deadline
    );
    assert_eq!(redeliver, ["s0", "s1"], "both come back");
    let runs = task_runs(&env.records, cid, task, 10).await;
    assert_eq!(runs.len(), 1, "the started unit recorded its run");
    assert_eq!(runs[0].status, ports::RunStatus::Failed);
}
