//! The engine's unit log lines as the stack's metric filters read them (the functions' JSON
//! format: one object a line, the event's fields under `fields`): "unit failed" names its
//! `reason`, "unit finished" counts its `records_written`.
//!
//! The failing units: one whose token refresh would start 10 s before the invocation's
//! deadline (under the vault's 30 s minimum; a deadline: retried, the connection stays
//! active, nothing reaches Zoom's token endpoint) and one whose grant is dead. The same first
//! unit, retried with time enough, refreshes and finishes.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_adapters::{MemoryTokenStore, Records};
use chrono::Utc;
use ports::{ConnectionStore, StoredTokens, TokenStore, TokenVault, VaultOptions};
use sync_engine::{FixedClientFactory, Mode, SyncEngine, Task, Unit, VaultClientFactory};
use test_support::*;
use tokio::time::Instant;
use zoom::{OAuthClient, RateProfile};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The `fields` of the JSON log lines whose message is `message`, in order.
    fn lines(&self, message: &str) -> Vec<serde_json::Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON log line"))
            .filter(|v| v["fields"]["message"] == message)
            .map(|v| v["fields"].clone())
            .collect()
    }
}

/// The functions' log format (`lambda_wiring::log_subscriber`: JSON, fields under `fields`).
fn capture_logs() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only subscriber of this test binary");
    captured
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unit_log_lines_carry_the_failure_reason_and_the_records_written() {
    let captured = capture_logs();
    let env = env_on(sandbox(demo_spec()).await, Records::in_memory());
    let truth = truth(&env.sb);
    let master = tree(&truth)
        .into_iter()
        .find(|a| a.id == truth.master_account_id)
        .expect("the master account");
    // Without free users and On-Prem a connection tracks the Licensed users (type 2) only;
    // a first roster run writes each of them, and marks nobody removed.
    let licensed = master
        .users
        .as_deref()
        .expect("the demo tenant's users")
        .iter()
        .filter(|u| u.user_type == 2)
        .count() as u64;
    assert!(licensed > 0);

    // Connection `conn-late`: tokens in the vault, the access token expired.
    let cid = "conn-late";
    connect(&env.records, &truth, cid, settings(false, false)).await;
    let mut tokens = sandbox_tokens(&env.sb, &[]);
    tokens.expires_at = Utc::now() - chrono::Duration::minutes(1);
    let original = StoredTokens {
        tokens,
        refreshed_at: Utc::now() - chrono::Duration::hours(1),
    };
    let secrets = Arc::new(MemoryTokenStore::new());
    secrets.write(cid, &original).await.unwrap();
    let config = sandbox_config(&env.sb.base_url(), Duration::from_secs(5)).unwrap();
    let vault = TokenVault {
        tokens: secrets.clone(),
        leases: Arc::new(env.records.clone()),
        connections: Arc::new(env.records.clone()),
        refresher: Arc::new(OAuthClient::new(&config).unwrap()),
        options: VaultOptions::default(),
    };
    let mut engine = SyncEngine {
        clients: Arc::new(VaultClientFactory::new(
            config,
            vault,
            RateProfile::unlimited(),
        )),
        ..env.engine.clone()
    };
    // A small margin, so the Zoom client's own deadline (half the margin before the
    // invocation's) leaves the vault to refuse the refresh.
    engine.options.deadline_margin = Duration::from_secs(2);
    let unit = Unit::new(Task::ApplicationRoster, cid, &master.id, Mode::Auto);
    let refreshes = || env.sb.state.stats.snapshot().grants("refresh_token");

    // 10 s before the deadline: no refresh starts; the unit fails as a deadline.
    let err = engine
        .run_unit(&unit, Some(Instant::now() + Duration::from_secs(10)))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(!err.is_invalid_grant(), "{err}");
    assert!(err.to_string().contains("not enough time left"), "{err}");
    assert_eq!(refreshes(), 0, "nothing reached Zoom's token endpoint");
    assert_eq!(secrets.read(cid).await.unwrap().unwrap(), original);
    let connection = env.records.get_connection(cid).await.unwrap().unwrap();
    assert!(connection.status.is_active(), "{:?}", connection.status);
    let failed = captured.lines("unit failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["reason"], "deadline");
    assert_eq!(failed[0]["connection_id"], cid);
    assert_eq!(failed[0]["task"], "application-roster");

    // Retried with time enough: the refresh happens and the unit finishes.
    engine
        .run_unit(&unit, Some(Instant::now() + Duration::from_secs(120)))
        .await
        .expect("the retried unit finishes");
    assert_eq!(refreshes(), 1);
    let finished = captured.lines("unit finished");
    assert_eq!(finished.len(), 1, "{finished:#?}");
    assert_eq!(finished[0]["connection_id"], cid);
    assert_eq!(finished[0]["records_written"], licensed);
    // The fields the metric filters already read are still there.
    assert!(finished[0]["rate_limited"].is_u64(), "{:#?}", finished[0]);
    // Nothing changed at Zoom: a second run writes nothing.
    engine.run_unit(&unit, None).await.unwrap();
    assert_eq!(captured.lines("unit finished")[1]["records_written"], 0);

    // Every task writes records on its first run of an account (the counts it keeps for
    // `records_written` exist under the names the engine reads).
    for task in [
        Task::ApplicationAccess,
        Task::LicenseInformation,
        Task::LicenseDifferentiation,
    ] {
        engine
            .run_unit(&Unit::new(task, cid, &master.id, Mode::Full), None)
            .await
            .unwrap_or_else(|e| panic!("{task}: {e}"));
        let line = captured.lines("unit finished").pop().unwrap();
        assert_eq!(line["task"], task.as_str());
        assert!(
            line["records_written"].as_u64().is_some_and(|n| n > 0),
            "{task}: {line:#?}"
        );
    }
    // License Information without free users and On-Prem: the Licensed license only.
    let information = captured
        .lines("unit finished")
        .into_iter()
        .find(|l| l["task"] == "license-information")
        .unwrap();
    assert_eq!(information["records_written"], 1);

    // A dead grant: its own reason, and the connection needs re-authorization.
    let dead = "conn-dead";
    connect(&env.records, &truth, dead, settings(false, false)).await;
    let engine = SyncEngine {
        clients: Arc::new(FixedClientFactory(dead_grant_client(&env.sb))),
        ..env.engine.clone()
    };
    let err = engine
        .run_unit(
            &Unit::new(Task::ApplicationRoster, dead, &master.id, Mode::Auto),
            None,
        )
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err}");
    let failed = captured.lines("unit failed");
    assert_eq!(failed.len(), 2, "{failed:#?}");
    assert_eq!(failed[1]["connection_id"], dead);
    assert_eq!(failed[1]["reason"], "needs_reauthorization");
    assert!(
        !env.records
            .get_connection(dead)
            .await
            .unwrap()
            .unwrap()
            .status
            .is_active()
    );
}
