//! A full run of the four tasks stores exactly the sandbox's ground truth, for the demo tenant
//! and a 20-sub-account tenant, under every combination of the two Include options, with the
//! listings sorted through scratch files.

use futures::TryStreamExt;
use ports::{CandidateStore, ConnectionStore};
use sync_engine::Task;
use test_support::*;

async fn full_runs_match_truth(
    spec: zoom_sandbox::tenant::TenantSpec,
    test: &str,
    records: Option<aws_adapters::Records>,
) -> u64 {
    let mut env = match records {
        Some(r) => env_on(sandbox(spec).await, r),
        None => env(spec, test).await,
    };
    // Sorted runs of 25 users: every account's listing goes through scratch files, merged
    // with the store's own key order (DynamoDB's on moto, the in-memory table's).
    env.engine.options.scratch_run_items = 25;
    let truth = truth(&env.sb);
    let truth_on_prem: u64 = tree(&truth)
        .iter()
        .map(|a| u64::from(a.counts.on_prem))
        .sum();
    // The four combinations run side by side (separate connections of the same tenant).
    let runs = COMBOS.map(|(free, on_prem)| {
        let env = &env;
        let truth = &truth;
        async move {
            let cid = connection_id(free, on_prem);
            connect(&env.records, truth, &cid, settings(free, on_prem)).await;
            for task in Task::ALL {
                let report = run_connection(&env.engine, task, &cid).await;
                assert_eq!(
                    report.units.len(),
                    tree(truth).len(),
                    "{task}: one unit per account"
                );
            }
            let now = (env.engine.clock)();
            let stats =
                assert_matches_truth(&env.records, truth, &cid, &settings(free, on_prem), now)
                    .await;
            eprintln!("{test} {cid}: {stats:?}");
            (free, on_prem, stats)
        }
    });
    let mut candidates = 0;
    for (free, on_prem, stats) in futures::future::join_all(runs).await {
        let cid = connection_id(free, on_prem);
        // The comparison covered real data: dates of every kind, and the Include options
        // decided which users were tracked.
        assert!(stats.users > 0 && stats.logins > 0 && stats.created > 0 && stats.joined > 0);
        candidates += stats.candidates;
        let want_on_prem = if on_prem { truth_on_prem } else { 0 };
        assert_eq!(
            stats.on_prem, want_on_prem,
            "{cid}: on-prem users tracked iff included"
        );
        assert_eq!(
            stats.free > 0,
            free,
            "{cid}: free users tracked iff included"
        );
    }
    assert!(candidates > 0, "some users are reclamation candidates");
    truth_on_prem
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_tenant_full_runs_match_truth() {
    full_runs_match_truth(demo_spec(), "demo_tenant_full_runs_match_truth", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_sub_accounts_full_runs_match_truth() {
    let on_prem = full_runs_match_truth(
        twenty_subs_spec(),
        "twenty_sub_accounts_full_runs_match_truth",
        // The in-memory table keeps this bigger tenant fast (moto answers a few hundred calls a
        // second); the demo tenant, fan-out and SQS tests cover DynamoDB itself.
        Some(aws_adapters::Records::in_memory()),
    )
    .await;
    assert!(
        on_prem > 0,
        "the tenant has On-prem users to include or leave out"
    );
}

/// The roster's merge with the store, through scratch files: users left out by a changed
/// Include option are marked removed (with that run's date, kept by later runs), and come back
/// when the option returns; only those users are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untracked_users_are_marked_removed_and_come_back() {
    let mut env = env_on(
        sandbox(twenty_subs_spec()).await,
        aws_adapters::Records::in_memory(),
    );
    env.engine.options.scratch_run_items = 25;
    let truth = truth(&env.sb);
    let cid = "conn-include-changes";
    let start = (env.engine.clock)();
    let live_and_removed = || {
        let records = &env.records;
        let truth = &truth;
        async move {
            let mut live = std::collections::BTreeSet::new();
            let mut removed = std::collections::BTreeMap::new();
            for account in tree(truth) {
                for (key, view) in views(records, cid, &account.id).await {
                    match view.roster.removed_at {
                        None => live.insert((account.id.clone(), key)),
                        Some(when) => removed.insert((account.id.clone(), key), when).is_none(),
                    };
                }
            }
            (live, removed)
        }
    };
    let expected = |free: bool| -> std::collections::BTreeSet<(String, String)> {
        oracle::expect_tenant(&truth, &oracle_settings(&settings(free, true)), start)
            .into_iter()
            .flat_map(|e| e.users.into_keys().map(move |k| (e.account.id.clone(), k)))
            .collect()
    };
    let roster = |env: &test_support::Env| {
        let engine = env.engine.clone();
        async move {
            let report = run_connection(&engine, Task::ApplicationRoster, cid).await;
            assert!(report.failed.is_empty(), "{:?}", report.failed);
            let count = |name: &str| -> u64 {
                report
                    .units
                    .iter()
                    .map(|u| u.run.counts.get(name).copied().unwrap_or(0))
                    .sum()
            };
            (count("written"), count("removed"))
        }
    };
    // License Differentiation's candidates (merged with the stored ones): keys per account.
    let candidates = || {
        let (records, truth, engine) = (&env.records, &truth, env.engine.clone());
        async move {
            let report = run_connection(&engine, Task::LicenseDifferentiation, cid).await;
            assert!(report.failed.is_empty(), "{:?}", report.failed);
            let mut keys = std::collections::BTreeSet::new();
            for account in tree(truth) {
                let stored: Vec<ports::ReclamationCandidate> = records
                    .list_account_candidates(cid, &account.id)
                    .try_collect()
                    .await
                    .unwrap();
                keys.extend(stored.into_iter().map(|c| (account.id.clone(), c.user_key)));
            }
            keys
        }
    };
    let (with_free, without_free) = (expected(true), expected(false));
    let free: std::collections::BTreeSet<_> =
        with_free.difference(&without_free).cloned().collect();
    assert!(
        free.len() > 10,
        "the tenant has free users ({})",
        free.len()
    );

    connect(&env.records, &truth, cid, settings(true, true)).await;
    assert_eq!(roster(&env).await, (with_free.len() as u64, 0));
    assert_eq!(live_and_removed().await.0, with_free);
    let first = candidates().await;
    assert!(first.is_subset(&with_free));
    assert!(
        first.intersection(&free).count() > 0 && first.difference(&free).count() > 0,
        "free and other users among the candidates"
    );

    // Free users left out (nothing else changes): each marked removed once, with this run's
    // date.
    let later = start + chrono::Duration::hours(1);
    env.clock.set(later);
    env.records
        .update_connection(cid, &|c| c.settings.include_free_users = false.into())
        .await
        .unwrap();
    assert_eq!(roster(&env).await, (0, free.len() as u64));
    let (live, removed) = live_and_removed().await;
    assert_eq!(live, without_free);
    assert_eq!(
        removed
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        free
    );
    assert!(removed.values().all(|at| *at == later));
    // The free users' candidates go, the others stay.
    let kept: std::collections::BTreeSet<_> = first.difference(&free).cloned().collect();
    assert_eq!(candidates().await, kept);
    // A second run changes nothing (the first date stays).
    env.clock.set(later + chrono::Duration::hours(1));
    assert_eq!(roster(&env).await, (0, 0));
    assert!(live_and_removed().await.1.values().all(|at| *at == later));

    // Back: written again, live.
    env.records
        .update_connection(cid, &|c| c.settings.include_free_users = true.into())
        .await
        .unwrap();
    assert_eq!(roster(&env).await, (free.len() as u64, 0));
    let (live, removed) = live_and_removed().await;
    assert_eq!(live, with_free);
    assert!(removed.is_empty());
    assert_eq!(candidates().await, first);
}
