//! The four scheduled integration tasks: their names (as schedules, messages, stored run
//! records and a connection's settings spell them) and their share of the Zoom budget.

use serde::{Deserialize, Serialize};

/// The four scheduled integration tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    ApplicationRoster,
    ApplicationAccess,
    LicenseInformation,
    LicenseDifferentiation,
}

impl Task {
    pub const ALL: [Task; 4] = [
        Self::ApplicationRoster,
        Self::ApplicationAccess,
        Self::LicenseInformation,
        Self::LicenseDifferentiation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApplicationRoster => "application-roster",
            Self::ApplicationAccess => "application-access",
            Self::LicenseInformation => "license-information",
            Self::LicenseDifferentiation => "license-differentiation",
        }
    }

    /// The task's weight in the connection's Zoom budget (every category). A running task
    /// paces at its weight's part of the running tasks' weights (`budget::share_of`); the
    /// weights add up to 1.0, so they are also safe fixed shares when all run at once (each
    /// runs one unit per connection at a time: FIFO message group = connection id). License
    /// Differentiation makes no Zoom calls.
    pub fn budget_weight(self) -> f64 {
        match self {
            Self::ApplicationRoster => 0.15,
            Self::ApplicationAccess => 0.75,
            Self::LicenseInformation => 0.10,
            Self::LicenseDifferentiation => 0.0,
        }
    }

    /// Whether the task calls Zoom.
    pub fn uses_zoom(self) -> bool {
        self != Self::LicenseDifferentiation
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown task {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_round_trip_and_shares_fit_the_budget() {
        for t in Task::ALL {
            assert_eq!(t.as_str().parse::<Task>().unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        let total: f64 = Task::ALL.iter().map(|t| t.budget_weight()).sum();
        assert!(total <= 1.0 + 1e-9, "{total}");
        assert!("weekly".parse::<Task>().is_err());
    }
}
