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

/// The Zoom time a unit's first attempts get (see [`segment`]), and the most a unit's retries
/// grow it to.
const FIRST_ZOOM_WINDOW: Duration = Duration::from_millis(500);
const LAST_ZOOM_WINDOW: Duration = Duration::from_secs(32);

/// One invocation's engine and deadline, giving Zoom calls `window` of (real) time: the deadline
/// is `4 × window` away and the margin `6 × window`, so the invocation is within its margin from
/// the start (every access segment stops after one host and continues in a follow-up message)
/// and Zoom calls end half the margin before the deadline, `window` from now.
fn segment(engine: &SyncEngine, window: Duration) -> (SyncEngine, tokio::time::Instant) {
    let engine = SyncEngine {
        options: EngineOptions {
            deadline_margin: window * 6,
            ..engine.options.clone()
        },
        ..engine.clone()
    };
    (engine, tokio::time::Instant::now() + window * 4)
}

/// Runs every unit of every task to completion through a worker that is killed (its future
/// dropped) at random points and restarted, as SQS redelivers an unacknowledged message.
/// Follow-up segments (checkpoints) go through the queue like any message. A unit's first
/// attempts give Zoom calls half a second; each retryable failure (a Zoom call cut at that
/// deadline, a fault the client gave up on) doubles it, up to 32 s, as a fresh invocation with
/// more time would: the unit finishes at any machine speed instead of failing 200 times on a
/// machine (or a loopback) where one host's calls take more than half a second.
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
            let mut window = FIRST_ZOOM_WINDOW;
            loop {
                attempt += 1;
                // Bounded: a unit that never gets through is a failure, not a hang.
                assert!(
                    attempt <= 200,
                    "{task}: {unit:?} did not finish in 200 attempts"
                );
                // Kill within the first few milliseconds of the unit, up to three times.
                let kill_after = Duration::from_millis(rng.random_range(1..60));
                let (engine, deadline) = segment(engine, window);
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
                        window = (window * 2).min(LAST_ZOOM_WINDOW);
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

    // Faults at Zoom, and invocations within their deadline margin from the start (`segment`):
    // every access segment stops after one host, the access units continue through
    // checkpoints and follow-up messages.
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
    let kills = run_with_kills(&env, &env.engine, &accounts, 5).await;
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
