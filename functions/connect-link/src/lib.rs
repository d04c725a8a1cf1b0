//! The connect-link function: how an admin of this deployment lets a Zoom master account
//! connect. Invoked directly (`aws lambda invoke`, IAM's `lambda:InvokeFunction` on this
//! function is the gate, as for reclamation and license-admin; no public route), it mints a
//! one-time link to `/connect` that carries the connection's settings, optionally the only Zoom
//! account it may connect, and an expiry. `/connect` accepts nothing else, so a stranger cannot
//! attach an account to the deployment, and a crafted link cannot change the settings.
//!
//! The table keeps only the digest of the link's token (`ports::secret_digest`); the link
//! itself is in the answer to the admin and nowhere else (not logged).
//!
//! Request (`events/connect-link/`):
//! `{"requested_by": "it-admin@example.com", "include_free_users": true,
//!   "include_on_premises": false, "inactivity_threshold_days": 60,
//!   "zoom_account_id": "…", "valid_minutes": 60}` (all but `requested_by` optional).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ports::{ConnectInviteRecord, ConnectionSettings, OAuthStateStore, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_domain::{Clock, InactivityThreshold};

/// How long a link stays valid unless the request says otherwise, and the bounds it may say.
pub const DEFAULT_VALID_MINUTES: u32 = 60;
pub const VALID_MINUTES: std::ops::RangeInclusive<u32> = 5..=7 * 24 * 60;

/// `ZTS_CONNECT_URL`: the deployment's public `/connect` address (the stack sets it).
#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub connect_url: url::Url,
}

impl LinkConfig {
    pub fn from_vars<F: Fn(&str) -> Option<String>>(
        vars: &lambda_wiring::Vars<F>,
    ) -> Result<Self, lambda_wiring::ConfigError> {
        let raw = vars.required("ZTS_CONNECT_URL", "the deployment's /connect URL")?;
        let connect_url = url::Url::parse(&raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.query().is_none())
            .ok_or_else(|| {
                lambda_wiring::ConfigError(format!(
                    "ZTS_CONNECT_URL is not an http(s) URL without a query: {raw:?}"
                ))
            })?;
        Ok(Self { connect_url })
    }
}

/// The admin's request, parsed strictly (unknown fields refused).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// Who asks (recorded with the authorization and logged).
    pub requested_by: String,
    #[serde(default)]
    pub include_free_users: bool,
    #[serde(default)]
    pub include_on_premises: bool,
    #[serde(default = "default_threshold")]
    pub inactivity_threshold_days: u16,
    /// The only Zoom (master) account the link may connect.
    #[serde(default)]
    pub zoom_account_id: Option<String>,
    #[serde(default = "default_valid_minutes")]
    pub valid_minutes: u32,
}

fn default_threshold() -> u16 {
    InactivityThreshold::default().days()
}

fn default_valid_minutes() -> u32 {
    DEFAULT_VALID_MINUTES
}

/// The answer: the link to hand to the Zoom master account's admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MintedLink {
    /// Open once, in a browser, signed in to Zoom as an owner or admin of the master account.
    pub connect_url: String,
    pub expires_at: DateTime<Utc>,
    pub requested_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoom_account_id: Option<String>,
    pub include_free_users: bool,
    pub include_on_premises: bool,
    pub inactivity_threshold_days: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("invalid connect-link request: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<MintError> for lambda_runtime::Diagnostic {
    fn from(e: MintError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: match e {
                MintError::Invalid(_) => "InvalidRequest",
                MintError::Store(_) => "StoreError",
            }
            .to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// The use case, over the OAuth state store (where the links live until used or expired).
pub struct LinkMinter {
    pub states: Arc<dyn OAuthStateStore>,
    pub config: LinkConfig,
    pub clock: Clock,
}

impl LinkMinter {
    /// Handles one invocation payload.
    pub async fn handle(&self, payload: &Value) -> Result<MintedLink, MintError> {
        let request: MintRequest =
            sync_domain::parse_payload(payload).map_err(MintError::Invalid)?;
        self.mint(&request).await
    }

    pub async fn mint(&self, request: &MintRequest) -> Result<MintedLink, MintError> {
        let requested_by = request.requested_by.trim();
        if requested_by.is_empty() || requested_by.len() > 200 {
            return Err(MintError::Invalid(
                "requested_by must name who asks (1 to 200 characters)".into(),
            ));
        }
        let threshold = InactivityThreshold::try_from(request.inactivity_threshold_days)
            .map_err(|e| MintError::Invalid(format!("inactivity_threshold_days: {e}")))?;
        if !VALID_MINUTES.contains(&request.valid_minutes) {
            return Err(MintError::Invalid(format!(
                "valid_minutes must be {} to {} (a week)",
                VALID_MINUTES.start(),
                VALID_MINUTES.end()
            )));
        }
        let zoom_account_id = match request.zoom_account_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(id) if id.len() <= 64 => Some(id.to_string()),
            Some(_) => {
                return Err(MintError::Invalid(
                    "zoom_account_id is longer than a Zoom account id".into(),
                ));
            }
        };
        let now = (self.clock)();
        let token = ports::random_secret();
        let record = ConnectInviteRecord {
            key: ports::secret_digest(&token),
            settings: ConnectionSettings {
                include_free_users: request.include_free_users.into(),
                include_on_premises: request.include_on_premises.into(),
                inactivity_threshold: threshold,
            },
            requested_by: requested_by.to_string(),
            zoom_account_id: zoom_account_id.clone(),
            created_at: now,
            expires_at: now + chrono::Duration::minutes(i64::from(request.valid_minutes)),
        };
        self.states.put_invite(&record).await?;
        let mut url = self.config.connect_url.clone();
        url.query_pairs_mut().append_pair("invite", &token);
        tracing::info!(
            requested_by = %record.requested_by,
            zoom_account_id = zoom_account_id.as_deref().unwrap_or(""),
            expires_at = %record.expires_at,
            "connect link minted"
        );
        Ok(MintedLink {
            connect_url: url.to_string(),
            expires_at: record.expires_at,
            requested_by: record.requested_by,
            zoom_account_id,
            include_free_users: request.include_free_users,
            include_on_premises: request.include_on_premises,
            inactivity_threshold_days: threshold.days(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn minter(states: Arc<dyn OAuthStateStore>) -> LinkMinter {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        LinkMinter {
            states,
            config: LinkConfig {
                connect_url: url::Url::parse("https://api.example.test/connect").unwrap(),
            },
            clock: Arc::new(move || now),
        }
    }

    fn token_of(link: &MintedLink) -> String {
        let url = url::Url::parse(&link.connect_url).unwrap();
        let pairs: Vec<_> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        assert_eq!(pairs[0].0, "invite");
        pairs[0].1.clone()
    }

    #[tokio::test]
    async fn a_link_is_stored_as_a_digest_with_its_settings_and_opens_once() {
        let records = Arc::new(aws_adapters::Records::in_memory());
        let m = minter(records.clone());
        let link = m
            .handle(&serde_json::json!({
                "requested_by": "it@example.com",
                "include_free_users": true,
                "inactivity_threshold_days": 90,
                "zoom_account_id": "acct-1",
                "valid_minutes": 30
            }))
            .await
            .unwrap();
        let now = (m.clock)();
        assert_eq!(link.expires_at, now + chrono::Duration::minutes(30));
        let token = token_of(&link);
        assert!(token.len() >= 43);
        // Stored under the digest only: the token itself is no key.
        assert!(records.consume_invite(&token, now).await.unwrap().is_none());
        let stored = records
            .consume_invite(&ports::secret_digest(&token), now)
            .await
            .unwrap()
            .expect("stored under its digest");
        assert!(stored.settings.include_free_users.is_yes());
        assert!(!stored.settings.include_on_premises.is_yes());
        assert_eq!(stored.settings.inactivity_threshold.days(), 90);
        assert_eq!(stored.zoom_account_id.as_deref(), Some("acct-1"));
        assert_eq!(stored.requested_by, "it@example.com");
        let again = records
            .consume_invite(&ports::secret_digest(&token), now)
            .await
            .unwrap();
        assert!(again.is_none(), "a link opens one authorization");
    }

    #[tokio::test]
    async fn an_expired_link_is_not_handed_out() {
        let records = Arc::new(aws_adapters::Records::in_memory());
        let m = minter(records.clone());
        let link = m
            .handle(&serde_json::json!({"requested_by": "it@example.com", "valid_minutes": 5}))
            .await
            .unwrap();
        let key = ports::secret_digest(&token_of(&link));
        let late = link.expires_at + chrono::Duration::seconds(1);
        assert!(records.consume_invite(&key, late).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn bad_requests_are_refused_and_store_nothing() {
        for (payload, names) in [
            (serde_json::json!({}), "requested_by"),
            (serde_json::json!({"requested_by": "  "}), "requested_by"),
            (
                serde_json::json!({"requested_by": "a", "inactivity_threshold_days": 45}),
                "inactivity_threshold_days",
            ),
            (
                serde_json::json!({"requested_by": "a", "valid_minutes": 1}),
                "valid_minutes",
            ),
            (
                serde_json::json!({"requested_by": "a", "include_free_users": "maybe"}),
                "include_free_users",
            ),
            (
                serde_json::json!({"requested_by": "a", "settings": {}}),
                "settings",
            ),
        ] {
            let table = Arc::new(aws_adapters::backend::MemoryTable::new());
            let records = Arc::new(aws_adapters::Records::new(table.clone()));
            let e = minter(records).handle(&payload).await.unwrap_err();
            assert!(matches!(e, MintError::Invalid(_)), "{payload}: {e}");
            assert!(e.to_string().contains(names), "{payload}: {e}");
            assert!(table.snapshot().is_empty(), "{payload} stored something");
        }
    }
}
