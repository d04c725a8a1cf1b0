//! Figure 6 (issue #18): adaptive pacing. The same full sync, the client always configured for
//! Business × `--scale`, against accounts that are not what it was configured for: the exact
//! budget, a real budget of a third (a smaller plan), the same without Zoom's rate-limit
//! headers (only 429s tell), another app spending half of it, and 60-second access tokens.
//! Each row: requests, 429s, wall time against the lower bound of the budget that is really
//! there, token refreshes, and the paces one task's client ended at.

use bench::harness::{self, Grant};
use bench::model;
use zoom::RateProfile;
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::config::{RateLimitConfig, RateLimitProfile};

use crate::args::Args;

/// One account unlike the configured profile.
struct Scenario {
    /// Its name on the command line (`--pacing-scenarios`).
    key: &'static str,
    name: &'static str,
    /// The part of the configured budget the account really leaves the sync.
    available: f64,
    limits: RateLimitConfig,
    token_ttl_secs: Option<u64>,
}

pub(crate) async fn pacing_figures(args: &Args) -> anyhow::Result<()> {
    let scale = args.scale;
    let spec = args.tenant_of(args.pacing_subs, args.pacing_users);
    println!();
    println!(
        "## 6. Adaptive pacing (#18): full sync of {} users in {} sub accounts, the client \
         configured for Business × {scale}",
        args.pacing_users, args.pacing_subs
    );
    let business = |scale: f64| RateLimitConfig {
        scale,
        ..RateLimitConfig::profile(RateLimitProfile::Business)
    };
    let scenarios = [
        Scenario {
            key: "exact",
            name: "exact budget, nobody else",
            available: 1.0,
            limits: business(scale),
            token_ttl_secs: None,
        },
        Scenario {
            key: "third",
            name: "real budget 1/3",
            available: 1.0 / 3.0,
            limits: business(scale / 3.0),
            token_ttl_secs: None,
        },
        Scenario {
            key: "third-no-headers",
            name: "real budget 1/3, no X-RateLimit headers",
            available: 1.0 / 3.0,
            limits: RateLimitConfig {
                limit_headers: false,
                ..business(scale / 3.0)
            },
            token_ttl_secs: None,
        },
        Scenario {
            key: "foreign",
            name: "another app spends 50%",
            available: 0.5,
            limits: RateLimitConfig {
                foreign_share: 0.5,
                ..business(scale)
            },
            token_ttl_secs: None,
        },
        // A budget of a third makes the run last several token lifetimes.
        Scenario {
            key: "short-tokens",
            name: "real budget 1/3, 60-second tokens",
            available: 1.0 / 3.0,
            limits: business(scale / 3.0),
            token_ttl_secs: Some(60),
        },
    ];
    println!(
        "| scenario | requests | 429s | wall | bound of what is available | ratio | token refreshes | one client's paces at the end | each task's wall |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let profile = RateProfile::business().scaled(scale);
    let chosen = |s: &Scenario| {
        args.pacing_scenarios.is_empty() || args.pacing_scenarios.iter().any(|k| k == s.key)
    };
    for s in scenarios.into_iter().filter(chosen) {
        let mut config = SandboxConfig {
            tenant: spec.clone(),
            ..SandboxConfig::demo()
        }
        .with_rate_limits(s.limits.clone());
        if let Some(ttl) = s.token_ttl_secs {
            config.access_token_ttl_secs = ttl;
        }
        let sb = zoom_sandbox::start_local(config).await?;
        let now = sb.state.clock.now();
        let mut b = harness::bench_engine(Grant::issue(&sb), profile, false, now).await?;
        b.engine.options.host_concurrency = args.host_concurrency;
        sb.state.stats.reset(now);
        let (runs, wall) = harness::daily_sync(&b.engine, None).await;
        let stats = sb.state.stats.snapshot();
        let failed: usize = runs.iter().map(|r| r.failed).sum();
        let bound = model::wall_lower_bound(&model::lower_bounds(
            &stats.by_category,
            &profile.scaled(s.available),
        ));
        let refreshes = stats.grants("refresh_token");
        let paces: Vec<String> = b
            .factory
            .clients()
            .first()
            .map(|(_, c)| {
                c.rate_limiter()
                    .paces(harness::CONNECTION)
                    .into_iter()
                    .map(|(c, p)| format!("{c} {p:.2}"))
                    .collect()
            })
            .unwrap_or_default();
        println!(
            "| {} | {} | {} ({:.2}%) | {wall:.1} s | {bound:.1} s | {:.2} | {refreshes} ({:.1} per 45 s) | {} | {} |{}",
            s.name,
            stats.requests,
            stats.rate_limited,
            100.0 * stats.rate_limited as f64 / stats.requests.max(1) as f64,
            wall / bound.max(1e-9),
            refreshes as f64 / (wall / 45.0).max(1e-9),
            paces.join(", "),
            runs.iter()
                .map(|r| format!("{} {:.1} s", r.task, r.seconds))
                .collect::<Vec<_>>()
                .join(", "),
            if failed > 0 {
                format!(" **{failed} units failed**")
            } else {
                String::new()
            }
        );
        sb.shutdown().await;
    }
    println!(
        "targets: 1/3 and 50%: ≤ 1% 429s and ratio ≤ 1.20; exact: ≤ 0.5% 429s and ratio ≤ 1.10; \
         60-second tokens: ≤ one refresh per 45 s"
    );
    Ok(())
}
