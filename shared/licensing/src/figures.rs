//! Figures per license, account and connection: seats (provisioned, assigned, active,
//! inactive by the connection's threshold, deactivated, unassigned), the contract's cost per
//! month and per seat, the monthly cost of inactive seats, days to expiration, and the
//! distribution of days since users' last activity.
//!
//! Definitions (docs/license-management.md):
//! - `assigned` = seats held: users of the license with Zoom status active (License
//!   Information; a deactivated user holds no seat, as Zoom counts them);
//!   `deactivated` = users of the license with status inactive (their own figure, not seats);
//! - Zoom's own figure beside ours (`zoom_assigned`: plan usage for the paid license, the
//!   user summary for On-Prem), `differs_from_zoom` when it is there and not ours, and
//!   `zoom_assigned_note` saying why Zoom gives none (or explaining a difference);
//! - `inactive` = users with status active and no activity within the threshold (License
//!   Differentiation); `active` = status active minus `inactive`;
//! - monthly cost = cost ÷ months one payment covers (1, 3, 12; one-time: the contract term
//!   in months = days × 12 ÷ 365); cost per seat per month = monthly cost ÷ seats, where seats
//!   are the provisioned count (or the assigned users when provisioning is Unlimited);
//! - monthly cost of inactive seats = cost per seat per month × inactive.
//!
//! Amounts are exact decimals; shown amounts are rounded half away from zero to the
//! currency's minor unit (per seat: two places more), and totals add the shown amounts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};
use sync_domain::Provisioned;

use crate::contract::{Contract, ContractFields, PaymentFrequency};

/// One license as recorded by the integration tasks, with what admins entered for it.
#[derive(Debug, Clone, PartialEq)]
pub struct LicenseInput {
    pub account_id: String,
    pub account_name: Option<String>,
    /// `master` or `sub`.
    pub account_kind: String,
    pub license_id: String,
    pub name: String,
    pub provisioned: Provisioned,
    /// Seats held: users with status active.
    pub assigned: u64,
    /// Users with status active.
    pub active_status: u64,
    /// Users with status inactive (deactivated).
    pub deactivated: u64,
    /// From License Differentiation; `None` until it has run.
    pub activity: Option<ActivityInput>,
    pub as_of: NaiveDate,
    pub managed: bool,
    pub contract: Contract,
}

/// Zoom's own count of a license's assigned seats, as License Information recorded it beside
/// ours (`LicenseRecord::zoom_assigned` / `zoom_assigned_note`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoomSeats {
    /// `None`: Zoom gives no figure for this license (see `note`).
    pub assigned: Option<u64>,
    /// Why Zoom gives no figure (self-pay sub account, missing scope, …), or what explains a
    /// difference.
    pub note: Option<String>,
}

/// Zoom's figures keyed by (account id, license id).
pub type ZoomFigures = BTreeMap<(String, String), ZoomSeats>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityInput {
    pub threshold_days: u32,
    pub inactive_beyond_threshold: u64,
}

/// One user holding a seat (status active): which license, and days since their last activity
/// (`None`: never active).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserActivity {
    pub account_id: String,
    pub license_id: String,
    pub days_since_last_activity: Option<i64>,
}

/// Buckets of days since last activity.
pub const BUCKETS: [(&str, i64, i64); 7] = [
    ("0-7", 0, 7),
    ("8-30", 8, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    ("181-365", 181, 365),
    ("over 365", 366, i64::MAX),
];
pub const NEVER: &str = "never";

/// Counts per bucket, in [`BUCKETS`] order then `never`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distribution(pub [u64; 8]);

impl Distribution {
    pub fn add(&mut self, days: Option<i64>) {
        let i = match days {
            None => 7,
            Some(d) => BUCKETS
                .iter()
                .position(|(_, lo, hi)| (*lo..=*hi).contains(&d.max(0)))
                .unwrap_or(6),
        };
        self.0[i] += 1;
    }

    pub fn labels() -> [&'static str; 8] {
        let mut out = [NEVER; 8];
        for (i, (l, _, _)) in BUCKETS.iter().enumerate() {
            out[i] = l;
        }
        out
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    fn merge(&mut self, other: &Distribution) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

impl Serialize for Distribution {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(8))?;
        for (label, n) in Self::labels().iter().zip(self.0) {
            m.serialize_entry(label, &n)?;
        }
        m.end()
    }
}

/// Provisioned seats in reports: a number, or `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seats(pub Provisioned);

impl Serialize for Seats {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Provisioned::Count(n) => s.serialize_u64(n),
            Provisioned::Unlimited => s.serialize_str("unlimited"),
        }
    }
}

impl std::fmt::Display for Seats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LicenseFigures {
    pub account_id: String,
    pub account_name: Option<String>,
    pub license_id: String,
    pub name: String,
    pub managed: bool,
    pub provisioned: Seats,
    /// Seats held (users with status active), counted from the roster.
    pub assigned: u64,
    /// Zoom's own count of assigned seats (`None`: Zoom gives none, see `zoom_assigned_note`).
    pub zoom_assigned: Option<u64>,
    /// Zoom's figure is there and differs from `assigned`.
    pub differs_from_zoom: bool,
    /// Why Zoom gives no figure, or what explains a difference.
    pub zoom_assigned_note: Option<String>,
    /// `None` until License Differentiation has run for the license.
    pub active: Option<u64>,
    pub inactive: Option<u64>,
    pub deactivated: u64,
    /// Provisioned minus assigned (`None` when Unlimited).
    pub unassigned: Option<u64>,
    pub threshold_days: Option<u32>,
    pub contract: ContractFields,
    /// The seats the per-seat cost divides by.
    pub cost_seats: Option<u64>,
    pub monthly_cost: Option<Decimal>,
    pub cost_per_seat_month: Option<Decimal>,
    pub inactive_seats_monthly_cost: Option<Decimal>,
    pub days_to_expiration: Option<i64>,
    pub days_since_last_activity: Distribution,
    pub as_of: NaiveDate,
    /// Why a figure is missing (e.g. "no cost entered").
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CurrencyTotals {
    pub monthly_cost: Decimal,
    pub inactive_seats_monthly_cost: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub licenses: u64,
    /// Sum of counts, or `"unlimited"` when any license is Unlimited.
    pub provisioned: Seats,
    pub assigned: u64,
    pub active: u64,
    pub inactive: u64,
    pub deactivated: u64,
    /// Licenses whose Zoom figure differs from ours.
    pub differs_from_zoom: u64,
    /// Money per currency (amounts in different currencies are never added).
    pub costs: BTreeMap<String, CurrencyTotals>,
}

impl Default for Totals {
    fn default() -> Self {
        Self {
            licenses: 0,
            provisioned: Seats(Provisioned::Count(0)),
            assigned: 0,
            active: 0,
            inactive: 0,
            deactivated: 0,
            differs_from_zoom: 0,
            costs: BTreeMap::new(),
        }
    }
}

impl Totals {
    fn add(&mut self, l: &LicenseFigures) {
        self.licenses += 1;
        self.provisioned = Seats(match (self.provisioned.0, l.provisioned.0) {
            (Provisioned::Count(a), Provisioned::Count(b)) => Provisioned::Count(a + b),
            _ => Provisioned::Unlimited,
        });
        self.assigned += l.assigned;
        self.active += l.active.unwrap_or(0);
        self.inactive += l.inactive.unwrap_or(0);
        self.deactivated += l.deactivated;
        self.differs_from_zoom += u64::from(l.differs_from_zoom);
        if let Some(code) = &l.contract.currency {
            let t = self.costs.entry(code.clone()).or_default();
            t.monthly_cost += l.monthly_cost.unwrap_or_default();
            t.inactive_seats_monthly_cost += l.inactive_seats_monthly_cost.unwrap_or_default();
        }
    }

    fn merge(&mut self, o: &Totals) {
        self.licenses += o.licenses;
        self.provisioned = Seats(match (self.provisioned.0, o.provisioned.0) {
            (Provisioned::Count(a), Provisioned::Count(b)) => Provisioned::Count(a + b),
            _ => Provisioned::Unlimited,
        });
        self.assigned += o.assigned;
        self.active += o.active;
        self.inactive += o.inactive;
        self.deactivated += o.deactivated;
        self.differs_from_zoom += o.differs_from_zoom;
        for (code, c) in &o.costs {
            let t = self.costs.entry(code.clone()).or_default();
            t.monthly_cost += c.monthly_cost;
            t.inactive_seats_monthly_cost += c.inactive_seats_monthly_cost;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountFigures {
    pub account_id: String,
    pub account_name: Option<String>,
    pub kind: String,
    pub licenses: Vec<LicenseFigures>,
    pub totals: Totals,
}

/// Which licenses a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The licenses admins chose to manage (the default).
    #[default]
    Managed,
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub connection_id: String,
    pub connection_name: Option<String>,
    pub scope: Scope,
    /// The day figures are computed for (days to expiration, days since last activity).
    pub as_of: NaiveDate,
    pub threshold_days: u32,
    pub accounts: Vec<AccountFigures>,
    pub totals: Totals,
    pub days_since_last_activity: Distribution,
}

/// Who and what the report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMeta {
    pub connection_id: String,
    pub connection_name: Option<String>,
    pub scope: Scope,
    pub as_of: NaiveDate,
    pub threshold_days: u32,
}

fn round(d: Decimal, places: u32) -> Decimal {
    d.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// The figures of one license on `as_of`, with its users' activity distribution.
pub fn license_figures(l: &LicenseInput, dist: Distribution, as_of: NaiveDate) -> LicenseFigures {
    let mut notes = Vec::new();
    let (active, inactive) = match l.activity {
        Some(a) => (
            Some(l.active_status.saturating_sub(a.inactive_beyond_threshold)),
            Some(a.inactive_beyond_threshold),
        ),
        None => {
            notes.push("activity not computed yet (License Differentiation has not run)".into());
            (None, None)
        }
    };
    let unassigned = match l.provisioned {
        Provisioned::Count(n) => Some(n.saturating_sub(l.assigned)),
        Provisioned::Unlimited => None,
    };
    let c = &l.contract;
    let minor = c.currency.map(|c| c.minor_units).unwrap_or(2);
    let months: Option<Decimal> = match c.payment_frequency {
        Some(PaymentFrequency::OneTime) => match (c.effective_date, c.expiration_date) {
            (Some(from), Some(to)) if to > from => {
                Some(Decimal::from((to - from).num_days()) * Decimal::from(12) / Decimal::from(365))
            }
            _ => {
                notes
                    .push("a one-time payment needs both contract dates for a monthly cost".into());
                None
            }
        },
        Some(p) => p.months().map(Decimal::from),
        None => None,
    };
    let exact_monthly = match (c.cost, months) {
        (Some(cost), Some(m)) if !m.is_zero() => Some(cost / m),
        (None, _) => {
            notes.push("no cost entered".into());
            None
        }
        (Some(_), None) if c.payment_frequency.is_none() => {
            notes.push("no payment frequency entered".into());
            None
        }
        _ => None,
    };
    if c.cost.is_some() && c.currency.is_none() {
        notes.push("no currency entered".into());
    }
    let cost_seats = match l.provisioned {
        Provisioned::Count(n) if n > 0 => Some(n),
        _ if l.assigned > 0 => Some(l.assigned),
        _ => None,
    };
    let exact_per_seat = match (exact_monthly, cost_seats) {
        (Some(m), Some(seats)) => Some(m / Decimal::from(seats)),
        _ => None,
    };
    let inactive_cost = match (exact_per_seat, inactive) {
        (Some(p), Some(n)) => Some(round(p * Decimal::from(n), minor)),
        _ => None,
    };
    LicenseFigures {
        account_id: l.account_id.clone(),
        account_name: l.account_name.clone(),
        license_id: l.license_id.clone(),
        name: l.name.clone(),
        managed: l.managed,
        provisioned: Seats(l.provisioned),
        assigned: l.assigned,
        zoom_assigned: None,
        differs_from_zoom: false,
        zoom_assigned_note: None,
        active,
        inactive,
        deactivated: l.deactivated,
        unassigned,
        threshold_days: l.activity.map(|a| a.threshold_days),
        contract: c.to_stored(),
        cost_seats,
        monthly_cost: exact_monthly.map(|m| round(m, minor)),
        cost_per_seat_month: exact_per_seat.map(|p| round(p, minor + 2)),
        inactive_seats_monthly_cost: inactive_cost,
        days_to_expiration: c.expiration_date.map(|e| (e - as_of).num_days()),
        days_since_last_activity: dist,
        as_of: l.as_of,
        notes,
    }
}

impl LicenseFigures {
    /// The figures with Zoom's own count beside ours, flagged when it differs (the rule of
    /// `LicenseRecord::differs_from_zoom`).
    pub fn with_zoom(mut self, zoom: &ZoomSeats) -> Self {
        self.zoom_assigned = zoom.assigned;
        self.differs_from_zoom = zoom.assigned.is_some_and(|z| z != self.assigned);
        self.zoom_assigned_note = zoom.note.clone();
        self
    }
}

/// The whole report: the licenses in `meta.scope`, grouped by account (master first), with
/// totals per account and for the connection. Without Zoom's own figures: see
/// [`build_report_with_zoom`].
pub fn build_report(
    meta: ReportMeta,
    licenses: &[LicenseInput],
    users: impl IntoIterator<Item = UserActivity>,
) -> Report {
    build_report_with_zoom(meta, licenses, users, &ZoomFigures::new())
}

/// [`build_report`] with Zoom's own figure beside ours for the licenses in `zoom` (keyed by
/// account id and license id), flagged where it differs.
pub fn build_report_with_zoom(
    meta: ReportMeta,
    licenses: &[LicenseInput],
    users: impl IntoIterator<Item = UserActivity>,
    zoom: &ZoomFigures,
) -> Report {
    let mut dists: BTreeMap<(String, String), Distribution> = BTreeMap::new();
    for u in users {
        dists
            .entry((u.account_id, u.license_id))
            .or_default()
            .add(u.days_since_last_activity);
    }
    let mut accounts: BTreeMap<(bool, String), AccountFigures> = BTreeMap::new();
    for l in licenses {
        if meta.scope == Scope::Managed && !l.managed {
            continue;
        }
        let dist = dists
            .remove(&(l.account_id.clone(), l.license_id.clone()))
            .unwrap_or_default();
        let mut f = license_figures(l, dist, meta.as_of);
        if let Some(z) = zoom.get(&(l.account_id.clone(), l.license_id.clone())) {
            f = f.with_zoom(z);
        }
        let a = accounts
            .entry((l.account_kind != "master", l.account_id.clone()))
            .or_insert_with(|| AccountFigures {
                account_id: l.account_id.clone(),
                account_name: l.account_name.clone(),
                kind: l.account_kind.clone(),
                licenses: Vec::new(),
                totals: Totals::default(),
            });
        a.totals.add(&f);
        a.licenses.push(f);
    }
    let mut totals = Totals::default();
    let mut dist = Distribution::default();
    let accounts: Vec<AccountFigures> = accounts.into_values().collect();
    for a in &accounts {
        totals.merge(&a.totals);
        for l in &a.licenses {
            dist.merge(&l.days_since_last_activity);
        }
    }
    Report {
        connection_id: meta.connection_id,
        connection_name: meta.connection_name,
        scope: meta.scope,
        as_of: meta.as_of,
        threshold_days: meta.threshold_days,
        accounts,
        totals,
        days_since_last_activity: dist,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::contract::Contract;
    use serde_json::json;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn input(contract: serde_json::Value) -> LicenseInput {
        LicenseInput {
            account_id: "acc".into(),
            account_name: Some("Acme".into()),
            account_kind: "master".into(),
            license_id: "acc:licensed".into(),
            name: "Business".into(),
            provisioned: Provisioned::Count(50),
            assigned: 40,
            active_status: 36,
            deactivated: 4,
            activity: Some(ActivityInput {
                threshold_days: 60,
                inactive_beyond_threshold: 9,
            }),
            as_of: day(2026, 11, 28),
            managed: true,
            contract: Contract::default().apply(&contract, "").unwrap(),
        }
    }

    #[test]
    fn annual_contract_cost_per_seat_and_inactive_cost() {
        let l = input(
            json!({"cost": "12000", "currency": "USD", "payment_frequency": "annual",
            "effective_date": "2026-01-01", "expiration_date": "2026-12-31"}),
        );
        let f = license_figures(&l, Distribution::default(), day(2026, 11, 28));
        assert_eq!(
            (f.active, f.inactive, f.unassigned),
            (Some(27), Some(9), Some(10))
        );
        // 12000 / 12 months = 1000 a month; / 50 seats = 20 per seat; 9 inactive = 180.
        assert_eq!(f.monthly_cost, Some(Decimal::new(1000, 0)));
        assert_eq!(f.cost_per_seat_month, Some(Decimal::new(20, 0)));
        assert_eq!(f.inactive_seats_monthly_cost, Some(Decimal::new(180, 0)));
        assert_eq!(f.days_to_expiration, Some(33));
        assert!(f.notes.is_empty(), "{:?}", f.notes);
    }

    #[test]
    fn rounding_uses_exact_values_and_minor_units() {
        // 1000 per quarter / 3 = 333.33… a month; / 7 seats = 47.619…; × 3 inactive = 142.857…
        let mut l =
            input(json!({"cost": "1000", "currency": "EUR", "payment_frequency": "quarterly"}));
        l.provisioned = Provisioned::Count(7);
        l.activity = Some(ActivityInput {
            threshold_days: 30,
            inactive_beyond_threshold: 3,
        });
        let f = license_figures(&l, Distribution::default(), day(2026, 11, 28));
        assert_eq!(f.monthly_cost, Some(Decimal::new(33333, 2)));
        assert_eq!(f.cost_per_seat_month, Some(Decimal::new(476190, 4)));
        assert_eq!(f.inactive_seats_monthly_cost, Some(Decimal::new(14286, 2)));
        // Zero-decimal currency.
        let mut l =
            input(json!({"cost": "100000", "currency": "JPY", "payment_frequency": "quarterly"}));
        l.provisioned = Provisioned::Count(7);
        l.activity = Some(ActivityInput {
            threshold_days: 30,
            inactive_beyond_threshold: 3,
        });
        let f = license_figures(&l, Distribution::default(), day(2026, 11, 28));
        assert_eq!(f.inactive_seats_monthly_cost, Some(Decimal::new(14286, 0)));
    }

    #[test]
    fn one_time_payment_spreads_over_the_term_and_unlimited_divides_by_assigned() {
        let mut l = input(
            json!({"cost": "3650", "currency": "USD", "payment_frequency": "one-time",
            "effective_date": "2026-01-01", "expiration_date": "2027-01-01"}),
        );
        l.provisioned = Provisioned::Unlimited;
        let f = license_figures(&l, Distribution::default(), day(2027, 2, 1));
        // 365 days = 12 months: 3650 / 12 = 304.1666… a month, / 40 assigned = 7.604166…
        assert_eq!(f.monthly_cost, Some(Decimal::new(30417, 2)));
        assert_eq!(f.cost_seats, Some(40));
        assert_eq!(f.cost_per_seat_month, Some(Decimal::new(76042, 4)));
        assert_eq!(f.inactive_seats_monthly_cost, Some(Decimal::new(6844, 2)));
        assert_eq!(f.days_to_expiration, Some(-31), "expired a month ago");
        let l = input(json!({"cost": "3650", "payment_frequency": "one-time"}));
        let f = license_figures(&l, Distribution::default(), day(2026, 1, 1));
        assert_eq!(f.monthly_cost, None);
        assert!(
            f.notes.iter().any(|n| n.contains("both contract dates")),
            "{:?}",
            f.notes
        );
        assert!(
            f.notes.iter().any(|n| n.contains("no currency")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn missing_activity_and_cost_leave_figures_empty_with_a_note() {
        let mut l = input(json!({}));
        l.activity = None;
        let f = license_figures(&l, Distribution::default(), day(2026, 1, 1));
        assert_eq!(
            (f.active, f.inactive, f.inactive_seats_monthly_cost),
            (None, None, None)
        );
        assert_eq!(f.notes.len(), 2, "{:?}", f.notes);
    }

    #[test]
    fn report_totals_per_account_and_connection_by_currency() {
        let usd = json!({"cost": "1200", "currency": "USD", "payment_frequency": "annual"});
        let mut a = input(usd.clone());
        let mut b =
            input(json!({"cost": "100", "currency": "EUR", "payment_frequency": "monthly"}));
        b.account_id = "sub1".into();
        b.account_kind = "sub".into();
        b.license_id = "sub1:licensed".into();
        let mut c = input(usd);
        c.account_id = "sub1".into();
        c.account_kind = "sub".into();
        c.license_id = "sub1:basic".into();
        c.provisioned = Provisioned::Unlimited;
        let mut unmanaged = input(json!({}));
        unmanaged.license_id = "acc:basic".into();
        unmanaged.managed = false;
        a.account_name = Some("Master".into());
        let users = vec![
            UserActivity {
                account_id: "acc".into(),
                license_id: "acc:licensed".into(),
                days_since_last_activity: Some(3),
            },
            UserActivity {
                account_id: "acc".into(),
                license_id: "acc:licensed".into(),
                days_since_last_activity: None,
            },
            UserActivity {
                account_id: "sub1".into(),
                license_id: "sub1:basic".into(),
                days_since_last_activity: Some(400),
            },
            UserActivity {
                account_id: "acc".into(),
                license_id: "acc:basic".into(),
                days_since_last_activity: Some(1),
            },
        ];
        let meta = ReportMeta {
            connection_id: "c1".into(),
            connection_name: None,
            scope: Scope::Managed,
            as_of: day(2026, 11, 28),
            threshold_days: 60,
        };
        let all = [b.clone(), unmanaged.clone(), c.clone(), a.clone()];
        let r = build_report(meta.clone(), &all, users.clone());
        assert_eq!(r.accounts.len(), 2);
        assert_eq!(r.accounts[0].account_id, "acc", "master first");
        assert_eq!(r.accounts[0].licenses.len(), 1, "unmanaged left out");
        assert_eq!(r.totals.licenses, 3);
        assert_eq!(r.totals.provisioned, Seats(Provisioned::Unlimited));
        assert_eq!(r.totals.assigned, 120);
        assert_eq!(r.totals.inactive, 27);
        // USD: a = 1200/12/50*9 = 18, c = 1200/12/40(assigned)*9 = 22.5; EUR: b = 100/50*9 = 18.
        assert_eq!(
            r.totals.costs["USD"].inactive_seats_monthly_cost,
            Decimal::new(405, 1)
        );
        assert_eq!(r.totals.costs["USD"].monthly_cost, Decimal::new(200, 0));
        assert_eq!(
            r.totals.costs["EUR"].inactive_seats_monthly_cost,
            Decimal::new(18, 0)
        );
        assert_eq!(
            r.accounts[1].totals.costs["USD"].inactive_seats_monthly_cost,
            Decimal::new(225, 1)
        );
        assert_eq!(
            r.days_since_last_activity.0,
            [1, 0, 0, 0, 0, 0, 1, 1],
            "unmanaged user left out"
        );
        let all_scope = build_report(
            ReportMeta {
                scope: Scope::All,
                ..meta
            },
            &all,
            users,
        );
        assert_eq!(all_scope.totals.licenses, 4);
        assert_eq!(all_scope.days_since_last_activity.total(), 4);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["totals"]["provisioned"], "unlimited");
        assert_eq!(v["accounts"][0]["licenses"][0]["provisioned"], 50);
        assert_eq!(
            v["totals"]["costs"]["USD"]["inactive_seats_monthly_cost"],
            "40.5"
        );
        assert_eq!(v["days_since_last_activity"]["never"], 1);
    }

    pub(crate) const SELF_PAY: &str = "Zoom gives no plan usage for a sub account that pays its own bill (code 2100); seats counted from the roster";

    /// The master's license (Zoom agrees), sub1's (Zoom counts 3 more), sub2's (a self-pay sub
    /// account: no Zoom figure, a note) and the master's Basic (no Zoom figure, no note).
    pub(crate) fn zoom_sample() -> (Vec<LicenseInput>, ZoomFigures) {
        let master = input(json!({}));
        let mut sub1 = input(json!({}));
        sub1.account_id = "sub1".into();
        sub1.account_kind = "sub".into();
        sub1.license_id = "sub1:licensed".into();
        let mut sub2 = sub1.clone();
        sub2.account_id = "sub2".into();
        sub2.license_id = "sub2:licensed".into();
        let mut basic = input(json!({}));
        basic.license_id = "acc:basic".into();
        let zoom: ZoomFigures = [
            (("acc", "acc:licensed"), Some(40), None),
            (("sub1", "sub1:licensed"), Some(43), None),
            (("sub2", "sub2:licensed"), None, Some(SELF_PAY)),
        ]
        .into_iter()
        .map(|((a, l), assigned, note)| {
            (
                (a.to_owned(), l.to_owned()),
                ZoomSeats {
                    assigned,
                    note: note.map(str::to_owned),
                },
            )
        })
        .collect();
        (vec![sub2, basic, sub1, master], zoom)
    }

    pub(crate) fn meta() -> ReportMeta {
        ReportMeta {
            connection_id: "c1".into(),
            connection_name: None,
            scope: Scope::All,
            as_of: day(2026, 11, 28),
            threshold_days: 60,
        }
    }

    #[test]
    fn zoom_figure_beside_ours_is_flagged_where_it_differs() {
        let (licenses, zoom) = zoom_sample();
        let r = build_report_with_zoom(meta(), &licenses, Vec::new(), &zoom);
        let find = |id: &str| {
            r.accounts
                .iter()
                .flat_map(|a| &a.licenses)
                .find(|l| l.license_id == id)
                .unwrap()
        };
        let agrees = find("acc:licensed");
        assert_eq!(
            (
                agrees.assigned,
                agrees.zoom_assigned,
                agrees.differs_from_zoom
            ),
            (40, Some(40), false)
        );
        let differs = find("sub1:licensed");
        assert_eq!(
            (
                differs.assigned,
                differs.zoom_assigned,
                differs.differs_from_zoom
            ),
            (40, Some(43), true)
        );
        let self_pay = find("sub2:licensed");
        assert_eq!(
            (self_pay.zoom_assigned, self_pay.differs_from_zoom),
            (None, false),
            "no figure: nothing to differ from"
        );
        assert_eq!(self_pay.zoom_assigned_note.as_deref(), Some(SELF_PAY));
        let basic = find("acc:basic");
        assert_eq!(
            (
                basic.zoom_assigned,
                basic.differs_from_zoom,
                &basic.zoom_assigned_note
            ),
            (None, false, &None)
        );
        assert_eq!(r.totals.differs_from_zoom, 1);
        let per_account: Vec<(&str, u64)> = r
            .accounts
            .iter()
            .map(|a| (a.account_id.as_str(), a.totals.differs_from_zoom))
            .collect();
        assert_eq!(per_account, [("acc", 0), ("sub1", 1), ("sub2", 0)]);
        // Zoom's figure changes no other figure.
        let plain = build_report(meta(), &licenses, Vec::new());
        assert_eq!(plain.totals.differs_from_zoom, 0);
        assert_eq!(plain.totals.assigned, r.totals.assigned);
        let v = serde_json::to_value(&r).unwrap();
        let sub1 = &v["accounts"][1]["licenses"][0];
        assert_eq!(sub1["zoom_assigned"], 43);
        assert_eq!(sub1["differs_from_zoom"], true);
        assert!(sub1["zoom_assigned_note"].is_null());
        let sub2 = &v["accounts"][2]["licenses"][0];
        assert!(sub2["zoom_assigned"].is_null());
        assert_eq!(sub2["zoom_assigned_note"], SELF_PAY);
        assert_eq!(v["totals"]["differs_from_zoom"], 1);
    }

    #[test]
    fn buckets_cover_every_day() {
        let mut d = Distribution::default();
        for days in [0, 7, 8, 30, 31, 60, 61, 90, 91, 180, 181, 365, 366, 5000] {
            d.add(Some(days));
        }
        d.add(None);
        assert_eq!(d.0, [2, 2, 2, 2, 2, 2, 2, 1]);
    }
}
