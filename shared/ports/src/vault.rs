//! Zoom tokens in Secrets Manager, and the rotation-safe token source built on them.
//!
//! Zoom rotates the refresh token on every refresh and kills the old one at once, so two
//! invocations refreshing the same connection concurrently would lose it. [`VaultTokenSource`]
//! therefore:
//! 1. serves the cached / stored access token while it is valid (5 minutes margin);
//! 2. otherwise takes the connection's DynamoDB lease (conditional put with owner and expiry;
//!    an expired lease is taken over, so a crashed holder blocks for at most its TTL);
//! 3. re-reads the secret under the lease — if someone refreshed meanwhile, uses that;
//! 4. refreshes at Zoom, then writes the new tokens (PutSecretValue) BEFORE handing out the new
//!    access token, retrying the write with backoff; if it finally fails the connection is
//!    marked `needs_reauthorization` with the reason and the caller gets `StoreFailed`;
//! 5. releases the lease. Callers that find the lease taken poll the secret instead of
//!    refreshing.
//!
//! `invalid_grant` marks the connection `needs_reauthorization` (unless the secret shows that
//! another holder rotated the token meanwhile).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use rand::RngExt;
use zoom::{AccessToken, Secret, TokenError, TokenRefresher, TokenSet, TokenSource};

use crate::StoreError;
use crate::stores::{ConnectionStore, LeaseStore};

use crate::tokens::{StoredTokens, TokenStore};

/// Tuning of [`VaultTokenSource`].
#[derive(Clone, Debug)]
pub struct VaultOptions {
    /// Refresh this long before the access token expires (Zoom: 1 h tokens; 1-5 min usual).
    pub refresh_margin: chrono::Duration,
    /// Lease lifetime: longer than one refresh at Zoom plus the write retries below.
    pub lease_ttl: Duration,
    /// How long a caller waits for another holder's refresh before giving up (transient).
    pub wait_timeout: Duration,
    /// Pause between re-reads of the secret while another invocation refreshes.
    pub poll_interval: Duration,
    /// Attempts to store refreshed tokens before the connection is given up.
    pub write_attempts: u32,
    /// First pause between write attempts (doubles each time).
    pub write_backoff: Duration,
}

impl Default for VaultOptions {
    fn default() -> Self {
        Self {
            refresh_margin: chrono::Duration::minutes(5),
            lease_ttl: Duration::from_secs(60),
            wait_timeout: Duration::from_secs(90),
            poll_interval: Duration::from_millis(250),
            write_attempts: 6,
            write_backoff: Duration::from_millis(200),
        }
    }
}

/// Builds token sources and runs the idle-connection refresh.
#[derive(Clone)]
pub struct TokenVault {
    pub tokens: Arc<dyn TokenStore>,
    pub leases: Arc<dyn LeaseStore>,
    pub connections: Arc<dyn ConnectionStore>,
    pub refresher: Arc<dyn TokenRefresher>,
    pub options: VaultOptions,
}

/// The `alert` field of the log line that says a connection needs re-authorization: the stack's
/// metric filters count these lines and an alarm notifies (`infra/template.yaml`).
pub const NEEDS_REAUTHORIZATION: &str = "needs_reauthorization";

/// What [`TokenVault::refresh_idle_connections`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdleRefreshReport {
    /// Active connections looked at.
    pub checked: usize,
    /// Connections whose tokens were refreshed now.
    pub refreshed: Vec<String>,
    /// Connections that failed (id, reason); the others went on.
    pub failed: Vec<(String, String)>,
}

/// How often idle connections' tokens are refreshed: Zoom's refresh-token lifetime is
/// unconfirmed (90 days per Zoom's SDK, 15 years per an older article), so refresh anything
/// not refreshed for 7 days; a daily schedule then keeps every token at most 8 days old, far
/// inside 90 days even after weeks of failed runs.
pub const IDLE_REFRESH_MAX_AGE: chrono::Duration = chrono::Duration::days(7);

impl TokenVault {
    pub fn token_source(&self, connection_id: impl Into<String>) -> VaultTokenSource {
        VaultTokenSource {
            connection_id: connection_id.into(),
            vault: self.clone(),
            owner: random_owner(),
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// Refreshes the tokens of every active connection whose tokens were last refreshed more
    /// than `max_age` before `now` (see [`IDLE_REFRESH_MAX_AGE`]), through the same
    /// lease-protected path as every other refresh. One connection's failure does not stop
    /// the others.
    pub async fn refresh_idle_connections(
        &self,
        max_age: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<IdleRefreshReport, StoreError> {
        let connections: Vec<_> = self.connections.list_connections().try_collect().await?;
        let cutoff = now - max_age;
        let mut report = IdleRefreshReport::default();
        for connection in connections {
            if !connection.status.is_active() {
                continue;
            }
            report.checked += 1;
            let source = self.token_source(connection.connection_id.clone());
            let need = Need {
                rejected: None,
                refreshed_before: Some(cutoff),
            };
            match source.obtain(&need).await {
                Ok((_, true)) => report.refreshed.push(connection.connection_id),
                Ok((_, false)) => {}
                Err(e) => {
                    tracing::warn!(connection_id = %connection.connection_id, error = %e, "idle token refresh failed");
                    report
                        .failed
                        .push((connection.connection_id, e.to_string()));
                }
            }
        }
        Ok(report)
    }
}

fn random_owner() -> String {
    let n: u64 = rand::rng().random();
    format!("{:016x}", n)
}

/// The lease name serializing token refreshes of one connection.
pub fn refresh_lease_name(connection_id: &str) -> String {
    format!("token-refresh#{connection_id}")
}

/// What the caller needs from the tokens.
struct Need {
    /// Zoom rejected this access token: do not hand it out again.
    rejected: Option<Secret>,
    /// Tokens refreshed before this are too old (idle refresh).
    refreshed_before: Option<DateTime<Utc>>,
}

/// `zoom::TokenSource` over a connection's secret, safe across concurrent Lambda invocations.
/// Build one per invocation (or share one within it) through [`TokenVault::token_source`].
pub struct VaultTokenSource {
    connection_id: String,
    vault: TokenVault,
    owner: String,
    cached: tokio::sync::Mutex<Option<StoredTokens>>,
}

impl VaultTokenSource {
    pub fn connection_id(&self) -> &str {
        &self.connection_id
    }

    fn usable(&self, stored: &StoredTokens, need: &Need) -> bool {
        !stored
            .tokens
            .expires_within(self.vault.options.refresh_margin, Utc::now())
            && need
                .rejected
                .as_ref()
                .is_none_or(|r| *r != stored.tokens.access_token)
            && need
                .refreshed_before
                .is_none_or(|cutoff| stored.refreshed_at >= cutoff)
    }

    async fn read(&self) -> Result<StoredTokens, TokenError> {
        match self.vault.tokens.read(&self.connection_id).await {
            Ok(Some(stored)) => Ok(stored),
            Ok(None) => Err(TokenError::Missing),
            Err(e) => Err(TokenError::Transient {
                reason: e.to_string(),
            }),
        }
    }

    /// Valid tokens for `need`, and whether this call refreshed them at Zoom.
    async fn obtain(&self, need: &Need) -> Result<(TokenSet, bool), TokenError> {
        // One refresh at a time within this instance too.
        let mut cached = self.cached.lock().await;
        if let Some(stored) = cached.as_ref()
            && self.usable(stored, need)
        {
            return Ok((stored.tokens.clone(), false));
        }
        let stored = self.read().await?;
        if self.usable(&stored, need) {
            let tokens = stored.tokens.clone();
            *cached = Some(stored);
            return Ok((tokens, false));
        }
        let (stored, refreshed) = self.refresh_serialized(need).await?;
        let tokens = stored.tokens.clone();
        *cached = Some(stored);
        Ok((tokens, refreshed))
    }

    async fn refresh_serialized(&self, need: &Need) -> Result<(StoredTokens, bool), TokenError> {
        let lease = refresh_lease_name(&self.connection_id);
        let options = &self.vault.options;
        let deadline = Instant::now() + options.wait_timeout;
        loop {
            let acquired = self
                .vault
                .leases
                .acquire(&lease, &self.owner, options.lease_ttl)
                .await
                .map_err(|e| TokenError::Transient {
                    reason: e.to_string(),
                })?;
            if acquired {
                // Once Zoom is asked, the old refresh token is spent: the refresh, the write of
                // its result and the lease's release run in a task of their own, so a caller
                // cancelled meanwhile (the invocation's deadline) does not lose the only valid
                // refresh token. The caller waits for it when it can.
                let holder = VaultTokenSource {
                    connection_id: self.connection_id.clone(),
                    vault: self.vault.clone(),
                    owner: self.owner.clone(),
                    cached: tokio::sync::Mutex::new(None),
                };
                let need = Need {
                    rejected: need.rejected.clone(),
                    refreshed_before: need.refreshed_before,
                };
                let lease = lease.clone();
                let refresh = tokio::spawn(async move {
                    let result = holder.refresh_holding_lease(&need).await;
                    holder.release_lease(&lease).await;
                    result
                });
                return refresh.await.unwrap_or_else(|e| {
                    Err(TokenError::Transient {
                        reason: format!("the token refresh task failed: {e}"),
                    })
                });
            }
            // Someone else is refreshing: wait for their result instead of refreshing.
            let jitter = rand::rng().random_range(0..=options.poll_interval.as_millis() as u64 / 2);
            tokio::time::sleep(options.poll_interval + Duration::from_millis(jitter)).await;
            let stored = self.read().await?;
            if self.usable(&stored, need) {
                return Ok((stored, false));
            }
            if Instant::now() >= deadline {
                return Err(TokenError::Transient {
                    reason: format!(
                        "another invocation held the token refresh lease for over {} s",
                        options.wait_timeout.as_secs()
                    ),
                });
            }
        }
    }

    async fn release_lease(&self, lease: &str) {
        match self.vault.leases.release(lease, &self.owner).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                connection_id = %self.connection_id,
                "token refresh lease had expired and was taken before release"
            ),
            // It expires by itself.
            Err(e) => {
                tracing::warn!(connection_id = %self.connection_id, error = %e, "could not release token refresh lease")
            }
        }
    }

    async fn refresh_holding_lease(&self, need: &Need) -> Result<(StoredTokens, bool), TokenError> {
        // Someone may have refreshed between our read and the lease.
        let stored = self.read().await?;
        if self.usable(&stored, need) {
            return Ok((stored, false));
        }
        // A grant already known to be dead is not sent to Zoom again (each waiter would
        // otherwise try the dead refresh token once after the holder failed).
        if let Ok(Some(connection)) = self
            .vault
            .connections
            .get_connection(&self.connection_id)
            .await
            && !connection.status.is_active()
        {
            return Err(TokenError::InvalidGrant {
                reason: "the connection needs to be authorized again".into(),
            });
        }
        let started = Instant::now();
        match self
            .vault
            .refresher
            .refresh(&stored.tokens.refresh_token)
            .await
        {
            Ok(tokens) => {
                tracing::info!(
                    connection_id = %self.connection_id,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "refreshed Zoom tokens"
                );
                let stored = StoredTokens {
                    tokens,
                    refreshed_at: Utc::now(),
                };
                self.store_refreshed(&stored).await?;
                Ok((stored, true))
            }
            Err(TokenError::InvalidGrant { reason }) => {
                // If the secret moved on meanwhile, another holder rotated it: use theirs.
                if let Ok(again) = self.read().await
                    && again.tokens.refresh_token != stored.tokens.refresh_token
                    && self.usable(&again, need)
                {
                    return Ok((again, false));
                }
                let why = format!(
                    "Zoom refused the stored refresh token (invalid_grant: {reason}); connect the account again"
                );
                self.mark_needs_reauthorization(&why).await;
                Err(TokenError::InvalidGrant { reason })
            }
            Err(e) => Err(e),
        }
    }

    /// Writes the new tokens before anyone uses them, retrying with backoff; the old refresh
    /// token is already dead, so failing here loses the connection.
    async fn store_refreshed(&self, stored: &StoredTokens) -> Result<(), TokenError> {
        let options = &self.vault.options;
        let attempts = options.write_attempts.max(1);
        let mut last_error = String::new();
        for attempt in 1..=attempts {
            match self.vault.tokens.write(&self.connection_id, stored).await {
                Ok(()) => {
                    if attempt > 1 {
                        tracing::info!(connection_id = %self.connection_id, attempt, "stored refreshed tokens after retrying");
                    }
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(connection_id = %self.connection_id, attempt, error = %e, "storing refreshed tokens failed");
                    last_error = e.to_string();
                    if attempt < attempts {
                        let pause = options
                            .write_backoff
                            .saturating_mul(1 << (attempt - 1).min(8));
                        tokio::time::sleep(pause).await;
                    }
                }
            }
        }
        let reason = format!(
            "Zoom issued new tokens but storing them in Secrets Manager failed {attempts} times \
             (last error: {last_error}); the previous refresh token is no longer valid, so the \
             account must be connected again"
        );
        self.mark_needs_reauthorization(&reason).await;
        Err(TokenError::StoreFailed { reason })
    }

    async fn mark_needs_reauthorization(&self, reason: &str) {
        if let Err(e) = self
            .vault
            .connections
            .mark_needs_reauthorization(&self.connection_id, reason, Utc::now())
            .await
        {
            tracing::error!(connection_id = %self.connection_id, error = %e, "could not mark connection as needing re-authorization");
        } else {
            tracing::warn!(
                alert = NEEDS_REAUTHORIZATION,
                connection_id = %self.connection_id,
                reason,
                "connection needs re-authorization"
            );
        }
    }
}

#[async_trait]
impl TokenSource for VaultTokenSource {
    async fn access_token(&self) -> Result<AccessToken, TokenError> {
        let need = Need {
            rejected: None,
            refreshed_before: None,
        };
        self.obtain(&need).await.map(|(t, _)| AccessToken::from(&t))
    }

    async fn token_rejected(&self, rejected: &AccessToken) -> Result<AccessToken, TokenError> {
        let need = Need {
            rejected: Some(rejected.token.clone()),
            refreshed_before: None,
        };
        self.obtain(&need).await.map(|(t, _)| AccessToken::from(&t))
    }
}
