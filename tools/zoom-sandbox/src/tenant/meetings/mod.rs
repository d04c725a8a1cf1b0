//! Meetings, their instances and their participants, derived on demand like users (the rules
//! are in the module docs of [`super`], which are authoritative). (Owner: tenant/api side.)
//!
//! A *meeting* is `(account, host, index)`: it has one meeting number (`id`). An *instance* is
//! one occurrence of a meeting, `(account, host, index, occurrence)`: it has its own UUID, its
//! own times and, once ended, its own participants. Instant and scheduled meetings have one
//! instance (occurrence 0); a recurring meeting has 2 to 6, in time order.
//!
//! What a pass over the meetings costs: a `Schedule` per meeting (a few hashes, no strings),
//! then per ended instance one participant slot per person. The organisation-wide latest joins
//! (one pass over every account's meetings) are cached until the overlay changes.
//!
//! Layout: `model` (the types and shares), `schedule` (when instances happen, an instance with its
//! strings), `participants` (who attended), `queries` (meetings and instances by user, number or
//! UUID), `activity` (latest joins and latest meeting created).

mod activity;
pub(super) mod model;
mod participants;
mod queries;
mod schedule;

pub use model::{
    CROSS_ACCOUNT_TARGET, INSTANT_SHARE, Meeting, MeetingKind, Participant, RECURRING_SHARE,
};

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::Duration;

    use super::model::MeetingKind;
    use crate::tenant::model::Tenant;
    use crate::tenant::spec::TenantSpec;
    use crate::tenant::time::fixed_anchor;

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
