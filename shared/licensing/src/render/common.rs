//! The wording that the text report and the HTML page share: absent values, amounts, cost
//! totals, the connection total and the flag of licenses Zoom counts differently.

use rust_decimal::Decimal;

use crate::figures::{Report, Totals};

pub(super) fn money(amount: &Option<Decimal>, code: &Option<String>) -> String {
    match (amount, code) {
        (Some(a), Some(c)) => format!("{a} {c}"),
        (Some(a), None) => a.to_string(),
        _ => "-".into(),
    }
}

pub(super) fn dash<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".into())
}

pub(super) fn costs_line(t: &Totals) -> String {
    if t.costs.is_empty() {
        return "no contract costs entered".into();
    }
    t.costs
        .iter()
        .map(|(code, c)| {
            format!(
                "{} {code} a month, of which inactive seats {} {code}",
                c.monthly_cost, c.inactive_seats_monthly_cost
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The connection's totals in one line (after "Connection total:").
pub(super) fn connection_total(t: &Totals) -> String {
    format!(
        "{} licenses; provisioned {}, assigned {}, active {}, inactive {}, deactivated {}; {}",
        t.licenses,
        t.provisioned,
        t.assigned,
        t.active,
        t.inactive,
        t.deactivated,
        costs_line(t)
    )
}

/// Which licenses the report covers.
pub(super) fn scope_label(report: &Report) -> &'static str {
    match report.scope {
        crate::Scope::Managed => "managed licenses",
        crate::Scope::All => "all licenses",
    }
}

pub(super) fn differs_line(n: u64) -> String {
    format!(
        "! {n} license{} where Zoom's count of assigned seats differs from the roster's",
        if n == 1 { "" } else { "s" }
    )
}

pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The report of the Zoom sample (`figures::tests::zoom_sample`) that the format tests read.
#[cfg(test)]
pub(super) fn sample_report() -> Report {
    use crate::figures::build_report_with_zoom;
    use crate::figures::tests::{meta, zoom_sample};
    let (licenses, zoom) = zoom_sample();
    build_report_with_zoom(meta(), &licenses, Vec::new(), &zoom)
}
