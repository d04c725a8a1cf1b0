//! Figure 3: overhead with limits off, the worker in its own process (`overhead-child`).

use anyhow::Context;
use bench::harness::{self, Grant, TaskRun};
use bench::metered::StoreFigures;
use bench::procfs;
use serde::{Deserialize, Serialize};
use zoom::RateProfile;
use zoom_sandbox::SandboxConfig;

use crate::args::Args;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChildReport {
    wall: f64,
    pub(crate) user_cpu: f64,
    pub(crate) sys_cpu: f64,
    /// Peak resident memory before the sync (runtime, clients, empty store), kB.
    baseline_kb: u64,
    peak_kb: u64,
    /// Peak resident memory while each task ran (the tasks one after the other), kB.
    task_peaks_kb: Vec<(String, u64)>,
    requests: u64,
    store: StoreFigures,
    runs: Vec<TaskRun>,
}

pub(crate) struct OverheadRow {
    pub(crate) users: u64,
    pub(crate) report: ChildReport,
}

pub(crate) async fn overhead_figures(args: &Args) -> anyhow::Result<Vec<OverheadRow>> {
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
            tenant: args.tenant(n),
            ..SandboxConfig::demo()
        })
        .await?;
        let grant = Grant::issue(&sb);
        let (u0, s0) = procfs::cpu_seconds();
        let grant_json = serde_json::to_string(&grant)?;
        let exe = exe.clone();
        let child = tokio::task::spawn_blocking(move || {
            // `BENCH_CHILD_WRAPPER=heaptrack` (or another tool taking the command) profiles
            // the worker.
            let mut command = match std::env::var_os("BENCH_CHILD_WRAPPER") {
                Some(wrapper) => {
                    let mut c = std::process::Command::new(wrapper);
                    c.arg(exe);
                    c
                }
                None => std::process::Command::new(exe),
            };
            command
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
        let peaks: Vec<String> = report
            .task_peaks_kb
            .iter()
            .map(|(task, kb)| format!("{task} {:.1} MB", *kb as f64 / 1024.0))
            .collect();
        println!("         peak RSS by task: {}", peaks.join(", "));
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

pub(crate) async fn overhead_child() -> anyhow::Result<()> {
    let grant: Grant = serde_json::from_str(&std::env::var("BENCH_GRANT")?)?;
    let b =
        harness::bench_engine(grant, RateProfile::unlimited(), false, chrono::Utc::now()).await?;
    let baseline_kb = procfs::status_kb("self", "VmHWM").unwrap_or(0);
    let (u0, s0) = procfs::cpu_seconds();
    // The tasks one after the other (not access beside License Information as scheduled), so
    // that each one's peak is its own.
    let started = std::time::Instant::now();
    let mut runs = Vec::new();
    let mut task_peaks_kb = Vec::new();
    let mut peak_kb = baseline_kb;
    for task in sync_engine::Task::ALL {
        let reset = procfs::reset_peak();
        runs.push(harness::run_task(&b.engine, task, None).await);
        let peak = procfs::status_kb("self", "VmHWM").unwrap_or(0);
        peak_kb = peak_kb.max(peak);
        if reset {
            task_peaks_kb.push((task.as_str().to_owned(), peak));
        }
    }
    let wall = started.elapsed().as_secs_f64();
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
        peak_kb,
        task_peaks_kb,
        requests,
        store: b.table.figures(),
        runs,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
