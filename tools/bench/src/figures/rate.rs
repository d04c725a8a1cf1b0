//! Figures 1 and 2: rate-limit efficiency of a full sync and the request economy of a full
//! and an incremental run.

use std::collections::BTreeMap;

use bench::harness::{self, Grant, TaskRun};
use bench::metered::StoreFigures;
use bench::model;
use sync_engine::Task;
use zoom::RateProfile;
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::config::{RateLimitConfig, RateLimitProfile};

use crate::args::Args;
use crate::figures::latency::latency_sample;
use crate::figures::minimum::minimum;

/// What the cost model needs from the rate run.
pub(crate) struct RateResult {
    pub(crate) users: u64,
    pub(crate) accounts: u64,
    pub(crate) scale: f64,
    pub(crate) full_wall: f64,
    pub(crate) full_task_seconds: f64,
    pub(crate) incr_task_seconds: f64,
    pub(crate) full_store: StoreFigures,
    pub(crate) incr_store: StoreFigures,
    pub(crate) full_units: u64,
    pub(crate) access_seconds_per_account_max: f64,
}

fn fmt_map(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn rate_and_economy(args: &Args) -> anyhow::Result<RateResult> {
    let spec = args.tenant(args.users);
    let scale = args.scale;
    println!();
    println!(
        "## 1. Rate-limit efficiency: full sync, Business profile × {scale} (sandbox and client)"
    );
    let config = SandboxConfig {
        tenant: spec.clone(),
        ..SandboxConfig::demo()
    }
    .with_rate_limits(RateLimitConfig {
        scale,
        ..RateLimitConfig::profile(RateLimitProfile::Business)
    });
    let sb = zoom_sandbox::start_local(config).await?;
    let tenant = &sb.state.tenant;
    let (min, users, meetings) = minimum(tenant, sb.state.clock.now().date_naive());
    let accounts = (tenant.accounts().len() - 1) as u64;
    let hosts_meeting_capable = min.meeting_pages;
    println!(
        "tenant: {} sub accounts + master, {users} users, {meetings} listed meetings \
         ({:.2} per user with an id; instant meetings come on top), {} ended instances with \
         participants, {} recurring meetings",
        args.subs,
        meetings as f64 / hosts_meeting_capable.max(1) as f64,
        min.participant_pages,
        min.instance_lists
    );
    let profile = RateProfile::business().scaled(scale);
    let now = sb.state.clock.now();
    let b = harness::bench_engine(Grant::issue(&sb), profile, true, now).await?;
    sb.state.stats.reset(now);
    let (runs, wall) = harness::daily_sync(&b.engine, None).await;
    let stats = sb.state.stats.snapshot();
    let full_store = b.table.figures();
    let account_ids: Vec<String> = tenant
        .accounts()
        .iter()
        .filter(|a| a.id != tenant.standalone_account_id())
        .map(|a| a.id.clone())
        .collect();
    let stored = harness::stored_users(b.engine.store.as_ref(), &account_ids).await;
    print_runs(&runs);
    let bounds = model::lower_bounds(&stats.by_category, &profile);
    let bound = model::wall_lower_bound(&bounds);
    println!(
        "requests: {} (by category: {}); 429s: {} ({:.3}% of requests; target ≤ 0.5%)",
        stats.requests,
        fmt_map(&stats.by_category),
        stats.rate_limited,
        100.0 * stats.rate_limited as f64 / stats.requests.max(1) as f64
    );
    println!("requests by endpoint: {}", fmt_map(&stats.by_endpoint));
    for (c, s) in &bounds {
        let limit = zoom::Category::ALL
            .iter()
            .find(|x| x.as_str() == c)
            .and_then(|x| profile.limit(*x))
            .unwrap_or(0.0);
        println!(
            "lower bound {c}: {s:.1} s ({} requests at {limit:.0}/s)",
            stats.by_category.get(c).copied().unwrap_or(0)
        );
    }
    println!(
        "wall time {wall:.1} s vs lower bound {bound:.1} s: ratio {:.2} (target ≤ 1.10); \
         at Zoom's real rates: {:.0} min vs {:.0} min",
        wall / bound.max(1e-9),
        wall * scale / 60.0,
        bound * scale / 60.0
    );
    // Per task: the part of the connection's Medium budget each task used while it ran (the
    // engine splits the budget among the running tasks by weight).
    let medium_limit = profile
        .limit(zoom::Category::Medium)
        .unwrap_or(f64::INFINITY);
    for (task, client) in b.factory.clients() {
        let m = client.metrics();
        let medium = m.requests_by_category.get("Medium").copied().unwrap_or(0);
        let secs = runs
            .iter()
            .find(|r| r.task == task.as_str())
            .map_or(0.0, |r| r.seconds);
        let rate = medium as f64 / secs.max(1e-9);
        println!(
            "  {task}: weight {:.2}, {medium} Medium requests in {secs:.1} s = {rate:.0}/s, \
             {:.0}% of the Medium limit; 429s seen by the client {}, retries {}",
            task.budget_weight(),
            100.0 * rate / medium_limit,
            m.rate_limited_429,
            m.retries
        );
    }
    println!("users stored: {stored} (tenant: {users})");

    // ---- 2. request economy
    println!();
    println!("## 2. Request economy");
    let full_requests = stats.requests;
    println!(
        "full run: {full_requests} requests = {:.3} per user; the data's minimum {} = {:.3} per user \
         (user pages {}, account details {}, meeting listings {}, instance listings {}, \
         participant listings {}, report sweep {}, report meeting listings {}, plan usage {}); \
         ratio {:.3} (target ≤ 1.05)",
        full_requests as f64 / users as f64,
        min.total(),
        min.total() as f64 / users as f64,
        min.user_pages,
        min.details,
        min.meeting_pages,
        min.instance_lists,
        min.participant_pages,
        min.report_sweep_pages,
        min.report_meeting_pages,
        min.plan_usage,
        full_requests as f64 / min.total() as f64
    );
    let heavy = stats.by_category.get("Heavy").copied().unwrap_or(0);
    println!(
        "  Heavy requests: {heavy} (minimum {}); Zoom's daily Heavy cap 60,000 for Business+: \
         {:.1}% of it",
        min.heavy(),
        100.0 * heavy as f64 / 60_000.0
    );
    let not_found = stats.by_status.get(&404).copied().unwrap_or(0);
    println!(
        "  of which 404 (participants of meetings not ended yet): {not_found}; user listings \
         are repeated by roster, access and license information ({} user-list requests, \
         minimum {})",
        stats
            .by_endpoint
            .iter()
            .filter(|(k, _)| k.ends_with("/users"))
            .map(|(_, v)| v)
            .sum::<u64>(),
        min.user_pages
    );

    sb.state.clock.advance(86_400);
    let now = sb.state.clock.now();
    let (_, active) = tenant.simulate_day(0.05, now);
    // The first day's tokens expired with the day: a new grant, the same store.
    let next = harness::bench_engine(Grant::issue(&sb), profile, true, now).await?;
    let engine = sync_engine::SyncEngine {
        clients: next.factory.clone(),
        ..b.engine.clone()
    };
    b.clock.set(now);
    sb.state.stats.reset(now);
    let (incr_runs, incr_wall) = harness::daily_sync(&engine, None).await;
    let incr = sb.state.stats.snapshot();
    let incr_store = b.table.figures();
    let incr_store = StoreFigures {
        calls: incr_store.calls - full_store.calls,
        batch_calls: incr_store.batch_calls - full_store.batch_calls,
        items_written: incr_store.items_written - full_store.items_written,
        items_deleted: incr_store.items_deleted - full_store.items_deleted,
        write_units: incr_store.write_units - full_store.write_units,
        read_units: incr_store.read_units - full_store.read_units,
        bytes_written: incr_store.bytes_written - full_store.bytes_written,
        micros: incr_store.micros - full_store.micros,
    };
    print_runs(&incr_runs);
    let incremental_units: u64 = incr_runs.iter().map(|r| r.incremental).sum();
    println!(
        "next day ({active} users active = {:.1}%): {} requests = {:.3} per user, {:.1}% of the full run \
         and {:.1}% of the data's minimum (target ≤ 10%); Heavy {}; {incremental_units} access \
         units incremental; wall {incr_wall:.1} s; 429s {}",
        100.0 * active as f64 / users as f64,
        incr.requests,
        incr.requests as f64 / users as f64,
        100.0 * incr.requests as f64 / full_requests as f64,
        100.0 * incr.requests as f64 / min.total() as f64,
        incr.by_category.get("Heavy").copied().unwrap_or(0),
        incr.rate_limited
    );
    println!("  by endpoint: {}", fmt_map(&incr.by_endpoint));

    // ---- latency-bound sample
    latency_sample(args).await?;

    let seconds = |rs: &[TaskRun]| rs.iter().map(|r| r.seconds).sum::<f64>();
    let full_units = runs.iter().map(|r| r.units as u64).sum();
    let access_secs = runs
        .iter()
        .find(|r| r.task == Task::ApplicationAccess.as_str())
        .map_or(0.0, |r| r.seconds);
    sb.shutdown().await;
    Ok(RateResult {
        users,
        accounts,
        scale,
        full_wall: wall,
        full_task_seconds: seconds(&runs),
        incr_task_seconds: seconds(&incr_runs),
        full_store,
        incr_store,
        full_units,
        // Accounts are of uneven size: the biggest is about 3× the mean; an estimate.
        access_seconds_per_account_max: 3.0 * access_secs / accounts.max(1) as f64,
    })
}

fn print_runs(runs: &[TaskRun]) {
    for r in runs {
        println!(
            "  {:<24} {:>7.1} s  {:>3} units ({} failed)  {:>7} requests  full {} incremental {}",
            r.task, r.seconds, r.units, r.failed, r.requests, r.full, r.incremental
        );
    }
}
