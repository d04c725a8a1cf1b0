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

/// The license name of a paid seat as the customer knows the plan. Zoom documents four paid
/// plans by name (API Partner, Bulk License, Business, Education); an `account_type` that is
/// one of them however Zoom spells it (`business`, `API_PARTNER`, `Bulk-License`, `EDU`)
/// gets the documented name. Any other plan (Pro, Enterprise, Zoom Rooms, a plan Zoom adds
/// later) is shown as Zoom names it, trimmed. Without an `account_type`, the billing plan
/// code (`plan_base.type`, e.g. `business_yearly`) decides among the documented plans;
/// otherwise the license is called "Licensed".
pub fn plan_license_name(account_type: Option<&str>, plan_code: Option<&str>) -> String {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let documented = |key: &str| -> Option<&'static str> {
        match key {
            "apipartner" => Some("API Partner"),
            "bulklicense" | "bulk" => Some("Bulk License"),
            "business" => Some("Business"),
            "education" | "edu" => Some("Education"),
            _ => None,
        }
    };
    if let Some(t) = account_type.map(str::trim).filter(|t| !t.is_empty()) {
        return documented(&squash(t))
            .map(str::to_owned)
            .unwrap_or_else(|| t.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    let from_code = plan_code.and_then(|code| {
        let code = code.trim().to_ascii_lowercase();
        [
            "api_partner",
            "apipartner",
            "bulk_license",
            "bulk",
            "business",
            "education",
            "edu",
        ]
        .into_iter()
        .find(|p| code.starts_with(p))
        .and_then(|p| documented(&squash(p)))
    });
    from_code.unwrap_or("Licensed").to_owned()
}

/// Why a Provisioned figure cannot be entered by hand for a license.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManualLicenseError {
    #[error("On-Prem users are tracked only with Include On Premises = Yes: set it first")]
    OnPremNotIncluded,
    #[error(
        "the seats of the paid plan {plan:?} are the account's seats; a number or Unlimited can \
         be entered for Licensed users only with Include On Premises = Yes"
    )]
    PaidSeatsFromZoom { plan: String },
}

impl LicenseKind {
    /// Whether an admin may enter this license's Provisioned figure (a number or Unlimited)
    /// while License Information is off, by the documented rule: Basic, Free and Free Trial
    /// licenses always; Licensed and On-Prem ones only with Include On Premises = Yes. A
    /// Licensed seat of an account on the Free or Free Trial plan is a Free / Free Trial
    /// license.
    pub fn check_manual_provisioned(
        self,
        plan: &str,
        settings: &ConnectionSettings,
    ) -> Result<(), ManualLicenseError> {
        let on_prem = settings.include_on_premises.is_yes();
        let free_plan = matches!(
            plan.trim().to_ascii_lowercase().as_str(),
            "free" | "free trial" | "basic"
        );
        match self {
            Self::OnPrem if !on_prem => Err(ManualLicenseError::OnPremNotIncluded),
            Self::Licensed if !on_prem && !free_plan => {
                Err(ManualLicenseError::PaidSeatsFromZoom {
                    plan: plan.to_owned(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The kind of a license id made by [`Self::unique_id`] for `account_id`.
    pub fn from_unique_id(account_id: &str, license_id: &str) -> Option<Self> {
        [
            Self::Basic,
            Self::Licensed,
            Self::OnPrem,
            Self::NoMeetingsBasic,
            Self::Other,
        ]
        .into_iter()
        .find(|k| k.unique_id(account_id) == license_id)
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
    #[test]
    fn documented_plans_get_their_documented_names() {
        for (zoom, shown) in [
            ("Business", "Business"),
            (" business ", "Business"),
            ("API_PARTNER", "API Partner"),
            ("Bulk-License", "Bulk License"),
            ("EDU", "Education"),
            ("Pro", "Pro"),
            ("Zoom  Rooms", "Zoom Rooms"),
        ] {
            assert_eq!(plan_license_name(Some(zoom), None), shown, "{zoom}");
        }
        assert_eq!(plan_license_name(None, Some("edu_yearly")), "Education");
        assert_eq!(
            plan_license_name(Some(""), Some("bulk_license_yearly")),
            "Bulk License"
        );
        assert_eq!(plan_license_name(None, Some("pro_monthly")), "Licensed");
        assert_eq!(plan_license_name(None, None), "Licensed");
    }

    #[test]
    fn manual_provisioned_follows_the_documented_rule() {
        let plain = settings(YesNo::Yes, YesNo::No);
        let on_prem = settings(YesNo::Yes, YesNo::Yes);
        for kind in [
            LicenseKind::Basic,
            LicenseKind::NoMeetingsBasic,
            LicenseKind::Other,
        ] {
            assert_eq!(kind.check_manual_provisioned("Business", &plain), Ok(()));
        }
        assert_eq!(
            LicenseKind::Licensed.check_manual_provisioned("Free Trial", &plain),
            Ok(())
        );
        assert_eq!(
            LicenseKind::Licensed.check_manual_provisioned("Free", &plain),
            Ok(())
        );
        assert!(matches!(
            LicenseKind::Licensed.check_manual_provisioned("Business", &plain),
            Err(ManualLicenseError::PaidSeatsFromZoom { .. })
        ));
        assert_eq!(
            LicenseKind::OnPrem.check_manual_provisioned("Business", &plain),
            Err(ManualLicenseError::OnPremNotIncluded)
        );
        for kind in [
            LicenseKind::Basic,
            LicenseKind::Licensed,
            LicenseKind::OnPrem,
        ] {
            assert_eq!(kind.check_manual_provisioned("Business", &on_prem), Ok(()));
        }
        assert_eq!(
            LicenseKind::from_unique_id("a1", "a1:no_meetings_basic"),
            Some(LicenseKind::NoMeetingsBasic)
        );
        assert_eq!(LicenseKind::from_unique_id("a1", "a2:basic"), None);
    }
}
