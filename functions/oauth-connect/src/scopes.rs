//! Which OAuth scopes the connector needs, classic or granular (REFERENCE §7).
//!
//! Zoom apps created before ~March 2024 grant classic scopes (`user:master`); newer apps only
//! offer granular ones (`user:read:list_users:master`). Each [`Requirement`] is one classic
//! scope the scheduled tasks rely on, with the granular scopes that together do the same job
//! for the connector:
//!
//! | classic | used for | granular equivalents (all needed) |
//! |---|---|---|
//! | `account:master` | sub accounts, their details, plan usage | `account:read:list_sub_accounts:master`, `account:read:sub_account:master`, `billing:read:plan_usage:master` |
//! | `user:master` | sub-account users, summary, status and type changes | `user:read:list_users:master`, `user:read:summary:master`, `user:read:user:master`, `user:update:status:master`, `user:update:user:master` |
//! | `report:master` | sub-account activity reports | `report:read:list_users:master`, `report:read:user_activities:master`, `report:read:user:master`, `report:read:list_meeting_participants:master` |
//! | `meeting:master` | sub-account users' meetings | `meeting:read:list_meetings:master` |
//! | `user:write:admin` | the master's own users (list, status, type) | `user:read:list_users:admin`, `user:read:user:admin`, `user:update:status:admin`, `user:update:user:admin` |
//!
//! A requirement is met when its classic scope is granted, or every one of its granular
//! equivalents is (an app may mix both kinds). When one is not met, the missing scopes are
//! named: the classic one and the granular ones that are absent.

/// One capability the connector needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub classic: &'static str,
    pub purpose: &'static str,
    pub granular: &'static [&'static str],
}

/// What the scheduled tasks (roster, access, license information, reclamation) need.
pub const REQUIRED: &[Requirement] = &[
    Requirement {
        classic: "account:master",
        purpose: "list the sub accounts, their details and plan usage",
        granular: &[
            "account:read:list_sub_accounts:master",
            "account:read:sub_account:master",
            "billing:read:plan_usage:master",
        ],
    },
    Requirement {
        classic: "user:master",
        purpose: "read and manage the users of the sub accounts",
        granular: &[
            "user:read:list_users:master",
            "user:read:summary:master",
            "user:read:user:master",
            "user:update:status:master",
            "user:update:user:master",
        ],
    },
    Requirement {
        classic: "report:master",
        purpose: "read the sub accounts' activity reports",
        granular: &[
            "report:read:list_users:master",
            "report:read:user_activities:master",
            "report:read:user:master",
            "report:read:list_meeting_participants:master",
        ],
    },
    Requirement {
        classic: "meeting:master",
        purpose: "list the meetings of the sub accounts' users",
        granular: &["meeting:read:list_meetings:master"],
    },
    Requirement {
        classic: "user:write:admin",
        purpose: "read and manage the master account's own users",
        granular: &[
            "user:read:list_users:admin",
            "user:read:user:admin",
            "user:update:status:admin",
            "user:update:user:admin",
        ],
    },
];

/// A requirement that the granted scopes do not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingScope {
    pub classic: &'static str,
    pub purpose: &'static str,
    /// The granular equivalents that were not granted.
    pub granular_missing: Vec<&'static str>,
}

impl std::fmt::Display for MissingScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (or, for apps with granular scopes: {})",
            self.classic,
            self.granular_missing.join(", ")
        )
    }
}

/// The requirements `granted` (Zoom's space-separated `scope`) does not meet, in table order.
pub fn missing_scopes(granted: &str) -> Vec<MissingScope> {
    let granted: std::collections::HashSet<&str> = granted.split_whitespace().collect();
    REQUIRED
        .iter()
        .filter(|r| !granted.contains(r.classic))
        .filter_map(|r| {
            let granular_missing: Vec<&'static str> = r
                .granular
                .iter()
                .copied()
                .filter(|s| !granted.contains(s))
                .collect();
            (!granular_missing.is_empty()).then_some(MissingScope {
                classic: r.classic,
                purpose: r.purpose,
                granular_missing,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_classic() -> String {
        REQUIRED
            .iter()
            .map(|r| r.classic)
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn all_granular() -> String {
        REQUIRED
            .iter()
            .flat_map(|r| r.granular.iter().copied())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn classic_or_granular_sets_are_complete() {
        assert!(missing_scopes(&all_classic()).is_empty());
        assert!(missing_scopes(&all_granular()).is_empty());
        // Mixed: classic for some, granular for the others.
        let mixed = format!(
            "account:master user:master {} {} user:write:admin",
            REQUIRED[2].granular.join(" "),
            REQUIRED[3].granular.join(" ")
        );
        assert!(missing_scopes(&mixed).is_empty());
    }

    #[test]
    fn each_missing_classic_scope_is_named() {
        for dropped in REQUIRED {
            let granted: Vec<&str> = REQUIRED
                .iter()
                .map(|r| r.classic)
                .filter(|c| *c != dropped.classic)
                .collect();
            let missing = missing_scopes(&granted.join(" "));
            assert_eq!(missing.len(), 1, "{}", dropped.classic);
            assert_eq!(missing[0].classic, dropped.classic);
            assert_eq!(missing[0].granular_missing, dropped.granular.to_vec());
        }
    }

    #[test]
    fn a_partial_granular_set_names_only_the_absent_granular_scopes() {
        let granted = all_granular().replace("user:update:status:master", "");
        let missing = missing_scopes(&granted);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].classic, "user:master");
        assert_eq!(
            missing[0].granular_missing,
            vec!["user:update:status:master"]
        );
        let text = missing[0].to_string();
        assert!(text.contains("user:master") && text.contains("user:update:status:master"));
        // Read-only classic scopes do not stand in for the write ones.
        assert_eq!(
            missing_scopes(
                "account:master user:master report:master meeting:master user:read:admin"
            )
            .iter()
            .map(|m| m.classic)
            .collect::<Vec<_>>(),
            vec!["user:write:admin"]
        );
        assert_eq!(missing_scopes("").len(), REQUIRED.len());
    }
}
