//! Connection settings changed through the admin operations (`events/license-admin/`) take
//! effect on the next run of the tasks: the integration tasks' engine against the Zoom
//! sandbox, on moto when `ZTS_AWS_ENDPOINT_URL` is set (else the in-memory table). Expected
//! users, candidates and license figures are computed here from the sandbox's truth.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_adapters::MemoryFileStore;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use license_admin::{Admin, AdminError};
use ports::{CandidateStore, ConnectionStore, RunStatus};
use serde_json::{Value, json};
use sync_domain::{ActivityDates, InactivityThreshold, LicenseKind};
use sync_engine::{Mode, Task};
use test_support::*;
use zoom_sandbox::truth::{AccountTruth, UserTruth};

/// An event of `events/license-admin/`, aimed at `cid` (and its master account `master`).
fn event(case: &str, cid: &str, master: &str) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/license-admin/");
    let path = format!("{dir}{case}.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = text.replace("master-acct", master);
    let mut v: Value = serde_json::from_str(&text).expect("event JSON");
    v["connection_id"] = json!(cid);
    v
}

fn status(u: &UserTruth) -> String {
    serde_json::to_value(u.status)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// Users License Differentiation must list as candidates: active, tracked, no activity within
/// the threshold (activity dates as the organization-wide truth has them).
fn expected_candidates(
    accounts: &[&AccountTruth],
    free: bool,
    threshold: InactivityThreshold,
    now: DateTime<Utc>,
) -> BTreeSet<String> {
    let s = settings(free, false);
    accounts
        .iter()
        .flat_map(|a| a.users.as_ref().expect("users"))
        .filter(|u| LicenseKind::from_user_type(u.user_type).is_tracked(&s))
        .filter(|u| status(u) == "active")
        .filter(|u| {
            ActivityDates {
                last_login: u.last_login_time,
                last_meeting_created: u.latest_meeting_created,
                last_meeting_joined: u.latest_meeting_joined,
            }
            .is_inactive(Some(u.user_created_at), threshold, now)
        })
        .map(|u| u.email.to_lowercase())
        .collect()
}

async fn stored_candidates(env: &Env, cid: &str, accounts: &[&AccountTruth]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for a in accounts {
        let list: Vec<_> = env
            .records
            .list_account_candidates(cid, &a.id)
            .try_collect()
            .await
            .unwrap();
        out.extend(list.into_iter().map(|c| c.email.to_lowercase()));
    }
    out
}

async fn stored_free_users(env: &Env, cid: &str, accounts: &[&AccountTruth]) -> usize {
    let mut n = 0;
    for a in accounts {
        n += views(&env.records, cid, &a.id)
            .await
            .values()
            .filter(|v| !v.roster.is_removed())
            .filter(|v| LicenseKind::from_user_type(v.roster.user_type).is_free())
            .count();
    }
    n
}

async fn stored_version(env: &Env, cid: &str) -> u64 {
    env.records
        .get_connection(cid)
        .await
        .unwrap()
        .expect("connection")
        .version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_take_effect_on_the_next_run() {
    let env = env(
        demo_spec().with_dormant_percent(25),
        "settings_take_effect_on_the_next_run",
    )
    .await;
    let truth = truth(&env.sb);
    let cid = "conn-settings";
    connect(&env.records, &truth, cid, settings(false, false)).await;
    run_every_task(&env.engine, &direct(cid)).await;
    let now = (env.engine.clock)();
    let admin = Admin::new(
        Arc::new(env.records.clone()),
        Arc::new(MemoryFileStore::new()),
        Arc::new(move || now),
    );
    let accounts = tree(&truth);
    let master = truth.master_account_id.clone();
    let call = |v: Value| {
        let admin = &admin;
        async move { admin.handle(&v).await }
    };

    // Before: free users are not tracked, candidates follow the connection's threshold.
    let truth_free = accounts
        .iter()
        .flat_map(|a| a.users.as_ref().unwrap())
        .filter(|u| LicenseKind::from_user_type(u.user_type).is_free())
        .count();
    assert!(truth_free > 0, "the tenant has free users");
    assert_eq!(stored_free_users(&env, cid, &accounts).await, 0);
    let default = settings(false, false).inactivity_threshold;
    assert_eq!(
        stored_candidates(&env, cid, &accounts).await,
        expected_candidates(&accounts, false, default, now)
    );

    // Refused changes change nothing (not even the item's version).
    let version = stored_version(&env, cid).await;
    for case in [
        "malformed-settings-threshold",
        "malformed-settings-roster-off",
        "malformed-settings-unknown-setting",
    ] {
        let e = call(event(case, cid, &master)).await.unwrap_err();
        assert!(matches!(e, AdminError::InvalidSettings(_)), "{case}: {e:?}");
    }
    let e = call(event("set-manual-license", cid, &master))
        .await
        .unwrap_err();
    match &e {
        AdminError::InvalidSettings(s) => assert_eq!(s.fields(), ["license_id"], "{e}"),
        other => panic!("manual license while License Information is on: {other:?}"),
    }
    assert_eq!(stored_version(&env, cid).await, version);
    let before = call(event("get-settings", cid, &master)).await.unwrap();
    assert_eq!(before["settings"]["history"], json!([]));

    // The admin includes free users, lowers the threshold to 30 days, protects a user and
    // turns License Information off.
    let out = call(event("update-settings", cid, &master)).await.unwrap();
    let fields: Vec<&str> = out["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "include_free_users",
            "inactivity_threshold_days",
            "protected_users",
            "tasks.license-information"
        ]
    );
    let stored = call(event("get-settings", cid, &master)).await.unwrap();
    let history = stored["settings"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 4);
    assert!(history.iter().all(|h| h["by"] == "admin@example.com"));
    assert_eq!(stored["settings"]["tasks"]["license-information"], false);
    assert_eq!(
        stored["settings"]["protected_users"],
        json!(["ceo@example.com"])
    );
    // The same change again is no change (and no history entry).
    let again = call(event("update-settings", cid, &master)).await.unwrap();
    assert_eq!(again["changes"], json!([]));

    // Planning skips License Information for this connection; a unit queued before the change
    // is skipped, recorded as such.
    let plan = env
        .engine
        .plan(Task::LicenseInformation, Mode::Auto)
        .await
        .unwrap();
    assert_eq!(plan.turned_off, [cid]);
    assert_eq!(plan.units, 0);
    let skipped = run_connection(&env.engine, Task::LicenseInformation, cid).await;
    assert!(!skipped.units.is_empty());
    assert!(
        skipped
            .units
            .iter()
            .all(|u| u.run.status == RunStatus::Skipped)
    );

    // The next roster and License Differentiation runs apply the new options.
    run_connection(&env.engine, Task::ApplicationRoster, cid).await;
    run_connection(&env.engine, Task::LicenseDifferentiation, cid).await;
    assert_eq!(stored_free_users(&env, cid, &accounts).await, truth_free);
    let thirty = InactivityThreshold::try_from(30).unwrap();
    let want = expected_candidates(&accounts, true, thirty, now);
    assert_ne!(want, expected_candidates(&accounts, false, default, now));
    assert_eq!(stored_candidates(&env, cid, &accounts).await, want);

    // With License Information off, the admin enters the master's Basic license by hand; the
    // next License Differentiation run records it and the report shows it.
    let set = call(event("set-manual-license", cid, &master))
        .await
        .unwrap();
    assert_eq!(
        set["changes"][0]["field"],
        format!("manual_licenses.{master}:basic")
    );
    run_connection(&env.engine, Task::LicenseDifferentiation, cid).await;
    let report = call(json!({"operation": "list", "connection_id": cid}))
        .await
        .unwrap();
    let basic_id = LicenseKind::Basic.unique_id(&master);
    let basic = report["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["license_id"] == basic_id.as_str())
        .unwrap_or_else(|| panic!("no {basic_id} in {report}"))
        .clone();
    let master_truth = accounts.iter().find(|a| a.id == master).unwrap();
    let basic_active = master_truth
        .users
        .as_ref()
        .unwrap()
        .iter()
        .filter(|u| u.user_type == 1 && status(u) == "active")
        .count() as u64;
    assert_eq!(basic["name"], "Basic (campus)");
    assert_eq!(basic["provisioned"], 250);
    assert_eq!(basic["assigned"], basic_active);

    // Unsetting the figure brings back the derived one (Unlimited for a free license).
    call(event("unset-manual-license", cid, &master))
        .await
        .unwrap();
    run_connection(&env.engine, Task::LicenseDifferentiation, cid).await;
    let report = call(json!({"operation": "list", "connection_id": cid}))
        .await
        .unwrap();
    let basic = report["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["license_id"] == basic_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(basic["name"], "Basic (campus)");
    assert_eq!(basic["provisioned"], "unlimited");

    // Back on, License Information runs again and its licenses are read-only once more.
    call(json!({"operation": "update_settings", "connection_id": cid,
        "requested_by": "admin@example.com", "settings": {"tasks": {"license-information": true}}}))
    .await
    .unwrap();
    let ran = run_connection(&env.engine, Task::LicenseInformation, cid).await;
    assert!(
        ran.units
            .iter()
            .all(|u| u.run.status == RunStatus::Succeeded),
        "{:?}",
        ran.failed
    );
    let e = call(event("set-manual-license", cid, &master))
        .await
        .unwrap_err();
    assert!(matches!(e, AdminError::InvalidSettings(_)), "{e:?}");
    match call(event("malformed-manual-provisioned", cid, &master)).await {
        Err(AdminError::InvalidSettings(s)) => assert_eq!(s.fields(), ["provisioned"]),
        other => panic!("a negative Provisioned: {other:?}"),
    }
    let e = call(event("malformed-manual-null", cid, &master))
        .await
        .unwrap_err();
    assert!(matches!(e, AdminError::InvalidRequest(_)), "{e:?}");
}
