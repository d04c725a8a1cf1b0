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

/// An unsigned integer given as a number or a numeric string.
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

/// A status that may be absent, `null` or `""` (kept as `None`).
fn lenient_status<'de, D>(d: D) -> Result<Option<UserStatus>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Option::<String>::deserialize(d)?;
    Ok(v.filter(|s| !s.is_empty()).map(UserStatus::from_name))
}

/// How a field of a Zoom object is read: one rule per field type, so that every field of a type
/// tolerates the same things. Absent fields take the type's default.
trait Lenient: Sized {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

macro_rules! lenient {
    ($($ty:ty => $read:expr),* $(,)?) => {
        $(impl Lenient for $ty {
            fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $read(d)
            }
        })*
    };
}

lenient! {
    String => null_default,
    i64 => null_default,
    bool => null_default,
    Value => null_default,
    Option<String> => lenient_string,
    Option<i64> => lenient_i64,
    Option<u64> => lenient_u64,
    Option<DateTime<Utc>> => lenient_time,
    Option<UserStatus> => lenient_status,
    UserType => UserType::deserialize,
}

/// A Zoom object: each named field is read by its type's [`Lenient`] rule (and may be absent);
/// `extra` keeps every other field Zoom sent.
macro_rules! zoom_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[serde(default, deserialize_with = "Lenient::read")]
                pub $field: $ty,
            )*
            /// Every other field Zoom sent.
            #[serde(flatten)]
            pub extra: BTreeMap<String, Value>,
        }
    };
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

    fn from_name(s: String) -> Self {
        match s.as_str() {
            "active" => Self::Active,
            "inactive" => Self::Inactive,
            "pending" => Self::Pending,
            _ => Self::Other(s),
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
        String::deserialize(d).map(Self::from_name)
    }
}

zoom_object! {
    /// A user as returned by list users and get user.
    pub struct User {
        /// Absent for pending users (key them by email).
        pub id: Option<String>,
        pub email: String,
        pub first_name: String,
        pub last_name: String,
        pub display_name: String,
        #[serde(rename = "type")]
        pub user_type: UserType,
        pub status: Option<UserStatus>,
        pub role_id: Option<String>,
        /// Real creation time.
        pub user_created_at: Option<DateTime<Utc>>,
        /// Deprecated by Zoom ("creation of latest login type"); prefer `user_created_at`.
        pub created_at: Option<DateTime<Utc>>,
        /// Absent for users who never logged in.
        pub last_login_time: Option<DateTime<Utc>>,
        pub last_client_version: Option<String>,
        pub plan_united_type: Option<String>,
        pub timezone: Option<String>,
        pub dept: Option<String>,
        pub verified: Option<i64>,
        /// get user only.
        pub account_id: Option<String>,
        /// get user only.
        pub role_name: Option<String>,
        /// get user only (bit flags).
        pub zoom_one_type: Option<u64>,
    }
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

zoom_object! {
    /// A sub account from `GET /accounts`.
    pub struct SubAccount {
        pub id: String,
        pub account_name: String,
        pub owner_email: String,
        pub account_type: Option<String>,
        pub account_number: Option<i64>,
        pub seats: Option<i64>,
        pub subscription_start_time: Option<DateTime<Utc>>,
        pub subscription_end_time: Option<DateTime<Utc>>,
        pub created_at: Option<DateTime<Utc>>,
    }
}

zoom_object! {
    /// `GET /accounts/{accountId}`.
    pub struct Account {
        pub id: String,
        pub account_name: String,
        pub account_number: Option<i64>,
        pub account_type: Option<String>,
        pub owner_id: Option<String>,
        pub owner_email: Option<String>,
        pub created_at: Option<DateTime<Utc>>,
        pub seats: Option<i64>,
        pub subscription_start_time: Option<DateTime<Utc>>,
        pub subscription_end_time: Option<DateTime<Utc>>,
        pub vanity_url: Option<String>,
        pub options: Value,
    }
}

zoom_object! {
    /// One plan entry (`plan_base`, items of `plan_large_meeting[]`, …).
    pub struct PlanEntry {
        #[serde(rename = "type")]
        pub plan_type: Option<String>,
        /// Licences bought.
        pub hosts: Option<i64>,
        /// Licences assigned (plan usage only).
        pub usage: Option<i64>,
        /// Pending licences (plan usage only).
        pub pending: Option<i64>,
        pub active_hosts: Option<i64>,
        pub status: Option<String>,
        pub service_effective_date: Option<String>,
        pub next_invoice_date: Option<String>,
    }
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

zoom_object! {
    /// `GET …/users/summary`.
    pub struct UserSummary {
        pub licensed_users_count: i64,
        pub basic_users_count: i64,
        pub on_prem_users_count: i64,
        pub room_users_count: i64,
        pub pending_users_count: i64,
        pub join_only_users_count: i64,
        pub total_users_count: i64,
    }
}

zoom_object! {
    /// A scheduled meeting from list user meetings.
    pub struct Meeting {
        pub uuid: String,
        pub id: Option<i64>,
        pub host_id: Option<String>,
        pub topic: String,
        #[serde(rename = "type")]
        pub meeting_type: Option<i64>,
        pub start_time: Option<DateTime<Utc>>,
        pub duration: Option<i64>,
        pub created_at: Option<DateTime<Utc>>,
        pub timezone: Option<String>,
    }
}

zoom_object! {
    /// One join segment of a past meeting (a user who rejoins appears several times).
    pub struct Participant {
        /// The participant's user id if signed in to Zoom (empty otherwise).
        pub id: Option<String>,
        pub name: String,
        /// Per-meeting participant id.
        pub user_id: Option<String>,
        pub user_email: Option<String>,
        pub join_time: Option<DateTime<Utc>>,
        pub leave_time: Option<DateTime<Utc>>,
        pub duration: Option<i64>,
        pub internal_user: bool,
        pub status: Option<String>,
        /// Report participants only.
        pub participant_user_id: Option<String>,
    }
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

zoom_object! {
    /// A row of `GET /report/users`.
    pub struct ReportUser {
        pub id: Option<String>,
        pub email: String,
        pub user_name: String,
        #[serde(rename = "type")]
        pub user_type: Option<i64>,
        pub meetings: Option<i64>,
        pub participants: Option<i64>,
        pub meeting_minutes: Option<i64>,
        pub last_client_version_time: Option<DateTime<Utc>>,
    }
}

zoom_object! {
    /// A row of `GET /report/users/{userId}/meetings`.
    pub struct ReportMeeting {
        pub uuid: String,
        pub id: Option<i64>,
        pub topic: String,
        /// 1 instant, 2 scheduled, 3/8 recurring (an occurrence).
        #[serde(rename = "type")]
        pub meeting_type: Option<i64>,
        pub user_email: Option<String>,
        pub start_time: Option<DateTime<Utc>>,
        pub end_time: Option<DateTime<Utc>>,
        pub duration: Option<i64>,
        pub participants_count: Option<i64>,
    }
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
