//! The latency-bound sample of figure 1.

use bench::harness::{self, Grant};
use sync_engine::Task;
use zoom::RateProfile;
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::config::{RateLimitConfig, RateLimitProfile};
use zoom_sandbox::faults::FaultConfig;

use crate::args::Args;

/// The access task against a Zoom with realistic latency (scaled like the limits): the task
/// sends one request at a time, so its rate is bounded by 1/latency, not by its budget.
pub(crate) async fn latency_sample(args: &Args) -> anyhow::Result<()> {
    let scale = args.scale;
    let latency = (args.zoom_latency_ms as f64 / scale).round().max(1.0) as u64;
    let spec = args.tenant_of(1, 600);
    let sb = zoom_sandbox::start_local(
        SandboxConfig {
            tenant: spec,
            ..SandboxConfig::demo()
        }
        .with_rate_limits(RateLimitConfig {
            scale,
            ..RateLimitConfig::profile(RateLimitProfile::Business)
        })
        .with_faults(FaultConfig {
            latency_ms: latency,
            ..FaultConfig::default()
        }),
    )
    .await?;
    let profile = RateProfile::business().scaled(scale);
    let now = sb.state.clock.now();
    let b = harness::bench_engine(Grant::issue(&sb), profile, true, now).await?;
    sb.state.stats.reset(now);
    let run = harness::run_task(&b.engine, Task::ApplicationAccess, None).await;
    let stats = sb.state.stats.snapshot();
    let medium = stats.by_category.get("Medium").copied().unwrap_or(0);
    // Access runs alone here: its share is the whole Medium budget.
    let share_rate = 60.0 * scale;
    let achieved = medium as f64 / run.seconds.max(1e-9);
    println!();
    println!(
        "latency-bound sample (600 users, Zoom latency {} ms ÷ {scale} = {latency} ms per request): \
         access sent {medium} Medium requests in {:.1} s = {achieved:.0}/s, {:.0}% of its share \
         ({share_rate:.0}/s); at Zoom's real rates and latency: {:.1}/s of {:.0}/s",
        args.zoom_latency_ms,
        run.seconds,
        100.0 * achieved / share_rate,
        achieved / scale,
        share_rate / scale
    );
    sb.shutdown().await;
    Ok(())
}
