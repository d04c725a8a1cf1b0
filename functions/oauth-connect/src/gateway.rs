//! The Zoom side of connecting an account, behind a small trait: the authorize URL, the code
//! exchange, revocation, and the account checks made with the new tokens.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use zoom::{
    AuthorizeRequest, MemoryTokenSource, OAuthClient, RetryPolicy, Secret, TokenError,
    TokenRefresher, TokenSet, ZoomClient, ZoomConfig, ZoomError,
};

/// What the new authorization gives access to.
#[derive(Debug, Clone)]
pub struct AccountCheck {
    pub account_id: String,
    pub account_name: String,
    pub sub_accounts: u64,
    /// The tokens after the checks: a refresh during them rotates the refresh token, and only
    /// the newest one may be stored.
    pub tokens: TokenSet,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Listing sub accounts is refused: the account has no Master Account feature.
    #[error("listing sub accounts was refused (HTTP {status}, code {code:?}): {message}")]
    NotMasterAccount {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    /// Zoom refused a call for lack of a scope (its message names it).
    #[error("Zoom refused a call for lack of a scope: {0}")]
    ScopeRefused(String),
    #[error("Zoom returned an account without an id")]
    NoAccountId,
    #[error(transparent)]
    Zoom(#[from] ZoomError),
    #[error("Zoom client configuration: {0}")]
    Config(String),
}

/// The Zoom operations of the connect flow.
#[async_trait]
pub trait ZoomAuth: Send + Sync {
    /// A fresh authorize URL with a random `state` (≥128 bits) and a PKCE S256 challenge.
    fn authorize(&self) -> AuthorizeRequest;
    async fn exchange_code(&self, code: &Secret, verifier: &Secret)
    -> Result<TokenSet, TokenError>;
    /// Revokes the authorization behind `token`.
    async fn revoke(&self, token: &Secret) -> Result<(), TokenError>;
    /// The account behind `tokens` and its sub accounts (proves the Master Account feature).
    async fn check_account(&self, tokens: TokenSet) -> Result<AccountCheck, VerifyError>;
}

/// [`ZoomAuth`] on Zoom (or the sandbox) through the `zoom` crate. Built once per cold start.
#[derive(Clone)]
pub struct ZoomAuthGateway {
    oauth: Arc<OAuthClient>,
    config: ZoomConfig,
    http: reqwest::Client,
    verify_timeout: Duration,
}

impl std::fmt::Debug for ZoomAuthGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoomAuthGateway")
            .field("oauth", &self.oauth)
            .field("verify_timeout", &self.verify_timeout)
            .finish_non_exhaustive()
    }
}

impl ZoomAuthGateway {
    pub fn new(config: ZoomConfig, verify_timeout: Duration) -> Result<Self, VerifyError> {
        let http = zoom::tls::http_client_builder()
            .timeout(config.request_timeout().min(verify_timeout))
            .connect_timeout(config.connect_timeout())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| VerifyError::Config(format!("HTTP client: {e}")))?;
        let app = config
            .app()
            .map_err(|e| VerifyError::Config(e.to_string()))?
            .clone();
        let oauth = OAuthClient::with_http(&config, app, http.clone())
            .map_err(|e| VerifyError::Config(e.to_string()))?;
        Ok(Self {
            oauth: Arc::new(oauth),
            config,
            http,
            verify_timeout,
        })
    }

    pub fn oauth(&self) -> &OAuthClient {
        &self.oauth
    }
}

/// Zoom's answer to `GET /accounts` from an account that is not a master: HTTP 400 with code
/// 200 ("No permission."), or a 403.
fn not_master(e: &ZoomError) -> Option<VerifyError> {
    match e {
        ZoomError::Api {
            code: Some(4700 | 4711),
            message,
            ..
        } => Some(VerifyError::ScopeRefused(message.clone())),
        ZoomError::Api {
            status: status @ (400 | 403),
            code,
            message,
            ..
        } => Some(VerifyError::NotMasterAccount {
            status: *status,
            code: *code,
            message: message.clone(),
        }),
        ZoomError::DeadlineExceeded { last, .. } if last.status().is_some_and(|s| s < 500) => {
            not_master(last)
        }
        _ => None,
    }
}

#[async_trait]
impl ZoomAuth for ZoomAuthGateway {
    fn authorize(&self) -> AuthorizeRequest {
        self.oauth.authorize_url()
    }

    async fn exchange_code(
        &self,
        code: &Secret,
        verifier: &Secret,
    ) -> Result<TokenSet, TokenError> {
        self.oauth.exchange_code(code, verifier).await
    }

    async fn revoke(&self, token: &Secret) -> Result<(), TokenError> {
        self.oauth.revoke(token).await
    }

    async fn check_account(&self, tokens: TokenSet) -> Result<AccountCheck, VerifyError> {
        let refresher: Arc<dyn TokenRefresher> = self.oauth.clone();
        let source = Arc::new(MemoryTokenSource::new(tokens, refresher));
        let retry = RetryPolicy {
            max_attempts: 3,
            default_budget: self.verify_timeout,
            ..RetryPolicy::default()
        };
        let client = ZoomClient::builder(self.config.clone(), source.clone())
            .http_client(self.http.clone())
            .retry_policy(retry)
            .budget_key("oauth-connect")
            .build()
            .map_err(|e| VerifyError::Config(e.to_string()))?
            .with_deadline(tokio::time::Instant::now() + self.verify_timeout);

        let mut sub_accounts = 0u64;
        let mut stream = client.sub_accounts().stream();
        loop {
            match stream.try_next().await {
                Ok(Some(_)) => sub_accounts += 1,
                Ok(None) => break,
                Err(e) => return Err(not_master(&e).unwrap_or(VerifyError::Zoom(e))),
            }
        }
        let account = client.me().get().await.map_err(|e| match &e {
            ZoomError::Api {
                code: Some(4700 | 4711),
                message,
                ..
            } => VerifyError::ScopeRefused(message.clone()),
            _ => VerifyError::Zoom(e),
        })?;
        if account.id.trim().is_empty() {
            return Err(VerifyError::NoAccountId);
        }
        let tokens = source
            .tokens()
            .await
            .ok_or(VerifyError::Zoom(ZoomError::Token(TokenError::Missing)))?;
        Ok(AccountCheck {
            account_id: account.id,
            account_name: account.account_name,
            sub_accounts,
            tokens,
        })
    }
}
