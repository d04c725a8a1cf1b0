//! An in-memory [`TokenSource`] with single-flight refresh, for tests and local use.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::{AccessToken, TokenError, TokenRefresher, TokenSet, TokenSource};

/// Called with every rotated token set before its access token is handed out. Returning an
/// error withholds the new access token (the refresh is reported as `StoreFailed`).
pub type PersistFn = dyn Fn(&TokenSet) -> Result<(), TokenError> + Send + Sync;

enum State {
    /// The tokens and when they were received (their lifetime sets the refresh margin).
    Ready(TokenSet, DateTime<Utc>),
    /// The grant is dead; no further refresh is attempted (no hot loop against Zoom).
    Dead(String),
    Empty,
}

/// Keeps one authorization's tokens in memory.
///
/// - Refreshes `margin` (default 60 s) before expiry, or a quarter of the token's lifetime
///   if that is shorter ([`crate::refresh_margin`]).
/// - Single-flight: concurrent callers wait for one refresh; a refresh happens under the lock,
///   so exactly one request reaches Zoom's token endpoint.
/// - `token_rejected` refreshes only if the rejected token is still the current one.
/// - The rotated set (with the new refresh token) is stored — and handed to the persist hook —
///   before the new access token is returned to anyone.
pub struct MemoryTokenSource {
    refresher: Arc<dyn TokenRefresher>,
    state: Mutex<State>,
    margin: chrono::Duration,
    persist: Option<Box<PersistFn>>,
    refreshes: AtomicU64,
}

impl std::fmt::Debug for MemoryTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTokenSource")
            .field("margin", &self.margin)
            .field("refreshes", &self.refreshes.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl MemoryTokenSource {
    pub fn new(tokens: TokenSet, refresher: Arc<dyn TokenRefresher>) -> Self {
        Self {
            refresher,
            state: Mutex::new(State::Ready(tokens, Utc::now())),
            margin: chrono::Duration::seconds(60),
            persist: None,
            refreshes: AtomicU64::new(0),
        }
    }

    /// A source without tokens: every call fails with [`TokenError::Missing`].
    pub fn empty(refresher: Arc<dyn TokenRefresher>) -> Self {
        let mut source = Self::new(placeholder(), refresher);
        source.state = Mutex::new(State::Empty);
        source
    }

    /// Refresh this long before the access token expires (default 60 s).
    pub fn with_margin(mut self, margin: std::time::Duration) -> Self {
        self.margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::seconds(60));
        self
    }

    /// Hand every rotated token set to `persist` before its access token is used.
    pub fn with_persist(
        mut self,
        persist: impl Fn(&TokenSet) -> Result<(), TokenError> + Send + Sync + 'static,
    ) -> Self {
        self.persist = Some(Box::new(persist));
        self
    }

    /// How many refreshes this source has performed.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// The current token set (e.g. to store it at the end of a run).
    pub async fn tokens(&self) -> Option<TokenSet> {
        match &*self.state.lock().await {
            State::Ready(set, _) => Some(set.clone()),
            _ => None,
        }
    }

    /// Replace the tokens (e.g. after a new authorization).
    pub async fn set_tokens(&self, tokens: TokenSet) {
        *self.state.lock().await = State::Ready(tokens, Utc::now());
    }

    async fn refresh_locked(&self, state: &mut State) -> Result<AccessToken, TokenError> {
        let current = match state {
            State::Ready(set, _) => set.clone(),
            State::Dead(reason) => {
                return Err(TokenError::InvalidGrant {
                    reason: reason.clone(),
                });
            }
            State::Empty => return Err(TokenError::Missing),
        };
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        match self.refresher.refresh(&current.refresh_token).await {
            Ok(new_set) => {
                if let Some(persist) = &self.persist
                    && let Err(e) = persist(&new_set)
                {
                    // Keep the new set in memory anyway: the old refresh token is dead.
                    *state = State::Ready(new_set, Utc::now());
                    return Err(TokenError::StoreFailed {
                        reason: e.to_string(),
                    });
                }
                let token = AccessToken::from(&new_set);
                *state = State::Ready(new_set, Utc::now());
                tracing::debug!("Zoom access token refreshed");
                Ok(token)
            }
            Err(TokenError::InvalidGrant { reason }) => {
                *state = State::Dead(reason.clone());
                Err(TokenError::InvalidGrant { reason })
            }
            Err(e) => Err(e),
        }
    }
}

fn placeholder() -> TokenSet {
    TokenSet {
        access_token: crate::Secret::new(String::new()),
        refresh_token: crate::Secret::new(String::new()),
        expires_at: Utc::now(),
        scope: String::new(),
        api_url: None,
    }
}

/// The caller's deadline is not consulted: the tokens live in this process only, so there is
/// no durable store a refresh could fail to reach (the vault in `ports` honours it).
#[async_trait]
impl TokenSource for MemoryTokenSource {
    async fn access_token(&self, _deadline: Option<Instant>) -> Result<AccessToken, TokenError> {
        let mut state = self.state.lock().await;
        if let State::Ready(set, received_at) = &*state
            && !set.refresh_due(self.margin, *received_at, Utc::now())
        {
            return Ok(AccessToken::from(set));
        }
        self.refresh_locked(&mut state).await
    }

    async fn token_rejected(
        &self,
        rejected: &AccessToken,
        _deadline: Option<Instant>,
    ) -> Result<AccessToken, TokenError> {
        let mut state = self.state.lock().await;
        if let State::Ready(set, received_at) = &*state
            && set.access_token != rejected.token
            && !set.refresh_due(self.margin, *received_at, Utc::now())
        {
            // Someone already replaced the rejected token.
            return Ok(AccessToken::from(set));
        }
        self.refresh_locked(&mut state).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use std::sync::Mutex as StdMutex;

    /// A refresher that rotates like Zoom: each refresh token works once.
    struct Rotating {
        valid: StdMutex<String>,
        n: AtomicU64,
    }

    #[async_trait]
    impl TokenRefresher for Rotating {
        async fn refresh(&self, rt: &Secret) -> Result<TokenSet, TokenError> {
            tokio::task::yield_now().await;
            let mut valid = self.valid.lock().unwrap();
            if rt.expose() != *valid {
                return Err(TokenError::InvalidGrant {
                    reason: "Invalid Token!".into(),
                });
            }
            let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
            *valid = format!("rt{n}");
            Ok(TokenSet {
                access_token: Secret::new(format!("at{n}")),
                refresh_token: Secret::new(format!("rt{n}")),
                expires_at: Utc::now() + chrono::Duration::seconds(3599),
                scope: String::new(),
                api_url: None,
            })
        }
    }

    fn expired() -> TokenSet {
        TokenSet {
            access_token: Secret::new("at0"),
            refresh_token: Secret::new("rt0"),
            expires_at: Utc::now() - chrono::Duration::seconds(1),
            scope: String::new(),
            api_url: None,
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_refresh() {
        let refresher = Arc::new(Rotating {
            valid: StdMutex::new("rt0".into()),
            n: AtomicU64::new(0),
        });
        let source = Arc::new(MemoryTokenSource::new(expired(), refresher.clone()));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let s = source.clone();
                tokio::spawn(async move { s.access_token(None).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().token.expose(), "at1");
        }
        assert_eq!(refresher.n.load(Ordering::SeqCst), 1);
        assert_eq!(source.refresh_count(), 1);
    }

    #[tokio::test]
    async fn rejected_token_refreshes_once_and_stale_reports_are_ignored() {
        let refresher = Arc::new(Rotating {
            valid: StdMutex::new("rt0".into()),
            n: AtomicU64::new(0),
        });
        let mut set = expired();
        set.expires_at = Utc::now() + chrono::Duration::hours(1);
        let source = MemoryTokenSource::new(set, refresher.clone());
        let old = source.access_token(None).await.unwrap();
        let new = source.token_rejected(&old, None).await.unwrap();
        assert_eq!(new.token.expose(), "at1");
        // A second report of the same (already replaced) token does not refresh again.
        let again = source.token_rejected(&old, None).await.unwrap();
        assert_eq!(again.token.expose(), "at1");
        assert_eq!(refresher.n.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn persist_runs_before_the_new_token_is_returned_and_dead_grant_sticks() {
        let refresher = Arc::new(Rotating {
            valid: StdMutex::new("rt0".into()),
            n: AtomicU64::new(0),
        });
        let stored = Arc::new(StdMutex::new(Vec::<String>::new()));
        let s2 = stored.clone();
        let source =
            MemoryTokenSource::new(expired(), refresher.clone()).with_persist(move |set| {
                s2.lock()
                    .unwrap()
                    .push(set.refresh_token.expose().to_string());
                Ok(())
            });
        let token = source.access_token(None).await.unwrap();
        assert_eq!(token.token.expose(), "at1");
        assert_eq!(*stored.lock().unwrap(), vec!["rt1".to_string()]);

        // Someone else uses the refresh token: our next refresh gets invalid_grant, and after
        // that the source answers InvalidGrant without asking Zoom again.
        *refresher.valid.lock().unwrap() = "elsewhere".into();
        let err = source.token_rejected(&token, None).await.unwrap_err();
        assert!(matches!(err, TokenError::InvalidGrant { .. }));
        let err = source.access_token(None).await.unwrap_err();
        assert!(matches!(err, TokenError::InvalidGrant { .. }));
        assert_eq!(source.refresh_count(), 2);
    }
}
