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
