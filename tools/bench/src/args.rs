//! The command line of `bench`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use zoom_sandbox::tenant::TenantSpec;

#[derive(Parser, Debug)]
#[command(
    about = "Benchmarks of issue #10: rate-limit efficiency, request economy, overhead, cold start, cost"
)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) cmd: Option<Cmd>,
    /// Larger sizes: the rate run on 200,000 users, overhead up to 200,000 users.
    #[arg(long)]
    pub(crate) full: bool,
    /// Figures to run (comma separated): rate, pacing, heavy, overhead, coldstart, export
    /// (economy and cost come with rate).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "rate,pacing,heavy,overhead,coldstart,export"
    )]
    pub(crate) only: Vec<String>,
    /// Rate run: sub accounts.
    #[arg(long, default_value_t = 50)]
    pub(crate) subs: u32,
    /// Rate run: users (master + sub accounts); `--full` makes it 200,000.
    #[arg(long, default_value_t = 50_000)]
    pub(crate) users: u32,
    /// Pacing figure: users of its tenant (five full syncs, one per scenario).
    #[arg(long, default_value_t = 10_000)]
    pub(crate) pacing_users: u32,
    /// Heavy-participants figure: Zoom's real daily caps (60,000 Heavy a day) instead of
    /// caps scaled like the per-second limits.
    #[arg(long)]
    pub(crate) heavy_real_cap: bool,
    /// Pacing and Heavy-participants figures: hosts an access unit looks at at once
    /// (`EngineOptions::host_concurrency`).
    #[arg(long, default_value_t = sync_engine::EngineOptions::default().host_concurrency)]
    pub(crate) host_concurrency: usize,
    /// Pacing figure: its scenarios to run (comma separated): exact, third, third-no-headers,
    /// foreign, short-tokens; all by default.
    #[arg(long, value_delimiter = ',')]
    pub(crate) pacing_scenarios: Vec<String>,
    /// Pacing figure: after each scenario, the requests Zoom served per half second, by
    /// category, as a share of what was available (where a run left the budget idle).
    #[arg(long)]
    pub(crate) pacing_timeline: bool,
    /// Pacing figure: sub accounts of its tenant.
    #[arg(long, default_value_t = 10)]
    pub(crate) pacing_subs: u32,
    /// Average scheduled meetings per meeting-capable user (7: about 5.7 per user with an id,
    /// the "≥ 5 meetings per user").
    #[arg(long, default_value_t = 7)]
    meetings: u32,
    /// Average participants per past meeting.
    #[arg(long, default_value_t = 5)]
    participants: u32,
    /// Every Business limit (sandbox and client alike) multiplied by this.
    #[arg(long, default_value_t = 30.0)]
    pub(crate) scale: f64,
    /// Zoom's round-trip latency for the latency-bound sample, ms (divided by --scale there).
    #[arg(long, default_value_t = 150)]
    pub(crate) zoom_latency_ms: u64,
    /// Overhead sizes (users); default 10,000 and 50,000 (and 200,000 with --full: about 9
    /// minutes more here).
    #[arg(long, value_delimiter = ',')]
    pub(crate) sizes: Vec<u32>,
    /// Where the release function binaries are.
    #[arg(long, default_value = "target/release")]
    pub(crate) release_dir: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Lambda memory size assumed by the cost model, MB.
    #[arg(long, default_value_t = 128)]
    pub(crate) memory_mb: u64,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Cmd {
    /// (internal) The worker of the overhead figure, in its own process; reads the grant from
    /// `BENCH_GRANT`.
    OverheadChild,
}

impl Args {
    /// The tenant of the rate and overhead runs: `--subs` sub accounts, `users` users.
    pub(crate) fn tenant(&self, users: u32) -> TenantSpec {
        self.tenant_of(self.subs, users)
    }

    /// A tenant of `subs` sub accounts and `users` users, with the command line's seed,
    /// meetings and participants.
    pub(crate) fn tenant_of(&self, subs: u32, users: u32) -> TenantSpec {
        TenantSpec::sized(self.seed, subs, users)
            .with_meetings_per_user(self.meetings)
            .with_participants_per_meeting(self.participants)
    }
}
