//! The use case on the in-memory table: every request of `events/license-admin/`, validation
//! of every contract field, the manage/set/unset/unmanage round trip, read-only fields,
//! concurrent changes, and the cost of inactive seats in the JSON, CSV and HTML reports.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_adapters::Records;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use license_admin::{Admin, AdminError};
use ports::{
    AccountKind, AccountRecord, AccountStore, ConnectionRecord, ConnectionSettings,
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
    let admin = Admin::new(Arc::new(records.clone()), Arc::new(now));
    (records, admin)
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
    let (_, admin) = seeded().await;
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
    let report: Value = serde_json::from_str(
        admin.handle(&event("report-json")).await.unwrap()["body"]
            .as_str()
            .unwrap(),
    )
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
    let (_, admin) = seeded().await;
    admin.handle(&event("manage")).await.unwrap();
    admin.handle(&event("set-contract")).await.unwrap();
    // 12000 a year = 1000 a month for 50 seats = 20 per seat; 9 users inactive beyond the
    // threshold: 180 a month. Expires 2026-12-31: 33 days after 2026-11-28.
    let (per_seat, inactive_cost, days) = (
        12000 / 12 / 50,
        12000 / 12 / 50 * 9,
        (NaiveDate::from_ymd_opt(2026, 12, 31).unwrap() - now().date_naive()).num_days(),
    );
    let body = |v: Value| v["body"].as_str().unwrap().to_owned();

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
