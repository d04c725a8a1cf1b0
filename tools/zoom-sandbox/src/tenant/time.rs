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

/// A fixed anchor for tests that need data identical across days.
pub fn fixed_anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}
