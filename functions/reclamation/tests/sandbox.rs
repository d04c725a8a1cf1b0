//! End to end against the Zoom sandbox (demo tenant) and moto: the production wiring
//! (`ZoomUsersGateway` with the Secrets Manager vault, DynamoDB records), a roster and activity
//! seeded from the sandbox the way the sync tasks record them, then dry run, execute, replay,
//! reactivate, login-after-sync and owner/admin refusal checked against the sandbox's ground
//! truth and request statistics. The tenant is anchored at test-support's fixed date and the
//! sandbox clock pinned after it, so no verdict depends on the day the tests run.
//!
//! Needs moto (`tools/local/test.sh` starts it); without `ZTS_AWS_ENDPOINT_URL` the tests are
//! skipped with a notice unless `ZTS_REQUIRE_AWS` is set.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_adapters::{
    AwsClients, AwsConfig, Records, SecretsManagerTokenStore, create_table_if_missing,
};
use chrono::Utc;
use futures::TryStreamExt;
use ports::{
    AccountKind, AccountRecord, AccountStore, AuditEntry, AuditState, AuditStore, ConnectionRecord,
    ConnectionSettings, ConnectionStore, LeaseStore, MissingScopeNote, StoredTokens, TaskOutcome,
    TokenStore, TokenVault, UserAccess, UserRecord, UserStore, VaultOptions, ZoomRegion, user_key,
};
use rand::RngExt;
use reclamation::{
    AccountRef, LiveUser, Outcome, Reclaimer, ReclamationResponse, Stores, ZoomConnector,
    ZoomFailure, ZoomUsers, ZoomUsersGateway,
};
use serde_json::{Value, json};
use sync_domain::{ActivityDates, InactivityThreshold};
use zoom::{OAuthClient, RateProfile, RetryPolicy, UserStatus, ZoomClient};
use zoom_sandbox::RunningSandbox;

const CONN: &str = "conn-demo";
/// The task whose per-account completion dates the activity data.
const ACCESS: &str = "application-access";

fn unique(prefix: &str) -> String {
    let n: u64 = rand::rng().random();
    format!("{prefix}-{n:016x}")
}

fn event(name: &str) -> Value {
    let text = match name {
        "dry-run" => include_str!("../../../events/reclamation/dry-run.json"),
        "execute" => include_str!("../../../events/reclamation/execute.json"),
        "explicit-users" => include_str!("../../../events/reclamation/explicit-users.json"),
        "reactivate" => include_str!("../../../events/reclamation/reactivate.json"),
        "malformed-unknown-field" => {
            include_str!("../../../events/reclamation/malformed-unknown-field.json")
        }
        other => panic!("no event {other}"),
    };
    serde_json::from_str(text).unwrap()
}

async fn moto(test: &str) -> Option<(AwsClients, String, String)> {
    let config = AwsConfig::from_env();
    let Some(endpoint) = config.endpoint_url.clone() else {
        let required = std::env::var("ZTS_REQUIRE_AWS").is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "{test}: ZTS_REQUIRE_AWS is set but ZTS_AWS_ENDPOINT_URL is not (run tools/local/test.sh)"
        );
        eprintln!("NOTICE {test}: skipped, ZTS_AWS_ENDPOINT_URL is not set (start moto)");
        return None;
    };
    assert!(
        endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost"),
        "tests only run against a local endpoint"
    );
    let clients = AwsClients::new(&config).await;
    let table = unique("zts-reclaim");
    create_table_if_missing(&clients.dynamodb, &table)
        .await
        .expect("create table in moto");
    Some((clients, table, format!("{}/", unique("zts-reclaim-tokens"))))
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        max_attempts: 8,
        default_budget: Duration::from_secs(60),
    }
}

struct Env {
    sb: RunningSandbox,
    records: Records,
    reclaimer: Reclaimer,
    /// The reclaimer's Zoom side (tests wrap it to simulate crashes).
    gateway: Arc<ZoomUsersGateway>,
    /// A separate client (own grant) for seeding and checks.
    client: ZoomClient,
    master: String,
}

/// Sandbox + moto + the production wiring, with the roster seeded. `None`: moto not running.
async fn env(test: &str, grant_scopes: &[&str]) -> Option<Env> {
    let env = env_unseeded(test, grant_scopes).await?;
    seed(&env).await;
    Some(env)
}

/// As [`env`] without the roster: the connection and its tokens only.
async fn env_unseeded(test: &str, grant_scopes: &[&str]) -> Option<Env> {
    env_unseeded_on(test, grant_scopes, test_support::demo_spec()).await
}

/// As [`env_unseeded`] on the tenant `spec`.
async fn env_unseeded_on(
    test: &str,
    grant_scopes: &[&str],
    spec: zoom_sandbox::tenant::TenantSpec,
) -> Option<Env> {
    let (clients, table, prefix) = moto(test).await?;
    // The tenant at the fixed anchor, the sandbox clock pinned just after it: the same
    // users and inactivity verdicts whatever the day. The reclaimer reads the sandbox clock.
    let sb = test_support::sandbox(spec).await;
    let now = test_support::pin_clock(&sb);
    let master = sb.state.tenant.master_account_id().to_owned();
    let records = Records::dynamo(clients.dynamodb.clone(), table);
    let records_arc = Arc::new(records.clone());
    let token_store = Arc::new(SecretsManagerTokenStore::new(
        clients.secrets.clone(),
        prefix,
    ));
    token_store
        .write_new_authorization(
            CONN,
            &StoredTokens {
                tokens: test_support::sandbox_tokens(&sb, grant_scopes),
                // The token vault's clock is real time (token lifetimes are not data).
                refreshed_at: Utc::now(),
            },
        )
        .await
        .expect("store tokens");
    let config = test_support::sandbox_config(&sb.base_url(), Duration::from_secs(10)).unwrap();
    let vault = TokenVault {
        tokens: token_store,
        leases: records_arc.clone(),
        connections: records_arc,
        refresher: Arc::new(OAuthClient::new(&config).unwrap()),
        options: VaultOptions::default(),
    };
    let gateway =
        Arc::new(ZoomUsersGateway::new(config.clone(), vault).retry_policy(fast_retries()));
    let reclaimer = Reclaimer::new(
        Stores::from_store(Arc::new(records.clone())),
        gateway.clone(),
    )
    .with_clock(sandbox_clock(&sb));
    // The builder's default pacing (Business).
    let client = test_support::client_on(
        config,
        test_support::sandbox_tokens(&sb, &[]),
        RateProfile::business(),
        fast_retries(),
        "checks",
    )
    .unwrap();
    let mut conn = ConnectionRecord::new(
        CONN,
        master.clone(),
        ZoomRegion::Na,
        ConnectionSettings::default(),
        now,
    );
    conn.account_name = Some("demo".into());
    records.insert_connection(&conn).await.unwrap();
    let env = Env {
        sb,
        records,
        reclaimer,
        gateway,
        client,
        master,
    };
    Some(env)
}

/// The sandbox's clock (pinned after the tenant's fixed anchor), for every reclaimer a test
/// builds: the code under test sees the same "now" as the data.
fn sandbox_clock(sb: &RunningSandbox) -> reclamation::Clock {
    let state = sb.state.clone();
    Arc::new(move || state.clock.now())
}

/// What Application Roster and Application Access would record, from the sandbox's API
/// (users, status, type, role, last login) and its meeting data (created / joined dates),
/// with Application Access completed for every account now (fresh data).
async fn seed(env: &Env) {
    seed_with(env, &|_, _| {}).await;
}

/// [`seed`], with `adjust` applied to each account's roster and activity before they are
/// written (a stale roster entry, older activity).
async fn seed_with(env: &Env, adjust: &dyn Fn(&mut Vec<UserRecord>, &mut Vec<UserAccess>)) {
    let tenant = &env.sb.state.tenant;
    let mut accounts = vec![AccountRecord {
        account_id: env.master.clone(),
        kind: AccountKind::Master,
        name: None,
        owner_email: None,
        account_type: None,
        seats: None,
        created_at: None,
        removed_at: None,
    }];
    let subs = env.client.sub_accounts().collect_all().await.unwrap();
    for s in subs {
        accounts.push(AccountRecord {
            account_id: s.id,
            kind: AccountKind::Sub,
            ..accounts[0].clone()
        });
    }
    env.records
        .sync_accounts(CONN, &accounts, env.sb.state.clock.now())
        .await
        .unwrap();
    for acct in &accounts {
        let a = tenant
            .account_by_id(&acct.account_id)
            .expect("account")
            .clone();
        let joins = tenant.latest_joins(a.index);
        let api = if acct.kind == AccountKind::Master {
            env.client.me()
        } else {
            env.client.account(acct.account_id.clone())
        };
        let mut roster = Vec::new();
        let mut access = Vec::new();
        for status in [
            UserStatus::Active,
            UserStatus::Inactive,
            UserStatus::Pending,
        ] {
            for u in api.users(status.clone()).collect_all().await.unwrap() {
                let key = user_key(u.id.as_deref(), &u.email);
                let (ai, ui) = tenant.locate_user(&u.email).expect("user in tenant");
                let code = u.user_type.code();
                roster.push(UserRecord {
                    user_id: u.id.clone(),
                    email: u.email.clone(),
                    first_name: Some(u.first_name.clone()),
                    last_name: Some(u.last_name.clone()),
                    user_type: code,
                    status: status.as_str().to_owned(),
                    role_id: u.role_id.clone(),
                    role_name: None,
                    account_id: acct.account_id.clone(),
                    active_date: u.user_created_at,
                    license_name: Some(zoom_sandbox::truth::license_name(&a, code)),
                    removed_at: None,
                });
                access.push(UserAccess {
                    user_key: key,
                    account_id: acct.account_id.clone(),
                    dates: ActivityDates {
                        last_login: u.last_login_time,
                        last_meeting_created: tenant.latest_meeting_created(ai, ui),
                        last_meeting_joined: joins.get(&ui).copied(),
                    },
                });
            }
        }
        adjust(&mut roster, &mut access);
        env.records.upsert_users(CONN, &roster).await.unwrap();
        env.records.upsert_access(CONN, &access).await.unwrap();
    }
    let ids: Vec<String> = accounts.iter().map(|a| a.account_id.clone()).collect();
    set_access_completed(env, &ids, env.sb.state.clock.now()).await;
}

/// Records Application Access as completed for `accounts` at `at` (what the task's units
/// record when they finish).
async fn set_access_completed(env: &Env, accounts: &[String], at: chrono::DateTime<Utc>) {
    let outcome = TaskOutcome {
        last_success_at: Some(at),
        account_success_at: accounts.iter().map(|a| (a.clone(), at)).collect(),
        ..TaskOutcome::default()
    };
    env.records
        .update_connection(CONN, &move |c| {
            c.tasks.insert(ACCESS.into(), outcome.clone());
        })
        .await
        .unwrap();
}

async fn current_account_ids(env: &Env) -> Vec<String> {
    let accounts: Vec<AccountRecord> = env.records.list_accounts(CONN).try_collect().await.unwrap();
    accounts
        .into_iter()
        .filter(|a| a.removed_at.is_none())
        .map(|a| a.account_id)
        .collect()
}

/// (status, type) of every user of the tenant, from the sandbox's ground truth.
fn truth_states(sb: &RunningSandbox) -> BTreeMap<String, (String, i64)> {
    let t = &sb.state.tenant;
    let mut out = BTreeMap::new();
    for a in t.accounts() {
        for i in 0..t.user_count(a.index) {
            let u = t.user(a.index, i).unwrap();
            out.insert(u.id.clone(), (u.status.as_str().to_owned(), u.user_type));
        }
    }
    out
}

fn writes(sb: &RunningSandbox) -> u64 {
    sb.state
        .stats
        .snapshot()
        .by_endpoint
        .iter()
        .filter(|(k, _)| {
            k.starts_with("PUT ") || k.starts_with("PATCH ") || k.starts_with("POST /v2")
        })
        .map(|(_, n)| *n)
        .sum()
}

/// Paid seats in use per account as Zoom counts them: plan usage (`plan_base.usage`: active
/// Licensed users; a deactivated user holds no seat whatever type it still lists). For a sub
/// account that pays its own bill the master cannot read its plan usage (400 code 2100): the
/// same count from the sandbox's ground truth.
async fn licensed_counts(env: &Env) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let accounts: Vec<AccountRecord> = env.records.list_accounts(CONN).try_collect().await.unwrap();
    let t = &env.sb.state.tenant;
    for a in accounts {
        let api = if a.account_id == env.master {
            env.client.me()
        } else {
            env.client.account(a.account_id.clone())
        };
        let seats = match api.plan_usage().await {
            Ok(plans) => plans.base().and_then(|b| b.usage).expect("plan_base.usage"),
            Err(_) => {
                let acct = t.account_by_id(&a.account_id).expect("account");
                (0..t.user_count(acct.index))
                    .filter_map(|i| t.user(acct.index, i))
                    .filter(|u| u.status.as_str() == "active" && u.user_type == 2)
                    .count() as i64
            }
        };
        out.insert(a.account_id, seats);
    }
    out
}

/// An inactivity threshold (days) that at least four licensed members of the demo tenant are
/// inactive beyond (more than that many days), from the seeded records (the demo tenant is
/// busy: most users met this week).
async fn threshold_for_four(env: &Env) -> u32 {
    threshold_for(env, 4).await
}

/// An inactivity threshold (days) that at least `n` licensed members are inactive beyond.
async fn threshold_for(env: &Env, n: usize) -> u32 {
    let now = env.sb.state.clock.now();
    let accounts: Vec<AccountRecord> = env.records.list_accounts(CONN).try_collect().await.unwrap();
    let mut days = Vec::new();
    for a in accounts {
        let users: Vec<ports::UserView> = env
            .records
            .list_users(CONN, &a.account_id)
            .try_collect()
            .await
            .unwrap();
        for u in users {
            let r = &u.roster;
            if r.status == "active" && r.user_type == 2 && r.role_id.as_deref() == Some("2") {
                let last = u.activity().last_activity().or(r.active_date);
                if let Some(last) = last {
                    days.push((now - last).num_days());
                }
            }
        }
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    assert!(
        days.len() >= n,
        "the demo tenant has {n} licensed members: {days:?}"
    );
    // More than N days selects: one day less than the n-th longest inactivity.
    (days[n - 1] - 1).max(1) as u32
}

fn acted(r: &ReclamationResponse) -> Vec<String> {
    r.users
        .iter()
        .filter(|u| u.outcome == Outcome::Acted)
        .filter_map(|u| u.user_id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_execute_replay_and_reactivate_against_the_sandbox() {
    let Some(env) = env("dry_run_execute_replay_and_reactivate", &[]).await else {
        return;
    };
    let truth0 = truth_states(&env.sb);
    let seats0 = licensed_counts(&env).await;

    // Protect one user the policy would select.
    let days = threshold_for_four(&env).await;
    let mut dry = event("dry-run");
    dry["policy"]["inactive_days"] = json!(days);
    dry["max_users"] = json!(1000);
    let probe = env.reclaimer.handle(&dry).await.unwrap();
    let would: Vec<String> = probe
        .users
        .iter()
        .filter(|u| u.outcome == Outcome::WouldAct)
        .filter_map(|u| u.user_id.clone())
        .collect();
    assert!(
        would.len() >= 3,
        "the demo tenant has inactive licensed members: {probe:#?}"
    );
    let protected = would[0].clone();
    env.records
        .update_connection(CONN, &|c| c.protected_users = vec![protected.clone()])
        .await
        .unwrap();

    // Dry run: exactly what execute will do, and nothing changes at Zoom.
    let writes0 = writes(&env.sb);
    let plan = env.reclaimer.handle(&dry).await.unwrap();
    assert_eq!(writes(&env.sb), writes0, "a dry run sends no PUT/PATCH");
    assert_eq!(truth_states(&env.sb), truth0);
    let p = plan
        .users
        .iter()
        .find(|u| u.user_id.as_deref() == Some(&protected))
        .unwrap();
    assert_eq!(p.reason.as_deref(), Some("protected"));
    let planned: HashSet<String> = plan
        .users
        .iter()
        .filter(|u| u.outcome == Outcome::WouldAct)
        .filter_map(|u| u.user_id.clone())
        .collect();
    for u in &plan.users {
        if u.outcome == Outcome::WouldAct {
            assert!(u.days_inactive.unwrap() > i64::from(days), "{u:?}");
            assert!(u.license_name.is_some());
        }
    }
    // Owners and admins are never planned.
    let t = &env.sb.state.tenant;
    for id in &planned {
        let u = t.find_user(id).unwrap();
        assert_eq!(u.role, zoom_sandbox::tenant::Role::Member, "{id}");
    }

    // Execute: exactly the planned users are deactivated at the sandbox; nobody else changes.
    let mut ex = event("execute");
    ex["policy"]["inactive_days"] = json!(days);
    ex["max_users"] = json!(1000);
    let done = env.reclaimer.handle(&ex).await.unwrap();
    let acted_ids: HashSet<String> = acted(&done).into_iter().collect();
    assert_eq!(acted_ids, planned, "{done:#?}");
    assert_eq!(done.summary.failed, 0);
    // Every change is audited with Zoom's tracking id of the call that made it.
    let entries: Vec<AuditEntry> = env
        .records
        .list_request_entries(ex["request_id"].as_str().unwrap())
        .try_collect()
        .await
        .unwrap();
    let acted_entries: Vec<&AuditEntry> = entries.iter().filter(|e| e.outcome == "acted").collect();
    assert_eq!(acted_entries.len(), acted_ids.len());
    for e in &acted_entries {
        assert!(
            e.zoom_tracking_id.as_deref().is_some_and(|t| !t.is_empty()),
            "{e:?}"
        );
    }
    let truth1 = truth_states(&env.sb);
    for (id, before) in &truth0 {
        let after = &truth1[id];
        if acted_ids.contains(id) {
            assert_eq!(after.0, "inactive", "{id}");
        } else {
            assert_eq!(after, before, "{id} must not change");
        }
    }
    // The seats show as freed at Zoom, matching the response per license.
    let seats1 = licensed_counts(&env).await;
    let freed_at_zoom: i64 = seats0.iter().map(|(a, n)| n - seats1[a]).sum();
    let freed_reported: u64 = done.summary.licenses_freed.values().sum();
    assert!(freed_at_zoom > 0);
    assert_eq!(freed_at_zoom as u64, freed_reported);
    let paid_before: u64 = acted_ids
        .iter()
        .filter(|id| matches!(truth0[*id].1, 2 | 3))
        .count() as u64;
    assert_eq!(freed_reported, paid_before);

    // Replay: nothing is sent to Zoom again.
    let w = writes(&env.sb);
    let again = env.reclaimer.handle(&ex).await.unwrap();
    assert!(again.replayed);
    assert_eq!(writes(&env.sb), w, "a replay sends no PUT/PATCH");
    assert_eq!(again.summary.acted, done.summary.acted);
    assert_eq!(again.summary.licenses_freed, done.summary.licenses_freed);

    // Reactivate restores exactly those users (status and paid type).
    let mut undo = event("reactivate");
    undo["restore_request_id"] = ex["request_id"].clone();
    let r = env.reclaimer.handle(&undo).await.unwrap();
    assert_eq!(r.summary.failed, 0, "{r:#?}");
    let restored: HashSet<String> = acted(&r).into_iter().collect();
    assert_eq!(restored, acted_ids);
    assert_eq!(truth_states(&env.sb), truth0, "everyone is back as before");
    assert_eq!(licensed_counts(&env).await, seats0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_after_sync_owner_admin_cap_scope_and_malformed() {
    let Some(env) = env_unseeded("login_after_sync_owner_admin", &[]).await else {
        return;
    };
    let t = &env.sb.state.tenant;
    let owner = t.master_owner_user_id();
    // An admin of the master; the roster is made stale (member, inactive for 400 days) so the
    // live check must catch it. Seeded that way: the activity store never moves a meeting
    // joined date back.
    let master_idx = t.account_by_id(&env.master).unwrap().index;
    let admin = t.user(master_idx, 1).unwrap();
    assert_eq!(admin.role, zoom_sandbox::tenant::Role::Admin);
    let now = env.sb.state.clock.now();
    let long_ago = Some(now - chrono::Duration::days(400));
    let admin_id = admin.id.clone();
    // Members a little less idle than /connect's shortest threshold (15 days) are made idle
    // for a month, so that enough members are inactive beyond it.
    let month_ago = Some(now - chrono::Duration::days(30));
    let nearly_idle = |a: &UserAccess| {
        a.dates
            .last_activity()
            .is_some_and(|t| (10..=15).contains(&(now - t).num_days()))
    };
    seed_with(&env, &|roster, access| {
        for r in roster
            .iter_mut()
            .filter(|r| r.user_id.as_ref() == Some(&admin_id))
        {
            r.role_id = Some("2".into());
        }
        for a in access.iter_mut() {
            let at = if a.user_key == admin_id {
                long_ago
            } else if nearly_idle(a) {
                month_ago
            } else {
                continue;
            };
            a.dates.last_login = at;
            a.dates.last_meeting_created = at;
            a.dates.last_meeting_joined = at;
        }
    })
    .await;
    assert_eq!(
        env.records
            .get_user(CONN, &env.master, &admin.id)
            .await
            .unwrap()
            .unwrap()
            .roster
            .role_id
            .as_deref(),
        Some("2")
    );

    // Explicit users must be inactive beyond the connection's threshold: the shortest one
    // /connect offers, and members inactive for longer.
    const SHORTEST: u16 = InactivityThreshold::ALLOWED[0];
    let days = threshold_for_four(&env).await;
    env.records
        .update_connection(CONN, &|c| {
            c.settings.inactivity_threshold = InactivityThreshold::try_from(SHORTEST).unwrap();
        })
        .await
        .unwrap();
    let mut dry = event("dry-run");
    dry["policy"]["inactive_days"] = json!(days);
    dry["max_users"] = json!(1000);
    let probe = env.reclaimer.handle(&dry).await.unwrap();
    let members: Vec<String> = probe
        .users
        .iter()
        .filter(|u| u.outcome == Outcome::WouldAct)
        .filter(|u| u.days_inactive.is_some_and(|d| d > i64::from(SHORTEST)))
        .filter_map(|u| u.user_id.clone())
        .take(3)
        .collect();
    assert_eq!(members.len(), 3, "{probe:?}");

    // Cap: four selectable users (three members and the stale admin) with a cap of 2.
    let w0 = writes(&env.sb);
    let mut ex = event("explicit-users");
    ex["users"] = json!([owner, admin.id, members[0], members[1], members[2]]);
    ex["max_users"] = json!(2);
    let e = env.reclaimer.handle(&ex).await.unwrap_err();
    assert_eq!(e.kind(), "CapExceeded", "{e}");

    // Missing write scope: said before acting.
    let scopeless = Reclaimer::new(
        Stores::from_store(Arc::new(env.records.clone())),
        Arc::new(NoWriteScope(env.client.clone())),
    )
    .with_clock(sandbox_clock(&env.sb));
    ex["max_users"] = json!(10);
    let e = scopeless.handle(&ex).await.unwrap_err();
    assert_eq!(e.kind(), "MissingScope", "{e}");

    // A malformed request changes nothing.
    let e = env
        .reclaimer
        .handle(&event("malformed-unknown-field"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "InvalidRequest");
    assert_eq!(writes(&env.sb), w0);

    // The members log in after the last sync (a simulated day where everyone signs in).
    let now = env.sb.state.clock.now();
    env.sb.state.tenant.simulate_day(1.0, now);
    for id in &members {
        let u = t.find_user(id).unwrap();
        assert!(u.last_login_time.unwrap() > now - chrono::Duration::days(1));
    }
    let r = env.reclaimer.handle(&ex).await.unwrap();
    let by: HashMap<String, (Outcome, Option<String>)> = r
        .users
        .iter()
        .map(|u| (u.user_id.clone().unwrap(), (u.outcome, u.reason.clone())))
        .collect();
    assert_eq!(by[&owner].1.as_deref(), Some("owner_or_admin"));
    assert_eq!(
        by[&admin.id].1.as_deref(),
        Some("owner_or_admin"),
        "caught live"
    );
    for id in &members {
        assert_eq!(
            by[id],
            (Outcome::Skipped, Some("logged_in_since_sync".into())),
            "{id}"
        );
    }
    assert_eq!(writes(&env.sb), w0, "nobody was changed");
    assert_eq!(r.summary.acted, 0);
    assert_eq!(r.summary.skipped_by_reason["logged_in_since_sync"], 3);
}

/// The production client, but a grant without any write scope.
struct NoWriteScope(ZoomClient);

#[async_trait::async_trait]
impl reclamation::ZoomConnector for NoWriteScope {
    async fn users(&self, _: &ConnectionRecord) -> Result<Arc<dyn reclamation::ZoomUsers>, String> {
        Ok(Arc::new(self.0.clone()))
    }
    async fn granted_scopes(&self, _: &str) -> Result<Option<Vec<String>>, String> {
        Ok(Some(vec!["user:read:admin".into(), "report:master".into()]))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_zoom_errors_are_retried_and_the_result_is_the_same() {
    let Some(env) = env("transient_zoom_errors", &[]).await else {
        return;
    };
    let days = threshold_for_four(&env).await;
    let mut dry = event("dry-run");
    dry["policy"]["inactive_days"] = json!(days);
    dry["max_users"] = json!(1000);
    let plan = env.reclaimer.handle(&dry).await.unwrap();
    let planned: HashSet<String> = plan
        .users
        .iter()
        .filter(|u| u.outcome == Outcome::WouldAct)
        .filter_map(|u| u.user_id.clone())
        .collect();
    assert!(!planned.is_empty());
    env.sb.state.faults.set(zoom_sandbox::faults::FaultConfig {
        error_500: 0.15,
        error_503: 0.15,
        drop: 0.1,
        seed: 7,
        ..Default::default()
    });
    let mut ex = event("execute");
    ex["policy"]["inactive_days"] = json!(days);
    ex["max_users"] = json!(1000);
    let done = env.reclaimer.handle(&ex).await.unwrap();
    env.sb.state.faults.set(Default::default());
    let injected: u64 = env.sb.state.stats.snapshot().faults.values().sum();
    assert!(injected > 0, "faults were injected");
    assert_eq!(done.summary.failed, 0, "{done:#?}");
    assert_eq!(acted(&done).into_iter().collect::<HashSet<_>>(), planned);
    for id in &planned {
        let u = env.sb.state.tenant.find_user(id).unwrap();
        assert_eq!(u.status.as_str(), "inactive", "{id}");
    }
}

/// With the integration tasks' own runs (sync-engine's public direct-invoke entry) instead of
/// the test's seeding: the next License Information run shows the seats reclamation freed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_license_information_run_shows_the_freed_seats() {
    use sync_engine::{
        DirectInvoke, EngineOptions, FixedClientFactory, MemoryQueue, SyncEngine, Task,
    };
    let Some(env) = env_unseeded("next_license_information_run", &[]).await else {
        return;
    };
    let engine = SyncEngine {
        store: std::sync::Arc::new(env.records.clone()),
        clients: Arc::new(FixedClientFactory(env.client.clone())),
        queue: Arc::new(MemoryQueue::new()),
        clock: sandbox_clock(&env.sb),
        options: EngineOptions::default(),
    };
    let run = |task| {
        let engine = &engine;
        async move {
            let report = engine
                .run_direct(
                    task,
                    &DirectInvoke {
                        connection_id: CONN.into(),
                        account_id: None,
                        mode: None,
                    },
                    None,
                )
                .await
                .expect("direct run");
            assert!(report.failed.is_empty(), "{task:?}: {:?}", report.failed);
        }
    };
    let assigned = |records: Records| async move {
        let licenses: Vec<ports::LicenseRecord> =
            ports::LicenseStore::list_licenses(&records, CONN)
                .try_collect()
                .await
                .unwrap();
        let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
        for l in licenses {
            *by_name.entry(l.name).or_default() += l.assigned;
        }
        by_name
    };
    // The roster, activity and licenses as the integration tasks record them.
    for task in [
        Task::ApplicationRoster,
        Task::ApplicationAccess,
        Task::LicenseInformation,
    ] {
        run(task).await;
    }
    let before = assigned(env.records.clone()).await;
    assert!(!before.is_empty());
    let checked = seats_equal_plan_usage(&env).await;
    assert!(checked > 0, "paying accounts were compared");

    let days = threshold_for_four(&env).await;
    // The dry run selects nobody active within the threshold by the sandbox's own truth
    // (joins in any account's meetings, instant meetings and recurring occurrences).
    let mut dry = event("dry-run");
    dry["policy"]["inactive_days"] = json!(days);
    dry["max_users"] = json!(1000);
    let planned = env.reclaimer.handle(&dry).await.unwrap();
    let truth = env.sb.state.tenant.truth(false);
    let now = env.sb.state.clock.now();
    let mut selected = 0;
    for r in planned
        .users
        .iter()
        .filter(|r| r.outcome == Outcome::WouldAct)
    {
        let u = truth
            .accounts
            .iter()
            .flat_map(|a| a.users.iter().flatten())
            .find(|u| u.id == r.user_id)
            .unwrap_or_else(|| panic!("{} in the truth", r.user_key));
        let last = latest(u).unwrap_or(u.user_created_at);
        let idle = (now - last).num_days();
        assert!(
            idle > i64::from(days),
            "{}: active {idle} days ago, threshold {days}: {r:#?}",
            u.email
        );
        selected += 1;
    }
    assert!(selected > 0, "{planned:#?}");

    let mut ex = event("execute");
    ex["policy"]["inactive_days"] = json!(days);
    ex["max_users"] = json!(1000);
    // Application Access's own run recorded each account's completion: fresh data.
    let done = env.reclaimer.handle(&ex).await.unwrap();
    assert!(done.data_as_of.is_some(), "{done:#?}");
    assert!(
        done.summary.acted > 0 && done.summary.failed == 0,
        "{done:#?}"
    );
    assert!(!done.summary.licenses_freed.is_empty());

    run(Task::LicenseInformation).await;
    assert_eq!(seats_equal_plan_usage(&env).await, checked);
    let after = assigned(env.records.clone()).await;
    for (name, freed) in &done.summary.licenses_freed {
        assert_eq!(
            before.get(name).copied().unwrap_or(0) - after.get(name).copied().unwrap_or(0),
            *freed,
            "{name}: before {before:?} after {after:?}"
        );
    }
}

/// For every paying account (the master pays its bill), the Licensed record's seats equal
/// Zoom's plan usage, asked of the sandbox directly, and Zoom's figure stored beside them.
/// Returns how many accounts were compared.
async fn seats_equal_plan_usage(env: &Env) -> usize {
    let truth = env.sb.state.tenant.truth(true);
    let licenses: Vec<ports::LicenseRecord> =
        ports::LicenseStore::list_licenses(&env.records, CONN)
            .try_collect()
            .await
            .unwrap();
    let mut compared = 0;
    for a in truth
        .accounts
        .iter()
        .filter(|a| a.id != truth.standalone_account_id && a.pay_mode == "master")
    {
        let api = if a.id == env.master {
            env.client.me()
        } else {
            env.client.account(a.id.clone())
        };
        let usage = api.plan_usage().await.expect("plan usage");
        let zoom = usage
            .base()
            .and_then(|b| b.usage)
            .and_then(|n| u64::try_from(n).ok())
            .expect("plan_base.usage");
        let l = licenses
            .iter()
            .find(|l| l.account_id == a.id && l.license_id.ends_with(":licensed"))
            .unwrap_or_else(|| panic!("{}: Licensed record", a.id));
        assert_eq!(
            (l.assigned, l.zoom_assigned),
            (zoom, Some(zoom)),
            "{}: assigned vs Zoom's plan usage",
            a.id
        );
        compared += 1;
    }
    compared
}

/// Execute refuses stale or partial activity data before anything is sent to Zoom; the dry run
/// still works and says as of when its data is; fresh data proceeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_refuses_stale_or_partial_activity_data_and_sends_nothing() {
    let Some(env) = env("stale_or_partial_data", &[]).await else {
        return;
    };
    let truth0 = truth_states(&env.sb);
    let accounts = current_account_ids(&env).await;
    assert!(accounts.len() > 1, "master and sub accounts");
    let days = threshold_for_four(&env).await;
    let mut dry = event("dry-run");
    dry["policy"]["inactive_days"] = json!(days);
    dry["max_users"] = json!(1000);
    let mut ex = event("execute");
    ex["policy"]["inactive_days"] = json!(days);
    ex["max_users"] = json!(1000);
    let request_id = ex["request_id"].as_str().unwrap().to_owned();

    // Application Access last completed 49 hours ago.
    let old = env.sb.state.clock.now() - chrono::Duration::hours(49);
    set_access_completed(&env, &accounts, old).await;
    let w0 = writes(&env.sb);
    let e = env.reclaimer.handle(&ex).await.unwrap_err();
    assert_eq!(e.kind(), "StaleData", "{e}");
    assert!(
        e.to_string()
            .contains("has not completed for this connection within the last 48 hours"),
        "{e}"
    );
    assert_eq!(writes(&env.sb), w0, "no PUT/PATCH was sent");
    assert_eq!(truth_states(&env.sb), truth0, "nobody changed");
    assert!(
        env.records
            .get_request(&request_id)
            .await
            .unwrap()
            .is_none()
    );

    // The dry run works on that data and says how old it is.
    let plan = env.reclaimer.handle(&dry).await.unwrap();
    assert_eq!(
        plan.data_as_of.map(|t| t.timestamp()),
        Some(old.timestamp())
    );
    assert!(
        plan.warnings.iter().any(|w| w.contains("49.0 hours old")),
        "{:?}",
        plan.warnings
    );
    let planned: HashSet<String> = plan
        .users
        .iter()
        .filter(|u| u.outcome == Outcome::WouldAct)
        .filter_map(|u| u.user_id.clone())
        .collect();
    assert!(!planned.is_empty());
    assert_eq!(writes(&env.sb), w0);

    // One sub account never completed: refused, naming it.
    let mut fresh_but_one = accounts.clone();
    let never = fresh_but_one.pop().unwrap();
    set_access_completed(&env, &fresh_but_one, env.sb.state.clock.now()).await;
    let e = env.reclaimer.handle(&ex).await.unwrap_err();
    assert_eq!(e.kind(), "StaleData", "{e}");
    assert!(e.to_string().contains(&never), "{e}");
    let plan_unknown_age = env.reclaimer.handle(&dry).await.unwrap();
    assert_eq!(plan_unknown_age.data_as_of, None);

    // A data age above a week is refused as invalid, naming the field.
    let mut too_old = ex.clone();
    too_old["max_data_age_hours"] = json!(200);
    let e = env.reclaimer.handle(&too_old).await.unwrap_err();
    assert_eq!(e.kind(), "InvalidRequest", "{e}");
    assert!(e.to_string().contains("`max_data_age_hours`"), "{e}");
    assert_eq!(writes(&env.sb), w0);

    // Partial activity (Application Access noted a missing scope): refused even when fresh.
    set_access_completed(&env, &accounts, env.sb.state.clock.now()).await;
    let note = MissingScopeNote {
        scope: "meeting:read:list_past_participants:admin".into(),
        not_collected: "Meeting Joined dates (past meeting participants)".into(),
        noticed_by: ACCESS.into(),
        activity: true,
        noticed_at: env.sb.state.clock.now(),
    };
    env.records
        .update_connection(CONN, &move |c| c.missing_scopes = vec![note.clone()])
        .await
        .unwrap();
    let e = env.reclaimer.handle(&ex).await.unwrap_err();
    assert_eq!(e.kind(), "PartialActivityData", "{e}");
    assert!(
        e.to_string()
            .contains("meeting:read:list_past_participants:admin"),
        "{e}"
    );
    assert_eq!(writes(&env.sb), w0);
    assert_eq!(truth_states(&env.sb), truth0);
    assert!(
        env.records
            .get_request(&request_id)
            .await
            .unwrap()
            .is_none()
    );

    // Fresh and complete: execute proceeds, exactly as planned.
    env.records
        .update_connection(CONN, &|c| c.missing_scopes.clear())
        .await
        .unwrap();
    let done = env.reclaimer.handle(&ex).await.unwrap();
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
    assert!(done.data_as_of.is_some());
    assert_eq!(acted(&done).into_iter().collect::<HashSet<_>>(), planned);
    assert!(writes(&env.sb) > w0);
}

// ----- audit intents across a crash ------------------------------------------------------

/// Where the invocation "crashes" on its next status write (its future is never resumed, as
/// when Lambda times out or kills the instance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Crash {
    /// The request never reaches Zoom.
    BeforeChange,
    /// Zoom applies the change; the answer never comes back.
    AfterChange,
}

struct CrashState {
    records: Records,
    plan: Mutex<Option<Crash>>,
    crashed: tokio::sync::Notify,
    /// (user id, whether the user's audit intent was in DynamoDB when the write arrived).
    seen: Mutex<Vec<(String, bool)>>,
}

/// The production gateway with a planned crash around the next write.
struct Crashing {
    inner: Arc<ZoomUsersGateway>,
    state: Arc<CrashState>,
}

struct CrashingUsers {
    inner: Arc<dyn ZoomUsers>,
    state: Arc<CrashState>,
}

impl CrashingUsers {
    async fn maybe_crash(&self, at: Crash) {
        let planned = *self.state.plan.lock().unwrap();
        if planned == Some(at) {
            *self.state.plan.lock().unwrap() = None;
            self.state.crashed.notify_one();
            std::future::pending::<()>().await;
        }
    }

    async fn write_arrives(&self, user_id: &str) {
        let entries: Vec<AuditEntry> = self
            .state
            .records
            .list_user_entries(CONN, user_id)
            .try_collect()
            .await
            .unwrap();
        let found = entries.iter().any(|e| e.state == AuditState::Intent);
        self.state
            .seen
            .lock()
            .unwrap()
            .push((user_id.to_owned(), found));
        self.maybe_crash(Crash::BeforeChange).await;
    }
}

#[async_trait]
impl ZoomUsers for CrashingUsers {
    async fn get_user(&self, account: &AccountRef, user_id: &str) -> Result<LiveUser, ZoomFailure> {
        self.inner.get_user(account, user_id).await
    }
    async fn set_status(
        &self,
        account: &AccountRef,
        user_id: &str,
        activate: bool,
    ) -> Result<Option<String>, ZoomFailure> {
        self.write_arrives(user_id).await;
        let r = self.inner.set_status(account, user_id, activate).await;
        self.maybe_crash(Crash::AfterChange).await;
        r
    }
    async fn set_type(
        &self,
        account: &AccountRef,
        user_id: &str,
        user_type: i64,
    ) -> Result<Option<String>, ZoomFailure> {
        self.write_arrives(user_id).await;
        let r = self.inner.set_type(account, user_id, user_type).await;
        self.maybe_crash(Crash::AfterChange).await;
        r
    }
}

#[async_trait]
impl ZoomConnector for Crashing {
    async fn users(&self, connection: &ConnectionRecord) -> Result<Arc<dyn ZoomUsers>, String> {
        Ok(Arc::new(CrashingUsers {
            inner: self.inner.users(connection).await?,
            state: self.state.clone(),
        }))
    }
    async fn granted_scopes(&self, connection_id: &str) -> Result<Option<Vec<String>>, String> {
        self.inner.granted_scopes(connection_id).await
    }
}

/// Runs `ev` until the planned crash, then drops the invocation; the user it crashed on.
async fn crash_during(
    reclaimer: &Reclaimer,
    state: &CrashState,
    crash: Crash,
    ev: &Value,
) -> String {
    *state.plan.lock().unwrap() = Some(crash);
    tokio::select! {
        r = reclaimer.handle(ev) => panic!("the invocation should have crashed: {r:#?}"),
        _ = state.crashed.notified() => {}
    }
    let (user, intent_stored) = state.seen.lock().unwrap().last().cloned().unwrap();
    assert!(
        intent_stored,
        "the intent of {user} was stored before the Zoom call"
    );
    user
}

/// The crashed request's lease expiring (16 minutes later): released as its holder.
async fn expire_lease(env: &Env, request_id: &str) {
    let name = format!("reclamation#{request_id}");
    let lease = env
        .records
        .get_lease(&name)
        .await
        .unwrap()
        .expect("the lease is held");
    assert!(env.records.release(&name, &lease.owner).await.unwrap());
}

async fn entry_of(env: &Env, request_id: &str, user_key: &str) -> AuditEntry {
    let entries: Vec<AuditEntry> = env
        .records
        .list_request_entries(request_id)
        .try_collect()
        .await
        .unwrap();
    entries
        .into_iter()
        .find(|e| e.user_key == user_key)
        .unwrap_or_else(|| panic!("no entry of {user_key} in {request_id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_around_the_zoom_call_is_resolved_by_reactivate_from_the_live_state() {
    let Some(env) = env("crash_around_the_zoom_call", &[]).await else {
        return;
    };
    let truth0 = truth_states(&env.sb);
    let days = threshold_for_four(&env).await;
    let state = Arc::new(CrashState {
        records: env.records.clone(),
        plan: Mutex::new(None),
        crashed: tokio::sync::Notify::new(),
        seen: Mutex::new(Vec::new()),
    });
    let crashing = Reclaimer::new(
        Stores::from_store(Arc::new(env.records.clone())),
        Arc::new(Crashing {
            inner: env.gateway.clone(),
            state: state.clone(),
        }),
    )
    .with_clock(sandbox_clock(&env.sb));
    let execute = |id: &str| {
        let mut ex = event("execute");
        ex["request_id"] = json!(id);
        ex["policy"]["inactive_days"] = json!(days);
        ex["max_users"] = json!(1000);
        ex
    };

    // Zoom deactivates the first user, then the invocation dies: only the intent is recorded.
    let applied = crash_during(
        &crashing,
        &state,
        Crash::AfterChange,
        &execute("crash-after"),
    )
    .await;
    let truth1 = truth_states(&env.sb);
    assert_eq!(truth1[&applied].0, "inactive");
    for (id, before) in &truth0 {
        if *id != applied {
            assert_eq!(&truth1[id], before, "{id} must not change");
        }
    }
    let intent = entry_of(&env, "crash-after", &applied).await;
    assert_eq!(
        (intent.state, intent.outcome.as_str()),
        (AuditState::Intent, "unknown")
    );
    assert_eq!(intent.before["status"], "active");
    assert_eq!(intent.before["type"], truth0[&applied].1);

    // Another request dies before its call reaches Zoom (the first user is now already
    // deactivated, so it is the next one).
    let writes0 = writes(&env.sb);
    let missed = crash_during(
        &crashing,
        &state,
        Crash::BeforeChange,
        &execute("crash-before"),
    )
    .await;
    assert_ne!(missed, applied);
    assert_eq!(writes(&env.sb), writes0, "nothing reached Zoom");
    assert_eq!(truth_states(&env.sb), truth1);
    assert_eq!(
        entry_of(&env, "crash-before", &missed).await.state,
        AuditState::Intent
    );
    expire_lease(&env, "crash-after").await;
    expire_lease(&env, "crash-before").await;

    // Reactivate reads the live state: the applied change is undone...
    let mut undo = event("reactivate");
    undo["request_id"] = json!("undo-crash-after");
    undo["restore_request_id"] = json!("crash-after");
    let r = env.reclaimer.handle(&undo).await.unwrap();
    let line = r.users.iter().find(|u| u.user_key == applied).unwrap();
    assert_eq!(line.outcome, Outcome::Acted, "{r:#?}");
    assert_eq!(line.reason.as_deref(), Some("outcome_was_unknown"));
    assert_eq!(truth_states(&env.sb), truth0, "everyone is back as before");
    let resolved = entry_of(&env, "crash-after", &applied).await;
    assert_eq!(
        (resolved.state, resolved.outcome.as_str()),
        (AuditState::Done, "acted")
    );

    // ...and the one that never reached Zoom is recorded as not applied, with no write.
    let writes1 = writes(&env.sb);
    let mut undo = event("reactivate");
    undo["request_id"] = json!("undo-crash-before");
    undo["restore_request_id"] = json!("crash-before");
    let r = env.reclaimer.handle(&undo).await.unwrap();
    let line = r.users.iter().find(|u| u.user_key == missed).unwrap();
    assert_eq!(line.outcome, Outcome::Unchanged, "{r:#?}");
    assert_eq!(line.reason.as_deref(), Some("not_applied"));
    assert_eq!(
        writes(&env.sb),
        writes1,
        "no PUT/PATCH for a change that never happened"
    );
    assert_eq!(truth_states(&env.sb), truth0);
    let resolved = entry_of(&env, "crash-before", &missed).await;
    assert_eq!(
        (resolved.state, resolved.outcome.as_str()),
        (AuditState::NotApplied, "unchanged")
    );
}

// ----- lost answers on the user writes ----------------------------------------------------

/// Zoom carries out a share `share` of the user writes (status `PUT`, type `PATCH`, the
/// master's own and the sub accounts' forms) and then loses their answer: a dropped
/// connection, a 502 page, or a short hold then 504.
fn losing_write_answers(share: f64, seed: u64) -> zoom_sandbox::faults::FaultConfig {
    zoom_sandbox::faults::FaultConfig {
        lost: share,
        lost_methods: vec!["PUT".into(), "PATCH".into()],
        // Prefixes of the route templates: `/v2/users/{userId}` covers its `/status` too.
        lost_paths: vec![
            "/v2/users/{userId}".into(),
            "/v2/accounts/{accountId}/users/{userId}".into(),
        ],
        hold_ms: Some(300),
        seed,
        ..Default::default()
    }
}

/// Answers the sandbox lost on user writes so far, by `"METHOD /template"`.
fn lost_write_answers(sb: &RunningSandbox) -> BTreeMap<String, u64> {
    sb.state
        .stats
        .snapshot()
        .lost_answers
        .into_iter()
        .filter(|(k, _)| k.starts_with("PUT ") || k.starts_with("PATCH "))
        .collect()
}

fn total(lost: &BTreeMap<String, u64>) -> u64 {
    lost.values().sum()
}

/// Whether the sandbox shows `action`'s change between the (status, type) before and after:
/// deactivated, or (downgrade) a paid type become Basic with the status kept.
fn changed_by(action: &str, before: &(String, i64), after: &(String, i64)) -> bool {
    match action {
        "deactivate" => before.0 == "active" && after.0 == "inactive" && after.1 == before.1,
        "downgrade" => matches!(before.1, 2 | 4) && after.1 == 1 && after.0 == before.0,
        other => panic!("no action {other}"),
    }
}

/// What one lost-answers run did, for the report.
#[derive(Debug, Default)]
struct LostRun {
    seed: u64,
    share: f64,
    planned: usize,
    /// Answers lost during the execute, and during the reactivate.
    lost_execute: BTreeMap<String, u64>,
    lost_reactivate: BTreeMap<String, u64>,
    /// Users the sandbox shows changed after the execute, and changed back by the reactivate.
    changed: usize,
    restored: usize,
}

/// One real execute of `action` while the sandbox loses a share `share` of the write answers
/// (seed `seed`), then a replay, a reactivate (answers still lost) and a second reactivate,
/// each checked against the sandbox's own state. `None`: moto is not running.
async fn execute_and_undo_losing_answers(action: &str, seed: u64, share: f64) -> Option<LostRun> {
    let test = format!("lost_answers_{action}_{seed}");
    let env = env(&test, &[]).await?;
    let t = &env.sb.state.tenant;
    let truth0 = truth_states(&env.sb);
    // As many candidates as the demo tenant has (its owners and admins never are).
    let days = threshold_for(&env, 8).await;
    let request_id = format!("lost-{action}-{seed}");
    let request = |mode: &str| {
        let mut ev = event("execute");
        ev["request_id"] = json!(request_id);
        ev["action"] = json!(action);
        ev["mode"] = json!(mode);
        ev["policy"]["inactive_days"] = json!(days);
        ev["max_users"] = json!(1000);
        ev
    };
    // The candidates: the dry run's plan (no faults yet).
    let plan = env.reclaimer.handle(&request("dry_run")).await.unwrap();
    let planned: BTreeSet<String> = plan
        .users
        .iter()
        .filter(|u| u.outcome == Outcome::WouldAct)
        .filter_map(|u| u.user_id.clone())
        .collect();
    assert!(planned.len() >= 4, "{action}: {plan:#?}");

    // Execute while answers of the user writes are lost.
    env.sb.state.faults.set(losing_write_answers(share, seed));
    let lost0 = lost_write_answers(&env.sb);
    let ex = request("execute");
    let done = env.reclaimer.handle(&ex).await.unwrap();
    let lost1 = lost_write_answers(&env.sb);
    let truth1 = truth_states(&env.sb);
    let changed: BTreeSet<String> = truth0
        .iter()
        .filter(|(id, before)| truth1[*id] != **before)
        .map(|(id, _)| id.clone())
        .collect();
    // Only candidates changed, each the way the action changes a user; owners and admins
    // are untouched. A lost answer loses no change: every candidate was changed.
    for id in &changed {
        assert!(planned.contains(id), "seed {seed}: {id} changed unplanned");
        assert!(
            changed_by(action, &truth0[id], &truth1[id]),
            "seed {seed}: {id} {:?} -> {:?}",
            truth0[id],
            truth1[id]
        );
    }
    for (id, before) in &truth0 {
        if t.find_user(id).unwrap().role != zoom_sandbox::tenant::Role::Member {
            assert_eq!(&truth1[id], before, "seed {seed}: owner/admin {id}");
        }
    }
    assert_eq!(changed, planned, "seed {seed}: {done:#?}");

    // Every audit entry's final state tells the truth: done (acted) exactly for the users the
    // sandbox shows changed; none left in `intent`. (Users left alone, such as the owners
    // and admins the selection yields, get finished entries that say so.)
    let entries: Vec<AuditEntry> = env
        .records
        .list_request_entries(&request_id)
        .try_collect()
        .await
        .unwrap();
    for e in &entries {
        assert_ne!(e.state, AuditState::Intent, "seed {seed}: {e:?}");
        let done_entry = e.state == AuditState::Done && e.outcome == "acted";
        assert_eq!(
            done_entry,
            changed.contains(&e.user_key),
            "seed {seed}: the audit of {} says {:?}/{} ({:?}), the sandbox shows {:?} -> {:?}",
            e.user_key,
            e.state,
            e.outcome,
            e.reason,
            truth0.get(&e.user_key),
            truth1.get(&e.user_key)
        );
    }
    for id in &planned {
        entry_of(&env, &request_id, id).await;
    }
    assert_eq!(
        acted(&done).into_iter().collect::<BTreeSet<_>>(),
        changed,
        "seed {seed}: the response agrees"
    );
    if share >= 1.0 {
        // No write was ever answered: each change was told from Zoom's live state.
        for u in done.users.iter().filter(|u| u.outcome == Outcome::Acted) {
            assert!(u.detail.contains("answer was lost"), "seed {seed}: {u:?}");
        }
    }

    // A replay of the same request changes nothing more (answers still being lost).
    let w = writes(&env.sb);
    let again = env.reclaimer.handle(&ex).await.unwrap();
    assert!(again.replayed);
    assert_eq!(
        writes(&env.sb),
        w,
        "seed {seed}: a replay sends no PUT/PATCH"
    );
    assert_eq!(truth_states(&env.sb), truth1);
    assert_eq!(acted(&again).into_iter().collect::<BTreeSet<_>>(), changed);

    // Reactivate, answers still lost: every user the sandbox shows changed is back as before
    // the run, and its audit says so.
    let undo_id = format!("{request_id}-undo");
    let mut undo = event("reactivate");
    undo["request_id"] = json!(undo_id);
    undo["restore_request_id"] = json!(request_id);
    let r = env.reclaimer.handle(&undo).await.unwrap();
    let lost2 = lost_write_answers(&env.sb);
    let truth2 = truth_states(&env.sb);
    let restored = changed
        .iter()
        .filter(|id| truth2[*id] == truth0[*id])
        .count();
    assert_eq!(
        truth2, truth0,
        "seed {seed}: everyone is back as before: {r:#?}"
    );
    let undo_entries: Vec<AuditEntry> = env
        .records
        .list_request_entries(&undo_id)
        .try_collect()
        .await
        .unwrap();
    for e in &undo_entries {
        assert!(changed.contains(&e.user_key), "seed {seed}: {e:?}");
        assert_eq!(
            (e.state, e.outcome.as_str()),
            (AuditState::Done, "acted"),
            "seed {seed}: the sandbox shows {} restored: {e:?}",
            e.user_key
        );
    }
    assert_eq!(
        undo_entries.len(),
        changed.len(),
        "seed {seed}: one entry per restored user"
    );
    assert_eq!(
        acted(&r).into_iter().collect::<BTreeSet<_>>(),
        changed,
        "seed {seed}: {r:#?}"
    );

    // A second reactivate (a replay, and a new request) is a no-op.
    let w = writes(&env.sb);
    let replayed = env.reclaimer.handle(&undo).await.unwrap();
    assert!(replayed.replayed);
    let mut undo2 = undo.clone();
    undo2["request_id"] = json!(format!("{undo_id}-again"));
    let r2 = env.reclaimer.handle(&undo2).await.unwrap();
    assert_eq!(writes(&env.sb), w, "seed {seed}: no PUT/PATCH");
    assert_eq!(truth_states(&env.sb), truth0);
    assert_eq!(r2.summary.acted, 0, "{r2:#?}");
    for u in &r2.users {
        assert_eq!(
            (u.outcome, u.reason.as_deref()),
            (Outcome::Unchanged, Some("already_restored")),
            "seed {seed}: {u:?}"
        );
    }
    env.sb.state.faults.set(Default::default());

    let diff = |a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>| {
        b.iter()
            .map(|(k, n)| (k.clone(), n - a.get(k).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect::<BTreeMap<_, _>>()
    };
    Some(LostRun {
        seed,
        share,
        planned: planned.len(),
        lost_execute: diff(&lost0, &lost1),
        lost_reactivate: diff(&lost1, &lost2),
        changed: changed.len(),
        restored,
    })
}

/// Runs `action` for every (seed, share) and checks that answers were really lost, on the
/// executes and on the reactivations, at `endpoint` (`"METHOD /template"`, the master's form).
async fn lost_answers_for(action: &str, runs: &[(u64, f64)], endpoint: &str) {
    let mut figures = Vec::new();
    for &(seed, share) in runs {
        let Some(run) = execute_and_undo_losing_answers(action, seed, share).await else {
            return;
        };
        eprintln!(
            "{action}, seed {}, lost share {}: {} candidates, {} changed, {} restored; answers \
             lost on execute {:?}, on reactivate {:?}",
            run.seed,
            run.share,
            run.planned,
            run.changed,
            run.restored,
            run.lost_execute,
            run.lost_reactivate
        );
        figures.push(run);
    }
    let at = |lost: &BTreeMap<String, u64>| -> u64 {
        lost.iter()
            .filter(|(k, _)| {
                let (method, path) = endpoint.split_once(' ').unwrap();
                k.starts_with(method) && k.ends_with(path)
            })
            .map(|(_, n)| n)
            .sum()
    };
    let on_execute: u64 = figures.iter().map(|r| at(&r.lost_execute)).sum();
    let on_reactivate: u64 = figures.iter().map(|r| at(&r.lost_reactivate)).sum();
    assert!(
        on_execute > 0 && on_reactivate > 0,
        "answers were lost at {endpoint}: {figures:#?}"
    );
    // Share 1: every write's answer was lost, and still every change is told and undone.
    for r in figures.iter().filter(|r| r.share >= 1.0) {
        assert!(total(&r.lost_execute) >= r.changed as u64, "{r:?}");
        assert!(total(&r.lost_reactivate) >= r.restored as u64, "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_on_deactivations_leave_a_true_audit_and_a_full_undo() {
    let runs = [(1, 0.5), (2, 0.5), (3, 0.5), (4, 0.5), (5, 0.5), (6, 1.0)];
    lost_answers_for("deactivate", &runs, "PUT /users/{userId}/status").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_on_downgrades_leave_a_true_audit_and_a_full_undo() {
    let runs = [(1, 0.5), (2, 0.5), (3, 0.5), (4, 1.0)];
    lost_answers_for("downgrade", &runs, "PATCH /users/{userId}").await;
}

// ----- notify, then reclaim ----------------------------------------------------------------

/// The e-mails moto's SES kept from `from`: (recipients, subject, body).
async fn sent_by(from: &str) -> Vec<(Vec<String>, String, String)> {
    let endpoint = AwsConfig::from_env().endpoint_url.expect("moto endpoint");
    let data: Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .expect("moto's data")
        .json()
        .await
        .expect("moto's data as JSON");
    data["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m["source"] == from)
        .map(|m| {
            let to = m["destinations"]["ToAddresses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_lowercase())
                .collect();
            let text = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
            (to, text("subject"), text("body"))
        })
        .collect()
}

/// The tenant's users as its ground truth shows them now (the connection's accounts only).
fn truth_users(env: &Env) -> Vec<zoom_sandbox::truth::UserTruth> {
    let truth = env.sb.state.tenant.truth(false);
    truth
        .accounts
        .into_iter()
        .filter(|a| a.id != truth.standalone_account_id)
        .flat_map(|a| a.users.unwrap_or_default())
        .collect()
}

fn latest(u: &zoom_sandbox::truth::UserTruth) -> Option<chrono::DateTime<Utc>> {
    [
        u.last_login_time,
        u.latest_meeting_created,
        u.latest_meeting_joined,
    ]
    .into_iter()
    .flatten()
    .max()
}

/// Issue #19 item 5 end to end: the integration tasks sync the tenant, notify e-mails the
/// users inactive beyond the policy (SES in moto), the sandbox lives through the grace period
/// (simulated days: logins, meetings hosted with participants from every account of the
/// organization), the tasks sync again, and reclaim-notified deactivates exactly the notified
/// users with no activity since the notice and keeps the others. Every expected set comes from
/// the sandbox's ground truth and the rules, written out again here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_then_reclaim_across_the_grace_period_on_the_sandbox_clock() {
    use sync_engine::{FixedClientFactory, MemoryQueue, Task};
    // Twenty sub accounts (260 users): enough inactive users for both outcomes.
    let Some(env) =
        env_unseeded_on("notify_then_reclaim", &[], test_support::twenty_subs_spec()).await
    else {
        return;
    };
    let clients = AwsClients::new(&AwsConfig::from_env()).await;
    let from = format!("{}@notices.example.com", unique("zts"));
    clients
        .ses
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .expect("a sender identity in moto");
    let reclaimer = Reclaimer::new(
        Stores::from_store(Arc::new(env.records.clone())),
        env.gateway.clone(),
    )
    .with_clock(sandbox_clock(&env.sb))
    .with_notifier(Arc::new(aws_adapters::SesNotifier::new(
        clients.ses.clone(),
        &from,
    )));
    // The integration tasks' own runs record the roster and the activity.
    let engine = test_support::engine(
        &env.records,
        Arc::new(FixedClientFactory(env.client.clone())),
        Arc::new(MemoryQueue::new()),
        sandbox_clock(&env.sb),
    );
    let sync = || async {
        for task in [Task::ApplicationRoster, Task::ApplicationAccess] {
            test_support::run_connection(&engine, task, CONN).await;
        }
    };
    sync().await;

    // Notify everyone inactive for more than N days, by the rules on the ground truth:
    // active, paid (Licensed; On-Prem users only when the connection includes them, which the
    // default settings do not, so the roster does not hold them), the member role, latest of
    // login / meeting created / meeting joined (else the creation date) more than N whole
    // days ago.
    let on_prem = ConnectionSettings::default().include_on_premises.is_yes();
    const N: u32 = 2;
    let t0 = env.sb.state.clock.now();
    let expected_notified: BTreeSet<String> = truth_users(&env)
        .iter()
        .filter(|u| u.status.as_str() == "active")
        .filter(|u| u.user_type == 2 || (on_prem && u.user_type == 3))
        .filter(|u| u.role_id == "2")
        .filter(|u| {
            let last = latest(u).unwrap_or(u.user_created_at);
            (t0 - last).num_days() > i64::from(N)
        })
        .filter_map(|u| u.id.clone())
        .collect();
    assert!(expected_notified.len() >= 4, "{expected_notified:?}");
    let mut notify = json!({
        "request_id": "notify-1", "connection_id": CONN, "step": "notify",
        "policy": {"inactive_days": N}, "grace_days": 7, "mode": "execute",
        "max_users": 1000, "requested_by": "it-admin@example.com", "reason": "notice test"
    });
    let writes0 = writes(&env.sb);
    let r = reclaimer.handle(&notify).await.unwrap();
    let t_notified = env.sb.state.clock.now();
    let notified: BTreeSet<String> = acted(&r).into_iter().collect();
    assert_eq!(notified, expected_notified, "{r:#?}");
    assert_eq!(writes(&env.sb), writes0, "a notice changes nothing at Zoom");

    // The e-mails, as SES (moto) received them: one per notified user, to their address.
    let emails: BTreeMap<String, String> = truth_users(&env)
        .into_iter()
        .filter_map(|u| Some((u.id?, u.email.to_lowercase())))
        .collect();
    let sent = sent_by(&from).await;
    let mut to: Vec<String> = sent.iter().flat_map(|m| m.0.clone()).collect();
    to.sort();
    let mut want: Vec<String> = notified.iter().map(|id| emails[id].clone()).collect();
    want.sort();
    assert_eq!(to, want);
    let grace_end = (t0 + chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    for (_, subject, body) in &sent {
        assert!(subject.contains("license will be reclaimed"), "{subject}");
        assert!(body.contains(&grace_end), "{body}");
        assert!(body.contains("host or join a meeting"), "{body}");
    }

    // Notifying again sends nothing more.
    notify["request_id"] = json!("notify-2");
    let again = reclaimer.handle(&notify).await.unwrap();
    assert_eq!(again.summary.acted, 0, "{again:#?}");
    assert_eq!(sent_by(&from).await.len(), sent.len());

    // The grace period: three simulated days of activity (a few logins each; meetings hosted, with
    // participants from every account of the organization; recurring meetings held), then
    // the tasks sync again.
    for _ in 0..3 {
        env.sb.state.clock.advance(2 * 86_400);
        let day = env.sb.state.clock.now();
        env.sb.state.tenant.simulate_day(0.05, day);
    }
    env.sb.state.clock.advance(86_400 + 3_600);
    sync().await;

    // Expected from the ground truth: activity after the notice keeps the user.
    let before = truth_states(&env.sb);
    let users = truth_users(&env);
    let mut expected_kept = BTreeSet::new();
    let mut expected_reclaimed = BTreeSet::new();
    let mut came_back_by_login = 0;
    for u in users
        .iter()
        .filter(|u| u.id.as_ref().is_some_and(|i| notified.contains(i)))
    {
        let id = u.id.clone().unwrap();
        match latest(u) {
            Some(t) if t > t_notified => {
                if u.last_login_time.is_some_and(|l| l > t_notified) {
                    came_back_by_login += 1;
                }
                expected_kept.insert(id);
            }
            Some(t) => {
                assert!(t < t0, "{id}: no activity during the notify run");
                expected_reclaimed.insert(id);
            }
            None => {
                expected_reclaimed.insert(id);
            }
        }
    }
    let came_back_by_meeting = expected_kept.len() - came_back_by_login;
    eprintln!(
        "notified {}, came back {} ({came_back_by_login} by login, {came_back_by_meeting} by a \
         meeting only), still inactive {}",
        notified.len(),
        expected_kept.len(),
        expected_reclaimed.len()
    );
    assert!(came_back_by_login > 0, "someone logged in");
    assert!(
        came_back_by_meeting > 0,
        "someone only joined or hosted a meeting"
    );
    // Some came back only by joining a meeting hosted in ANOTHER account of the organization
    // (the sandbox's own meetings and participant rows, after the notice).
    let tenant = &env.sb.state.tenant;
    let account_of: BTreeMap<String, String> = users
        .iter()
        .filter_map(|u| Some((u.id.clone()?, u.account_id.clone())))
        .collect();
    let mut joined_elsewhere = BTreeSet::new();
    for a in tenant.accounts() {
        for host in 0..tenant.user_count(a.index) {
            for m in tenant.ended_instances(a.index, host) {
                for p in tenant.participants(&m) {
                    let elsewhere = account_of.get(&p.id).is_some_and(|acct| *acct != a.id);
                    if elsewhere && p.join_time > t_notified && notified.contains(&p.id) {
                        joined_elsewhere.insert(p.id.clone());
                    }
                }
            }
        }
    }
    let only_by_joining_elsewhere: Vec<&String> = joined_elsewhere
        .iter()
        .filter(|id| {
            let u = users.iter().find(|u| u.id.as_ref() == Some(*id)).unwrap();
            u.last_login_time.is_none_or(|l| l <= t_notified)
                && u.latest_meeting_created.is_none_or(|c| c <= t_notified)
        })
        .collect();
    eprintln!(
        "joined a meeting of another account after the notice: {} (only that: {})",
        joined_elsewhere.len(),
        only_by_joining_elsewhere.len()
    );
    assert!(
        !joined_elsewhere.is_empty(),
        "someone joined a meeting hosted in another account"
    );
    for id in &joined_elsewhere {
        assert!(expected_kept.contains(id), "{id}");
    }
    assert!(
        !only_by_joining_elsewhere.is_empty(),
        "someone came back only by joining a meeting hosted in another account"
    );
    assert!(!expected_reclaimed.is_empty());

    let r = reclaimer
        .handle(&json!({
            "request_id": "reclaim-notified-1", "connection_id": CONN,
            "step": "reclaim_notified", "mode": "execute", "max_users": 1000,
            "requested_by": "it-admin@example.com", "reason": "grace period over"
        }))
        .await
        .unwrap();
    let reclaimed: BTreeSet<String> = acted(&r).into_iter().collect();
    assert_eq!(reclaimed, expected_reclaimed, "{r:#?}");
    assert_eq!(r.summary.failed, 0);
    // At the sandbox: exactly those deactivated, nobody else changed.
    let after = truth_states(&env.sb);
    for (id, state) in &before {
        if expected_reclaimed.contains(id) {
            assert_eq!(after[id].0, "inactive", "{id}");
        } else {
            assert_eq!(&after[id], state, "{id} must not change");
        }
    }

    // The history shows every step of every notified user.
    let h = reclaimer
        .handle(&json!({
            "request_id": "history", "connection_id": CONN, "step": "history",
            "requested_by": "it-admin@example.com", "reason": "review"
        }))
        .await
        .unwrap();
    let opportunities = h.opportunities.unwrap();
    assert_eq!(opportunities.len(), notified.len());
    for o in &opportunities {
        let id = o.user_id.clone().unwrap();
        let last = if expected_kept.contains(&id) {
            ports::OpportunityState::Kept
        } else {
            ports::OpportunityState::Reclaimed
        };
        let steps: Vec<_> = o.history.iter().map(|s| s.state).collect();
        assert_eq!(
            steps,
            vec![
                ports::OpportunityState::Opportunity,
                ports::OpportunityState::Notified,
                last
            ],
            "{id}"
        );
        assert_eq!(o.email.as_deref(), Some(emails[&id].as_str()));
    }
    // Reversible: reactivate restores the reclaimed users exactly.
    let mut undo = event("reactivate");
    undo["request_id"] = json!("undo-reclaim-notified-1");
    undo["restore_request_id"] = json!("reclaim-notified-1");
    undo["max_users"] = json!(1000);
    env.reclaimer.handle(&undo).await.unwrap();
    assert_eq!(
        truth_states(&env.sb),
        before,
        "restored as before the reclaim"
    );
}
