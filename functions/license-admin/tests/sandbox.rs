//! After a real sync of the sandbox's demo tenant (the integration tasks' engine, on moto when
//! `ZTS_AWS_ENDPOINT_URL` is set, else the in-memory table), the report's figures per license,
//! account and connection equal the sandbox's ground truth, computed here from the truth's
//! users; admin changes round-trip through the table; and contract fields survive a
//! License Information re-run.

use std::collections::BTreeMap;
use std::sync::Arc;

use license_admin::Admin;
use serde_json::{Value, json};
use sync_domain::{ActivityDates, LicenseKind, Provisioned};
use sync_engine::Task;
use test_support::*;

const KINDS: [LicenseKind; 5] = [
    LicenseKind::Basic,
    LicenseKind::Licensed,
    LicenseKind::OnPrem,
    LicenseKind::NoMeetingsBasic,
    LicenseKind::Other,
];

/// Expected figures of one license, from the truth's users.
#[derive(Debug, Default, Clone, PartialEq)]
struct Want {
    provisioned: Value,
    assigned: u64,
    active: u64,
    inactive: u64,
    deactivated: u64,
    buckets: [u64; 8],
}

fn bucket(days: Option<i64>) -> usize {
    match days {
        None => 7,
        Some(d) if d <= 7 => 0,
        Some(d) if d <= 30 => 1,
        Some(d) if d <= 60 => 2,
        Some(d) if d <= 90 => 3,
        Some(d) if d <= 180 => 4,
        Some(d) if d <= 365 => 5,
        Some(_) => 6,
    }
}

async fn call(admin: &Admin, v: Value) -> Value {
    admin
        .handle(&v)
        .await
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_equal_truth_and_contracts_survive_license_information() {
    // Dormant members: with joins counted across the organization, the small demo tenant
    // otherwise has nobody inactive beyond the threshold.
    let env = env(
        demo_spec().with_dormant_percent(25),
        "figures_equal_truth_and_contracts_survive_license_information",
    )
    .await;
    let truth = truth(&env.sb);
    let cid = "conn-license-admin";
    let s = settings(true, false);
    connect(&env.records, &truth, cid, s).await;
    run_every_task(&env.engine, &direct(cid)).await;
    let now = (env.engine.clock)();
    let admin = Admin::new(Arc::new(env.records.clone()), Arc::new(move || now));
    let ds = s;

    // Manage every license the connection has.
    let list = call(&admin, json!({"operation": "list", "connection_id": cid})).await;
    let ids: Vec<String> = list["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["license_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 3, "{list}");
    for id in &ids {
        call(&admin, json!({"operation": "manage", "connection_id": cid, "license_id": id, "requested_by": "test"})).await;
    }

    // A contract on the master's paid license: 10 a seat a month, paid yearly.
    let master = tree(&truth)
        .into_iter()
        .find(|a| a.id == truth.master_account_id)
        .unwrap();
    let licensed = LicenseKind::Licensed.unique_id(&master.id);
    let yearly = 10 * 12 * u64::from(master.seats);
    call(&admin, json!({"operation": "set_contract", "connection_id": cid, "license_id": licensed,
        "requested_by": "test", "contract": {"cost": yearly.to_string(), "currency": "USD",
        "payment_frequency": "annual", "effective_date": "2026-01-01", "expiration_date": "2027-01-01"}})).await;

    // Expected figures from the truth's users.
    let mut want: BTreeMap<(String, String), Want> = BTreeMap::new();
    for a in tree(&truth) {
        want.entry((a.id.clone(), LicenseKind::Licensed.unique_id(&a.id)))
            .or_default();
        for u in a.users.as_ref().expect("users") {
            let kind = LicenseKind::from_user_type(u.user_type);
            if !kind.is_tracked(&ds) {
                continue;
            }
            let w = want
                .entry((a.id.clone(), kind.unique_id(&a.id)))
                .or_default();
            let status = serde_json::to_value(u.status).unwrap();
            match status.as_str().unwrap() {
                "active" => {
                    w.assigned += 1;
                    let d = ActivityDates {
                        last_login: u.last_login_time,
                        last_meeting_created: u.latest_meeting_created,
                        last_meeting_joined: u.latest_meeting_joined,
                    };
                    if d.is_inactive(Some(u.user_created_at), ds.inactivity_threshold, now) {
                        w.inactive += 1;
                    } else {
                        w.active += 1;
                    }
                    w.buckets[bucket(d.last_activity().map(|t| (now - t).num_days()))] += 1;
                }
                "inactive" => {
                    // A deactivated user holds no seat (REFERENCE §3.6).
                    w.deactivated += 1;
                }
                _ => {}
            }
        }
        for kind in KINDS {
            if let Some(w) = want.get_mut(&(a.id.clone(), kind.unique_id(&a.id))) {
                w.provisioned = match kind.provisioned(u64::from(a.seats), &ds) {
                    Provisioned::Count(n) => json!(n),
                    Provisioned::Unlimited => json!("unlimited"),
                };
            }
        }
    }
    let labels = [
        "0-7", "8-30", "31-60", "61-90", "91-180", "181-365", "over 365", "never",
    ];

    let check = |report: &Value| {
        let mut seen = BTreeMap::new();
        let mut conn = (0, 0, 0, 0);
        for a in report["accounts"].as_array().unwrap() {
            let mut acct = (0, 0, 0, 0);
            for l in a["licenses"].as_array().unwrap() {
                let key = (
                    l["account_id"].as_str().unwrap().to_owned(),
                    l["license_id"].as_str().unwrap().to_owned(),
                );
                let buckets: Vec<u64> = labels
                    .iter()
                    .map(|b| l["days_since_last_activity"][b].as_u64().unwrap())
                    .collect();
                let got = Want {
                    provisioned: l["provisioned"].clone(),
                    assigned: l["assigned"].as_u64().unwrap(),
                    active: l["active"].as_u64().unwrap(),
                    inactive: l["inactive"].as_u64().unwrap(),
                    deactivated: l["deactivated"].as_u64().unwrap(),
                    buckets: buckets.try_into().unwrap(),
                };
                acct.0 += got.assigned;
                acct.1 += got.active;
                acct.2 += got.inactive;
                acct.3 += got.deactivated;
                seen.insert(key, got);
            }
            let t = &a["totals"];
            let totals = (
                t["assigned"].as_u64().unwrap(),
                t["active"].as_u64().unwrap(),
                t["inactive"].as_u64().unwrap(),
                t["deactivated"].as_u64().unwrap(),
            );
            let expected: (u64, u64, u64, u64) = want
                .iter()
                .filter(|((acc, _), _)| acc == a["account_id"].as_str().unwrap())
                .fold((0, 0, 0, 0), |s, (_, w)| {
                    (
                        s.0 + w.assigned,
                        s.1 + w.active,
                        s.2 + w.inactive,
                        s.3 + w.deactivated,
                    )
                });
            assert_eq!(totals, expected, "account {} totals", a["account_id"]);
            assert_eq!(totals, acct);
            conn = (
                conn.0 + acct.0,
                conn.1 + acct.1,
                conn.2 + acct.2,
                conn.3 + acct.3,
            );
        }
        assert_eq!(seen, want, "per-license figures equal the truth");
        let t = &report["totals"];
        assert_eq!(
            (
                t["assigned"].as_u64().unwrap(),
                t["active"].as_u64().unwrap(),
                t["inactive"].as_u64().unwrap(),
                t["deactivated"].as_u64().unwrap()
            ),
            conn,
            "connection totals"
        );
        conn
    };
    let body = |v: Value| -> Value { serde_json::from_str(v["body"].as_str().unwrap()).unwrap() };
    let report = body(
        call(
            &admin,
            json!({"operation": "report", "connection_id": cid, "format": "json"}),
        )
        .await,
    );
    let (_, _, inactive_total, _) = check(&report);
    assert!(
        inactive_total > 0,
        "some seats are inactive: the comparison covers them"
    );
    let master_licensed = &want[&(master.id.clone(), licensed.clone())];
    let cost = |r: &Value| -> Value {
        r["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|a| a["licenses"].as_array().unwrap())
            .find(|l| l["license_id"] == licensed.as_str())
            .unwrap()["inactive_seats_monthly_cost"]
            .clone()
    };
    assert_eq!(
        cost(&report),
        json!((10 * master_licensed.inactive).to_string()),
        "10 a seat a month × inactive seats"
    );

    // Round trip through the table: unset, unmanage, manage again.
    let out = call(&admin, json!({"operation": "unset_contract", "connection_id": cid, "license_id": licensed, "requested_by": "test", "fields": ["expiration_date"]})).await;
    assert!(out["license"]["contract"]["expiration_date"].is_null());
    assert_eq!(out["license"]["contract"]["currency"], "USD");
    let out = call(&admin, json!({"operation": "unmanage", "connection_id": cid, "license_id": licensed, "requested_by": "test"})).await;
    assert_eq!(out["license"]["managed"], false);
    let r = body(
        call(
            &admin,
            json!({"operation": "report", "connection_id": cid, "format": "json"}),
        )
        .await,
    );
    assert!(
        !r.to_string().contains(&format!("\"{licensed}\"")),
        "unmanaged license left out of the report"
    );
    call(&admin, json!({"operation": "manage", "connection_id": cid, "license_id": licensed, "requested_by": "test"})).await;
    let before = call(&admin, json!({"operation": "list", "connection_id": cid})).await;

    // License Information runs again (a day later) and rewrites every LIC item: the contract
    // and the managed flags stay, and the figures still equal the truth.
    run_connection(&env.engine, Task::LicenseInformation, cid).await;
    let after = call(&admin, json!({"operation": "list", "connection_id": cid})).await;
    let strip = |v: &Value| -> Vec<Value> {
        v["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                json!([
                    l["license_id"],
                    l["managed"],
                    l["contract"],
                    l["updated_by"]
                ])
            })
            .collect()
    };
    assert_eq!(strip(&after), strip(&before));
    let c = after["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["license_id"] == licensed.as_str())
        .unwrap();
    assert_eq!(c["contract"]["cost"], yearly.to_string());
    assert_eq!(c["managed"], true);
    let report = body(
        call(
            &admin,
            json!({"operation": "report", "connection_id": cid, "format": "json"}),
        )
        .await,
    );
    check(&report);
    assert_eq!(
        cost(&report),
        json!((10 * master_licensed.inactive).to_string())
    );
}
