//! The users' meeting activity: the organisation-wide latest joins (one pass over every account's
//! ended instances, cached until the overlay changes) and the latest meeting each user created.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::super::model::{Overlay, Tenant};
use super::model::{JoinTable, MeetingKind};
use super::participants::Who;

impl Tenant {
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
