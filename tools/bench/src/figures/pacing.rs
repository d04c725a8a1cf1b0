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
        if args.pacing_timeline {
            sb.state.stats.keep_journal();
        }
        let started = std::time::Instant::now();
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
        if args.pacing_timeline {
            print_timeline(
                &sb.state.stats.journal(),
                started,
                &profile.scaled(s.available),
            );
        }
        sb.shutdown().await;
    }
    println!(
        "targets: 1/3 and 50%: ≤ 1% 429s and ratio ≤ 1.20; exact: ≤ 0.5% 429s and ratio ≤ 1.10; \
         60-second tokens: ≤ one refresh per 45 s"
    );
    Ok(())
}

/// Requests served per half second by category, as a share of the available rate; a line per
/// half second under 90% in some category that had requests in the run (the idle moments).
fn print_timeline(
    journal: &[zoom_sandbox::stats::Served],
    started: std::time::Instant,
    available: &RateProfile,
) {
    use std::collections::BTreeMap;
    const SLOT: f64 = 0.5;
    let mut slots: BTreeMap<usize, BTreeMap<&'static str, u64>> = BTreeMap::new();
    for served in journal {
        let Some(category) = served.category else {
            continue;
        };
        let at = served
            .began
            .saturating_duration_since(started)
            .as_secs_f64();
        *slots
            .entry((at / SLOT) as usize)
            .or_default()
            .entry(category.header_name())
            .or_default() += 1;
    }
    let used: std::collections::BTreeSet<&str> =
        slots.values().flat_map(|s| s.keys().copied()).collect();
    let limit = |name: &str| {
        zoom::Category::from_header(name)
            .and_then(|c| available.limit(c))
            .unwrap_or(0.0)
            * SLOT
    };
    let last = slots.keys().next_back().copied().unwrap_or(0);
    let mut idle = 0.0;
    for slot in 0..last {
        let counts = slots.get(&slot);
        let shares: Vec<(&str, f64)> = used
            .iter()
            .filter(|name| limit(name) > 0.0 && **name != "Light")
            .map(|name| {
                let n = counts.and_then(|c| c.get(name)).copied().unwrap_or(0);
                (*name, n as f64 / limit(name))
            })
            .collect();
        let lowest = shares.iter().map(|(_, s)| *s).fold(f64::MAX, f64::min);
        if lowest < 0.9 {
            idle += SLOT * (0.95 - lowest).max(0.0);
            let shares: Vec<String> = shares
                .iter()
                .map(|(name, share)| format!("{name} {:.0}%", share * 100.0))
                .collect();
            println!("  {:6.1} s: {}", slot as f64 * SLOT, shares.join(", "));
        }
    }
    println!("  budget left idle below 95% in those half seconds: about {idle:.1} s");
}
