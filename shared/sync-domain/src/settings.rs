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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConnectionSettings {
    pub include_free_users: YesNo,
    pub include_on_premises: YesNo,
    pub inactivity_threshold: InactivityThreshold,
}

#[cfg(test)]
mod tests {
    use super::*;

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
