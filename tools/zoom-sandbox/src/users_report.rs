//! The rows of one `GET /report/users` report (an account, active or inactive hosts, a date
//! range), computed once per overlay version and kept for the next pages: listing a large
//! account's report page by page scans it once, not once per page. A leaf module (the tenant
//! only), so that the sandbox state can hold the cache without importing the API.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use crate::tenant::{Tenant, UserStatus};

/// `from` and `to` of a report, whole days.
pub(crate) type DateRange = (chrono::NaiveDate, chrono::NaiveDate);

/// Whether `t` falls on a day of the range.
pub(crate) fn in_range(t: chrono::DateTime<chrono::Utc>, (from, to): DateRange) -> bool {
    let d = t.date_naive();
    d >= from && d <= to
}

/// What one `GET /report/users` report is of. Its rows depend on the users' current status and
/// their ended instances: both come from the generated tenant and its overlay (an instance has
/// ended when it ends before the anchor, or a simulated day's time for that day's meetings; the
/// sandbox clock plays no part), so the overlay version stands for every change. The clock only
/// picks the default range, which is part of the key as resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UsersReportKey {
    pub(crate) account: u32,
    pub(crate) active: bool,
    pub(crate) range: DateRange,
    pub(crate) version: u64,
}

/// The rows of one report, compact: the matched users' indexes in user order, their counts,
/// and the totals. Strings are derived page by page.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct UsersReport {
    pub(crate) users: Vec<u32>,
    /// Meetings, participants and minutes of each of `users`; empty for an `inactive` report,
    /// whose rows are all zero (a user without a meeting in the range has no participant and
    /// no minute there either).
    counts: Vec<[u64; 3]>,
    pub(crate) totals: [u64; 3],
}

/// What the reports of one account count, computed once per overlay version: every
/// non-pending user's ended instances as (start, participant rows, minutes). A client reads
/// six 30-day ranges at once; without it each range generated the whole account again, six
/// times the CPU Zoom spends on its own servers taken from the client's cores in the bench.
#[derive(Debug, Default)]
pub(crate) struct AccountLedger {
    users: Vec<(u32, Vec<Counted>)>,
}

/// An ended instance as a report counts it: start, participant rows, minutes.
type Counted = (chrono::DateTime<chrono::Utc>, u64, u64);

impl AccountLedger {
    /// One pass over the account.
    pub(crate) fn compute(tenant: &Tenant, account: u32) -> Self {
        let mut ledger = Self::default();
        for u in 0..tenant.user_count(account) {
            let Some(user) = tenant.user(account, u) else {
                continue;
            };
            if user.status == UserStatus::Pending {
                continue;
            }
            let instances = tenant
                .ended_instances(account, u)
                .iter()
                .map(|m| {
                    let (rows, secs) = tenant.participant_stats(m);
                    (m.start_time, rows as u64, secs.max(0) as u64 / 60)
                })
                .collect();
            ledger.users.push((u, instances));
        }
        ledger
    }
}

impl UsersReport {
    /// The report of `key` from its account's ledger: every non-pending user's ended instances
    /// that started in the range.
    pub(crate) fn compute(ledger: &AccountLedger, key: UsersReportKey) -> Self {
        let mut report = Self::default();
        for (u, instances) in &ledger.users {
            let (mut meetings, mut participants, mut minutes) = (0u64, 0u64, 0u64);
            for (start, rows, mins) in instances {
                if in_range(*start, key.range) {
                    meetings += 1;
                    participants += rows;
                    minutes += mins;
                }
            }
            if (meetings > 0) != key.active {
                continue;
            }
            report.users.push(*u);
            if key.active {
                report.counts.push([meetings, participants, minutes]);
            }
            for (t, n) in report
                .totals
                .iter_mut()
                .zip([meetings, participants, minutes])
            {
                *t += n;
            }
        }
        report
    }

    /// Meetings, participants and minutes of the `i`-th row.
    pub(crate) fn counts(&self, i: usize) -> [u64; 3] {
        self.counts.get(i).copied().unwrap_or_default()
    }
}

/// The last few `GET /report/users` reports (see [`UsersReportKey`]), most recently used last.
/// At most [`UsersReportCache::MAX_ENTRIES`] reports are kept, and none of an older overlay
/// version than the latest asked for (the version only grows: they cannot be asked for again),
/// so the memory stays bounded: 28 bytes per row of an `active` report, 4 of an `inactive` one.
#[derive(Debug, Default)]
pub(crate) struct UsersReportCache {
    entries: Mutex<VecDeque<(UsersReportKey, ReportSlot)>>,
    /// The ledgers of the accounts reported on last: (account, overlay version).
    ledgers: Mutex<VecDeque<((u32, u64), LedgerSlot)>>,
}

/// The slot of `key` in a list kept in order of use (made empty when it is not there yet):
/// entries `current` refuses are dropped (an older overlay version can never be asked for
/// again), and the least recently used beyond `max`.
fn recent_slot<K: PartialEq, V>(
    entries: &mut VecDeque<(K, Arc<OnceLock<V>>)>,
    key: K,
    current: impl Fn(&K) -> bool,
    max: usize,
) -> Arc<OnceLock<V>> {
    entries.retain(|(k, _)| current(k));
    let entry = match entries.iter().position(|(k, _)| *k == key) {
        Some(i) => entries.remove(i),
        None => None,
    }
    .unwrap_or_else(|| (key, Arc::default()));
    let slot = Arc::clone(&entry.1);
    entries.push_back(entry);
    while entries.len() > max {
        entries.pop_front();
    }
    slot
}

/// An account's ledger, or the place it is being computed into.
pub(crate) type LedgerSlot = Arc<OnceLock<Arc<AccountLedger>>>;

/// A report, or the place it is being computed into.
pub(crate) type ReportSlot = Arc<OnceLock<Arc<UsersReport>>>;

impl UsersReportCache {
    const MAX_ENTRIES: usize = 16;

    /// The slot of `key`'s report (made empty when it is not there yet). The lock is held only
    /// while the list is looked through, never while a report is computed.
    pub(crate) fn slot(&self, key: UsersReportKey) -> ReportSlot {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        recent_slot(
            &mut entries,
            key,
            |k| k.version >= key.version,
            Self::MAX_ENTRIES,
        )
    }

    /// The slot of the ledger `key`'s report is made from; a few accounts are kept (a client
    /// goes through an account's ranges at once, and through the accounts one or two at a
    /// time).
    pub(crate) fn ledger_slot(&self, key: UsersReportKey) -> LedgerSlot {
        const MAX_LEDGERS: usize = 4;
        let mut ledgers = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
        recent_slot(
            &mut ledgers,
            (key.account, key.version),
            |(_, version)| *version >= key.version,
            MAX_LEDGERS,
        )
    }

    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<UsersReportKey> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.iter().map(|(k, _)| *k).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(account: u32, active: bool, version: u64) -> UsersReportKey {
        let to = chrono::NaiveDate::from_ymd_opt(2026, 6, 2).unwrap();
        UsersReportKey {
            account,
            active,
            range: (to - chrono::Duration::days(30), to),
            version,
        }
    }

    #[test]
    fn the_users_report_cache_keeps_a_few_current_reports() {
        let cache = UsersReportCache::default();
        // The same key finds the same slot; another type or version is another report.
        let first = cache.slot(key(0, true, 1));
        first.get_or_init(|| Arc::new(UsersReport::default()));
        assert!(Arc::ptr_eq(&first, &cache.slot(key(0, true, 1))));
        assert!(cache.slot(key(0, false, 1)).get().is_none());
        // At most 16 reports: the least recently used go first.
        for a in 1..=20 {
            cache.slot(key(a, true, 1));
            cache.slot(key(0, true, 1));
        }
        let keys = cache.keys();
        assert_eq!(keys.len(), UsersReportCache::MAX_ENTRIES);
        assert_eq!(keys.last(), Some(&key(0, true, 1)));
        assert!(keys.contains(&key(20, true, 1)) && !keys.contains(&key(1, true, 1)));
        assert!(cache.slot(key(0, true, 1)).get().is_some());
        // A newer overlay version: the older reports can never be asked for again.
        let newer = cache.slot(key(0, true, 2));
        assert!(newer.get().is_none());
        assert_eq!(cache.keys(), vec![key(0, true, 2)]);
        // A late request of an older version does not drop the newer reports.
        cache.slot(key(3, true, 1));
        assert_eq!(cache.keys(), vec![key(0, true, 2), key(3, true, 1)]);
    }
}
