//! License names and provisioned seats, as the License Information task records them.

use serde::{Deserialize, Serialize};

use crate::ConnectionSettings;

/// What kind of license a Zoom user holds, from the user's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseKind {
    /// Type 1: free.
    Basic,
    /// Type 2: a paid seat of the account's plan.
    Licensed,
    /// Type 3: on-premises (legacy accounts only).
    OnPrem,
    /// Type 4: "Unassigned without Meetings Basic": free, without a meetings license.
    NoMeetingsBasic,
    /// Type 99 or a type Zoom added later: not a paid seat.
    Other,
}

impl LicenseKind {
    pub fn from_user_type(user_type: i64) -> Self {
        match user_type {
            1 => Self::Basic,
            2 => Self::Licensed,
            3 => Self::OnPrem,
            4 => Self::NoMeetingsBasic,
            _ => Self::Other,
        }
    }

    /// Free users are tracked only when the connection says Include Free Users = yes.
    pub fn is_free(self) -> bool {
        matches!(self, Self::Basic | Self::NoMeetingsBasic | Self::Other)
    }

    /// Whether a connection with these settings tracks users holding this license.
    pub fn is_tracked(self, settings: &ConnectionSettings) -> bool {
        match self {
            Self::Licensed => true,
            Self::OnPrem => settings.include_on_premises.is_yes(),
            _ => settings.include_free_users.is_yes(),
        }
    }

    /// The license name shown to admins; a licensed user's license is the account's plan
    /// (Business, Education, API Partner, Bulk License, …).
    pub fn license_name(self, account_plan: &str) -> String {
        match self {
            Self::Licensed => account_plan.to_string(),
            Self::Basic => "Basic".into(),
            Self::OnPrem => "On-Prem".into(),
            Self::NoMeetingsBasic => "No Meeting License".into(),
            Self::Other => "None".into(),
        }
    }

    /// Seats this license provides in an account with `seats` paid seats.
    ///
    /// Include On Premises = yes: Unlimited for every user type. Otherwise a count for
    /// Licensed only and Unlimited for the free types.
    pub fn provisioned(self, seats: u64, settings: &ConnectionSettings) -> Provisioned {
        if settings.include_on_premises.is_yes() || self != Self::Licensed {
            Provisioned::Unlimited
        } else {
            Provisioned::Count(seats)
        }
    }

    /// A stable id for one license of one account: `{account_id}:{kind}`.
    pub fn unique_id(self, account_id: &str) -> String {
        let kind = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        format!("{account_id}:{kind}")
    }
}

/// Provisioned seats: a count, or Unlimited (its own value, not a magic number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provisioned {
    Count(u64),
    Unlimited,
}

impl std::fmt::Display for Provisioned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Unlimited => f.write_str("Unlimited"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::YesNo;

    fn settings(free: YesNo, on_prem: YesNo) -> ConnectionSettings {
        ConnectionSettings {
            include_free_users: free,
            include_on_premises: on_prem,
            ..Default::default()
        }
    }

    #[test]
    fn provisioned_follows_the_include_on_premises_rule() {
        let kinds = [
            LicenseKind::Basic,
            LicenseKind::Licensed,
            LicenseKind::OnPrem,
        ];
        let with = settings(YesNo::No, YesNo::Yes);
        for kind in kinds {
            assert_eq!(
                kind.provisioned(40, &with),
                Provisioned::Unlimited,
                "{kind:?}"
            );
        }
        let without = settings(YesNo::Yes, YesNo::No);
        assert_eq!(
            LicenseKind::Licensed.provisioned(40, &without),
            Provisioned::Count(40)
        );
        assert_eq!(
            LicenseKind::Basic.provisioned(40, &without),
            Provisioned::Unlimited
        );
    }

    #[test]
    fn tracking_follows_the_include_options() {
        let none = settings(YesNo::No, YesNo::No);
        assert!(LicenseKind::Licensed.is_tracked(&none));
        assert!(!LicenseKind::Basic.is_tracked(&none));
        assert!(!LicenseKind::OnPrem.is_tracked(&none));
        let free = settings(YesNo::Yes, YesNo::No);
        assert!(LicenseKind::Basic.is_tracked(&free));
        assert!(LicenseKind::NoMeetingsBasic.is_tracked(&free));
        assert!(!LicenseKind::OnPrem.is_tracked(&free));
        assert!(LicenseKind::OnPrem.is_tracked(&settings(YesNo::No, YesNo::Yes)));
    }

    #[test]
    fn unknown_user_types_are_kept_as_free_other() {
        assert_eq!(LicenseKind::from_user_type(7), LicenseKind::Other);
        assert_eq!(LicenseKind::from_user_type(99), LicenseKind::Other);
        assert!(LicenseKind::Other.is_free());
        assert_eq!(
            LicenseKind::Licensed.license_name("Bulk License"),
            "Bulk License"
        );
        assert_eq!(LicenseKind::OnPrem.unique_id("acc1"), "acc1:on_prem");
        assert_eq!(Provisioned::Unlimited.to_string(), "Unlimited");
    }
}
