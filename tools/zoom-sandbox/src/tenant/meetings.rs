//! Meetings, their instances and their participants, derived on demand like users (the rules
//! are in the module docs of [`super`], which are authoritative). (Owner: tenant/api side.)
//!
//! A *meeting* is `(account, host, index)`: it has one meeting number (`id`). An *instance* is
//! one occurrence of a meeting, `(account, host, index, occurrence)`: it has its own UUID, its
//! own times and, once ended, its own participants. Instant and scheduled meetings have one
//! instance (occurrence 0); a recurring meeting has 2 to 6, in time order.
//!
//! What a pass over the meetings costs: a [`Schedule`] per meeting (a few hashes, no strings),
//! then per ended instance one participant slot per person. The organisation-wide latest joins
//! (one pass over every account's meetings) are cached until the overlay changes.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::ids::{self, UuidStyle, below, hash, unit};
use super::{
    AccountKind, Overlay, SALT_MEETING, SALT_PART, SALT_SIM, SALT_USER, SimDay, Tenant, UserStatus,
    names,
};

/// Share of a host's generated meetings that are instant meetings (type 1).
pub const INSTANT_SHARE: f64 = 0.12;
/// Share of a host's generated meetings that are recurring meetings with a fixed time (type 8).
pub const RECURRING_SHARE: f64 = 0.18;
/// Share of the people of a past meeting (besides the host) who are users of the
/// organisation: the rest are guests (and, in the tree, a few outsiders).
const MEMBER_SHARE: f64 = 0.7;
/// Share of the non-member people of a tree meeting who carry the id of a user outside the
/// organisation (a user of the standalone account).
const OUTSIDER_SHARE: f64 = 0.15;
/// Share of the people (not the host) who leave and rejoin (two rows).
const REJOIN_SHARE: f64 = 0.15;
/// Aimed share of the organisation's rows of tree meetings (host rows included) that are users
/// of another account of the tree.
pub const CROSS_ACCOUNT_TARGET: f64 = 0.30;
/// Instant meetings start within this many days before the anchor (the report API sees them).
const INSTANT_WINDOW_DAYS: i64 = 150;

/// The kind of a meeting, and so its Zoom `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeetingKind {
    /// Type 1: started at once, never listed by `GET /users/{userId}/meetings`.
    Instant,
    /// Type 2.
    Scheduled,
    /// Type 8: recurring with a fixed time, 2 to 6 occurrences.
    Recurring,
}

impl MeetingKind {
    /// Zoom's meeting `type`.
    pub fn zoom_type(self) -> i64 {
        match self {
            Self::Instant => 1,
            Self::Scheduled => 2,
            Self::Recurring => 8,
        }
    }
}

/// One instance (occurrence) of a meeting, with the facts of its meeting.
#[derive(Debug, Clone, PartialEq)]
pub struct Meeting {
    pub account: u32,
    pub host: u32,
    /// The meeting's index among the host's meetings (generated ones first, then the simulated
    /// days' ones).
    pub index: u32,
    /// Which instance this is, 0-based in time order (0 for single-instance meetings).
    pub occurrence: u32,
    /// How many instances the meeting has: 1, or 2 to 6 for a recurring meeting.
    pub occurrences: u32,
    /// The meeting number (the same for every instance).
    pub id: i64,
    /// This instance's UUID.
    pub uuid: String,
    pub host_id: String,
    pub topic: &'static str,
    pub kind: MeetingKind,
    /// 1 instant, 2 scheduled, 8 recurring with fixed time.
    pub meeting_type: i64,
    /// This instance's start.
    pub start_time: DateTime<Utc>,
    pub duration_min: i64,
    pub timezone: &'static str,
    /// When the meeting was created (a recurring meeting: the series, before its first
    /// occurrence; an instant meeting: its start).
    pub created_at: DateTime<Utc>,
    /// Whether this instance has ended (it then has participants) at the tenant's current time.
    pub ended: bool,
    /// The `start_time` the meeting list shows for the meeting: a single instance's own start; for a
    /// recurring meeting the start of its first occurrence that has not ended yet, or of its
    /// last occurrence when all have ended.
    pub listed_start_time: DateTime<Utc>,
}

impl Meeting {
    pub fn end_time(&self) -> DateTime<Utc> {
        self.start_time + Duration::minutes(self.duration_min)
    }
}

/// One participant row of a past meeting instance (one join segment).
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    /// The participant's Zoom user id when signed in as a user Zoom knows (a user of the host's
    /// account, of another account of the organisation, or of an unrelated account), else "".
    pub id: String,
    /// Per-meeting participant id.
    pub user_id: String,
    pub name: String,
    /// The email only for users of the host's account and for guests who gave one; "" for users
    /// of other accounts. REFERENCE §3.9 says `user_email` comes "only if signed in" and
    /// `internal_user` marks the host account's users; the sandbox takes the harsher reading
    /// (issue #14's independent stand-in saw it): other accounts' users come with `id` only.
    pub user_email: String,
    pub join_time: DateTime<Utc>,
    pub leave_time: DateTime<Utc>,
    /// True only for users of the host's account.
    pub internal_user: bool,
    /// The host account's user index of an internal participant.
    pub internal_index: Option<u32>,
    /// The (account, user index) of the tenant user whose id the row carries, any account.
    pub person: Option<(u32, u32)>,
}

impl Participant {
    pub fn duration_secs(&self) -> i64 {
        (self.leave_time - self.join_time).num_seconds().max(0)
    }
}

/// Who one participant slot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// A user of the host's organisation: the host's account, or (tree meetings) another
    /// account of the tree.
    Member(u32, u32),
    /// A tree meeting's attendee signed in as a user of the standalone account.
    Outsider(u32, u32),
    /// Not signed in as a user Zoom shows (no id).
    Guest,
}

/// One participant of a past meeting instance, before names are attached.
#[derive(Debug, Clone)]
struct Slot {
    k: u64,
    who: Who,
    /// (join, leave) per row: two when the person left and rejoined.
    segments: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// When a meeting's instances happen (cheap: no strings).
#[derive(Debug, Clone, Copy)]
pub(super) struct Schedule {
    j: u32,
    kind: MeetingKind,
    first_start: DateTime<Utc>,
    interval: Duration,
    occurrences: u32,
    duration_min: i64,
    created_at: DateTime<Utc>,
    /// Instances that end before this moment have ended (the anchor; a simulated day's time
    /// for its meetings).
    horizon: DateTime<Utc>,
}

impl Schedule {
    fn start(&self, occ: u32) -> DateTime<Utc> {
        self.first_start + self.interval * occ as i32
    }

    fn end(&self, occ: u32) -> DateTime<Utc> {
        self.start(occ) + Duration::minutes(self.duration_min)
    }

    fn ended(&self, occ: u32) -> bool {
        self.end(occ) < self.horizon
    }

    /// Ended instances: they come first (instances are in time order).
    fn ended_count(&self) -> u32 {
        (0..self.occurrences).take_while(|o| self.ended(*o)).count() as u32
    }

    /// The instance that stands for the meeting (meeting list `uuid`, meeting number): the
    /// latest ended one, else the first.
    fn representative(&self) -> u32 {
        self.ended_count().saturating_sub(1)
    }

    fn listed_start(&self) -> DateTime<Utc> {
        self.start(self.ended_count().min(self.occurrences - 1))
    }
}

/// Latest join per user of every account (unix seconds, `i64::MIN` for none), and the overlay
/// version it was computed at.
#[derive(Debug)]
pub(crate) struct JoinTable {
    version: u64,
    latest: Vec<Vec<i64>>,
}

impl JoinTable {
    pub(crate) fn get(&self, a: u32, u: u32) -> Option<DateTime<Utc>> {
        let t = *self.latest.get(a as usize)?.get(u as usize)?;
        (t != i64::MIN)
            .then(|| DateTime::from_timestamp(t, 0))
            .flatten()
    }
}

/// The probability that a member attendee of a tree meeting is drawn from another account of
/// the tree, chosen so that about [`CROSS_ACCOUNT_TARGET`] of the organisation's rows (host rows
/// included) are cross-account for the spec's meeting size.
pub(super) fn cross_probability(participants_per_meeting: u32) -> f64 {
    let p = f64::from(participants_per_meeting.max(2));
    // Expected member rows besides the host: people × member share × acceptance (≈0.88: not
    // pending, created before the meeting, not the host or a duplicate) × rejoin rows.
    let others = (p - 1.0) * MEMBER_SHARE * 0.88 * (1.0 + REJOIN_SHARE);
    (CROSS_ACCOUNT_TARGET * (1.0 + others) / others).min(0.9)
}

impl Tenant {
    pub(super) fn can_host(&self, a: u32, u: u32) -> bool {
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
    fn schedules(&self, ov: &Overlay, a: u32, u: u32) -> Vec<Schedule> {
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

    fn schedule(&self, ov: &Overlay, a: u32, u: u32, j: u32) -> Option<Schedule> {
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
    fn instance(&self, a: u32, u: u32, s: &Schedule, occ: u32) -> Meeting {
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

    fn representative(&self, a: u32, u: u32, s: &Schedule) -> Meeting {
        self.instance(a, u, s, s.representative())
    }

    /// The meetings `GET /users/{userId}/meetings` lists: scheduled and recurring ones (never
    /// instant ones), one entry per meeting — its representative instance: the latest ended
    /// one, else the first (see [`Meeting::listed_start_time`] for the start the list shows).
    pub fn meetings(&self, a: u32, u: u32) -> Vec<Meeting> {
        let ov = self.overlay();
        self.schedules(&ov, a, u)
            .iter()
            .filter(|s| s.kind != MeetingKind::Instant)
            .map(|s| self.representative(a, u, s))
            .collect()
    }

    /// Every meeting of a user (instant ones included), one representative instance each.
    pub fn all_meetings(&self, a: u32, u: u32) -> Vec<Meeting> {
        let ov = self.overlay();
        self.schedules(&ov, a, u)
            .iter()
            .map(|s| self.representative(a, u, s))
            .collect()
    }

    /// Every instance of every meeting of a user (upcoming ones included), meeting by meeting,
    /// occurrences in time order.
    pub fn instances(&self, a: u32, u: u32) -> Vec<Meeting> {
        let ov = self.overlay();
        self.schedules(&ov, a, u)
            .iter()
            .flat_map(|s| (0..s.occurrences).map(move |o| (s, o)))
            .map(|(s, o)| self.instance(a, u, s, o))
            .collect()
    }

    /// The ended instances of a user's meetings (what the report API shows), by start time.
    pub fn ended_instances(&self, a: u32, u: u32) -> Vec<Meeting> {
        let ov = self.overlay();
        let mut out: Vec<Meeting> = self
            .schedules(&ov, a, u)
            .iter()
            .flat_map(|s| (0..s.ended_count()).map(move |o| (s, o)))
            .map(|(s, o)| self.instance(a, u, s, o))
            .collect();
        out.sort_by_key(|m| (m.start_time, m.index, m.occurrence));
        out
    }

    /// Every instance of the meeting `m` belongs to, in time order.
    pub fn meeting_instances(&self, m: &Meeting) -> Vec<Meeting> {
        let ov = self.overlay();
        let Some(s) = self.schedule(&ov, m.account, m.host, m.index) else {
            return Vec::new();
        };
        (0..s.occurrences)
            .map(|o| self.instance(m.account, m.host, &s, o))
            .collect()
    }

    /// A meeting by (account, host, meeting index): its representative instance.
    pub fn meeting(&self, a: u32, u: u32, j: u32) -> Option<Meeting> {
        let ov = self.overlay();
        let s = self.schedule(&ov, a, u, j)?;
        Some(self.representative(a, u, &s))
    }

    /// A meeting by its number: its representative instance (for a recurring meeting the
    /// latest ended occurrence, else the first).
    pub fn meeting_by_number(&self, number: i64) -> Option<Meeting> {
        let (a, u, j) = ids::parse_meeting_number(self.seed(), number)?;
        self.account(a)?;
        self.meeting(a, u, j)
    }

    /// An instance by its UUID (every occurrence of a recurring meeting has its own).
    pub fn meeting_by_uuid(&self, uuid: &str) -> Option<Meeting> {
        let (a, u, j, occ) = ids::parse_meeting_uuid(self.seed(), uuid)?;
        self.account(a)?;
        let ov = self.overlay();
        let s = self.schedule(&ov, a, u, j)?;
        if occ >= s.occurrences {
            return None;
        }
        Some(self.instance(a, u, &s, occ)).filter(|m| m.uuid == uuid)
    }

    /// Participant rows of an ended instance (empty for instances that have not ended).
    pub fn participants(&self, m: &Meeting) -> Vec<Participant> {
        if !m.ended {
            return Vec::new();
        }
        let ov = self.overlay();
        self.participants_with(&ov, m)
    }

    fn in_tree(&self, a: u32) -> bool {
        self.account(a)
            .is_some_and(|acct| acct.kind != AccountKind::Standalone)
    }

    /// A user of another tree account than `a`, uniformly over the tree's other users (bigger
    /// accounts send more people). `None` when the tree has a single account.
    fn other_tree_user(&self, a: u32, h: u64) -> Option<(u32, u32)> {
        let offsets = &self.tree_offsets;
        let total = *offsets.last()?;
        let own = offsets[a as usize + 1] - offsets[a as usize];
        let others = total - own;
        if others == 0 {
            return None;
        }
        let mut r = below(h, others as u64) as u32;
        if r >= offsets[a as usize] {
            r += own;
        }
        let b = offsets.partition_point(|o| *o <= r) - 1;
        Some((b as u32, r - offsets[b]))
    }

    /// Whether `(b, v)` may attend an instance starting at `start`: exists, never pending, not
    /// dormant, created before the start.
    fn may_attend(&self, b: u32, v: u32, start: DateTime<Utc>) -> bool {
        v < self.user_count(b)
            && self.core(b, v).status != UserStatus::Pending
            && !self.is_dormant(b, v)
            && self.user_created_at(b, v) < start
    }

    /// Who attended an ended instance and when, without names (cheap): one slot per person,
    /// with one or two join segments. The host is the first slot.
    fn participant_slots(
        &self,
        a: u32,
        u: u32,
        j: u32,
        occ: u32,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Vec<Slot> {
        let seed = self.seed();
        let h = |k: u64, s: u64| {
            hash(
                seed,
                &[SALT_PART, a as u64, u as u64, j as u64, occ as u64, k, s],
            )
        };
        let p = self.spec.participants_per_meeting.max(2) as u64;
        let people = 2 + below(h(0, 0), 2 * (p - 2) + 1);
        let n = self.user_count(a);
        let tree = self.in_tree(a);
        let standalone = self.accounts.len() as u32 - 1;
        let span = (end - start).num_seconds().max(60) as u64;
        let mut slots: Vec<Slot> = Vec::with_capacity(people as usize);
        for k in 0..people {
            let taken = |who: Who| slots.iter().any(|s| s.who == who);
            let who = if k == 0 {
                Who::Member(a, u)
            } else if unit(h(k, 1)) < MEMBER_SHARE {
                let cross = tree && unit(h(k, 12)) < self.cross_share;
                let (b, v) = if cross {
                    self.other_tree_user(a, h(k, 2))
                        .unwrap_or((a, below(h(k, 2), n as u64) as u32))
                } else {
                    (a, below(h(k, 2), n as u64) as u32)
                };
                let who = Who::Member(b, v);
                if (b, v) != (a, u) && !taken(who) && self.may_attend(b, v, start) {
                    who
                } else {
                    Who::Guest
                }
            } else if tree && unit(h(k, 13)) < OUTSIDER_SHARE {
                let v = below(h(k, 14), self.user_count(standalone) as u64) as u32;
                let who = Who::Outsider(standalone, v);
                if !taken(who) && self.may_attend(standalone, v, start) {
                    who
                } else {
                    Who::Guest
                }
            } else {
                Who::Guest
            };
            let join = if k == 0 {
                start
            } else {
                start + Duration::seconds(below(h(k, 7), span / 3) as i64)
            };
            let leave = if k == 0 {
                end
            } else {
                end - Duration::seconds(below(h(k, 8), span / 4) as i64)
            };
            let leave = leave.max(join + Duration::seconds(30));
            let segments = if k > 0 && unit(h(k, 10)) < REJOIN_SHARE {
                // Leaves and rejoins: two rows.
                let mid = join + Duration::seconds((leave - join).num_seconds() / 2);
                let back = mid + Duration::seconds(30 + below(h(k, 11), 240) as i64);
                vec![(join, mid), (back.min(leave), leave)]
            } else {
                vec![(join, leave)]
            };
            slots.push(Slot { k, who, segments });
        }
        slots
    }

    fn slots_of(&self, m: &Meeting) -> Vec<Slot> {
        self.participant_slots(
            m.account,
            m.host,
            m.index,
            m.occurrence,
            m.start_time,
            m.end_time(),
        )
    }

    /// Number of participant rows and their total duration in seconds (cheap: no names).
    pub fn participant_stats(&self, m: &Meeting) -> (usize, i64) {
        if !m.ended {
            return (0, 0);
        }
        self.slots_of(m)
            .iter()
            .flat_map(|s| s.segments.iter())
            .fold((0, 0), |(n, secs), (j, l)| {
                (n + 1, secs + (*l - *j).num_seconds().max(0))
            })
    }

    fn participants_with(&self, ov: &Overlay, m: &Meeting) -> Vec<Participant> {
        let seed = self.seed();
        let (a, u, j, occ) = (m.account, m.host, m.index, m.occurrence);
        let h = |k: u64, s: u64| {
            hash(
                seed,
                &[SALT_PART, a as u64, u as u64, j as u64, occ as u64, k, s],
            )
        };
        let mut rows = Vec::new();
        for slot in self.slots_of(m) {
            let k = slot.k;
            let (id, name, email, person) = match slot.who {
                Who::Member(b, v) | Who::Outsider(b, v) => {
                    let user = self.user_with(ov, b, v);
                    // Zoom shows other accounts' users with their id and name only.
                    let email = if b == a {
                        user.email.clone()
                    } else {
                        String::new()
                    };
                    (user.id.clone(), user.display_name(), email, Some((b, v)))
                }
                Who::Guest => {
                    let (f, fa) = names::FIRST_NAMES
                        [below(h(k, 3), names::FIRST_NAMES.len() as u64) as usize];
                    let (l, la) =
                        names::LAST_NAMES[below(h(k, 4), names::LAST_NAMES.len() as u64) as usize];
                    let word =
                        names::ORG_WORDS[below(h(k, 5), names::ORG_WORDS.len() as u64) as usize];
                    // A third of guests join without signing in: no email.
                    let email = if unit(h(k, 6)) < 0.33 {
                        String::new()
                    } else {
                        format!("{fa}.{la}@{word}-guest.example.org")
                    };
                    (String::new(), format!("{f} {l}"), email, None)
                }
            };
            let internal = matches!(slot.who, Who::Member(b, _) if b == a);
            for (seg, (join, leave)) in slot.segments.iter().enumerate() {
                rows.push(Participant {
                    id: id.clone(),
                    user_id: format!("{}", 16_778_240 + below(h(k, 9 + seg as u64), 90_000_000)),
                    name: name.clone(),
                    user_email: email.clone(),
                    join_time: *join,
                    leave_time: *leave,
                    internal_user: internal,
                    internal_index: person.filter(|_| internal).map(|(_, v)| v),
                    person,
                });
            }
        }
        rows
    }

    /// The organisation-wide latest joins, computed in one pass over every account's ended
    /// instances and cached until the overlay changes (a status or type change, a simulated
    /// day). Memory: 8 bytes per user.
    pub(crate) fn join_table(&self) -> Arc<JoinTable> {
        let mut cache = self.joins.lock().unwrap_or_else(|e| e.into_inner());
        let ov = self.overlay();
        if let Some(t) = cache.as_ref().filter(|t| t.version == ov.version) {
            return t.clone();
        }
        // Accounts are spread over a few threads (each with its own table, merged by max):
        // a 200,000-user tenant takes about 2 s on one core.
        let n_accounts = self.accounts.len();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8)
            .min(n_accounts);
        let guard = ov;
        let ov: &Overlay = &guard;
        let tables: Vec<Vec<Vec<i64>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|i| {
                    scope.spawn(move || {
                        let mut latest = self.empty_join_table();
                        for a in (i..n_accounts).step_by(threads) {
                            self.record_joins(ov, a as u32, &mut latest);
                        }
                        latest
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        let mut tables = tables.into_iter();
        let mut latest = tables.next().unwrap_or_else(|| self.empty_join_table());
        for other in tables {
            for (mine, theirs) in latest.iter_mut().zip(other) {
                for (m, t) in mine.iter_mut().zip(theirs) {
                    *m = (*m).max(t);
                }
            }
        }
        let table = Arc::new(JoinTable {
            version: ov.version,
            latest,
        });
        *cache = Some(table.clone());
        table
    }

    fn empty_join_table(&self) -> Vec<Vec<i64>> {
        self.accounts
            .iter()
            .map(|acct| vec![i64::MIN; acct.users as usize])
            .collect()
    }

    /// Record the joins of every ended instance hosted in account `a` into `latest`.
    fn record_joins(&self, ov: &Overlay, a: u32, latest: &mut [Vec<i64>]) {
        for u in 0..self.user_count(a) {
            for s in self.schedules(ov, a, u) {
                for occ in 0..s.ended_count() {
                    for slot in self.participant_slots(a, u, s.j, occ, s.start(occ), s.end(occ)) {
                        // Outsiders' rows belong to another organisation; guests have no id.
                        let Who::Member(b, v) = slot.who else {
                            continue;
                        };
                        let t = slot.segments.iter().map(|(j, _)| j.timestamp()).max();
                        let e = &mut latest[b as usize][v as usize];
                        *e = (*e).max(t.unwrap_or(i64::MIN));
                    }
                }
            }
        }
    }

    /// For every user of an account who ever joined: the latest `join_time` among the
    /// participant rows carrying the user's id in every ended instance hosted in the user's
    /// organisation (see the module docs; organisation-wide, cached).
    pub fn latest_joins(&self, a: u32) -> HashMap<u32, DateTime<Utc>> {
        let table = self.join_table();
        (0..self.user_count(a))
            .filter_map(|u| table.get(a, u).map(|t| (u, t)))
            .collect()
    }

    /// One user's latest join (see [`Tenant::latest_joins`]).
    pub fn latest_join(&self, a: u32, u: u32) -> Option<DateTime<Utc>> {
        self.join_table().get(a, u)
    }

    /// Latest `created_at` of the meetings `GET /users/{userId}/meetings?type=scheduled` lists
    /// (scheduled and recurring, past and upcoming) and start of the user's ended instant
    /// meetings (their `created_at`).
    pub fn latest_meeting_created(&self, a: u32, u: u32) -> Option<DateTime<Utc>> {
        let ov = self.overlay();
        self.schedules(&ov, a, u)
            .iter()
            .filter_map(|s| match s.kind {
                MeetingKind::Instant => s.ended(0).then(|| s.start(0)),
                _ => Some(s.created_at),
            })
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::{TenantSpec, fixed_anchor};

    /// Shares over the tree accounts' ended instances: (cross rows / tree-user rows, outsider
    /// rows / all rows).
    fn shares(t: &Tenant) -> (f64, f64, usize) {
        let (mut same, mut cross, mut outsider, mut all) = (0usize, 0usize, 0usize, 0usize);
        let tree = t.accounts().len() as u32 - 1;
        for a in 0..tree {
            for u in 0..t.user_count(a) {
                for m in t.ended_instances(a, u) {
                    for p in t.participants(&m) {
                        all += 1;
                        match p.person {
                            Some((b, _)) if b == a => same += 1,
                            Some((b, _)) if b < tree => cross += 1,
                            Some(_) => outsider += 1,
                            None => {}
                        }
                    }
                }
            }
        }
        (
            cross as f64 / (same + cross) as f64,
            outsider as f64 / all as f64,
            same + cross,
        )
    }

    #[test]
    fn cross_account_share_is_about_a_third_for_every_meeting_size() {
        for p in [2, 3, 4, 5, 8] {
            let t = Tenant::generate(
                TenantSpec::sized(9, 8, 2000)
                    .with_anchor(fixed_anchor())
                    .with_participants_per_meeting(p),
            );
            let (cross, outsiders, rows) = shares(&t);
            println!("P={p}: cross {cross:.3} outsiders {outsiders:.3} over {rows} rows");
            assert!((0.25..0.35).contains(&cross), "P={p}: {cross}");
            assert!((0.005..0.08).contains(&outsiders), "P={p}: {outsiders}");
        }
    }

    #[test]
    fn kinds_and_occurrences() {
        let t = Tenant::generate(TenantSpec::sized(10, 5, 3000).with_anchor(fixed_anchor()));
        let mut kinds: HashMap<MeetingKind, usize> = HashMap::new();
        let mut occ: HashMap<u32, usize> = HashMap::new();
        let (mut straddle, mut total) = (0, 0);
        for a in 0..t.accounts().len() as u32 {
            for u in 0..t.user_count(a) {
                for m in t.all_meetings(a, u) {
                    total += 1;
                    *kinds.entry(m.kind).or_default() += 1;
                    if m.kind == MeetingKind::Instant {
                        assert!(m.ended && m.created_at == m.start_time);
                        assert!(m.start_time >= t.anchor() - Duration::days(150));
                    }
                    if m.kind == MeetingKind::Recurring {
                        *occ.entry(m.occurrences).or_default() += 1;
                        let all = t.meeting_instances(&m);
                        if all.iter().any(|i| i.ended) && all.iter().any(|i| !i.ended) {
                            straddle += 1;
                        }
                    }
                }
            }
        }
        let share = |k| kinds[&k] as f64 / total as f64;
        println!(
            "{total} meetings: instant {:.3} recurring {:.3} occurrences {occ:?}, {straddle} straddle",
            share(MeetingKind::Instant),
            share(MeetingKind::Recurring)
        );
        assert!((0.10..0.14).contains(&share(MeetingKind::Instant)));
        assert!((0.15..0.21).contains(&share(MeetingKind::Recurring)));
        assert_eq!(occ.keys().copied().min(), Some(2));
        assert_eq!(occ.keys().copied().max(), Some(6));
        assert!(straddle > 10);
    }
}
