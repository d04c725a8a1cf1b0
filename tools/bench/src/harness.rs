//! Wiring shared by the figures: Zoom clients on a sandbox (one per task with the task's share
//! of the profile, as the production factory builds them), the engine on a metered store, and
//! running the tasks the way the schedules fire them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use aws_adapters::Records;
use aws_adapters::backend::MemoryTable;
use chrono::{DateTime, Utc};
use ports::{ConnectionRecord, ConnectionSettings, ConnectionStore, ZoomRegion};
use serde::{Deserialize, Serialize};
use sync_domain::{InactivityThreshold, YesNo};
use sync_engine::{
    ClientFactory, Clock, DirectInvoke, EngineOptions, MemoryQueue, SyncEngine, SyncError, Task,
};
use zoom::{
    MemoryTokenSource, OAuthApp, OAuthClient, RateProfile, Region, RetryPolicy, Secret, TokenSet,
    ZoomClient, ZoomConfig,
};

use crate::metered::MeteredTable;

pub const CONNECTION: &str = "conn-bench";

/// Tokens a child process gets from the parent (which runs the sandbox).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    pub base_url: String,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub scope: String,
    pub master_account_id: String,
}

impl Grant {
    pub fn issue(sb: &zoom_sandbox::RunningSandbox) -> Self {
        let t = sb.state.issue_token_for_tests(&[]);
        Self {
            base_url: sb.base_url(),
            access_token: t.access_token,
            refresh_token: t.refresh_token.unwrap_or_default(),
            expires_in: t.expires_in,
            scope: t.scope,
            master_account_id: sb.state.tenant.master_account_id().to_owned(),
        }
    }
}

/// One client per task over the whole profile, starting at the task's weight; the engine sets
/// its share of the connection's budget while a unit runs (the production `VaultClientFactory`
/// does the same with tokens from the vault).
pub struct ShareFactory {
    grant: Grant,
    profile: RateProfile,
    cache: Mutex<HashMap<Task, ZoomClient>>,
}

impl ShareFactory {
    pub fn new(grant: Grant, profile: RateProfile) -> Self {
        Self {
            grant,
            profile,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Every client built so far (for their metrics).
    pub fn clients(&self) -> Vec<(Task, ZoomClient)> {
        self.cache
            .lock()
            .map(|m| m.iter().map(|(t, c)| (*t, c.clone())).collect())
            .unwrap_or_default()
    }

    fn build(&self, profile: RateProfile) -> Result<ZoomClient, SyncError> {
        let g = &self.grant;
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
            .oauth_base(g.base_url.clone())
            .request_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| SyncError::Client(e.to_string()))?;
        let oauth = OAuthClient::new(&config).map_err(|e| SyncError::Client(e.to_string()))?;
        let tokens = TokenSet {
            access_token: Secret::new(g.access_token.clone()),
            refresh_token: Secret::new(g.refresh_token.clone()),
            expires_at: Utc::now() + chrono::Duration::seconds(g.expires_in as i64),
            scope: g.scope.clone(),
            api_url: Some(g.base_url.clone()),
        };
        let source = Arc::new(MemoryTokenSource::new(tokens, Arc::new(oauth)));
        ZoomClient::builder(config, source)
            .rate_profile(profile)
            .retry_policy(RetryPolicy::default())
            .budget_key(CONNECTION)
            .build()
            .map_err(|e| SyncError::Client(e.to_string()))
    }
}

#[async_trait]
impl ClientFactory for ShareFactory {
    async fn client(&self, _: &ConnectionRecord, task: Task) -> Result<ZoomClient, SyncError> {
        if let Some(c) = self.cache.lock().ok().and_then(|m| m.get(&task).cloned()) {
            return Ok(c);
        }
        let client = self.build(self.profile)?;
        client.rate_limiter().set_share(task.budget_weight());
        if let Ok(mut m) = self.cache.lock() {
            m.insert(task, client.clone());
        }
        Ok(client)
    }
}

/// The engine's clock, moved by the benchmark (the sandbox clock's "now").
#[derive(Clone)]
pub struct BenchClock(pub Arc<Mutex<DateTime<Utc>>>);

impl BenchClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(t)))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        if let Ok(mut g) = self.0.lock() {
            *g = t;
        }
    }
    pub fn clock(&self) -> Clock {
        let c = self.0.clone();
        Arc::new(move || c.lock().map(|g| *g).unwrap_or_else(|_| Utc::now()))
    }
}

pub struct Bench {
    pub engine: SyncEngine,
    pub table: Arc<MeteredTable>,
    pub factory: Arc<ShareFactory>,
    pub clock: BenchClock,
}

/// An engine on the in-memory table (metered), with a connection to the grant's master account
/// that tracks every user (free and On-prem included: the most work).
pub async fn bench_engine(
    grant: Grant,
    profile: RateProfile,
    retain_users: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Bench> {
    let table = Arc::new(MeteredTable::new(
        Arc::new(MemoryTable::new()),
        retain_users,
    ));
    let records = Records::new(table.clone());
    let master = grant.master_account_id.clone();
    let factory = Arc::new(ShareFactory::new(grant, profile));
    let clock = BenchClock::at(now);
    let connection = ConnectionRecord::new(
        CONNECTION,
        master,
        ZoomRegion::Na,
        ConnectionSettings {
            include_free_users: YesNo::Yes,
            include_on_premises: YesNo::Yes,
            inactivity_threshold: InactivityThreshold::try_from(30).expect("an offered threshold"),
        },
        now,
    );
    records
        .insert_connection(&connection)
        .await
        .context("insert connection")?;
    let engine = SyncEngine {
        store: Arc::new(records),
        clients: factory.clone(),
        queue: Arc::new(MemoryQueue::new()),
        clock: clock.clock(),
        options: EngineOptions::default(),
    };
    Ok(Bench {
        engine,
        table,
        factory,
        clock,
    })
}

/// How one task's run went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRun {
    pub task: String,
    pub seconds: f64,
    pub units: usize,
    pub failed: usize,
    pub requests: u64,
    pub full: u64,
    pub incremental: u64,
}

/// Runs one task over every account of the connection (direct invoke: the accounts one after
/// the other, as the FIFO group does).
pub async fn run_task(engine: &SyncEngine, task: Task, mode: Option<&str>) -> TaskRun {
    let t = Instant::now();
    let report = engine
        .run_direct(
            task,
            &DirectInvoke {
                connection_id: CONNECTION.into(),
                account_id: None,
                mode: mode.map(str::to_owned),
            },
            None,
        )
        .await;
    let seconds = t.elapsed().as_secs_f64();
    match report {
        Ok(r) => {
            for (account, e) in &r.failed {
                eprintln!("  {task}: account {account} failed: {e}");
            }
            let count = |k: &str| {
                r.units
                    .iter()
                    .map(|u| u.run.counts.get(k).copied().unwrap_or(0))
                    .sum()
            };
            TaskRun {
                task: task.as_str().to_owned(),
                seconds,
                units: r.units.len(),
                failed: r.failed.len(),
                requests: count("requests"),
                full: count("full"),
                incremental: count("incremental"),
            }
        }
        Err(e) => {
            eprintln!("  {task}: {e}");
            TaskRun {
                task: task.as_str().to_owned(),
                seconds,
                units: 0,
                failed: 1,
                requests: 0,
                full: 0,
                incremental: 0,
            }
        }
    }
}

/// The daily sync as scheduled: roster, access and license information side by side (three
/// functions, each with its share of the budget), then license differentiation.
pub async fn daily_sync(engine: &SyncEngine, mode: Option<&str>) -> (Vec<TaskRun>, f64) {
    let t = Instant::now();
    // As scheduled in infra/: the roster first (access writes joins of other accounts' users
    // through the roster's index), then access beside License Information.
    let a = run_task(engine, Task::ApplicationRoster, mode).await;
    let (b, c) = tokio::join!(
        run_task(engine, Task::ApplicationAccess, mode),
        run_task(engine, Task::LicenseInformation, mode),
    );
    let d = run_task(engine, Task::LicenseDifferentiation, mode).await;
    (vec![a, b, c, d], t.elapsed().as_secs_f64())
}

/// Users stored for the connection (a check that the run did its work).
pub async fn stored_users(records: &dyn ports::UserStore, accounts: &[String]) -> u64 {
    use futures::TryStreamExt;
    let mut n = 0;
    for a in accounts {
        n += records
            .list_users(CONNECTION, a)
            .try_fold(0u64, |k, _| async move { Ok(k + 1) })
            .await
            .unwrap_or(0);
    }
    n
}
