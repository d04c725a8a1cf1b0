//! Pagination of the sandbox's listings: every user exactly once at every page size and
//! status, page-token expiry (error 300), page-size default and cap.

mod rest_common;

use std::collections::{BTreeSet, HashMap};

use rest_common::start;
use zoom_sandbox::tenant::{TenantSpec, UserStatus};

fn key(u: &serde_json::Value) -> String {
    u["email"].as_str().expect("email").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_listed_exactly_once_at_every_page_size_and_status() {
    let api = start(TenantSpec::sized(17, 3, 260)).await;
    let tenant = &api.sb.state.tenant;
    for account in &tenant.accounts()[..tenant.accounts().len() - 1] {
        // Expected users per status, from the ground truth.
        let mut expected: HashMap<UserStatus, BTreeSet<String>> = HashMap::new();
        for u in tenant.truth_users(account.index) {
            expected.entry(u.status).or_default().insert(u.email);
        }
        let prefix = api.prefix(&account.id);
        for status in UserStatus::ALL {
            let want = expected.get(&status).cloned().unwrap_or_default();
            for page_size in [1usize, 7, 30, 300] {
                if page_size == 1 && want.len() > 120 {
                    continue; // keep the test quick; 1 is covered on the smaller sets
                }
                let path = format!("{prefix}/users?status={}", status.as_str());
                let users = api.list_all(&path, "users", page_size).await;
                let keys: Vec<String> = users.iter().map(key).collect();
                let unique: BTreeSet<String> = keys.iter().cloned().collect();
                assert_eq!(
                    keys.len(),
                    unique.len(),
                    "{path} page_size={page_size}: duplicates"
                );
                assert_eq!(unique, want, "{path} page_size={page_size}");
                for u in &users {
                    assert_eq!(u["status"], status.as_str());
                    assert_eq!(
                        u.get("id").is_some(),
                        status != UserStatus::Pending,
                        "pending users have no id, others do: {u}"
                    );
                }
            }
        }
    }
    // Page size 1 over a bigger set at least once.
    let master = tenant.master_account_id().to_string();
    let active = api.list_all("/users?status=active", "users", 1).await;
    assert_eq!(
        active.len() as u32,
        tenant
            .counts(tenant.account_by_id(&master).unwrap().index)
            .of_status(UserStatus::Active)
    );
}

#[tokio::test]
async fn page_size_defaults_to_30_and_is_capped_at_300() {
    let api = start(TenantSpec::sized(5, 0, 800)).await;
    let v = api.ok("/users").await;
    assert_eq!(v["page_size"], 30);
    assert_eq!(v["users"].as_array().unwrap().len(), 30);
    let total = v["total_records"].as_u64().unwrap();
    assert!(total > 300, "need more than 300 active users, have {total}");
    assert_eq!(v["page_count"].as_u64().unwrap(), total.div_ceil(30));
    let v = api.ok("/users?page_size=1000").await;
    assert_eq!(v["page_size"], 300);
    assert_eq!(v["users"].as_array().unwrap().len(), 300);
    let (s, v) = api.get("/users?page_size=abc").await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(300)));
}

#[tokio::test]
async fn next_page_token_expires_after_15_minutes() {
    let api = start(TenantSpec::demo()).await;
    let first = api.ok("/users?page_size=2").await;
    let token = first["next_page_token"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    // Still valid after 14 minutes.
    api.sb.state.clock.advance(14 * 60);
    let second = api
        .ok(&format!("/users?page_size=2&next_page_token={token}"))
        .await;
    assert_ne!(second["users"][0]["email"], first["users"][0]["email"]);
    // Expired after 15 minutes and a bit.
    api.sb.state.clock.advance(61);
    let (s, v) = api
        .get(&format!("/users?page_size=2&next_page_token={token}"))
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["code"], 300);
    assert_eq!(v["message"], "The next page token is invalid or expired.");
    // A token of another listing or a made-up one is invalid too.
    let sub = api.sb.state.tenant.sub_accounts()[0].id.clone();
    let other = api.ok(&format!("/accounts/{sub}/users?page_size=1")).await;
    let other_token = other["next_page_token"].as_str().unwrap();
    assert!(!other_token.is_empty());
    let (s, v) = api
        .get(&format!("/users?page_size=1&next_page_token={other_token}"))
        .await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(300)));
    let (s, v) = api
        .get("/users?page_size=2&next_page_token=IAfJX3jsOLW7w3dokmFl84zOa0MAVGyMEB2")
        .await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(300)));
}

#[tokio::test]
async fn other_listings_paginate_completely() {
    let api = start(TenantSpec::sized(9, 12, 300)).await;
    let tenant = &api.sb.state.tenant;
    // Sub accounts.
    let subs = api.list_all("/accounts", "accounts", 5).await;
    let ids: Vec<&str> = subs.iter().map(|a| a["id"].as_str().unwrap()).collect();
    let want: Vec<&str> = tenant
        .sub_accounts()
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(ids, want);
    // A user's meetings and a meeting's participants at page size 1.
    let (a, u) = (0..tenant.user_count(0))
        .map(|u| (0u32, u))
        .max_by_key(|(a, u)| tenant.meetings(*a, *u).len())
        .unwrap();
    let user = tenant.user(a, u).unwrap();
    let meetings = api
        .list_all(&format!("/users/{}/meetings", user.id), "meetings", 1)
        .await;
    let want: Vec<i64> = tenant.meetings(a, u).iter().map(|m| m.id).collect();
    let got: Vec<i64> = meetings.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(got, want);
    let m = tenant
        .meetings(a, u)
        .into_iter()
        .max_by_key(|m| tenant.participants(m).len())
        .unwrap();
    let rows = api
        .list_all(
            &format!(
                "/past_meetings/{}/participants",
                rest_common::enc_uuid(&m.uuid)
            ),
            "participants",
            1,
        )
        .await;
    assert_eq!(rows.len(), tenant.participants(&m).len());
}
