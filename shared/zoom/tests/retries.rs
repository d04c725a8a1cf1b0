//! 429 handling (Retry-After as seconds or date, daily caps), retries with backoff bounded by a
//! deadline, the 401 path, and pacing against the sandbox's Business limits.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::json;
use zoom::{Category, RateLimiter, RateProfile, ZoomError};
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::config::{RateLimitConfig, RateLimitProfile};

fn counter() -> Arc<AtomicU64> {
    Arc::new(AtomicU64::new(0))
}

fn account_json() -> String {
    json!({"id": "acc1", "account_name": "A"}).to_string()
}

#[tokio::test]
async fn qps_429_waits_for_retry_after_seconds_and_dates() {
    let calls = counter();
    let c = calls.clone();
    let router = axum::Router::new().route(
        "/v2/accounts/{id}",
        get(move || {
            let c = c.clone();
            async move {
                let n = c.fetch_add(1, Ordering::SeqCst);
                let mut h = HeaderMap::new();
                h.insert("x-zm-trackingid", "track-1".parse().unwrap());
                match n {
                    0 => {
                        h.insert("retry-after", "1".parse().unwrap());
                        h.insert("x-ratelimit-type", "QPS".parse().unwrap());
                    }
                    1 => {
                        // An HTTP date (whole seconds) between one and two seconds ahead.
                        let at = Utc::now() + chrono::Duration::seconds(2);
                        let v = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
                        h.insert("retry-after", v.parse().unwrap());
                    }
                    _ => return (StatusCode::OK, h, account_json()).into_response(),
                }
                let body = json!({"code": 429, "message": "You have reached the maximum per-second rate limit for this API. Try again later."});
                (StatusCode::TOO_MANY_REQUESTS, h, body.to_string()).into_response()
            }
        }),
    );
    let base = common::mock_server(router).await;
    let client = common::mock_client(&base, common::fast_retries(), RateProfile::unlimited());
    let started = std::time::Instant::now();
    let account = client.account("acc1").get().await.unwrap();
    assert_eq!(account.id, "acc1");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // Both waits were honoured (the first exactly 1 s, the second until the date).
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    let m = client.metrics();
    assert_eq!(m.rate_limited_429, 2);
    assert_eq!(m.retries, 2);
}

#[tokio::test]
async fn daily_cap_is_a_typed_error_with_the_reset_time_and_no_hot_loop() {
    let calls = counter();
    let c = calls.clone();
    let router = axum::Router::new()
        .route(
            "/v2/accounts/{id}/plans/usage",
            get(move || {
                let c = c.clone();
                async move {
                    c.fetch_add(1, Ordering::SeqCst);
                    let mut h = HeaderMap::new();
                    h.insert("retry-after", "2099-03-01T00:00:00Z".parse().unwrap());
                    h.insert("x-ratelimit-type", "Daily-limit".parse().unwrap());
                    h.insert("x-ratelimit-category", "Heavy".parse().unwrap());
                    let body = json!({"code": 429, "message": "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."});
                    (StatusCode::TOO_MANY_REQUESTS, h, body.to_string())
                }
            }),
        )
        .route(
            "/v2/accounts/{id}",
            get(|| async { (StatusCode::OK, account_json()) }),
        );
    let base = common::mock_server(router).await;
    let client = common::mock_client(&base, common::fast_retries(), RateProfile::business());
    let reset: DateTime<Utc> = "2099-03-01T00:00:00Z".parse().unwrap();
    for _ in 0..3 {
        match client.account("acc1").plan_usage().await.unwrap_err() {
            ZoomError::DailyLimit {
                reset_at, category, ..
            } => {
                assert_eq!(reset_at, reset);
                assert_eq!(category, Category::Heavy);
            }
            other => panic!("{other:?}"),
        }
    }
    // Only the first call reached the server; the category stays closed until the reset.
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Other categories still work.
    client.account("acc1").get().await.unwrap();
}

#[tokio::test]
async fn daily_message_without_headers_resets_at_next_utc_midnight() {
    let router = axum::Router::new().route(
        "/v2/users/summary",
        get(|| async {
            let body = json!({"code": 429, "message": "You have reached the maximum daily rate limit for this API."});
            (StatusCode::TOO_MANY_REQUESTS, body.to_string())
        }),
    );
    let base = common::mock_server(router).await;
    let client = common::mock_client(&base, common::fast_retries(), RateProfile::unlimited());
    // Read before the call: the reset is the midnight after the client saw the answer, so
    // it is after this instant even when a midnight passes during the call.
    let before = Utc::now();
    let err = client.me().user_summary().await.unwrap_err();
    let ZoomError::DailyLimit { reset_at, .. } = err else {
        panic!("{err:?}")
    };
    let after = Utc::now();
    assert!(reset_at > before && reset_at - after <= chrono::Duration::hours(24));
    assert_eq!(reset_at.timestamp() % 86_400, 0);
}

#[tokio::test]
async fn server_errors_are_retried_client_errors_are_not() {
    let calls = counter();
    let c = calls.clone();
    let router = axum::Router::new()
        .route(
            "/v2/accounts/{id}",
            get(move || {
                let c = c.clone();
                async move {
                    if c.fetch_add(1, Ordering::SeqCst) < 2 {
                        (
                            StatusCode::BAD_GATEWAY,
                            "<html>502 Bad Gateway</html>".to_string(),
                        )
                    } else {
                        (StatusCode::OK, account_json())
                    }
                }
            }),
        )
        .route(
            "/v2/users/{id}",
            get(|| async {
                let mut h = HeaderMap::new();
                h.insert("x-zm-trackingid", "v=2.0;rid=42".parse().unwrap());
                (
                    StatusCode::NOT_FOUND,
                    h,
                    json!({"code": 1001, "message": "User does not exist: x."}).to_string(),
                )
            }),
        );
    let base = common::mock_server(router).await;
    let client = common::mock_client(&base, common::fast_retries(), RateProfile::unlimited());
    client.account("acc1").get().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let before = client.metrics().requests;
    let err = client.me().user("x").await.unwrap_err();
    assert_eq!(client.metrics().requests, before + 1);
    assert_eq!(err.code(), Some(1001));
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.tracking_id(), Some("v=2.0;rid=42"));
}

#[tokio::test]
async fn retries_stop_at_the_deadline() {
    let calls = counter();
    let c = calls.clone();
    let router = axum::Router::new().route(
        "/v2/accounts/{id}",
        get(move || {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({"code": 503, "message": "unavailable"}).to_string(),
                )
            }
        }),
    );
    let base = common::mock_server(router).await;
    let retry = zoom::RetryPolicy {
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_secs(1),
        max_attempts: 1_000,
        default_budget: Duration::from_secs(600),
    };
    let client = common::mock_client(&base, retry, RateProfile::unlimited());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let err = client
        .with_deadline(deadline)
        .account("acc1")
        .get()
        .await
        .unwrap_err();
    let gave_up = tokio::time::Instant::now();
    // What holds at any machine speed: the deadline ended the retries (not `max_attempts`),
    // and not early: the client stops only when its next backoff (at most `max_delay`) could
    // end past the deadline. How many attempts fit depends on the machine.
    let ZoomError::DeadlineExceeded { attempts, last, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        gave_up + retry.max_delay > deadline,
        "gave up early: {err:?}"
    );
    assert!(
        gave_up < deadline + Duration::from_secs(60),
        "stopped long after the deadline"
    );
    let n = calls.load(Ordering::SeqCst);
    assert!((1..retry.max_attempts.into()).contains(&n), "{n} attempts");
    assert!(
        u64::from(*attempts) >= n,
        "{attempts} attempts counted, {n} served"
    );
    // The last error is the server's 503, or, when the deadline cut the last attempt short,
    // its timeout.
    assert!(
        last.status() == Some(503) || matches!(**last, ZoomError::Transport { .. }),
        "{last:?}"
    );
}

#[tokio::test]
async fn unauthorized_is_retried_once_with_a_new_token() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let s = seen.clone();
    let router = axum::Router::new().route(
        "/v2/accounts/{id}",
        get(move |headers: HeaderMap| {
            let s = s.clone();
            async move {
                let auth = headers["authorization"].to_str().unwrap().to_string();
                s.lock().unwrap().push(auth);
                (
                    StatusCode::UNAUTHORIZED,
                    json!({"code": 124, "message": "Invalid access token."}).to_string(),
                )
            }
        }),
    );
    let base = common::mock_server(router).await;
    let client = common::mock_client(&base, common::fast_retries(), RateProfile::unlimited());
    let err = client.account("acc1").get().await.unwrap_err();
    assert_eq!(err.code(), Some(124));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, vec!["Bearer mock-at-0", "Bearer mock-at-1"]);
    assert_eq!(client.metrics().token_rejections, 1);
    // The error text names neither token.
    assert!(!format!("{err} {err:?}").contains("mock-at"));
}

#[tokio::test]
async fn paced_client_gets_no_429_from_the_business_limits() {
    // Business limits at twice the real rates so the test is short.
    let sb = common::sandbox(SandboxConfig::demo().with_rate_limits(RateLimitConfig {
        scale: 2.0,
        ..RateLimitConfig::profile(RateLimitProfile::Business)
    }))
    .await;
    let h = common::client_with(
        &sb,
        common::test_tokens(&sb),
        RateProfile::business().scaled(2.0),
    );
    let clone = h.client.clone();
    assert!(Arc::ptr_eq(h.client.rate_limiter(), clone.rate_limiter()));
    let users: Vec<String> = sb
        .state
        .tenant
        .truth_users(0)
        .filter_map(|u| u.id)
        .collect();
    // 240 Light requests (get user) plus 120 Medium ones (user summary), 64 in flight.
    let results: Vec<_> = futures::stream::iter(0..360)
        .map(|i| {
            let c = if i % 2 == 0 {
                h.client.clone()
            } else {
                clone.clone()
            };
            let id = users[i % users.len()].clone();
            async move {
                if i % 3 == 0 {
                    c.me().user_summary().await.map(|_| ())
                } else {
                    c.me().user(&id).await.map(|_| ())
                }
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(results.iter().all(|r| r.is_ok()));
    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert_eq!(h.client.metrics().rate_limited_429, 0);
    assert_eq!(h.client.metrics().requests, 360);
}

#[tokio::test]
async fn a_shared_limiter_spans_clients() {
    let limiter = RateLimiter::new(RateProfile::free());
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let make = || {
        let source = Arc::new(zoom::MemoryTokenSource::new(
            common::test_tokens(&sb),
            Arc::new(common::oauth(&sb)),
        ));
        zoom::ZoomClient::builder(common::config(&sb), source)
            .rate_limiter(limiter.clone())
            .budget_key("master")
            .build()
            .unwrap()
    };
    let (a, b) = (make(), make());
    assert!(Arc::ptr_eq(a.rate_limiter(), b.rate_limiter()));
    // Free: Medium 2/s (1.9/s with headroom). Four Medium calls over two clients need
    // three intervals of pacing between them.
    let started = std::time::Instant::now();
    let (r1, r2) = tokio::join!(
        async {
            a.me().user_summary().await.unwrap();
            a.me().user_summary().await.unwrap();
        },
        async {
            b.me().user_summary().await.unwrap();
            b.me().user_summary().await.unwrap();
        }
    );
    let _ = (r1, r2);
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sandbox_daily_cap_gives_the_reset_time_and_closes_the_category() {
    // Business: Heavy and Resource-intensive share 60,000 a day; scaled to 3 a day. The
    // sandbox's clock is moved on to the next noon UTC: its day (and the cap) cannot end
    // during the test, whatever the time it runs, and the reset is 12 hours away, past the
    // client's deadline (a nearer one is waited out: `daily_reset.rs`).
    let sb = common::live_sandbox(SandboxConfig::demo().with_rate_limits(RateLimitConfig {
        daily_scale: Some(0.00005),
        ..RateLimitConfig::profile(RateLimitProfile::Business)
    }))
    .await;
    let now = sb.state.clock.now();
    let noon = now.date_naive().and_hms_opt(12, 0, 0).unwrap().and_utc();
    sb.state.clock.move_to(if noon >= now {
        noon
    } else {
        noon + chrono::Duration::days(1)
    });
    let h = common::client_with(&sb, common::test_tokens(&sb), RateProfile::business());
    for _ in 0..3 {
        h.client.me().plan_usage().await.unwrap();
    }
    let err = h.client.me().plan_usage().await.unwrap_err();
    let ZoomError::DailyLimit {
        reset_at, category, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*category, Category::Heavy);
    // The reset is the sandbox's next 00:00 UTC, on the client's clock (read against the
    // answer's `Date`: the sandbox's clock is hours from the machine's).
    let sandbox_now = sb.state.clock.now();
    let sandbox_midnight = (sandbox_now.date_naive() + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let off = (*reset_at - Utc::now()) - (sandbox_midnight - sandbox_now);
    assert!(
        off.abs() <= chrono::Duration::seconds(2),
        "reset {reset_at} is {off} from the sandbox's midnight"
    );
    assert!(err.is_transient());
    // No hot loop: further Heavy calls fail at once without reaching Zoom; Medium still works.
    let requests = sb.state.stats.snapshot().requests;
    for _ in 0..5 {
        assert!(matches!(
            h.client.me().plan_usage().await,
            Err(ZoomError::DailyLimit { .. })
        ));
    }
    assert_eq!(sb.state.stats.snapshot().requests, requests);
    h.client.me().user_summary().await.unwrap();
    assert_eq!(sb.state.stats.snapshot().rate_limited_daily, 1);
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried() {
    let calls = counter();
    let c = calls.clone();
    let router = axum::Router::new().route(
        "/v2/accounts/{id}",
        get(move || {
            let c = c.clone();
            async move {
                if c.fetch_add(1, Ordering::SeqCst) == 0 {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
                (StatusCode::OK, account_json())
            }
        }),
    );
    let base = common::mock_server(router).await;
    let client = common::mock_client(&base, common::fast_retries(), RateProfile::unlimited());
    let account = client.account("acc1").get().await.unwrap();
    assert_eq!(account.id, "acc1");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let m = client.metrics();
    assert_eq!((m.transport_errors, m.retries), (1, 1));
}

#[tokio::test]
async fn explicit_api_base_wins_over_the_token_api_url() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let mut tokens = common::test_tokens(&sb);
    // A token whose api_url points nowhere.
    tokens.api_url = Some("http://127.0.0.1:9".into());
    let source = Arc::new(zoom::MemoryTokenSource::new(
        tokens,
        Arc::new(common::oauth(&sb)),
    ));
    let config = zoom::ZoomConfig::builder()
        .oauth_base(sb.base_url())
        .api_base(sb.api_base_url())
        .build()
        .unwrap();
    let client = zoom::ZoomClient::builder(config, source).build().unwrap();
    let me = client.me().get().await.unwrap();
    assert_eq!(me.id, sb.state.tenant.master_account_id());
}
