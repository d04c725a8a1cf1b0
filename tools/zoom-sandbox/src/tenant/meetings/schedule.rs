//! When a user's meetings happen: the [`Schedule`] of each generated meeting and of each meeting
//! of a simulated day, and an instance of a meeting with its strings.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::super::ids::{self, SALT_MEETING, SALT_SIM, SALT_USER, UuidStyle, below, hash, unit};
use super::super::model::{Overlay, SimDay, Tenant, UserStatus};
use super::super::names;
use super::model::{INSTANT_SHARE, INSTANT_WINDOW_DAYS, Meeting, MeetingKind, RECURRING_SHARE};

/// When a meeting's instances happen (cheap: no strings).
#[derive(Debug, Clone, Copy)]
pub(super) struct Schedule {
    pub(super) j: u32,
    pub(super) kind: MeetingKind,
    first_start: DateTime<Utc>,
    interval: Duration,
    pub(super) occurrences: u32,
    duration_min: i64,
    pub(super) created_at: DateTime<Utc>,
    /// Instances that end before this moment have ended (the anchor; a simulated day's time
    /// for its meetings).
    horizon: DateTime<Utc>,
}

impl Schedule {
    pub(super) fn start(&self, occ: u32) -> DateTime<Utc> {
        self.first_start + self.interval * occ as i32
    }

    pub(super) fn end(&self, occ: u32) -> DateTime<Utc> {
        self.start(occ) + Duration::minutes(self.duration_min)
    }

    pub(super) fn ended(&self, occ: u32) -> bool {
        self.end(occ) < self.horizon
    }

    /// Ended instances: they come first (instances are in time order).
    pub(super) fn ended_count(&self) -> u32 {
        (0..self.occurrences).take_while(|o| self.ended(*o)).count() as u32
    }

    /// The instance that stands for the meeting (meeting list `uuid`, meeting number): the
    /// latest ended one, else the first.
    pub(super) fn representative(&self) -> u32 {
        self.ended_count().saturating_sub(1)
    }

    fn listed_start(&self) -> DateTime<Utc> {
        self.start(self.ended_count().min(self.occurrences - 1))
    }
}

impl Tenant {
    fn can_host(&self, a: u32, u: u32) -> bool {
        let core = self.core(a, u);
        core.status != UserStatus::Pending && matches!(core.user_type, 1..=3)
    }

    fn base_meeting_count(&self, a: u32, u: u32) -> u32 {
        if !self.can_host(a, u) || self.is_dormant(a, u) {
            return 0;
        }
        let m = self.spec.meetings_per_user as u64;
        below(
            hash(self.seed(), &[SALT_MEETING, a as u64, u as u64]),
            2 * m + 1,
        ) as u32
    }

    /// Every meeting of a user: generated ones first, then one per simulated day on which the
    /// user was active and held a meeting (60% of those days).
    pub(super) fn schedules(&self, ov: &Overlay, a: u32, u: u32) -> Vec<Schedule> {
        if u >= self.user_count(a) {
            return Vec::new();
        }
        let base = self.base_meeting_count(a, u);
        let mut out: Vec<Schedule> = (0..base).map(|j| self.base_schedule(a, u, j)).collect();
        if self.can_host(a, u) {
            let mut j = base;
            for d in self.active_days(ov, a, u) {
                if j >= ids::MAX_MEETINGS_PER_USER {
                    break;
                }
                let h = hash(
                    self.seed(),
                    &[SALT_SIM, d.day as u64, a as u64, u as u64, 2],
                );
                if unit(h) < 0.6 {
                    out.push(self.sim_schedule(a, u, j, d));
                    j += 1;
                }
            }
        }
        out
    }

    pub(super) fn schedule(&self, ov: &Overlay, a: u32, u: u32, j: u32) -> Option<Schedule> {
        if u >= self.user_count(a) {
            return None;
        }
        if j < self.base_meeting_count(a, u) {
            return Some(self.base_schedule(a, u, j));
        }
        self.schedules(ov, a, u).into_iter().nth(j as usize)
    }

    fn base_schedule(&self, a: u32, u: u32, j: u32) -> Schedule {
        let h = |k: u64| {
            hash(
                self.seed(),
                &[SALT_MEETING, a as u64, u as u64, j as u64, k],
            )
        };
        let created_user = self.user_created_at(a, u);
        let anchor = self.anchor();
        let duration_min = 15 + 15 * below(h(3), 6) as i64;
        let r = unit(h(2));
        // Instant meetings need a host who existed a few hours before the anchor.
        let kind = if r < INSTANT_SHARE && created_user < anchor - Duration::hours(4) {
            MeetingKind::Instant
        } else if r < INSTANT_SHARE + RECURRING_SHARE {
            MeetingKind::Recurring
        } else {
            MeetingKind::Scheduled
        };
        let mut s = Schedule {
            j,
            kind,
            first_start: anchor,
            interval: Duration::zero(),
            occurrences: 1,
            duration_min,
            created_at: anchor,
            horizon: anchor,
        };
        if kind == MeetingKind::Instant {
            // Started on the spot, at any second, within the report window; always ended.
            let x = unit(h(5));
            let back = 120 * 60
                + ((INSTANT_WINDOW_DAYS * 86_400 - 4 * 3600) as f64 * x * x) as i64
                + below(h(7), 60) as i64;
            let start = (anchor - Duration::seconds(back)).max(created_user + Duration::hours(2));
            s.first_start = start;
            s.created_at = start;
            return s;
        }
        if kind == MeetingKind::Recurring {
            s.occurrences = 2 + below(h(8), 5) as u32;
            s.interval = Duration::days([1, 7, 7, 7, 14][below(h(9), 5) as usize]);
        }
        let start = if unit(h(4)) < 0.15 {
            // Upcoming, within 30 days.
            anchor + Duration::minutes(60 + below(h(5), 30 * 1440) as i64)
        } else {
            let x = unit(h(5));
            anchor - Duration::minutes(120 + (180.0 * 1440.0 * x * x) as i64)
        };
        let start = start
            .max(created_user + Duration::hours(2))
            .duration_trunc(Duration::minutes(5))
            .unwrap_or(start);
        let lead = Duration::minutes(10 + below(h(6), 20 * 1440) as i64);
        s.first_start = start;
        s.created_at = (start - lead)
            .max(created_user + Duration::minutes(1))
            .min(anchor);
        s
    }

    fn sim_schedule(&self, a: u32, u: u32, j: u32, d: &SimDay) -> Schedule {
        let h = |k: u64| {
            hash(
                self.seed(),
                &[SALT_SIM, d.day as u64, a as u64, u as u64, k],
            )
        };
        let created = d.at - Duration::minutes(120 + below(h(3), 18 * 60) as i64);
        let instant = unit(h(4)) < INSTANT_SHARE;
        let duration_min = 15
            + 15 * below(
                hash(
                    self.seed(),
                    &[SALT_MEETING, a as u64, u as u64, j as u64, 3],
                ),
                6,
            ) as i64;
        Schedule {
            j,
            kind: if instant {
                MeetingKind::Instant
            } else {
                MeetingKind::Scheduled
            },
            first_start: if instant {
                created
            } else {
                created + Duration::minutes(10)
            },
            interval: Duration::zero(),
            occurrences: 1,
            duration_min,
            created_at: created,
            horizon: d.at,
        }
    }

    fn uuid_style(&self, a: u32, u: u32, j: u32, occ: u32) -> UuidStyle {
        let r = unit(hash(
            self.seed(),
            &[SALT_MEETING, a as u64, u as u64, j as u64, 9, occ as u64],
        ));
        if r < 0.04 {
            UuidStyle::LeadingSlash
        } else if r < 0.08 {
            UuidStyle::DoubleSlash
        } else {
            UuidStyle::Plain
        }
    }

    /// The instance `occ` of a meeting, with its strings.
    pub(super) fn instance(&self, a: u32, u: u32, s: &Schedule, occ: u32) -> Meeting {
        let seed = self.seed();
        let j = s.j;
        let tz = names::TIMEZONES[below(
            hash(seed, &[SALT_USER, a as u64, u as u64, 12]),
            names::TIMEZONES.len() as u64,
        ) as usize];
        let topic = names::TOPICS[below(
            hash(seed, &[SALT_MEETING, a as u64, u as u64, j as u64, 1]),
            names::TOPICS.len() as u64,
        ) as usize];
        Meeting {
            account: a,
            host: u,
            index: j,
            occurrence: occ,
            occurrences: s.occurrences,
            id: ids::meeting_number(seed, a, u, j),
            uuid: ids::meeting_uuid(seed, a, u, j, occ, self.uuid_style(a, u, j, occ)),
            host_id: ids::user_id(seed, a, u),
            topic,
            kind: s.kind,
            meeting_type: s.kind.zoom_type(),
            start_time: s.start(occ),
            duration_min: s.duration_min,
            timezone: tz,
            created_at: s.created_at,
            ended: s.ended(occ),
            listed_start_time: s.listed_start(),
        }
    }

    pub(super) fn representative(&self, a: u32, u: u32, s: &Schedule) -> Meeting {
        self.instance(a, u, s, s.representative())
    }
}
