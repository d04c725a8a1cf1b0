//! Wiring shared by the figures: Zoom clients on a sandbox (one per task with the task's share
//! of the profile, as the production factory builds them), the engine on a metered store, and
//! running the tasks the way the schedules fire them. The clients, the engine and its clock are
//! built as the integration tests build theirs (`test-support`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use aws_adapters::backend::MemoryTable;
use aws_adapters::{MemoryTokenStore, Records};
use chrono::{DateTime, Utc};
use ports::{
    ConnectionRecord, ConnectionSettings, ConnectionStore, StoredTokens, TokenStore, TokenVault,
    VaultOptions, ZoomRegion,
};
use serde::{Deserialize, Serialize};
use sync_domain::{InactivityThreshold, YesNo};
use sync_engine::{ClientFactory, DirectInvoke, MemoryQueue, SyncEngine, SyncError, Task};
use test_support::TestClock;
use zoom::{ConfigError, OAuthClient, RateProfile, RetryPolicy, ZoomClient, ZoomConfig};
use zoom_sandbox::oauth::TokenResponse;

use crate::metered::MeteredTable;

pub const CONNECTION: &str = "conn-bench";

/// Tokens a child process gets from the parent (which runs the sandbox).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    pub base_url: String,
    /// The sandbox's answer to a test grant of every scope.
    pub tokens: TokenResponse,
    pub master_account_id: String,
}

impl Grant {
    pub fn issue(sb: &zoom_sandbox::RunningSandbox) -> Self {
        Self {
            base_url: sb.base_url(),
            tokens: sb.state.issue_token_for_tests(&[]),
            master_account_id: sb.state.tenant.master_account_id().to_owned(),
        }
    }
}

/// One client per task over the whole profile, starting at the task's weight; the engine sets
/// its share of the connection's budget while a unit runs. Tokens come from the token vault
/// (in-memory secret, leases on the engine's table), as the production `VaultClientFactory`
/// builds them, so that token refreshes cost what they cost there.
pub struct ShareFactory {
    config: ZoomConfig,
    vault: TokenVault,
    profile: RateProfile,
    cache: Mutex<HashMap<Task, ZoomClient>>,
}

impl ShareFactory {
    /// Stores `grant`'s tokens for [`CONNECTION`] in a vault whose leases and connection marks
    /// live in `records`. Requests time out after 30 s (the default).
    pub async fn new(
        grant: Grant,
        profile: RateProfile,
        records: &Records,
    ) -> anyhow::Result<Self> {
        let config = test_support::sandbox_config(&grant.base_url, Duration::from_secs(30))?;
        let tokens = Arc::new(MemoryTokenStore::new());
        tokens
            .write(
                CONNECTION,
                &StoredTokens {
                    tokens: test_support::grant_tokens(&grant.tokens, &grant.base_url),
                    refreshed_at: Utc::now(),
                },
            )
            .await?;
        let vault = TokenVault {
            tokens,
            leases: Arc::new(records.clone()),
            connections: Arc::new(records.clone()),
            refresher: Arc::new(OAuthClient::new(&config)?),
            options: VaultOptions::default(),
        };
        Ok(Self {
            config,
            vault,
            profile,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Every client built so far (for their metrics).
    pub fn clients(&self) -> Vec<(Task, ZoomClient)> {
        self.cache
            .lock()
            .map(|m| m.iter().map(|(t, c)| (*t, c.clone())).collect())
            .unwrap_or_default()
    }

    /// A client with the production retries and the connection's budget.
    fn build(&self, profile: RateProfile) -> Result<ZoomClient, SyncError> {
        let source = Arc::new(self.vault.token_source(CONNECTION));
        ZoomClient::builder(self.config.clone(), source)
            .rate_profile(profile)
            .retry_policy(RetryPolicy::default())
            .budget_key(CONNECTION)
            .build()
            .map_err(|e: ConfigError| SyncError::Client(e.to_string()))
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

pub struct Bench {
    pub engine: SyncEngine,
    pub table: Arc<MeteredTable>,
    pub factory: Arc<ShareFactory>,
    /// The engine's clock, moved by the benchmark (the sandbox clock's "now").
    pub clock: TestClock,
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
    let factory = Arc::new(ShareFactory::new(grant, profile, &records).await?);
    let clock = TestClock::at(now);
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
    let engine = test_support::engine(
        &records,
        factory.clone(),
        Arc::new(MemoryQueue::new()),
        clock.clock(),
    );
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
