//! Memory benchmark: list every user of a big tenant through the HTTP API, in-process.
//!
//! ```text
//! cargo run --release -p zoom-sandbox --example big_tenant -- --users 200000 [--subs 50] [--seed 1] [--truth 1]
//! ```
//!
//! With `--truth 1` it then also streams the full ground truth (`GET /_sandbox/truth`, every
//! user's expected facts) and prints its size, time and the peak memory after it.
//!
//! Starts the sandbox on a loopback port with a tenant of `--users` users over the master and
//! `--subs` sub accounts (rate limits off), lists every account's users for every status with
//! plain reqwest (`page_size=300`, following `next_page_token`), checks the count against the
//! ground truth, and prints users listed, requests, wall time and peak resident memory
//! (`VmHWM` from `/proc/self/status`: sandbox and client together).

use std::time::Instant;

use zoom_sandbox::SandboxConfig;
use zoom_sandbox::tenant::TenantSpec;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.replace('_', "").parse().expect("a number"))
        .unwrap_or(default)
}

fn proc_status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .map(|l| l[field.len()..].trim().to_string())
        .unwrap_or_else(|| "n/a".into())
}

#[tokio::main]
async fn main() {
    let users = arg("--users", 200_000) as u32;
    let subs = arg("--subs", 50) as u32;
    let seed = arg("--seed", 1);
    let started = Instant::now();
    let config = SandboxConfig {
        tenant: TenantSpec::sized(seed, subs, users),
        ..SandboxConfig::demo()
    };
    let sb = zoom_sandbox::start_local(config).await.expect("sandbox");
    let generated = started.elapsed();
    let token = sb.state.issue_token_for_tests(&[]).access_token;
    let http = reqwest::Client::new();
    let tenant = &sb.state.tenant;
    let master = tenant.master_account_id().to_string();
    let (mut listed, mut requests) = (0u64, 0u64);
    let listing = Instant::now();
    for account in &tenant.accounts()[..tenant.accounts().len() - 1] {
        let id = if account.id == master {
            "me"
        } else {
            account.id.as_str()
        };
        for status in ["active", "inactive", "pending"] {
            let mut next = String::new();
            loop {
                let url = format!(
                    "{}/accounts/{id}/users?status={status}&page_size=300&next_page_token={next}",
                    sb.api_base_url()
                );
                let page: serde_json::Value = http
                    .get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("request")
                    .error_for_status()
                    .expect("200")
                    .json()
                    .await
                    .expect("JSON");
                requests += 1;
                listed += page["users"].as_array().map_or(0, |u| u.len() as u64);
                next = page["next_page_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if next.is_empty() {
                    break;
                }
            }
        }
    }
    let elapsed = listing.elapsed();
    let expected: u64 = tenant.accounts()[..tenant.accounts().len() - 1]
        .iter()
        .map(|a| tenant.counts(a.index).total() as u64)
        .sum();
    println!("tenant:          {users} users, {subs} sub accounts, seed {seed}");
    println!("generated in:    {:.2?}", generated);
    println!("users listed:    {listed} (expected {expected})");
    println!(
        "requests:        {requests} ({:.0} req/s)",
        requests as f64 / elapsed.as_secs_f64()
    );
    println!("listing time:    {:.2?}", elapsed);
    println!("peak RSS VmHWM:  {}", proc_status("VmHWM:"));
    println!("current VmRSS:   {}", proc_status("VmRSS:"));
    assert_eq!(listed, expected, "every user listed exactly once");
    if arg("--truth", 0) != 0 {
        let t = Instant::now();
        let mut body = http
            .get(format!("{}/_sandbox/truth", sb.base_url()))
            .send()
            .await
            .expect("truth");
        let mut bytes = 0usize;
        while let Some(chunk) = body.chunk().await.expect("chunk") {
            bytes += chunk.len();
        }
        println!(
            "truth streamed:  {:.1} MB in {:.2?}",
            bytes as f64 / 1e6,
            t.elapsed()
        );
        println!(
            "peak RSS VmHWM:  {} (after the truth)",
            proc_status("VmHWM:")
        );
    }
    sb.shutdown().await;
}
