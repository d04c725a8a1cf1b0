//! A connection's options, as an admin enters them on `/connect`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{field} must be yes, no or blank, not {value:?}")]
    NotYesNo { field: &'static str, value: String },
    #[error("the inactivity threshold must be one of 15, 30, 60, 90 or 120 days, not {0:?}")]
    Threshold(String),
}

/// A yes/no option where blank means no, as the seed's form has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum YesNo {
    Yes,
    #[default]
    No,
}

impl YesNo {
    /// Parse a form value: `yes`/`true`/`1` or `no`/`false`/`0`/blank, case-insensitive.
    pub fn parse(field: &'static str, value: Option<&str>) -> Result<Self, SettingsError> {
        match value
            .map(str::trim)
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "yes" | "true" | "1" | "on" => Ok(Self::Yes),
            "no" | "false" | "0" | "off" | "" => Ok(Self::No),
            _ => Err(SettingsError::NotYesNo {
                field,
                value: value.unwrap_or_default().to_string(),
            }),
        }
    }

    pub fn is_yes(self) -> bool {
        self == Self::Yes
    }
}

/// Days without activity after which a user counts as inactive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct InactivityThreshold(u16);

impl InactivityThreshold {
    pub const ALLOWED: [u16; 5] = [15, 30, 60, 90, 120];

    pub fn days(self) -> u16 {
        self.0
    }

    /// Parse a form value; blank means the default (60 days).
    pub fn parse(value: Option<&str>) -> Result<Self, SettingsError> {
        let raw = value.map(str::trim).unwrap_or("");
        if raw.is_empty() {
            return Ok(Self::default());
        }
        raw.parse::<u16>()
            .ok()
            .and_then(|days| Self::try_from(days).ok())
            .ok_or_else(|| SettingsError::Threshold(raw.to_string()))
    }
}

impl Default for InactivityThreshold {
    fn default() -> Self {
        Self(60)
    }
}

impl TryFrom<u16> for InactivityThreshold {
    type Error = SettingsError;
    fn try_from(days: u16) -> Result<Self, Self::Error> {
        if Self::ALLOWED.contains(&days) {
            Ok(Self(days))
        } else {
            Err(SettingsError::Threshold(days.to_string()))
        }
    }
}

impl From<InactivityThreshold> for u16 {
    fn from(t: InactivityThreshold) -> u16 {
        t.0
    }
}

/// A connection's options. Stored (in the connection and OAuth-state items) as
/// `{"include_free_users": bool, "include_on_premises": bool, "inactivity_threshold_days": n}`;
/// a stored threshold that is not one of the offered values is an error, never a silent default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConnectionSettings {
    #[serde(with = "yes_no_as_bool")]
    pub include_free_users: YesNo,
    #[serde(with = "yes_no_as_bool")]
    pub include_on_premises: YesNo,
    #[serde(rename = "inactivity_threshold_days")]
    pub inactivity_threshold: InactivityThreshold,
}

impl From<bool> for YesNo {
    fn from(yes: bool) -> Self {
        if yes { Self::Yes } else { Self::No }
    }
}

/// The stored form of a [`YesNo`]: a JSON bool.
mod yes_no_as_bool {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::YesNo;

    pub(super) fn serialize<S: Serializer>(v: &YesNo, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(v.is_yes())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<YesNo, D::Error> {
        bool::deserialize(d).map(YesNo::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_settings_keep_their_form() {
        // An item as the connection and OAuth-state records have always stored it.
        let stored = serde_json::json!({
            "include_free_users": true,
            "include_on_premises": false,
            "inactivity_threshold_days": 90
        });
        let s: ConnectionSettings = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(s.include_free_users, YesNo::Yes);
        assert_eq!(s.include_on_premises, YesNo::No);
        assert_eq!(s.inactivity_threshold.days(), 90);
        assert_eq!(serde_json::to_value(s).unwrap(), stored);
        // A threshold that was never offered is refused, not reset to the default.
        let odd = serde_json::json!({
            "include_free_users": false,
            "include_on_premises": false,
            "inactivity_threshold_days": 45
        });
        let e = serde_json::from_value::<ConnectionSettings>(odd).unwrap_err();
        assert!(e.to_string().contains("45"), "{e}");
    }

    #[test]
    fn blank_and_missing_mean_no() {
        assert_eq!(YesNo::parse("f", None), Ok(YesNo::No));
        assert_eq!(YesNo::parse("f", Some("  ")), Ok(YesNo::No));
        assert_eq!(YesNo::parse("f", Some("YES")), Ok(YesNo::Yes));
        assert!(matches!(
            YesNo::parse("include_free_users", Some("maybe")),
            Err(SettingsError::NotYesNo {
                field: "include_free_users",
                ..
            })
        ));
    }

    #[test]
    fn threshold_accepts_only_the_offered_values() {
        assert_eq!(InactivityThreshold::parse(None).unwrap().days(), 60);
        for days in InactivityThreshold::ALLOWED {
            let parsed = InactivityThreshold::parse(Some(&days.to_string())).unwrap();
            assert_eq!(parsed.days(), days);
        }
        for bad in ["0", "45", "-1", "sixty", "121"] {
            assert!(InactivityThreshold::parse(Some(bad)).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<InactivityThreshold>("45").is_err());
        assert_eq!(
            serde_json::from_str::<InactivityThreshold>("90")
                .unwrap()
                .days(),
            90
        );
    }
}
