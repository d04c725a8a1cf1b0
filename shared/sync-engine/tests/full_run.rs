//! A full run of the four tasks stores exactly the sandbox's ground truth, for the demo tenant
//! and a 20-sub-account tenant, under every combination of the two Include options.

use sync_engine::Task;
use test_support::*;

async fn full_runs_match_truth(
    spec: zoom_sandbox::tenant::TenantSpec,
    test: &str,
    records: Option<aws_adapters::Records>,
) -> u64 {
    let env = match records {
        Some(r) => env_on(sandbox(spec).await, r),
        None => env(spec, test).await,
    };
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
