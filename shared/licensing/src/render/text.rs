//! The plain-text report for terminals.

use std::fmt::Write as _;

use crate::figures::{Distribution, LicenseFigures, Report};
use crate::render::common::{
    connection_total, costs_line, dash, differs_line, money, scope_label, truncate,
};

/// A plain-text report for terminals (the local demo prints it).
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let scope = scope_label(report);
    let _ = writeln!(
        out,
        "License report for connection {}{} ({scope}), as of {}; inactive = no activity for more than {} days",
        report.connection_id,
        report
            .connection_name
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        report.as_of,
        report.threshold_days
    );
    if report.accounts.is_empty() {
        let _ = writeln!(out, "\n(no licenses in this report)");
    }
    let header = format!(
        "  {:<28} {:>11} {:>8} {:>7} {:>7} {:>8} {:>11} {:>16} {:>19} {:>9}",
        "license",
        "provisioned",
        "assigned",
        "zoom",
        "active",
        "inactive",
        "deactivated",
        "per seat/month",
        "inactive seats/mo",
        "expires"
    );
    for a in &report.accounts {
        let _ = writeln!(
            out,
            "\n{} account {}{}",
            if a.kind == "master" { "Master" } else { "Sub" },
            a.account_id,
            a.account_name
                .as_ref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default()
        );
        let _ = writeln!(out, "{header}");
        for l in &a.licenses {
            let expires = match (&l.contract.expiration_date, l.days_to_expiration) {
                (Some(_), Some(d)) if d < 0 => format!("{}d ago", -d),
                (Some(_), Some(d)) => format!("in {d}d"),
                _ => "-".into(),
            };
            let _ = writeln!(
                out,
                "  {:<28} {:>11} {:>8} {:>7} {:>7} {:>8} {:>11} {:>16} {:>19} {:>9}",
                truncate(
                    &format!("{}{}", l.name, if l.managed { "" } else { " (unmanaged)" }),
                    28
                ),
                l.provisioned.to_string(),
                l.assigned,
                format!(
                    "{}{}",
                    dash(&l.zoom_assigned),
                    if l.differs_from_zoom { " !" } else { "" }
                ),
                dash(&l.active),
                dash(&l.inactive),
                l.deactivated,
                money(&l.cost_per_seat_month, &l.contract.currency),
                money(&l.inactive_seats_monthly_cost, &l.contract.currency),
                expires
            );
            if let Some(line) = zoom_line(l) {
                let _ = writeln!(out, "    {line}");
            }
        }
        let t = &a.totals;
        let _ = writeln!(
            out,
            "  {:<28} {:>11} {:>8} {:>7} {:>7} {:>8} {:>11}   {}",
            "total",
            t.provisioned.to_string(),
            t.assigned,
            "",
            t.active,
            t.inactive,
            t.deactivated,
            costs_line(t)
        );
    }
    let t = &report.totals;
    let _ = writeln!(out, "\nConnection total: {}", connection_total(t));
    if t.differs_from_zoom > 0 {
        let _ = writeln!(out, "{}", differs_line(t.differs_from_zoom));
    }
    let _ = writeln!(out, "Days since last activity (users with status active):");
    for (label, n) in Distribution::labels()
        .iter()
        .zip(report.days_since_last_activity.0)
    {
        let _ = writeln!(out, "  {label:>9}: {n}");
    }
    out
}

/// What the report says about Zoom's figure of a license: the difference (flagged), the
/// note when Zoom gives none or it explains the difference; `None` when Zoom agrees.
fn zoom_line(l: &LicenseFigures) -> Option<String> {
    let flag = l.differs_from_zoom.then(|| {
        format!(
            "! Zoom counts {} assigned seats, the roster {}",
            dash(&l.zoom_assigned),
            l.assigned
        )
    });
    match (flag, &l.zoom_assigned_note) {
        (Some(f), Some(n)) => Some(format!("{f} ({n})")),
        (Some(f), None) => Some(f),
        (None, Some(n)) if l.zoom_assigned.is_none() => Some(format!("Zoom's count: none. {n}")),
        (None, Some(n)) => Some(format!("Zoom's count: {n}")),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::tests::{SELF_PAY, meta, zoom_sample};
    use crate::render::common::sample_report;

    #[test]
    fn text_flags_the_difference_and_shows_the_note() {
        let t = text(&sample_report());
        assert!(
            t.contains("! Zoom counts 43 assigned seats, the roster 40"),
            "{t}"
        );
        assert!(
            t.contains(&format!("Zoom's count: none. {SELF_PAY}")),
            "{t}"
        );
        assert!(
            t.contains(
                "! 1 license where Zoom's count of assigned seats differs from the roster's"
            ),
            "{t}"
        );
        assert_eq!(
            t.matches("! Zoom counts").count(),
            1,
            "only sub1 is flagged: {t}"
        );
        // Without Zoom's figures: no flag, no note.
        let (licenses, _) = zoom_sample();
        let plain = text(&crate::build_report(meta(), &licenses, Vec::new()));
        assert!(
            !plain.contains('!') && !plain.contains("Zoom's count"),
            "{plain}"
        );
    }
}
