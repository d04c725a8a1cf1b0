//! The log line the stack's metric filter counts (`{ $.fields.alert = "needs_reauthorization" }`,
//! infra/template.yaml) is written, in the functions' own log format, when a connection's grant
//! dies during a unit and again at every planning while it waits for an admin.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ports::{ConnectionStatus, ConnectionStore, NEEDS_REAUTHORIZATION};
use sync_engine::{FixedClientFactory, Mode, SyncEngine, Task};
use test_support::*;

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
    /// The JSON log lines whose `fields.alert` is the needs-re-authorization alert.
    fn alerts(&self) -> Vec<serde_json::Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON log line"))
            .filter(|v| v["fields"]["alert"] == NEEDS_REAUTHORIZATION)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_grant_is_alerted_when_it_dies_and_at_every_planning() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(lambda_wiring::log_subscriber(
        move || writer.clone(),
        Some("info"),
    ))
    .expect("the only subscriber of this test binary");

    let env = env(demo_spec(), "alerts").await;
    let truth = truth(&env.sb);
    connect(&env.records, &truth, "conn-dead", settings(false, false)).await;
    let engine = SyncEngine {
        clients: Arc::new(FixedClientFactory(dead_grant_client(&env.sb))),
        ..env.engine.clone()
    };

    // The grant dies during planning's account refresh: marked and alerted.
    engine
        .plan(Task::ApplicationRoster, Mode::Auto)
        .await
        .unwrap();
    let stored = env
        .records
        .get_connection("conn-dead")
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        stored.status,
        ConnectionStatus::NeedsReauthorization { .. }
    ));
    let alerts = captured.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0]["fields"]["connection_id"], "conn-dead");
    assert_eq!(alerts[0]["level"], "WARN");

    // Every later planning says it again (the alarm keeps notifying until it is reconnected).
    engine
        .plan(Task::ApplicationAccess, Mode::Auto)
        .await
        .unwrap();
    engine
        .plan(Task::LicenseInformation, Mode::Auto)
        .await
        .unwrap();
    let alerts = captured.alerts();
    assert_eq!(alerts.len(), 3, "{alerts:#?}");
    assert!(
        alerts
            .iter()
            .all(|a| a["fields"]["connection_id"] == "conn-dead")
    );
}
