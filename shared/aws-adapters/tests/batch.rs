//! 10,000 users through BatchWriteItem: everything lands, and a second identical run
//! changes nothing (full item sets compared).

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use aws_adapters::backend::{Index, Item, Query, SkCond, query_all};
use aws_adapters::*;
use chrono::{Duration, TimeZone, Utc};
use futures::TryStreamExt;
use ports::*;
use sync_domain::ActivityDates;

const USERS: usize = 10_000;
const ACCOUNTS: [&str; 3] = ["master", "sub-1", "sub-2"];

fn users() -> Vec<UserRecord> {
    let t0 = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    (0..USERS)
        .map(|i| {
            let account = ACCOUNTS[i % ACCOUNTS.len()];
            let pending = i % 97 == 0;
            UserRecord {
                user_id: (!pending).then(|| format!("Zu{i:06}x")),
                email: format!("person.{i}@example.com"),
                first_name: Some(format!("Ana {i}")),
                last_name: Some("Łukasiewicz".into()),
                user_type: [1, 2, 2, 3, 99][i % 5],
                status: if pending { "pending" } else { "active" }.into(),
                role_id: Some("2".into()),
                role_name: None,
                account_id: account.into(),
                active_date: (!pending).then(|| t0 + Duration::hours(i as i64)),
                license_name: Some("Business".into()),
                removed_at: None,
            }
        })
        .collect()
}

fn access(users: &[UserRecord]) -> Vec<UserAccess> {
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    users
        .iter()
        .enumerate()
        .filter(|(_, u)| u.user_id.is_some())
        .map(|(i, u)| UserAccess {
            user_key: u.key(),
            account_id: u.account_id.clone(),
            dates: ActivityDates {
                last_login: (i % 4 != 0).then(|| t0 + Duration::minutes(i as i64)),
                last_meeting_created: (i % 3 == 0).then(|| t0 + Duration::hours(i as i64 % 500)),
                last_meeting_joined: None,
            },
        })
        .collect()
}

/// Every item of the connection's user partitions, keyed by (pk, sk).
async fn snapshot(records: &Records, cid: &str) -> BTreeMap<(String, String), Item> {
    let mut all = BTreeMap::new();
    for account in ACCOUNTS {
        let q = Query::new(
            Index::Primary,
            format!("CONN#{cid}#ACCT#{account}"),
            SkCond::Any,
        );
        let items: Vec<Item> = query_all(&**records.table(), q)
            .try_collect()
            .await
            .unwrap();
        for item in items {
            let key = (
                item["pk"].as_str().unwrap().to_owned(),
                item["sk"].as_str().unwrap().to_owned(),
            );
            all.insert(key, item);
        }
    }
    all
}

/// `full`: also activity items, listing and the removal pass (moto is slow per item: its
/// variant keeps to the 10,000 roster items; the rest is covered by tests/stores.rs there).
async fn run(records: Records, label: &str, full: bool) {
    let cid = "conn-batch";
    let users = users();
    let access = if full { access(&users) } else { Vec::new() };
    let started = Instant::now();
    assert_eq!(records.upsert_users(cid, &users).await.unwrap(), USERS);
    records.upsert_access(cid, &access).await.unwrap();
    let first_write = started.elapsed();

    let first = snapshot(&records, cid).await;
    assert_eq!(first.len(), USERS + access.len(), "every item landed");
    if full {
        list_and_check(&records, cid, &access).await;
    }

    // Second identical run: same writes.
    let started = Instant::now();
    records.upsert_users(cid, &users).await.unwrap();
    records.upsert_access(cid, &access).await.unwrap();
    let second_write = started.elapsed();
    let started = Instant::now();
    let second = snapshot(&records, cid).await;
    let read = started.elapsed();
    assert!(first == second, "a second identical run changed items");
    println!(
        "batch[{label}]: {USERS} users + {} access items: first write {:.2} s, second run {:.2} s, reading all items back {:.2} s",
        access.len(),
        first_write.as_secs_f64(),
        second_write.as_secs_f64(),
        read.as_secs_f64()
    );
}

async fn list_and_check(records: &Records, cid: &str, access: &[UserAccess]) {
    let mut listed = 0;
    for account in ACCOUNTS {
        let views: Vec<UserView> = records
            .list_users(cid, account)
            .try_collect()
            .await
            .unwrap();
        listed += views.len();
        assert!(views.iter().all(|v| v.roster.account_id == account));
        assert_eq!(
            views.iter().filter(|v| v.access.is_some()).count(),
            access.iter().filter(|a| a.account_id == account).count()
        );
    }
    assert_eq!(listed, USERS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_users_land_and_rerun_changes_nothing_moto() {
    let Some(moto) = common::moto("ten_thousand_users").await else {
        return;
    };
    run(
        Records::dynamo(moto.clients.dynamodb.clone(), moto.table.clone()),
        "moto",
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_users_land_and_rerun_changes_nothing_memory() {
    run(Records::in_memory(), "memory", true).await;
}
