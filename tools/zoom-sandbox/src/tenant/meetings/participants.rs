//! Who attended an ended instance: participant slots (cheap, no names) and the participant rows
//! the API shows.

use chrono::{DateTime, Duration, Utc};

use super::super::ids::{SALT_PART, below, hash, unit};
use super::super::model::{AccountKind, Overlay, Tenant, UserStatus};
use super::super::names;
use super::model::{MEMBER_SHARE, Meeting, OUTSIDER_SHARE, Participant, REJOIN_SHARE};

/// Who one participant slot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
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
pub(super) struct Slot {
    k: u64,
    pub(super) who: Who,
    /// (join, leave) per row: two when the person left and rejoined.
    pub(super) segments: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Tenant {
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
    pub(super) fn participant_slots(
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

    pub(super) fn participants_with(&self, ov: &Overlay, m: &Meeting) -> Vec<Participant> {
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
}
