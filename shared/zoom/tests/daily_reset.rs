//! A daily limit that resets within the caller's time (#18): Zoom's daily quotas reset at
//! 00:00 UTC, so a request that meets one a few seconds before midnight waits for the reset
//! and goes on; one whose reset is past its deadline fails at once, as before. The sandbox's
//! clock stands a few seconds before its midnight while the client's is the machine's: the
//! client reads the reset against the answer's `Date`.

mod common;

use std::time::{Duration, Instant};

use zoom::{RateProfile, ZoomError};
use zoom_sandbox::config::{RateLimitConfig, RateLimitProfile};
use zoom_sandbox::{RunningSandbox, SandboxConfig};

/// Seconds before the sandbox's midnight the test starts.
const BEFORE_MIDNIGHT: i64 = 4;

/// Business with Heavy and Resource-intensive scaled to 3 a day, its clock `BEFORE_MIDNIGHT`
/// seconds before a UTC midnight (whatever the machine's time).
async fn sandbox_before_midnight() -> RunningSandbox {
    let sb = common::live_sandbox(SandboxConfig::demo().with_rate_limits(RateLimitConfig {
        daily_scale: Some(0.00005),
        ..RateLimitConfig::profile(RateLimitProfile::Business)
    }))
    .await;
    let tomorrow = sb.state.clock.now().date_naive() + chrono::Days::new(1);
    let midnight = tomorrow.and_hms_opt(0, 0, 0).unwrap().and_utc();
    sb.state
        .clock
        .move_to(midnight - chrono::Duration::seconds(BEFORE_MIDNIGHT));
    sb
}

#[tokio::test]
async fn a_daily_limit_resetting_before_the_deadline_is_waited_out() {
    let sb = sandbox_before_midnight().await;
    let h = common::client_with(&sb, common::test_tokens(&sb), RateProfile::business());
    for _ in 0..3 {
        h.client.me().plan_usage().await.unwrap();
    }
    let started = Instant::now();
    let limited_at = sb.state.clock.now();
    // The fourth Heavy request of the day is refused until midnight, then answered.
    h.client.me().plan_usage().await.unwrap();
    let waited = started.elapsed();
    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.rate_limited_daily, 1, "{stats:?}");
    assert_eq!(
        stats.endpoint("GET", "/v2/accounts/{accountId}/plans/usage"),
        5
    );
    // It waited until the sandbox's day turned, not much longer.
    let until_midnight = (sb
        .state
        .clock
        .now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        - limited_at)
        .to_std()
        .unwrap();
    assert!(
        waited + Duration::from_millis(50) >= until_midnight
            && waited <= until_midnight + Duration::from_secs(2),
        "waited {waited:?} for a reset {until_midnight:?} away"
    );
    assert_eq!(h.client.metrics().daily_limit_hits, 1);
}

#[tokio::test]
async fn a_daily_limit_resetting_after_the_deadline_fails_at_once() {
    let sb = sandbox_before_midnight().await;
    let h = common::client_with(&sb, common::test_tokens(&sb), RateProfile::business());
    for _ in 0..3 {
        h.client.me().plan_usage().await.unwrap();
    }
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    let err = h
        .client
        .with_deadline(deadline)
        .me()
        .plan_usage()
        .await
        .unwrap_err();
    assert!(matches!(err, ZoomError::DailyLimit { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sb.state.stats.snapshot().rate_limited_daily, 1);
}
