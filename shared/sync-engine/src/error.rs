//! Errors of the integration tasks, classified by what the caller should do.

use ports::StoreError;
use zoom::{TokenError, ZoomError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    #[error(transparent)]
    Zoom(#[from] ZoomError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("queue: {0}")]
    Queue(String),
    #[error("connection {0} not found")]
    UnknownConnection(String),
    #[error("connection {connection_id} is not active ({state})")]
    Inactive {
        connection_id: String,
        state: &'static str,
    },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("could not build the Zoom client: {0}")]
    Client(String),
    /// The task's scratch space (the temporary directory) failed.
    #[error("scratch space: {0}")]
    Scratch(#[from] std::io::Error),
}

impl SyncError {
    /// The grant is dead: the connection needs re-authorization.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, Self::Zoom(e) if e.is_invalid_grant())
    }

    /// The daily quota is spent: nothing helps before the reset.
    pub fn daily_reset(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            Self::Zoom(ZoomError::DailyLimit { reset_at, .. }) => Some(*reset_at),
            _ => None,
        }
    }

    /// Worth redelivering the message later (SQS retry, then the DLQ).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Zoom(e) => e.is_transient() && self.daily_reset().is_none(),
            Self::Store(e) => e.is_retryable(),
            // Another invocation (another sandbox) gets fresh scratch space.
            Self::Queue(_) | Self::Scratch(_) => true,
            _ => false,
        }
    }

    /// The `reason` field of the engine's "unit failed" log line: a short, stable category of
    /// the failure, one of [`FAILURE_REASONS`], that the stack's metric filters count by
    /// (`$.fields.reason`). The log line's `error` field holds the detail.
    pub fn failure_reason(&self) -> &'static str {
        match self {
            Self::Zoom(e) => zoom_failure_reason(e),
            Self::Store(_) => "store",
            Self::Queue(_) => "queue",
            Self::UnknownConnection(_) => "unknown_connection",
            Self::Inactive { .. } => "connection_inactive",
            Self::Invalid(_) => "invalid_request",
            Self::Client(_) => "client_config",
            Self::Scratch(_) => "scratch_space",
        }
    }
}

/// Every value [`SyncError::failure_reason`] gives.
pub const FAILURE_REASONS: [&str; 20] = [
    "deadline",
    "needs_reauthorization",
    "zoom_rate_limited",
    "zoom_daily_limit",
    "zoom_unauthorized",
    "zoom_missing_scope",
    "zoom_not_found",
    "zoom_refused",
    "zoom_unavailable",
    "zoom_bad_data",
    "token_unavailable",
    "oauth_refused",
    "store",
    "queue",
    "unknown_connection",
    "connection_inactive",
    "invalid_request",
    "client_config",
    "scratch_space",
    "other",
];

fn zoom_failure_reason(e: &ZoomError) -> &'static str {
    match e {
        // The invocation's time ran out, waiting, retrying, or before a token refresh could
        // safely start: the unit is retried or continues later.
        ZoomError::DeadlineExceeded { .. } => "deadline",
        ZoomError::Token(t) => match t {
            TokenError::NoTimeToRefresh { .. } => "deadline",
            // The grant is dead, the connection has no tokens, or rotated tokens could not be
            // stored: an admin must connect the account again.
            TokenError::InvalidGrant { .. }
            | TokenError::Missing
            | TokenError::StoreFailed { .. } => "needs_reauthorization",
            // Zoom's token endpoint, the secret or the refresh lease was unavailable.
            TokenError::Transient { .. } => "token_unavailable",
            // The token endpoint refused the app (e.g. `invalid_client`): configuration.
            TokenError::Rejected { .. } => "oauth_refused",
            _ => "other",
        },
        ZoomError::RateLimited { .. } => "zoom_rate_limited",
        ZoomError::DailyLimit { .. } => "zoom_daily_limit",
        ZoomError::Api { status: 429, .. } => "zoom_rate_limited",
        ZoomError::Api { .. } if e.is_missing_scope() => "zoom_missing_scope",
        ZoomError::Api {
            status: 401 | 403, ..
        }
        | ZoomError::Api {
            code: Some(124), ..
        } => "zoom_unauthorized",
        ZoomError::Api { status: 404, .. } => "zoom_not_found",
        ZoomError::Api { status, .. } if *status >= 500 => "zoom_unavailable",
        ZoomError::Api { .. } => "zoom_refused",
        ZoomError::Transport { .. } => "zoom_unavailable",
        ZoomError::Decode { .. }
        | ZoomError::RepeatedPageToken { .. }
        | ZoomError::TooManyRestarts { .. } => "zoom_bad_data",
        ZoomError::Invalid(_) => "invalid_request",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use zoom::{Category, TransportKind};

    use super::*;

    fn api(status: u16, code: Option<i64>) -> SyncError {
        SyncError::Zoom(ZoomError::Api {
            endpoint: "GET /users",
            status,
            code,
            message: "m".into(),
            tracking_id: None,
        })
    }

    fn token(e: TokenError) -> SyncError {
        SyncError::Zoom(ZoomError::Token(e))
    }

    fn reason(e: SyncError) -> &'static str {
        let r = e.failure_reason();
        assert!(FAILURE_REASONS.contains(&r), "{r} is listed");
        r
    }

    #[test]
    fn the_reasons_are_distinct_snake_case_words() {
        for (i, r) in FAILURE_REASONS.iter().enumerate() {
            assert!(
                !r.is_empty() && r.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{r}"
            );
            assert!(!FAILURE_REASONS[..i].contains(r), "{r} twice");
        }
    }

    #[test]
    fn deadlines_and_refreshes_refused_for_lack_of_time_are_deadlines() {
        let no_time = TokenError::NoTimeToRefresh {
            left: Duration::from_secs(10),
            needed: Duration::from_secs(30),
        };
        let wrapped = SyncError::Zoom(ZoomError::DeadlineExceeded {
            endpoint: "GET /users/{userId}",
            attempts: 0,
            last: Box::new(ZoomError::Token(TokenError::NoTimeToRefresh {
                left: Duration::from_secs(10),
                needed: Duration::from_secs(30),
            })),
        });
        // Retried, and never a dead grant (the engine marks no connection for it).
        assert!(wrapped.is_retryable() && !wrapped.is_invalid_grant());
        assert_eq!(reason(wrapped), "deadline");
        let bare = token(no_time);
        assert!(bare.is_retryable() && !bare.is_invalid_grant());
        assert_eq!(reason(bare), "deadline");
        let after_429 = SyncError::Zoom(ZoomError::DeadlineExceeded {
            endpoint: "GET /users",
            attempts: 3,
            last: Box::new(ZoomError::RateLimited {
                endpoint: "GET /users",
                category: Category::Medium,
                retry_after: None,
                tracking_id: None,
            }),
        });
        assert_eq!(reason(after_429), "deadline");
    }

    #[test]
    fn token_failures() {
        for dead in [
            TokenError::InvalidGrant { reason: "x".into() },
            TokenError::StoreFailed { reason: "x".into() },
            TokenError::Missing,
        ] {
            assert_eq!(reason(token(dead)), "needs_reauthorization");
        }
        assert_eq!(
            reason(token(TokenError::Transient { reason: "x".into() })),
            "token_unavailable"
        );
        assert_eq!(
            reason(token(TokenError::Rejected {
                error: "invalid_client".into(),
                reason: "x".into()
            })),
            "oauth_refused"
        );
    }

    #[test]
    fn zoom_answers() {
        let limited = SyncError::Zoom(ZoomError::RateLimited {
            endpoint: "GET /users",
            category: Category::Medium,
            retry_after: None,
            tracking_id: None,
        });
        assert_eq!(reason(limited), "zoom_rate_limited");
        assert_eq!(reason(api(429, Some(429))), "zoom_rate_limited");
        let daily = SyncError::Zoom(ZoomError::DailyLimit {
            endpoint: "GET /report/users/{userId}/meetings",
            category: Category::Heavy,
            reset_at: chrono::Utc::now(),
            tracking_id: None,
        });
        assert_eq!(reason(daily), "zoom_daily_limit");
        assert_eq!(reason(api(401, Some(124))), "zoom_unauthorized");
        assert_eq!(reason(api(400, Some(124))), "zoom_unauthorized");
        assert_eq!(reason(api(403, None)), "zoom_unauthorized");
        assert_eq!(reason(api(400, Some(4711))), "zoom_missing_scope");
        assert_eq!(reason(api(401, Some(4700))), "zoom_missing_scope");
        assert_eq!(reason(api(404, Some(1001))), "zoom_not_found");
        assert_eq!(reason(api(400, Some(300))), "zoom_refused");
        assert_eq!(reason(api(500, None)), "zoom_unavailable");
        assert_eq!(reason(api(503, None)), "zoom_unavailable");
        let transport = SyncError::Zoom(ZoomError::Transport {
            endpoint: "GET /users",
            kind: TransportKind::Timeout,
            message: "operation timed out".into(),
        });
        assert_eq!(reason(transport), "zoom_unavailable");
        let decode = SyncError::Zoom(ZoomError::Decode {
            endpoint: "GET /users",
            path: "users[0].type".into(),
            message: "m".into(),
        });
        assert_eq!(reason(decode), "zoom_bad_data");
        let repeated = SyncError::Zoom(ZoomError::RepeatedPageToken {
            endpoint: "GET /users",
        });
        assert_eq!(reason(repeated), "zoom_bad_data");
        let restarts = SyncError::Zoom(ZoomError::TooManyRestarts {
            endpoint: "GET /users",
            restarts: 5,
        });
        assert_eq!(reason(restarts), "zoom_bad_data");
        assert_eq!(
            reason(SyncError::Zoom(ZoomError::Invalid("x".into()))),
            "invalid_request"
        );
    }

    #[test]
    fn our_side() {
        let store = SyncError::Store(StoreError::Dynamo {
            op: "PutItem",
            message: "throttled".into(),
        });
        assert_eq!(reason(store), "store");
        assert_eq!(
            reason(SyncError::Store(StoreError::Decode("x".into()))),
            "store"
        );
        assert_eq!(reason(SyncError::Queue("x".into())), "queue");
        assert_eq!(
            reason(SyncError::UnknownConnection("c".into())),
            "unknown_connection"
        );
        assert_eq!(
            reason(SyncError::Inactive {
                connection_id: "c".into(),
                state: "deauthorized",
            }),
            "connection_inactive"
        );
        assert_eq!(reason(SyncError::Invalid("x".into())), "invalid_request");
        assert_eq!(reason(SyncError::Client("x".into())), "client_config");
    }
}
