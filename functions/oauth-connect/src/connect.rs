//! The two browser routes: `/connect` starts an authorization, `/oauth/callback` finishes it.

use chrono::{DateTime, Utc};
use ports::{ConnectionRecord, ConnectionStatus, OAuthStateRecord, StoreError, StoredTokens};
use sha2::{Digest, Sha256};
use zoom::{Secret, TokenError, TokenSet};

use crate::app::App;
use crate::error::ConnectError;
use crate::gateway::AccountCheck;
use crate::pages::{Connected, NotCollected, SettingsView};
use crate::scopes::{self, ScopeCheck};

/// Longest `state` looked up (ours: 22 characters, 128 random bits in base64url).
pub const MAX_STATE_LEN: usize = 256;

/// Query parameters of a request, first value of each name.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value, unless absent or blank.
    fn non_blank(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// The connection id of a Zoom account: derived from the account id, so that two callbacks
/// of the same account racing each other cannot create two connections (the second insert
/// fails its condition and updates instead).
pub fn connection_id_for(zoom_account_id: &str) -> String {
    let plain = !zoom_account_id.is_empty()
        && zoom_account_id.len() <= 64
        && zoom_account_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if plain {
        format!("zoom-{zoom_account_id}")
    } else {
        let digest = Sha256::digest(zoom_account_id.as_bytes());
        format!("zoom-{}", &hex::encode(digest)[..32])
    }
}

/// The cookie that binds an authorization to the browser that started it (`__Host-`: only
/// ever set by this host over HTTPS for path `/`, so no sibling domain can plant one).
pub const BINDING_COOKIE: &str = "__Host-zts-connect";

/// The one query parameter `/connect` takes: the token of an admin-minted link.
pub const INVITE_PARAM: &str = "invite";

/// What `/connect` answers: Zoom's authorize URL and the cookie binding the browser.
#[derive(Debug, Clone)]
pub struct ConnectStart {
    pub authorize_url: String,
    /// The `Set-Cookie` value (holds the browser nonce: never logged).
    pub set_cookie: String,
}

/// The `Set-Cookie` value that removes the binding cookie (after the callback).
pub fn clear_binding_cookie() -> String {
    format!("{BINDING_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax")
}

/// The binding cookie's value among the request's `Cookie` headers.
pub fn binding_cookie(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == BINDING_COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl App {
    /// `GET /connect?invite=`: consumes the admin-minted link, stores a single-use state (with
    /// the PKCE verifier, the link's settings and a digest of a fresh browser nonce) and
    /// returns Zoom's authorize URL and the cookie holding the nonce.
    pub async fn start_connect(&self, params: &Params) -> Result<ConnectStart, ConnectError> {
        if let Some((name, _)) = params.0.iter().find(|(k, _)| k != INVITE_PARAM) {
            return Err(ConnectError::UnexpectedParameter(crate::error::truncate(
                name, 40,
            )));
        }
        let token = params
            .non_blank(INVITE_PARAM)
            .ok_or(ConnectError::NoInvite)?;
        if token.len() > MAX_STATE_LEN {
            return Err(ConnectError::InvalidInvite);
        }
        let now = self.now();
        let invite = self
            .states
            .consume_invite(&ports::secret_digest(token), now)
            .await?
            .ok_or(ConnectError::InvalidInvite)?;
        let nonce = ports::random_secret();
        let auth = self.zoom.authorize();
        let record = OAuthStateRecord {
            state: auth.state,
            pkce_verifier: auth.pkce_verifier,
            region: self.options.region,
            settings: invite.settings,
            created_at: now,
            expires_at: now + self.options.state_ttl,
            browser_binding: Some(ports::secret_digest(&nonce)),
            invited_by: Some(invite.requested_by.clone()),
            expected_zoom_account_id: invite.zoom_account_id.clone(),
        };
        self.states.put_state(&record).await?;
        tracing::info!(
            region = self.options.region.as_str(),
            invited_by = %invite.requested_by,
            include_free_users = record.settings.include_free_users.is_yes(),
            include_on_premises = record.settings.include_on_premises.is_yes(),
            inactivity_threshold_days = record.settings.inactivity_threshold.days(),
            "authorization started"
        );
        Ok(ConnectStart {
            authorize_url: auth.url.to_string(),
            set_cookie: format!(
                "{BINDING_COOKIE}={nonce}; Max-Age={}; Path=/; Secure; HttpOnly; SameSite=Lax",
                self.options.state_ttl.num_seconds()
            ),
        })
    }

    /// `GET /oauth/callback`: consumes the state, exchanges the code, verifies scopes and the
    /// Master Account feature, then stores tokens and connection. Nothing is stored unless
    /// every check passed; a grant that fails a check is revoked. Missing optional scopes do
    /// not refuse: the connection keeps a note of each (fields not collected).
    /// `browser_nonce` is the binding cookie's value, if the request carried one.
    pub async fn finish_connect(
        &self,
        params: &Params,
        browser_nonce: Option<&str>,
    ) -> Result<Connected, ConnectError> {
        let now = self.now();
        if let Some(error) = params.non_blank("error") {
            // The state is spent either way.
            if let Some(state) = params.non_blank("state")
                && state.len() <= MAX_STATE_LEN
                && let Err(e) = self.states.consume_state(state, now).await
            {
                tracing::warn!(error = %e, "could not discard the state of a refused authorization");
            }
            return Err(if error == "access_denied" {
                ConnectError::AccessDenied
            } else {
                ConnectError::AuthorizationError(crate::error::truncate(error, 64))
            });
        }
        let state = params
            .non_blank("state")
            .ok_or(ConnectError::MissingState)?;
        if state.len() > MAX_STATE_LEN {
            // Ours are 22 characters; a longer one is forged (and too long for a table key).
            return Err(ConnectError::InvalidState);
        }
        let record = self
            .states
            .consume_state(state, now)
            .await?
            .ok_or(ConnectError::InvalidState)?;
        if record.region != self.options.region {
            return Err(ConnectError::InvalidState);
        }
        let same_browser = match (&record.browser_binding, browser_nonce) {
            (Some(binding), Some(nonce)) => {
                use subtle::ConstantTimeEq as _;
                bool::from(
                    binding
                        .as_bytes()
                        .ct_eq(ports::secret_digest(nonce).as_bytes()),
                )
            }
            _ => false,
        };
        if !same_browser {
            return Err(ConnectError::OtherBrowser);
        }
        let code = Secret::new(params.non_blank("code").ok_or(ConnectError::MissingCode)?);
        let tokens = self
            .zoom
            .exchange_code(&code, &record.pkce_verifier)
            .await
            .map_err(|e| match e {
                TokenError::InvalidGrant { .. } => ConnectError::ExchangeRefused(e),
                TokenError::Transient { .. } => ConnectError::ZoomUnavailable(e.to_string()),
                other => ConnectError::Internal(format!("code exchange: {other}")),
            })?;

        let checked = scopes::check(&tokens.scope, &record.settings);
        if !checked.required.is_empty() {
            self.revoke_best_effort(&tokens).await;
            return Err(ConnectError::MissingScopes(checked.required));
        }
        let check = match self.zoom.check_account(tokens.clone()).await {
            Ok(check) => check,
            Err(e) => {
                self.revoke_best_effort(&tokens).await;
                return Err(e.into());
            }
        };
        if !self.may_connect(&check.account_id, &record) {
            self.revoke_best_effort(&check.tokens).await;
            return Err(ConnectError::AccountNotAllowed {
                zoom_account_id: crate::error::truncate(&check.account_id, 64),
            });
        }
        match self.store_connection(&check, &record, &checked, now).await {
            Ok(connected) => Ok(connected),
            Err(e) => {
                self.revoke_best_effort(&check.tokens).await;
                Err(e)
            }
        }
    }

    /// Whether this deployment accepts `zoom_account_id`: the link's named account, if any,
    /// and the deployment's allow-list, if set.
    fn may_connect(&self, zoom_account_id: &str, state: &OAuthStateRecord) -> bool {
        let named = state
            .expected_zoom_account_id
            .as_deref()
            .is_none_or(|expected| expected == zoom_account_id);
        let listed = self.options.allowed_zoom_accounts.is_empty()
            || self
                .options
                .allowed_zoom_accounts
                .iter()
                .any(|a| a == zoom_account_id);
        named && listed
    }

    async fn revoke_best_effort(&self, tokens: &TokenSet) {
        match self.zoom.revoke(&tokens.access_token).await {
            Ok(()) => tracing::info!("revoked the refused authorization at Zoom"),
            Err(e) => tracing::warn!(error = %e, "could not revoke the refused authorization"),
        }
    }

    /// Tokens to the vault, then the connection (new, or the existing one of that Zoom account
    /// updated with the new settings and made active again). The connection's missing-scope
    /// notes become those of this authorization: connect's earlier notes and the tasks' notes
    /// of scopes it now brings are dropped.
    async fn store_connection(
        &self,
        check: &AccountCheck,
        state: &OAuthStateRecord,
        scopes_checked: &ScopeCheck,
        now: DateTime<Utc>,
    ) -> Result<Connected, ConnectError> {
        let settings = &state.settings;
        let existing = self
            .connections
            .find_connection_by_zoom_account(&check.account_id)
            .await?;
        let (connection_id, mut reconnected) = match &existing {
            Some(c) => (c.connection_id.clone(), true),
            None => (connection_id_for(&check.account_id), false),
        };
        let stored = StoredTokens {
            tokens: check.tokens.clone(),
            refreshed_at: now,
        };
        self.tokens
            .write_new_authorization(&connection_id, &stored)
            .await?;

        let region = self.options.region;
        let name = (!check.account_name.is_empty()).then(|| check.account_name.clone());
        let new_settings = *settings;
        let notes: Vec<_> = scopes_checked
            .optional
            .iter()
            .map(|m| m.note(now))
            .collect();
        let granted = check.tokens.scope.clone();
        let changed_by = state
            .invited_by
            .clone()
            .unwrap_or_else(|| "connect".to_owned());
        let update = |cid: String| {
            let name = name.clone();
            let changed_by = changed_by.clone();
            let notes = notes.clone();
            let granted = granted.clone();
            async move {
                self.connections
                    .update_connection(&cid, &move |c| {
                        // Settings a connect link brings are an admin's change too.
                        let changes = c.change_settings(new_settings, &changed_by, now);
                        c.record_settings_changes(changes);
                        c.status = ConnectionStatus::Active;
                        c.authorized_at = Some(now);
                        c.region = region;
                        if name.is_some() {
                            c.account_name = name.clone();
                        }
                        c.missing_scopes
                            .retain(|n| !scopes::note_is_settled(n, &granted));
                        c.missing_scopes.extend(notes.iter().cloned());
                    })
                    .await
            }
        };
        let result: Result<ConnectionRecord, StoreError> = if reconnected {
            update(connection_id.clone()).await
        } else {
            let mut record = ConnectionRecord::new(
                connection_id.clone(),
                check.account_id.clone(),
                region,
                *settings,
                now,
            );
            record.account_name = name.clone();
            record.missing_scopes = notes.clone();
            match self.connections.insert_connection(&record).await {
                Ok(()) => Ok(record),
                // Another callback of the same account got there first.
                Err(StoreError::ConditionFailed) => {
                    reconnected = true;
                    update(connection_id.clone()).await
                }
                Err(e) => Err(e),
            }
        };
        let record = match result {
            Ok(record) => record,
            Err(e) => {
                if !reconnected && let Err(d) = self.tokens.delete(&connection_id).await {
                    tracing::warn!(connection_id, error = %d, "could not remove the tokens of a connection that was not stored");
                }
                return Err(e.into());
            }
        };
        let not_collected: Vec<NotCollected> = scopes_checked
            .optional
            .iter()
            .map(NotCollected::from)
            .collect();
        tracing::info!(
            connection_id,
            zoom_account_id = %check.account_id,
            sub_accounts = check.sub_accounts,
            reconnected,
            invited_by = state.invited_by.as_deref().unwrap_or(""),
            missing_optional_scopes = %not_collected
                .iter()
                .map(|m| m.scope.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            "Zoom account connected"
        );
        Ok(Connected {
            connection_id,
            zoom_account_id: check.account_id.clone(),
            account_name: check.account_name.clone(),
            sub_accounts: check.sub_accounts,
            reconnected,
            settings: SettingsView::from(&record.settings),
            missing_scopes: not_collected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_ids_are_stable_and_safe() {
        assert_eq!(connection_id_for("abc_DEF-1"), "zoom-abc_DEF-1");
        let odd = connection_id_for("a/b c");
        assert!(odd.starts_with("zoom-") && odd.len() == 37);
        assert_eq!(odd, connection_id_for("a/b c"));
        assert_ne!(odd, connection_id_for("a/b d"));
    }
}
