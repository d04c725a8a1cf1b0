//! Adaptive pacing against the sandbox (#18): the client is configured for Business while the
//! account really allows less (a smaller plan, another app spending the same budget), with and
//! without Zoom's `X-RateLimit-*` headers. The client must find the real budget: few 429s, and
//! a pace that settles at what the account allows. Wall-clock figures belong to `make bench`;
//! these tests assert the counts and the learned pace.

mod common;

use std::sync::Arc;

use zoom::{Category, RateProfile, ZoomClient};
use zoom_sandbox::config::{RateLimitConfig, RateLimitProfile};
use zoom_sandbox::{RunningSandbox, SandboxConfig};

/// The client's configured profile: Business × `SCALE` (Medium 120/s).
const SCALE: f64 = 2.0;
/// Concurrent callers: more than enough to keep the pacing the only brake.
const CALLERS: usize = 16;

async fn sandbox(limits: RateLimitConfig) -> RunningSandbox {
    common::sandbox(SandboxConfig::demo().with_rate_limits(limits)).await
}

struct Run {
    requests: u64,
    limited: u64,
    pace: f64,
}

/// A client configured for Business × [`SCALE`], as the functions are.
fn business_client(sb: &RunningSandbox) -> Arc<ZoomClient> {
    let h = common::client_with(
        sb,
        common::test_tokens(sb),
        RateProfile::business().scaled(SCALE),
    );
    Arc::new(h.client)
}

/// `total` Medium requests (`GET /users/summary`) from [`CALLERS`] tasks sharing `client`; the
/// sandbox's counts and the client's learned pace.
async fn medium_requests(sb: &RunningSandbox, client: &Arc<ZoomClient>, total: usize) -> Run {
    let before = sb.state.stats.snapshot();
    let mut tasks = Vec::new();
    for i in 0..CALLERS {
        let client = client.clone();
        let n = total / CALLERS + usize::from(i < total % CALLERS);
        tasks.push(tokio::spawn(async move {
            for _ in 0..n {
                client.me().user_summary().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let after = sb.state.stats.snapshot();
    Run {
        requests: after.requests - before.requests,
        limited: after.rate_limited_qps - before.rate_limited_qps,
        pace: client.rate_limiter().pace("master", Category::Medium),
    }
}

/// At most 1% of the run's requests answered 429.
fn at_most_one_percent_limited(run: &Run, what: &str) {
    assert!(
        run.limited * 100 <= run.requests,
        "{what}: {} of {} requests answered 429",
        run.limited,
        run.requests
    );
}

fn business(scale: f64) -> RateLimitConfig {
    RateLimitConfig {
        scale,
        ..RateLimitConfig::profile(RateLimitProfile::Business)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_of_the_configured_budget_is_found_from_the_headers() {
    let sb = sandbox(business(SCALE / 3.0)).await;
    let client = business_client(&sb);
    let run = medium_requests(&sb, &client, 600).await;
    // The first answer's X-RateLimit-Limit (40 against the configured 120) sets the pace.
    assert!((run.pace - 1.0 / 3.0).abs() < 0.01, "pace {}", run.pace);
    at_most_one_percent_limited(&run, "from the start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_of_the_configured_budget_is_found_from_429s_alone() {
    // A Zoom that sends no rate-limit headers: only the 429s tell.
    let sb = sandbox(RateLimitConfig {
        limit_headers: false,
        ..business(SCALE / 3.0)
    })
    .await;
    let client = business_client(&sb);
    // Learning: a few bursts of 429s while the pace comes down from the configured rate.
    let learning = medium_requests(&sb, &client, 400).await;
    assert!(learning.limited > 0, "the configured rate must meet 429s");
    let run = medium_requests(&sb, &client, 1_000).await;
    // The bucket's burst hides the limit until it is empty, so the pace swings a little above
    // the real third and back; it stays well under the configured rate.
    assert!((0.25..=0.5).contains(&run.pace), "pace {}", run.pace);
    at_most_one_percent_limited(&run, "after learning");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_app_spending_half_the_budget_is_left_its_half() {
    let sb = sandbox(RateLimitConfig {
        foreign_share: 0.5,
        ..business(SCALE)
    })
    .await;
    let client = business_client(&sb);
    // X-RateLimit-Limit shows the whole budget; Remaining running low tells the rest.
    let learning = medium_requests(&sb, &client, 300).await;
    let run = medium_requests(&sb, &client, 1_200).await;
    // Well under the configured rate. Not closer to the half: a loaded machine sends fewer
    // requests than paced, Remaining then stays high and the pace creeps up (0.62 seen) with
    // no harm; the 429s below are what must hold.
    assert!((0.3..=0.75).contains(&run.pace), "pace {}", run.pace);
    at_most_one_percent_limited(&run, "after learning");
    assert!(
        (learning.limited + run.limited) * 50 <= learning.requests + run.requests,
        "in all, {} of {} requests answered 429",
        learning.limited + run.limited,
        learning.requests + run.requests
    );
}
