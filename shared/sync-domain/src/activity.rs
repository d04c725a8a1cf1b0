//! User activity: the latest of last login, meeting created and meeting joined, and how it
//! places a user against the 30/60/90-day bands and the connection's inactivity threshold.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::InactivityThreshold;

/// The one inactivity comparison, used by License Differentiation and reclamation alike: a
/// user is inactive beyond `threshold_days` when more than that many whole days have passed
/// since their last activity (exactly `threshold_days` is still within the threshold).
pub fn inactive_beyond(days_inactive: i64, threshold_days: u32) -> bool {
    days_inactive > i64::from(threshold_days)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActivityDates {
    pub last_login: Option<DateTime<Utc>>,
    pub last_meeting_created: Option<DateTime<Utc>>,
    pub last_meeting_joined: Option<DateTime<Utc>>,
}

impl ActivityDates {
    /// The most recent of the three signals, if any.
    pub fn last_activity(&self) -> Option<DateTime<Utc>> {
        [
            self.last_login,
            self.last_meeting_created,
            self.last_meeting_joined,
        ]
        .into_iter()
        .flatten()
        .max()
    }

    /// Keep the later of each signal (merging partial or incremental observations).
    pub fn merge(&mut self, other: &ActivityDates) {
        fn later(a: &mut Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) {
            if b > *a {
                *a = b;
            }
        }
        later(&mut self.last_login, other.last_login);
        later(&mut self.last_meeting_created, other.last_meeting_created);
        later(&mut self.last_meeting_joined, other.last_meeting_joined);
    }

    /// Whole days since the user was last active, measured from `since_created` when the
    /// user never did anything (a new user is not inactive on day one).
    pub fn days_inactive(&self, created: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
        self.last_activity()
            .or(created)
            .map(|t| (now - t).num_days().max(0))
    }

    pub fn is_inactive(
        &self,
        created: Option<DateTime<Utc>>,
        threshold: InactivityThreshold,
        now: DateTime<Utc>,
    ) -> bool {
        self.days_inactive(created, now)
            .is_some_and(|days| inactive_beyond(days, u32::from(threshold.days())))
    }
}

/// One user's recency of activity, in the 30/60/90-day bands License Differentiation counts
/// ([`ActivityBands`]): a user in a band is in every wider one too (`<=` compares).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityBand {
    /// Last active at most 30 whole days ago.
    Within30Days,
    /// 31 to 60 days.
    Within60Days,
    /// 61 to 90 days.
    Within90Days,
    /// More than 90 days.
    Over90Days,
    /// No activity known.
    Never,
}

impl ActivityBand {
    pub fn of(last_activity: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match last_activity.map(|t| (now - t).num_days()) {
            None => Self::Never,
            Some(d) if d <= 30 => Self::Within30Days,
            Some(d) if d <= 60 => Self::Within60Days,
            Some(d) if d <= 90 => Self::Within90Days,
            Some(_) => Self::Over90Days,
        }
    }

    /// As exports show it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Within30Days => "0-30 days",
            Self::Within60Days => "31-60 days",
            Self::Within90Days => "61-90 days",
            Self::Over90Days => "over 90 days",
            Self::Never => "never active",
        }
    }
}

/// Users of one license counted by recency of activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActivityBands {
    pub active_30_days: u64,
    pub active_60_days: u64,
    pub active_90_days: u64,
    /// Inactive beyond the connection's threshold: the reclamation candidates.
    pub inactive: u64,
    pub never_active: u64,
}

impl ActivityBands {
    pub fn add(
        &mut self,
        dates: &ActivityDates,
        created: Option<DateTime<Utc>>,
        threshold: InactivityThreshold,
        now: DateTime<Utc>,
    ) {
        let band = ActivityBand::of(dates.last_activity(), now);
        self.active_30_days += u64::from(band <= ActivityBand::Within30Days);
        self.active_60_days += u64::from(band <= ActivityBand::Within60Days);
        self.active_90_days += u64::from(band <= ActivityBand::Within90Days);
        self.never_active += u64::from(band == ActivityBand::Never);
        self.inactive += u64::from(dates.is_inactive(created, threshold, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn ago(now: DateTime<Utc>, days: i64) -> Option<DateTime<Utc>> {
        Some(now - Duration::days(days))
    }

    #[test]
    fn last_activity_is_the_latest_signal() {
        let now = Utc::now();
        let dates = ActivityDates {
            last_login: ago(now, 40),
            last_meeting_created: ago(now, 10),
            last_meeting_joined: ago(now, 20),
        };
        assert_eq!(dates.last_activity(), ago(now, 10));
        assert_eq!(ActivityDates::default().last_activity(), None);
    }

    #[test]
    fn inactivity_uses_creation_when_never_active() {
        let now = Utc::now();
        let never = ActivityDates::default();
        let t60 = InactivityThreshold::default();
        assert!(!never.is_inactive(ago(now, 5), t60, now));
        assert!(never.is_inactive(ago(now, 61), t60, now));
        assert!(!never.is_inactive(None, t60, now));
        let logged_in = ActivityDates {
            last_login: ago(now, 59),
            ..Default::default()
        };
        assert!(!logged_in.is_inactive(ago(now, 400), t60, now));
    }

    #[test]
    fn bands_count_each_user_once_per_band() {
        let now = Utc::now();
        let t30 = InactivityThreshold::try_from(30).unwrap();
        let mut bands = ActivityBands::default();
        for days in [1, 45, 75, 200] {
            let dates = ActivityDates {
                last_login: ago(now, days),
                ..Default::default()
            };
            bands.add(&dates, ago(now, 500), t30, now);
        }
        bands.add(&ActivityDates::default(), ago(now, 500), t30, now);
        assert_eq!(
            bands,
            ActivityBands {
                active_30_days: 1,
                active_60_days: 2,
                active_90_days: 3,
                inactive: 4,
                never_active: 1,
            }
        );
    }

    #[test]
    fn bands_have_their_edges_on_whole_days() {
        let now = Utc::now();
        let cases = [
            (0, ActivityBand::Within30Days),
            (30, ActivityBand::Within30Days),
            (31, ActivityBand::Within60Days),
            (60, ActivityBand::Within60Days),
            (61, ActivityBand::Within90Days),
            (90, ActivityBand::Within90Days),
            (91, ActivityBand::Over90Days),
        ];
        for (days, band) in cases {
            assert_eq!(ActivityBand::of(ago(now, days), now), band, "{days} days");
        }
        // 30 days and 23 hours is still 30 whole days.
        let t = now - Duration::days(30) - Duration::hours(23);
        assert_eq!(ActivityBand::of(Some(t), now), ActivityBand::Within30Days);
        assert_eq!(ActivityBand::of(None, now), ActivityBand::Never);
        assert_eq!(ActivityBand::Never.label(), "never active");
    }

    #[test]
    fn merge_keeps_the_later_of_each_signal() {
        let now = Utc::now();
        let mut a = ActivityDates {
            last_login: ago(now, 10),
            last_meeting_created: None,
            last_meeting_joined: ago(now, 3),
        };
        a.merge(&ActivityDates {
            last_login: ago(now, 20),
            last_meeting_created: ago(now, 8),
            last_meeting_joined: ago(now, 1),
        });
        assert_eq!(a.last_login, ago(now, 10));
        assert_eq!(a.last_meeting_created, ago(now, 8));
        assert_eq!(a.last_meeting_joined, ago(now, 1));
    }
}
