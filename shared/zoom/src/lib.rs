//! Zoom REST API and OAuth client for master accounts and their sub accounts.

mod secret;
mod token;

pub use secret::Secret;
pub use token::{AccessToken, TokenError, TokenRefresher, TokenSet, TokenSource};
