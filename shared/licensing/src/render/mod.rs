//! The report in four formats: JSON and CSV for machines ([`csv()`]), plain text for terminals
//! ([`text()`]), and one self-contained HTML page for people ([`html()`]: inline CSS, inline SVG
//! charts drawn here, a strict Content-Security-Policy, no script and no external URL: it
//! reads the same offline).

mod charts;
mod common;
mod csv;
mod html;
mod markup;
mod text;

use serde::{Deserialize, Serialize};

use crate::figures::Report;

pub use csv::{CSV_COLUMNS, cell as csv_cell, csv};
pub use html::html;
pub use markup::{content_security_policy, esc};
pub use text::text;

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
