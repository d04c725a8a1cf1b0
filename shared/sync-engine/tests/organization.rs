//! One organization, many accounts: people join meetings hosted by the master or a sibling sub
//! account, hold instant meetings and attend occurrences of recurring ones. Every stored date,
//! license figure and candidate equals the sandbox's truth whatever order the units run in,
//! and an app with only the documented five scopes never fails a unit.

use std::collections::BTreeMap;

use aws_adapters::Records;
use futures::TryStreamExt;
use ports::{ConnectionStore, UserAccess, UserStore};
use sync_engine::{DirectInvoke, Task};
use test_support::*;

/// Four sub accounts, enough users that every kind of meeting and cross-account joins occur.
fn org_spec() -> zoom_sandbox::tenant::TenantSpec {
    zoom_sandbox::tenant::TenantSpec::sized(11, 4, 320)
        .with_meetings_per_user(3)
        .with_participants_per_meeting(5)
        .with_anchor(anchor())
}

async fn run_task(env: &Env, cid: &str, task: Task, account_id: Option<String>) {
    let invoke = DirectInvoke {
        account_id,
        ..direct(cid)
    };
    run_direct(&env.engine, task, &invoke).await;
}

/// Every activity record of the connection, by (account, user key).
async fn all_access(
    records: &Records,
    cid: &str,
    accounts: &[String],
) -> BTreeMap<(String, String), UserAccess> {
    let mut out = BTreeMap::new();
    for a in accounts {
        let rows: Vec<UserAccess> = records
            .list_account_access(cid, a)
            .try_collect()
            .await
            .unwrap();
        for r in rows {
            out.insert((a.clone(), r.user_key.clone()), r);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_in_any_accounts_meetings_reach_the_attendee() {
    let env = env(
        org_spec(),
        "joins_in_any_accounts_meetings_reach_the_attendee",
    )
    .await;
    let truth = truth(&env.sb);
    let s = settings(true, true);
    let cid = "conn-org";
    connect(&env.records, &truth, cid, s).await;
    run_every_task(&env.engine, &direct(cid)).await;
    let now = (env.engine.clock)();
    let stats = assert_matches_truth(&env.records, &truth, cid, &s, now).await;
    assert!(stats.joined > 0 && stats.created > 0, "{stats:?}");

    // The runs really crossed accounts and saw every kind of meeting.
    let runs = task_runs(&env.records, cid, Task::ApplicationAccess, 100).await;
    let count = |name: &str| -> u64 {
        runs.iter()
            .map(|r| r.counts.get(name).copied().unwrap_or(0))
            .sum()
    };
    assert!(count("joins_other_accounts") > 0, "{runs:?}");
    let requests = |endpoint: &str| -> u64 {
        runs.iter()
            .map(|r| r.requests_by_endpoint.get(endpoint).copied().unwrap_or(0))
            .sum()
    };
    assert!(requests("GET /past_meetings/{meetingId}/instances") > 0);
    assert!(count("report_lookups") > 0, "instant meetings looked up");
}

/// The same units in another order, one of them twice (a redelivery), and all at once end
/// with the same records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_in_any_order_end_with_the_same_records() {
    let sb = sandbox(org_spec()).await;
    let truth = truth(&sb);
    let accounts: Vec<String> = tree(&truth).iter().map(|a| a.id.clone()).collect();
    let s = settings(true, true);
    let cid = "conn-order";

    let forward = env_on(sb, Records::in_memory());
    connect(&forward.records, &truth, cid, s).await;
    run_task(&forward, cid, Task::ApplicationRoster, None).await;
    for a in &accounts {
        run_task(&forward, cid, Task::ApplicationAccess, Some(a.clone())).await;
    }
    let expected = all_access(&forward.records, cid, &accounts).await;
    assert!(!expected.is_empty());

    let reverse = env_on(forward.sb, Records::in_memory());
    connect(&reverse.records, &truth, cid, s).await;
    run_task(&reverse, cid, Task::ApplicationRoster, None).await;
    for a in accounts.iter().rev() {
        run_task(&reverse, cid, Task::ApplicationAccess, Some(a.clone())).await;
    }
    run_task(
        &reverse,
        cid,
        Task::ApplicationAccess,
        Some(accounts[0].clone()),
    )
    .await;
    assert_eq!(all_access(&reverse.records, cid, &accounts).await, expected);

    let parallel = env_on(reverse.sb, Records::in_memory());
    connect(&parallel.records, &truth, cid, s).await;
    run_task(&parallel, cid, Task::ApplicationRoster, None).await;
    let units = accounts
        .iter()
        .map(|a| run_task(&parallel, cid, Task::ApplicationAccess, Some(a.clone())));
    futures::future::join_all(units).await;
    assert_eq!(
        all_access(&parallel.records, cid, &accounts).await,
        expected
    );
}

/// The five classic scopes of the integration's documentation (no `meeting:read:admin`, no
/// `report:read:admin`): every unit succeeds, the roster and logins are stored, and the
/// connection names what is not collected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_five_scopes_never_fail_a_unit() {
    const FIVE: &[&str] = &[
        "account:master",
        "user:master",
        "report:master",
        "meeting:master",
        "user:write:admin",
    ];
    let sb = sandbox(org_spec()).await;
    let client = client_with_scopes(&sb, FIVE);
    let mut env = env_on(sb, Records::in_memory());
    env.engine.clients = std::sync::Arc::new(sync_engine::FixedClientFactory(client));
    let truth = truth(&env.sb);
    let s = settings(false, false);
    let cid = "conn-five";
    connect(&env.records, &truth, cid, s).await;
    run_every_task(&env.engine, &direct(cid)).await;
    let connection = env
        .records
        .get_connection(cid)
        .await
        .unwrap()
        .expect("connection");
    let notes: Vec<&str> = connection
        .missing_scopes
        .iter()
        .map(|n| n.scope.as_str())
        .collect();
    assert!(
        connection
            .missing_scopes
            .iter()
            .any(|n| n.not_collected.contains("Meeting Joined")),
        "{notes:?}"
    );
    assert!(connection.activity_is_partial());
    // Everything else is stored: every tracked user's roster and last login.
    for a in tree(&truth) {
        let stored = views(&env.records, cid, &a.id).await;
        for u in a.users.as_ref().unwrap() {
            if u.user_type != 2 {
                continue;
            }
            let key = ports::user_key(u.id.as_deref(), &u.email);
            let v = stored.get(&key).unwrap_or_else(|| panic!("{key} stored"));
            let login = v.access.as_ref().and_then(|x| x.dates.last_login);
            assert_eq!(login, u.last_login_time, "{key}: last login");
        }
    }
    // A second day with the same app: still no failing unit, the notes stay one per scope.
    run_every_task(&env.engine, &direct(cid)).await;
    let again = env.records.get_connection(cid).await.unwrap().unwrap();
    assert_eq!(again.missing_scopes.len(), connection.missing_scopes.len());
    // Partial data never counts as Application Access having completed (reclamation waits).
    let access = again.tasks.get(Task::ApplicationAccess.as_str()).cloned();
    assert!(
        access
            .as_ref()
            .is_some_and(|t| t.last_success_at.is_some() && t.account_success_at.is_empty()),
        "{access:?}"
    );

    // The admin re-authorizes with every scope (connect clears its notes): the next access run
    // is a full one, the dates are complete and every account is stamped as completed.
    env.engine.clients = std::sync::Arc::new(sync_engine::FixedClientFactory(zoom_client(&env.sb)));
    env.records
        .update_connection(cid, &|c| c.missing_scopes.clear())
        .await
        .unwrap();
    run_task(&env, cid, Task::ApplicationAccess, None).await;
    run_task(&env, cid, Task::LicenseDifferentiation, None).await;
    let after = env.records.get_connection(cid).await.unwrap().unwrap();
    assert!(
        after.missing_scopes.is_empty(),
        "{:?}",
        after.missing_scopes
    );
    let accounts: Vec<&str> = tree(&truth).iter().map(|a| a.id.as_str()).collect();
    assert!(
        after.tasks[Task::ApplicationAccess.as_str()]
            .completed_for(accounts)
            .is_some()
    );
    let runs = task_runs(
        &env.records,
        cid,
        Task::ApplicationAccess,
        tree(&truth).len(),
    )
    .await;
    assert!(
        runs.iter().all(|r| r.counts.get("full") == Some(&1)),
        "the run after a partial one is full"
    );
    let now = (env.engine.clock)();
    assert_matches_truth(&env.records, &truth, cid, &s, now).await;
}

/// Participant lists read from the report API (Heavy) give the same records as past meetings
/// (Medium). The sandbox meters Business limits (scaled up: the test is not about speed) so
/// that its answers carry the daily Heavy count the choice needs; the client does not pace, so
/// every list goes to the report when allowed (a tie goes to Heavy) and none when not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_from_the_report_give_the_same_records() {
    use zoom_sandbox::config::{RateLimitConfig, RateLimitProfile};
    let metered = || {
        zoom_sandbox::SandboxConfig {
            tenant: org_spec(),
            ..zoom_sandbox::SandboxConfig::demo()
        }
        .with_rate_limits(RateLimitConfig {
            scale: 100.0,
            ..RateLimitConfig::profile(RateLimitProfile::Business)
        })
    };
    let s = settings(true, true);
    let cid = "conn-heavy";
    let mut records = Vec::new();
    for share in [0.0, 1.0] {
        let sb = zoom_sandbox::start_local(metered()).await.unwrap();
        let truth = truth(&sb);
        let mut env = env_on(sb, Records::in_memory());
        env.engine.options.heavy_participants_share = share;
        connect(&env.records, &truth, cid, s).await;
        run_every_task(&env.engine, &direct(cid)).await;
        let now = (env.engine.clock)();
        assert_matches_truth(&env.records, &truth, cid, &s, now).await;
        let runs = task_runs(&env.records, cid, Task::ApplicationAccess, 100).await;
        let requests = |endpoint: &str| -> u64 {
            runs.iter()
                .map(|r| r.requests_by_endpoint.get(endpoint).copied().unwrap_or(0))
                .sum()
        };
        let by_report = requests("GET /report/meetings/{meetingId}/participants")
            + requests("GET /accounts/{accountId}/report/meetings/{meetingId}/participants");
        let by_past = requests("GET /past_meetings/{meetingUUID}/participants");
        if share == 0.0 {
            assert_eq!(by_report, 0, "share 0: past meetings only");
            assert!(by_past > 0);
        } else {
            assert!(by_report > 0, "share 1: the report's lists");
            assert!(
                by_past < by_report / 10,
                "past meetings only where the report had no list: {by_past} vs {by_report}"
            );
        }
        let accounts: Vec<String> = tree(&truth).iter().map(|a| a.id.clone()).collect();
        records.push(all_access(&env.records, cid, &accounts).await);
    }
    assert_eq!(records[0], records[1]);
}
