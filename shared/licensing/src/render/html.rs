//! The self-contained HTML page: summary cards, four charts and the tables.

use std::fmt::Write as _;

use rust_decimal::Decimal;

use crate::figures::{LicenseFigures, Report, Seats};
use crate::render::charts::{Bars, C_ACTIVE, C_ASSIGNED, C_INACTIVE, C_PROV, bar_chart, histogram};
use crate::render::common::{connection_total, costs_line, dash, differs_line, money, scope_label};
use crate::render::markup::{STYLE, content_security_policy, esc};

fn to_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

fn seat_row(
    label: String,
    p: Seats,
    assigned: u64,
    active: Option<u64>,
) -> (String, Vec<Option<f64>>, String) {
    let (prov, note) = match p.0 {
        sync_domain::Provisioned::Count(n) => (
            Some(n as f64),
            format!("{n} / {assigned} / {}", dash(&active)),
        ),
        sync_domain::Provisioned::Unlimited => {
            (None, format!("Unlimited / {assigned} / {}", dash(&active)))
        }
    };
    (
        label,
        vec![prov, Some(assigned as f64), active.map(|a| a as f64)],
        note,
    )
}

/// The self-contained page: summary cards, four charts, and the tables.
pub fn html(report: &Report) -> String {
    let mut s = String::new();
    let title = format!(
        "License report — {}",
        report
            .connection_name
            .as_deref()
            .unwrap_or(&report.connection_id)
    );
    let _ = write!(
        s,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{csp}"><meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{t}</title><style>{STYLE}</style></head><body>"#,
        csp = esc(&content_security_policy()),
        t = esc(&title)
    );
    let _ = write!(
        s,
        r#"<h1>{}</h1><p class="meta">Connection {} · {} · as of {} · inactive = no activity for more than {} days</p>"#,
        esc(&title),
        esc(&report.connection_id),
        scope_label(report),
        report.as_of,
        report.threshold_days
    );
    let t = &report.totals;
    s.push_str(r#"<div class="cards">"#);
    for (value, label) in [
        (t.licenses.to_string(), "licenses"),
        (t.provisioned.to_string(), "seats provisioned"),
        (t.assigned.to_string(), "assigned"),
        (t.active.to_string(), "active"),
        (t.inactive.to_string(), "inactive"),
    ] {
        let _ = write!(
            s,
            r#"<div class="card"><b>{}</b><span>{label}</span></div>"#,
            esc(&value)
        );
    }
    for (code, c) in &t.costs {
        let _ = write!(
            s,
            r#"<div class="card"><b>{} {}</b><span>monthly cost of inactive seats</span></div>"#,
            c.inactive_seats_monthly_cost,
            esc(code)
        );
    }
    if t.differs_from_zoom > 0 {
        let _ = write!(
            s,
            r#"<div class="card" id="zoom-differs"><b>{}</b><span>licenses where Zoom counts assigned seats differently</span></div>"#,
            t.differs_from_zoom
        );
    }
    s.push_str("</div>");

    let licenses: Vec<&LicenseFigures> = report.accounts.iter().flat_map(|a| &a.licenses).collect();
    let series: [(&str, &str); 3] = [
        ("provisioned", C_PROV),
        ("assigned", C_ASSIGNED),
        ("active", C_ACTIVE),
    ];
    s.push_str(r#"<h2>Charts</h2><div class="charts">"#);
    s.push_str(&bar_chart(&Bars {
        id: "chart-license-seats",
        title: "Seats per license: provisioned, assigned, active",
        series: &series,
        rows: licenses
            .iter()
            .map(|l| {
                seat_row(
                    format!("{} · {}", account_label(l), l.name),
                    l.provisioned,
                    l.assigned,
                    l.active,
                )
            })
            .collect(),
        unit: "seats",
    }));
    s.push_str(&bar_chart(&Bars {
        id: "chart-account-seats",
        title: "Seats per account: provisioned, assigned, active",
        series: &series,
        rows: report
            .accounts
            .iter()
            .map(|a| {
                seat_row(
                    format!(
                        "{} ({})",
                        a.account_name
                            .clone()
                            .unwrap_or_else(|| a.account_id.clone()),
                        a.kind
                    ),
                    a.totals.provisioned,
                    a.totals.assigned,
                    Some(a.totals.active),
                )
            })
            .collect(),
        unit: "seats",
    }));
    s.push_str(&histogram(
        "chart-activity",
        "Days since last activity",
        &report.days_since_last_activity,
    ));
    let cost_series: [(&str, &str); 1] = [("monthly cost of inactive seats", C_INACTIVE)];
    s.push_str(&bar_chart(&Bars {
        id: "chart-inactive-cost",
        title: "Monthly cost of inactive seats",
        series: &cost_series,
        rows: licenses
            .iter()
            .map(|l| {
                let note = match (&l.inactive_seats_monthly_cost, &l.contract.currency) {
                    (Some(v), Some(c)) => format!("{v} {c} ({} inactive)", dash(&l.inactive)),
                    (Some(v), None) => format!("{v} ({} inactive)", dash(&l.inactive)),
                    _ => l.notes.first().cloned().unwrap_or_else(|| "-".into()),
                };
                (
                    format!("{} · {}", account_label(l), l.name),
                    vec![l.inactive_seats_monthly_cost.map(to_f64)],
                    note,
                )
            })
            .collect(),
        unit: "a month",
    }));
    s.push_str("</div>");

    s.push_str("<h2>Licenses</h2>");
    for a in &report.accounts {
        let _ = write!(
            s,
            "<h3>{} account {}</h3><table><thead><tr><th>license</th><th>provisioned</th><th>assigned</th><th>Zoom's count</th><th>active</th><th>inactive</th><th>deactivated</th><th>effective</th><th>expires</th><th>days to expiration</th><th>cost</th><th>frequency</th><th>per seat / month</th><th>inactive seats / month</th></tr></thead><tbody>",
            if a.kind == "master" { "Master" } else { "Sub" },
            esc(&format!(
                "{}{}",
                a.account_id,
                a.account_name
                    .as_ref()
                    .map(|n| format!(" — {n}"))
                    .unwrap_or_default()
            ))
        );
        for l in &a.licenses {
            let c = &l.contract;
            let _ = write!(
                s,
                "<tr><td>{}{}</td><td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&l.name),
                if l.notes.is_empty() {
                    String::new()
                } else {
                    format!(r#"<div class="note">{}</div>"#, esc(&l.notes.join("; ")))
                },
                esc(&l.provisioned.to_string()),
                l.assigned,
                zoom_cell(l),
                dash(&l.active),
                dash(&l.inactive),
                l.deactivated,
                dash(&c.effective_date),
                dash(&c.expiration_date),
                dash(&l.days_to_expiration),
                esc(&money(
                    &c.cost.as_ref().and_then(|v| v.parse().ok()),
                    &c.currency
                )),
                esc(&dash(&c.payment_frequency)),
                esc(&money(&l.cost_per_seat_month, &c.currency)),
                esc(&money(&l.inactive_seats_monthly_cost, &c.currency)),
            );
        }
        let t = &a.totals;
        let _ = write!(
            s,
            r#"<tr class="total"><td>total</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td colspan="6"></td><td>{}</td></tr></tbody></table>"#,
            esc(&t.provisioned.to_string()),
            t.assigned,
            if t.differs_from_zoom > 0 {
                format!("{} differ", t.differs_from_zoom)
            } else {
                String::new()
            },
            t.active,
            t.inactive,
            t.deactivated,
            esc(&costs_line(t))
        );
    }
    if t.differs_from_zoom > 0 {
        let _ = write!(
            s,
            r#"<p class="note">{}</p>"#,
            esc(&differs_line(t.differs_from_zoom))
        );
    }
    let _ = write!(
        s,
        r#"<p><b>Connection total:</b> {}</p></body></html>"#,
        esc(&connection_total(t))
    );
    s
}

/// The table cell of Zoom's figure: the count (flagged when it differs from ours) or `-`, with
/// the note under it.
fn zoom_cell(l: &LicenseFigures) -> String {
    let note = l
        .zoom_assigned_note
        .as_ref()
        .map(|n| format!(r#"<div class="note">{}</div>"#, esc(n)))
        .unwrap_or_default();
    if l.differs_from_zoom {
        format!(
            r#"<td class="differs" title="{}">{} (differs: roster {}){note}</td>"#,
            esc(&format!(
                "Zoom counts {} assigned seats, the roster {}",
                dash(&l.zoom_assigned),
                l.assigned
            )),
            dash(&l.zoom_assigned),
            l.assigned
        )
    } else {
        format!("<td>{}{note}</td>", dash(&l.zoom_assigned))
    }
}

fn account_label(l: &LicenseFigures) -> String {
    l.account_name
        .clone()
        .unwrap_or_else(|| l.account_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::tests::SELF_PAY;
    use crate::render::common::sample_report;

    #[test]
    fn html_flags_the_difference_and_shows_the_note() {
        let h = html(&sample_report());
        assert!(h.contains("<th>Zoom's count</th>"), "column header");
        assert_eq!(h.matches(r#"<td class="differs""#).count(), 1, "sub1 only");
        assert!(h.contains("43 (differs: roster 40)"));
        assert!(h.contains("title=\"Zoom counts 43 assigned seats, the roster 40\""));
        assert!(h.contains(&format!(r#"<div class="note">{}</div>"#, esc(SELF_PAY))));
        assert!(h.contains(r#"id="zoom-differs"><b>1</b>"#), "summary card");
        // Every table row has as many cells as the header has columns.
        for table in h.split("<table>").skip(1) {
            let table = &table[..table.find("</table>").unwrap()];
            let columns = table[..table.find("</thead>").unwrap()]
                .matches("<th>")
                .count();
            for row in table.split("<tr").skip(2) {
                let cells = row.matches("<td").count() - row.matches("colspan").count()
                    + row
                        .split("colspan=\"")
                        .skip(1)
                        .map(|r| r[..r.find('"').unwrap()].parse::<usize>().unwrap())
                        .sum::<usize>();
                assert_eq!(cells, columns, "{row}");
            }
        }
        let style_hash = content_security_policy();
        assert!(
            h.contains(&esc(&style_hash)),
            "the CSP names the style's hash"
        );
    }
}
