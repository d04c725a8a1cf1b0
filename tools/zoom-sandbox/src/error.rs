//! Zoom's REST error bodies: `{"code": …, "message": …}` (plus `errors[]` on validation failures),
//! always with an `x-zm-trackingid` header.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: i64,
    pub message: String,
    pub errors: Vec<FieldError>,
    pub headers: HeaderMap,
}

#[derive(Serialize)]
struct Body<'a> {
    code: i64,
    message: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl ApiError {
    pub fn new(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
            headers: HeaderMap::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    /// Add a validation detail (`errors[]`), as Zoom does with code 300.
    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
        self
    }

    /// 401 code 124: missing, malformed, expired or revoked access token.
    pub fn invalid_token() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 124, "Invalid access token.")
    }

    /// 400 code 4711: the token lacks the scope(s) the endpoint needs.
    pub fn missing_scopes(scopes: &[&str]) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            4711,
            format!(
                "Invalid access token, does not contain scopes:[{}].",
                scopes.join(", ")
            ),
        )
    }

    /// 400 code 300: invalid parameter (also used for expired page tokens).
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 300, message)
    }

    pub fn user_not_found(user_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            1001,
            format!("User does not exist: {user_id}."),
        )
    }

    pub fn account_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            2001,
            "Account does not exist or does not belong to this master account.",
        )
    }

    pub fn meeting_not_found(meeting: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            3001,
            format!("Meeting does not exist: {meeting}."),
        )
    }
}

/// A tracking id as Zoom sends in `x-zm-trackingid`.
pub fn tracking_id() -> String {
    use rand::RngExt;
    let n: u128 = rand::rng().random();
    format!("v=2.0;clid=us06;rid=WEB_{n:032x}")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            code: self.code,
            message: &self.message,
            errors: &self.errors,
        })
        .unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
        headers.extend(self.headers);
        response
    }
}
