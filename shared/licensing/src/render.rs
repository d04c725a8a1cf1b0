//! The report in four formats: JSON and CSV for machines, plain text for terminals, and one
//! self-contained HTML page for people (inline CSS, inline SVG charts drawn here, a strict
//! Content-Security-Policy, no script and no external URL: it reads the same offline).

use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::figures::{Distribution, LicenseFigures, Report, Seats, Totals};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Json,
    Csv,
    Html,
    Text,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Html => "text/html; charset=utf-8",
            Self::Text => "text/plain; charset=utf-8",
        }
    }
}

pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Json => json(report),
        Format::Csv => csv(report),
        Format::Html => html(report),
        Format::Text => text(report),
    }
}

pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

// ----- CSV --------------------------------------------------------------------------------

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

/// A CSV cell (RFC 4180 quoting). Text that a spreadsheet would run as a formula (`=`, `+`,
/// `-`, `@`, tab, CR at the start) gets a leading `'`.
fn cell(s: &str, text: bool) -> String {
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

// ----- text -------------------------------------------------------------------------------

fn money(amount: &Option<Decimal>, code: &Option<String>) -> String {
    match (amount, code) {
        (Some(a), Some(c)) => format!("{a} {c}"),
        (Some(a), None) => a.to_string(),
        _ => "-".into(),
    }
}

fn dash<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".into())
}

fn costs_line(t: &Totals) -> String {
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

/// A plain-text report for terminals (the local demo prints it).
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let scope = match report.scope {
        crate::Scope::Managed => "managed licenses",
        crate::Scope::All => "all licenses",
    };
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
    let _ = writeln!(
        out,
        "\nConnection total: {} licenses; provisioned {}, assigned {}, active {}, inactive {}, deactivated {}; {}",
        t.licenses,
        t.provisioned,
        t.assigned,
        t.active,
        t.inactive,
        t.deactivated,
        costs_line(t)
    );
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

fn differs_line(n: u64) -> String {
    format!(
        "! {n} license{} where Zoom's count of assigned seats differs from the roster's",
        if n == 1 { "" } else { "s" }
    )
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

// ----- HTML -------------------------------------------------------------------------------

/// Escapes text for HTML and SVG (element content and quoted attributes).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem;color:#1d2330;background:#fff}\
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}\
.meta{color:#566;margin:0 0 1rem}.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}\
.card{border:1px solid #d8dde6;border-radius:8px;padding:.75rem 1rem;min-width:10rem}\
.card b{display:block;font-size:1.4rem}.card span{color:#566;font-size:.85rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}\
th,td{border-bottom:1px solid #e3e7ee;padding:.3rem .6rem;text-align:right}\
th:first-child,td:first-child{text-align:left}th{background:#f4f6fa}\
tr.total td{font-weight:600;border-top:2px solid #c9d0db}\
.charts{display:flex;flex-wrap:wrap;gap:2rem}.chart{display:block}\
figure{margin:0}figcaption{font-weight:600;margin-bottom:.25rem}\
.note{color:#8a5a00;font-size:.8rem}.muted{color:#778}\
td.differs{color:#b3261e;font-weight:600}\
svg text{font-family:inherit;font-size:12px;fill:#1d2330}\
.legend rect{stroke:none}";

const C_PROV: &str = "#b8c4d6";
const C_ASSIGNED: &str = "#4a78c2";
const C_ACTIVE: &str = "#2e9e6a";
const C_INACTIVE: &str = "#d9822b";

/// The page's Content-Security-Policy: nothing may load or run; only the page's own style
/// block (by its hash) applies.
pub fn content_security_policy() -> String {
    let digest = Sha256::digest(STYLE.as_bytes());
    format!(
        "default-src 'none'; style-src 'sha256-{}'; img-src 'none'; font-src 'none'; \
         connect-src 'none'; script-src 'none'; object-src 'none'; media-src 'none'; \
         frame-src 'none'; base-uri 'none'; form-action 'none'",
        base64_std(&digest)
    )
}

fn base64_std(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Horizontal grouped bars: one group per row, one bar per series (value `None`: not drawn,
/// the label says why).
struct Bars<'a> {
    id: &'a str,
    title: &'a str,
    series: &'a [(&'a str, &'a str)],
    rows: Vec<(String, Vec<Option<f64>>, String)>,
    unit: &'a str,
}

fn bar_chart(b: &Bars<'_>) -> String {
    let label_w = 230.0;
    let plot_w = 420.0;
    let value_w = 150.0;
    let bar_h = 12.0;
    let group_h = bar_h * b.series.len() as f64 + 10.0;
    let top = 28.0;
    let width = label_w + plot_w + value_w;
    let rows = b.rows.len().max(1);
    let height = top + group_h * rows as f64 + 10.0;
    let max = b
        .rows
        .iter()
        .flat_map(|(_, v, _)| v.iter().flatten().copied())
        .fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { plot_w / max } else { 0.0 };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<figure><figcaption id="{id}-title">{title}</figcaption><svg class="chart" id="{id}" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#,
        id = b.id,
        title = esc(b.title),
    );
    let _ = write!(s, r#"<g class="legend">"#);
    let mut x = label_w;
    for (name, color) in b.series {
        let _ = write!(
            s,
            r#"<rect x="{x}" y="6" width="12" height="12" fill="{color}"/><text x="{}" y="16">{}</text>"#,
            x + 16.0,
            esc(name)
        );
        x += 22.0 + 8.0 * name.len() as f64;
    }
    s.push_str("</g>");
    if b.rows.is_empty() {
        let _ = write!(
            s,
            r#"<text x="10" y="{}" class="muted">nothing to show</text>"#,
            top + 14.0
        );
    }
    for (i, (label, values, note)) in b.rows.iter().enumerate() {
        let y0 = top + group_h * i as f64;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            y0 + group_h / 2.0,
            esc(&truncate(label, 34))
        );
        for (j, (v, (name, color))) in values.iter().zip(b.series).enumerate() {
            let y = y0 + bar_h * j as f64;
            if let Some(v) = v {
                let w = (v * scale).max(if *v > 0.0 { 1.0 } else { 0.0 });
                let _ = write!(
                    s,
                    r#"<rect class="bar" x="{label_w}" y="{y}" width="{w:.1}" height="{h}" fill="{color}"><title>{}: {} {}</title></rect>"#,
                    esc(name),
                    fmt_num(*v),
                    esc(b.unit),
                    h = bar_h - 2.0
                );
            }
        }
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" class="muted">{}</text>"#,
            label_w + plot_w + 6.0,
            y0 + group_h / 2.0,
            esc(note)
        );
    }
    s.push_str("</svg></figure>");
    s
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn histogram(id: &str, title: &str, d: &Distribution) -> String {
    let labels = Distribution::labels();
    let col_w = 70.0;
    let plot_h = 180.0;
    let top = 20.0;
    let width = col_w * labels.len() as f64 + 20.0;
    let height = top + plot_h + 40.0;
    let max = d.0.iter().copied().max().unwrap_or(0) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<figure><figcaption id="{id}-title">{}</figcaption><svg class="chart" id="{id}" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#,
        esc(title)
    );
    for (i, (label, n)) in labels.iter().zip(d.0).enumerate() {
        let x = 10.0 + col_w * i as f64;
        let h = if max > 0.0 {
            plot_h * n as f64 / max
        } else {
            0.0
        };
        let h = if n > 0 { h.max(1.0) } else { 0.0 };
        let color = if i >= 3 { C_INACTIVE } else { C_ACTIVE };
        let _ = write!(
            s,
            r#"<rect class="bar" x="{}" y="{:.1}" width="{}" height="{h:.1}" fill="{color}"><title>{label} days: {n} users</title></rect><text x="{}" y="{:.1}" text-anchor="middle">{n}</text><text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            x + 8.0,
            top + plot_h - h,
            col_w - 16.0,
            x + col_w / 2.0,
            top + plot_h - h - 4.0,
            x + col_w / 2.0,
            top + plot_h + 18.0,
            esc(label)
        );
    }
    let _ = write!(
        s,
        r#"<text x="10" y="{}" class="muted">days since last activity (users with status active)</text></svg></figure>"#,
        top + plot_h + 36.0
    );
    s
}

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
        match report.scope {
            crate::Scope::Managed => "managed licenses",
            crate::Scope::All => "all licenses",
        },
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
        esc(&format!(
            "{} licenses; provisioned {}, assigned {}, active {}, inactive {}, deactivated {}; {}",
            t.licenses,
            t.provisioned,
            t.assigned,
            t.active,
            t.inactive,
            t.deactivated,
            costs_line(t)
        ))
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
    use crate::figures::build_report_with_zoom;
    use crate::figures::tests::{SELF_PAY, meta, zoom_sample};

    fn report() -> Report {
        let (licenses, zoom) = zoom_sample();
        build_report_with_zoom(meta(), &licenses, Vec::new(), &zoom)
    }

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

    use std::collections::BTreeMap;

    #[test]
    fn csv_has_zoom_figure_flag_and_note() {
        let rows = csv_rows(&csv(&report()));
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

    #[test]
    fn text_flags_the_difference_and_shows_the_note() {
        let t = text(&report());
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

    #[test]
    fn html_flags_the_difference_and_shows_the_note() {
        let h = html(&report());
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
