//! The arithmetic behind the figures: lower bounds, the data's minimum request count, DynamoDB
//! item sizes and write units, and the cost model. Pure functions (unit-tested).

use std::collections::BTreeMap;

use serde_json::Value;
use zoom::{Category, RateProfile};

/// Zoom's page size for every listing the connector uses.
pub const PAGE: u64 = 300;

/// Pages a listing of `n` items needs (an empty listing still costs one request).
pub fn pages(n: u64, page: u64) -> u64 {
    n.div_ceil(page.max(1)).max(1)
}

/// Per category: the seconds the requests need at the profile's full rate (no headroom).
/// Categories the profile does not limit are left out.
pub fn lower_bounds(
    requests_by_category: &BTreeMap<String, u64>,
    profile: &RateProfile,
) -> BTreeMap<String, f64> {
    Category::ALL
        .iter()
        .filter_map(|c| {
            let n = requests_by_category.get(c.as_str()).copied().unwrap_or(0);
            let rate = profile.limit(*c)?;
            (n > 0 && rate > 0.0).then(|| (c.as_str().to_owned(), n as f64 / rate))
        })
        .collect()
}

/// Categories have separate budgets and run side by side: the run cannot finish before its
/// slowest category.
pub fn wall_lower_bound(bounds: &BTreeMap<String, f64>) -> f64 {
    bounds.values().copied().fold(0.0, f64::max)
}

/// What the data of one account needs at least, in requests, for a full sync of roster,
/// access and license information: each status listed once (shared by the three tasks), the
/// account's details, one meetings listing per user with an id (more pages for > 300
/// meetings), one instance listing per recurring meeting, one participants listing per ended
/// instance of every kind (more pages for > 300 rows), the report sweep (one `report/users`
/// listing per 30-day range of the six months the reports reach, a page per 300 hosts), one
/// report listing per (host, range) holding an instant meeting (Zoom lists instant meetings
/// nowhere else), and plan usage once per paying account.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AccountMinimum {
    pub user_pages: u64,
    pub details: u64,
    pub meeting_pages: u64,
    pub instance_lists: u64,
    pub participant_pages: u64,
    /// Heavy: `GET /report/users` pages.
    pub report_sweep_pages: u64,
    /// Heavy: `GET /report/users/{id}/meetings` pages.
    pub report_meeting_pages: u64,
    /// Heavy: `GET /accounts/{id}/plans/usage`.
    pub plan_usage: u64,
}

impl AccountMinimum {
    pub fn total(&self) -> u64 {
        self.user_pages
            + self.details
            + self.meeting_pages
            + self.instance_lists
            + self.participant_pages
            + self.heavy()
    }

    /// The requests of Zoom's Heavy category (reports and plan usage).
    pub fn heavy(&self) -> u64 {
        self.report_sweep_pages + self.report_meeting_pages + self.plan_usage
    }

    pub fn add(&mut self, other: &AccountMinimum) {
        self.user_pages += other.user_pages;
        self.details += other.details;
        self.meeting_pages += other.meeting_pages;
        self.instance_lists += other.instance_lists;
        self.participant_pages += other.participant_pages;
        self.report_sweep_pages += other.report_sweep_pages;
        self.report_meeting_pages += other.report_meeting_pages;
        self.plan_usage += other.plan_usage;
    }
}

/// The facts of one host that the minimum depends on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// Meetings the host's meeting list shows.
    pub listed: u64,
    /// Recurring meetings among them.
    pub recurring: u64,
    /// Participant rows of each ended instance.
    pub rows_per_ended_instance: Vec<u64>,
    /// Per report range: ended instances in the range, when one of them is instant.
    pub instants_ranges: Vec<u64>,
}

/// The minimum for one account from its facts: users per status (active, inactive, pending),
/// the hosts (users with an id), hosts active per report range, and whether it pays through
/// the master (plan usage available).
pub fn account_minimum(
    users_by_status: [u64; 3],
    hosts: &[HostFacts],
    active_hosts_per_range: &[u64],
    paying: bool,
) -> AccountMinimum {
    AccountMinimum {
        user_pages: users_by_status.iter().map(|n| pages(*n, PAGE)).sum(),
        details: 1,
        meeting_pages: hosts.iter().map(|h| pages(h.listed, PAGE)).sum(),
        instance_lists: hosts.iter().map(|h| h.recurring).sum(),
        participant_pages: hosts
            .iter()
            .flat_map(|h| h.rows_per_ended_instance.iter())
            .map(|n| pages(*n, PAGE))
            .sum(),
        report_sweep_pages: active_hosts_per_range.iter().map(|n| pages(*n, PAGE)).sum(),
        report_meeting_pages: hosts
            .iter()
            .flat_map(|h| h.instants_ranges.iter())
            .map(|n| pages(*n, PAGE))
            .sum(),
        plan_usage: u64::from(paying),
    }
}

/// DynamoDB's item size: attribute names plus values (strings and binaries by length, numbers
/// about one byte per two digits plus one, booleans and nulls one byte, lists and maps three
/// bytes plus one per element plus their contents). Our JSON items map onto these types.
pub fn item_size(item: &serde_json::Map<String, Value>) -> u64 {
    item.iter()
        .map(|(k, v)| k.len() as u64 + value_size(v))
        .sum()
}

fn value_size(v: &Value) -> u64 {
    match v {
        Value::Null | Value::Bool(_) => 1,
        Value::String(s) => s.len() as u64,
        Value::Number(n) => {
            let digits = n.to_string().chars().filter(char::is_ascii_digit).count() as u64;
            digits.div_ceil(2) + 1
        }
        Value::Array(a) => 3 + a.iter().map(|x| 1 + value_size(x)).sum::<u64>(),
        Value::Object(m) => {
            3 + m
                .iter()
                .map(|(k, x)| 1 + k.len() as u64 + value_size(x))
                .sum::<u64>()
        }
    }
}

/// Write capacity units of one standard put or delete: one per started KB.
pub fn write_units(size: u64) -> u64 {
    size.div_ceil(1024).max(1)
}

/// Prices and assumptions of the cost model (us-east-1, on-demand, arm64 list prices, 2026).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// USD per GB-second (arm64).
    pub lambda_gb_second: f64,
    /// USD per million invocations.
    pub lambda_per_million: f64,
    /// USD per million write request units (on-demand; one per started KB).
    pub dynamo_wru_per_million: f64,
    /// USD per million read request units (one per started 4 KB, strongly consistent).
    pub dynamo_rru_per_million: f64,
    /// USD per million SQS requests (FIFO).
    pub sqs_fifo_per_million: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            lambda_gb_second: 0.000_013_333_4,
            lambda_per_million: 0.20,
            dynamo_wru_per_million: 0.625,
            dynamo_rru_per_million: 0.125,
            sqs_fifo_per_million: 0.50,
        }
    }
}

/// Measured inputs of the cost model, for one daily sync of a tenant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyUsage {
    pub users: u64,
    /// Lambda seconds billed (wall time of the invocations).
    pub lambda_seconds: f64,
    /// Configured function memory, MB.
    pub memory_mb: u64,
    pub invocations: u64,
    pub write_units: u64,
    pub read_units: u64,
    pub sqs_requests: u64,
}

/// The cost model's figures per 10,000 users per day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Per10k {
    pub gb_seconds: f64,
    pub invocations: f64,
    pub write_units: f64,
    pub read_units: f64,
    pub sqs_requests: f64,
    pub usd: f64,
}

pub fn per_10k(u: &DailyUsage, p: &Prices) -> Per10k {
    let f = 10_000.0 / u.users.max(1) as f64;
    let gb_seconds = u.lambda_seconds * u.memory_mb as f64 / 1024.0 * f;
    let invocations = u.invocations as f64 * f;
    let write_units = u.write_units as f64 * f;
    let read_units = u.read_units as f64 * f;
    let sqs_requests = u.sqs_requests as f64 * f;
    let usd = gb_seconds * p.lambda_gb_second
        + invocations * p.lambda_per_million / 1e6
        + write_units * p.dynamo_wru_per_million / 1e6
        + read_units * p.dynamo_rru_per_million / 1e6
        + sqs_requests * p.sqs_fifo_per_million / 1e6;
    Per10k {
        gb_seconds,
        invocations,
        write_units,
        read_units,
        sqs_requests,
        usd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_up_and_an_empty_listing_costs_one() {
        assert_eq!(pages(0, 300), 1);
        assert_eq!(pages(300, 300), 1);
        assert_eq!(pages(301, 300), 2);
        assert_eq!(pages(1_000, 300), 4);
    }

    #[test]
    fn lower_bound_is_the_slowest_category_at_its_full_rate() {
        let profile = RateProfile::business().scaled(10.0);
        let mut n = BTreeMap::new();
        n.insert("Medium".to_owned(), 6_000);
        n.insert("Light".to_owned(), 1_600);
        n.insert("Heavy".to_owned(), 0);
        let b = lower_bounds(&n, &profile);
        assert_eq!(b.len(), 2, "{b:?}");
        assert!((b["Medium"] - 10.0).abs() < 1e-9, "6000 at 600/s");
        assert!((b["Light"] - 2.0).abs() < 1e-9, "1600 at 800/s");
        assert!((wall_lower_bound(&b) - 10.0).abs() < 1e-9);
        assert!(lower_bounds(&n, &RateProfile::unlimited()).is_empty());
    }

    #[test]
    fn account_minimum_counts_pages() {
        let host = |listed, recurring, rows: &[u64], instants: &[u64]| HostFacts {
            listed,
            recurring,
            rows_per_ended_instance: rows.to_vec(),
            instants_ranges: instants.to_vec(),
        };
        let hosts = [
            host(0, 0, &[], &[]),
            host(3, 1, &[5, 300, 301], &[2]),
            host(301, 2, &[4], &[1, 301]),
        ];
        let m = account_minimum([650, 0, 10], &hosts, &[0, 2, 301], true);
        assert_eq!(m.user_pages, 3 + 1 + 1);
        assert_eq!(m.meeting_pages, 1 + 1 + 2);
        assert_eq!(m.instance_lists, 3);
        assert_eq!(m.participant_pages, 1 + 1 + 2 + 1);
        assert_eq!(m.report_sweep_pages, 1 + 1 + 2);
        assert_eq!(m.report_meeting_pages, 1 + 1 + 2);
        assert_eq!(m.plan_usage, 1);
        assert_eq!(m.heavy(), 4 + 4 + 1);
        assert_eq!(m.total(), 5 + 1 + 4 + 3 + 5 + 9);
        let self_pay = account_minimum([1, 0, 0], &[], &[], false);
        assert_eq!(self_pay.plan_usage, 0);
    }

    #[test]
    fn item_sizes_and_write_units() {
        let item: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"pk": "CONN#c", "n": 12345, "ok": true, "l": ["ab", 1], "m": {"k": "v"}}"#,
        )
        .unwrap();
        // pk: 2 + 6; n: 1 + (5 digits -> 3 + 1); ok: 2 + 1; l: 1 + 3 + (1 + 2) + (1 + 2);
        // m: 1 + 3 + (1 + 1 + 1).
        assert_eq!(item_size(&item), 8 + 5 + 3 + 10 + 7);
        assert_eq!(write_units(1), 1);
        assert_eq!(write_units(1024), 1);
        assert_eq!(write_units(1025), 2);
    }

    #[test]
    fn cost_scales_to_ten_thousand_users() {
        let u = DailyUsage {
            users: 50_000,
            lambda_seconds: 1_000.0,
            memory_mb: 128,
            invocations: 500,
            write_units: 100_000,
            read_units: 0,
            sqs_requests: 0,
        };
        let c = per_10k(&u, &Prices::default());
        assert!((c.gb_seconds - 25.0).abs() < 1e-9, "1000 s × 0.125 GB / 5");
        assert!((c.invocations - 100.0).abs() < 1e-9);
        assert!((c.write_units - 20_000.0).abs() < 1e-9);
        let usd = 25.0 * 0.000_013_333_4 + 100.0 * 0.2e-6 + 20_000.0 * 0.625e-6;
        assert!((c.usd - usd).abs() < 1e-12);
    }
}
