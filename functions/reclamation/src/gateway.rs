//! What reclamation needs from Zoom, behind small traits: read one user, change their status
//! or type, and know which scopes the connection granted. [`ZoomUsersGateway`] implements them on
//! the `zoom` client with tokens from the vault; tests use fakes or the sandbox.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ports::{ConnectionRecord, TokenStore, TokenVault};
use serde::{Deserialize, Serialize};
use zoom::{StatusAction, UserType, ZoomClient, ZoomConfig, ZoomError};

/// A user as Zoom shows them right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveUser {
    pub id: String,
    pub email: String,
    pub account_id: Option<String>,
    pub user_type: i64,
    pub status: String,
    pub role_id: Option<String>,
    pub role_name: Option<String>,
    pub last_login_time: Option<DateTime<Utc>>,
}

impl LiveUser {
    /// Whether the user's role keeps them out of reclamation
    /// ([`sync_domain::reclamation::role_is_protected`]): the role name if Zoom gave one, else the role id;
    /// a user whose role Zoom did not say is protected.
    pub fn holds_protected_role(&self, allowed: &[String]) -> bool {
        match self.role_name.as_deref().or(self.role_id.as_deref()) {
            Some(role) => sync_domain::reclamation::role_is_protected(role, allowed),
            None => true,
        }
    }

    /// The state kept in the audit (`before` / `after`).
    pub fn state(&self) -> serde_json::Value {
        serde_json::json!({
            "status": self.status,
            "type": self.user_type,
            "role": self.role_name.clone().or_else(|| self.role_id.clone()),
            "account_id": self.account_id,
            "last_login_time": self.last_login_time,
        })
    }
}

impl From<zoom::User> for LiveUser {
    fn from(u: zoom::User) -> Self {
        Self {
            id: u.id.unwrap_or_default(),
            email: u.email,
            account_id: u.account_id,
            user_type: u.user_type.code(),
            status: u
                .status
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "active".into()),
            role_id: u.role_id,
            role_name: u.role_name,
            last_login_time: u.last_login_time,
        }
    }
}

/// A Zoom failure as reported per user (never holds a token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ZoomFailure {
    pub status: Option<u16>,
    pub code: Option<i64>,
    pub message: String,
    pub tracking_id: Option<String>,
    /// Retrying later may work (the client already retried within its budget).
    pub transient: bool,
}

impl ZoomFailure {
    /// The user does not exist (in that account): 404, code 1001 or 1010.
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404) || matches!(self.code, Some(1001 | 1010 | 1120))
    }
}

impl From<ZoomError> for ZoomFailure {
    fn from(e: ZoomError) -> Self {
        Self {
            status: e.status(),
            code: e.code(),
            tracking_id: e.tracking_id().map(str::to_owned),
            transient: e.is_transient(),
            message: e.to_string(),
        }
    }
}

/// Which account's endpoints to use: the master's own (un-prefixed) or a sub account's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AccountRef {
    Own,
    Sub(String),
}

impl AccountRef {
    pub fn for_user(connection: &ConnectionRecord, account_id: &str) -> Self {
        if account_id == connection.zoom_account_id || account_id == "me" {
            Self::Own
        } else {
            Self::Sub(account_id.to_owned())
        }
    }
}

/// The user endpoints reclamation calls (retries happen inside).
#[async_trait]
pub trait ZoomUsers: Send + Sync {
    async fn get_user(&self, account: &AccountRef, user_id: &str) -> Result<LiveUser, ZoomFailure>;
    /// Activate or deactivate; returns Zoom's tracking id when known.
    async fn set_status(
        &self,
        account: &AccountRef,
        user_id: &str,
        activate: bool,
    ) -> Result<Option<String>, ZoomFailure>;
    /// Change the user type (1 Basic, 2 Licensed, …).
    async fn set_type(
        &self,
        account: &AccountRef,
        user_id: &str,
        user_type: i64,
    ) -> Result<Option<String>, ZoomFailure>;
}

/// Zoom access per connection.
#[async_trait]
pub trait ZoomConnector: Send + Sync {
    async fn users(&self, connection: &ConnectionRecord) -> Result<Arc<dyn ZoomUsers>, String>;
    /// The scopes the connection's authorization granted (`None`: no tokens stored).
    async fn granted_scopes(&self, connection_id: &str) -> Result<Option<Vec<String>>, String>;
}

#[async_trait]
impl ZoomUsers for ZoomClient {
    async fn get_user(&self, account: &AccountRef, user_id: &str) -> Result<LiveUser, ZoomFailure> {
        Ok(api(self, account).user(user_id).await?.into())
    }

    async fn set_status(
        &self,
        account: &AccountRef,
        user_id: &str,
        activate: bool,
    ) -> Result<Option<String>, ZoomFailure> {
        let action = if activate {
            StatusAction::Activate
        } else {
            StatusAction::Deactivate
        };
        Ok(api(self, account)
            .update_user_status(user_id, action)
            .await?)
    }

    async fn set_type(
        &self,
        account: &AccountRef,
        user_id: &str,
        user_type: i64,
    ) -> Result<Option<String>, ZoomFailure> {
        let t = match user_type {
            1 => UserType::Basic,
            2 => UserType::Licensed,
            3 => UserType::OnPrem,
            4 => UserType::NoMeetingsLicense,
            99 => UserType::None,
            n => UserType::Other(n),
        };
        Ok(api(self, account).update_user_type(user_id, t).await?)
    }
}

fn api(client: &ZoomClient, account: &AccountRef) -> zoom::AccountApi {
    match account {
        AccountRef::Own => client.me(),
        AccountRef::Sub(id) => client.account(id.clone()),
    }
}

/// Production connector: one client per connection (cached for the process), tokens through
/// the vault's rotation-safe token source; scopes read from the stored token set.
pub struct ZoomUsersGateway {
    config: ZoomConfig,
    vault: TokenVault,
    tokens: Arc<dyn TokenStore>,
    retry: zoom::RetryPolicy,
    cache: Mutex<HashMap<String, ZoomClient>>,
}

impl ZoomUsersGateway {
    pub fn new(config: ZoomConfig, vault: TokenVault) -> Self {
        let tokens = vault.tokens.clone();
        Self {
            config,
            vault,
            tokens,
            retry: zoom::RetryPolicy::default(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn retry_policy(mut self, retry: zoom::RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

#[async_trait]
impl ZoomConnector for ZoomUsersGateway {
    async fn users(&self, connection: &ConnectionRecord) -> Result<Arc<dyn ZoomUsers>, String> {
        let cid = connection.connection_id.clone();
        if let Some(c) = self.cache.lock().ok().and_then(|m| m.get(&cid).cloned()) {
            return Ok(Arc::new(c));
        }
        let source = Arc::new(self.vault.token_source(cid.clone()));
        let client = ZoomClient::builder(self.config.clone(), source)
            .budget_key(cid.clone())
            .retry_policy(self.retry)
            .build()
            .map_err(|e| e.to_string())?;
        if let Ok(mut m) = self.cache.lock() {
            m.insert(cid, client.clone());
        }
        Ok(Arc::new(client))
    }

    async fn granted_scopes(&self, connection_id: &str) -> Result<Option<Vec<String>>, String> {
        let stored = self
            .tokens
            .read(connection_id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(stored.map(|s| s.tokens.scopes().map(str::to_owned).collect()))
    }
}

/// Scopes that allow an operation on users of the master's own account or of sub accounts.
/// Any one of a group suffices (classic or granular).
pub fn scopes_for(account: &AccountRef, type_change: bool) -> &'static [&'static str] {
    match (account, type_change) {
        (AccountRef::Own, false) => &[
            "user:write:admin",
            "user:write",
            "user:update:status:admin",
            "user:update:status",
        ],
        (AccountRef::Own, true) => &[
            "user:write:admin",
            "user:write",
            "user:update:user:admin",
            "user:update:user",
        ],
        (AccountRef::Sub(_), false) => &["user:master", "user:update:status:master"],
        (AccountRef::Sub(_), true) => &["user:master", "user:update:user:master"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_but_member_is_protected_unless_allowed() {
        let mut u = LiveUser {
            id: "u".into(),
            email: "u@example.com".into(),
            account_id: None,
            user_type: 2,
            status: "active".into(),
            role_id: Some("2".into()),
            role_name: None,
            last_login_time: None,
        };
        assert!(!u.holds_protected_role(&[]));
        u.role_id = Some("0".into());
        assert!(u.holds_protected_role(&[]));
        u.role_name = Some("Member".into());
        assert!(
            !u.holds_protected_role(&[]),
            "the role name wins over the id"
        );
        u.role_name = Some("Admin".into());
        assert!(u.holds_protected_role(&[]));
        // A custom admin role is protected, unless the request allows it by name or id.
        u.role_name = Some("IT Admin".into());
        u.role_id = Some("r8Kx".into());
        assert!(u.holds_protected_role(&[]));
        assert!(!u.holds_protected_role(&["it admin".into()]));
        u.role_name = None;
        assert!(!u.holds_protected_role(&["r8Kx".into()]));
        // The owner stays protected whatever the request says; so does an unknown role.
        u.role_name = Some("Owner".into());
        assert!(u.holds_protected_role(&["Owner".into()]));
        u.role_name = None;
        u.role_id = None;
        assert!(u.holds_protected_role(&[]));
    }

    #[test]
    fn not_found_codes() {
        let f = |status, code| ZoomFailure {
            status: Some(status),
            code: Some(code),
            message: String::new(),
            tracking_id: None,
            transient: false,
        };
        assert!(f(404, 1001).is_not_found());
        assert!(f(400, 1010).is_not_found());
        assert!(!f(400, 200).is_not_found());
    }
}
