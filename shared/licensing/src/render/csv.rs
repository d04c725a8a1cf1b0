//! The CSV report: one row per license, then account and connection totals.

use rust_decimal::Decimal;

use crate::figures::{Report, Totals};

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

pub const CSV_COLUMNS: [&str; 26] = [
    "row",
    "account_id",
    "account_name",
    "license_id",
    "license_name",
    "managed",
    "provisioned",
    "assigned",
    "active",
    "inactive",
    "deactivated",
    "unassigned",
    "threshold_days",
    "effective_date",
    "expiration_date",
    "days_to_expiration",
    "cost",
    "currency",
    "payment_frequency",
    "monthly_cost",
    "cost_per_seat_month",
    "inactive_seats_monthly_cost",
    "as_of",
    "zoom_assigned",
    "differs_from_zoom",
    "zoom_assigned_note",
];

/// A CSV cell (RFC 4180 quoting). Text (`text`) that a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@`, tab, CR at the start: OWASP's CSV injection rule) gets a leading `'`;
/// numbers are left as they are. The report and the user exports write every cell with it.
pub fn cell(s: &str, text: bool) -> String {
    let s = if text && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// One row per license, then one `account_total` row per account and currency and one
/// `connection_total` row per currency (seat counts repeat on each currency's row; a total
/// without any cost has one row with the cost columns empty). Zoom's own figure, the flag
/// and the note are the last three columns (empty on total rows).
pub fn csv(report: &Report) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    let mut row = |cells: Vec<(String, bool)>| {
        let line: Vec<String> = cells.iter().map(|(c, t)| cell(c, *t)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    };
    for a in &report.accounts {
        for l in &a.licenses {
            let c = &l.contract;
            row(vec![
                ("license".into(), false),
                (l.account_id.clone(), true),
                (opt(&l.account_name), true),
                (l.license_id.clone(), true),
                (l.name.clone(), true),
                (l.managed.to_string(), false),
                (l.provisioned.to_string(), false),
                (l.assigned.to_string(), false),
                (opt(&l.active), false),
                (opt(&l.inactive), false),
                (l.deactivated.to_string(), false),
                (opt(&l.unassigned), false),
                (opt(&l.threshold_days), false),
                (opt(&c.effective_date), false),
                (opt(&c.expiration_date), false),
                (opt(&l.days_to_expiration), false),
                (opt(&c.cost), false),
                (opt(&c.currency), false),
                (opt(&c.payment_frequency), false),
                (opt(&l.monthly_cost), false),
                (opt(&l.cost_per_seat_month), false),
                (opt(&l.inactive_seats_monthly_cost), false),
                (l.as_of.to_string(), false),
                (opt(&l.zoom_assigned), false),
                (l.differs_from_zoom.to_string(), false),
                (opt(&l.zoom_assigned_note), true),
            ]);
        }
    }
    let mut totals: Vec<(&str, String, Option<String>, &Totals)> = report
        .accounts
        .iter()
        .map(|a| {
            (
                "account_total",
                a.account_id.clone(),
                a.account_name.clone(),
                &a.totals,
            )
        })
        .collect();
    totals.push((
        "connection_total",
        String::new(),
        report.connection_name.clone(),
        &report.totals,
    ));
    for (kind, id, name, t) in totals {
        let mut costs: Vec<(String, Option<(Decimal, Decimal)>)> = t
            .costs
            .iter()
            .map(|(code, c)| {
                (
                    code.clone(),
                    Some((c.monthly_cost, c.inactive_seats_monthly_cost)),
                )
            })
            .collect();
        if costs.is_empty() {
            costs.push((String::new(), None));
        }
        for (code, money) in costs {
            row(vec![
                (kind.into(), false),
                (id.clone(), true),
                (opt(&name), true),
                (String::new(), false),
                (String::new(), false),
                (String::new(), false),
                (t.provisioned.to_string(), false),
                (t.assigned.to_string(), false),
                (t.active.to_string(), false),
                (t.inactive.to_string(), false),
                (t.deactivated.to_string(), false),
                (String::new(), false),
                (String::new(), false),
                (String::new(), false),
                (String::new(), false),
                (String::new(), false),
                (String::new(), false),
                (code, false),
                (String::new(), false),
                (opt(&money.map(|m| m.0)), false),
                (String::new(), false),
                (opt(&money.map(|m| m.1)), false),
                (report.as_of.to_string(), false),
                (String::new(), false),
                (String::new(), false),
                (String::new(), false),
            ]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::figures::tests::SELF_PAY;
    use crate::render::common::sample_report;

    /// The CSV's `license` rows as maps of column to cell (the sample's cells hold no comma).
    fn csv_rows(csv: &str) -> Vec<BTreeMap<String, String>> {
        let mut lines = csv.split("\r\n");
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(header, CSV_COLUMNS);
        lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                assert_eq!(cells.len(), CSV_COLUMNS.len(), "{l}");
                header
                    .iter()
                    .zip(cells)
                    .map(|(h, c)| ((*h).to_owned(), c.to_owned()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn csv_has_zoom_figure_flag_and_note() {
        let rows = csv_rows(&csv(&sample_report()));
        let row = |id: &str| {
            rows.iter()
                .find(|r| r["row"] == "license" && r["license_id"] == id)
                .unwrap()
        };
        let agrees = row("acc:licensed");
        assert_eq!(
            (
                agrees["assigned"].as_str(),
                agrees["zoom_assigned"].as_str(),
                agrees["differs_from_zoom"].as_str()
            ),
            ("40", "40", "false")
        );
        let differs = row("sub1:licensed");
        assert_eq!(
            (
                differs["zoom_assigned"].as_str(),
                differs["differs_from_zoom"].as_str()
            ),
            ("43", "true")
        );
        let self_pay = row("sub2:licensed");
        assert_eq!(
            (
                self_pay["zoom_assigned"].as_str(),
                self_pay["differs_from_zoom"].as_str(),
                self_pay["zoom_assigned_note"].as_str()
            ),
            ("", "false", SELF_PAY)
        );
        let total = rows
            .iter()
            .find(|r| r["row"] == "connection_total")
            .unwrap();
        assert_eq!(total["zoom_assigned"], "");
    }
}
