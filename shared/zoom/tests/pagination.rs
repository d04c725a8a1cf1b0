//! Listings as streams: completeness at several page sizes over 10,000+ users, expired page
//! tokens (restart without duplicates) and repeated page tokens (an error, not a loop).

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::Query;
use axum::routing::get;
use futures::StreamExt;
use serde_json::{Value, json};
use zoom::{RateProfile, UserStatus, ZoomError};
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::tenant::TenantSpec;

fn big_tenant() -> SandboxConfig {
    let mut spec = TenantSpec::sized(7, 1, 0);
    spec.users_per_account = 10_500;
    spec.meetings_per_user = 1;
    SandboxConfig {
        tenant: spec,
        ..SandboxConfig::demo()
    }
}

fn truth_keys(sb: &zoom_sandbox::RunningSandbox, index: u32) -> Vec<String> {
    let mut keys: Vec<String> = sb
        .state
        .tenant
        .truth_users(index)
        .map(|u| match u.id {
            Some(id) => format!("id:{id}"),
            None => format!("email:{}", u.email.to_ascii_lowercase()),
        })
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn every_user_exactly_once_at_several_page_sizes() {
    let sb = common::sandbox(big_tenant()).await;
    let h = common::client(&sb);
    let expected = truth_keys(&sb, 0);
    assert!(expected.len() >= 10_000, "{} users", expected.len());
    for page_size in [30, 299, 300, 1000] {
        let mut keys = Vec::new();
        for status in [
            UserStatus::Active,
            UserStatus::Inactive,
            UserStatus::Pending,
        ] {
            let users = h
                .client
                .me()
                .users(status)
                .page_size(page_size)
                .collect_all()
                .await
                .unwrap();
            keys.extend(users.iter().map(|u| u.key()));
        }
        keys.sort();
        assert_eq!(keys.len(), expected.len(), "page size {page_size}");
        assert_eq!(keys, expected, "page size {page_size}");
    }
    // The master form over a sub account as well.
    let sub = sb.state.tenant.sub_accounts()[0].clone();
    let mut keys = Vec::new();
    for status in [
        UserStatus::Active,
        UserStatus::Inactive,
        UserStatus::Pending,
    ] {
        let mut s = h.client.account(&sub.id).users(status).stream();
        while let Some(u) = s.next().await {
            keys.push(u.unwrap().key());
        }
    }
    keys.sort();
    assert_eq!(keys, truth_keys(&sb, sub.index));
}

/// The active users' keys as listed by a slow consumer: the page token expires (15 minutes)
/// after the 700th user, before the next page. Returns what came and the truth's keys.
async fn listed_by_a_slow_consumer(repeats_allowed: bool) -> (Vec<String>, BTreeSet<String>) {
    let sb = common::sandbox(big_tenant()).await;
    let h = common::client(&sb);
    let expected: BTreeSet<String> = sb
        .state
        .tenant
        .truth_users(0)
        .filter(|u| u.status.as_str() == "active")
        .map(|u| format!("id:{}", u.id.unwrap()))
        .collect();
    let listing = h.client.me().users(UserStatus::Active).page_size(300);
    let listing = if repeats_allowed {
        listing.repeats_allowed()
    } else {
        listing
    };
    let mut stream = listing.stream();
    let mut got = Vec::new();
    while let Some(user) = stream.next().await {
        got.push(user.unwrap().key());
        if got.len() == 700 {
            sb.state.clock.advance(16 * 60);
        }
    }
    assert_eq!(h.client.metrics().page_restarts, 1);
    assert!(sb.state.stats.snapshot().status(400) >= 1);
    (got, expected)
}

#[tokio::test]
async fn expired_page_token_restarts_without_duplicates() {
    let (got, expected) = listed_by_a_slow_consumer(false).await;
    let unique: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "duplicates yielded");
    assert_eq!(unique, expected);
}

/// With repeats allowed, a restart yields the first pages again (the consumer drops repeats):
/// every user still comes, the repeats are exactly what came before the restart.
#[tokio::test]
async fn repeats_allowed_restart_yields_the_early_pages_again() {
    let (got, expected) = listed_by_a_slow_consumer(true).await;
    let unique: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(unique, expected);
    // Page 4's token had expired when it was asked for (after 900 users): pages 1-3 came
    // twice.
    assert_eq!(got.len(), expected.len() + 900, "pages 1-3 repeat");
}

#[tokio::test]
async fn repeated_page_token_is_an_error_not_a_loop() {
    let calls = Arc::new(AtomicU64::new(0));
    let c = calls.clone();
    let router = axum::Router::new().route(
        "/v2/users",
        get(
            move |Query(q): Query<std::collections::HashMap<String, String>>| {
                let c = c.clone();
                async move {
                    let n = c.fetch_add(1, Ordering::SeqCst);
                    let token = if q.contains_key("next_page_token") {
                        "B"
                    } else {
                        "A"
                    };
                    // Page 1 → A, page 2 → B, page 3 → B again.
                    let token = if n >= 2 { "B" } else { token };
                    Json(json!({
                        "page_size": 2,
                        "next_page_token": token,
                        "users": [
                            {"id": format!("u{n}a"), "email": format!("{n}a@x.test"), "type": 1},
                            {"id": format!("u{n}b"), "email": format!("{n}b@x.test"), "type": 2,
                             "status": "active", "something_new": [1, 2]}
                        ]
                    }))
                }
            },
        ),
    );
    let base = common::mock_server(router).await;
    let client = common::mock_client(&base, common::fast_retries(), RateProfile::unlimited());
    let items: Vec<Result<zoom::User, ZoomError>> = client
        .me()
        .users(UserStatus::Active)
        .stream()
        .collect()
        .await;
    let ok = items.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 6, "three pages of two users");
    assert!(matches!(
        items.last(),
        Some(Err(ZoomError::RepeatedPageToken { .. }))
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn empty_or_absent_token_ends_and_pending_users_dedupe_by_email() {
    // Page 1 lists a pending user; page 2 lists it again (unstable order) and ends with "".
    let router = axum::Router::new().route(
        "/v2/users",
        get(
            |Query(q): Query<std::collections::HashMap<String, String>>| async move {
                let body: Value = if q.contains_key("next_page_token") {
                    json!({"next_page_token": "", "users": [
                        {"email": "P@x.test", "type": 1, "status": "pending"},
                        {"email": "q@x.test", "type": 1, "status": "pending", "id": null}
                    ]})
                } else {
                    json!({"next_page_token": "t1", "users": [
                        {"email": "p@x.test", "type": 1, "status": "pending"}
                    ]})
                };
                Json(body)
            },
        ),
    );
    let base = common::mock_server(router).await;
    let client = common::mock_client(&base, common::fast_retries(), RateProfile::unlimited());
    let users = client
        .me()
        .users(UserStatus::Pending)
        .collect_all()
        .await
        .unwrap();
    let emails: Vec<_> = users.iter().map(|u| u.email.to_ascii_lowercase()).collect();
    assert_eq!(emails, vec!["p@x.test", "q@x.test"]);
}

#[tokio::test]
async fn decode_errors_name_the_path() {
    let router = axum::Router::new().route(
        "/v2/users",
        get(|| async {
            Json(json!({"users": [{"id": "a", "email": "a@x", "type": 1},
                                  {"id": "b", "email": "b@x", "type": "not-a-number"}]}))
        }),
    );
    let base = common::mock_server(router).await;
    let client = common::mock_client(&base, common::fast_retries(), RateProfile::unlimited());
    let err = client
        .me()
        .users(UserStatus::Active)
        .collect_all()
        .await
        .unwrap_err();
    match err {
        ZoomError::Decode { path, .. } => assert_eq!(path, "users[1].type"),
        other => panic!("{other:?}"),
    }
}
