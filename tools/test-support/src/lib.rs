//! The integration tests' harness (`sync-engine`, `license-admin` and `lambda-wiring` tests):
//! an in-process sandbox, a Zoom client on it, a store (moto when
//! `ZTS_AWS_ENDPOINT_URL` is set, else the in-memory fake of the same semantics), the engine and
//! its runs, and the comparison of stored records with the sandbox's ground truth.
//!
//! The Zoom configuration, grants and clients on a sandbox ([`sandbox_config`],
//! [`sandbox_tokens`], [`client_on`]) are also those of reclamation's sandbox test and of the
//! benchmarks (`tools/bench`), which pace and retry differently.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_adapters::{AwsClients, AwsConfig, Records, create_table_if_missing};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use ports::{
    AccountStore, CandidateStore, ConnectionRecord, ConnectionSettings, ConnectionStore,
    LicenseRecord, LicenseStore, Provisioned, ReclamationCandidate, SyncRunRecord, SyncRunStore,
    UserStore, UserView, ZoomRegion,
};
use rand::RngExt;
use sync_engine::{
    ClientFactory, Clock, DirectInvoke, DirectReport, EngineOptions, FixedClientFactory,
    MemoryQueue, QueuedMessage, SyncEngine, Task,
};
use zoom::{
    ConfigError, MemoryTokenSource, OAuthApp, OAuthClient, RateProfile, Region, RetryPolicy,
    Secret, TokenSet, ZoomClient, ZoomConfig,
};
use zoom_sandbox::oauth::TokenResponse;
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

/// The tenants' anchor (the generated data's "today"), fixed so that the data and every
/// inactivity verdict are the same on every run: 2026-06-01T00:00:00Z.
pub fn anchor() -> DateTime<Utc> {
    zoom_sandbox::tenant::fixed_anchor()
}

/// How long after its tenant's anchor a test's "now" is: noon of the next day (the anchor
/// used to be "yesterday midnight" with the clocks at real time), 12 hours from a UTC
/// midnight (where the sandbox's daily caps reset).
pub const NOW_AFTER_ANCHOR_HOURS: i64 = 36;

/// Pins the sandbox clock (real time plus an offset) to the tenant's anchor +
/// [`NOW_AFTER_ANCHOR_HOURS`] and returns that time for the engine's clock. The offset has
/// whole seconds: the sandbox is then less than a second after the returned time (plus the
/// time the test has taken since), never before it.
pub fn pin_clock(sb: &RunningSandbox) -> DateTime<Utc> {
    let target = sb.state.tenant.anchor() + chrono::Duration::hours(NOW_AFTER_ANCHOR_HOURS);
    let gap = target - sb.state.clock.now();
    // Whole seconds, rounded up (`num_seconds` truncates toward zero).
    let secs = gap.num_seconds() + i64::from(gap.subsec_nanos() > 0);
    sb.state.clock.advance(secs);
    target
}

/// A Zoom configuration for the sandbox at `base_url`: the NA region with the OAuth app every
/// sandbox registers (`SandboxConfig::demo`), OAuth at the sandbox, requests given up after
/// `timeout`.
pub fn sandbox_config(base_url: &str, timeout: Duration) -> Result<ZoomConfig, ConfigError> {
    ZoomConfig::builder()
        .region(Region::Na)
        .app(
            Region::Na,
            OAuthApp::new(
                "sandbox-client-id",
                Secret::new("sandbox-client-secret"),
                "http://localhost:9000/oauth/callback",
            ),
        )
        .oauth_base(base_url)
        .request_timeout(timeout)
        .build()
}

/// The tokens of a sandbox grant as a client holds them (expiring `expires_in` seconds from
/// now), the API at `api_url`.
pub fn grant_tokens(t: &TokenResponse, api_url: &str) -> TokenSet {
    TokenSet {
        access_token: Secret::new(t.access_token.clone()),
        refresh_token: Secret::new(t.refresh_token.clone().expect("refresh token")),
        expires_at: Utc::now() + chrono::Duration::seconds(t.expires_in as i64),
        scope: t.scope.clone(),
        api_url: Some(api_url.to_owned()),
    }
}

/// A test grant of the sandbox's master account with `scopes` (every scope of the app when
/// empty), as a client's tokens.
pub fn sandbox_tokens(sb: &RunningSandbox, scopes: &[&str]) -> TokenSet {
    grant_tokens(&sb.state.issue_token_for_tests(scopes), &sb.base_url())
}

/// A Zoom client holding `tokens` in memory (refreshed through `config`'s OAuth), pacing itself
/// by `profile`, retrying by `retry` and spending the budget of `budget_key`: the one wiring of
/// the tests' and the benchmarks' clients.
pub fn client_on(
    config: ZoomConfig,
    tokens: TokenSet,
    profile: RateProfile,
    retry: RetryPolicy,
    budget_key: &str,
) -> Result<ZoomClient, ConfigError> {
    let oauth = OAuthClient::new(&config)?;
    let source = Arc::new(MemoryTokenSource::new(tokens, Arc::new(oauth)));
    ZoomClient::builder(config, source)
        .rate_profile(profile)
        .retry_policy(retry)
        .budget_key(budget_key)
        .build()
}

/// A client on the sandbox with the master's grant of every scope.
pub fn zoom_client(sb: &RunningSandbox) -> ZoomClient {
    client_with_scopes(sb, &[])
}

/// A client on the sandbox with the master's grant of `scopes` only.
pub fn client_with_scopes(sb: &RunningSandbox, scopes: &[&str]) -> ZoomClient {
    client_with_tokens(sb, sandbox_tokens(sb, scopes))
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

/// A client on the sandbox holding `tokens`: no pacing of its own (the sandbox's limits
/// answer), quick retries, the budget of "master".
pub fn client_with_tokens(sb: &RunningSandbox, tokens: TokenSet) -> ZoomClient {
    let config = sandbox_config(&sb.base_url(), Duration::from_secs(5)).expect("config");
    client_on(
        config,
        tokens,
        RateProfile::unlimited(),
        RetryPolicy {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(100),
            max_attempts: 12,
            default_budget: Duration::from_secs(120),
        },
        "master",
    )
    .expect("client")
}

/// The AWS clients on moto when `ZTS_AWS_ENDPOINT_URL` is set (a local endpoint only). `None`
/// when it is not, which fails the test `test` if `ZTS_REQUIRE_AWS` is set (`make test`).
pub async fn moto_clients(test: &str) -> Option<AwsClients> {
    let config = AwsConfig::from_env();
    let Some(endpoint) = config.endpoint_url.clone() else {
        let required = std::env::var("ZTS_REQUIRE_AWS").is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "{test}: ZTS_REQUIRE_AWS is set but ZTS_AWS_ENDPOINT_URL is not"
        );
        return None;
    };
    assert!(
        endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost"),
        "tests only run against a local endpoint"
    );
    Some(AwsClients::new(&config).await)
}

/// A store: moto when configured (required under `make test`), else memory.
pub async fn store(test: &str) -> Records {
    let Some(clients) = moto_clients(test).await else {
        return Records::in_memory();
    };
    let n: u64 = rand::rng().random();
    let table = format!("zts-sync-{n:016x}");
    create_table_if_missing(&clients.dynamodb, &table)
        .await
        .expect("create table in moto");
    Records::dynamo(clients.dynamodb, table)
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

/// The engine on `sb` and `records`. Pins the sandbox clock first ([`pin_clock`]): the
/// engine's clock starts at exactly the pinned time, the sandbox's just after it.
pub fn env_on(sb: RunningSandbox, records: Records) -> Env {
    let now = pin_clock(&sb);
    let client = zoom_client(&sb);
    let queue = Arc::new(MemoryQueue::new());
    let clock = TestClock::at(now);
    let engine = engine(
        &records,
        Arc::new(FixedClientFactory(client.clone())),
        queue.clone(),
        clock.clock(),
    );
    Env {
        sb,
        client,
        records,
        queue,
        clock,
        engine,
    }
}

/// An engine with the default options on `records`, taking its clients from `clients` and
/// sending follow-up units to `queue`.
pub fn engine(
    records: &Records,
    clients: Arc<dyn ClientFactory>,
    queue: Arc<MemoryQueue>,
    clock: Clock,
) -> SyncEngine {
    SyncEngine {
        store: Arc::new(records.clone()),
        clients,
        queue,
        clock,
        options: EngineOptions::default(),
    }
}

/// A direct invocation of a task for every account of connection `cid`, in the mode the task
/// chooses.
pub fn direct(cid: &str) -> DirectInvoke {
    DirectInvoke {
        connection_id: cid.to_owned(),
        account_id: None,
        mode: None,
    }
}

/// Runs `task` as `invoke` asks, expecting the run and every account's unit to succeed.
pub async fn run_direct(engine: &SyncEngine, task: Task, invoke: &DirectInvoke) -> DirectReport {
    let report = engine
        .run_direct(task, invoke, None)
        .await
        .expect("direct run");
    assert!(report.failed.is_empty(), "{task}: {:?}", report.failed);
    report
}

/// Runs the four tasks in their scheduled order ([`Task::ALL`]) as `invoke` asks, expecting
/// every unit to succeed.
pub async fn run_every_task(engine: &SyncEngine, invoke: &DirectInvoke) {
    for task in Task::ALL {
        run_direct(engine, task, invoke).await;
    }
}

/// Runs `task` for every account of connection `cid` ([`direct`]), expecting success.
pub async fn run_connection(engine: &SyncEngine, task: Task, cid: &str) -> DirectReport {
    run_direct(engine, task, &direct(cid)).await
}

/// The latest `limit` run records of `task` for connection `cid`.
pub async fn task_runs(
    records: &Records,
    cid: &str,
    task: Task,
    limit: usize,
) -> Vec<SyncRunRecord> {
    records
        .recent_runs(cid, task.as_str(), limit)
        .await
        .expect("recent runs")
}

/// Drains the memory queue the way the SQS event source would: batches of up to 10 messages
/// through the engine's batch entry point. Returns how many messages ran.
pub async fn drain(env: &Env, task: sync_engine::Task) -> usize {
    let mut n = 0;
    loop {
        let batch = env.queue.receive(10);
        if batch.is_empty() {
            return n;
        }
        let messages: Vec<QueuedMessage> = batch
            .iter()
            .enumerate()
            .map(|(i, u)| QueuedMessage {
                id: format!("m-{n}-{i}"),
                body: serde_json::to_string(u).unwrap(),
            })
            .collect();
        n += batch.len();
        let redeliver = env.engine.run_messages(task, messages, None).await;
        assert!(redeliver.is_empty(), "{task}: {redeliver:?}");
    }
}

/// The combination's settings; the inactivity threshold differs per combination (15, 30, 60,
/// 120 days) so the bands and candidates are exercised at several thresholds.
pub fn settings(free: bool, on_prem: bool) -> ConnectionSettings {
    let days: u16 = match (free, on_prem) {
        (false, false) => 15,
        (true, false) => 30,
        (false, true) => 60,
        (true, true) => 120,
    };
    ConnectionSettings {
        include_free_users: free.into(),
        include_on_premises: on_prem.into(),
        inactivity_threshold: days.try_into().expect("an offered threshold"),
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
    oracle::tree_accounts(truth).collect()
}

pub async fn views(records: &Records, cid: &str, account: &str) -> BTreeMap<String, UserView> {
    records
        .list_users(cid, account)
        .map_ok(|v| (v.roster.key(), v))
        .try_collect()
        .await
        .expect("list users")
}

/// Everything the tasks stored for connection `cid` in `accounts`, comparable across stores and
/// runs: per account the user views, the license records and the candidates (each shown by
/// `candidate`).
pub async fn stored_records(
    records: &Records,
    cid: &str,
    accounts: &[String],
    candidate: impl Fn(&ReclamationCandidate) -> String,
) -> String {
    let mut out = BTreeMap::new();
    for a in accounts {
        let users: Vec<String> = views(records, cid, a)
            .await
            .values()
            .map(|v| format!("{v:?}"))
            .collect();
        let licenses: Vec<LicenseRecord> = records
            .list_account_licenses(cid, a)
            .try_collect()
            .await
            .unwrap();
        let candidates: Vec<String> = records
            .list_account_candidates(cid, a)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .iter()
            .map(&candidate)
            .collect();
        out.insert(
            a.clone(),
            format!("{users:?}\n{licenses:?}\n{candidates:?}"),
        );
    }
    format!("{out:#?}")
}

/// The oracle's copy of a connection's settings.
pub fn oracle_settings(s: &ConnectionSettings) -> oracle::Settings {
    oracle::Settings {
        include_free_users: s.include_free_users.is_yes(),
        include_on_premises: s.include_on_premises.is_yes(),
        threshold_days: u32::from(s.inactivity_threshold.days()),
    }
}

/// Every stored roster, access, license and candidate field equals what the oracle
/// (`tools/oracle`: the documented rules written out again, sharing no code with the tasks)
/// expects from the sandbox's ground truth at `now`. Every difference is collected (naming
/// the connection, account, user or license, and field), then the function panics with them
/// all.
pub async fn assert_matches_truth(
    records: &Records,
    truth: &TenantTruth,
    cid: &str,
    s: &ConnectionSettings,
    now: DateTime<Utc>,
) -> Stats {
    let os = oracle_settings(s);
    let mut stats = Stats::default();
    let mut m = Mismatches::new(cid);
    let accounts: BTreeSet<String> = records
        .list_accounts(cid)
        .try_filter(|a| std::future::ready(a.removed_at.is_none()))
        .map_ok(|a| a.account_id)
        .try_collect()
        .await
        .unwrap();
    let expected: BTreeSet<String> = oracle::tree_accounts(truth).map(|a| a.id.clone()).collect();
    for a in accounts.difference(&expected) {
        m.note(
            &format!("account {a}"),
            "stored but not in the master's tree",
        );
    }
    for a in expected.difference(&accounts) {
        m.note(&format!("account {a}"), "not stored");
    }
    for e in oracle::expect_tenant(truth, &os, now) {
        let aid = &e.account.id;
        let stored = views(records, cid, aid).await;
        let live: BTreeMap<&String, &UserView> = stored
            .iter()
            .filter(|(_, v)| v.roster.removed_at.is_none())
            .collect();
        for (key, v) in &live {
            if !e.users.contains_key(*key) {
                m.note(
                    &format!("account {aid} user {key} <{}>", v.roster.email),
                    format!(
                        "stored (type {}, status {}) but not a tracked user of the truth",
                        v.roster.user_type, v.roster.status
                    ),
                );
            }
        }
        for (key, u) in &e.users {
            let t = u.truth;
            let ctx = format!("account {aid} user {key} <{}>", t.email);
            let Some(v) = live.get(key) else {
                m.note(&ctx, "not stored (or marked removed)");
                continue;
            };
            let r = &v.roster;
            m.field(&ctx, "user id", &r.user_id, &t.id);
            m.field(&ctx, "email", &r.email, &t.email);
            m.field(
                &ctx,
                "first name",
                r.first_name.as_deref().unwrap_or(""),
                t.first_name.as_str(),
            );
            m.field(
                &ctx,
                "last name",
                r.last_name.as_deref().unwrap_or(""),
                t.last_name.as_str(),
            );
            m.field(&ctx, "type", r.user_type, t.user_type);
            m.field(&ctx, "status", r.status.as_str(), t.status.as_str());
            m.field(
                &ctx,
                "role id",
                r.role_id.as_deref(),
                Some(t.role_id.as_str()),
            );
            m.field(&ctx, "account id", &r.account_id, aid);
            m.field(&ctx, "active date", r.active_date, Some(t.user_created_at));
            m.field(
                &ctx,
                "license name",
                r.license_name.as_deref(),
                Some(u.license_name.as_str()),
            );
            // The sandbox's own licence name must follow the same documented rule.
            m.field(
                &ctx,
                "truth's license name (sandbox)",
                t.license.as_str(),
                u.license_name.as_str(),
            );
            let access = v.access.as_ref();
            let login = access.and_then(|x| x.dates.last_login);
            let created = access.and_then(|x| x.dates.last_meeting_created);
            let joined = access.and_then(|x| x.dates.last_meeting_joined);
            m.field(&ctx, "last login", login, t.last_login_time);
            m.field(
                &ctx,
                "latest meeting created",
                created,
                t.latest_meeting_created,
            );
            m.field(
                &ctx,
                "latest meeting joined",
                joined,
                t.latest_meeting_joined,
            );
            stats.users += 1;
            stats.logins += u64::from(login.is_some());
            stats.created += u64::from(created.is_some());
            stats.joined += u64::from(joined.is_some());
            stats.on_prem += u64::from(u.kind == oracle::Kind::OnPrem);
            stats.free += u64::from(u.kind.is_free());
        }

        let licenses: BTreeMap<String, ports::LicenseRecord> = records
            .list_account_licenses(cid, aid)
            .map_ok(|l| (l.license_id.clone(), l))
            .try_collect()
            .await
            .unwrap();
        for id in licenses.keys() {
            if !e.licenses.contains_key(id) {
                m.note(
                    &format!("account {aid} license {id}"),
                    "stored but not expected",
                );
            }
        }
        for (id, x) in &e.licenses {
            let ctx = format!("account {aid} license {id}");
            let Some(l) = licenses.get(id) else {
                m.note(&ctx, "not stored");
                continue;
            };
            m.field(&ctx, "name", &l.name, &x.name);
            let provisioned = match x.provisioned {
                oracle::Seats::Count(n) => Provisioned::Count(n),
                oracle::Seats::Unlimited => Provisioned::Unlimited,
            };
            m.field(&ctx, "provisioned", l.provisioned, provisioned);
            m.field(&ctx, "assigned", l.assigned, x.assigned);
            m.field(&ctx, "active", l.active, x.active);
            m.field(&ctx, "inactive (deactivated)", l.inactive, x.inactive);
            match x.zoom_assigned {
                oracle::ZoomAssigned::Reported(n) => {
                    m.field(&ctx, "zoom_assigned", l.zoom_assigned, Some(n));
                    m.field(
                        &ctx,
                        "zoom_assigned_note",
                        l.zoom_assigned_note.as_deref(),
                        None,
                    );
                    // A paying account's seats equal Zoom's plan usage in the truth.
                    m.field(&ctx, "assigned vs the truth's plan usage", l.assigned, n);
                }
                oracle::ZoomAssigned::Missing => {
                    m.field(&ctx, "zoom_assigned (self-pay)", l.zoom_assigned, None);
                    m.field(
                        &ctx,
                        "zoom_assigned_note present (self-pay)",
                        l.zoom_assigned_note.is_some(),
                        true,
                    );
                }
                oracle::ZoomAssigned::NotReported => {
                    m.field(&ctx, "zoom_assigned (free license)", l.zoom_assigned, None);
                }
                oracle::ZoomAssigned::OnPremSummary(n) => {
                    m.field(
                        &ctx,
                        "zoom_assigned (user summary)",
                        l.zoom_assigned,
                        Some(n),
                    );
                    m.field(
                        &ctx,
                        "zoom_assigned_note present (On-Prem figures differ)",
                        l.zoom_assigned_note.is_some(),
                        n != x.assigned,
                    );
                }
            }
            let Some(act) = l.activity.as_ref() else {
                m.note(&ctx, "no activity figures (License Differentiation)");
                continue;
            };
            m.field(&ctx, "threshold days", act.threshold_days, x.threshold_days);
            m.field(
                &ctx,
                "active within 30 days",
                act.active_30_days,
                x.bands.active_30_days,
            );
            m.field(
                &ctx,
                "active within 60 days",
                act.active_60_days,
                x.bands.active_60_days,
            );
            m.field(
                &ctx,
                "active within 90 days",
                act.active_90_days,
                x.bands.active_90_days,
            );
            m.field(
                &ctx,
                "inactive beyond threshold",
                act.inactive_beyond_threshold,
                x.bands.inactive_beyond_threshold,
            );
        }

        let candidates: BTreeMap<String, ports::ReclamationCandidate> = records
            .list_account_candidates(cid, aid)
            .map_ok(|c| (c.user_key.clone(), c))
            .try_collect()
            .await
            .unwrap();
        for (key, c) in &candidates {
            if !e.candidates.contains(key) {
                let why = match e.users.get(key) {
                    Some(u) => format!(
                        "stored as a candidate, expected none (status {}, {} whole days \
                         inactive, threshold {})",
                        u.truth.status.as_str(),
                        u.days_inactive,
                        os.threshold_days
                    ),
                    None => "stored as a candidate but not a tracked user".to_owned(),
                };
                m.note(&format!("account {aid} user {key} <{}>", c.email), why);
            }
        }
        for key in &e.candidates {
            let u = &e.users[key];
            let t = u.truth;
            let ctx = format!("account {aid} user {key} <{}>", t.email);
            let Some(c) = candidates.get(key) else {
                m.note(
                    &ctx,
                    format!(
                        "not stored as a candidate ({} whole days inactive, threshold {})",
                        u.days_inactive, os.threshold_days
                    ),
                );
                continue;
            };
            m.field(&ctx, "candidate account id", &c.account_id, aid);
            m.field(&ctx, "candidate user id", &c.user_id, &t.id);
            m.field(&ctx, "candidate email", &c.email, &t.email);
            m.field(&ctx, "candidate type", c.user_type, t.user_type);
            m.field(&ctx, "candidate license id", &c.license_id, &u.license_id);
            m.field(
                &ctx,
                "candidate license name",
                &c.license_name,
                &u.license_name,
            );
            m.field(
                &ctx,
                "candidate last login",
                c.last_login,
                t.last_login_time,
            );
            m.field(
                &ctx,
                "candidate last meeting created",
                c.last_meeting_created,
                t.latest_meeting_created,
            );
            m.field(
                &ctx,
                "candidate last meeting joined",
                c.last_meeting_joined,
                t.latest_meeting_joined,
            );
            m.field(
                &ctx,
                "candidate last activity",
                c.last_activity,
                u.last_activity,
            );
            m.field(
                &ctx,
                "candidate days inactive",
                c.days_inactive,
                u.days_inactive,
            );
            m.field(
                &ctx,
                "candidate threshold days",
                u32::from(c.threshold_days),
                os.threshold_days,
            );
        }
        stats.candidates += e.candidates.len() as u64;
    }
    m.finish();
    stats
}

/// The differences found by [`assert_matches_truth`], each naming the connection, the account,
/// the user or license, and the field.
struct Mismatches {
    cid: String,
    found: Vec<String>,
}

impl Mismatches {
    /// At most this many are printed (all are counted).
    const SHOWN: usize = 60;

    fn new(cid: &str) -> Self {
        Self {
            cid: cid.to_owned(),
            found: Vec::new(),
        }
    }

    fn field<T: PartialEq + std::fmt::Debug>(
        &mut self,
        ctx: &str,
        field: &str,
        stored: T,
        expected: T,
    ) {
        if stored != expected {
            self.found.push(format!(
                "{}: {ctx}: {field}: stored {stored:?}, expected {expected:?}",
                self.cid
            ));
        }
    }

    fn note(&mut self, ctx: &str, what: impl std::fmt::Display) {
        self.found.push(format!("{}: {ctx}: {what}", self.cid));
    }

    /// Panics listing the differences, if any.
    fn finish(self) {
        if self.found.is_empty() {
            return;
        }
        let n = self.found.len();
        let mut by_field: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &self.found {
            // "{cid}: {ctx}: {field}: …": the third part names the field (or what is wrong).
            let field = f.split(": ").nth(2).unwrap_or("?");
            *by_field.entry(field).or_default() += 1;
        }
        let shown: Vec<&str> = self
            .found
            .iter()
            .take(Self::SHOWN)
            .map(String::as_str)
            .collect();
        let more = if n > Self::SHOWN {
            format!("\n  … and {} more", n - Self::SHOWN)
        } else {
            String::new()
        };
        panic!(
            "{}: {n} difference(s) from the oracle's expectations (by field: {by_field:?}):\n  {}{more}",
            self.cid,
            shown.join("\n  ")
        );
    }
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
