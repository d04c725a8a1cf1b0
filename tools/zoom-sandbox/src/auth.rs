//! The authenticated caller of a `/v2` request, put into request extensions by the gate
//! (`gate.rs`) after the bearer token was checked, and scope checks for handlers.

use std::collections::BTreeSet;

use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct Caller {
    /// The account the token was issued for (the master account when connected as one).
    pub account_id: String,
    /// The user who authorized the app (`me` as userId), if a user-level token.
    pub user_id: Option<String>,
    pub client_id: String,
    pub scopes: BTreeSet<String>,
}

impl Caller {
    /// Ok when the token holds at least one of `any_of` (classic or granular names);
    /// otherwise Zoom's 4711 error naming the first, most specific scope.
    #[allow(clippy::result_large_err)] // ApiError is turned into a response at once
    pub fn require_scope(&self, any_of: &[&str]) -> Result<(), ApiError> {
        if any_of.iter().any(|s| self.scopes.contains(*s)) {
            Ok(())
        } else {
            Err(ApiError::missing_scopes(&any_of[..any_of.len().min(1)]))
        }
    }

    /// Resolve an `{accountId}` path segment: `me` is the caller's own account.
    pub fn resolve_account<'a>(&'a self, account_id: &'a str) -> &'a str {
        if account_id == "me" {
            &self.account_id
        } else {
            account_id
        }
    }
}
