//! One host's meetings, every kind (REFERENCE §3.8–3.10):
//!
//! - scheduled meetings (type 2) from `GET /users/{id}/meetings?type=scheduled` (Medium), one
//!   instance each;
//! - recurring meetings (types 3 and 8) are listed once; each past occurrence is its own
//!   instance, from `GET /past_meetings/{id}/instances` (Medium): always on a full run, on a
//!   daily run only when the report counts meetings the scheduled ones do not explain;
//! - instant meetings (type 1) are never listed. `GET /report/users` (Heavy, one page per 300
//!   hosts, swept per account up front) says how many meetings each host held per date range;
//!   only where that is more than the instances found above does the unit ask
//!   `GET /report/users/{id}/meetings` (Heavy) for the range, which lists every instance.
//!
//! Joins come from `GET /past_meetings/{uuid}/participants` (Medium) of each ended instance, or
//! from `GET /report/meetings/{uuid}/participants` (Heavy), which returns the same rows
//! (REFERENCE §3.10): Zoom meters the categories separately, so a list is read from the report
//! when Heavy's next slot comes no later than Medium's and the daily Heavy cap still has more
//! than its reserved part left (`EngineOptions::heavy_participants_share`).

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt, stream};

use super::gaps::{Need, ScopeGaps};
use crate::SyncError;
use crate::tasks::ctx::UnitCtx;

/// A host's participant lists fetched at once.
const MEETINGS_AT_ONCE: usize = 4;

/// The meetings Zoom's report says a host held in each range of the sweep.
pub(super) type RangeCounts = Vec<((NaiveDate, NaiveDate), u64)>;

/// What one host's meetings showed.
#[derive(Debug, Default)]
pub(super) struct HostActivity {
    /// Latest created date among the host's listed meetings and instant meetings found.
    pub created: Option<DateTime<Utc>>,
    /// Joins by Zoom user id (of this account's users, other accounts' or outsiders': the
    /// unit sorts them out).
    pub joins: Vec<(String, DateTime<Utc>)>,
    /// Joins by lower-case e-mail, of rows without an id (Zoom gives the e-mail of users of
    /// the host's own account only).
    pub email_joins: Vec<(String, DateTime<Utc>)>,
    pub participant_lists: u64,
    pub report_lookups: u64,
}

/// An instance whose participants to read.
struct Instance {
    uuid: String,
    start: DateTime<Utc>,
}

/// The host's meetings and the joins in them.
pub(super) async fn host_activity(
    ctx: &UnitCtx<'_>,
    gaps: &ScopeGaps,
    user_id: &str,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    // `None`: the reports are not available to this app.
    counts: Option<RangeCounts>,
) -> Result<HostActivity, SyncError> {
    let mut out = HostActivity::default();
    let in_scope = |start: DateTime<Utc>| start <= now && since.is_none_or(|s| start >= s);
    let listed = if gaps.refused(Need::Meetings) {
        Vec::new()
    } else {
        let result = ctx
            .api()
            .user_meetings(user_id, zoom::MeetingListType::Scheduled)
            .stream()
            .try_collect::<Vec<zoom::Meeting>>()
            .await;
        gaps.check(Need::Meetings, result)?.unwrap_or_default()
    };
    out.created = listed.iter().filter_map(|m| m.created_at).max();

    // The ranges where the report counts more meetings than the instances found so far.
    let unexplained = |held: &[DateTime<Utc>]| -> Vec<(NaiveDate, NaiveDate)> {
        counts
            .iter()
            .flatten()
            .filter(|((from, to), count)| {
                let found = held
                    .iter()
                    .filter(|t| (*from..=*to).contains(&t.date_naive()))
                    .count() as u64;
                *count > found
            })
            .map(|(range, _)| *range)
            .collect()
    };

    // 1. Scheduled meetings: one instance each.
    let mut held: Vec<DateTime<Utc>> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut to_read: Vec<Instance> = Vec::new();
    let mut recurring: Vec<i64> = Vec::new();
    for m in &listed {
        if matches!(m.meeting_type, Some(3 | 8)) {
            recurring.extend(m.id);
            continue;
        }
        let Some(start) = m.start_time else { continue };
        let key = if m.uuid.is_empty() {
            m.id.map(|id| id.to_string()).unwrap_or_default()
        } else {
            m.uuid.clone()
        };
        if key.is_empty() || !seen.insert(key.clone()) || start > now {
            continue;
        }
        if in_scope(start) {
            to_read.push(Instance { uuid: key, start });
        } else {
            // Older than the incremental range: held if its scheduled end has passed.
            let end = start + chrono::Duration::minutes(m.duration.unwrap_or(0).max(0));
            if end <= now {
                held.push(start);
            }
        }
    }
    // An instance Zoom does not know as ended (404) was not held.
    let ended = read_participants(ctx, gaps, &to_read, &mut out).await?;
    held.extend(ended);

    // 2. Each past occurrence of the recurring meetings: all of them on a full run (and
    // without the reports); on a daily run only when the report counts meetings in the range
    // that the scheduled ones do not explain (a host the report does not name held none).
    let wanted = since.is_none() || counts.is_none() || !unexplained(&held).is_empty();
    if wanted && !recurring.is_empty() && !gaps.refused(Need::Instances) {
        let lists: Vec<Option<Vec<zoom::Meeting>>> = stream::iter(recurring)
            .map(|id| async move {
                let result = ctx
                    .zoom()
                    .past_meeting_instances(id)
                    .stream()
                    .try_collect::<Vec<zoom::Meeting>>()
                    .await;
                match result {
                    Err(e) if e.is_not_found() => Ok(Some(Vec::new())),
                    other => gaps.check(Need::Instances, other),
                }
            })
            .buffered(MEETINGS_AT_ONCE)
            .try_collect()
            .await?;
        let mut occurrences = Vec::new();
        for i in lists.into_iter().flatten().flatten() {
            let Some(start) = i.start_time else { continue };
            if i.uuid.is_empty() || !seen.insert(i.uuid.clone()) {
                continue;
            }
            // Ended (Zoom lists past instances only); counted once: read ones when their
            // participants come back, the others here.
            if in_scope(start) {
                occurrences.push(Instance {
                    uuid: i.uuid,
                    start,
                });
            } else {
                held.push(start);
            }
        }
        let ended = read_participants(ctx, gaps, &occurrences, &mut out).await?;
        held.extend(ended);
    }

    // 3. Instant meetings (and instances the listing does not show): where the report still
    // counts more meetings in a range than were found, list that range's instances.
    for (from, to) in unexplained(&held) {
        if gaps.refused(Need::Reports) {
            break;
        }
        out.report_lookups += 1;
        let result = ctx
            .api()
            .report_user_meetings(user_id, from, to)
            .stream()
            .try_collect::<Vec<zoom::ReportMeeting>>()
            .await;
        let Some(rows) = gaps.check(Need::Reports, result)? else {
            continue;
        };
        let mut extra = Vec::new();
        for row in rows {
            let Some(start) = row.start_time else {
                continue;
            };
            if row.meeting_type == Some(1) {
                // An instant meeting is created when it starts.
                out.created = out.created.max(Some(start));
            }
            if row.uuid.is_empty() || !seen.insert(row.uuid.clone()) || !in_scope(start) {
                continue;
            }
            extra.push(Instance {
                uuid: row.uuid,
                start,
            });
        }
        let ended = read_participants(ctx, gaps, &extra, &mut out).await?;
        held.extend(ended);
    }
    Ok(out)
}

/// Whether the next participant list is read from the report API (Heavy) rather than past
/// meetings (Medium): Heavy's slot comes no later, the reports are readable, and more than
/// `1 - heavy_participants_share` of today's Heavy cap is left by Zoom's last count (no count
/// yet, e.g. a Zoom that sends no rate-limit headers: Medium only).
fn by_report(ctx: &UnitCtx<'_>, gaps: &ScopeGaps) -> bool {
    let share = ctx.options.heavy_participants_share;
    if share <= 0.0 || !gaps.report_participants_allowed() {
        return false;
    }
    let (limiter, budget) = (ctx.zoom().rate_limiter(), ctx.zoom().budget());
    let Some((cap, left)) = limiter.daily_left(budget, zoom::Category::Heavy) else {
        return false;
    };
    // A tie (both idle, or neither paced) goes to Heavy: the work goes where there is room.
    left as f64 > cap as f64 * (1.0 - share.min(1.0))
        && limiter.next_slot(budget, zoom::Category::Heavy)
            <= limiter.next_slot(budget, zoom::Category::Medium)
}

/// Reads the participants of `instances`, noting each row's join by id, or by e-mail where
/// Zoom gives one without an id (rows of the host's own account). Returns the start of every
/// instance that had ended.
async fn read_participants(
    ctx: &UnitCtx<'_>,
    gaps: &ScopeGaps,
    instances: &[Instance],
    out: &mut HostActivity,
) -> Result<Vec<DateTime<Utc>>, SyncError> {
    if gaps.refused(Need::Participants) {
        return Ok(Vec::new());
    }
    let mut lists = stream::iter(instances)
        .map(|instance| async move {
            let medium = || {
                ctx.zoom()
                    .past_meeting_participants(&instance.uuid)
                    .stream()
                    .try_collect::<Vec<zoom::Participant>>()
            };
            let result = if by_report(ctx, gaps) {
                let heavy = ctx
                    .api()
                    .report_meeting_participants(&instance.uuid)
                    .stream()
                    .try_collect::<Vec<zoom::Participant>>()
                    .await;
                match heavy {
                    // The daily cap ran out, or the report does not have the meeting (yet,
                    // or ever: it keeps only meetings of two or more): past meetings is the
                    // authority.
                    Err(zoom::ZoomError::DailyLimit { .. }) => medium().await,
                    Err(e) if e.is_not_found() => medium().await,
                    Err(e) if e.is_missing_scope() => {
                        gaps.refuse_report_participants();
                        medium().await
                    }
                    other => other,
                }
            } else {
                medium().await
            };
            match result {
                // Not ended yet (or gone): not held, no participants.
                Err(e) if e.is_not_found() => Ok((instance.start, None)),
                other => Ok::<_, SyncError>((
                    instance.start,
                    Some(gaps.check(Need::Participants, other)?),
                )),
            }
        })
        .buffer_unordered(MEETINGS_AT_ONCE);
    let mut ended = Vec::new();
    while let Some((start, rows)) = lists.try_next().await? {
        let Some(rows) = rows else { continue };
        let Some(rows) = rows else {
            // Refused for a missing scope: nothing to read, and nothing known about the end.
            continue;
        };
        out.participant_lists += 1;
        ended.push(start);
        for p in rows {
            let Some(at) = p.join_time else { continue };
            if let Some(id) = p.id.as_deref().filter(|id| !id.is_empty()) {
                out.joins.push((id.to_owned(), at));
            } else if let Some(email) = p
                .internal_user
                .then_some(p.user_email.as_deref())
                .flatten()
                .filter(|e| !e.is_empty())
            {
                out.email_joins.push((email.to_lowercase(), at));
            }
        }
    }
    Ok(ended)
}
