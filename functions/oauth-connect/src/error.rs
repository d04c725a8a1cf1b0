//! Errors of the function's use cases, and what each one tells the caller.
//!
//! Every expected failure becomes a 4xx answer that says what happened and what to do;
//! internal failures (storage, configuration, Zoom unreachable) become a generic 5xx answer
//! with the request id, their detail going to the log only. No message carries a token, code,
//! verifier or secret: the variants hold none.

use http::StatusCode;
use ports::StoreError;
use zoom::TokenError;

use crate::gateway::VerifyError;
use crate::scopes::MissingScope;

/// What the caller is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: StatusCode,
    /// Stable machine-readable code (the JSON `error` field).
    pub code: &'static str,
    pub title: &'static str,
    pub message: String,
}

impl Failure {
    pub fn is_internal(&self) -> bool {
        self.status.is_server_error()
    }
}

const START_AGAIN: &str = "Nothing was connected. Start again from the connect link.";
const NEW_LINK: &str = "Ask the deployment's administrator for a new connect link and open it \
                        in your browser.";

/// `/connect` and `/oauth/callback`.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("/connect was opened without an admin-minted link")]
    NoInvite,
    #[error("the connect link is unknown, expired or already used")]
    InvalidInvite,
    #[error("/connect takes only the invite parameter, not {0:?}")]
    UnexpectedParameter(String),
    #[error("the callback did not come from the browser that opened the connect link")]
    OtherBrowser,
    #[error("the Zoom account {zoom_account_id} may not be connected to this deployment")]
    AccountNotAllowed { zoom_account_id: String },
    #[error("the authorization was declined at Zoom (access_denied)")]
    AccessDenied,
    #[error("Zoom returned the authorization error {0:?}")]
    AuthorizationError(String),
    #[error("the callback has no state")]
    MissingState,
    #[error("the state is unknown, expired or already used")]
    InvalidState,
    #[error("the callback has no code")]
    MissingCode,
    #[error("Zoom refused the code exchange: {0}")]
    ExchangeRefused(TokenError),
    #[error("the granted scopes lack {}", list_missing(.0))]
    MissingScopes(Vec<MissingScope>),
    /// Zoom refused an API call for lack of a scope our table did not foresee (Zoom's
    /// message names the scope).
    #[error("Zoom refused a call for lack of a scope: {0}")]
    ScopeRefused(String),
    #[error("the account has no Master Account feature: {0}")]
    NotMasterAccount(String),
    #[error("Zoom is unavailable: {0}")]
    ZoomUnavailable(String),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

fn list_missing(missing: &[MissingScope]) -> String {
    missing
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Each missing scope with what the connector needs it for.
fn list_missing_with_purpose(missing: &[MissingScope]) -> String {
    missing
        .iter()
        .map(|m| format!("{m}, to {}", m.fields()))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<VerifyError> for ConnectError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::NotMasterAccount { message, .. } => Self::NotMasterAccount(message),
            VerifyError::ScopeRefused(message) => Self::ScopeRefused(message),
            VerifyError::Zoom(e) => Self::ZoomUnavailable(e.to_string()),
            e @ (VerifyError::NoAccountId | VerifyError::Config(_)) => {
                Self::Internal(e.to_string())
            }
        }
    }
}

impl ConnectError {
    pub fn failure(&self) -> Failure {
        let (status, code, title, message) = match self {
            Self::NoInvite => (
                StatusCode::FORBIDDEN,
                "connect_link_required",
                "A connect link is needed",
                format!(
                    "Zoom accounts are connected through a one-time link that an administrator \
                     of this deployment creates (the connect-link function; see the README's \
                     Deploy section). {NEW_LINK}"
                ),
            ),
            Self::InvalidInvite => (
                StatusCode::FORBIDDEN,
                "invalid_connect_link",
                "Connect link expired or already used",
                format!(
                    "This connect link is unknown, has expired or was already opened once (a \
                     link preview in a chat tool also uses it up). {NEW_LINK}"
                ),
            ),
            Self::UnexpectedParameter(name) => (
                StatusCode::BAD_REQUEST,
                "unexpected_parameter",
                "Unexpected link parameter",
                format!(
                    "The connect link carries a parameter it should not have ({name:?}): the \
                     connection's settings are chosen when the link is created, not in the \
                     link. Nothing was started. Open the link exactly as it was created."
                ),
            ),
            Self::OtherBrowser => (
                StatusCode::FORBIDDEN,
                "other_browser",
                "Finish in the browser you started in",
                format!(
                    "This authorization was started in another browser, or this browser \
                     blocked the connection's cookie, so it cannot be finished here. Nothing \
                     was connected. {NEW_LINK}"
                ),
            ),
            Self::AccountNotAllowed { zoom_account_id } => (
                StatusCode::FORBIDDEN,
                "account_not_allowed",
                "This Zoom account may not be connected",
                format!(
                    "The Zoom account {zoom_account_id} is not the one this connect link was \
                     created for, or is not on this deployment's list of allowed accounts. \
                     Nothing was connected and the authorization was revoked. Sign in to Zoom \
                     as an owner or admin of the intended master account, or ask the \
                     deployment's administrator."
                ),
            ),
            Self::AccessDenied => (
                StatusCode::FORBIDDEN,
                "access_denied",
                "Authorization declined",
                "Zoom reports that the app was not authorized, so nothing was connected. To \
                 connect the account, start again from the connect link and choose Allow on \
                 Zoom's page, signed in as an owner or admin of the Zoom master account."
                    .to_string(),
            ),
            Self::AuthorizationError(error) => (
                StatusCode::BAD_REQUEST,
                "authorization_failed",
                "Zoom could not authorize the app",
                format!(
                    "Zoom answered with the error \"{}\". {START_AGAIN} If it happens again, \
                     check the Zoom app's redirect URL and scopes in the Zoom App Marketplace.",
                    truncate(error, 240)
                ),
            ),
            Self::MissingState => (
                StatusCode::BAD_REQUEST,
                "missing_state",
                "Unexpected request",
                format!(
                    "This request has no state parameter, so it does not belong to a \
                     connection attempt. {START_AGAIN}"
                ),
            ),
            Self::InvalidState => (
                StatusCode::BAD_REQUEST,
                "invalid_state",
                "Link expired or already used",
                format!(
                    "This authorization response is unknown, has expired (connect links are \
                     valid for 10 minutes) or was already used. {START_AGAIN}"
                ),
            ),
            Self::MissingCode => (
                StatusCode::BAD_REQUEST,
                "missing_code",
                "No authorization code",
                format!("Zoom's response has no authorization code. {START_AGAIN}"),
            ),
            Self::ExchangeRefused(_) => (
                StatusCode::BAD_REQUEST,
                "exchange_failed",
                "Zoom did not accept the authorization",
                format!(
                    "Zoom refused the authorization code: it may have expired (codes are valid \
                     for 5 minutes) or already been used. {START_AGAIN}"
                ),
            ),
            Self::MissingScopes(missing) => (
                StatusCode::FORBIDDEN,
                "missing_scopes",
                "The Zoom app lacks required scopes",
                format!(
                    "The app was authorized without scopes the connector cannot work without: \
                     {}. Nothing was connected and the authorization was revoked. Add these \
                     scopes to the app in the Zoom App Marketplace (your app > Scopes), then \
                     connect again.",
                    list_missing_with_purpose(missing)
                ),
            ),
            Self::ScopeRefused(zoom_message) => (
                StatusCode::FORBIDDEN,
                "missing_scopes",
                "The Zoom app lacks required scopes",
                format!(
                    "Zoom refused a request for lack of a scope (Zoom says: \"{}\"). Nothing \
                     was connected and the authorization was revoked. Add the scope to the app \
                     in the Zoom App Marketplace (your app > Scopes), then connect again.",
                    truncate(zoom_message, 240)
                ),
            ),
            Self::NotMasterAccount(_) => (
                StatusCode::FORBIDDEN,
                "not_master_account",
                "Not a Zoom master account",
                "The Zoom account that authorized the app does not have the Master Account \
                 feature: Zoom refused to list its sub accounts. Nothing was connected and the \
                 authorization was revoked. Connect with an owner or admin of the master \
                 account. Where the feature is enabled, the Zoom web portal shows it under \
                 Account Management > Sub Accounts; if it is missing, ask Zoom to enable it."
                    .to_string(),
            ),
            Self::ZoomUnavailable(_) => (
                StatusCode::BAD_GATEWAY,
                "zoom_unavailable",
                "Zoom could not be reached",
                "Zoom did not answer as expected, so nothing was connected. Please try again \
                 in a few minutes."
                    .to_string(),
            ),
            Self::Store(_) | Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Something went wrong",
                "Something went wrong on our side and nothing was connected. Please try again \
                 later."
                    .to_string(),
            ),
        };
        Failure {
            status,
            code,
            title,
            message,
        }
    }
}

/// `POST /zoom/events`.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("missing x-zm-signature header")]
    MissingSignature,
    #[error("missing or invalid x-zm-request-timestamp header")]
    BadTimestamp,
    #[error("request timestamp is {age_secs} s away from now (at most 300 s allowed)")]
    StaleTimestamp { age_secs: i64 },
    #[error("signature does not match")]
    BadSignature,
    #[error("event body is not valid JSON: {0}")]
    Malformed(String),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

impl WebhookError {
    pub fn failure(&self) -> Failure {
        match self {
            Self::MissingSignature
            | Self::BadTimestamp
            | Self::StaleTimestamp { .. }
            | Self::BadSignature => Failure {
                status: StatusCode::UNAUTHORIZED,
                code: "unauthorized",
                title: "Unauthorized",
                message: format!("Event refused: {self}."),
            },
            Self::Malformed(_) => Failure {
                status: StatusCode::BAD_REQUEST,
                code: "bad_request",
                title: "Bad request",
                message: "The event body is not a valid Zoom event.".into(),
            },
            Self::Store(_) => Failure {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "internal_error",
                title: "Something went wrong",
                message: "The event could not be processed; Zoom will retry it.".into(),
            },
        }
    }
}

/// Requests no route answers.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("no such route")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
}

impl RouteError {
    pub fn failure(&self) -> Failure {
        match self {
            Self::NotFound => Failure {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                title: "Not found",
                message: "There is nothing here. To connect a Zoom master account, open the \
                          connect link an administrator created for you."
                    .into(),
            },
            Self::MethodNotAllowed => Failure {
                status: StatusCode::METHOD_NOT_ALLOWED,
                code: "method_not_allowed",
                title: "Method not allowed",
                message: "This address does not accept that HTTP method.".into(),
            },
        }
    }
}

/// At most `max` characters of `text`.
pub fn truncate(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connect_failure_has_a_distinct_code_and_4xx_unless_internal() {
        let cases = [
            ConnectError::NoInvite,
            ConnectError::InvalidInvite,
            ConnectError::UnexpectedParameter("inactivity_threshold".into()),
            ConnectError::OtherBrowser,
            ConnectError::AccountNotAllowed {
                zoom_account_id: "abc".into(),
            },
            ConnectError::AccessDenied,
            ConnectError::AuthorizationError("invalid_scope".into()),
            ConnectError::MissingState,
            ConnectError::InvalidState,
            ConnectError::MissingCode,
            ConnectError::ExchangeRefused(TokenError::InvalidGrant { reason: "x".into() }),
            ConnectError::MissingScopes(vec![]),
            ConnectError::NotMasterAccount("No permission.".into()),
        ];
        let mut codes = std::collections::HashSet::new();
        for case in &cases {
            let f = case.failure();
            assert!(f.status.is_client_error(), "{case:?}");
            assert!(codes.insert(f.code), "duplicate code {}", f.code);
            assert!(f.message.len() > 40);
        }
        for internal in [
            ConnectError::Internal("boom".into()),
            ConnectError::ZoomUnavailable("HTTP 503".into()),
        ] {
            let f = internal.failure();
            assert!(f.is_internal());
            assert!(!f.message.contains("boom") && !f.message.contains("503"));
        }
    }

    #[test]
    fn truncate_caps_long_input() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }
}
