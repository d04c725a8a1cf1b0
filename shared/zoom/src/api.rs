//! Typed endpoints. `client.me()` addresses the caller's own account (un-prefixed paths);
//! `client.account(id)` addresses a sub account through the master-account prefix
//! `/accounts/{accountId}/…` (`account("me")` is the own form).

use chrono::NaiveDate;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;

use crate::client::{ApiRequest, Endpoint, Method, ZoomClient};
use crate::error::ZoomError;
use crate::models::{
    Account, Meeting, MeetingListType, Participant, Plans, ReportMeeting, ReportUser,
    ReportUserType, StatusAction, SubAccount, User, UserStatus, UserSummary, UserType,
};
use crate::paginate::Paged;
use crate::ratelimit::Category;

/// Characters left unencoded in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encode one path segment.
pub fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Encode a meeting UUID as Zoom requires: always percent-encoded, and encoded twice when it
/// starts with `/` or contains `//` (`/ab//c==` → `%252Fab%252F%252Fc%253D%253D`).
pub fn encode_meeting_uuid(uuid: &str) -> String {
    let once = encode_segment(uuid);
    if uuid.starts_with('/') || uuid.contains("//") {
        encode_segment(&once)
    } else {
        once
    }
}

const fn ep(method: Method, template: &'static str, category: Category) -> Endpoint {
    Endpoint {
        method,
        template,
        category,
    }
}

use Category::{Heavy, Light, Medium};
use Method::{Get, Patch, Put};

/// (own form, master form) of each endpoint.
mod endpoints {
    use super::*;
    pub(super) const SUB_ACCOUNTS: Endpoint = ep(Get, "GET /accounts", Medium);
    pub(super) const ACCOUNT: Endpoint = ep(Get, "GET /accounts/{accountId}", Light);
    pub(super) const PLANS: Endpoint = ep(Get, "GET /accounts/{accountId}/plans", Medium);
    pub(super) const PLAN_USAGE: Endpoint = ep(Get, "GET /accounts/{accountId}/plans/usage", Heavy);
    pub(super) const USER_SUMMARY: (Endpoint, Endpoint) = (
        ep(Get, "GET /users/summary", Medium),
        ep(Get, "GET /accounts/{accountId}/users/summary", Medium),
    );
    pub(super) const USERS: (Endpoint, Endpoint) = (
        ep(Get, "GET /users", Medium),
        ep(Get, "GET /accounts/{accountId}/users", Medium),
    );
    pub(super) const USER: (Endpoint, Endpoint) = (
        ep(Get, "GET /users/{userId}", Light),
        ep(Get, "GET /accounts/{accountId}/users/{userId}", Light),
    );
    pub(super) const USER_STATUS: (Endpoint, Endpoint) = (
        ep(Put, "PUT /users/{userId}/status", Light),
        ep(
            Put,
            "PUT /accounts/{accountId}/users/{userId}/status",
            Light,
        ),
    );
    pub(super) const USER_PATCH: (Endpoint, Endpoint) = (
        ep(Patch, "PATCH /users/{userId}", Light),
        ep(Patch, "PATCH /accounts/{accountId}/users/{userId}", Light),
    );
    pub(super) const USER_MEETINGS: (Endpoint, Endpoint) = (
        ep(Get, "GET /users/{userId}/meetings", Medium),
        ep(
            Get,
            "GET /accounts/{accountId}/users/{userId}/meetings",
            Medium,
        ),
    );
    pub(super) const REPORT_USERS: (Endpoint, Endpoint) = (
        ep(Get, "GET /report/users", Heavy),
        ep(Get, "GET /accounts/{accountId}/report/users", Heavy),
    );
    pub(super) const REPORT_USER_MEETINGS: (Endpoint, Endpoint) = (
        ep(Get, "GET /report/users/{userId}/meetings", Heavy),
        ep(
            Get,
            "GET /accounts/{accountId}/report/users/{userId}/meetings",
            Heavy,
        ),
    );
    pub(super) const REPORT_PARTICIPANTS: (Endpoint, Endpoint) = (
        ep(Get, "GET /report/meetings/{meetingId}/participants", Heavy),
        ep(
            Get,
            "GET /accounts/{accountId}/report/meetings/{meetingId}/participants",
            Heavy,
        ),
    );
    pub(super) const PAST_PARTICIPANTS: Endpoint =
        ep(Get, "GET /past_meetings/{meetingUUID}/participants", Medium);
    pub(super) const MEETING: Endpoint = ep(Get, "GET /meetings/{meetingId}", Light);
    pub(super) const PAST_INSTANCES: Endpoint =
        ep(Get, "GET /past_meetings/{meetingId}/instances", Medium);
}

fn get(endpoint: Endpoint, path: String) -> ApiRequest {
    ApiRequest {
        endpoint,
        path,
        query: Vec::new(),
        body: None,
    }
}

/// A meeting id as a path segment: numeric ids as they are, UUIDs encoded as Zoom requires.
fn meeting_segment(meeting: &str) -> String {
    if !meeting.is_empty() && meeting.bytes().all(|b| b.is_ascii_digit()) {
        meeting.to_string()
    } else {
        encode_meeting_uuid(meeting)
    }
}

impl ZoomClient {
    /// The caller's own account (un-prefixed paths, `me`).
    pub fn me(&self) -> AccountApi {
        AccountApi {
            client: self.clone(),
            account: None,
        }
    }

    /// A sub account through the master-account prefix (`/accounts/{accountId}/…`). `"me"` gives
    /// the own form.
    pub fn account(&self, account_id: impl Into<String>) -> AccountApi {
        let id = account_id.into();
        AccountApi {
            client: self.clone(),
            account: (id != "me").then_some(id),
        }
    }

    /// `GET /accounts`: the master's sub accounts.
    pub fn sub_accounts(&self) -> Paged<SubAccount> {
        Paged::new(
            self.clone(),
            get(endpoints::SUB_ACCOUNTS, "/accounts".into()),
            |a: &SubAccount| a.id.clone(),
        )
    }

    /// `GET /past_meetings/{meetingUUID}/participants` (one row per join segment). There is no
    /// master-prefixed variant of this endpoint.
    pub fn past_meeting_participants(&self, meeting_uuid: &str) -> Paged<Participant> {
        Paged::new(
            self.clone(),
            get(
                endpoints::PAST_PARTICIPANTS,
                format!(
                    "/past_meetings/{}/participants",
                    meeting_segment(meeting_uuid)
                ),
            ),
            Participant::key,
        )
    }

    /// `GET /past_meetings/{meetingId}/instances` (Medium): the ended instances of a meeting,
    /// each with its own UUID and start time (every occurrence of a recurring meeting). Like
    /// past participants, documented without a master-prefixed path.
    pub fn past_meeting_instances(&self, meeting_id: i64) -> Paged<Meeting> {
        Paged::new(
            self.clone(),
            get(
                endpoints::PAST_INSTANCES,
                format!("/past_meetings/{meeting_id}/instances"),
            ),
            |m: &Meeting| m.uuid.clone(),
        )
    }

    /// `GET /meetings/{meetingId}` (raw JSON: the connector only needs a few fields).
    pub async fn meeting(&self, meeting_id: &str) -> Result<serde_json::Value, ZoomError> {
        self.json(get(
            endpoints::MEETING,
            format!("/meetings/{}", meeting_segment(meeting_id)),
        ))
        .await
    }
}

/// Endpoints of one account: the caller's own (`me`) or a sub account (master prefix).
#[derive(Clone, Debug)]
pub struct AccountApi {
    client: ZoomClient,
    /// `None`: the own account.
    account: Option<String>,
}

impl AccountApi {
    /// The account id, or `me`.
    pub fn account_id(&self) -> &str {
        self.account.as_deref().unwrap_or("me")
    }

    fn pick(&self, (own, master): (crate::client::Endpoint, crate::client::Endpoint)) -> Endpoint {
        if self.account.is_some() { master } else { own }
    }

    /// `""` for the own account, `/accounts/{id}` for a sub account.
    fn prefix(&self) -> String {
        match &self.account {
            Some(id) => format!("/accounts/{}", encode_segment(id)),
            None => String::new(),
        }
    }

    fn account_path(&self) -> String {
        format!("/accounts/{}", encode_segment(self.account_id()))
    }

    fn user_path(&self, user_id: &str) -> String {
        format!("{}/users/{}", self.prefix(), encode_segment(user_id))
    }

    /// `GET /accounts/{accountId}` (Light).
    pub async fn get(&self) -> Result<Account, ZoomError> {
        self.client
            .json(get(endpoints::ACCOUNT, self.account_path()))
            .await
    }

    /// `GET /accounts/{accountId}/plans` (Medium). Only for masters paying their sub accounts
    /// (code 2100 otherwise).
    pub async fn plans(&self) -> Result<Plans, ZoomError> {
        self.client
            .json(get(
                endpoints::PLANS,
                format!("{}/plans", self.account_path()),
            ))
            .await
    }

    /// `GET /accounts/{accountId}/plans/usage` (Heavy).
    pub async fn plan_usage(&self) -> Result<Plans, ZoomError> {
        self.client
            .json(get(
                endpoints::PLAN_USAGE,
                format!("{}/plans/usage", self.account_path()),
            ))
            .await
    }

    /// `GET /users/summary` (Medium).
    pub async fn user_summary(&self) -> Result<UserSummary, ZoomError> {
        self.client
            .json(get(
                self.pick(endpoints::USER_SUMMARY),
                format!("{}/users/summary", self.prefix()),
            ))
            .await
    }

    /// `GET /users?status=…` (Medium): one status per listing.
    pub fn users(&self, status: UserStatus) -> Paged<User> {
        Paged::new(
            self.client.clone(),
            get(
                self.pick(endpoints::USERS),
                format!("{}/users", self.prefix()),
            ),
            User::key,
        )
        .query("status", status.as_str().to_string())
    }

    /// `GET /users/{userId}` (Light); `me` is accepted as the user id.
    pub async fn user(&self, user_id: &str) -> Result<User, ZoomError> {
        self.client
            .json(get(self.pick(endpoints::USER), self.user_path(user_id)))
            .await
    }

    /// `PUT /users/{userId}/status` (Light). Returns Zoom's tracking id of the change.
    pub async fn update_user_status(
        &self,
        user_id: &str,
        action: StatusAction,
    ) -> Result<Option<String>, ZoomError> {
        self.client
            .execute(ApiRequest {
                endpoint: self.pick(endpoints::USER_STATUS),
                path: format!("{}/status", self.user_path(user_id)),
                query: Vec::new(),
                body: Some(json!({ "action": action })),
            })
            .await
            .map(|answer| answer.tracking_id)
    }

    /// `PATCH /users/{userId}` with `{"type": …}` (Light), e.g. downgrade to Basic. Returns
    /// Zoom's tracking id of the change.
    pub async fn update_user_type(
        &self,
        user_id: &str,
        user_type: UserType,
    ) -> Result<Option<String>, ZoomError> {
        self.client
            .execute(ApiRequest {
                endpoint: self.pick(endpoints::USER_PATCH),
                path: self.user_path(user_id),
                query: Vec::new(),
                body: Some(json!({ "type": user_type.code() })),
            })
            .await
            .map(|answer| answer.tracking_id)
    }

    /// `GET /users/{userId}/meetings?type=…` (Medium).
    pub fn user_meetings(&self, user_id: &str, list_type: MeetingListType) -> Paged<Meeting> {
        Paged::new(
            self.client.clone(),
            get(
                self.pick(endpoints::USER_MEETINGS),
                format!("{}/meetings", self.user_path(user_id)),
            ),
            |m: &Meeting| format!("{}|{}", m.uuid, m.id.unwrap_or_default()),
        )
        .query("type", list_type.as_str())
    }

    /// `GET /report/users?type=…&from&to` (Heavy): hosts active or inactive in the range.
    pub fn report_users(
        &self,
        report_type: ReportUserType,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Paged<ReportUser> {
        Paged::new(
            self.client.clone(),
            get(
                self.pick(endpoints::REPORT_USERS),
                format!("{}/report/users", self.prefix()),
            ),
            |u: &ReportUser| match &u.id {
                Some(id) => format!("id:{id}"),
                None => format!("email:{}", u.email.to_ascii_lowercase()),
            },
        )
        .query("type", report_type.as_str())
        .query("from", from.format("%Y-%m-%d").to_string())
        .query("to", to.format("%Y-%m-%d").to_string())
    }

    /// `GET /report/users/{userId}/meetings?from&to` (Heavy).
    pub fn report_user_meetings(
        &self,
        user_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Paged<ReportMeeting> {
        Paged::new(
            self.client.clone(),
            get(
                self.pick(endpoints::REPORT_USER_MEETINGS),
                format!(
                    "{}/report/users/{}/meetings",
                    self.prefix(),
                    encode_segment(user_id)
                ),
            ),
            |m: &ReportMeeting| m.uuid.clone(),
        )
        .query("from", from.format("%Y-%m-%d").to_string())
        .query("to", to.format("%Y-%m-%d").to_string())
    }

    /// `GET /report/meetings/{meetingId}/participants` (Heavy): an id or a UUID.
    pub fn report_meeting_participants(&self, meeting: &str) -> Paged<Participant> {
        Paged::new(
            self.client.clone(),
            get(
                self.pick(endpoints::REPORT_PARTICIPANTS),
                format!(
                    "{}/report/meetings/{}/participants",
                    self.prefix(),
                    meeting_segment(meeting)
                ),
            ),
            Participant::key,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_encoding_follows_zoom_rules() {
        assert_eq!(
            encode_meeting_uuid("/ab//c=="),
            "%252Fab%252F%252Fc%253D%253D"
        );
        assert_eq!(encode_meeting_uuid("a//b"), "a%252F%252Fb");
        // Single encoding otherwise; `+` and `=` are still encoded.
        assert_eq!(encode_meeting_uuid("aB+c/d=="), "aB%2Bc%2Fd%3D%3D");
        assert_eq!(meeting_segment("85746065432"), "85746065432");
        assert_eq!(encode_segment("me"), "me");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
    }
}
