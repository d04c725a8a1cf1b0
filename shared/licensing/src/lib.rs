//! License management, free of I/O: the contract fields admins enter per license and their
//! validation ([`contract`], ISO 4217 codes in [`currency`]), the figures that compare the
//! synced seats with what is paid for ([`figures`]), and the report in JSON, CSV, text and one
//! self-contained HTML page with SVG charts ([`render`]). Design: docs/license-management.md.

pub mod contract;
pub mod currency;
pub mod figures;
pub mod render;

pub use contract::{
    Contract, ContractFields, FIELDS, FieldError, PaymentFrequency, ValidationError,
};
pub use currency::Currency;
pub use figures::{
    AccountFigures, ActivityInput, Distribution, LicenseFigures, LicenseInput, Report, ReportMeta,
    Scope, Seats, Totals, UserActivity, ZoomFigures, ZoomSeats, build_report,
    build_report_with_zoom, license_figures,
};
pub use render::{Format, render};
