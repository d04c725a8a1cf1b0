//! Application Access overlaps its requests (hosts and a host's meetings at once) so that
//! Zoom's round-trip time does not bound it, and still stores exactly the sandbox's truth.

use sync_engine::Task;
use test_support::*;
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::faults::FaultConfig;

/// The twenty-sub-account tenant on a sandbox that answers every request after 15 ms, and an
/// engine on the in-memory table.
async fn slow_zoom_env() -> Env {
    let config = SandboxConfig {
        tenant: twenty_subs_spec(),
        ..SandboxConfig::demo()
    }
    .with_faults(FaultConfig {
        latency_ms: 15,
        ..FaultConfig::default()
    });
    let sb = zoom_sandbox::start_local(config).await.expect("sandbox");
    env_on(sb, aws_adapters::Records::in_memory())
}

/// Runs the four tasks with `host_concurrency` against a sandbox that answers every request
/// after 15 ms, checks the stored records against the truth, and returns the most requests
/// the sandbox served at once during Application Access.
async fn access_in_flight(host_concurrency: usize) -> u64 {
    let mut env = slow_zoom_env().await;
    env.engine.options.host_concurrency = host_concurrency;
    let truth = truth(&env.sb);
    let cid = connection_id(true, true);
    let s = settings(true, true);
    connect(&env.records, &truth, &cid, s).await;
    let mut access_max = 0;
    for task in Task::ALL {
        env.sb.state.stats.reset(env.sb.state.clock.now());
        run_connection(&env.engine, task, &cid).await;
        if task == Task::ApplicationAccess {
            access_max = env.sb.state.stats.snapshot().max_in_flight;
        }
    }
    let now = (env.engine.clock)();
    assert_matches_truth(&env.records, &truth, &cid, &s, now).await;
    access_max
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_overlaps_requests_and_stores_the_truth() {
    let one_host = access_in_flight(1).await;
    let many_hosts = access_in_flight(16).await;
    eprintln!("most requests in flight: 1 host at a time {one_host}, 16 hosts {many_hosts}");
    // One host at a time: its participant lists overlap (4 at most), while the next unit of
    // the connection plans (its three user listings and the six report ranges of a full run
    // at once) or starts its first host; never more.
    assert!(
        (2..=13).contains(&one_host),
        "one host at a time: {one_host} in flight"
    );
    // Sixteen hosts: well beyond what one host can overlap.
    assert!(many_hosts > 4, "16 hosts at a time: {many_hosts} in flight");
}

/// A batch of one connection's Application Access units (the SQS path) overlaps them where it
/// is safe: the next account lists its users and plans while the account before looks at its
/// hosts, and starts its hosts once the account before has only its last few left to start
/// (accounts' hosts start in the batch's order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_unit_plans_while_the_one_before_looks_at_its_hosts() {
    use std::collections::BTreeMap;
    use std::time::Instant;

    let mut env = slow_zoom_env().await;
    // Two hosts at a time: an account's hosts start over a while, not all at once.
    env.engine.options.host_concurrency = 2;
    let truth = env.sb.state.tenant.truth(false);
    let cid = connection_id(true, true);
    let s = settings(true, true);
    connect(&env.records, &truth, &cid, s).await;
    run_connection(&env.engine, Task::ApplicationRoster, &cid).await;
    let account_of: BTreeMap<String, String> = (0..truth.accounts.len() as u32)
        .flat_map(|i| env.sb.state.tenant.truth_account(i, true).users)
        .flatten()
        .filter_map(|u| u.id.map(|id| (id, u.account_id)))
        .collect();

    env.sb.state.stats.keep_journal();
    env.engine
        .plan(Task::ApplicationAccess, sync_engine::Mode::Auto)
        .await
        .expect("plan");
    let units = drain(&env, Task::ApplicationAccess).await;
    let connected = truth
        .accounts
        .iter()
        .filter(|a| a.id != truth.standalone_account_id)
        .count();
    assert_eq!(units, connected);

    // Per account: when its users listing began; per host, when its first meeting list began;
    // per account, when the last of its hosts' meeting lists ended.
    let mut listed: BTreeMap<String, Instant> = BTreeMap::new();
    let mut host_began: BTreeMap<String, Instant> = BTreeMap::new();
    let mut hosts_ended: BTreeMap<String, Instant> = BTreeMap::new();
    for served in env.sb.state.stats.journal() {
        let parts: Vec<&str> = served.path.trim_start_matches("/v2/").split('/').collect();
        let listing_of = match parts.as_slice() {
            ["users"] => Some(truth.master_account_id.clone()),
            ["accounts", account, "users"] => Some((*account).to_owned()),
            _ => None,
        };
        if let Some(account) = listing_of {
            let began = listed.entry(account).or_insert(served.began);
            *began = (*began).min(served.began);
        }
        if let [.., "users", user, "meetings"] = parts.as_slice()
            && let Some(account) = account_of.get(*user)
        {
            let began = host_began.entry((*user).to_owned()).or_insert(served.began);
            *began = (*began).min(served.began);
            let ended = hosts_ended.entry(account.clone()).or_insert(served.ended);
            *ended = (*ended).max(served.ended);
        }
    }
    // Per account: when its first host started.
    let mut first_host: BTreeMap<&str, Instant> = BTreeMap::new();
    for (user, began) in &host_began {
        let first = first_host
            .entry(account_of[user].as_str())
            .or_insert(*began);
        *first = (*first).min(*began);
    }
    let mut order: Vec<(&str, Instant)> = first_host.into_iter().collect();
    order.sort_by_key(|(_, first)| *first);
    assert!(order.len() > 10, "accounts with hosts: {}", order.len());
    let host_concurrency = env.engine.options.host_concurrency;
    let mut overlapped = 0;
    for pair in order.windows(2) {
        let ((before, _), (after, after_first)) = (pair[0], pair[1]);
        // The next account starts its hosts once this one has `host_concurrency` entries
        // left to start: only those, and the hosts already under way (at most
        // `host_concurrency`, their first request still on its way to Zoom), reach Zoom after
        // the next account's first.
        let late = host_began
            .iter()
            .filter(|(user, began)| account_of[*user] == before && **began > after_first)
            .count();
        assert!(
            late <= 2 * host_concurrency,
            "{late} hosts of {before} started after the first host of {after}"
        );
        if listed[after] < hosts_ended[before] {
            overlapped += 1;
        }
    }
    // Batches of 10: the first unit of a batch has nobody to overlap.
    assert!(
        overlapped * 2 >= order.len(),
        "{overlapped} of {} accounts listed their users while the one before looked at hosts",
        order.len()
    );
    for task in [Task::LicenseInformation, Task::LicenseDifferentiation] {
        run_connection(&env.engine, task, &cid).await;
    }
    let now = (env.engine.clock)();
    assert_matches_truth(&env.records, &truth, &cid, &s, now).await;
}
