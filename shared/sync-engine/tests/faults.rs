//! Faults at Zoom (5xx, dropped connections, 429 bursts) and a worker killed at random points
//! (its future dropped mid-unit, then the unit redelivered as SQS would), including long units
//! continued from checkpoints: the final records equal the fault-free run's.

use std::time::Duration;

use aws_adapters::Records;
use rand::{RngExt, SeedableRng};
use sync_engine::{EngineOptions, Mode, SyncEngine, Task, Unit};
use test_support::*;
use zoom_sandbox::faults::FaultConfig;

const CID: &str = "conn-faults";

async fn snapshot(records: &Records, accounts: &[String]) -> String {
    stored_records(records, CID, accounts, |c| format!("{c:?}")).await
}

/// Runs every unit of every task to completion through a worker that is killed (its future
/// dropped) at random points and restarted, as SQS redelivers an unacknowledged message.
/// Follow-up segments (checkpoints) go through the queue like any message.
async fn run_with_kills(env: &Env, engine: &SyncEngine, accounts: &[String], seed: u64) -> u32 {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut kills = 0;
    for task in Task::ALL {
        let units: Vec<Unit> = accounts
            .iter()
            .map(|a| Unit::new(task, CID, a, Mode::Auto))
            .collect();
        let mut pending: std::collections::VecDeque<Unit> = units.into();
        while let Some(unit) = pending.pop_front() {
            let mut attempt = 0;
            loop {
                attempt += 1;
                // Bounded: a unit that never gets through is a failure, not a hang.
                assert!(
                    attempt <= 200,
                    "{task}: {unit:?} did not finish in 200 attempts"
                );
                // Kill within the first few milliseconds of the unit, up to three times.
                let kill_after = Duration::from_millis(rng.random_range(1..60));
                // 2 s left against the engine's 3 s margin: every access segment stops after one
                // host; Zoom calls get until half the margin before it (0.5 s).
                let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
                let run = engine.run_unit(&unit, Some(deadline));
                let outcome = if attempt <= 3 {
                    match tokio::time::timeout(kill_after, run).await {
                        Ok(r) => Some(r),
                        Err(_) => {
                            kills += 1;
                            None
                        }
                    }
                } else {
                    Some(run.await)
                };
                match outcome {
                    Some(Ok(_)) => break,
                    // Redelivered a little later, as SQS does (a pause the client took after a
                    // 429 outlasts the unit's deadline until it is over).
                    Some(Err(e)) if e.is_retryable() => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    Some(Err(e)) => panic!("{task}: {e}"),
                    None => continue,
                }
            }
            pending.extend(env.queue.receive(usize::MAX));
        }
    }
    kills
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_killed_workers_leave_the_fault_free_records() {
    // On the in-memory table (same semantics as DynamoDB by construction of aws-adapters).
    let env = env_on(sandbox(demo_spec()).await, Records::in_memory());
    let truth = truth(&env.sb);
    let s = settings(true, true);
    let accounts: Vec<String> = tree(&truth).iter().map(|a| a.id.clone()).collect();

    // Fault-free reference.
    let reference = Records::in_memory();
    connect(&reference, &truth, CID, s).await;
    let clean = SyncEngine {
        store: std::sync::Arc::new(reference.clone()),
        ..env.engine.clone()
    };
    for task in Task::ALL {
        for a in &accounts {
            clean
                .run_unit(&Unit::new(task, CID, a, Mode::Auto), None)
                .await
                .expect("fault-free run");
        }
    }
    let expected = snapshot(&reference, &accounts).await;

    // Faults at Zoom, and a deadline margin that makes every access segment stop after one
    // host: the access units continue through checkpoints and follow-up messages.
    env.sb.state.faults.set(FaultConfig {
        error_500: 0.04,
        error_502: 0.02,
        error_503: 0.02,
        drop: 0.03,
        rate_limit: 0.005,
        burst_429: 3,
        seed: 11,
        ..Default::default()
    });
    connect(&env.records, &truth, CID, s).await;
    let engine = SyncEngine {
        options: EngineOptions {
            deadline_margin: Duration::from_secs(3),
            ..EngineOptions::default()
        },
        ..env.engine.clone()
    };
    let kills = run_with_kills(&env, &engine, &accounts, 5).await;
    let stats = env.sb.state.stats.snapshot();
    eprintln!(
        "kills: {kills}; faults: {:?}; 429s: {}",
        stats.faults, stats.rate_limited
    );
    assert!(kills > 0, "the worker was killed at least once");
    assert!(!stats.faults.is_empty(), "faults were injected");
    let continued = task_runs(&env.records, CID, Task::ApplicationAccess, 1000)
        .await
        .iter()
        .filter(|r| r.status == ports::RunStatus::Continued)
        .count();
    assert!(continued > 0, "access units continued from checkpoints");
    let got = snapshot(&env.records, &accounts).await;
    assert_eq!(got, expected);
    let now = (env.engine.clock)();
    assert_matches_truth(&env.records, &truth, CID, &s, now).await;
}
