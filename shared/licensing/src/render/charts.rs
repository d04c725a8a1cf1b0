//! The page's SVG charts: grouped horizontal bars and the activity histogram.

use std::fmt::Write as _;

use crate::figures::Distribution;
use crate::render::common::truncate;
use crate::render::markup::esc;

pub(super) const C_PROV: &str = "#b8c4d6";
pub(super) const C_ASSIGNED: &str = "#4a78c2";
pub(super) const C_ACTIVE: &str = "#2e9e6a";
pub(super) const C_INACTIVE: &str = "#d9822b";

/// Horizontal grouped bars: one group per row, one bar per series (value `None`: not drawn,
/// the label says why).
pub(super) struct Bars<'a> {
    pub(super) id: &'a str,
    pub(super) title: &'a str,
    pub(super) series: &'a [(&'a str, &'a str)],
    pub(super) rows: Vec<(String, Vec<Option<f64>>, String)>,
    pub(super) unit: &'a str,
}

pub(super) fn bar_chart(b: &Bars<'_>) -> String {
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

pub(super) fn histogram(id: &str, title: &str, d: &Distribution) -> String {
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
