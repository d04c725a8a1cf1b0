//! What the app's scopes let Application Access collect. A call Zoom refuses with 4700/4711
//! (missing scope) does not fail the unit: the fields that need it are left out, the rest is
//! stored, and the connection gets a note naming the scope and the fields (reclamation refuses
//! to act while such a note exists). A later call of the same kind that succeeds clears it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ports::MissingScopeNote;
use zoom::ZoomError;

use crate::SyncError;
use crate::tasks::ctx::UnitCtx;

/// The kinds of calls that need a scope of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Need {
    Meetings,
    Instances,
    Participants,
    Reports,
}

impl Need {
    /// In plain words, what is not collected without it.
    fn not_collected(self) -> &'static str {
        match self {
            Self::Meetings => {
                "Meeting Created dates, and Meeting Joined dates from scheduled meetings (list meetings)"
            }
            Self::Instances => "Meeting Joined dates from past occurrences of recurring meetings",
            Self::Participants => "Meeting Joined dates (past meeting participants)",
            Self::Reports => {
                "Meeting Created and Meeting Joined dates of instant meetings, and the daily run's active hosts (reports)"
            }
        }
    }

    /// The scope to name when Zoom's message names none (REFERENCE §7).
    fn default_scope(self, master: bool) -> &'static str {
        match (self, master) {
            (Self::Meetings, true) => "meeting:read:list_meetings:admin",
            (Self::Meetings, false) => "meeting:read:list_meetings:master",
            (Self::Instances, _) => "meeting:read:list_past_instances:admin",
            (Self::Participants, _) => "meeting:read:list_past_participants:admin",
            (Self::Reports, true) => "report:read:list_users:admin",
            (Self::Reports, false) => "report:read:list_users:master",
        }
    }
}

#[derive(Debug, Default)]
struct Seen {
    missing: BTreeMap<Need, String>,
    worked: Vec<Need>,
}

/// Per unit: which kinds of calls Zoom refused for a missing scope, and which worked.
#[derive(Debug, Default)]
pub(super) struct ScopeGaps {
    master: bool,
    seen: Mutex<Seen>,
    /// The report's participant lists were refused (a granular scope of their own): they are
    /// read from past meetings only. Not a gap: nothing goes uncollected.
    report_participants_refused: std::sync::atomic::AtomicBool,
}

impl ScopeGaps {
    pub(super) fn new(master: bool) -> Self {
        Self {
            master,
            seen: Mutex::default(),
            report_participants_refused: Default::default(),
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Zoom refused the report's participant lists for a missing scope.
    pub(super) fn refuse_report_participants(&self) {
        self.report_participants_refused
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether participant lists may be read from the report (the reports are readable and
    /// its participant lists were not refused).
    pub(super) fn report_participants_allowed(&self) -> bool {
        !self.refused(Need::Reports)
            && !self
                .report_participants_refused
                .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether calls of this kind are known to be refused (not worth sending again).
    pub(super) fn refused(&self, need: Need) -> bool {
        self.seen().missing.contains_key(&need)
    }

    /// How many kinds of calls Zoom refused.
    pub(super) fn count(&self) -> u64 {
        self.seen().missing.len() as u64
    }

    /// Sorts a call's result: `Ok(Some)` it worked, `Ok(None)` refused for a missing scope
    /// (noted), `Err` any other failure.
    pub(super) fn check<T>(
        &self,
        need: Need,
        result: Result<T, ZoomError>,
    ) -> Result<Option<T>, SyncError> {
        match result {
            Ok(v) => {
                let mut seen = self.seen();
                if !seen.worked.contains(&need) {
                    seen.worked.push(need);
                }
                Ok(Some(v))
            }
            Err(e) if e.is_missing_scope() => {
                let named = e.missing_scope_names().join(" ");
                let scope = if named.is_empty() {
                    need.default_scope(self.master).to_owned()
                } else {
                    named
                };
                tracing::warn!(scope = %scope, fields = need.not_collected(), "missing scope: fields not collected");
                self.seen().missing.entry(need).or_insert(scope);
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Brings the connection's notes up to date (only when something changed).
    pub(super) async fn save(
        &self,
        ctx: &UnitCtx<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), SyncError> {
        let task = ctx.unit.task.as_str();
        let (missing, worked) = {
            let seen = self.seen();
            (seen.missing.clone(), seen.worked.clone())
        };
        let notes: Vec<MissingScopeNote> = missing
            .iter()
            .map(|(need, scope)| MissingScopeNote {
                scope: scope.clone(),
                not_collected: need.not_collected().to_owned(),
                noticed_by: task.to_owned(),
                activity: true,
                noticed_at: now,
            })
            .collect();
        // A note is cleared when a call that needs its scope worked (the master's own calls
        // need `:admin` scopes, sub accounts' calls `:master` ones: one kind, two scopes).
        let confirmed: Vec<String> = ctx
            .connection
            .missing_scopes
            .iter()
            .filter(|n| n.noticed_by == task)
            .filter(|n| {
                worked.iter().any(|need| {
                    n.not_collected == need.not_collected()
                        && n.scope
                            .split_whitespace()
                            .any(|s| s == need.default_scope(self.master))
                })
            })
            .map(|n| n.scope.clone())
            .collect();
        super::super::save_scope_notes(ctx, notes, confirmed).await?;
        Ok(())
    }
}
