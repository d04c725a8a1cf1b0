//! `make bench`: prints the five figures of issue #10. See `BENCHMARKS.md` and `--help`.
//! The command line is in [`args`], each figure's run and printout in [`figures`].

mod args;
mod figures;

use std::time::Instant;

use bench::procfs;
use clap::Parser;
// The functions' allocator (lambda-wiring's): the worker measured allocates as they do.
use lambda_wiring as _;

use crate::args::{Args, Cmd};
use crate::figures::{cold_start, cost, export, heavy, overhead, pacing, rate};

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.cmd {
        Some(Cmd::OverheadChild) => rt.block_on(overhead::overhead_child()),
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
        rate = Some(rate::rate_and_economy(&args).await?);
    }
    if want("pacing") {
        pacing::pacing_figures(&args).await?;
    }
    if want("heavy") {
        heavy::heavy_figures(&args).await?;
    }
    let mut overhead = Vec::new();
    if want("overhead") {
        overhead = overhead::overhead_figures(&args).await?;
    }
    if want("coldstart") {
        cold_start::coldstart_figures(&args).await?;
    }
    if want("export") {
        export::export_figures().await?;
    }
    if let Some(r) = &rate {
        cost::cost_model(&args, r, &overhead);
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
