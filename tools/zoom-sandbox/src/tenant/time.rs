//! Time helpers of the synthetic tenant: the default anchor, Zoom's whole-second times and their
//! format.

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};

pub(super) fn today() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(Duration::days(1))
        .unwrap_or_else(|_| Utc::now())
}

/// Zoom's times have whole seconds.
pub(super) fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::seconds(1)).unwrap_or(t)
}

/// RFC 3339 with a `Z` and whole seconds, as Zoom formats times.
pub fn zoom_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A fixed anchor for tests that need data identical across days: 2026-06-01T00:00:00Z.
pub fn fixed_anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

/// How long after its tenant's anchor a test at a fixed date starts: noon of the next day,
/// twelve hours from a UTC midnight (where Zoom's daily caps reset and report days end).
pub const FIXED_NOW_AFTER_ANCHOR: Duration = Duration::hours(36);

/// The sandbox's "now" at the start of a test at a fixed date: [`fixed_anchor`] +
/// [`FIXED_NOW_AFTER_ANCHOR`], 2026-06-02T12:00:00Z.
pub fn fixed_now() -> DateTime<Utc> {
    fixed_anchor() + FIXED_NOW_AFTER_ANCHOR
}
