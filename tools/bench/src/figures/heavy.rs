//! Figure 7 (issue #18, item 5): participant lists from the report API (Heavy) beside past
//! meetings (Medium). The rate run's tenant, Business × `--scale`, synced twice: Medium only
//! (`heavy_participants_share` 0) and with the default share of the Heavy daily cap. The
//! per-second limits are scaled; the daily caps are too (as in figure 1: a full sync at Zoom's
//! rates lasts hours, not a day) unless `--heavy-real-cap`, where Zoom's real 60,000 a day
//! applies. Each row: wall against the single-category bound (every participant list on
//! Medium, as before item 5) and against the bound of the categories really used; the records
//! of both runs are compared.

use std::collections::BTreeMap;

use bench::harness::{self, Grant};
use bench::model;
use futures::TryStreamExt;
use ports::UserAccess;
use zoom::RateProfile;
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::config::{RateLimitConfig, RateLimitProfile};

use crate::args::Args;

/// The report API's meeting endpoints, as the sandbox's statistics name them: the sync calls
/// only their participant lists.
const REPORT_PARTICIPANTS: [&str; 2] = [
    "GET /v2/report/meetings/{*rest}",
    "GET /v2/accounts/{accountId}/report/meetings/{*rest}",
];

pub(crate) async fn heavy_figures(args: &Args) -> anyhow::Result<()> {
    let scale = args.scale;
    let spec = args.tenant(args.users);
    let daily_scale = if args.heavy_real_cap { 1.0 } else { scale };
    let default_share = sync_engine::EngineOptions::default().heavy_participants_share;
    println!();
    println!(
        "## 7. Participant lists on Heavy (#18, item 5): full sync of {} users in {} sub \
         accounts, Business × {scale}, daily caps × {daily_scale} (Heavy {:.0} a day)",
        args.users,
        args.subs,
        60_000.0 * daily_scale
    );
    println!(
        "| share of the Heavy cap | requests | Medium | Heavy (of which participant lists) | 429s | wall | single-category bound | ratio | bound of the categories used | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let profile = RateProfile::business().scaled(scale);
    let mut records = Vec::new();
    for share in [0.0, default_share] {
        let config = SandboxConfig {
            tenant: spec.clone(),
            ..SandboxConfig::demo()
        }
        .with_rate_limits(RateLimitConfig {
            scale,
            daily_scale: Some(daily_scale),
            ..RateLimitConfig::profile(RateLimitProfile::Business)
        });
        let sb = zoom_sandbox::start_local(config).await?;
        let now = sb.state.clock.now();
        let mut b = harness::bench_engine(Grant::issue(&sb), profile, true, now).await?;
        b.engine.options.heavy_participants_share = share;
        b.engine.options.host_concurrency = args.host_concurrency;
        sb.state.stats.reset(now);
        let (runs, wall) = harness::daily_sync(&b.engine, None).await;
        let stats = sb.state.stats.snapshot();
        let failed: usize = runs.iter().map(|r| r.failed).sum();
        let by_report: u64 = REPORT_PARTICIPANTS
            .iter()
            .map(|e| stats.by_endpoint.get(*e).copied().unwrap_or(0))
            .sum();
        let count = |c: &str| stats.by_category.get(c).copied().unwrap_or(0);
        // Before item 5 every participant list was a Medium request.
        let mut single = stats.by_category.clone();
        *single.entry("Medium".into()).or_default() += by_report;
        *single.entry("Heavy".into()).or_default() -= by_report;
        let single_bound = model::wall_lower_bound(&model::lower_bounds(&single, &profile));
        let used_bound =
            model::wall_lower_bound(&model::lower_bounds(&stats.by_category, &profile));
        println!(
            "| {share} | {} | {} | {} ({by_report}) | {} | {wall:.1} s | {single_bound:.1} s | {:.2} | {used_bound:.1} s | {:.2} |{}",
            stats.requests,
            count("Medium"),
            count("Heavy"),
            stats.rate_limited,
            wall / single_bound.max(1e-9),
            wall / used_bound.max(1e-9),
            if failed > 0 {
                format!(" **{failed} units failed**")
            } else {
                String::new()
            }
        );
        records.push(all_access(&b, &sb).await?);
        sb.shutdown().await;
    }
    let same = records.windows(2).all(|w| w[0] == w[1]);
    println!(
        "records: {} access records, {} in both runs; target: ratio to the single-category bound \
         ≤ 0.90 with the default share",
        records[0].len(),
        if same { "the same" } else { "**NOT the same**" }
    );
    Ok(())
}

/// Every stored access record of the connection, by account and user key.
async fn all_access(
    b: &harness::Bench,
    sb: &zoom_sandbox::RunningSandbox,
) -> anyhow::Result<BTreeMap<(String, String), UserAccess>> {
    let mut all = BTreeMap::new();
    for account in sb.state.tenant.accounts() {
        let list: Vec<UserAccess> = b
            .engine
            .store
            .list_account_access(harness::CONNECTION, &account.id)
            .try_collect()
            .await?;
        for a in list {
            all.insert((account.id.clone(), a.user_key.clone()), a);
        }
    }
    Ok(all)
}
