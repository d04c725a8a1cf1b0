//! Which OAuth scopes the connector needs, classic or granular (REFERENCE §7, §3), and what
//! each one serves.
//!
//! Zoom apps created before ~March 2024 grant classic scopes (`user:master`); newer apps only
//! offer granular ones (`user:read:list_users:master`). Each [`Requirement`] is one piece of
//! work of the scheduled tasks, with the classic scope(s) that allow it and the granular scopes
//! that together do the same. A requirement is met when ONE of its classic scopes is granted,
//! or EVERY one of its granular scopes is (an app may mix both kinds).
//!
//! - [`Need::Required`]: without it the product cannot work (the sub accounts, the users of
//!   every account: roster and license counts, and the changes reclamation makes). Connect
//!   refuses the app, naming the scopes and what they are for.
//! - [`Need::Optional`]: without it some fields are not collected. Connect succeeds, says which
//!   fields and which scope to add, and keeps a [`MissingScopeNote`] on the connection
//!   (`noticed_by` = [`NOTICED_BY`]). Notes of Application Access's scopes (the activity dates)
//!   are marked `activity` and make the connection's activity partial
//!   (`ConnectionRecord::activity_is_partial`): reclamation refuses to execute while one exists.
//!
//! Past meeting participants and past meeting instances are read through Zoom's un-prefixed
//! paths for the meetings of every account (no master variant is documented for participants),
//! so they need the `…:admin` scopes; the master's own meetings, reports, plan usage and user
//! summary go through its own (`me`) paths and need the `…:admin` (or account-level classic)
//! scopes too; the sub accounts' go through the master prefix and need the `…:master` ones.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use ports::{ConnectionSettings, MissingScopeNote};

/// `noticed_by` of the notes connect writes.
pub const NOTICED_BY: &str = "connect";
/// The task whose fields (activity dates) the optional meeting and report scopes serve.
pub const APPLICATION_ACCESS: &str = "Application Access";

/// Whether connect refuses an app that lacks the requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The product cannot work without it: connect refuses.
    Required,
    /// Some fields are not collected without it: connect succeeds and notes it.
    Optional,
}

/// When a requirement applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    /// Only when the connection's Include On Premises setting is yes.
    IncludeOnPremises,
}

/// One piece of work the connector needs a scope for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub need: Need,
    /// Classic scopes, any ONE of which meets the requirement.
    pub classic: &'static [&'static str],
    /// Granular scopes, ALL of which together meet the requirement.
    pub granular: &'static [&'static str],
    /// The task(s) it serves.
    pub tasks: &'static str,
    /// Required: what the connector does with it (named when connect refuses). Optional: in
    /// plain words, what is not collected without it (the note's `not_collected`).
    pub fields: &'static str,
    pub when: When,
}

impl Requirement {
    /// A requirement that always applies.
    const fn new(
        need: Need,
        classic: &'static [&'static str],
        granular: &'static [&'static str],
        tasks: &'static str,
        fields: &'static str,
    ) -> Self {
        Self {
            need,
            classic,
            granular,
            tasks,
            fields,
            when: When::Always,
        }
    }

    /// Whether `granted` meets this requirement.
    pub fn is_met(&self, granted: &HashSet<&str>) -> bool {
        self.classic.iter().any(|s| granted.contains(s))
            || self.granular.iter().all(|s| granted.contains(s))
    }

    fn applies(&self, settings: &ConnectionSettings) -> bool {
        match self.when {
            When::Always => true,
            When::IncludeOnPremises => settings.include_on_premises.is_yes(),
        }
    }

    /// The classic scopes in words: `a` or `a or b`.
    pub fn classic_text(&self) -> String {
        self.classic.join(" or ")
    }
}

const ROSTER_ACCESS_LICENSES: &str =
    "Application Roster, Application Access, License Information, License Differentiation";

/// Everything the scheduled tasks and reclamation call Zoom for, in the order they are named.
pub const REQUIREMENTS: &[Requirement] = &[
    // ---- required ------------------------------------------------------------------------
    Requirement::new(
        Need::Required,
        &["account:master"],
        &[
            "account:read:list_sub_accounts:master",
            "account:read:sub_account:master",
        ],
        "every task",
        "list the sub accounts and read each one's plan and seats",
    ),
    Requirement::new(
        Need::Required,
        &["user:master"],
        &["user:read:list_users:master"],
        ROSTER_ACCESS_LICENSES,
        "list the users of the sub accounts (roster, license counts, last login)",
    ),
    Requirement::new(
        Need::Required,
        &["user:read:admin", "user:write:admin"],
        &["user:read:list_users:admin"],
        ROSTER_ACCESS_LICENSES,
        "list the master account's own users (roster, license counts, last login)",
    ),
    Requirement::new(
        Need::Required,
        &["user:master"],
        &[
            "user:read:user:master",
            "user:update:status:master",
            "user:update:user:master",
        ],
        "Reclamation",
        "look up, deactivate, reactivate and downgrade users of the sub accounts",
    ),
    Requirement::new(
        Need::Required,
        &["user:write:admin"],
        &[
            "user:read:user:admin",
            "user:update:status:admin",
            "user:update:user:admin",
        ],
        "Reclamation",
        "look up, deactivate, reactivate and downgrade the master account's own users",
    ),
    // ---- optional ------------------------------------------------------------------------
    Requirement::new(
        Need::Optional,
        &["meeting:read:admin"],
        &["meeting:read:list_past_participants:admin"],
        APPLICATION_ACCESS,
        NOT_COLLECTED_PARTICIPANTS,
    ),
    Requirement::new(
        Need::Optional,
        &["meeting:read:admin"],
        &["meeting:read:list_past_instances:admin"],
        APPLICATION_ACCESS,
        NOT_COLLECTED_INSTANCES,
    ),
    Requirement::new(
        Need::Optional,
        &["meeting:read:admin"],
        &["meeting:read:list_meetings:admin"],
        APPLICATION_ACCESS,
        NOT_COLLECTED_MASTER_MEETINGS,
    ),
    Requirement::new(
        Need::Optional,
        &["meeting:master"],
        &["meeting:read:list_meetings:master"],
        APPLICATION_ACCESS,
        NOT_COLLECTED_SUB_MEETINGS,
    ),
    Requirement::new(
        Need::Optional,
        &["report:read:admin"],
        &["report:read:list_users:admin", "report:read:user:admin"],
        APPLICATION_ACCESS,
        NOT_COLLECTED_MASTER_REPORTS,
    ),
    Requirement::new(
        Need::Optional,
        &["report:master"],
        &["report:read:list_users:master", "report:read:user:master"],
        APPLICATION_ACCESS,
        NOT_COLLECTED_SUB_REPORTS,
    ),
    Requirement::new(
        Need::Optional,
        &["account:read:admin", "billing:master"],
        &["billing:read:plan_usage:admin"],
        "License Information",
        NOT_COLLECTED_MASTER_PLAN_USAGE,
    ),
    Requirement::new(
        Need::Optional,
        &["account:master", "billing:master"],
        &["billing:read:plan_usage:master"],
        "License Information",
        NOT_COLLECTED_SUB_PLAN_USAGE,
    ),
    Requirement {
        when: When::IncludeOnPremises,
        ..Requirement::new(
            Need::Optional,
            &["user:read:admin", "user:write:admin"],
            &["user:read:summary:admin"],
            "License Information",
            NOT_COLLECTED_MASTER_SUMMARY,
        )
    },
    Requirement {
        when: When::IncludeOnPremises,
        ..Requirement::new(
            Need::Optional,
            &["user:master"],
            &["user:read:summary:master"],
            "License Information",
            NOT_COLLECTED_SUB_SUMMARY,
        )
    },
];

// The `not_collected` texts of the notes (shared with the tests and the README).
pub const NOT_COLLECTED_PARTICIPANTS: &str = "Meeting Joined dates (past meeting participants)";
pub const NOT_COLLECTED_INSTANCES: &str =
    "Meeting Joined dates from past occurrences of recurring meetings (past meeting instances)";
pub const NOT_COLLECTED_MASTER_MEETINGS: &str = "Meeting Created dates of the master account's users, and Meeting Joined dates from the scheduled meetings they host (list meetings)";
pub const NOT_COLLECTED_SUB_MEETINGS: &str = "Meeting Created dates of the sub accounts' users, and Meeting Joined dates from the scheduled meetings they host (list meetings)";
pub const NOT_COLLECTED_MASTER_REPORTS: &str = "Meeting Created and Meeting Joined dates of instant meetings hosted in the master account (reports); without the active-hosts report the daily run also reads every host's meetings, at a higher cost";
pub const NOT_COLLECTED_SUB_REPORTS: &str = "Meeting Created and Meeting Joined dates of instant meetings hosted in the sub accounts (reports); without the active-hosts report the daily run also reads every host's meetings, at a higher cost";
pub const NOT_COLLECTED_MASTER_PLAN_USAGE: &str = "Zoom's own count of the master account's assigned seats (plan usage); seats are counted from the roster only";
pub const NOT_COLLECTED_SUB_PLAN_USAGE: &str = "Zoom's own count of assigned seats of the sub accounts whose bill the master pays (plan usage); seats are counted from the roster only";
pub const NOT_COLLECTED_MASTER_SUMMARY: &str = "Zoom's own count of the master account's On-Prem users (user summary, used with Include On Premises = yes)";
pub const NOT_COLLECTED_SUB_SUMMARY: &str = "Zoom's own count of the sub accounts' On-Prem users (user summary, used with Include On Premises = yes)";

/// A requirement that the granted scopes do not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingScope {
    pub requirement: &'static Requirement,
    /// The granular scopes that were not granted.
    pub granular_missing: Vec<&'static str>,
}

impl MissingScope {
    pub fn classic(&self) -> &'static [&'static str] {
        self.requirement.classic
    }

    pub fn fields(&self) -> &'static str {
        self.requirement.fields
    }

    /// The note connect keeps on the connection for a missing optional scope.
    pub fn note(&self, now: DateTime<Utc>) -> MissingScopeNote {
        MissingScopeNote {
            scope: self.to_string(),
            not_collected: self.requirement.fields.to_string(),
            noticed_by: NOTICED_BY.to_string(),
            activity: self.requirement.tasks == APPLICATION_ACCESS,
            noticed_at: now,
        }
    }
}

impl std::fmt::Display for MissingScope {
    /// `meeting:read:admin (or, for apps with granular scopes: meeting:read:list_past_participants:admin)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (or, for apps with granular scopes: {})",
            self.requirement.classic_text(),
            self.granular_missing.join(", ")
        )
    }
}

/// What the granted scopes leave out, each list in table order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeCheck {
    /// Connect refuses when this is not empty.
    pub required: Vec<MissingScope>,
    /// Fields that will not be collected.
    pub optional: Vec<MissingScope>,
}

fn granted_set(granted: &str) -> HashSet<&str> {
    granted.split_whitespace().collect()
}

/// Checks `granted` (Zoom's space-separated `scope`) against the requirements that apply to
/// a connection with `settings`.
pub fn check(granted: &str, settings: &ConnectionSettings) -> ScopeCheck {
    let granted = granted_set(granted);
    let mut out = ScopeCheck::default();
    for r in REQUIREMENTS
        .iter()
        .filter(|r| r.applies(settings) && !r.is_met(&granted))
    {
        let missing = MissingScope {
            requirement: r,
            granular_missing: r
                .granular
                .iter()
                .copied()
                .filter(|s| !granted.contains(s))
                .collect(),
        };
        match r.need {
            Need::Required => out.required.push(missing),
            Need::Optional => out.optional.push(missing),
        }
    }
    out
}

/// Whether a note (of connect or of a task) is settled by a new authorization granting
/// `granted`: connect's own notes always are (connect writes the current ones again); a task's
/// note when one of the scopes it names is now available: granted, or every requirement naming
/// that scope is met.
pub fn note_is_settled(note: &MissingScopeNote, granted: &str) -> bool {
    if note.noticed_by == NOTICED_BY {
        return true;
    }
    let granted = granted_set(granted);
    note.scope
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '[' | ']'))
        .filter(|s| s.contains(':') && !s.ends_with(':'))
        .any(|scope| {
            if granted.contains(scope) {
                return true;
            }
            let mut naming = REQUIREMENTS
                .iter()
                .filter(|r| r.classic.contains(&scope) || r.granular.contains(&scope))
                .peekable();
            naming.peek().is_some() && naming.all(|r| r.is_met(&granted))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The five classic scopes of the integration's documentation.
    const DOCUMENTED_FIVE: &str =
        "account:master user:master report:master meeting:master user:write:admin";

    fn settings(on_prem: bool) -> ConnectionSettings {
        ConnectionSettings {
            include_on_premises: on_prem.into(),
            ..ConnectionSettings::default()
        }
    }

    fn all_granular() -> String {
        REQUIREMENTS
            .iter()
            .flat_map(|r| r.granular.iter().copied())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn fields(missing: &[MissingScope]) -> Vec<&'static str> {
        missing.iter().map(|m| m.fields()).collect()
    }

    #[test]
    fn every_requirement_has_both_kinds_of_names_and_plain_words() {
        for r in REQUIREMENTS {
            assert!(!r.classic.is_empty() && !r.granular.is_empty(), "{r:?}");
            for s in r.classic.iter().chain(r.granular) {
                assert_eq!(s.trim(), *s);
                assert!(s.split(':').count() >= 2, "{s}");
            }
            assert!(r.fields.len() > 20 && !r.tasks.is_empty(), "{r:?}");
        }
        // Classic scope names never stand in a granular list and the other way round.
        let classic: HashSet<&str> = REQUIREMENTS
            .iter()
            .flat_map(|r| r.classic)
            .copied()
            .collect();
        assert!(
            REQUIREMENTS
                .iter()
                .flat_map(|r| r.granular)
                .all(|g| !classic.contains(g))
        );
    }

    #[test]
    fn the_documented_five_classic_scopes_meet_every_required_one() {
        let c = check(DOCUMENTED_FIVE, &settings(true));
        assert!(c.required.is_empty(), "{:?}", c.required);
        assert_eq!(
            fields(&c.optional),
            vec![
                NOT_COLLECTED_PARTICIPANTS,
                NOT_COLLECTED_INSTANCES,
                NOT_COLLECTED_MASTER_MEETINGS,
                NOT_COLLECTED_MASTER_REPORTS,
                NOT_COLLECTED_MASTER_PLAN_USAGE,
            ]
        );
        let classic: Vec<&str> = c.optional.iter().map(|m| m.classic()[0]).collect();
        assert_eq!(
            classic,
            vec![
                "meeting:read:admin",
                "meeting:read:admin",
                "meeting:read:admin",
                "report:read:admin",
                "account:read:admin"
            ]
        );
        assert_eq!(
            c.optional[4].to_string(),
            "account:read:admin or billing:master (or, for apps with granular scopes: \
             billing:read:plan_usage:admin)"
        );
    }

    #[test]
    fn every_classic_and_every_granular_set_is_complete() {
        let classic: Vec<&str> = REQUIREMENTS.iter().map(|r| r.classic[0]).collect();
        for on_prem in [false, true] {
            assert_eq!(
                check(&classic.join(" "), &settings(on_prem)),
                ScopeCheck::default()
            );
            assert_eq!(
                check(&all_granular(), &settings(on_prem)),
                ScopeCheck::default()
            );
        }
        // The sandbox's default app (every classic scope the connector needs).
        let sandbox = zoom_sandbox_default();
        assert_eq!(check(&sandbox, &settings(true)), ScopeCheck::default());
        // Mixed: classic for some requirements, granular for the others.
        let mixed = format!(
            "account:master user:master user:write:admin meeting:master report:master \
             billing:master {} {} {} {}",
            REQUIREMENTS[5].granular.join(" "),
            REQUIREMENTS[6].granular.join(" "),
            REQUIREMENTS[7].granular.join(" "),
            REQUIREMENTS[9].granular.join(" "),
        );
        assert_eq!(check(&mixed, &settings(true)), ScopeCheck::default());
    }

    /// `zoom_sandbox::config::DEFAULT_SCOPES` as of this writing (a dev-dependency would do,
    /// but the unit tests stay free of the sandbox; the e2e tests use the real list).
    fn zoom_sandbox_default() -> String {
        "account:master user:master report:master meeting:master billing:master \
         user:read:admin user:write:admin meeting:read:admin report:read:admin"
            .into()
    }

    #[test]
    fn a_missing_required_scope_is_named_with_its_purpose() {
        let granted = DOCUMENTED_FIVE.replace("user:master ", "");
        let c = check(&granted, &settings(false));
        assert_eq!(c.required.len(), 2);
        assert!(c.required.iter().all(|m| m.classic() == ["user:master"]));
        assert_eq!(
            c.required[0].to_string(),
            "user:master (or, for apps with granular scopes: user:read:list_users:master)"
        );
        assert!(c.required[0].fields().contains("users of the sub accounts"));
        // Read-only classic scopes do not stand in for the write ones.
        let c = check(
            "account:master user:master report:master meeting:master user:read:admin",
            &settings(false),
        );
        assert_eq!(c.required.len(), 1);
        assert_eq!(c.required[0].classic(), ["user:write:admin"]);
        assert_eq!(check("", &settings(false)).required.len(), 5);
    }

    #[test]
    fn a_partial_granular_set_names_only_the_absent_granular_scopes() {
        let granted = all_granular().replace("user:update:status:master", "");
        let c = check(&granted, &settings(false));
        assert!(c.optional.is_empty());
        assert_eq!(c.required.len(), 1);
        assert_eq!(
            c.required[0].granular_missing,
            vec!["user:update:status:master"]
        );
        let text = c.required[0].to_string();
        assert!(text.contains("user:master") && text.contains("user:update:status:master"));

        let granted = all_granular().replace("meeting:read:list_past_participants:admin", "");
        let c = check(&granted, &settings(false));
        assert!(c.required.is_empty());
        assert_eq!(fields(&c.optional), vec![NOT_COLLECTED_PARTICIPANTS]);
        assert!(c.optional[0].fields().contains("Meeting Joined"));
    }

    #[test]
    fn the_user_summary_counts_only_with_include_on_premises() {
        let granted = all_granular().replace("user:read:summary:master", "");
        assert_eq!(check(&granted, &settings(false)), ScopeCheck::default());
        let c = check(&granted, &settings(true));
        assert_eq!(fields(&c.optional), vec![NOT_COLLECTED_SUB_SUMMARY]);
    }

    #[test]
    fn notes_say_meeting_only_where_activity_fields_are_lost() {
        for r in REQUIREMENTS.iter().filter(|r| r.need == Need::Optional) {
            let activity = r.tasks == APPLICATION_ACCESS;
            let words = r.fields.contains("Meeting Joined") || r.fields.contains("Meeting Created");
            assert_eq!(activity, words, "{}", r.fields);
            // The note says so, and `activity_is_partial` reads that.
            let note = MissingScope {
                requirement: r,
                granular_missing: r.granular.to_vec(),
            }
            .note(Utc::now());
            assert_eq!(note.activity, activity, "{}", r.fields);
        }
        let c = check(DOCUMENTED_FIVE, &settings(false));
        let now = Utc::now();
        let note = c.optional[0].note(now);
        assert_eq!(note.noticed_by, "connect");
        assert_eq!(note.noticed_at, now);
        assert_eq!(note.not_collected, NOT_COLLECTED_PARTICIPANTS);
        assert!(note.scope.contains("meeting:read:admin"));
        assert!(
            note.scope
                .contains("meeting:read:list_past_participants:admin")
        );
    }

    #[test]
    fn a_new_authorization_settles_notes_whose_scope_it_brings() {
        let now = Utc::now();
        let task_note = |scope: &str| MissingScopeNote {
            scope: scope.into(),
            not_collected: "Meeting Joined dates (past meeting participants)".into(),
            noticed_by: "application-access".into(),
            activity: true,
            noticed_at: now,
        };
        let p = task_note("meeting:read:list_past_participants:admin");
        assert!(!note_is_settled(&p, DOCUMENTED_FIVE));
        assert!(note_is_settled(&p, "meeting:read:admin"));
        assert!(note_is_settled(
            &p,
            "meeting:read:list_past_participants:admin"
        ));
        // A classic name is settled when every requirement naming it is met.
        let classic = task_note("meeting:read:admin");
        assert!(!note_is_settled(
            &classic,
            "meeting:read:list_past_participants:admin"
        ));
        assert!(note_is_settled(&classic, &all_granular()));
        // A scope the table does not know: only when granted.
        let odd = task_note("meeting:read:something_new:admin");
        assert!(!note_is_settled(&odd, &all_granular()));
        assert!(note_is_settled(&odd, "meeting:read:something_new:admin"));
        // Connect's own notes are always replaced.
        let c = check(DOCUMENTED_FIVE, &settings(false));
        assert!(note_is_settled(&c.optional[0].note(now), ""));
    }
}
