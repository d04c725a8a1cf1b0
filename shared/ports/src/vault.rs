//! Zoom tokens in Secrets Manager, and the rotation-safe token source built on them.
//!
//! Zoom rotates the refresh token on every refresh and kills the old one at once, so two
//! invocations refreshing the same connection concurrently would lose it. [`VaultTokenSource`]
//! therefore:
//! 1. serves the cached / stored access token while it is valid (5 minutes margin, or a quarter
//!    of the token's lifetime if that is shorter);
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
//!
//! A refresh starts only with [`MIN_TIME_FOR_REFRESH`] left before the caller's deadline (the
//! invocation's, passed through `zoom::TokenSource`): an invocation frozen or ended between
//! Zoom's answer and the write would lose the rotated refresh token. Closer to the deadline the
//! caller gets [`TokenError::NoTimeToRefresh`] (nothing sent to Zoom, the stored tokens
//! unchanged, the connection untouched), unless the current access token stays valid until
//! the deadline: then it is handed out without a refresh.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use rand::RngExt;
use tokio::time::Instant;
use zoom::{AccessToken, Secret, TokenError, TokenRefresher, TokenSet, TokenSource};

use crate::StoreError;
use crate::stores::{ConnectionStore, LeaseStore};

use crate::tokens::{StoredTokens, TokenStore};

/// Tuning of [`VaultTokenSource`].
#[derive(Clone, Debug)]
pub struct VaultOptions {
    /// Refresh this long before the access token expires (Zoom: 1 h tokens; 1-5 min usual), or
    /// a quarter of the token's lifetime before if that is shorter.
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
    /// A refresh starts only with this much time left before the caller's deadline
    /// ([`MIN_TIME_FOR_REFRESH`]).
    pub min_time_for_refresh: Duration,
}

/// The least time before the caller's deadline a token refresh may start with: Zoom's token
/// endpoint (usually well under a second, its timeout 10 s), then the secret write with its
/// retries (about 6 s with the default backoff), with room to spare.
pub const MIN_TIME_FOR_REFRESH: Duration = Duration::from_secs(30);

impl Default for VaultOptions {
    fn default() -> Self {
        Self {
            refresh_margin: chrono::Duration::minutes(5),
            lease_ttl: Duration::from_secs(60),
            wait_timeout: Duration::from_secs(90),
            poll_interval: Duration::from_millis(250),
            write_attempts: 6,
            write_backoff: Duration::from_millis(200),
            min_time_for_refresh: MIN_TIME_FOR_REFRESH,
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
    /// `deadline`: the invocation's; a refresh is not started with less than
    /// [`MIN_TIME_FOR_REFRESH`] left (that connection is reported failed and retried next run).
    pub async fn refresh_idle_connections(
        &self,
        max_age: chrono::Duration,
        now: DateTime<Utc>,
        deadline: Option<Instant>,
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
                deadline,
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
#[derive(Clone)]
struct Need {
    /// Zoom rejected this access token: do not hand it out again.
    rejected: Option<Secret>,
    /// Tokens refreshed before this are too old (idle refresh).
    refreshed_before: Option<DateTime<Utc>>,
    /// The caller's deadline: a refresh starts only with `min_time_for_refresh` left.
    deadline: Option<Instant>,
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

    /// Usable without a refresh: valid for the refresh margin more (shortened for a
    /// short-lived token, [`zoom::refresh_margin`]).
    fn usable(&self, stored: &StoredTokens, need: &Need) -> bool {
        let lifetime = stored.tokens.expires_at - stored.refreshed_at;
        let margin = zoom::refresh_margin(self.vault.options.refresh_margin, lifetime);
        self.valid_for(stored, need, margin)
    }

    /// Whether `stored` serves `need` and its access token stays valid for `wanted` more.
    fn valid_for(&self, stored: &StoredTokens, need: &Need, wanted: chrono::Duration) -> bool {
        !stored.tokens.expires_within(wanted, Utc::now())
            && need
                .rejected
                .as_ref()
                .is_none_or(|r| *r != stored.tokens.access_token)
            && need
                .refreshed_before
                .is_none_or(|cutoff| stored.refreshed_at >= cutoff)
    }

    /// The time left before the caller's deadline, if it is too little to start a refresh.
    fn too_close_to_deadline(&self, need: &Need) -> Option<Duration> {
        let left = need.deadline?.saturating_duration_since(Instant::now());
        (left < self.vault.options.min_time_for_refresh).then_some(left)
    }

    /// Whether `stored` can be handed out without a refresh: usable, or, when it is too late to
    /// refresh, still valid until the caller's deadline (the caller needs no other token).
    fn serves(&self, stored: &StoredTokens, need: &Need) -> bool {
        self.usable(stored, need)
            || self.too_close_to_deadline(need).is_some_and(|left| {
                let until_deadline =
                    chrono::Duration::from_std(left).unwrap_or(chrono::Duration::MAX);
                self.valid_for(stored, need, until_deadline)
            })
    }

    /// The refusal to start a refresh with only `left` before the caller's deadline. Nothing
    /// was sent to Zoom and nothing written: the stored tokens are as they were.
    fn no_time_to_refresh(&self, left: Duration) -> TokenError {
        tracing::info!(
            connection_id = %self.connection_id,
            left_ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
            needed_ms = u64::try_from(self.vault.options.min_time_for_refresh.as_millis())
                .unwrap_or(u64::MAX),
            "token refresh not started: too close to the invocation's deadline"
        );
        TokenError::NoTimeToRefresh {
            left,
            needed: self.vault.options.min_time_for_refresh,
        }
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
            && self.serves(stored, need)
        {
            return Ok((stored.tokens.clone(), false));
        }
        let stored = self.read().await?;
        if self.serves(&stored, need) {
            let tokens = stored.tokens.clone();
            *cached = Some(stored);
            return Ok((tokens, false));
        }
        // Too close to the deadline: no lease, no refresh (checked again under the lease).
        if let Some(left) = self.too_close_to_deadline(need) {
            return Err(self.no_time_to_refresh(left));
        }
        let (stored, refreshed) = self.refresh_serialized(need).await?;
        let tokens = stored.tokens.clone();
        *cached = Some(stored);
        Ok((tokens, refreshed))
    }

    async fn refresh_serialized(&self, need: &Need) -> Result<(StoredTokens, bool), TokenError> {
        let lease = refresh_lease_name(&self.connection_id);
        let options = &self.vault.options;
        let wait_until = Instant::now() + options.wait_timeout;
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
                let need = need.clone();
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
            if self.serves(&stored, need) {
                return Ok((stored, false));
            }
            if Instant::now() >= wait_until {
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
        if self.serves(&stored, need) {
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
        // The last moment before Zoom is asked: time may have passed waiting for the lease.
        if let Some(left) = self.too_close_to_deadline(need) {
            return Err(self.no_time_to_refresh(left));
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
    async fn access_token(&self, deadline: Option<Instant>) -> Result<AccessToken, TokenError> {
        let need = Need {
            rejected: None,
            refreshed_before: None,
            deadline,
        };
        self.obtain(&need).await.map(|(t, _)| AccessToken::from(&t))
    }

    async fn token_rejected(
        &self,
        rejected: &AccessToken,
        deadline: Option<Instant>,
    ) -> Result<AccessToken, TokenError> {
        let need = Need {
            rejected: Some(rejected.token.clone()),
            refreshed_before: None,
            deadline,
        };
        self.obtain(&need).await.map(|(t, _)| AccessToken::from(&t))
    }
}

#[cfg(test)]
mod tests {
    //! The deadline rule on in-memory fakes: what reaches Zoom's token endpoint and what is
    //! written, with 10 s and with 60 s before the caller's deadline.

    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::StreamExt;
    use futures::stream::BoxStream;

    use super::*;
    use crate::records::{ConnectionRecord, ConnectionSettings, Lease, ZoomRegion};

    /// The one connection's secret; counts writes.
    #[derive(Default)]
    struct Tokens {
        stored: Mutex<Option<StoredTokens>>,
        writes: AtomicUsize,
    }

    #[async_trait]
    impl TokenStore for Tokens {
        async fn read(&self, _: &str) -> Result<Option<StoredTokens>, StoreError> {
            Ok(self.stored.lock().unwrap().clone())
        }
        async fn write(&self, _: &str, tokens: &StoredTokens) -> Result<(), StoreError> {
            self.writes.fetch_add(1, Ordering::SeqCst);
            *self.stored.lock().unwrap() = Some(tokens.clone());
            Ok(())
        }
        async fn delete(&self, _: &str) -> Result<(), StoreError> {
            *self.stored.lock().unwrap() = None;
            Ok(())
        }
    }

    /// A lease nobody else holds; counts acquisitions.
    #[derive(Default)]
    struct Leases {
        acquired: AtomicUsize,
    }

    #[async_trait]
    impl LeaseStore for Leases {
        async fn acquire(&self, _: &str, _: &str, _: Duration) -> Result<bool, StoreError> {
            self.acquired.fetch_add(1, Ordering::SeqCst);
            Ok(true)
        }
        async fn release(&self, _: &str, _: &str) -> Result<bool, StoreError> {
            Ok(true)
        }
        async fn get_lease(&self, _: &str) -> Result<Option<Lease>, StoreError> {
            Ok(None)
        }
    }

    /// The one connection, active until something marks it.
    struct Connections(Mutex<ConnectionRecord>);

    #[async_trait]
    impl ConnectionStore for Connections {
        async fn insert_connection(&self, _: &ConnectionRecord) -> Result<(), StoreError> {
            Err(StoreError::ConditionFailed)
        }
        async fn get_connection(&self, _: &str) -> Result<Option<ConnectionRecord>, StoreError> {
            Ok(Some(self.0.lock().unwrap().clone()))
        }
        async fn find_connection_by_zoom_account(
            &self,
            _: &str,
        ) -> Result<Option<ConnectionRecord>, StoreError> {
            Ok(None)
        }
        async fn update_connection_if(
            &self,
            _: &str,
            change: &(dyn for<'r> Fn(&'r mut ConnectionRecord) -> bool + Send + Sync),
        ) -> Result<ConnectionRecord, StoreError> {
            let mut record = self.0.lock().unwrap();
            let mut next = record.clone();
            if change(&mut next) {
                *record = next;
            }
            Ok(record.clone())
        }
        async fn delete_connection(&self, _: &str) -> Result<(), StoreError> {
            Ok(())
        }
        fn list_connections(&self) -> BoxStream<'_, Result<ConnectionRecord, StoreError>> {
            futures::stream::iter(vec![Ok(self.0.lock().unwrap().clone())]).boxed()
        }
    }

    /// Zoom's token endpoint: counts refreshes, hands out `at-new-{n}` for an hour.
    #[derive(Default)]
    struct Refresher {
        refreshes: AtomicUsize,
    }

    #[async_trait]
    impl TokenRefresher for Refresher {
        async fn refresh(&self, _: &Secret) -> Result<TokenSet, TokenError> {
            let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(TokenSet {
                access_token: Secret::new(format!("at-new-{n}")),
                refresh_token: Secret::new(format!("rt-new-{n}")),
                expires_at: Utc::now() + chrono::Duration::hours(1),
                scope: String::new(),
                api_url: None,
            })
        }
    }

    struct Fixture {
        tokens: Arc<Tokens>,
        leases: Arc<Leases>,
        connections: Arc<Connections>,
        refresher: Arc<Refresher>,
        original: StoredTokens,
        vault: TokenVault,
    }

    /// Connection `c1` whose access token expires `expires_in` from now.
    fn fixture(expires_in: chrono::Duration) -> Fixture {
        let original = StoredTokens {
            tokens: TokenSet {
                access_token: Secret::new("at-old"),
                refresh_token: Secret::new("rt-old"),
                expires_at: Utc::now() + expires_in,
                scope: String::new(),
                api_url: None,
            },
            refreshed_at: Utc::now() - chrono::Duration::hours(1),
        };
        let tokens = Arc::new(Tokens::default());
        *tokens.stored.lock().unwrap() = Some(original.clone());
        let leases = Arc::new(Leases::default());
        let connections = Arc::new(Connections(Mutex::new(ConnectionRecord::new(
            "c1",
            "zoom-c1",
            ZoomRegion::Na,
            ConnectionSettings::default(),
            Utc::now(),
        ))));
        let refresher = Arc::new(Refresher::default());
        let vault = TokenVault {
            tokens: tokens.clone(),
            leases: leases.clone(),
            connections: connections.clone(),
            refresher: refresher.clone(),
            options: VaultOptions::default(),
        };
        Fixture {
            tokens,
            leases,
            connections,
            refresher,
            original,
            vault,
        }
    }

    impl Fixture {
        fn refreshes(&self) -> usize {
            self.refresher.refreshes.load(Ordering::SeqCst)
        }
        fn stored(&self) -> StoredTokens {
            self.tokens.stored.lock().unwrap().clone().unwrap()
        }
        fn connection_active(&self) -> bool {
            self.connections.0.lock().unwrap().status.is_active()
        }
    }

    fn in_secs(secs: u64) -> Option<Instant> {
        Some(Instant::now() + Duration::from_secs(secs))
    }

    #[test]
    fn the_minimum_is_thirty_seconds() {
        assert_eq!(MIN_TIME_FOR_REFRESH, Duration::from_secs(30));
        assert_eq!(
            VaultOptions::default().min_time_for_refresh,
            MIN_TIME_FOR_REFRESH
        );
    }

    /// A 60-second token received `age` seconds ago.
    fn sixty_second_token(f: &Fixture, age: i64) {
        let mut stored = f.original.clone();
        stored.refreshed_at = Utc::now() - chrono::Duration::seconds(age);
        stored.tokens.expires_at = stored.refreshed_at + chrono::Duration::seconds(60);
        *f.tokens.stored.lock().unwrap() = Some(stored);
    }

    #[tokio::test]
    async fn a_short_lived_token_serves_three_quarters_of_its_life() {
        // The 5-minute margin would refresh a 60-second token before every request; a
        // quarter of its lifetime (15 s) is the margin instead.
        let f = fixture(chrono::Duration::minutes(50));
        sixty_second_token(&f, 40);
        let token = f.vault.token_source("c1").access_token(None).await.unwrap();
        assert_eq!(token.token.expose(), "at-old");
        assert_eq!(f.refreshes(), 0);
        sixty_second_token(&f, 50);
        let token = f.vault.token_source("c1").access_token(None).await.unwrap();
        assert_eq!(token.token.expose(), "at-new-1");
        assert_eq!(f.refreshes(), 1);
        // An hour-long token keeps the configured 5 minutes.
        let f = fixture(chrono::Duration::minutes(4));
        let mut stored = f.stored();
        stored.refreshed_at = stored.tokens.expires_at - chrono::Duration::hours(1);
        *f.tokens.stored.lock().unwrap() = Some(stored);
        f.vault.token_source("c1").access_token(None).await.unwrap();
        assert_eq!(f.refreshes(), 1);
    }

    #[tokio::test]
    async fn an_expired_token_is_not_refreshed_with_ten_seconds_left() {
        let f = fixture(-chrono::Duration::minutes(1));
        let source = f.vault.token_source("c1");
        let err = source.access_token(in_secs(10)).await.unwrap_err();
        match &err {
            TokenError::NoTimeToRefresh { left, needed } => {
                assert!(*left <= Duration::from_secs(10), "{left:?}");
                assert_eq!(*needed, Duration::from_secs(30));
            }
            other => panic!("expected NoTimeToRefresh, got {other:?}"),
        }
        assert!(err.is_retryable() && err.is_out_of_time(), "{err}");
        assert!(
            err.to_string()
                .contains("not enough time left to refresh the Zoom tokens safely"),
            "{err}"
        );
        assert!(
            err.to_string().contains("the unit will be retried"),
            "{err}"
        );
        assert_eq!(f.refreshes(), 0, "no refresh request reached Zoom");
        assert_eq!(f.stored(), f.original, "the stored tokens are unchanged");
        assert_eq!(f.tokens.writes.load(Ordering::SeqCst), 0);
        assert_eq!(
            f.leases.acquired.load(Ordering::SeqCst),
            0,
            "no lease taken"
        );
        assert!(f.connection_active(), "not a dead grant");
    }

    #[tokio::test]
    async fn an_expired_token_is_refreshed_with_sixty_seconds_left() {
        let f = fixture(-chrono::Duration::minutes(1));
        let source = f.vault.token_source("c1");
        let token = source.access_token(in_secs(60)).await.unwrap();
        assert_eq!(f.refreshes(), 1);
        assert_eq!(token.token.expose(), "at-new-1");
        let stored = f.stored();
        assert_eq!(stored.tokens.refresh_token.expose(), "rt-new-1");
        assert_eq!(stored.tokens.access_token, token.token);
        assert!(f.connection_active());
        // Without a deadline too.
        let f = fixture(-chrono::Duration::minutes(1));
        f.vault.token_source("c1").access_token(None).await.unwrap();
        assert_eq!(f.refreshes(), 1);
    }

    #[tokio::test]
    async fn a_valid_token_is_served_with_ten_seconds_left() {
        let f = fixture(chrono::Duration::minutes(50));
        let source = f.vault.token_source("c1");
        let token = source.access_token(in_secs(10)).await.unwrap();
        assert_eq!(token.token, f.original.tokens.access_token);
        // Served from the instance's cache as well.
        let again = source.access_token(in_secs(10)).await.unwrap();
        assert_eq!(again.token, f.original.tokens.access_token);
        assert_eq!(f.refreshes(), 0);
        assert_eq!(f.stored(), f.original);
    }

    /// Within the refresh margin (5 minutes) a token is normally refreshed; too close to the
    /// deadline, one that outlives the deadline is served as it is, one that does not is not.
    #[tokio::test]
    async fn a_token_due_for_refresh_is_served_if_it_outlives_the_deadline() {
        let f = fixture(chrono::Duration::minutes(2));
        let token = f
            .vault
            .token_source("c1")
            .access_token(in_secs(10))
            .await
            .unwrap();
        assert_eq!(token.token, f.original.tokens.access_token);
        assert_eq!(f.refreshes(), 0);
        assert_eq!(f.stored(), f.original);
        // With time enough, it is refreshed as usual.
        f.vault
            .token_source("c1")
            .access_token(in_secs(60))
            .await
            .unwrap();
        assert_eq!(f.refreshes(), 1);

        let f = fixture(chrono::Duration::seconds(5));
        let err = f
            .vault
            .token_source("c1")
            .access_token(in_secs(10))
            .await
            .unwrap_err();
        assert!(err.is_out_of_time(), "{err}");
        assert_eq!(f.refreshes(), 0);
        assert_eq!(f.stored(), f.original);
    }

    /// A token Zoom rejected is not handed out again, and not replaced with 10 s left.
    #[tokio::test]
    async fn a_rejected_token_is_not_replaced_with_ten_seconds_left() {
        let f = fixture(chrono::Duration::minutes(50));
        let source = f.vault.token_source("c1");
        let token = source.access_token(in_secs(10)).await.unwrap();
        let err = source
            .token_rejected(&token, in_secs(10))
            .await
            .unwrap_err();
        assert!(err.is_out_of_time(), "{err}");
        assert_eq!(f.refreshes(), 0);
        assert_eq!(f.stored(), f.original);
        assert!(f.connection_active());
        let next = source.token_rejected(&token, in_secs(60)).await.unwrap();
        assert_ne!(next.token, token.token);
        assert_eq!(f.refreshes(), 1);
    }
}
