//! Rate-limit benchmark: under the Business profile, list a tenant's users (every status, every
//! account) and every user's meetings through the in-process sandbox, and print the elapsed
//! time, requests, the measured Medium request rate against the limit and the 429 count.
//!
//! ```text
//! cargo run --release -p bench --example rate_bench -- [--users 5000] [--subs 5] [--scale 1.0]
//!     [--concurrency 64] [--seed 1] [--headroom 0.95]
//! ```
//! `--scale` multiplies the sandbox's limits and the client's profile alike (the ratio is what
//! counts); 1.0 is Zoom's real Business numbers (Medium 60/s).

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use test_support::{client_on, sandbox_config, sandbox_tokens};
use zoom::{Category, MeetingListType, RateProfile, RetryPolicy, UserStatus};
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::config::{RateLimitConfig, RateLimitProfile};
use zoom_sandbox::tenant::TenantSpec;

fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users: u32 = arg("--users", 5_000);
    let subs: u32 = arg("--subs", 5);
    let scale: f64 = arg("--scale", 1.0);
    let concurrency: usize = arg("--concurrency", 64);
    let seed: u64 = arg("--seed", 1);
    let headroom: f64 = arg("--headroom", RateProfile::business().headroom);

    let sb = zoom_sandbox::start_local(
        SandboxConfig {
            tenant: TenantSpec::sized(seed, subs, users),
            ..SandboxConfig::demo()
        }
        .with_rate_limits(RateLimitConfig {
            scale,
            ..RateLimitConfig::profile(RateLimitProfile::Business)
        }),
    )
    .await?;
    let profile = RateProfile::business()
        .scaled(scale)
        .with_headroom(headroom);
    // The default timeout (30 s) and retries.
    let client = client_on(
        sandbox_config(&sb.base_url(), Duration::from_secs(30))?,
        sandbox_tokens(&sb, &[]),
        profile,
        RetryPolicy::default(),
        "master",
    )?;

    println!(
        "rate_bench: {users} users over master + {subs} sub accounts, Business profile x{scale}, client at {:.0}% of the limits, {concurrency} requests in flight",
        headroom * 100.0
    );
    let started = Instant::now();
    let sub_accounts = client.sub_accounts().collect_all().await?;
    let mut apis = vec![client.me()];
    apis.extend(sub_accounts.iter().map(|s| client.account(&s.id)));

    // Users of every account and status (Medium), then every user's meetings (Medium).
    let mut user_ids = Vec::new();
    let mut listed = 0usize;
    for api in &apis {
        for status in [
            UserStatus::Active,
            UserStatus::Inactive,
            UserStatus::Pending,
        ] {
            let users = api.users(status).collect_all().await?;
            listed += users.len();
            user_ids.extend(
                users
                    .into_iter()
                    .filter_map(|u| u.id.map(|id| (api.clone(), id))),
            );
        }
    }
    let meetings: usize = futures::stream::iter(user_ids)
        .map(|(api, id)| async move {
            api.user_meetings(&id, MeetingListType::Scheduled)
                .stream()
                .try_fold(0usize, |n, _| async move { Ok(n + 1) })
                .await
        })
        .buffer_unordered(concurrency)
        .try_fold(0usize, |n, m| async move { Ok(n + m) })
        .await?;
    let elapsed = started.elapsed().as_secs_f64();

    let m = client.metrics();
    let stats = sb.state.stats.snapshot();
    let medium = m.requests_by_category.get("Medium").copied().unwrap_or(0);
    let limit = profile.limit(Category::Medium).unwrap_or(f64::INFINITY);
    let rate = medium as f64 / elapsed;
    let lower_bound = medium as f64 / limit;
    println!("users listed:            {listed}");
    println!("meetings listed:         {meetings}");
    println!("elapsed:                 {elapsed:.2} s");
    println!(
        "requests (client):       {} ({} Medium, {} Light, {} Heavy)",
        m.requests,
        medium,
        m.requests_by_category.get("Light").copied().unwrap_or(0),
        m.requests_by_category.get("Heavy").copied().unwrap_or(0)
    );
    println!("requests (sandbox):      {}", stats.requests);
    for (endpoint, n) in &m.requests_by_endpoint {
        println!("  {endpoint:<55} {n}");
    }
    println!(
        "Medium rate:             {rate:.1} req/s vs limit {limit:.1} req/s ({:+.1}%)",
        (rate / limit - 1.0) * 100.0
    );
    println!(
        "lower bound:             {lower_bound:.2} s; elapsed / bound = {:.3}",
        elapsed / lower_bound
    );
    println!(
        "429s:                    client {} / sandbox rate limiter {} (qps {}, daily {})",
        m.rate_limited_429, stats.rate_limited, stats.rate_limited_qps, stats.rate_limited_daily
    );
    println!("retries:                 {}", m.retries);
    sb.shutdown().await;
    Ok(())
}
