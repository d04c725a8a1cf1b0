//! After a real sync of the sandbox's demo tenant (the integration tasks' engine, on moto when
//! `ZTS_AWS_ENDPOINT_URL` is set, else the in-memory table), the report's figures per license,
//! account and connection equal the sandbox's ground truth, computed here from the truth's
//! users; admin changes round-trip through the table; and contract fields survive a
//! License Information re-run. Reports and exports are files: on moto they are written to an
//! S3 bucket and downloaded through their presigned links (reqwest), else read from the
//! in-memory file store; the exports' rows equal what the oracle expects from the truth.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_adapters::{MemoryFileStore, S3FileStore};
use license_admin::Admin;
use ports::FileStore;
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

/// Where the admin's files go: a fresh bucket on moto (required under `make test`), else memory.
enum Files {
    S3,
    Memory(Arc<MemoryFileStore>),
}

async fn file_store(test: &str) -> (Arc<dyn FileStore>, Files) {
    match moto_clients(test).await {
        Some(clients) => {
            let bucket = format!("zts-files-{:016x}", rand::random::<u64>());
            clients
                .s3
                .create_bucket()
                .bucket(&bucket)
                .send()
                .await
                .expect("create the files bucket in moto");
            (Arc::new(S3FileStore::new(clients.s3, bucket)), Files::S3)
        }
        None => {
            let m = Arc::new(MemoryFileStore::new());
            (m.clone(), Files::Memory(m))
        }
    }
}

/// The file a report or export answer links to, downloaded through the link (a CSV must start
/// with the byte-order mark, which is removed here).
async fn download(files: &Files, out: &Value) -> String {
    let key = out["key"]
        .as_str()
        .unwrap_or_else(|| panic!("no key: {out}"));
    let link = out["link"].as_str().expect("link");
    assert!(link.contains(key), "the link names the key: {key}");
    assert!(out.get("body").is_none(), "no inline body");
    let bytes = match files {
        Files::S3 => {
            assert!(link.contains("X-Amz-Signature="), "a presigned link");
            let r = reqwest::get(link).await.expect("GET the link");
            assert_eq!(r.status().as_u16(), 200, "{key}");
            let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(ct, out["content_type"].as_str().unwrap());
            r.bytes().await.expect("body").to_vec()
        }
        Files::Memory(m) => m.get(key).expect("the linked file").content,
    };
    assert_eq!(out["bytes"], bytes.len(), "{key}");
    let text = String::from_utf8(bytes).expect("UTF-8");
    if out["content_type"]
        .as_str()
        .unwrap()
        .starts_with("text/csv")
    {
        text.strip_prefix('\u{feff}')
            .expect("a CSV starts with the BOM")
            .to_owned()
    } else {
        text
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
    let (file_store, files) =
        file_store("figures_equal_truth_and_contracts_survive_license_information").await;
    let admin = Admin::new(
        Arc::new(env.records.clone()),
        file_store,
        Arc::new(move || now),
    );
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
    let body = async |v: Value| -> Value {
        serde_json::from_str(&download(&files, &v).await).expect("a JSON report")
    };
    let report = body(
        call(
            &admin,
            json!({"operation": "report", "connection_id": cid, "format": "json"}),
        )
        .await,
    )
    .await;
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
    )
    .await;
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
    )
    .await;
    check(&report);
    assert_eq!(
        cost(&report),
        json!((10 * master_licensed.inactive).to_string())
    );
}

fn rfc3339(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// After a real sync, the "all users" and "underutilized" exports (CSV and JSON lines, through
/// the file store's links) hold exactly the tracked users and the candidates the oracle
/// expects from the truth, with their dates, days, band and reason; after the sandbox's clock
/// moves 40 days and the tasks run again, the next export shows the new days and candidates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_equal_the_truth_and_follow_the_next_sync() {
    let test = "exports_equal_the_truth_and_follow_the_next_sync";
    let env = env(demo_spec().with_dormant_percent(25), test).await;
    let cid = "conn-exports";
    let s = settings(true, false);
    let truth0 = truth(&env.sb);
    connect(&env.records, &truth0, cid, s).await;
    let (file_store, files) = file_store(test).await;

    let mut earlier = None;
    for round in 0..2 {
        if round == 1 {
            // Forty days later, the daily tasks again: days grow, bands and candidates move.
            env.sb.state.clock.advance(40 * 86_400);
            let now = env.sb.state.clock.now();
            env.clock.set(now);
            let (_, active) = env.sb.state.tenant.simulate_day(0.2, now);
            assert!(active > 0, "someone was active on the simulated day");
        }
        run_every_task(&env.engine, &direct(cid)).await;
        let now = (env.engine.clock)();
        let truth = truth(&env.sb);
        let admin = Admin::new(
            Arc::new(env.records.clone()),
            file_store.clone(),
            Arc::new(move || now),
        );
        let expected = oracle::expect_tenant(&truth, &oracle_settings(&s), now);
        let names: BTreeMap<&str, &str> = expected
            .iter()
            .map(|a| (a.account.id.as_str(), a.account.name.as_str()))
            .collect();
        let neutral = oracle::csv::neutralized;

        // All users, CSV.
        let out = call(
            &admin,
            json!({"operation": "export", "connection_id": cid,
            "kind": "all_users", "format": "csv", "requested_by": "test"}),
        )
        .await;
        assert!(
            out["key"]
                .as_str()
                .unwrap()
                .starts_with(&format!("connections/{cid}/all_users/")),
            "{out}"
        );
        let rows = oracle::csv::parse(&download(&files, &out).await);
        let header = &rows[0];
        assert_eq!(header, &license_admin::export::ALL_USERS_COLUMNS);
        let col = |r: &Vec<String>, name: &str| -> String {
            r[header.iter().position(|h| h == name).unwrap()].clone()
        };
        let mut got: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for r in &rows[1..] {
            assert_eq!(r.len(), header.len());
            // Every column but the key, the latest date and the user id, in the file's order.
            let cells = license_admin::export::ALL_USERS_COLUMNS
                .iter()
                .filter(|c| !["account_id", "email", "last_activity", "user_id"].contains(c))
                .map(|c| col(r, c))
                .collect();
            let key = (col(r, "account_id"), col(r, "email"));
            assert!(got.insert(key, cells).is_none(), "one row per user");
        }
        let mut want: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let mut candidates = 0;
        for a in &expected {
            for u in a.users.values() {
                let t = u.truth;
                let days = u.last_activity.map(|l| oracle::whole_days(l, now));
                let status = serde_json::to_value(t.status).unwrap();
                candidates += usize::from(u.candidate);
                want.insert(
                    (a.account.id.clone(), t.email.clone()),
                    vec![
                        neutral(names[a.account.id.as_str()]),
                        neutral(&t.first_name),
                        neutral(&t.last_name),
                        neutral(&u.license_name),
                        status.as_str().unwrap().to_owned(),
                        rfc3339(t.last_login_time),
                        rfc3339(t.latest_meeting_created),
                        rfc3339(t.latest_meeting_joined),
                        days.map(|d| d.to_string()).unwrap_or_default(),
                        oracle::band(u.last_activity, now).to_owned(),
                        if u.candidate { "yes" } else { "no" }.to_owned(),
                    ],
                );
            }
        }
        assert!(candidates > 0, "round {round}: some candidates to compare");
        assert_eq!(
            got.len(),
            want.len(),
            "round {round}: one row per tracked user"
        );
        for (k, w) in &want {
            assert_eq!(got.get(k), Some(w), "round {round}: {k:?}");
        }
        assert_eq!(out["rows"], want.len());

        // Underutilized, JSON lines: the oracle's candidates with their days and reason.
        let out = call(
            &admin,
            json!({"operation": "export", "connection_id": cid,
            "kind": "underutilized", "format": "jsonl", "requested_by": "test"}),
        )
        .await;
        let text = download(&files, &out).await;
        let mut got = BTreeMap::new();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).expect("a JSON object a line");
            let key = (
                v["account_id"].as_str().unwrap().to_owned(),
                v["email"].as_str().unwrap().to_owned(),
            );
            got.insert(
                key,
                (
                    v["days_inactive"].as_i64().unwrap(),
                    v["reason"].clone(),
                    v["first_name"].clone(),
                ),
            );
        }
        let threshold = u32::from(s.inactivity_threshold.days());
        let mut want = BTreeMap::new();
        for a in &expected {
            for u in a.users.values().filter(|u| u.candidate) {
                let reason = if u.last_activity.is_some() {
                    format!(
                        "no login, meeting created or joined for {} days (threshold {threshold})",
                        u.days_inactive
                    )
                } else {
                    format!(
                        "no login, meeting created or joined since becoming active {} days ago (threshold {threshold})",
                        u.days_inactive
                    )
                };
                want.insert(
                    (a.account.id.clone(), u.truth.email.clone()),
                    (u.days_inactive, json!(reason), json!(u.truth.first_name)),
                );
            }
        }
        assert_eq!(got, want, "round {round}: the candidates");
        let keys: Vec<_> = want.into_keys().collect();
        if let Some(before) = earlier.replace(keys.clone()) {
            assert_ne!(before, keys, "the next sync changed the candidates");
        }
    }
}
