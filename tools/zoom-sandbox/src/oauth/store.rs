//! The token store: grants (who authorized which app, with which scopes), their access and
//! refresh tokens, authorization codes, and the runtime-switchable authorize settings. The gate
//! checks bearer tokens against it.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::responses::{OAuthError, Tokens};
use crate::auth::Caller;
use crate::config::{AuthorizeAs, ConsentMode, SandboxConfig};

/// An account and the user acting for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account_id: String,
    pub user_id: String,
}

/// How a grant came to be; the name is the `grant_type` counted in statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    AuthorizationCode,
    AccountCredentials,
    /// Issued directly by `SandboxState::issue_token_for_tests`.
    Test,
}

#[derive(Debug, Clone)]
struct Grant {
    kind: GrantKind,
    client_id: String,
    account_id: String,
    user_id: String,
    scopes: Vec<String>,
    /// The current (only valid) refresh token, if the grant has one.
    refresh_token: Option<String>,
}

#[derive(Debug, Clone)]
struct AccessEntry {
    grant: u64,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct CodeEntry {
    client_id: String,
    redirect_uri: String,
    challenge: Option<(PkceMethod, String)>,
    identity: Identity,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PkceMethod {
    Plain,
    S256,
}

#[derive(Default)]
struct Inner {
    next_grant: u64,
    grants: HashMap<u64, Grant>,
    access: HashMap<String, AccessEntry>,
    refresh: HashMap<String, u64>,
    codes: HashMap<String, CodeEntry>,
    issued_since_prune: u64,
}

impl Inner {
    fn remove_grant(&mut self, id: u64) -> bool {
        let Some(grant) = self.grants.remove(&id) else {
            return false;
        };
        if let Some(rt) = grant.refresh_token {
            self.refresh.remove(&rt);
        }
        self.access.retain(|_, a| a.grant != id);
        true
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        self.issued_since_prune += 1;
        if self.issued_since_prune >= 1024 {
            self.issued_since_prune = 0;
            self.access.retain(|_, a| a.expires_at > now);
            self.codes.retain(|_, c| c.expires_at > now);
        }
    }
}

/// Runtime-switchable authorize behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeSettings {
    pub consent: ConsentMode,
    pub authorize_as: AuthorizeAs,
}

/// All codes, grants and tokens of the run (in `SandboxState::oauth`).
pub struct OAuthStore {
    inner: Mutex<Inner>,
    settings: RwLock<AuthorizeSettings>,
    /// `http://HOST:PORT` once the sandbox listens (set by `start`).
    pub(super) base_url: OnceLock<String>,
}

impl fmt::Debug for OAuthStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthStore").finish_non_exhaustive()
    }
}

pub(super) fn random_token(prefix: &str) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    let a: u128 = rng.random();
    let b: u128 = rng.random();
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(&a.to_le_bytes());
    bytes[16..].copy_from_slice(&b.to_le_bytes());
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub(super) fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl OAuthStore {
    pub fn new(config: &SandboxConfig) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            settings: RwLock::new(AuthorizeSettings {
                consent: config.consent,
                authorize_as: config.authorize_as,
            }),
            base_url: OnceLock::new(),
        }
    }

    /// Record the address the sandbox listens on (for `api_url` where no request tells it).
    pub fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn settings(&self) -> AuthorizeSettings {
        *self.settings.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_consent(&self, consent: ConsentMode) {
        self.settings
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .consent = consent;
    }

    pub fn set_authorize_as(&self, who: AuthorizeAs) {
        self.settings
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .authorize_as = who;
    }

    /// The caller behind a bearer token, if the token is known, unexpired and not revoked.
    pub fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Option<Caller> {
        let inner = self.lock();
        let entry = inner.access.get(token)?;
        if entry.expires_at <= now {
            return None;
        }
        let grant = inner.grants.get(&entry.grant)?;
        Some(Caller {
            account_id: grant.account_id.clone(),
            user_id: Some(grant.user_id.clone()),
            client_id: grant.client_id.clone(),
            scopes: grant.scopes.iter().cloned().collect::<BTreeSet<_>>(),
        })
    }

    /// Create a grant and its first tokens. `revoke_earlier`: end earlier grants of the same
    /// kind for this app and account (Zoom: a new authorization revokes the old one).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new_grant(
        &self,
        kind: GrantKind,
        client_id: &str,
        identity: &Identity,
        scopes: Vec<String>,
        with_refresh: bool,
        ttl_secs: u64,
        now: DateTime<Utc>,
    ) -> (Tokens, u64) {
        let mut inner = self.lock();
        let mut revoked = 0;
        if kind == GrantKind::AuthorizationCode {
            let earlier: Vec<u64> = inner
                .grants
                .iter()
                .filter(|(_, g)| {
                    g.kind == kind
                        && g.client_id == client_id
                        && g.account_id == identity.account_id
                })
                .map(|(id, _)| *id)
                .collect();
            for id in earlier {
                if inner.remove_grant(id) {
                    revoked += 1;
                }
            }
        }
        inner.prune(now);
        let id = inner.next_grant;
        inner.next_grant += 1;
        let access = random_token("zsb_at_");
        let refresh = with_refresh.then(|| random_token("zsb_rt_"));
        inner.access.insert(
            access.clone(),
            AccessEntry {
                grant: id,
                expires_at: now + Duration::seconds(ttl_secs as i64),
            },
        );
        if let Some(rt) = &refresh {
            inner.refresh.insert(rt.clone(), id);
        }
        let scope = scopes.join(" ");
        inner.grants.insert(
            id,
            Grant {
                kind,
                client_id: client_id.to_string(),
                account_id: identity.account_id.clone(),
                user_id: identity.user_id.clone(),
                scopes,
                refresh_token: refresh.clone(),
            },
        );
        (
            Tokens {
                access_token: access,
                refresh_token: refresh,
                expires_in: ttl_secs,
                scope,
            },
            revoked,
        )
    }

    pub(super) fn issue_code(
        &self,
        client_id: &str,
        redirect_uri: &str,
        challenge: Option<(PkceMethod, String)>,
        identity: Identity,
        ttl_secs: u64,
        now: DateTime<Utc>,
    ) -> String {
        let code = random_token("zsb_code_");
        let mut inner = self.lock();
        inner.prune(now);
        inner.codes.insert(
            code.clone(),
            CodeEntry {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                challenge,
                identity,
                expires_at: now + Duration::seconds(ttl_secs as i64),
            },
        );
        code
    }

    /// Consume a code (single use: whatever the outcome) and check it.
    pub(super) fn take_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Identity, OAuthError> {
        let entry = self
            .lock()
            .codes
            .remove(code)
            .ok_or_else(OAuthError::invalid_code)?;
        if entry.client_id != client_id {
            return Err(OAuthError::invalid_code());
        }
        if entry.expires_at <= now {
            return Err(OAuthError::expired_code());
        }
        if redirect_uri != Some(entry.redirect_uri.as_str()) {
            return Err(OAuthError::redirect_mismatch());
        }
        if let Some((method, challenge)) = &entry.challenge {
            let verifier = verifier.ok_or_else(OAuthError::invalid_verifier)?;
            let computed = match method {
                PkceMethod::Plain => verifier.to_string(),
                PkceMethod::S256 => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            };
            if !ct_eq(&computed, challenge) {
                return Err(OAuthError::invalid_verifier());
            }
        }
        Ok(entry.identity)
    }

    /// Rotate a refresh token: the old one dies at once.
    pub(super) fn refresh(
        &self,
        refresh_token: &str,
        client_id: &str,
        ttl_secs: u64,
        now: DateTime<Utc>,
    ) -> Result<Tokens, OAuthError> {
        let mut inner = self.lock();
        let id = *inner
            .refresh
            .get(refresh_token)
            .ok_or_else(OAuthError::invalid_token)?;
        let grant = inner
            .grants
            .get(&id)
            .ok_or_else(OAuthError::invalid_token)?;
        if grant.client_id != client_id {
            return Err(OAuthError::invalid_token());
        }
        let scope = grant.scopes.join(" ");
        inner.refresh.remove(refresh_token);
        inner.prune(now);
        let access = random_token("zsb_at_");
        let refresh = random_token("zsb_rt_");
        inner.access.insert(
            access.clone(),
            AccessEntry {
                grant: id,
                expires_at: now + Duration::seconds(ttl_secs as i64),
            },
        );
        inner.refresh.insert(refresh.clone(), id);
        if let Some(g) = inner.grants.get_mut(&id) {
            g.refresh_token = Some(refresh.clone());
        }
        Ok(Tokens {
            access_token: access,
            refresh_token: Some(refresh),
            expires_in: ttl_secs,
            scope,
        })
    }

    /// Revoke the grant behind an access or refresh token. Returns whether one was found.
    pub fn revoke_token(&self, token: &str, client_id: Option<&str>) -> bool {
        let mut inner = self.lock();
        let id = inner
            .access
            .get(token)
            .map(|a| a.grant)
            .or_else(|| inner.refresh.get(token).copied());
        let Some(id) = id else { return false };
        if let Some(client) = client_id
            && inner.grants.get(&id).is_some_and(|g| g.client_id != client)
        {
            return false;
        }
        inner.remove_grant(id)
    }

    /// Revoke every grant (the "revoked tokens" fault). Returns how many.
    pub fn revoke_all(&self) -> u64 {
        let mut inner = self.lock();
        let n = inner.grants.len() as u64;
        inner.grants.clear();
        inner.access.clear();
        inner.refresh.clear();
        n
    }

    /// Revoke every grant of an app on an account (deauthorization).
    pub fn revoke_app_account(&self, client_id: &str, account_id: &str) -> u64 {
        let mut inner = self.lock();
        let ids: Vec<u64> = inner
            .grants
            .iter()
            .filter(|(_, g)| g.client_id == client_id && g.account_id == account_id)
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter().filter(|id| inner.remove_grant(*id)).count() as u64
    }

    /// TEST HELPER: the live refresh token of the grant behind `access_token` (one issued
    /// earlier and not yet expired), e.g. the one a refresh whose answer was lost rotated to.
    /// Not a Zoom API; never served over HTTP.
    pub fn refresh_token_for_tests(&self, access_token: &str) -> Option<String> {
        let inner = self.lock();
        let grant = inner.access.get(access_token)?.grant;
        inner.grants.get(&grant)?.refresh_token.clone()
    }

    /// Live grants (for control/debugging; never exposes tokens).
    pub fn grant_count(&self) -> usize {
        self.lock().grants.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_opaque_and_distinct() {
        let a = random_token("zsb_at_");
        let b = random_token("zsb_at_");
        assert_ne!(a, b);
        assert!(a.starts_with("zsb_at_") && !a.starts_with("ey"));
        assert!(a.len() > 40);
    }
}
