//! Synthetic tenants, deterministic from a seed and a size spec. (Owner: tenant/api side.)
//!
//! A tenant is a master account with `sub_accounts` sub accounts, plus one *standalone* account
//! (an ordinary paid account that is neither the master nor one of its subs, with its own owner;
//! used to show how master-only endpoints fail for a non-master caller).
//!
//! Nothing per user is stored: every user, meeting and participant row is derived on demand
//! from `(seed, account index, user index, meeting index, occurrence)` with splitmix64 hashing
//! ([`ids`]), so a 200,000-user tenant costs a few kilobytes (plus, once the ground truth is
//! asked for, 8 bytes per user of cached latest joins). What changes at run time (status and
//! type changes made through the API, simulated days of activity) lives in a small overlay
//! behind a mutex.
//!
//! Generation rules (authoritative: test oracles follow them; all per account, `n` user slots):
//! - user 0 is the account owner (role Owner, licensed, active); users `1..=admins` are admins
//!   (role Admin, licensed, active); everybody else is a Member;
//! - Members: 4% pending (no `id`, never logged in, no meetings), 8% inactive (deactivated:
//!   30% of them still show Licensed (2) — they hold no seat, REFERENCE §3.6; the sandbox takes
//!   the harsher reading that the listing keeps the type — 55% Basic (1), 15% None (99)), the
//!   rest active; active members are Licensed (2) at the plan's licensed share, On-prem (3)
//!   only on legacy accounts (15%), no-meeting-licence (4) 4%, None (99) 1%, Basic (1)
//!   otherwise;
//! - `last_login_time`: about 6% of non-pending users never logged in (field absent); the
//!   others spread from minutes to 400 days before the tenant's anchor;
//! - meetings ([`meetings`]): every non-pending user of type 1, 2 or 3 hosts
//!   `0..=2*meetings_per_user` meetings created before the anchor, each of one kind:
//!   - 12% *instant* (type 1; only for hosts created at least 4 hours before the anchor,
//!     otherwise the meeting is recurring or scheduled as below): `created_at == start_time`,
//!     started 2 hours to 150 days before the anchor, always ended, one instance. Never listed by
//!     `GET /users/{userId}/meetings` (whatever `type`); found by number and UUID, in reports and
//!     with participants;
//!   - 18% *recurring* with a fixed time (type 8): 2 to 6 occurrences, 1, 7 or 14 days apart
//!     (7 most often), each occurrence its own instance with its own UUID and participants;
//!     some series are all past, some straddle the anchor, some are all upcoming. The meeting
//!     list shows one entry per recurring meeting: `start_time` of its first occurrence not yet
//!     ended (of its last occurrence when all ended), `uuid` of its latest ended occurrence (of
//!     its first while none ended). The meeting number stands for that same *representative*
//!     instance (so `GET /past_meetings/{number}/participants` is the latest ended occurrence);
//!   - the rest *scheduled* (type 2), one instance.
//!
//!   Scheduled meetings and first occurrences start on 5-minute marks; about 85% start before
//!   the anchor (up to 180 days), the rest within the next 30 days. An instance has *ended*
//!   when its end is before the anchor (a simulated day's time for that day's meetings);
//!   ended instances have participants (at least 2 people), the others none;
//! - participants of an ended instance: the host first (joins at the start), then for every
//!   other person: 70% a user of the organisation, else a guest (no id; a third give no email).
//!   In tree accounts (master + subs) an organisation user comes from *another* tree account
//!   with a probability chosen from `participants_per_meeting` so that about 30% (measured 20–40%)
//!   of the rows carrying ids of tree users (host rows included) are cross-account; the other
//!   account's user is drawn uniformly over the tree's other users. Same-account rows: `id`,
//!   `user_email`, `internal_user: true`; cross-account rows: `id`, `name`, `user_email` "",
//!   `internal_user: false` (as Zoom shows other accounts' users). In tree meetings 15% of the
//!   guests are instead signed-in users of the standalone account (`id` set, email "",
//!   `internal_user: false`): outsiders no tree connector may match. An attendee (any account)
//!   is never pending, never dormant, created before the instance's start, never twice in one
//!   instance (else the slot becomes a guest). The standalone account's meetings have only
//!   its own users and guests. 15% of people leave and rejoin (two rows for one person);
//! - about 4% of instance UUIDs start with `/` and 4% contain `//` (they must be double-encoded);
//! - with `dormant_percent` (0 by default; the local demo uses it), that share of the active
//!   Members created more than 100 days before the anchor is *dormant*: last login 100 to 400
//!   days before the anchor (or never), no meetings of their own and never a participant of
//!   any meeting, so they are reclamation candidates (simulated days still make them log in);
//! - simulated days ([`Tenant::simulate_day`]): each user active that day logs in, and 60% of
//!   those who can host hold a meeting created and ended before the day's time: 12% instant
//!   (created at its start), the rest scheduled (type 2, starting 10 minutes after creation),
//!   with participants drawn as above.
//!
//! Seats: `seats >= seats in use` (active + pending Licensed users; an inactive user holds no
//! seat whatever type it shows) with some headroom, so plan usage is consistent with the users.
//! Deactivation frees the seat and keeps the type shown; activation of a Licensed user takes a
//! seat when one is free, else the user becomes Basic.
//!
//! Layout, imports running one way (down this list): [`meetings`] (`meetings::model`, the
//! meetings' plain types and shares, is a leaf the lower files may use); `users` (users as the
//! API shows them); `overlay` (run-time changes: status, type, simulated days); `generation`
//! (building a tenant, each user's generated facts); `model` (the data types, the [`Tenant`] and
//! its overlay's state); `spec` ([`TenantSpec`]); `time`, [`ids`] and [`names`] (leaves).

pub mod ids;
pub mod meetings;
pub mod names;

mod generation;
mod model;
mod overlay;
mod spec;
mod time;
mod users;

pub use meetings::{Meeting, MeetingKind, Participant};
pub use model::{
    Account, AccountKind, Counts, Plan, Role, SimDay, Tenant, TenantError, USER_TYPES, User,
    UserStatus,
};
pub use spec::TenantSpec;
pub use time::{FIXED_NOW_AFTER_ANCHOR, fixed_anchor, fixed_now, zoom_time};

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    use chrono::Duration;

    #[test]
    fn demo_shape() {
        let t = Tenant::generate(TenantSpec::demo());
        assert_eq!(t.accounts().len(), 4);
        assert_eq!(t.sub_accounts().len(), 2);
        let total: u32 = t.accounts()[..3].iter().map(|a| a.users).sum();
        assert_eq!(total, 36);
        for a in t.accounts() {
            let c = t.counts(a.index);
            assert_eq!(c.total(), a.users);
            assert!(a.seats >= c.of_type(2));
            let owners = (0..a.users)
                .filter(|u| t.user(a.index, *u).unwrap().role == Role::Owner)
                .count();
            assert_eq!(owners, 1);
        }
    }

    #[test]
    fn dormant_members_show_no_activity_for_100_days() {
        let spec = TenantSpec::demo()
            .with_anchor(fixed_anchor())
            .with_dormant_percent(30);
        let t = Tenant::generate(spec);
        let plain = Tenant::generate(TenantSpec::demo().with_anchor(fixed_anchor()));
        let cutoff = fixed_anchor() - Duration::days(100);
        let mut dormant = 0;
        for a in 0..t.accounts().len() as u32 {
            // Same users, counts and seats as without dormant members.
            assert_eq!(t.counts(a), plain.counts(a));
            assert_eq!(
                t.accounts()[a as usize].seats,
                plain.accounts()[a as usize].seats
            );
            for u in t.truth_users(a) {
                let (ai, ui) = t.locate_user(&u.email).unwrap();
                if !t.is_dormant(ai, ui) {
                    continue;
                }
                dormant += 1;
                assert_eq!(
                    (u.status, u.role_name.as_str()),
                    (UserStatus::Active, "Member")
                );
                assert!(u.last_login_time.is_none_or(|l| l <= cutoff), "{u:?}");
                assert_eq!(u.latest_meeting_created, None, "{u:?}");
                assert_eq!(u.latest_meeting_joined, None, "{u:?}");
            }
        }
        assert!(dormant >= 4, "{dormant} dormant users");
        let none = (0..plain.accounts().len() as u32)
            .flat_map(|a| (0..plain.user_count(a)).map(move |u| (a, u)))
            .filter(|(a, u)| plain.is_dormant(*a, *u))
            .count();
        assert_eq!(none, 0);
    }

    #[test]
    fn users_found_by_id_and_email() {
        let t = Tenant::generate(TenantSpec::sized(3, 4, 400));
        for a in 0..t.accounts().len() as u32 {
            for u in (0..t.user_count(a)).step_by(7) {
                let user = t.user(a, u).unwrap();
                assert_eq!(t.locate_user(&user.id), Some((a, u)));
                assert_eq!(t.locate_user(&user.email), Some((a, u)));
            }
        }
        assert_eq!(t.locate_user("nobody@nowhere.example.com"), None);
    }

    #[test]
    fn meetings_found_by_number_and_uuid() {
        let t = Tenant::generate(TenantSpec::sized(5, 3, 600));
        let mut found = 0;
        let mut styles = HashMap::new();
        for a in 0..t.accounts().len() as u32 {
            for u in 0..t.user_count(a) {
                for m in t.meetings(a, u) {
                    assert_eq!(t.meeting_by_number(m.id).as_ref(), Some(&m));
                    assert_eq!(t.meeting_by_uuid(&m.uuid).as_ref(), Some(&m));
                    found += 1;
                }
                // Every instance (instant meetings, each recurring occurrence) by its UUID;
                // the number names the representative instance.
                for i in t.instances(a, u) {
                    assert_eq!(t.meeting_by_uuid(&i.uuid).as_ref(), Some(&i));
                    let rep = t.meeting_by_number(i.id).unwrap();
                    assert_eq!((rep.index, rep.host), (i.index, i.host));
                    if i.occurrences > 1 {
                        let style = (i.uuid.starts_with('/'), i.uuid.contains("//"));
                        *styles.entry(style).or_insert(0) += 1;
                    }
                }
            }
        }
        assert!(found > 100);
        assert_eq!(
            styles.len(),
            3,
            "quirky UUIDs among occurrences: {styles:?}"
        );
    }
}
