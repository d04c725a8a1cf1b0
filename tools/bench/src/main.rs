//! `make bench`: prints the five figures of issue #10. See `BENCHMARKS.md` and `--help`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use bench::harness::{self, Grant, TaskRun};
use bench::metered::StoreFigures;
use bench::model::{self, AccountMinimum, DailyUsage, Prices};
use bench::{coldstart, procfs};
use clap::{Parser, Subcommand};
use serde::{Deserialize, Serialize};
use sync_engine::Task;
use zoom::RateProfile;
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::config::{RateLimitConfig, RateLimitProfile};
use zoom_sandbox::faults::FaultConfig;
use zoom_sandbox::tenant::{TenantSpec, UserStatus};

#[derive(Parser, Debug)]
#[command(
    about = "Benchmarks of issue #10: rate-limit efficiency, request economy, overhead, cold start, cost"
)]
struct Args {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Larger sizes: the rate run on 200,000 users, overhead up to 200,000 users.
    #[arg(long)]
    full: bool,
    /// Figures to run (comma separated): rate, overhead, coldstart (economy and cost come with rate).
    #[arg(long, value_delimiter = ',', default_value = "rate,overhead,coldstart")]
    only: Vec<String>,
    /// Rate run: sub accounts.
    #[arg(long, default_value_t = 50)]
    subs: u32,
    /// Rate run: users (master + sub accounts); `--full` makes it 200,000.
    #[arg(long, default_value_t = 50_000)]
    users: u32,
    /// Average scheduled meetings per meeting-capable user (7: about 5.7 per user with an id,
    /// the issue's "≥ 5 meetings per user").
    #[arg(long, default_value_t = 7)]
    meetings: u32,
    /// Average participants per past meeting.
    #[arg(long, default_value_t = 5)]
    participants: u32,
    /// Every Business limit (sandbox and client alike) multiplied by this.
    #[arg(long, default_value_t = 30.0)]
    scale: f64,
    /// Zoom's round-trip latency for the latency-bound sample, ms (divided by --scale there).
    #[arg(long, default_value_t = 150)]
    zoom_latency_ms: u64,
    /// Overhead sizes (users); default 10,000 and 50,000 (and 200,000 with --full: about 9
    /// minutes more here).
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<u32>,
    /// Where the release function binaries are.
    #[arg(long, default_value = "target/release")]
    release_dir: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Lambda memory size assumed by the cost model, MB.
    #[arg(long, default_value_t = 128)]
    memory_mb: u64,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// (internal) The worker of the overhead figure, in its own process; reads the grant from
    /// `BENCH_GRANT`.
    OverheadChild,
}

fn tenant(args: &Args, users: u32) -> TenantSpec {
    TenantSpec::sized(args.seed, args.subs, users)
        .with_meetings_per_user(args.meetings)
        .with_participants_per_meeting(args.participants)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.cmd {
        Some(Cmd::OverheadChild) => rt.block_on(overhead_child()),
        None => rt.block_on(all(args)),
    }
}

async fn all(mut args: Args) -> anyhow::Result<()> {
    if args.full && args.users == 50_000 {
        args.users = 200_000;
    }
    if args.sizes.is_empty() {
        args.sizes = if args.full {
            vec![10_000, 50_000, 200_000]
        } else {
            vec![10_000, 50_000]
        };
    }
    let started = Instant::now();
    println!("# zoom-tiered-sync benchmarks (issue #10)");
    println!();
    println!(
        "machine: {} cores, {}; {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        procfs::cpu_model(),
        rustc_version()
    );
    println!(
        "build: {} profile",
        if cfg!(debug_assertions) {
            "DEBUG (figures of a debug build are not meaningful; use --release)"
        } else {
            "release"
        }
    );
    let want = |f: &str| args.only.iter().any(|o| o == f);
    let mut rate = None;
    if want("rate") {
        rate = Some(rate_and_economy(&args).await?);
    }
    let mut overhead = Vec::new();
    if want("overhead") {
        overhead = overhead_figures(&args).await?;
    }
    if want("coldstart") {
        coldstart_figures(&args).await?;
    }
    if let Some(r) = &rate {
        cost_model(&args, r, &overhead);
    }
    println!();
    println!(
        "total benchmark time: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn rustc_version() -> String {
    std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "rustc unknown".into())
}

// ---- figures 1 and 2 ---------------------------------------------------------------------------

/// What the cost model needs from the rate run.
struct RateResult {
    users: u64,
    accounts: u64,
    scale: f64,
    full_wall: f64,
    full_task_seconds: f64,
    incr_task_seconds: f64,
    full_store: StoreFigures,
    incr_store: StoreFigures,
    full_units: u64,
    access_seconds_per_account_max: f64,
}

fn fmt_map(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The report ranges of a full run (docs/integration-tasks.md): six 30-day ranges back from
/// today, whole UTC days.
fn report_ranges(today: chrono::NaiveDate) -> Vec<(chrono::NaiveDate, chrono::NaiveDate)> {
    (0..6)
        .map(|i| {
            let to = today - chrono::Duration::days(30 * i);
            (to - chrono::Duration::days(29), to)
        })
        .collect()
}

/// The data's minimum for a full sync, from the sandbox's own facts.
fn minimum(
    t: &zoom_sandbox::tenant::Tenant,
    today: chrono::NaiveDate,
) -> (AccountMinimum, u64, u64) {
    use zoom_sandbox::tenant::MeetingKind;
    let mut total = AccountMinimum::default();
    let (mut users, mut meetings) = (0u64, 0u64);
    let accounts = t.accounts();
    let standalone = t.standalone_account_id().to_owned();
    let ranges = report_ranges(today);
    for a in accounts.iter().filter(|a| a.id != standalone) {
        let c = t.counts(a.index);
        let by_status = [
            u64::from(c.of_status(UserStatus::Active)),
            u64::from(c.of_status(UserStatus::Inactive)),
            u64::from(c.of_status(UserStatus::Pending)),
        ];
        let mut hosts = Vec::new();
        let mut active_per_range = vec![0u64; ranges.len()];
        for u in 0..t.user_count(a.index) {
            users += 1;
            let Some(user) = t.user(a.index, u) else {
                continue;
            };
            if user.status == UserStatus::Pending {
                continue;
            }
            let listed = t.meetings(a.index, u);
            meetings += listed.len() as u64;
            let ended = t.ended_instances(a.index, u);
            let mut instants_ranges = Vec::new();
            for (r, (from, to)) in ranges.iter().enumerate() {
                let in_range: Vec<_> = ended
                    .iter()
                    .filter(|m| (*from..=*to).contains(&m.start_time.date_naive()))
                    .collect();
                active_per_range[r] += u64::from(!in_range.is_empty());
                if in_range.iter().any(|m| m.kind == MeetingKind::Instant) {
                    instants_ranges.push(in_range.len() as u64);
                }
            }
            hosts.push(model::HostFacts {
                listed: listed.len() as u64,
                recurring: listed
                    .iter()
                    .filter(|m| m.kind == MeetingKind::Recurring)
                    .count() as u64,
                rows_per_ended_instance: ended
                    .iter()
                    .map(|m| t.participant_stats(m).0 as u64)
                    .collect(),
                instants_ranges,
            });
        }
        total.add(&model::account_minimum(
            by_status,
            &hosts,
            &active_per_range,
            a.pay_mode == "master",
        ));
    }
    // The tree's accounts: `GET /accounts/me` once and the sub-account listing.
    total.details += model::pages(accounts.len() as u64 - 2, model::PAGE);
    (total, users, meetings)
}

async fn rate_and_economy(args: &Args) -> anyhow::Result<RateResult> {
    let spec = tenant(args, args.users);
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

/// The access task against a Zoom with realistic latency (scaled like the limits): the task
/// sends one request at a time, so its rate is bounded by 1/latency, not by its budget.
async fn latency_sample(args: &Args) -> anyhow::Result<()> {
    let scale = args.scale;
    let latency = (args.zoom_latency_ms as f64 / scale).round().max(1.0) as u64;
    let spec = TenantSpec::sized(args.seed, 1, 600)
        .with_meetings_per_user(args.meetings)
        .with_participants_per_meeting(args.participants);
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

// ---- figure 3 ------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChildReport {
    wall: f64,
    user_cpu: f64,
    sys_cpu: f64,
    /// Peak resident memory before the sync (runtime, clients, empty store), kB.
    baseline_kb: u64,
    peak_kb: u64,
    requests: u64,
    store: StoreFigures,
    runs: Vec<TaskRun>,
}

struct OverheadRow {
    users: u64,
    report: ChildReport,
}

async fn overhead_figures(args: &Args) -> anyhow::Result<Vec<OverheadRow>> {
    println!();
    println!(
        "## 3. Overhead: limits off, no injected latency; the worker in its own process \
         (sandbox in this one); store: the in-memory table, metered, roster/activity items \
         counted and dropped so that the worker's memory is its own (as with DynamoDB)"
    );
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for &n in &args.sizes {
        let sb = zoom_sandbox::start_local(SandboxConfig {
            tenant: tenant(args, n),
            ..SandboxConfig::demo()
        })
        .await?;
        let grant = Grant::issue(&sb);
        let (u0, s0) = procfs::cpu_seconds();
        let grant_json = serde_json::to_string(&grant)?;
        let exe = exe.clone();
        let child = tokio::task::spawn_blocking(move || {
            std::process::Command::new(exe)
                .arg("overhead-child")
                .env("BENCH_GRANT", grant_json)
                .stderr(std::process::Stdio::inherit())
                .output()
        })
        .await??;
        let (u1, s1) = procfs::cpu_seconds();
        anyhow::ensure!(
            child.status.success(),
            "overhead child for {n} users failed"
        );
        let report: ChildReport = serde_json::from_slice(
            child
                .stdout
                .split(|b| *b == b'\n')
                .rfind(|l| l.starts_with(b"{"))
                .context("child report")?,
        )?;
        let cpu = report.user_cpu + report.sys_cpu;
        let store_s = report.store.micros as f64 / 1e6;
        println!(
            "{n:>7} users: {:>6} requests, wall {:>6.1} s, worker CPU {:>6.2} s (user {:.2}, sys {:.2}) \
             = {:>6.0} users/CPU-s, {:>5.0} requests/CPU-s; in the store {:.2} s ({:.0}% of worker CPU, {} items, {} WCU); \
             sandbox CPU {:.2} s; peak RSS {:.1} MB (before the sync {:.1} MB)",
            report.requests,
            report.wall,
            cpu,
            report.user_cpu,
            report.sys_cpu,
            n as f64 / cpu.max(1e-9),
            report.requests as f64 / cpu.max(1e-9),
            store_s,
            100.0 * store_s / cpu.max(1e-9),
            report.store.items_written,
            report.store.write_units,
            (u1 - u0) + (s1 - s0),
            report.peak_kb as f64 / 1024.0,
            report.baseline_kb as f64 / 1024.0,
        );
        rows.push(OverheadRow {
            users: u64::from(n),
            report,
        });
        sb.shutdown().await;
    }
    if let (Some(a), Some(z)) = (rows.first(), rows.last()) {
        println!(
            "memory: {:.1} MB at {} users → {:.1} MB at {} users (target: flat, ≤ 64 MB)",
            a.report.peak_kb as f64 / 1024.0,
            a.users,
            z.report.peak_kb as f64 / 1024.0,
            z.users
        );
    }
    Ok(rows)
}

async fn overhead_child() -> anyhow::Result<()> {
    let grant: Grant = serde_json::from_str(&std::env::var("BENCH_GRANT")?)?;
    let b =
        harness::bench_engine(grant, RateProfile::unlimited(), false, chrono::Utc::now()).await?;
    let baseline_kb = procfs::status_kb("self", "VmHWM").unwrap_or(0);
    let (u0, s0) = procfs::cpu_seconds();
    let (runs, wall) = harness::daily_sync(&b.engine, None).await;
    let (u1, s1) = procfs::cpu_seconds();
    let requests = b
        .factory
        .clients()
        .iter()
        .map(|(_, c)| c.metrics().requests)
        .sum();
    let report = ChildReport {
        wall,
        user_cpu: u1 - u0,
        sys_cpu: s1 - s0,
        baseline_kb,
        peak_kb: procfs::status_kb("self", "VmHWM").unwrap_or(0),
        requests,
        store: b.table.figures(),
        runs,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

// ---- figure 4 ------------------------------------------------------------------------------------

async fn coldstart_figures(args: &Args) -> anyhow::Result<()> {
    println!();
    println!(
        "## 4. Cold start (process start → first GET /runtime/invocation/next; local Runtime API \
         and Secrets Manager stub; median of 5) and binary sizes (release profile: opt-level s, fat LTO, one codegen unit, stripped)"
    );
    for name in coldstart::FUNCTIONS {
        let path = args.release_dir.join(name);
        let Ok(meta) = std::fs::metadata(&path) else {
            println!(
                "{name:<24} not built ({}): cargo build --release -p {name}",
                path.display()
            );
            continue;
        };
        let mut times = Vec::new();
        let mut rss = 0;
        let mut error = None;
        for _ in 0..5 {
            match coldstart::start_once(&path, name).await {
                Ok(s) => {
                    times.push(s.ready);
                    rss = rss.max(s.rss_kb.unwrap_or(0));
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        times.sort();
        let size = meta.len() as f64 / 1e6;
        match (times.get(times.len() / 2), error) {
            (Some(median), None) => println!(
                "{name:<24} {size:>5.1} MB  ready in {:>5.1} ms (min {:.1}, max {:.1}; target ≤ 30 ms, ≤ 10 MB); RSS at ready {:.1} MB",
                median.as_secs_f64() * 1e3,
                times[0].as_secs_f64() * 1e3,
                times[times.len() - 1].as_secs_f64() * 1e3,
                rss as f64 / 1024.0
            ),
            (_, e) => println!(
                "{name:<24} {size:>5.1} MB  did not become ready: {}",
                e.map(|e| e.to_string()).unwrap_or_default()
            ),
        }
    }
    Ok(())
}

// ---- figure 5 ------------------------------------------------------------------------------------

fn cost_model(args: &Args, r: &RateResult, overhead: &[OverheadRow]) {
    println!();
    println!("## 5. Cost model per 10,000 users per day (derived from the figures above)");
    let p = Prices::default();
    // Lambda is billed by wall time: at Zoom's real rates the tasks take `scale` times the
    // measured (scaled) time. A full access run every 7 days, incremental on the other 6.
    let full_secs = r.full_task_seconds * r.scale;
    let incr_secs = r.incr_task_seconds * r.scale;
    let daily_secs = (full_secs + 6.0 * incr_secs) / 7.0;
    // Units: one per (task, account) and day, plus one planning invocation per task; the
    // access units of big accounts continue in follow-ups (one per 14 minutes of work).
    let segment = 15.0 * 60.0 - 60.0;
    let follow_ups = ((r.access_seconds_per_account_max * r.scale) / segment).floor() as u64;
    let units_per_day = r.full_units + 3 + follow_ups;
    let write_units = (r.full_store.write_units + 6 * r.incr_store.write_units) / 7;
    let read_units = (r.full_store.read_units + 6 * r.incr_store.read_units) / 7;
    let usage = DailyUsage {
        users: r.users,
        lambda_seconds: daily_secs,
        memory_mb: args.memory_mb,
        invocations: units_per_day,
        write_units,
        read_units,
        // Send, receive and delete per message.
        sqs_requests: 3 * units_per_day,
    };
    let c = model::per_10k(&usage, &p);
    println!(
        "assumptions: {} MB functions (arm64), billed wall time = measured time × {} (Zoom's real \
         limits), full access run 1 day in 7, incremental the other 6; one invocation per unit \
         (SQS batch size 1, the worst case); DynamoDB on-demand, 1 WRU per started KB, 1 RRU per \
         started 4 KB; prices us-east-1: ${}/GB-s, ${}/M invocations, ${}/M WRU, ${}/M RRU, ${}/M SQS FIFO requests",
        args.memory_mb,
        r.scale,
        p.lambda_gb_second,
        p.lambda_per_million,
        p.dynamo_wru_per_million,
        p.dynamo_rru_per_million,
        p.sqs_fifo_per_million
    );
    println!(
        "measured: {} users, {} accounts; Lambda time full day {:.0} s, incremental day {:.0} s; \
         writes full {} WRU ({} items, {:.1} MB), incremental {} WRU; reads full {} RRU, incremental {} RRU",
        r.users,
        r.accounts,
        full_secs,
        incr_secs,
        r.full_store.write_units,
        r.full_store.items_written,
        r.full_store.bytes_written as f64 / 1e6,
        r.incr_store.write_units,
        r.full_store.read_units,
        r.incr_store.read_units
    );
    println!(
        "per 10,000 users per day: {:.1} GB-s, {:.1} invocations, {:.0} write units, {:.0} read units, \
         {:.1} SQS requests ≈ ${:.4}/day (${:.2}/month)",
        c.gb_seconds,
        c.invocations,
        c.write_units,
        c.read_units,
        c.sqs_requests,
        c.usd,
        c.usd * 30.0
    );
    if let Some(o) = overhead.last() {
        let cpu = o.report.user_cpu + o.report.sys_cpu;
        println!(
            "CPU actually used by the worker for a full run ({} users, limits off): {:.1} s = {:.2} CPU-s per 10,000 users; \
             the rest of the billed time is waiting for Zoom's rate limits (the full run at {}: {:.0} s wall)",
            o.users,
            cpu,
            cpu * 10_000.0 / o.users as f64,
            r.scale,
            r.full_wall
        );
    }
}
