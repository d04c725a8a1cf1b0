//! The use case on the in-memory table: every request of `events/license-admin/`, validation
//! of every contract field, the manage/set/unset/unmanage round trip, read-only fields,
//! concurrent changes, and the cost of inactive seats in the JSON, CSV and HTML reports
//! (delivered as files of the in-memory file store, read back through their links); the user
//! exports: every field's validation, CSV quoting and formula neutralization, the rows against
//! the rules written out again, and bounded parts.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_adapters::{MemoryFileStore, Records};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use license_admin::{Admin, AdminError};
use ports::{
    AccountKind, AccountRecord, AccountStore, CandidateStore, ConnectionRecord, ConnectionSettings,
    ConnectionStore, LicenseActivity, LicenseRecord, LicenseStore, Provisioned, UserAccess,
    UserRecord, UserStore, ZoomRegion,
};
use serde_json::{Value, json};
use sync_domain::ActivityDates;

const CONN: &str = "conn-demo";
const MASTER: &str = "master-acct";
const SUB: &str = "sub-account-id-1";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn event(name: &str) -> Value {
    let text = match name {
        "list" => include_str!("../../../events/license-admin/list.json"),
        "manage" => include_str!("../../../events/license-admin/manage.json"),
        "unmanage" => include_str!("../../../events/license-admin/unmanage.json"),
        "set-contract" => include_str!("../../../events/license-admin/set-contract.json"),
        "unset-contract" => include_str!("../../../events/license-admin/unset-contract.json"),
        "report-json" => include_str!("../../../events/license-admin/report-json.json"),
        "report-csv" => include_str!("../../../events/license-admin/report-csv.json"),
        "report-html" => include_str!("../../../events/license-admin/report-html.json"),
        "report-text" => include_str!("../../../events/license-admin/report-text.json"),
        "malformed-bad-date" => {
            include_str!("../../../events/license-admin/malformed-bad-date.json")
        }
        "malformed-expiration-before-effective" => {
            include_str!("../../../events/license-admin/malformed-expiration-before-effective.json")
        }
        "malformed-bad-currency" => {
            include_str!("../../../events/license-admin/malformed-bad-currency.json")
        }
        "malformed-negative-cost" => {
            include_str!("../../../events/license-admin/malformed-negative-cost.json")
        }
        "malformed-float-cost" => {
            include_str!("../../../events/license-admin/malformed-float-cost.json")
        }
        "malformed-bad-frequency" => {
            include_str!("../../../events/license-admin/malformed-bad-frequency.json")
        }
        "malformed-read-only-field" => {
            include_str!("../../../events/license-admin/malformed-read-only-field.json")
        }
        "malformed-unknown-operation" => {
            include_str!("../../../events/license-admin/malformed-unknown-operation.json")
        }
        "malformed-unknown-field" => {
            include_str!("../../../events/license-admin/malformed-unknown-field.json")
        }
        "malformed-bad-format" => {
            include_str!("../../../events/license-admin/malformed-bad-format.json")
        }
        "malformed-missing-requested-by" => {
            include_str!("../../../events/license-admin/malformed-missing-requested-by.json")
        }
        "export-all-users-csv" => {
            include_str!("../../../events/license-admin/export-all-users-csv.json")
        }
        "export-all-users-jsonl" => {
            include_str!("../../../events/license-admin/export-all-users-jsonl.json")
        }
        "export-underutilized-csv" => {
            include_str!("../../../events/license-admin/export-underutilized-csv.json")
        }
        "export-underutilized-jsonl" => {
            include_str!("../../../events/license-admin/export-underutilized-jsonl.json")
        }
        "malformed-export-bad-kind" => {
            include_str!("../../../events/license-admin/malformed-export-bad-kind.json")
        }
        "malformed-export-bad-format" => {
            include_str!("../../../events/license-admin/malformed-export-bad-format.json")
        }
        "malformed-export-missing-kind" => {
            include_str!("../../../events/license-admin/malformed-export-missing-kind.json")
        }
        "malformed-export-missing-requested-by" => {
            include_str!("../../../events/license-admin/malformed-export-missing-requested-by.json")
        }
        "malformed-export-unknown-field" => {
            include_str!("../../../events/license-admin/malformed-export-unknown-field.json")
        }
        other => panic!("no event {other}"),
    };
    serde_json::from_str(text).expect("event JSON")
}

fn license(
    account: &str,
    kind: &str,
    name: &str,
    p: Provisioned,
    assigned: u64,
    active: u64,
    inactive_90: u64,
) -> LicenseRecord {
    LicenseRecord {
        account_id: account.into(),
        license_id: format!("{account}:{kind}"),
        name: name.into(),
        provisioned: p,
        assigned,
        active,
        inactive: assigned - active,
        activity: Some(LicenseActivity {
            active_30_days: 0,
            active_60_days: 0,
            active_90_days: 0,
            threshold_days: 60,
            inactive_beyond_threshold: inactive_90,
        }),
        as_of: now().date_naive(),
        zoom_assigned: None,
        zoom_assigned_note: None,
        entered_by_hand: false,
    }
}

/// A connection with a master (Business, 50 seats: 40 assigned, 36 active, 9 of them
/// inactive beyond 60 days; Basic unlimited) and a sub account (10 seats, 8 assigned, 2
/// inactive), plus three licensed users of the master with known activity.
async fn seeded() -> (Records, Admin) {
    let (records, admin, _) = seeded_with_files().await;
    (records, admin)
}

/// As [`seeded`], with the file store reports and exports are written to.
async fn seeded_with_files() -> (Records, Admin, Arc<MemoryFileStore>) {
    let records = Records::in_memory();
    let mut c = ConnectionRecord::new(
        CONN,
        MASTER,
        ZoomRegion::Na,
        ConnectionSettings::default(),
        now(),
    );
    c.account_name = Some("Acme".into());
    records.insert_connection(&c).await.unwrap();
    let account = |id: &str, kind, name: &str| AccountRecord {
        account_id: id.into(),
        kind,
        name: Some(name.into()),
        owner_email: None,
        account_type: None,
        seats: None,
        created_at: None,
        removed_at: None,
    };
    records
        .sync_accounts(
            CONN,
            &[
                account(MASTER, AccountKind::Master, "Acme HQ"),
                account(SUB, AccountKind::Sub, "Acme EU"),
            ],
            now(),
        )
        .await
        .unwrap();
    // License Information's items, and License Differentiation's activity items beside them.
    for (account, licenses) in [
        (
            MASTER,
            vec![
                license(
                    MASTER,
                    "licensed",
                    "Business",
                    Provisioned::Count(50),
                    40,
                    36,
                    9,
                ),
                license(MASTER, "basic", "Basic", Provisioned::Unlimited, 12, 12, 5),
            ],
        ),
        (
            SUB,
            vec![license(
                SUB,
                "licensed",
                "Business",
                Provisioned::Count(10),
                8,
                8,
                2,
            )],
        ),
    ] {
        records
            .replace_account_licenses(CONN, account, &licenses)
            .await
            .unwrap();
        let activity: BTreeMap<String, LicenseActivity> = licenses
            .iter()
            .map(|l| (l.license_id.clone(), l.activity.clone().unwrap()))
            .collect();
        records
            .replace_account_license_activity(CONN, account, &activity)
            .await
            .unwrap();
    }
    let user = |id: &str, status: &str| UserRecord {
        user_id: Some(id.into()),
        email: format!("{id}@example.com"),
        first_name: None,
        last_name: None,
        user_type: 2,
        status: status.into(),
        role_id: None,
        role_name: None,
        account_id: MASTER.into(),
        active_date: Some(now() - Duration::days(900)),
        license_name: Some("Business".into()),
        removed_at: None,
    };
    records
        .upsert_users(
            CONN,
            &[
                user("u1", "active"),
                user("u2", "active"),
                user("u3", "active"),
                user("u4", "inactive"),
            ],
        )
        .await
        .unwrap();
    let access = |id: &str, days: Option<i64>| UserAccess {
        user_key: id.into(),
        account_id: MASTER.into(),
        dates: ActivityDates {
            last_login: days.map(|d| now() - Duration::days(d)),
            last_meeting_created: None,
            last_meeting_joined: None,
        },
    };
    records
        .upsert_access(
            CONN,
            &[
                access("u1", Some(2)),
                access("u2", Some(100)),
                access("u4", Some(1)),
            ],
        )
        .await
        .unwrap();
    let files = Arc::new(MemoryFileStore::new());
    let admin = Admin::new(Arc::new(records.clone()), files.clone(), Arc::new(now));
    (records, admin, files)
}

/// The file a report or export answer links to, as text (a CSV without its byte-order mark,
/// which it must start with).
fn fetch(files: &MemoryFileStore, out: &Value) -> String {
    let key = out["key"]
        .as_str()
        .unwrap_or_else(|| panic!("no key: {out}"));
    assert!(
        out["link"]
            .as_str()
            .unwrap()
            .starts_with(&format!("memory://files/{key}?")),
        "{out}"
    );
    assert!(out.get("body").is_none(), "no inline body: {out}");
    let file = files.get(key).expect("the linked file exists");
    assert_eq!(out["bytes"], file.content.len());
    assert_eq!(out["content_type"], file.content_type.as_str());
    let text = String::from_utf8(file.content).expect("UTF-8");
    if file.content_type.starts_with("text/csv") {
        text.strip_prefix('\u{feff}')
            .expect("a CSV starts with the byte-order mark")
            .to_owned()
    } else {
        text
    }
}

async fn refused(admin: &Admin, payload: Value) -> AdminError {
    admin.handle(&payload).await.expect_err("refused")
}

#[tokio::test]
async fn malformed_requests_are_refused_with_the_field_named() {
    let (_, admin) = seeded().await;
    for (name, kind, needles) in [
        (
            "malformed-bad-date",
            "InvalidContract",
            &["contract.effective_date", "ISO 8601"][..],
        ),
        (
            "malformed-expiration-before-effective",
            "InvalidContract",
            &["contract.expiration_date", "after the effective date"],
        ),
        (
            "malformed-bad-currency",
            "InvalidContract",
            &["contract.currency", "ISO 4217"],
        ),
        (
            "malformed-negative-cost",
            "InvalidContract",
            &["contract.cost", "negative"],
        ),
        (
            "malformed-float-cost",
            "InvalidContract",
            &["contract.cost", "floating point"],
        ),
        (
            "malformed-bad-frequency",
            "InvalidContract",
            &[
                "contract.payment_frequency",
                "monthly, quarterly, annual or one-time",
            ],
        ),
        (
            "malformed-read-only-field",
            "InvalidContract",
            &["contract.provisioned", "read-only"],
        ),
        (
            "malformed-unknown-operation",
            "InvalidRequest",
            &["operation", "\"delete\""],
        ),
        (
            "malformed-unknown-field",
            "InvalidRequest",
            &["unknown field `colour`"],
        ),
        (
            "malformed-bad-format",
            "InvalidRequest",
            &["field `format`", "pdf"],
        ),
        (
            "malformed-missing-requested-by",
            "InvalidRequest",
            &["requested_by"],
        ),
    ] {
        let e = refused(&admin, event(name)).await;
        assert_eq!(e.kind(), kind, "{name}: {e}");
        assert!(e.is_caller_error(), "{name}");
        let msg = e.to_string();
        for n in needles {
            assert!(msg.contains(n), "{name}: {msg:?} lacks {n:?}");
        }
    }
    // Nothing was written by any refused change.
    let list = admin.handle(&event("list")).await.unwrap();
    for l in list["licenses"].as_array().unwrap() {
        assert_eq!(l["managed"], false);
        assert_eq!(l["contract"]["cost"], Value::Null);
    }
}

#[tokio::test]
async fn every_field_good_and_bad() {
    let (_, admin) = seeded().await;
    let set = |contract: Value| {
        json!({"operation": "set_contract", "connection_id": CONN, "license_id": "master-acct:licensed",
               "requested_by": "admin@example.com", "contract": contract})
    };
    let good = [
        json!({"effective_date": "2024-02-29"}),
        json!({"expiration_date": "2030-01-01"}),
        json!({"cost": "0"}),
        json!({"cost": "1999.9900"}),
        json!({"cost": 250}),
        json!({"currency": "jpy"}),
        json!({"currency": "EUR"}),
        json!({"payment_frequency": "monthly"}),
        json!({"payment_frequency": "quarterly"}),
        json!({"payment_frequency": "one-time"}),
        json!({"payment_frequency": "annual"}),
    ];
    for c in good {
        let out = admin
            .handle(&set(c.clone()))
            .await
            .unwrap_or_else(|e| panic!("{c}: {e}"));
        let (field, _) = c.as_object().unwrap().iter().next().unwrap();
        assert!(!out["license"]["contract"][field].is_null(), "{c}: {out}");
    }
    let bad = [
        (
            json!({"effective_date": "2026-13-01"}),
            "contract.effective_date",
        ),
        (
            json!({"effective_date": "2031-01-01"}),
            "contract.expiration_date",
        ),
        (
            json!({"expiration_date": "2023-12-31"}),
            "contract.expiration_date",
        ),
        (json!({"expiration_date": true}), "contract.expiration_date"),
        (json!({"cost": "abc"}), "contract.cost"),
        (json!({"cost": "12.00001"}), "contract.cost"),
        (json!({"cost": -1}), "contract.cost"),
        (json!({"currency": "US$"}), "contract.currency"),
        (json!({"currency": 840}), "contract.currency"),
        (
            json!({"payment_frequency": "weekly"}),
            "contract.payment_frequency",
        ),
        (json!({"name": "Enterprise"}), "contract.name"),
        (json!({"license_id": "x"}), "contract.license_id"),
        (json!({"discount": "5"}), "contract.discount"),
    ];
    for (c, field) in bad {
        let e = refused(&admin, set(c.clone())).await;
        assert_eq!(e.kind(), "InvalidContract", "{c}");
        assert!(e.to_string().contains(&format!("`{field}`")), "{c}: {e}");
    }
    let e = refused(&admin, set(json!({}))).await;
    assert!(e.to_string().contains("at least one field"), "{e}");
    let mut unset = event("unset-contract");
    unset["fields"] = json!(["price"]);
    assert!(
        refused(&admin, unset)
            .await
            .to_string()
            .contains("`fields[0]`")
    );
}

#[tokio::test]
async fn manage_set_unset_unmanage_round_trip() {
    let (_, admin, files) = seeded_with_files().await;
    let find = |v: &Value, id: &str| {
        v["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["license_id"] == id)
            .cloned()
            .unwrap()
    };
    let out = admin.handle(&event("manage")).await.unwrap();
    assert_eq!(out["license"]["managed"], true);
    assert_eq!(out["license"]["updated_by"], "admin@example.com");
    let out = admin.handle(&event("set-contract")).await.unwrap();
    let c = &out["license"]["contract"];
    assert_eq!(
        (
            c["effective_date"].as_str(),
            c["expiration_date"].as_str(),
            c["cost"].as_str(),
            c["currency"].as_str(),
            c["payment_frequency"].as_str()
        ),
        (
            Some("2026-01-01"),
            Some("2026-12-31"),
            Some("12000"),
            Some("USD"),
            Some("annual")
        )
    );
    let list = admin.handle(&event("list")).await.unwrap();
    let l = find(&list, "master-acct:licensed");
    assert_eq!(l["managed"], true);
    assert_eq!(l["contract"]["currency"], "USD");
    assert_eq!(
        l["name"], "Business",
        "read-only fields come from the LIC item"
    );
    assert_eq!(l["provisioned"], 50);
    assert_eq!(find(&list, "master-acct:basic")["managed"], false);

    // A partial change keeps the other fields.
    let mut change = event("set-contract");
    change["contract"] = json!({"payment_frequency": "monthly", "cost": "1000"});
    let out = admin.handle(&change).await.unwrap();
    assert_eq!(out["license"]["contract"]["currency"], "USD");
    assert_eq!(out["license"]["contract"]["payment_frequency"], "monthly");

    let out = admin.handle(&event("unset-contract")).await.unwrap();
    let c = &out["license"]["contract"];
    assert!(c["cost"].is_null() && c["currency"].is_null(), "{c}");
    assert_eq!(c["effective_date"], "2026-01-01", "fields not named stay");
    let out = admin.handle(&event("unmanage")).await.unwrap();
    assert_eq!(out["license"]["managed"], false);
    assert_eq!(
        out["license"]["contract"]["expiration_date"], "2026-12-31",
        "unmanage keeps the contract"
    );
    let report: Value = serde_json::from_str(&fetch(
        &files,
        &admin.handle(&event("report-json")).await.unwrap(),
    ))
    .unwrap();
    assert_eq!(
        report["totals"]["licenses"], 0,
        "nothing managed any more: {report}"
    );
    let mut all = unset_all();
    all["license_id"] = json!("master-acct:licensed");
    let out = admin.handle(&all).await.unwrap();
    assert_eq!(
        out["license"]["contract"],
        json!({"effective_date": null, "expiration_date": null, "cost": null, "currency": null, "payment_frequency": null})
    );
}

fn unset_all() -> Value {
    let mut v = event("unset-contract");
    v.as_object_mut().unwrap().remove("fields");
    v
}

#[tokio::test]
async fn unknown_connection_and_license_are_named() {
    let (_, admin) = seeded().await;
    let mut v = event("manage");
    v["license_id"] = json!("master-acct:on_prem");
    let e = refused(&admin, v).await;
    assert_eq!(e.kind(), "LicenseNotFound");
    assert!(
        e.to_string().contains("master-acct:licensed"),
        "lists the known ids: {e}"
    );
    let mut v = event("report-json");
    v["connection_id"] = json!("conn-nope");
    assert_eq!(refused(&admin, v).await.kind(), "ConnectionNotFound");
    let mut v = event("manage");
    v["account_id"] = json!(SUB);
    assert_eq!(
        refused(&admin, v).await.kind(),
        "LicenseNotFound",
        "license of another account"
    );
}

#[tokio::test]
async fn concurrent_changes_of_different_fields_both_stay() {
    let (_, admin) = seeded().await;
    let admin = Arc::new(admin);
    let mut tasks = Vec::new();
    for (i, contract) in [
        json!({"cost": "10"}),
        json!({"currency": "EUR"}),
        json!({"effective_date": "2026-01-01"}),
        json!({"payment_frequency": "monthly"}),
    ]
    .into_iter()
    .enumerate()
    {
        let admin = admin.clone();
        let mut v = event("set-contract");
        v["contract"] = contract;
        v["requested_by"] = json!(format!("admin{i}@example.com"));
        tasks.push(tokio::spawn(
            async move { admin.handle(&v).await.map(|_| ()) },
        ));
    }
    tasks.push(tokio::spawn({
        let admin = admin.clone();
        async move { admin.handle(&event("manage")).await.map(|_| ()) }
    }));
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let list = admin.handle(&event("list")).await.unwrap();
    let l = list["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["license_id"] == "master-acct:licensed")
        .unwrap();
    assert_eq!(l["managed"], true);
    assert_eq!(
        l["contract"],
        json!({"effective_date": "2026-01-01", "expiration_date": null, "cost": "10", "currency": "EUR", "payment_frequency": "monthly"})
    );
}

#[tokio::test]
async fn reports_show_the_cost_of_inactive_seats() {
    let (_, admin, files) = seeded_with_files().await;
    admin.handle(&event("manage")).await.unwrap();
    admin.handle(&event("set-contract")).await.unwrap();
    // 12000 a year = 1000 a month for 50 seats = 20 per seat; 9 users inactive beyond the
    // threshold: 180 a month. Expires 2026-12-31: 33 days after 2026-11-28.
    let (per_seat, inactive_cost, days) = (
        12000 / 12 / 50,
        12000 / 12 / 50 * 9,
        (NaiveDate::from_ymd_opt(2026, 12, 31).unwrap() - now().date_naive()).num_days(),
    );
    let body = |v: Value| fetch(&files, &v);

    let json_out = admin.handle(&event("report-json")).await.unwrap();
    assert_eq!(json_out["content_type"], "application/json");
    let r: Value = serde_json::from_str(&body(json_out)).unwrap();
    assert_eq!(
        r["accounts"].as_array().unwrap().len(),
        1,
        "only the managed license's account"
    );
    let l = &r["accounts"][0]["licenses"][0];
    assert_eq!(l["license_id"], "master-acct:licensed");
    assert_eq!(
        (
            l["assigned"].as_u64(),
            l["active"].as_u64(),
            l["inactive"].as_u64(),
            l["deactivated"].as_u64()
        ),
        (Some(40), Some(36 - 9), Some(9), Some(4))
    );
    assert_eq!(l["cost_per_seat_month"], per_seat.to_string());
    assert_eq!(l["inactive_seats_monthly_cost"], inactive_cost.to_string());
    assert_eq!(l["days_to_expiration"], days);
    assert_eq!(
        r["totals"]["costs"]["USD"]["inactive_seats_monthly_cost"],
        inactive_cost.to_string()
    );
    // Activity of the master's licensed users with status active: 2 days, 100 days, never.
    let d = &l["days_since_last_activity"];
    assert_eq!(
        (d["0-7"].as_u64(), d["91-180"].as_u64(), d["never"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{d}"
    );

    let csv = body(admin.handle(&event("report-csv")).await.unwrap());
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("license,"))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(
        row[col("inactive_seats_monthly_cost")],
        inactive_cost.to_string()
    );
    assert_eq!(row[col("currency")], "USD");
    assert_eq!(row[col("inactive")], "9");
    let total = csv
        .lines()
        .find(|l| l.starts_with("connection_total,"))
        .unwrap();
    assert!(total.contains(&format!(",{inactive_cost},")), "{total}");

    let html = body(admin.handle(&event("report-html")).await.unwrap());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains(&format!("{inactive_cost} USD")),
        "HTML shows the inactive cost"
    );
    for id in [
        "chart-license-seats",
        "chart-account-seats",
        "chart-activity",
        "chart-inactive-cost",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(
        !html.contains("https://") && !html.contains("src="),
        "nothing to load"
    );

    let text = body(admin.handle(&event("report-text")).await.unwrap());
    assert!(text.contains(&format!("{inactive_cost} USD")), "{text}");
    assert!(
        text.contains("Basic (unmanaged)") && text.contains("Sub account sub-account-id-1"),
        "scope all: {text}"
    );
}

// ----- user exports ---------------------------------------------------------------------------

use oracle::csv::{neutralized, parse as parse_csv};

/// The rows of a CSV export by the value of `key`, as maps of column → cell.
fn csv_rows(text: &str, key: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let rows = parse_csv(text);
    let header = rows[0].clone();
    let mut out = BTreeMap::new();
    for r in &rows[1..] {
        assert_eq!(r.len(), header.len(), "every row has every column: {r:?}");
        let m: BTreeMap<String, String> = header.iter().cloned().zip(r.iter().cloned()).collect();
        assert!(out.insert(m[key].clone(), m).is_none(), "one row per {key}");
    }
    out
}

const TRICKY: [&str; 10] = [
    "=HYPERLINK(\"http://x\",\"y\")",
    "+1+2",
    "-2+3",
    "@SUM(A1)",
    "\tTab",
    "\rReturn",
    "O'Brien, \"Bob\"",
    "Line\nbreak",
    "Zoë 東京",
    "safe=later",
];

/// Days since the last activity on both sides of the 30/60/90-day edges.
const EDGES: [i64; 7] = [0, 30, 31, 60, 61, 90, 91];

async fn export_seeded() -> (Records, Admin, Arc<MemoryFileStore>) {
    let (records, admin, files) = seeded_with_files().await;
    // Users with names a spreadsheet would run; one removed; one in the sub account.
    let mut users = Vec::new();
    for (i, name) in TRICKY.iter().enumerate() {
        users.push(UserRecord {
            user_id: Some(format!("t{i}")),
            email: format!("t{i}@example.com"),
            first_name: Some((*name).to_owned()),
            last_name: Some(format!("{name} Jr")),
            user_type: 1,
            status: "active".into(),
            role_id: None,
            role_name: None,
            account_id: MASTER.into(),
            active_date: Some(now() - Duration::days(10)),
            license_name: Some("Basic".into()),
            removed_at: (i == 9).then(now),
        });
    }
    records.upsert_users(CONN, &users).await.unwrap();
    let mut sub = users[0].clone();
    sub.user_id = Some("s1".into());
    sub.email = "s1@example.com".into();
    sub.first_name = Some("Sub".into());
    sub.account_id = SUB.into();
    records.upsert_users(CONN, &[sub]).await.unwrap();
    // Users on both sides of every band's edge (last meeting joined that many days ago).
    let edges: Vec<UserRecord> = EDGES
        .iter()
        .map(|d| UserRecord {
            user_id: Some(format!("d{d}")),
            email: format!("d{d}@example.com"),
            first_name: None,
            last_name: None,
            ..users[0].clone()
        })
        .collect();
    records.upsert_users(CONN, &edges).await.unwrap();
    let access: Vec<UserAccess> = EDGES
        .iter()
        .map(|d| UserAccess {
            user_key: format!("d{d}"),
            account_id: MASTER.into(),
            dates: ActivityDates {
                last_login: None,
                last_meeting_created: None,
                last_meeting_joined: Some(now() - Duration::days(*d) - Duration::hours(1)),
            },
        })
        .collect();
    records.upsert_access(CONN, &access).await.unwrap();
    // License Differentiation's candidates: u2 (100 days), u3 (never active, 900 days since
    // becoming active) and one whose user left the roster since.
    let candidate = |key: &str, last: Option<i64>, days: i64| ports::ReclamationCandidate {
        account_id: MASTER.into(),
        user_key: key.into(),
        user_id: Some(key.into()),
        email: format!("{key}@example.com"),
        license_id: format!("{MASTER}:licensed"),
        license_name: "Business".into(),
        user_type: 2,
        last_login: last.map(|d| now() - Duration::days(d)),
        last_meeting_created: None,
        last_meeting_joined: None,
        last_activity: last.map(|d| now() - Duration::days(d)),
        days_inactive: days,
        threshold_days: 60,
        computed_at: now() - Duration::hours(3),
    };
    records
        .put_candidates(
            CONN,
            &[
                candidate("u2", Some(100), 100),
                candidate("u3", None, 900),
                candidate("u9", Some(73), 73),
            ],
        )
        .await
        .unwrap();
    (records, admin, files)
}

#[tokio::test]
async fn export_requests_are_refused_with_the_field_named() {
    let (_, admin) = seeded().await;
    for (name, needles) in [
        (
            "malformed-export-bad-kind",
            &["field `kind`", "all_users, underutilized", "everyone"][..],
        ),
        (
            "malformed-export-bad-format",
            &["field `format`", "csv, jsonl", "xlsx"],
        ),
        ("malformed-export-missing-kind", &["kind"]),
        ("malformed-export-missing-requested-by", &["requested_by"]),
        (
            "malformed-export-unknown-field",
            &["unknown field `scope`", "kind"],
        ),
    ] {
        let e = refused(&admin, event(name)).await;
        assert_eq!(e.kind(), "InvalidRequest", "{name}: {e}");
        let msg = e.to_string();
        for n in needles {
            assert!(msg.contains(n), "{name}: {msg:?} lacks {n:?}");
        }
    }
    let good = event("export-all-users-csv");
    let with = |field: &str, v: Value| {
        let mut e = good.clone();
        e[field] = v;
        e
    };
    for (payload, needle) in [
        (with("kind", json!(1)), "field `kind`"),
        (with("kind", json!("ALL_USERS")), "field `kind`"),
        (with("format", json!(null)), "field `format`"),
        (with("format", json!("csv ")), "field `format`"),
        (
            with("requested_by", json!("  ")),
            "`requested_by` must not be empty",
        ),
        (
            with("requested_by", json!("a".repeat(257))),
            "`requested_by` is longer",
        ),
        (with("requested_by", json!("a\u{7}b")), "control characters"),
        (
            with("connection_id", json!("")),
            "`connection_id` must not be empty",
        ),
        (
            with("connection_id", json!(7)),
            "field `connection_id` must be a string",
        ),
        (
            with("requested_by", json!(["a"])),
            "field `requested_by` must be a string",
        ),
    ] {
        let e = refused(&admin, payload.clone()).await;
        assert_eq!(e.kind(), "InvalidRequest", "{payload}: {e}");
        assert!(e.to_string().contains(needle), "{payload}: {e}");
    }
    let e = refused(&admin, with("connection_id", json!("conn-nope"))).await;
    assert_eq!(e.kind(), "ConnectionNotFound");
    // The format defaults to CSV.
    let mut no_format = good.clone();
    no_format.as_object_mut().unwrap().remove("format");
    let out = admin.handle(&no_format).await.unwrap();
    assert_eq!(out["format"], "csv");
    assert!(out["key"].as_str().unwrap().ends_with(".csv"));
}

#[tokio::test]
async fn all_users_csv_rows_follow_the_rules() {
    let (_, admin, files) = export_seeded().await;
    let out = admin.handle(&event("export-all-users-csv")).await.unwrap();
    assert_eq!(out["operation"], "export");
    assert_eq!(out["kind"], "all_users");
    assert_eq!(out["content_type"], "text/csv; charset=utf-8");
    let key = out["key"].as_str().unwrap();
    let prefix = format!("connections/{CONN}/all_users/20261128T120000Z-");
    assert!(key.starts_with(&prefix) && key.ends_with(".csv"), "{key}");
    assert_eq!(
        key.len(),
        prefix.len() + 8 + 4,
        "8 random hex digits: {key}"
    );
    let expires = DateTime::parse_from_rfc3339(out["expires_at"].as_str().unwrap()).unwrap();
    let ttl = expires.with_timezone(&Utc) - Utc::now();
    assert!(
        (880..=900).contains(&ttl.num_seconds()),
        "15 minutes: {ttl}"
    );

    let text = fetch(&files, &out);
    let rows = csv_rows(&text, "email");
    // u1..u4 (licensed, master), t0..t8 (t9 is removed), s1 (sub), the edge users; not the
    // candidate u9.
    assert_eq!(rows.len(), 4 + 9 + 1 + EDGES.len(), "{:?}", rows.keys());
    assert_eq!(out["rows"], rows.len());
    assert!(
        !rows.contains_key("t9@example.com"),
        "removed users are left out"
    );
    assert!(
        !rows.contains_key("u9@example.com"),
        "a candidate without a user is no user"
    );
    // Days since last activity = whole days; bands 0-30, 31-60, 61-90, over 90, never
    // (`oracle::band`, the rule written out again).
    let band = |days: Option<i64>| oracle::band(days.map(|d| now() - Duration::days(d)), now());
    for (email, days, status, candidate) in [
        ("u1@example.com", Some(2), "active", "no"),
        ("u2@example.com", Some(100), "active", "yes"),
        ("u3@example.com", None, "active", "yes"),
        ("u4@example.com", Some(1), "inactive", "no"),
    ] {
        let r = &rows[email];
        let want_days = days.map(|d: i64| d.to_string()).unwrap_or_default();
        assert_eq!(r["days_since_last_activity"], want_days, "{email}");
        assert_eq!(r["band"], band(days), "{email}");
        assert_eq!(r["status"], status, "{email}");
        assert_eq!(r["candidate"], candidate, "{email}");
        assert_eq!(r["account_id"], MASTER);
        assert_eq!(r["account_name"], "Acme HQ");
        assert_eq!(r["license_name"], "Business");
        let login = days.map(|d| {
            (now() - Duration::days(d))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        });
        assert_eq!(
            r["last_login"],
            login.clone().unwrap_or_default(),
            "{email}"
        );
        assert_eq!(r["last_activity"], login.unwrap_or_default(), "{email}");
        assert_eq!(r["last_meeting_created"], "");
    }
    assert_eq!(rows["s1@example.com"]["account_name"], "Acme EU");
    for d in EDGES {
        let r = &rows[&format!("d{d}@example.com")];
        assert_eq!(r["days_since_last_activity"], d.to_string(), "whole days");
        assert_eq!(r["band"], band(Some(d)), "{d} days");
        assert_eq!(r["last_activity"], r["last_meeting_joined"]);
    }
    // Formula neutralization and quoting, for every tricky name.
    for (i, name) in TRICKY.iter().enumerate().take(9) {
        let r = &rows[&format!("t{i}@example.com")];
        assert_eq!(r["first_name"], neutralized(name), "t{i}");
        assert_eq!(r["last_name"], neutralized(&format!("{name} Jr")), "t{i}");
        assert_eq!(r["band"], "never active");
        assert_eq!(r["days_since_last_activity"], "");
    }
    // No cell of the file starts with a formula character.
    for row in parse_csv(&text) {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
}

#[tokio::test]
async fn underutilized_jsonl_and_csv_hold_the_candidates_with_their_reason() {
    let (_, admin, files) = export_seeded().await;
    let out = admin
        .handle(&event("export-underutilized-jsonl"))
        .await
        .unwrap();
    assert_eq!(out["content_type"], "application/x-ndjson");
    let text = fetch(&files, &out);
    assert!(text.ends_with('\n'));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let emails: Vec<&str> = lines.iter().map(|l| l["email"].as_str().unwrap()).collect();
    assert_eq!(
        emails,
        ["u2@example.com", "u3@example.com", "u9@example.com"]
    );
    assert_eq!(out["rows"], 3);
    let by = |e: &str| lines.iter().find(|l| l["email"] == e).unwrap();
    assert_eq!(
        by("u2@example.com")["reason"],
        "no login, meeting created or joined for 100 days (threshold 60)"
    );
    assert_eq!(by("u2@example.com")["days_inactive"], 100);
    assert_eq!(by("u2@example.com")["threshold_days"], 60);
    assert_eq!(
        by("u3@example.com")["reason"],
        "no login, meeting created or joined since becoming active 900 days ago (threshold 60)"
    );
    assert_eq!(by("u3@example.com")["last_activity"], Value::Null);
    assert_eq!(
        by("u9@example.com")["first_name"],
        Value::Null,
        "names unknown"
    );
    assert_eq!(by("u9@example.com")["account_name"], "Acme HQ");

    let out = admin
        .handle(&event("export-underutilized-csv"))
        .await
        .unwrap();
    let rows = csv_rows(&fetch(&files, &out), "email");
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows["u9@example.com"]["reason"],
        "no login, meeting created or joined for 73 days (threshold 60)"
    );
    // JSON lines keep the all-users names as they are (no spreadsheet runs them).
    let out = admin
        .handle(&event("export-all-users-jsonl"))
        .await
        .unwrap();
    let text = fetch(&files, &out);
    let t0: Value =
        serde_json::from_str(text.lines().find(|l| l.contains("t0@example.com")).unwrap()).unwrap();
    assert_eq!(t0["first_name"], TRICKY[0]);
    assert_eq!(t0["candidate"], false);
    assert_eq!(t0["days_since_last_activity"], Value::Null);
}

#[tokio::test]
async fn a_large_export_is_written_in_bounded_parts() {
    let records = Records::in_memory();
    let c = ConnectionRecord::new(
        CONN,
        MASTER,
        ZoomRegion::Na,
        ConnectionSettings::default(),
        now(),
    );
    records.insert_connection(&c).await.unwrap();
    let master = AccountRecord {
        account_id: MASTER.into(),
        kind: AccountKind::Master,
        name: None,
        owner_email: None,
        account_type: None,
        seats: None,
        created_at: None,
        removed_at: None,
    };
    records.sync_accounts(CONN, &[master], now()).await.unwrap();
    let users: Vec<UserRecord> = (0..3000)
        .map(|i| UserRecord {
            user_id: Some(format!("user-{i:05}")),
            email: format!("user-{i:05}@example.com"),
            first_name: Some("First".into()),
            last_name: Some("Last".into()),
            user_type: 2,
            status: "active".into(),
            role_id: None,
            role_name: None,
            account_id: MASTER.into(),
            active_date: None,
            license_name: Some("Business".into()),
            removed_at: None,
        })
        .collect();
    for batch in users.chunks(500) {
        records.upsert_users(CONN, batch).await.unwrap();
    }
    let part = 32 * 1024;
    let files = Arc::new(MemoryFileStore::new().with_part_size(part));
    let admin = Admin::new(Arc::new(records), files.clone(), Arc::new(now));
    let out = admin.handle(&event("export-all-users-csv")).await.unwrap();
    assert_eq!(out["rows"], 3000);
    let file = files.get(out["key"].as_str().unwrap()).unwrap();
    assert!(file.part_sizes.len() > 3, "{:?}", file.part_sizes);
    let (last, full) = file.part_sizes.split_last().unwrap();
    // A part is at least the part size and at most one 64 KiB chunk more.
    for p in full {
        assert!((part..part + 64 * 1024 + 512).contains(p), "{p}");
    }
    assert!(*last <= part + 64 * 1024 + 512);
    let rows = parse_csv(&fetch(&files, &out));
    assert_eq!(rows.len(), 3001);
    let emails: Vec<&String> = rows[1..].iter().map(|r| &r[2]).collect();
    let mut sorted = emails.clone();
    sorted.sort();
    assert_eq!(emails, sorted, "in key order, each once");
    sorted.dedup();
    assert_eq!(sorted.len(), 3000);
}
