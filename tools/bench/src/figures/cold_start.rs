//! Figure 4: cold start and binary sizes of the Lambda functions.

use bench::coldstart;

use crate::args::Args;

pub(crate) async fn coldstart_figures(args: &Args) -> anyhow::Result<()> {
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
