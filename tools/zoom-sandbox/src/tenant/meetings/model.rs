//! The meetings' data types and the shares that shape them.

use chrono::{DateTime, Duration, Utc};

/// Share of a host's generated meetings that are instant meetings (type 1).
pub const INSTANT_SHARE: f64 = 0.12;
/// Share of a host's generated meetings that are recurring meetings with a fixed time (type 8).
pub const RECURRING_SHARE: f64 = 0.18;
/// Share of the people of a past meeting (besides the host) who are users of the
/// organisation: the rest are guests (and, in the tree, a few outsiders).
pub(super) const MEMBER_SHARE: f64 = 0.7;
/// Share of the non-member people of a tree meeting who carry the id of a user outside the
/// organisation (a user of the standalone account).
pub(super) const OUTSIDER_SHARE: f64 = 0.15;
/// Share of the people (not the host) who leave and rejoin (two rows).
pub(super) const REJOIN_SHARE: f64 = 0.15;
/// Aimed share of the organisation's rows of tree meetings (host rows included) that are users
/// of another account of the tree.
pub const CROSS_ACCOUNT_TARGET: f64 = 0.30;
/// Instant meetings start within this many days before the anchor (the report API sees them).
pub(super) const INSTANT_WINDOW_DAYS: i64 = 150;

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

/// Latest join per user of every account (unix seconds, `i64::MIN` for none), and the overlay
/// version it was computed at.
#[derive(Debug)]
pub(crate) struct JoinTable {
    pub(super) version: u64,
    pub(super) latest: Vec<Vec<i64>>,
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
pub(in crate::tenant) fn cross_probability(participants_per_meeting: u32) -> f64 {
    let p = f64::from(participants_per_meeting.max(2));
    // Expected member rows besides the host: people × member share × acceptance (≈0.88: not
    // pending, created before the meeting, not the host or a duplicate) × rejoin rows.
    let others = (p - 1.0) * MEMBER_SHARE * 0.88 * (1.0 + REJOIN_SHARE);
    (CROSS_ACCOUNT_TARGET * (1.0 + others) / others).min(0.9)
}
