//! Application Access overlaps its requests (hosts and a host's meetings at once) so that
//! Zoom's round-trip time does not bound it, and still stores exactly the sandbox's truth.

use sync_engine::Task;
use test_support::*;
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::faults::FaultConfig;

/// Runs the four tasks with `host_concurrency` against a sandbox that answers every request
/// after 15 ms, checks the stored records against the truth, and returns the most requests
/// the sandbox served at once during Application Access.
async fn access_in_flight(host_concurrency: usize) -> u64 {
    let config = SandboxConfig {
        tenant: twenty_subs_spec(),
        ..SandboxConfig::demo()
    }
    .with_faults(FaultConfig {
        latency_ms: 15,
        ..FaultConfig::default()
    });
    let sb = zoom_sandbox::start_local(config).await.expect("sandbox");
    let mut env = env_on(sb, aws_adapters::Records::in_memory());
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
    // One host at a time: its participant lists overlap (4 at most), and the plan reads the
    // six report ranges of a full run at once; never more.
    assert!(
        (2..=6).contains(&one_host),
        "one host at a time: {one_host} in flight"
    );
    // Sixteen hosts: well beyond what one host can overlap.
    assert!(many_hosts > 4, "16 hosts at a time: {many_hosts} in flight");
}
