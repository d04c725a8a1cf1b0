//! Response and request models. They tolerate unknown fields, `null`s and absent values, and keep
//! unknown enum values instead of failing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// Treat `null` like an absent field.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A date-time that may be absent, `null`, `""` or unparseable (kept as `None`).
fn lenient_time<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::String(s)) => parse_time(&s),
        _ => None,
    })
}

pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(t.and_utc());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    None
}

/// A string or number id as a string (Zoom is not consistent).
fn lenient_string<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// An integer given as a number or a numeric string.
fn lenient_i64<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Zoom user type. Unknown values (3 On-prem on legacy accounts, future types) are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserType {
    Basic,
    Licensed,
    OnPrem,
    /// 4: "Unassigned without Meetings Basic" (no meeting licence).
    NoMeetingsLicense,
    /// 99: None.
    None,
    Other(i64),
}

impl Default for UserType {
    fn default() -> Self {
        Self::Other(0)
    }
}

impl UserType {
    pub fn code(self) -> i64 {
        match self {
            Self::Basic => 1,
            Self::Licensed => 2,
            Self::OnPrem => 3,
            Self::NoMeetingsLicense => 4,
            Self::None => 99,
            Self::Other(n) => n,
        }
    }

    pub fn from_code(code: i64) -> Self {
        match code {
            1 => Self::Basic,
            2 => Self::Licensed,
            3 => Self::OnPrem,
            4 => Self::NoMeetingsLicense,
            99 => Self::None,
            n => Self::Other(n),
        }
    }
}

impl Serialize for UserType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for UserType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .map(Self::from_code)
                .ok_or_else(|| de::Error::custom("user type is not an integer")),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Self::from_code)
                .map_err(|_| de::Error::custom("user type is not an integer")),
            _ => Err(de::Error::custom("user type is not an integer")),
        }
    }
}

/// A user's status, also the `status` filter of list users. Unknown values are kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum UserStatus {
    #[default]
    Active,
    Inactive,
    Pending,
    Other(String),
}

impl UserStatus {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Pending => "pending",
            Self::Other(s) => s,
        }
    }
}

impl Serialize for UserStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for UserStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "active" => Self::Active,
            "inactive" => Self::Inactive,
            "pending" => Self::Pending,
            _ => Self::Other(s),
        })
    }
}

/// A user as returned by list users and get user.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Absent for pending users (key them by email).
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub email: String,
    #[serde(default, deserialize_with = "null_default")]
    pub first_name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub last_name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub display_name: String,
    #[serde(rename = "type", default = "default_user_type")]
    pub user_type: UserType,
    #[serde(default, deserialize_with = "lenient_status")]
    pub status: Option<UserStatus>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub role_id: Option<String>,
    /// Real creation time.
    #[serde(default, deserialize_with = "lenient_time")]
    pub user_created_at: Option<DateTime<Utc>>,
    /// Deprecated by Zoom ("creation of latest login type"); prefer `user_created_at`.
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    /// Absent for users who never logged in.
    #[serde(default, deserialize_with = "lenient_time")]
    pub last_login_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub last_client_version: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub plan_united_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub dept: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub verified: Option<i64>,
    /// get user only.
    #[serde(default, deserialize_with = "lenient_string")]
    pub account_id: Option<String>,
    /// get user only.
    #[serde(default, deserialize_with = "lenient_string")]
    pub role_name: Option<String>,
    /// get user only (bit flags).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub zoom_one_type: Option<u64>,
    /// Every other field Zoom sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

fn default_user_type() -> UserType {
    UserType::Other(0)
}

fn lenient_status<'de, D>(d: D) -> Result<Option<UserStatus>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Option::<String>::deserialize(d)?;
    Ok(v.filter(|s| !s.is_empty()).map(|s| match s.as_str() {
        "active" => UserStatus::Active,
        "inactive" => UserStatus::Inactive,
        "pending" => UserStatus::Pending,
        _ => UserStatus::Other(s),
    }))
}

fn lenient_u64<'de, D>(d: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

impl User {
    /// Stable key: the id, or the email for pending users (who have no id).
    pub fn key(&self) -> String {
        match &self.id {
            Some(id) => format!("id:{id}"),
            None => format!("email:{}", self.email.to_ascii_lowercase()),
        }
    }
}

/// A sub account from `GET /accounts`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SubAccount {
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub account_name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub owner_email: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub account_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub account_number: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub seats: Option<i64>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub subscription_start_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub subscription_end_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `GET /accounts/{accountId}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub account_name: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub account_number: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub account_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub owner_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub owner_email: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub seats: Option<i64>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub subscription_start_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub subscription_end_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub vanity_url: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub options: Value,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One plan entry (`plan_base`, items of `plan_large_meeting[]`, …).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanEntry {
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub plan_type: Option<String>,
    /// Licences bought.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub hosts: Option<i64>,
    /// Licences assigned (plan usage only).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub usage: Option<i64>,
    /// Pending licences (plan usage only).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub pending: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub active_hosts: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub service_effective_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub next_invoice_date: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Plan information or plan usage: every `plan_*` key kept (new keys appear often); the ones
/// the connector reads have typed accessors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Plans {
    pub plans: BTreeMap<String, Value>,
}

impl Plans {
    /// Entries under `key`, whether Zoom sent an object or an array (`plan_base` is an object
    /// in the current spec and an array in older ones). Unparseable entries are skipped.
    pub fn entries(&self, key: &str) -> Vec<PlanEntry> {
        match self.plans.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| serde_json::from_value(v.clone()).ok())
                .collect(),
            Some(v @ Value::Object(_)) => {
                serde_json::from_value(v.clone()).ok().into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// The base plan (`plan_base`).
    pub fn base(&self) -> Option<PlanEntry> {
        self.entries("plan_base").into_iter().next()
    }

    /// Every `plan_*` key present.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.plans.keys().map(String::as_str)
    }
}

/// `GET …/users/summary`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserSummary {
    #[serde(default, deserialize_with = "null_default")]
    pub licensed_users_count: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub basic_users_count: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub on_prem_users_count: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub room_users_count: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub pending_users_count: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub join_only_users_count: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_users_count: i64,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A scheduled meeting from list user meetings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meeting {
    #[serde(default, deserialize_with = "null_default")]
    pub uuid: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub host_id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub topic: String,
    #[serde(rename = "type", default, deserialize_with = "lenient_i64")]
    pub meeting_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub duration: Option<i64>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub timezone: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One join segment of a past meeting (a user who rejoins appears several times).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// The participant's user id if signed in to Zoom (empty otherwise).
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Per-meeting participant id.
    #[serde(default, deserialize_with = "lenient_string")]
    pub user_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub user_email: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub join_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub leave_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub duration: Option<i64>,
    #[serde(default, deserialize_with = "null_default")]
    pub internal_user: bool,
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// Report participants only.
    #[serde(default, deserialize_with = "lenient_string")]
    pub participant_user_id: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Participant {
    /// Key of one join segment.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.id.as_deref().unwrap_or(""),
            self.user_id.as_deref().unwrap_or(""),
            self.user_email.as_deref().unwrap_or(""),
            self.join_time.map(|t| t.to_rfc3339()).unwrap_or_default(),
            self.leave_time.map(|t| t.to_rfc3339()).unwrap_or_default(),
        )
    }
}

/// A row of `GET /report/users`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportUser {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub email: String,
    #[serde(default, deserialize_with = "null_default")]
    pub user_name: String,
    #[serde(rename = "type", default, deserialize_with = "lenient_i64")]
    pub user_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub meetings: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub participants: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub meeting_minutes: Option<i64>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub last_client_version_time: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A row of `GET /report/users/{userId}/meetings`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportMeeting {
    #[serde(default, deserialize_with = "null_default")]
    pub uuid: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "null_default")]
    pub topic: String,
    /// 1 instant, 2 scheduled, 3/8 recurring (an occurrence).
    #[serde(rename = "type", default, deserialize_with = "lenient_i64")]
    pub meeting_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub user_email: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub end_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub duration: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub participants_count: Option<i64>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `PUT …/users/{userId}/status` actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusAction {
    Activate,
    Deactivate,
}

/// Which meetings `list user meetings` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MeetingListType {
    #[default]
    Scheduled,
    Live,
    Upcoming,
    UpcomingMeetings,
    PreviousMeetings,
}

impl MeetingListType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Live => "live",
            Self::Upcoming => "upcoming",
            Self::UpcomingMeetings => "upcoming_meetings",
            Self::PreviousMeetings => "previous_meetings",
        }
    }
}

/// `active` or `inactive` hosts for `GET /report/users`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReportUserType {
    #[default]
    Active,
    Inactive,
}

impl ReportUserType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_tolerate_nulls_unknown_fields_and_pending() {
        let json = r#"{"email":"p@x.test","type":3,"status":"pending","first_name":null,
            "brand_new_field":{"a":1},"last_login_time":"","user_created_at":"2024-01-02T03:04:05Z"}"#;
        let u: User = serde_json::from_str(json).unwrap();
        assert_eq!(u.id, None);
        assert_eq!(u.user_type, UserType::OnPrem);
        assert_eq!(u.status, Some(UserStatus::Pending));
        assert_eq!(u.first_name, "");
        assert_eq!(u.last_login_time, None);
        assert!(u.user_created_at.is_some());
        assert!(u.extra.contains_key("brand_new_field"));
        assert_eq!(u.key(), "email:p@x.test");

        let u: User = serde_json::from_str(r#"{"id":"abc","email":"a@x","type":77}"#).unwrap();
        assert_eq!(u.user_type, UserType::Other(77));
        assert_eq!(serde_json::to_value(u.user_type).unwrap(), 77);
        assert_eq!(u.key(), "id:abc");
    }

    #[test]
    fn plans_keep_unknown_keys_and_accept_object_or_array_base() {
        let obj: Plans = serde_json::from_str(
            r#"{"plan_base":{"type":"monthly","hosts":10,"usage":7},"plan_future_thing":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(obj.base().unwrap().hosts, Some(10));
        assert!(obj.keys().any(|k| k == "plan_future_thing"));
        let arr: Plans =
            serde_json::from_str(r#"{"plan_base":[{"type":"monthly","hosts":"5","usage":2}]}"#)
                .unwrap();
        assert_eq!(arr.base().unwrap().hosts, Some(5));
        assert_eq!(arr.base().unwrap().usage, Some(2));
    }

    #[test]
    fn times_parse_leniently() {
        assert!(parse_time("2026-03-01T00:00:00Z").is_some());
        assert!(parse_time("2026-03-01T00:00:00").is_some());
        assert_eq!(parse_time("not a date"), None);
    }
}
