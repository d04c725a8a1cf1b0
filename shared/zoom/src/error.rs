//! The one error type of the API client.
//!
//! Nothing in here ever holds a token, a secret, an Authorization header or a full URL with its
//! query string: transport errors are reduced to their kind and a URL-less message.

use chrono::{DateTime, Utc};

use crate::TokenError;
use crate::ratelimit::Category;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZoomError {
    /// Zoom answered with an error status and (usually) its `{"code", "message"}` body.
    #[error("Zoom API error on {endpoint}: HTTP {status}{}: {message}{}",
        code.map(|c| format!(", code {c}")).unwrap_or_default(),
        tracking_id.as_deref().map(|t| format!(" (tracking id {t})")).unwrap_or_default())]
    Api {
        endpoint: &'static str,
        status: u16,
        code: Option<i64>,
        message: String,
        tracking_id: Option<String>,
    },
    /// The account's daily quota of this category is used up; nothing in the category will work
    /// before `reset_at`.
    #[error(
        "Zoom daily rate limit of the {category} category reached on {endpoint}; resets at {reset_at}"
    )]
    DailyLimit {
        endpoint: &'static str,
        category: Category,
        reset_at: DateTime<Utc>,
        tracking_id: Option<String>,
    },
    /// Still rate limited (HTTP 429) when the deadline or the attempt budget ran out.
    #[error("Zoom rate limit (HTTP 429) on {endpoint} persisted past the retry budget")]
    RateLimited {
        endpoint: &'static str,
        category: Category,
        retry_after: Option<DateTime<Utc>>,
        tracking_id: Option<String>,
    },
    /// No valid access token could be obtained.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Network failure, timeout or dropped connection (after retries).
    #[error("transport error on {endpoint} ({kind}): {message}")]
    Transport {
        endpoint: &'static str,
        kind: TransportKind,
        message: String,
    },
    /// The caller's deadline does not leave room for another attempt, or for the token refresh
    /// the attempt needs (`last` is then [`TokenError::NoTimeToRefresh`]).
    #[error("deadline reached on {endpoint} after {attempts} attempt(s); last error: {last}")]
    DeadlineExceeded {
        endpoint: &'static str,
        attempts: u32,
        last: Box<ZoomError>,
    },
    /// A response body did not match the expected shape; `path` names the JSON path.
    #[error("could not decode the response of {endpoint} at `{path}`: {message}")]
    Decode {
        endpoint: &'static str,
        path: String,
        message: String,
    },
    /// The API returned a `next_page_token` it had already returned in this listing.
    #[error("Zoom returned a repeated next_page_token on {endpoint}; stopping instead of looping")]
    RepeatedPageToken { endpoint: &'static str },
    /// The listing had to be restarted too often (page tokens keep expiring).
    #[error("listing {endpoint} restarted {restarts} times after expired page tokens; giving up")]
    TooManyRestarts {
        endpoint: &'static str,
        restarts: u32,
    },
    /// Invalid argument or configuration on our side.
    #[error("invalid request: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Timeout,
    Connect,
    /// The connection broke while sending or reading.
    Io,
    Other,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Io => "connection",
            Self::Other => "other",
        })
    }
}

impl ZoomError {
    /// HTTP status Zoom answered with, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::DailyLimit { .. } | Self::RateLimited { .. } => Some(429),
            Self::DeadlineExceeded { last, .. } => last.status(),
            _ => None,
        }
    }

    /// Zoom's error `code` from the body, if any.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => *code,
            Self::DailyLimit { .. } | Self::RateLimited { .. } => Some(429),
            Self::DeadlineExceeded { last, .. } => last.code(),
            _ => None,
        }
    }

    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            Self::Api { tracking_id, .. }
            | Self::DailyLimit { tracking_id, .. }
            | Self::RateLimited { tracking_id, .. } => tracking_id.as_deref(),
            Self::DeadlineExceeded { last, .. } => last.tracking_id(),
            _ => None,
        }
    }

    /// Whether the grant is dead and the connection must be authorized again.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, Self::Token(TokenError::InvalidGrant { .. }))
    }

    /// The app lacks a scope this call needs (code 4700 or 4711, HTTP 400 or 401).
    pub fn is_missing_scope(&self) -> bool {
        matches!(self.code(), Some(4700 | 4711))
    }

    /// The scopes Zoom names in a missing-scope answer (`… does not contain scopes:[a, b]`).
    pub fn missing_scope_names(&self) -> Vec<String> {
        let message = match self {
            Self::Api { message, .. } => message.as_str(),
            Self::DeadlineExceeded { last, .. } => return last.missing_scope_names(),
            _ => return Vec::new(),
        };
        message
            .split_once("scopes:[")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(list, _)| {
                list.split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Zoom's "resource does not exist" answers (HTTP 404, e.g. code 1001 or 3001).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status: 404, .. })
    }

    /// Whether trying again later (e.g. in a follow-up invocation) may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { status, .. } => *status >= 500 || *status == 429,
            Self::RateLimited { .. } | Self::Transport { .. } | Self::DeadlineExceeded { .. } => {
                true
            }
            Self::DailyLimit { .. } => true,
            Self::Token(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// The page token of a listing expired (code 300 "next page token is invalid or expired").
    pub(crate) fn is_expired_page_token(&self) -> bool {
        match self {
            Self::Api {
                code: Some(300),
                message,
                ..
            } => message.to_ascii_lowercase().contains("token"),
            _ => false,
        }
    }

    pub(crate) fn transport(endpoint: &'static str, err: &reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            TransportKind::Timeout
        } else if err.is_connect() {
            TransportKind::Connect
        } else if err.is_request() || err.is_body() || err.is_decode() {
            TransportKind::Io
        } else {
            TransportKind::Other
        };
        Self::Transport {
            endpoint,
            kind,
            message: describe_reqwest_error(err),
        }
    }
}

/// A reqwest error as text without its URL (URLs may carry query strings) and with its sources.
pub(crate) fn describe_reqwest_error(err: &reqwest::Error) -> String {
    use std::error::Error as _;
    // `without_url` needs ownership; rebuild the text from the parts we control instead.
    let mut text = String::from(if err.is_timeout() {
        "operation timed out"
    } else if err.is_connect() {
        "error connecting"
    } else if err.is_request() {
        "error sending request"
    } else if err.is_body() {
        "error reading or writing the body"
    } else if err.is_decode() {
        "error decoding the response body"
    } else if err.is_status() {
        "unexpected status"
    } else {
        "HTTP client error"
    });
    let mut source = err.source();
    let mut depth = 0;
    while let Some(s) = source {
        let part = strip_urls(&s.to_string());
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
        depth += 1;
        if depth > 6 {
            break;
        }
    }
    text
}

/// Replace anything that looks like a URL's query string with `?…`.
pub(crate) fn strip_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if (word.contains("://") || word.starts_with('/')) && word.contains('?') {
            let cut = word.find('?').unwrap_or(word.len());
            out.push_str(&word[..cut]);
            out.push_str("?…");
        } else {
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_code_status_and_tracking_id() {
        let e = ZoomError::Api {
            endpoint: "GET /users/{userId}",
            status: 404,
            code: Some(1001),
            message: "User does not exist: abc.".into(),
            tracking_id: Some("v=2.0;clid=us05;rid=1".into()),
        };
        let s = e.to_string();
        assert!(s.contains("HTTP 404"), "{s}");
        assert!(s.contains("code 1001"), "{s}");
        assert!(s.contains("rid=1"), "{s}");
        assert_eq!(e.code(), Some(1001));
        assert!(e.is_not_found());
        assert!(!e.is_transient());
    }

    #[test]
    fn strip_urls_removes_query_strings() {
        let s = strip_urls("error for url (http://h/v2/users?next_page_token=abc&x=1) here");
        assert!(!s.contains("abc"), "{s}");
        assert!(s.contains("http://h/v2/users"), "{s}");
    }

    #[test]
    fn expired_page_token_is_recognised() {
        let e = ZoomError::Api {
            endpoint: "x",
            status: 400,
            code: Some(300),
            message: "The next page token is invalid or expired.".into(),
            tracking_id: None,
        };
        assert!(e.is_expired_page_token());
        let other = ZoomError::Api {
            endpoint: "x",
            status: 404,
            code: Some(1001),
            message: "nope".into(),
            tracking_id: None,
        };
        assert!(!other.is_expired_page_token());
    }
}
