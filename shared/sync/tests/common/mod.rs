//! Test harness: an in-process sandbox, a Zoom client on it, a store (moto when
//! `ZTS_AWS_ENDPOINT_URL` is set, else the in-memory fake of the same semantics), and the
//! comparison of stored records with the sandbox's ground truth.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_adapters::{
    AccountStore, AwsClients, AwsConfig, CandidateStore, ConnectionRecord, ConnectionSettings,
    ConnectionStore, LicenseStore, Provisioned, Records, UserStore, UserView, ZoomRegion,
    create_table_if_missing, user_key,
};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use rand::RngExt;
use sync_domain::{ActivityBands, ActivityDates, LicenseKind};
use sync_engine::{
    Clock, EngineOptions, FixedClientFactory, MemoryQueue, SyncEngine, domain_settings,
};
use zoom::{
    MemoryTokenSource, OAuthApp, OAuthClient, RateProfile, Region, RetryPolicy, Secret, TokenSet,
    ZoomClient, ZoomConfig,
};
use zoom_sandbox::tenant::TenantSpec;
use zoom_sandbox::truth::TenantTruth;
use zoom_sandbox::{RunningSandbox, SandboxConfig};

pub async fn sandbox(spec: TenantSpec) -> RunningSandbox {
    let config = SandboxConfig {
        tenant: spec,
        ..SandboxConfig::demo()
    };
    zoom_sandbox::start_local(config).await.expect("sandbox")
}

pub fn demo_spec() -> TenantSpec {
    TenantSpec::demo().with_anchor(anchor())
}

/// 20 sub accounts, modest size (bigger sizes belong to the benchmarks).
pub fn twenty_subs_spec() -> TenantSpec {
    TenantSpec::sized(2, 20, 260)
        .with_meetings_per_user(2)
        .with_participants_per_meeting(4)
        .with_anchor(anchor())
}

/// The incremental test's tenant: 20 sub accounts with enough users per account that the
/// per-account listings do not dominate.
pub fn incremental_spec() -> TenantSpec {
    TenantSpec::sized(2, 20, 700)
        .with_meetings_per_user(3)
        .with_participants_per_meeting(4)
        .with_anchor(anchor())
}

fn anchor() -> DateTime<Utc> {
    // Pinned a little in the past: the data is then identical across test runs.
    (Utc::now() - chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
}

pub fn zoom_client(sb: &RunningSandbox) -> ZoomClient {
    let t = sb.state.issue_token_for_tests(&[]);
    let tokens = TokenSet {
        access_token: Secret::new(t.access_token),
        refresh_token: Secret::new(t.refresh_token.expect("refresh token")),
        expires_at: Utc::now() + chrono::Duration::seconds(t.expires_in as i64),
        scope: t.scope,
        api_url: Some(sb.base_url()),
    };
    client_with_tokens(sb, tokens)
}

/// A client whose grant is dead: the access token expired and the refresh token was never
/// issued (the sandbox answers `invalid_grant`).
pub fn dead_grant_client(sb: &RunningSandbox) -> ZoomClient {
    client_with_tokens(
        sb,
        TokenSet {
            access_token: Secret::new("expired-access-token"),
            refresh_token: Secret::new("revoked-refresh-token"),
            expires_at: Utc::now() - chrono::Duration::hours(1),
            scope: String::new(),
            api_url: Some(sb.base_url()),
        },
    )
}

pub fn client_with_tokens(sb: &RunningSandbox, tokens: TokenSet) -> ZoomClient {
    let config = ZoomConfig::builder()
        .region(Region::Na)
        .app(
            Region::Na,
            OAuthApp::new(
                "sandbox-client-id",
                Secret::new("sandbox-client-secret"),
                "http://localhost:9000/oauth/callback",
            ),
        )
        .oauth_base(sb.base_url())
        .request_timeout(Duration::from_secs(5))
        .build()
        .expect("config");
    let oauth = OAuthClient::new(&config).expect("oauth");
    let source = Arc::new(MemoryTokenSource::new(tokens, Arc::new(oauth)));
    ZoomClient::builder(config, source)
        .rate_profile(RateProfile::unlimited())
        .retry_policy(RetryPolicy {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(100),
            max_attempts: 12,
            default_budget: Duration::from_secs(120),
        })
        .budget_key("master")
        .build()
        .expect("client")
}

/// A store: moto when configured (required under `make test`), else memory.
pub async fn store(test: &str) -> Records {
    let config = AwsConfig::from_env();
    match config.endpoint_url.clone() {
        Some(endpoint) => {
            assert!(
                endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost"),
                "tests only run against a local endpoint"
            );
            let clients = AwsClients::new(&config).await;
            let n: u64 = rand::rng().random();
            let table = format!("zts-sync-{n:016x}");
            create_table_if_missing(&clients.dynamodb, &table)
                .await
                .expect("create table in moto");
            Records::dynamo(clients.dynamodb, table)
        }
        None => {
            let required =
                std::env::var("ZTS_REQUIRE_AWS").is_ok_and(|v| !v.is_empty() && v != "0");
            assert!(
                !required,
                "{test}: ZTS_REQUIRE_AWS is set but ZTS_AWS_ENDPOINT_URL is not"
            );
            Records::in_memory()
        }
    }
}

/// A clock the test moves (follows the sandbox clock when told to).
#[derive(Clone)]
pub struct TestClock(pub Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(t)))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
    pub fn clock(&self) -> Clock {
        let c = self.0.clone();
        Arc::new(move || *c.lock().unwrap())
    }
}

pub struct Env {
    pub sb: RunningSandbox,
    pub client: ZoomClient,
    pub records: Records,
    pub queue: Arc<MemoryQueue>,
    pub clock: TestClock,
    pub engine: SyncEngine,
}

pub async fn env(spec: TenantSpec, test: &str) -> Env {
    let sb = sandbox(spec).await;
    let records = store(test).await;
    env_on(sb, records)
}

pub fn env_on(sb: RunningSandbox, records: Records) -> Env {
    let client = zoom_client(&sb);
    let queue = Arc::new(MemoryQueue::new());
    let clock = TestClock::at(sb.state.clock.now());
    let engine = SyncEngine {
        records: records.clone(),
        clients: Arc::new(FixedClientFactory(client.clone())),
        queue: queue.clone(),
        clock: clock.clock(),
        options: EngineOptions::default(),
    };
    Env {
        sb,
        client,
        records,
        queue,
        clock,
        engine,
    }
}

/// The combination's settings; the inactivity threshold differs per combination (15, 30, 60,
/// 120 days) so the bands and candidates are exercised at several thresholds.
/// Drains the memory queue the way the SQS event source would: batches of up to 10 messages
/// as SQS events through the task's handler. Returns how many messages ran.
pub async fn drain(env: &Env, task: sync_engine::Task) -> usize {
    let mut n = 0;
    loop {
        let batch = env.queue.receive(10);
        if batch.is_empty() {
            return n;
        }
        let records: Vec<serde_json::Value> = batch
            .iter()
            .enumerate()
            .map(|(i, u)| {
                serde_json::json!({
                    "messageId": format!("m-{n}-{i}"),
                    "body": serde_json::to_string(u).unwrap(),
                    "eventSource": "aws:sqs",
                })
            })
            .collect();
        n += batch.len();
        let out = env
            .engine
            .handle_event(task, serde_json::json!({ "Records": records }), None)
            .await
            .expect("sqs batch");
        assert_eq!(
            out["batchItemFailures"].as_array().map(Vec::len),
            Some(0),
            "{task}: {out}"
        );
    }
}

pub fn settings(free: bool, on_prem: bool) -> ConnectionSettings {
    ConnectionSettings {
        include_free_users: free,
        include_on_premises: on_prem,
        inactivity_threshold_days: match (free, on_prem) {
            (false, false) => 15,
            (true, false) => 30,
            (false, true) => 60,
            (true, true) => 120,
        },
    }
}

pub const COMBOS: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

pub fn connection_id(free: bool, on_prem: bool) -> String {
    format!("conn-free{}-onprem{}", u8::from(free), u8::from(on_prem))
}

pub async fn connect(records: &Records, truth: &TenantTruth, cid: &str, s: ConnectionSettings) {
    let c = ConnectionRecord::new(cid, &truth.master_account_id, ZoomRegion::Na, s, Utc::now());
    records
        .insert_connection(&c)
        .await
        .expect("insert connection");
}

pub fn truth(sb: &RunningSandbox) -> TenantTruth {
    sb.state.tenant.truth(false)
}

/// The accounts of the master's tree (the stand-alone account is not part of it).
pub fn tree(truth: &TenantTruth) -> Vec<&zoom_sandbox::truth::AccountTruth> {
    truth
        .accounts
        .iter()
        .filter(|a| a.id != truth.standalone_account_id)
        .collect()
}

pub async fn views(records: &Records, cid: &str, account: &str) -> BTreeMap<String, UserView> {
    records
        .list_users(cid, account)
        .map_ok(|v| (v.roster.key(), v))
        .try_collect()
        .await
        .expect("list users")
}

/// Every stored roster, access, license and candidate field equals the ground truth.
pub async fn assert_matches_truth(
    records: &Records,
    truth: &TenantTruth,
    cid: &str,
    s: &ConnectionSettings,
    now: DateTime<Utc>,
) -> Stats {
    let mut stats = Stats::default();
    let ds = domain_settings(s);
    let accounts: BTreeSet<String> = records
        .list_accounts(cid)
        .try_filter(|a| std::future::ready(a.removed_at.is_none()))
        .map_ok(|a| a.account_id)
        .try_collect()
        .await
        .unwrap();
    let expected: BTreeSet<String> = tree(truth).iter().map(|a| a.id.clone()).collect();
    assert_eq!(accounts, expected, "{cid}: accounts");
    for a in tree(truth) {
        let users = a.users.as_ref().expect("truth with users");
        let stored = views(records, cid, &a.id).await;
        let live: BTreeMap<&String, &UserView> = stored
            .iter()
            .filter(|(_, v)| v.roster.removed_at.is_none())
            .collect();
        let mut expected_keys = BTreeSet::new();
        let mut bands: BTreeMap<String, ActivityBands> = BTreeMap::new();
        let mut tallies: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
        let mut candidates = BTreeSet::new();
        for u in users {
            let kind = LicenseKind::from_user_type(u.user_type);
            if !kind.is_tracked(&ds) {
                continue;
            }
            let key = user_key(u.id.as_deref(), &u.email);
            expected_keys.insert(key.clone());
            let ctx = format!("{cid}: account {} user {key}", a.id);
            let v = live
                .get(&key)
                .unwrap_or_else(|| panic!("{ctx}: not stored"));
            let r = &v.roster;
            assert_eq!(r.user_id, u.id, "{ctx}: id");
            assert_eq!(r.email, u.email, "{ctx}: email");
            assert_eq!(
                r.first_name.as_deref().unwrap_or(""),
                u.first_name,
                "{ctx}: first name"
            );
            assert_eq!(
                r.last_name.as_deref().unwrap_or(""),
                u.last_name,
                "{ctx}: last name"
            );
            assert_eq!(r.user_type, u.user_type, "{ctx}: type");
            let status = serde_json::to_value(u.status).unwrap();
            assert_eq!(r.status, status.as_str().unwrap(), "{ctx}: status");
            assert_eq!(
                r.role_id.as_deref(),
                Some(u.role_id.as_str()),
                "{ctx}: role"
            );
            assert_eq!(r.account_id, a.id, "{ctx}: account");
            assert_eq!(r.active_date, Some(u.user_created_at), "{ctx}: active date");
            assert_eq!(
                r.license_name.as_deref(),
                Some(u.license.as_str()),
                "{ctx}: license"
            );
            let access = v.access.clone();
            let dates = ActivityDates {
                last_login: access.as_ref().and_then(|x| x.last_login),
                last_meeting_created: access.as_ref().and_then(|x| x.last_meeting_created),
                last_meeting_joined: access.as_ref().and_then(|x| x.last_meeting_joined),
            };
            assert_eq!(dates.last_login, u.last_login_time, "{ctx}: last login");
            stats.users += 1;
            stats.logins += u64::from(dates.last_login.is_some());
            stats.created += u64::from(dates.last_meeting_created.is_some());
            stats.joined += u64::from(dates.last_meeting_joined.is_some());
            stats.on_prem += u64::from(kind == LicenseKind::OnPrem);
            stats.free += u64::from(kind.is_free());
            assert_eq!(
                dates.last_meeting_created, u.latest_meeting_created,
                "{ctx}: latest meeting created"
            );
            assert_eq!(
                dates.last_meeting_joined, u.latest_meeting_joined,
                "{ctx}: latest meeting joined"
            );
            let license_id = kind.unique_id(&a.id);
            let t = tallies.entry(license_id.clone()).or_default();
            let status = status.as_str().unwrap().to_owned();
            if status != "pending" {
                t.0 += 1;
            }
            t.1 += u64::from(status == "active");
            t.2 += u64::from(status == "inactive");
            if status == "active" {
                let truth_dates = ActivityDates {
                    last_login: u.last_login_time,
                    last_meeting_created: u.latest_meeting_created,
                    last_meeting_joined: u.latest_meeting_joined,
                };
                bands.entry(license_id).or_default().add(
                    &truth_dates,
                    Some(u.user_created_at),
                    ds.inactivity_threshold,
                    now,
                );
                if truth_dates.is_inactive(Some(u.user_created_at), ds.inactivity_threshold, now) {
                    candidates.insert(key.clone());
                }
            }
        }
        let live_keys: BTreeSet<String> = live.keys().map(|k| (*k).clone()).collect();
        assert_eq!(
            live_keys, expected_keys,
            "{cid}: account {} roster keys",
            a.id
        );

        // Licenses: Licensed always; other kinds when tracked and held.
        tallies
            .entry(LicenseKind::Licensed.unique_id(&a.id))
            .or_default();
        let licenses: BTreeMap<String, aws_adapters::LicenseRecord> = records
            .list_account_licenses(cid, &a.id)
            .map_ok(|l| (l.license_id.clone(), l))
            .try_collect()
            .await
            .unwrap();
        let ids: BTreeSet<&String> = licenses.keys().collect();
        let want: BTreeSet<&String> = tallies.keys().collect();
        assert_eq!(ids, want, "{cid}: account {} license ids", a.id);
        for (id, (assigned, active, inactive)) in &tallies {
            let l = &licenses[id];
            let ctx = format!("{cid}: license {id}");
            let kind = [
                LicenseKind::Basic,
                LicenseKind::Licensed,
                LicenseKind::OnPrem,
                LicenseKind::NoMeetingsBasic,
                LicenseKind::Other,
            ]
            .into_iter()
            .find(|k| &k.unique_id(&a.id) == id)
            .unwrap();
            let name = match kind {
                LicenseKind::Licensed => a.plan.clone(),
                _ => kind.license_name(&a.plan),
            };
            assert_eq!(l.name, name, "{ctx}: name");
            let provisioned = match kind.provisioned(u64::from(a.seats), &ds) {
                sync_domain::Provisioned::Count(n) => Provisioned::Count(n),
                sync_domain::Provisioned::Unlimited => Provisioned::Unlimited,
            };
            assert_eq!(l.provisioned, provisioned, "{ctx}: provisioned");
            assert_eq!(
                (l.assigned, l.active, l.inactive),
                (*assigned, *active, *inactive),
                "{ctx}: assigned/active/inactive"
            );
            if kind == LicenseKind::Licensed && a.counts.licensed > 0 {
                // Cross-check with the truth's own counts (plan usage = licensed, not pending).
                let expect_assigned = u64::from(a.counts.plan_usage);
                assert_eq!(l.assigned, expect_assigned, "{ctx}: assigned vs plan usage");
            }
            let b = bands.get(id).copied().unwrap_or_default();
            let act = l
                .activity
                .as_ref()
                .unwrap_or_else(|| panic!("{ctx}: no activity"));
            assert_eq!(
                (
                    act.active_30_days,
                    act.active_60_days,
                    act.active_90_days,
                    act.inactive_beyond_threshold
                ),
                (
                    b.active_30_days,
                    b.active_60_days,
                    b.active_90_days,
                    b.inactive
                ),
                "{ctx}: activity bands"
            );
        }
        let stored_candidates: BTreeSet<String> = records
            .list_account_candidates(cid, &a.id)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.user_key)
            .collect();
        assert_eq!(
            stored_candidates, candidates,
            "{cid}: account {} candidates",
            a.id
        );
        stats.candidates += candidates.len() as u64;
    }
    stats
}

/// What a comparison covered (so tests can show they compared something real).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub users: u64,
    pub logins: u64,
    pub created: u64,
    pub joined: u64,
    pub on_prem: u64,
    pub free: u64,
    pub candidates: u64,
}
