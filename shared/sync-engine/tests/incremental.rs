//! The next simulated day: the incremental run costs a fraction of the first run's requests
//! and leaves records identical to a full run (and to the ground truth).

use aws_adapters::Records;
use ports::SyncRunStore;
use sync_engine::{DirectInvoke, SyncEngine, Task};
use test_support::*;

const CID: &str = "conn-incremental";

async fn run_all(engine: &SyncEngine, mode: Option<&str>) {
    let invoke = DirectInvoke {
        mode: mode.map(str::to_owned),
        ..direct(CID)
    };
    run_every_task(engine, &invoke).await;
}

/// Everything the tasks stored for the connection, comparable across stores.
async fn snapshot(records: &Records, accounts: &[String]) -> String {
    stored_records(records, CID, accounts, |c| {
        format!("{}|{:?}|{}", c.user_key, c.last_activity, c.days_inactive)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_day_incremental_run_is_cheap_and_equals_a_full_run() {
    // In-memory tables keep this 700-user tenant fast; moto is covered by the other tests.
    let env = env_on(sandbox(incremental_spec()).await, Records::in_memory());
    let s = settings(true, true);
    connect(&env.records, &truth(&env.sb), CID, s).await;
    let before = env.sb.state.stats.snapshot().requests;
    run_all(&env.engine, None).await;
    let first = env.sb.state.stats.snapshot().requests - before;

    // The next day: the clocks move on, 5% of the users are active.
    env.sb.state.clock.advance(86_400);
    let now = env.sb.state.clock.now();
    env.clock.set(now);
    let (_, active) = env.sb.state.tenant.simulate_day(0.05, now);
    assert!(active > 0, "someone was active on the simulated day");

    let before = env.sb.state.stats.snapshot().requests;
    run_all(&env.engine, None).await;
    let second = env.sb.state.stats.snapshot().requests - before;
    eprintln!("first run: {first} requests; next day: {second} requests ({active} active users)");
    assert!(
        (second as f64) < 0.2 * first as f64,
        "incremental run issued {second} requests, first run {first}"
    );
    let access_runs = task_runs(&env.records, CID, Task::ApplicationAccess, 200).await;
    assert!(
        access_runs
            .iter()
            .any(|r| r.counts.contains_key("incremental")),
        "the second access run was incremental"
    );

    // The roster writes only what changed: logins are not roster fields, so almost nothing.
    let roster_runs = task_runs(&env.records, CID, Task::ApplicationRoster, 200).await;
    let next_day = |name: &str| -> u64 {
        roster_runs
            .iter()
            .filter(|r| r.started_at >= now)
            .map(|r| r.counts.get(name).copied().unwrap_or(0))
            .sum()
    };
    eprintln!(
        "next day's roster: {} tracked, {} written",
        next_day("tracked"),
        next_day("written")
    );
    assert!(next_day("tracked") > 500);
    assert!(
        next_day("written") * 100 < next_day("tracked"),
        "the roster rewrote unchanged users"
    );

    // Identical to the ground truth of the new day ...
    let truth = truth(&env.sb);
    assert_matches_truth(&env.records, &truth, CID, &s, now).await;
    // ... and to what a full run into an empty store records.
    let fresh = Records::in_memory();
    let full = env_on_store(&env, fresh.clone());
    connect(&fresh, &truth, CID, s).await;
    run_all(&full, Some("full")).await;
    let accounts: Vec<String> = tree(&truth).iter().map(|a| a.id.clone()).collect();
    assert_eq!(
        snapshot(&env.records, &accounts).await,
        snapshot(&fresh, &accounts).await
    );
}

fn env_on_store(env: &Env, records: Records) -> SyncEngine {
    SyncEngine {
        store: std::sync::Arc::new(records),
        queue: std::sync::Arc::new(sync_engine::MemoryQueue::new()),
        ..env.engine.clone()
    }
}

/// A new unit that finds its account's run unfinished (stopped after its plan, with records
/// written since) continues that run instead of planning another: the plan's choices depend on
/// the stored records, so a second plan would pass over the hosts the first one had done part
/// of. The next day's records still equal the ground truth. A run older than 12 hours is
/// planned anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_unit_continues_the_unfinished_run_of_its_account() {
    use sync_engine::{EngineOptions, Mode, Unit};
    let env = env_on(sandbox(incremental_spec()).await, Records::in_memory());
    let s = settings(true, true);
    connect(&env.records, &truth(&env.sb), CID, s).await;
    run_all(&env.engine, None).await;
    env.sb.state.clock.advance(86_400);
    let now = env.sb.state.clock.now();
    env.clock.set(now);
    let (_, active) = env.sb.state.tenant.simulate_day(0.05, now);
    assert!(active > 0);
    let truth = truth(&env.sb);
    let accounts: Vec<String> = tree(&truth).iter().map(|a| a.id.clone()).collect();

    // Within its deadline margin from the start, a segment stops after its first entry; Zoom
    // calls get 5 s (half the margin before the deadline).
    let window = std::time::Duration::from_secs(5);
    let short = SyncEngine {
        options: EngineOptions {
            deadline_margin: window * 6,
            ..env.engine.options.clone()
        },
        ..env.engine.clone()
    };
    let planned = |r: &sync_engine::UnitReport| {
        r.run.counts.contains_key("incremental") || r.run.counts.contains_key("full")
    };
    let stop_early = |account: &str, mode: Mode| {
        let (short, queue) = (&short, &env.queue);
        let unit = Unit::new(Task::ApplicationAccess, CID, account, mode);
        async move {
            let deadline = tokio::time::Instant::now() + window * 4;
            let report = short.run_unit(&unit, Some(deadline)).await.unwrap();
            // The follow-up message is lost.
            queue.receive(usize::MAX);
            (unit, report)
        }
    };
    run_connection(&env.engine, Task::ApplicationRoster, CID).await;
    let mut continued = 0;
    for account in &accounts {
        let (unit, report) = stop_early(account, Mode::Auto).await;
        assert!(planned(&report), "{account}: the first segment plans");
        if !report.continued {
            continue;
        }
        continued += 1;
        let again = env.engine.run_unit(&unit, None).await.unwrap();
        assert!(
            !planned(&again),
            "{account}: a new unit planned again: {again:?}"
        );
        assert!(!again.continued);
    }
    assert!(continued > 0, "some account's run stopped early");
    for task in [Task::LicenseInformation, Task::LicenseDifferentiation] {
        run_connection(&env.engine, task, CID).await;
    }
    assert_matches_truth(&env.records, &truth, CID, &s, now).await;

    // A full run stopped early, and the next unit comes 13 hours later: a new plan.
    let (unit, report) = stop_early(&accounts[0], Mode::Full).await;
    assert!(report.continued, "a full run of the master stops early");
    let later = now + chrono::Duration::hours(13);
    env.sb.state.clock.advance(13 * 3_600);
    env.clock.set(later);
    let fresh = env.engine.run_unit(&unit, None).await.unwrap();
    assert!(
        planned(&fresh),
        "an old unfinished run is not continued: {fresh:?}"
    );

    // A run whose plan lost its parts (e.g. their TTL): the unit fails once and the next one
    // plans a full run (an incremental one would miss what the lost run did not look at).
    let (_, report) = stop_early(&accounts[0], Mode::Full).await;
    assert!(report.continued, "{report:?}");
    let unit = Unit::new(Task::ApplicationAccess, CID, &accounts[0], Mode::Auto);
    let deleted = env
        .records
        .delete_checkpoint_parts(CID, Task::ApplicationAccess.as_str(), &accounts[0])
        .await
        .unwrap();
    assert!(deleted > 0);
    assert!(env.engine.run_unit(&unit, None).await.is_err());
    let again = env.engine.run_unit(&unit, None).await.unwrap();
    assert!(again.run.counts.contains_key("full"), "{again:?}");
    assert!(!again.continued);
}
