//! Rate limits at the gate: 429s with Zoom's bodies and headers beyond the limits, none below.
//! Independent of the machine's speed and of the day: the sandboxes run at the fixed date (noon,
//! far from the UTC midnight where daily caps reset), a burst runs with the sandbox clock held
//! back (no refill however long the requests take), pacing uses the sandbox clock instead of
//! sleeping.

mod oauth_common;

use chrono::{DateTime, Utc};
use oauth_common::*;
use reqwest::Method;
use serde_json::{Value, json};
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::config::{BudgetMode, RateLimitConfig, RateLimitProfile};

const QPS_BODY: &str =
    "You have reached the maximum per-second rate limit for this API. Try again later.";
const DAILY_BODY: &str = "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.";

fn business(scale: f64) -> SandboxConfig {
    SandboxConfig::demo()
        .at_fixed_date()
        .with_rate_limits(RateLimitConfig {
            profile: RateLimitProfile::Business,
            scale,
            ..RateLimitConfig::default()
        })
}

#[tokio::test]
async fn a_burst_beyond_the_medium_limit_gets_zoom_429s() {
    // Business Medium is 60/s; scaled by 0.05: 3 per second, at most 3 at once.
    let sb = start(business(0.05)).await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    let mut ok = 0u32;
    let mut limited = Vec::new();
    for i in 0..20 {
        if i == 1 {
            // The first request made the bucket (full: 3, one taken) at the sandbox's now.
            // Held back an hour, the clock stays before that time for the whole burst: the
            // bucket refills nothing, however long the requests take (it used to refill 3
            // per second of real time, so a slow enough machine saw no 429).
            sb.state.clock.advance(-3600);
        }
        let r = api_get(&sb, &token, "/users?page_size=1").await;
        match r.status().as_u16() {
            200 => {
                assert_eq!(header(&r, "x-ratelimit-category"), Some("Medium"));
                assert_eq!(header(&r, "x-ratelimit-type"), Some("QPS"));
                assert_eq!(header(&r, "x-ratelimit-limit"), Some("3"));
                ok += 1;
            }
            429 => limited.push(r),
            s => panic!("unexpected status {s}"),
        }
    }
    // The bucket holds 3 and no sandbox time passed for it: the first 3 pass, the other 17
    // are refused.
    assert_eq!(ok, 3, "admitted of 20");
    assert_eq!(limited.len(), 17, "refused of 20");
    let n_limited = limited.len() as u64;
    for r in limited {
        assert!(header(&r, "x-zm-trackingid").is_some());
        assert_eq!(header(&r, "x-ratelimit-category"), Some("Medium"));
        assert_eq!(header(&r, "x-ratelimit-type"), Some("QPS"));
        assert_eq!(header(&r, "x-ratelimit-limit"), Some("3"));
        assert_eq!(header(&r, "x-ratelimit-remaining"), Some("0"));
        assert_eq!(header(&r, "retry-after"), Some("1"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, json!({"code": 429, "message": QPS_BODY}));
    }
    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.rate_limited_qps, n_limited);
    assert_eq!(stats.status(429), n_limited);
    assert_eq!(stats.rate_limited_by_category["Medium"], n_limited);
    assert_eq!(stats.by_category["Medium"], 20);

    // The same figures over HTTP; reset clears them.
    let (_, http_stats) = control(&sb, Method::GET, "stats", None).await;
    assert_eq!(http_stats["by_endpoint"]["GET /v2/users"], 20);
    assert_eq!(http_stats["rate_limited"], n_limited);
    assert_eq!(http_stats["by_status"]["429"], n_limited);
    let (_, cleared) = control(&sb, Method::POST, "stats/reset", None).await;
    assert_eq!(cleared["requests"], 0);
    assert!(cleared["since"].is_string());
    assert_eq!(sb.state.stats.snapshot().rate_limited, 0);

    // Light has its own budget (4/s here): not affected.
    let r = api_get(&sb, &token, "/users/me").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, "x-ratelimit-category"), Some("Light"));
    assert_eq!(header(&r, "x-ratelimit-limit"), Some("4"));
}

#[tokio::test]
async fn requests_paced_at_the_limit_get_no_429() {
    let sb = start(business(0.05)).await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    // 3 requests per (sandbox) second for 15 seconds: exactly the limit.
    for _ in 0..15 {
        for _ in 0..3 {
            let r = api_get(&sb, &token, "/users?page_size=1").await;
            assert_eq!(r.status().as_u16(), 200);
        }
        advance(&sb, 1).await;
    }
    assert_eq!(sb.state.stats.snapshot().rate_limited, 0);
}

#[tokio::test]
async fn sub_account_calls_draw_on_the_masters_budget_unless_told_otherwise() {
    // Medium ×0.01: 0.6 per second, one at a time.
    let sb = start(business(0.01)).await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    let accounts: Value = api_get(&sb, &token, "/accounts")
        .await
        .json()
        .await
        .unwrap();
    let sub = accounts["accounts"][0]["id"].as_str().unwrap().to_string();
    let sub_users = format!("/accounts/{sub}/users?page_size=1");

    let (s, _) = control(&sb, Method::POST, "rate-limits/reset", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        api_get(&sb, &token, "/users?page_size=1").await.status(),
        200
    );
    // Held back, the clock gives the spent bucket no time to refill (1.7 s of real time
    // would), however slowly the next request comes.
    sb.state.clock.advance(-3600);
    // The master's Medium budget is spent: the sub-account listing is refused too.
    let r = api_get(&sb, &token, &sub_users).await;
    assert_eq!(r.status().as_u16(), 429);

    // Per target account: the sub account has its own budget.
    let (s, cfg) = control(
        &sb,
        Method::PUT,
        "rate-limits",
        Some(json!({"budget": "target"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(cfg["profile"], "business");
    assert_eq!(cfg["scale"], 0.01);
    assert_eq!(
        api_get(&sb, &token, "/users?page_size=1").await.status(),
        200
    );
    assert_eq!(api_get(&sb, &token, &sub_users).await.status(), 200);
    assert_eq!(sb.state.rate_limiter.config().budget, BudgetMode::Target);

    // Off: no limits, no rate-limit headers.
    control(
        &sb,
        Method::PUT,
        "rate-limits",
        Some(json!({"profile": "off"})),
    )
    .await;
    for _ in 0..10 {
        let r = api_get(&sb, &token, "/users?page_size=1").await;
        assert_eq!(r.status().as_u16(), 200);
        assert!(header(&r, "x-ratelimit-type").is_none());
    }
}

async fn sandbox_now(sb: &zoom_sandbox::RunningSandbox) -> DateTime<Utc> {
    let (_, body) = control(sb, Method::GET, "clock", None).await;
    body["now"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_daily_cap_runs_out_with_a_retry_after_date() {
    // Free: Medium 2/s and 2,000 a day; per-second limits ×10 (20/s), daily caps ×0.005 (10).
    // At the fixed date: the 13 requests cannot straddle a UTC midnight (the sandbox's day
    // starts at noon), so the counts and the retry-after date hold on every run.
    let sb = start(
        SandboxConfig::demo()
            .at_fixed_date()
            .with_rate_limits(RateLimitConfig {
                profile: RateLimitProfile::Free,
                scale: 10.0,
                daily_scale: Some(0.005),
                ..RateLimitConfig::default()
            }),
    )
    .await;
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    let now = sandbox_now(&sb).await;
    let mut remaining = Vec::new();
    for _ in 0..10 {
        let r = api_get(&sb, &token, "/users?page_size=1").await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(header(&r, "x-ratelimit-type"), Some("Daily-limit"));
        assert_eq!(header(&r, "x-ratelimit-limit"), Some("10"));
        remaining.push(header(&r, "x-ratelimit-remaining").unwrap().to_string());
    }
    assert_eq!(
        remaining,
        ["9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]
    );

    let next_midnight = (now.date_naive() + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    for _ in 0..3 {
        let r = api_get(&sb, &token, "/users?page_size=1").await;
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(header(&r, "x-ratelimit-type"), Some("Daily-limit"));
        assert_eq!(header(&r, "x-ratelimit-category"), Some("Medium"));
        assert_eq!(header(&r, "x-ratelimit-remaining"), Some("0"));
        let retry_after: DateTime<Utc> = header(&r, "retry-after").unwrap().parse().unwrap();
        assert_eq!(retry_after, next_midnight);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, json!({"code": 429, "message": DAILY_BODY}));
    }
    // Other categories have their own daily caps under Free.
    assert_eq!(api_get(&sb, &token, "/users/me").await.status(), 200);
    assert_eq!(sb.state.stats.snapshot().rate_limited_daily, 3);

    // The next UTC day the cap is back.
    let wait = (next_midnight - sandbox_now(&sb).await).num_seconds() + 1;
    advance(&sb, wait).await;
    // (The access token has expired meanwhile.)
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    let r = api_get(&sb, &token, "/users?page_size=1").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, "x-ratelimit-remaining"), Some("9"));
}
