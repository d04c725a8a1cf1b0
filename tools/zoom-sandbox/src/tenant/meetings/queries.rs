//! Finding meetings and instances: a user's meetings as listed, every instance, the ended ones,
//! by meeting number or UUID, and an instance's participants.

use super::super::ids;
use super::super::model::Tenant;
use super::model::{Meeting, MeetingKind, Participant};

impl Tenant {
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
}
