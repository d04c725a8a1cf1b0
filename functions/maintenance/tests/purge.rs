//! On moto and the sandbox: a connection synced, reclaimed from and then deauthorized keeps its
//! records for the retention period; after it (the clock moved), the maintenance run leaves no
//! item and no secret of it, while another connection keeps everything; a second run finds
//! nothing to do. The event files are the function's.

use std::sync::Arc;

use aws_adapters::{Records, SecretsManagerTokenStore, create_table_if_missing};
use chrono::Duration;
use futures::TryStreamExt;
use maintenance::{Job, Maintenance, MaintenanceRequest};
use ports::{
    AuditEntry, AuditStore, ConnectionRecord, ConnectionStore, StoredTokens, TokenStore,
    TokenVault, UserStore, VaultOptions, ZoomRegion,
};
use test_support::*;

const PURGED: &str = "conn-uninstalled";
const KEPT: &str = "conn-kept";

/// Every string attribute of every item in the table that mentions `needle`.
async fn items_mentioning(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    needle: &str,
) -> Vec<String> {
    let mut found = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in out.items() {
            let text: Vec<&str> = item
                .values()
                .filter_map(|v| v.as_s().ok())
                .map(String::as_str)
                .collect();
            if text.iter().any(|t| t.contains(needle)) {
                found.push(text.join(" | "));
            }
        }
        start = out.last_evaluated_key().cloned();
        if start.is_none() {
            return found;
        }
    }
}

/// Whether Secrets Manager still knows the secret (also while scheduled for deletion).
async fn secret_exists(client: &aws_sdk_secretsmanager::Client, name: &str) -> bool {
    match client.describe_secret().secret_id(name).send().await {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            false
        }
        Err(e) => panic!("describe {name}: {e:?}"),
    }
}

fn tokens_for(sb: &zoom_sandbox::RunningSandbox) -> StoredTokens {
    StoredTokens {
        tokens: sandbox_tokens(sb, &[]),
        refreshed_at: chrono::Utc::now(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_retention_period_nothing_of_the_connection_remains() {
    let Some(clients) = moto_clients("maintenance purge").await else {
        eprintln!("NOTICE: skipped, ZTS_AWS_ENDPOINT_URL is not set");
        return;
    };
    let n: u64 = rand_id();
    let table = format!("zts-maint-{n:016x}");
    create_table_if_missing(&clients.dynamodb, &table)
        .await
        .unwrap();
    let records = Records::dynamo(clients.dynamodb.clone(), table.clone());
    let prefix = format!("zts-maint-{n:016x}/");
    let tokens = Arc::new(SecretsManagerTokenStore::new(
        clients.secrets.clone(),
        prefix.clone(),
    ));

    // A synced connection with tokens and a reclamation audit trail, and another connection.
    let env = env_on(sandbox(demo_spec()).await, records.clone());
    let truth = truth(&env.sb);
    connect(&records, &truth, PURGED, settings(true, true)).await;
    run_every_task(&env.engine, &direct(PURGED)).await;
    records
        .insert_connection(&ConnectionRecord::new(
            KEPT,
            "another-zoom-account",
            ZoomRegion::Na,
            settings(false, false),
            (env.engine.clock)(),
        ))
        .await
        .unwrap();
    for cid in [PURGED, KEPT] {
        tokens
            .write_new_authorization(cid, &tokens_for(&env.sb))
            .await
            .unwrap();
    }
    let account = truth.master_account_id.clone();
    let someone = records
        .list_users(PURGED, &account)
        .try_next()
        .await
        .unwrap()
        .expect("a synced user");
    let entry = AuditEntry {
        request_id: "req-uninstalled".into(),
        connection_id: PURGED.into(),
        account_id: account.clone(),
        user_key: someone.roster.key(),
        email: Some(someone.roster.email.clone()),
        action: "deactivate".into(),
        state: ports::AuditState::Done,
        outcome: "acted".into(),
        reason: None,
        requested_by: "admin@example.com".into(),
        why: "cleanup".into(),
        before: serde_json::json!({"status": "active"}),
        after: serde_json::json!({"status": "inactive"}),
        zoom_tracking_id: None,
        at: (env.engine.clock)(),
    };
    assert!(records.record_entry(&entry).await.unwrap());
    assert!(
        !items_mentioning(&clients.dynamodb, &table, PURGED)
            .await
            .is_empty()
    );

    // The app is removed in Zoom: the webhook's own code marks it (tokens scheduled for deletion).
    // After the installation (`connect` authorized it at the real time).
    let uninstalled = chrono::Utc::now();
    let retention = Duration::days(10);
    oauth_connect::webhook::deauthorize(
        &records,
        tokens.as_ref(),
        &truth.master_account_id,
        uninstalled,
        uninstalled,
        retention,
    )
    .await
    .unwrap();

    let config = sandbox_config(&env.sb.base_url(), std::time::Duration::from_secs(5)).unwrap();
    let store: Arc<Records> = Arc::new(records.clone());
    let maintenance = Maintenance {
        store: store.clone(),
        tokens: tokens.clone(),
        vault: TokenVault {
            tokens: tokens.clone(),
            leases: store.clone(),
            connections: store.clone(),
            refresher: Arc::new(zoom::OAuthClient::new(&config).unwrap()),
            options: VaultOptions::default(),
        },
        clock: env.clock.clock(),
    };
    let scheduled: MaintenanceRequest =
        serde_json::from_str(include_str!("../../../events/maintenance/purge.json")).unwrap();
    assert_eq!(scheduled.jobs, [Job::Purge]);

    // Within the retention period: kept.
    env.clock
        .set(uninstalled + retention - Duration::seconds(1));
    let report = maintenance
        .run(&scheduled.jobs, None)
        .await
        .unwrap()
        .purge
        .unwrap();
    assert!(report.purged.is_empty(), "{report:?}");
    assert_eq!(report.waiting.len(), 1);
    assert_eq!(report.waiting[0].connection_id, PURGED);
    assert!(secret_exists(&clients.secrets, &tokens.secret_name(PURGED)).await);
    assert!(
        !items_mentioning(&clients.dynamodb, &table, PURGED)
            .await
            .is_empty()
    );

    // After it: nothing of that connection remains, in the table or in Secrets Manager.
    env.clock.set(uninstalled + retention);
    let out = maintenance
        .handle(
            &serde_json::from_str(include_str!("../../../events/maintenance/schedule.json"))
                .unwrap(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(out["purge"]["purged"][0]["connection_id"], PURGED, "{out}");
    assert!(
        out["purge"]["purged"][0]["items"].as_u64().unwrap() > 10,
        "{out}"
    );
    assert_eq!(out["purge"]["failed"], serde_json::json!([]), "{out}");
    let left = items_mentioning(&clients.dynamodb, &table, PURGED).await;
    assert!(left.is_empty(), "items left: {left:#?}");
    assert!(!secret_exists(&clients.secrets, &tokens.secret_name(PURGED)).await);
    // The other connection keeps everything.
    assert!(records.get_connection(KEPT).await.unwrap().is_some());
    assert!(secret_exists(&clients.secrets, &tokens.secret_name(KEPT)).await);
    assert!(tokens.read(KEPT).await.unwrap().is_some());

    // Idempotent: the next day's run has nothing to purge.
    let again = maintenance
        .run(&[Job::Purge], None)
        .await
        .unwrap()
        .purge
        .unwrap();
    assert!(
        again.purged.is_empty() && again.failed.is_empty(),
        "{again:?}"
    );
}

fn rand_id() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}
