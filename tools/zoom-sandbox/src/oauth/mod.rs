//! Zoom's OAuth 2.0 endpoints (REFERENCE §5): `GET /oauth/authorize`, `POST /oauth/token`
//! (`authorization_code` with PKCE, `refresh_token` with rotation, `account_credentials`) and
//! `POST /oauth/revoke`, plus the token store the gate checks bearer tokens against.
//!
//! Behaviour worth knowing (also in the README):
//! - Tokens are opaque random strings (`zsb_at_…`, `zsb_rt_…`, codes `zsb_code_…`), never JWT-like.
//! - Scopes come from the app's configuration. A non-empty `scope` parameter on `/oauth/authorize`
//!   is rejected (redirect with `error=invalid_scope`): Zoom answers "Invalid scope" to it since
//!   2021. `scope` on `/oauth/token` is ignored.
//! - Refresh tokens rotate: each refresh returns a new one and kills the old one at once; reuse
//!   gets HTTP 400 `{"reason":"Invalid Token!","error":"invalid_grant"}`. Access tokens issued
//!   before a refresh stay valid until they expire.
//! - A new authorization of the same app by the same account revokes the earlier grants (and all
//!   their tokens). Server-to-server (`account_credentials`) tokens coexist.
//! - Codes live 5 minutes (configurable) and are single use: the first exchange attempt consumes
//!   the code whether or not it succeeds.
//! - All expiry uses the sandbox clock.

mod responses;
mod routes;
pub(crate) mod store;

pub use responses::{OAuthError, TokenResponse};
pub use routes::{identity, router};
pub use store::{AuthorizeSettings, GrantKind, Identity, OAuthStore};
