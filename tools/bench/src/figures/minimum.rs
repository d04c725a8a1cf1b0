//! The data's minimum number of requests for a full sync (the yardstick of figure 2).

use bench::model::{self, AccountMinimum};
use zoom_sandbox::tenant::UserStatus;

/// The report ranges of a full run (docs/integration-tasks.md): six 30-day ranges back from
/// today, whole UTC days.
fn report_ranges(today: chrono::NaiveDate) -> Vec<(chrono::NaiveDate, chrono::NaiveDate)> {
    (0..6)
        .map(|i| {
            let to = today - chrono::Duration::days(30 * i);
            (to - chrono::Duration::days(29), to)
        })
        .collect()
}

/// The data's minimum for a full sync, from the sandbox's own facts.
pub(crate) fn minimum(
    t: &zoom_sandbox::tenant::Tenant,
    today: chrono::NaiveDate,
) -> (AccountMinimum, u64, u64) {
    use zoom_sandbox::tenant::MeetingKind;
    let mut total = AccountMinimum::default();
    let (mut users, mut meetings) = (0u64, 0u64);
    let accounts = t.accounts();
    let standalone = t.standalone_account_id().to_owned();
    let ranges = report_ranges(today);
    for a in accounts.iter().filter(|a| a.id != standalone) {
        let c = t.counts(a.index);
        let by_status = [
            u64::from(c.of_status(UserStatus::Active)),
            u64::from(c.of_status(UserStatus::Inactive)),
            u64::from(c.of_status(UserStatus::Pending)),
        ];
        let mut hosts = Vec::new();
        let mut active_per_range = vec![0u64; ranges.len()];
        for u in 0..t.user_count(a.index) {
            users += 1;
            let Some(user) = t.user(a.index, u) else {
                continue;
            };
            if user.status == UserStatus::Pending {
                continue;
            }
            let listed = t.meetings(a.index, u);
            meetings += listed.len() as u64;
            let ended = t.ended_instances(a.index, u);
            let mut instants_ranges = Vec::new();
            for (r, (from, to)) in ranges.iter().enumerate() {
                let in_range: Vec<_> = ended
                    .iter()
                    .filter(|m| (*from..=*to).contains(&m.start_time.date_naive()))
                    .collect();
                active_per_range[r] += u64::from(!in_range.is_empty());
                if in_range.iter().any(|m| m.kind == MeetingKind::Instant) {
                    instants_ranges.push(in_range.len() as u64);
                }
            }
            hosts.push(model::HostFacts {
                listed: listed.len() as u64,
                recurring: listed
                    .iter()
                    .filter(|m| m.kind == MeetingKind::Recurring)
                    .count() as u64,
                rows_per_ended_instance: ended
                    .iter()
                    .map(|m| t.participant_stats(m).0 as u64)
                    .collect(),
                instants_ranges,
            });
        }
        total.add(&model::account_minimum(
            by_status,
            &hosts,
            &active_per_range,
            a.pay_mode == "master",
        ));
    }
    // The tree's accounts: `GET /accounts/me` once and the sub-account listing.
    total.details += model::pages(accounts.len() as u64 - 2, model::PAGE);
    (total, users, meetings)
}
