//! Answers lost after the request was carried out (`lost`): the change is made (a user's status,
//! a PATCH, a refresh-token rotation) while the client sees a dropped connection, a 502 page or a
//! timeout; the fates follow the seed; the statistics count them.

mod oauth_common;

use std::time::Duration;

use oauth_common::*;
use reqwest::Method;
use serde_json::{Value, json};
use zoom_sandbox::tenant::{Role, TenantSpec, User, UserStatus};
use zoom_sandbox::{RunningSandbox, SandboxConfig};

/// The client gives up long before the sandbox's hold (a lost answer of the timeout kind),
/// and long after any answer that is not held comes: a dropped connection or a 502 that took
/// longer than this on a loaded machine would read as a timeout (and a status change checked
/// right after it might not be carried out yet). 3 s: a stall of that length is no longer a
/// matter of load; 1 s was not far from a CI runner's worst pause.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(3);
/// Ten times the client's timeout (held answers are cut short when the sandbox shuts down).
const HOLD: &str = "hold=30s";

/// What the client saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Status(u16),
    /// The connection closed without a (complete) response.
    Dropped,
    /// No answer within the client's timeout.
    TimedOut,
}

impl Seen {
    /// The `faults` kind counted for a lost answer the client saw as this.
    fn lost_kind(&self) -> &'static str {
        match self {
            Seen::Dropped => "lost_drop",
            Seen::Status(502) => "lost_502",
            Seen::TimedOut => "lost_timeout",
            Seen::Status(s) => panic!("a lost answer is never a {s}"),
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .build()
        .unwrap()
}

async fn seen(request: reqwest::RequestBuilder) -> (Seen, String) {
    match request.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            match r.text().await {
                Ok(body) => (Seen::Status(status), body),
                Err(e) if e.is_timeout() => (Seen::TimedOut, String::new()),
                Err(_) => (Seen::Dropped, String::new()),
            }
        }
        Err(e) if e.is_timeout() => (Seen::TimedOut, String::new()),
        Err(_) => (Seen::Dropped, String::new()),
    }
}

/// At the fixed date: the tenant's users (and which of them are active licensed members) do
/// not change with the day the test runs.
async fn sandbox(faults: &str) -> RunningSandbox {
    let config = SandboxConfig {
        tenant: TenantSpec::sized(31, 2, 400),
        ..SandboxConfig::demo()
    }
    .at_fixed_date()
    .with_faults(faults.parse().unwrap());
    start(config).await
}

/// Active licensed members of the first sub account: (account id, account index, user).
fn members(sb: &RunningSandbox, n: usize) -> (String, u32, Vec<User>) {
    let tenant = &sb.state.tenant;
    let sub = tenant.sub_accounts()[0].clone();
    let users: Vec<User> = (0..sub.users)
        .filter_map(|u| tenant.user(sub.index, u))
        .filter(|u| u.role == Role::Member && u.status == UserStatus::Active && u.user_type == 2)
        .take(n)
        .collect();
    assert_eq!(users.len(), n, "the tenant has {n} active licensed members");
    (sub.id, sub.index, users)
}

/// The user's state now (the sandbox's truth, not an answer the client saw).
fn now(sb: &RunningSandbox, account: u32, user: &User) -> User {
    let now = sb.state.tenant.user(account, user.index).unwrap();
    assert_eq!(now.id, user.id);
    now
}

const STATUS_TEMPLATE: &str = "/v2/accounts/{accountId}/users/{userId}/status";
const USER_TEMPLATE: &str = "/v2/accounts/{accountId}/users/{userId}";

/// Deactivates six members and downgrades a seventh (PATCH), every answer lost; returns what
/// the client saw, in order.
async fn deactivate_six_and_patch_one(seed: u64) -> Vec<Seen> {
    let sb = sandbox(&format!(
        "lost=1,lost_methods=PUT,PATCH,lost_paths=/v2/accounts,{HOLD},seed={seed}"
    ))
    .await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    let (account_id, account, users) = members(&sb, 7);
    let http = client();
    let mut fates = Vec::new();
    for user in &users[..6] {
        let url = format!(
            "{}/accounts/{account_id}/users/{}/status",
            sb.api_base_url(),
            user.id
        );
        let (fate, body) = seen(
            http.put(url)
                .bearer_auth(&token)
                .json(&json!({"action": "deactivate"})),
        )
        .await;
        if fate == Seen::Status(502) {
            assert!(
                body.contains("502 Bad Gateway"),
                "the load balancer's page: {body}"
            );
        }
        assert_ne!(fate, Seen::Status(200), "the answer is lost");
        // Carried out all the same.
        assert_eq!(
            now(&sb, account, user).status,
            UserStatus::Inactive,
            "{fate:?}"
        );
        fates.push(fate);
    }
    let patched = &users[6];
    let (fate, _) = seen(
        http.patch(format!(
            "{}/accounts/{account_id}/users/{}",
            sb.api_base_url(),
            patched.id
        ))
        .bearer_auth(&token)
        .json(&json!({"type": 1})),
    )
    .await;
    assert_ne!(fate, Seen::Status(204));
    assert_eq!(now(&sb, account, patched).user_type, 1, "{fate:?}");
    fates.push(fate);

    // GETs are not lost (lost_methods), and show the change.
    let r = api_get(
        &sb,
        &token,
        &format!("/accounts/{account_id}/users/{}", users[0].id),
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "inactive");

    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.lost_at("PUT", STATUS_TEMPLATE), 6);
    assert_eq!(stats.lost_at("PATCH", USER_TEMPLATE), 1);
    assert_eq!(stats.lost(), 7);
    for kind in ["lost_drop", "lost_502", "lost_timeout"] {
        let expected = fates.iter().filter(|f| f.lost_kind() == kind).count() as u64;
        assert_eq!(stats.fault(kind), expected, "{kind}: {fates:?}");
    }
    assert_eq!(stats.endpoint("GET", USER_TEMPLATE), 1);
    sb.shutdown().await;
    fates
}

#[tokio::test]
async fn a_lost_status_change_is_applied_though_the_client_saw_no_answer() {
    let a = deactivate_six_and_patch_one(5).await;
    assert_eq!(
        a,
        deactivate_six_and_patch_one(5).await,
        "same seed, same fates"
    );
    assert_ne!(
        a,
        deactivate_six_and_patch_one(6).await,
        "another seed, other fates"
    );
    for seen in [Seen::Dropped, Seen::Status(502), Seen::TimedOut] {
        assert!(a.contains(&seen), "seed 5 shows every kind: {a:?}");
    }
}

/// `lost_paths=/oauth/token`: a refresh is carried out (the refresh token rotates) and its answer
/// lost; the old refresh token is dead, the new one — never seen by the client — works. `/v2`
/// requests are not touched.
#[tokio::test]
async fn a_lost_refresh_rotated_the_refresh_token() {
    let sb = start(SandboxConfig::demo()).await;
    let issued = sb.state.issue_token_for_tests(&[]);
    let old = issued.refresh_token.clone().unwrap();
    for (i, spec) in [
        "lost=1,lost_paths=/oauth/token",
        "lost=1,lost_methods=POST,lost_paths=/oauth",
    ]
    .into_iter()
    .enumerate()
    {
        let (s, _) = control(
            &sb,
            Method::POST,
            "faults",
            Some(json!({ "spec": format!("{spec},{HOLD}") })),
        )
        .await;
        assert_eq!(s, 200);
        let before = sb.state.stats.snapshot();
        let current = sb
            .state
            .oauth
            .refresh_token_for_tests(&issued.access_token)
            .unwrap();
        let (fate, _) = seen(
            client()
                .post(format!("{}/oauth/token", sb.base_url()))
                .basic_auth(client_id(&sb), Some(client_secret(&sb)))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", current.as_str()),
                ]),
        )
        .await;
        assert_ne!(fate, Seen::Status(200), "{spec}");
        assert_ne!(fate, Seen::Status(400), "{spec}");
        let stats = sb.state.stats.snapshot();
        assert_eq!(stats.lost_at("POST", "/oauth/token"), i as u64 + 1);
        assert_eq!(
            stats.grants("refresh_token") - before.grants("refresh_token"),
            1,
            "the refresh was carried out"
        );
        assert_eq!(
            stats.fault(fate.lost_kind()),
            before.fault(fate.lost_kind()) + 1
        );
        // Only the token endpoint is targeted.
        let r = api_get(&sb, &issued.access_token, "/users/me").await;
        assert_eq!(r.status().as_u16(), 200);
    }

    control(&sb, Method::DELETE, "faults", None).await;
    let (status, body) = refresh(&sb, &old).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The token the lost answer carried is the live one.
    let rotated = sb
        .state
        .oauth
        .refresh_token_for_tests(&issued.access_token)
        .unwrap();
    assert_ne!(rotated, old);
    let (status, body) = refresh(&sb, &rotated).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sb.state.stats.snapshot().lost(), 2);
}

/// Without a path filter the token endpoint loses answers only with `oauth=true`, as the
/// other faults; an invalid_grant answer can be lost too.
#[tokio::test]
async fn token_answers_are_lost_with_oauth_only_without_a_path_filter() {
    let sb = start(SandboxConfig::demo()).await;
    let issued = sb.state.issue_token_for_tests(&[]);
    let rt = issued.refresh_token.unwrap();
    control(&sb, Method::POST, "faults", Some(json!({"lost": 1.0}))).await;
    let (status, body) = refresh(&sb, &rt).await;
    assert_eq!(status, 200, "{body}");
    let rt = body["refresh_token"].as_str().unwrap().to_string();
    // `/v2` answers are lost.
    let (fate, _) = seen(
        client()
            .get(format!("{}/users/me", sb.api_base_url()))
            .bearer_auth(&issued.access_token),
    )
    .await;
    assert_ne!(fate, Seen::Status(200));
    assert_eq!(
        sb.state
            .stats
            .snapshot()
            .lost_at("GET", "/v2/users/{userId}"),
        1
    );

    let (s, config) = control(
        &sb,
        Method::POST,
        "faults",
        Some(json!({"lost": 1.0, "oauth": true, "hold_ms": 30000})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(config["lost"], 1.0);
    let (fate, _) = seen(
        client()
            .post(format!("{}/oauth/token", sb.base_url()))
            .basic_auth(client_id(&sb), Some(client_secret(&sb)))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "zsb_rt_dead"),
            ]),
    )
    .await;
    assert_ne!(
        fate,
        Seen::Status(400),
        "the invalid_grant answer is lost too"
    );
    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.lost_at("POST", "/oauth/token"), 1);
    assert_eq!(stats.token_failures.get("refresh_token"), Some(&1));
    // The refresh before (no `oauth`) was answered and is the live one.
    control(&sb, Method::DELETE, "faults", None).await;
    assert_eq!(refresh(&sb, &rt).await.0, 200);
}

#[tokio::test]
async fn the_control_endpoint_takes_the_lost_answer_fields() {
    let sb = start(SandboxConfig::demo()).await;
    let (s, v) = control(
        &sb,
        Method::POST,
        "faults",
        Some(json!({"lost": 0.05, "lost_methods": ["PUT", "POST"], "lost_paths": ["/oauth/token", "/v2/users"], "seed": 3})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["lost_methods"], json!(["PUT", "POST"]));
    assert_eq!(v["lost_paths"], json!(["/oauth/token", "/v2/users"]));
    let (s, v) = control(
        &sb,
        Method::POST,
        "faults",
        Some(json!({"spec": "lost=5%,lost_methods=PUT,PATCH,lost_paths=/v2/users,seed=3"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["lost"], 0.05);
    assert_eq!(v["lost_methods"], json!(["PUT", "PATCH"]));
    let (_, v) = control(&sb, Method::GET, "faults", None).await;
    assert_eq!(v["lost_paths"], json!(["/v2/users"]));
    for bad in [
        json!({"lost": 1.5}),
        json!({"lost": 0.6, "drop": 0.6}),
        json!({"lost": 0.1, "lost_paths": ["v2/users"]}),
        json!({"spec": "lost=0.1,lost_methods=P*T"}),
    ] {
        let (s, _) = control(&sb, Method::POST, "faults", Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad}");
    }
}
