//! Zoom REST API and OAuth client for master accounts and their sub accounts.
//!
//! - [`ZoomConfig`]: regional OAuth apps and overridable OAuth/API bases.
//! - [`OAuthClient`]: authorize URL (random state, PKCE S256), code exchange, refresh, revoke;
//!   implements [`TokenRefresher`].
//! - [`TokenSource`]: where the client gets access tokens; [`MemoryTokenSource`] keeps them in
//!   memory with single-flight refresh.
//! - [`ZoomClient`]: typed endpoints (`client.me()`, `client.account(id)`), listings as streams
//!   ([`Paged`]), pacing per (budget account, category) ([`RateLimiter`]), retries bounded by a
//!   deadline, one error type ([`ZoomError`]) and counters ([`MetricsSnapshot`]).

mod api;
mod client;
mod config;
mod error;
mod metrics;
mod models;
mod oauth;
mod paginate;
mod ratelimit;
mod secret;
mod source;
pub mod tls;
mod token;

pub use api::{AccountApi, encode_meeting_uuid, encode_segment};
pub use client::{RetryPolicy, ZoomClient, ZoomClientBuilder};
pub use config::{
    ConfigError, DEFAULT_API_BASE, DEFAULT_OAUTH_BASE, OAuthApp, Region, ZoomConfig,
    ZoomConfigBuilder,
};
pub use error::{TransportKind, ZoomError};
pub use metrics::MetricsSnapshot;
pub use models::{
    Account, Meeting, MeetingListType, Participant, PlanEntry, Plans, ReportMeeting, ReportUser,
    ReportUserType, StatusAction, SubAccount, User, UserStatus, UserSummary, UserType,
};
pub use oauth::{AuthorizeRequest, OAuthClient, OAuthHttp, OAuthHttpError, ZoomOAuthErrorBody};
pub use paginate::Paged;
pub use ratelimit::{Category, RateLimiter, RateProfile};
pub use secret::Secret;
pub use source::{MemoryTokenSource, PersistFn};
pub use token::{AccessToken, TokenError, TokenRefresher, TokenSet, TokenSource, refresh_margin};
