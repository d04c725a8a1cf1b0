//! Figure 5: the cost model, derived from the figures of the rate and overhead runs.

use bench::model::{self, DailyUsage, Prices};

use crate::args::Args;
use crate::figures::overhead::OverheadRow;
use crate::figures::rate::RateResult;

pub(crate) fn cost_model(args: &Args, r: &RateResult, overhead: &[OverheadRow]) {
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
