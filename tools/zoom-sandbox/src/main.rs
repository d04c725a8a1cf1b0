//! `zoom-sandbox`: run the sandbox as a server. Every flag also reads `ZOOM_SANDBOX_*`.

use std::net::{IpAddr, SocketAddr};

use clap::Parser;
use tracing_subscriber::EnvFilter;
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::config::{
    self, AuthorizeAs, BudgetMode, ConsentMode, DEFAULT_SCOPES, OAuthApp, RateLimitConfig,
    RateLimitProfile,
};
use zoom_sandbox::faults::FaultConfig;
use zoom_sandbox::tenant::TenantSpec;

const AFTER_HELP: &str = "\
Control endpoints (not Zoom's API):
  GET  /_sandbox/clock               POST /_sandbox/clock/advance {\"seconds\": N}
  GET|PUT /_sandbox/consent {\"mode\": \"approve\"|\"deny\"}
  GET|PUT /_sandbox/authorize-as {\"account\": \"master\"|\"standalone\"}
  GET|POST|DELETE /_sandbox/faults   POST /_sandbox/faults/revoke-tokens
  GET  /_sandbox/stats               POST /_sandbox/stats/reset
  GET|PUT /_sandbox/rate-limits      POST /_sandbox/rate-limits/reset
  POST /_sandbox/webhooks/send {\"url\": ..., \"event\": \"app_deauthorized\"|\"endpoint.url_validation\"}
  GET  /_sandbox/truth               GET /_sandbox/truth/accounts/{accountId}
Logs go to stderr (RUST_LOG, default info); tokens and secrets are never logged.";

/// A local stand-in for Zoom's OAuth and REST API with synthetic master-account tenants,
/// rate limits, injectable faults and signed webhooks.
///
/// Prints `zoom-sandbox listening on http://HOST:PORT` once ready. OAuth lives at
/// `/oauth/authorize|token|revoke`, the API at `/v2`, control and ground truth at `/_sandbox/`.
#[derive(Debug, Parser)]
#[command(name = "zoom-sandbox", version, after_help = AFTER_HELP)]
struct Args {
    /// Port to listen on (0: any free port).
    #[arg(long, env = "ZOOM_SANDBOX_PORT", default_value_t = 0)]
    port: u16,

    /// Address to listen on.
    #[arg(long, env = "ZOOM_SANDBOX_HOST", default_value = "127.0.0.1")]
    host: IpAddr,

    /// Tenant: a preset (demo, small = 5 subs/500 users, medium = 20/5,000, large = 50/50,000,
    /// huge = 50/200,000, or SUBS:USERS) and/or comma-separated overrides: subs, users (total),
    /// users_per_account, meetings (per user), participants (per past meeting), legacy (sub
    /// accounts with On-prem users), standalone (users of the stand-alone account), dormant
    /// (percent of active members without activity for 100+ days), seed, anchor (RFC 3339
    /// "now" of the data). E.g. `medium,seed=3` or `subs=20,users=5000`.
    #[arg(long, env = "ZOOM_SANDBOX_TENANT", default_value = "demo", value_parser = config::parse_tenant_spec)]
    tenant: TenantSpec,

    /// Seed of the synthetic tenant (overrides a `seed=` in --tenant).
    #[arg(long, env = "ZOOM_SANDBOX_SEED")]
    seed: Option<u64>,

    /// Rate-limit profile: business, education, pro, free or off.
    #[arg(long, env = "ZOOM_SANDBOX_RATE_LIMITS", default_value = "business")]
    rate_limits: RateLimitProfile,

    /// Multiply every per-second/per-minute limit by this (e.g. 0.1 makes a benchmark 10 times
    /// longer; 10 makes it shorter).
    #[arg(long, env = "ZOOM_SANDBOX_RATE_SCALE", default_value_t = 1.0)]
    rate_scale: f64,

    /// Multiply the daily caps by this (default: --rate-scale).
    #[arg(long, env = "ZOOM_SANDBOX_DAILY_SCALE")]
    daily_scale: Option<f64>,

    /// Share of every per-second budget another app on the account spends meanwhile (0 to
    /// 0.95; taken in a burst at each whole second).
    #[arg(long, env = "ZOOM_SANDBOX_FOREIGN_SHARE", default_value_t = 0.0)]
    foreign_share: f64,

    /// Leave out `X-RateLimit-*` and a 429's `Retry-After` (Zoom no longer documents them).
    #[arg(long, env = "ZOOM_SANDBOX_NO_LIMIT_HEADERS")]
    no_limit_headers: bool,

    /// Whose budget a request draws on: `token` (the token's account, i.e. the master for calls
    /// on sub accounts; default) or `target` (the account in `/accounts/{accountId}/…`).
    #[arg(long, env = "ZOOM_SANDBOX_RATE_BUDGET", default_value = "token")]
    rate_budget: BudgetMode,

    /// Faults to inject, e.g. `5xx=0.05,drop=0.02,latency=20ms,jitter=10ms,timeout=0.01,hold=30s,429=0.01,burst429=5,seed=7,oauth=true`;
    /// answers lost after the request was carried out: `lost=0.05,lost_methods=PUT,PATCH,POST,lost_paths=/oauth/token,/v2/users`.
    #[arg(long, env = "ZOOM_SANDBOX_FAULTS", default_value = "")]
    faults: FaultConfig,

    /// OAuth app client id.
    #[arg(
        long,
        env = "ZOOM_SANDBOX_CLIENT_ID",
        default_value = "sandbox-client-id"
    )]
    client_id: String,

    /// OAuth app client secret.
    #[arg(
        long,
        env = "ZOOM_SANDBOX_CLIENT_SECRET",
        default_value = "sandbox-client-secret",
        hide_default_value = true,
        hide_env_values = true
    )]
    client_secret: String,

    /// Allowed redirect URI (exact match); repeat the flag for several (env: comma-separated).
    #[arg(
        long = "redirect-uri",
        env = "ZOOM_SANDBOX_REDIRECT_URIS",
        value_delimiter = ',',
        default_value = "http://localhost:9000/oauth/callback"
    )]
    redirect_uris: Vec<String>,

    /// Scopes the app grants, space- or comma-separated (default: every scope the connector needs).
    #[arg(long, env = "ZOOM_SANDBOX_SCOPES")]
    scopes: Option<String>,

    /// Secret token that signs webhook events.
    #[arg(
        long,
        env = "ZOOM_SANDBOX_WEBHOOK_SECRET",
        default_value = "sandbox-webhook-secret",
        hide_default_value = true,
        hide_env_values = true
    )]
    webhook_secret: String,

    /// Access-token lifetime in seconds.
    #[arg(long, env = "ZOOM_SANDBOX_TOKEN_TTL", default_value_t = 3599)]
    token_ttl: u64,

    /// Consent on /oauth/authorize: approve (redirect with a code) or deny (error=access_denied).
    #[arg(long, env = "ZOOM_SANDBOX_CONSENT", default_value = "approve")]
    consent: ConsentMode,

    /// Who authorizes the app: the master account's owner, or a stand-alone account's owner.
    #[arg(long, env = "ZOOM_SANDBOX_AUTHORIZE_AS", default_value = "master")]
    authorize_as: AuthorizeAs,

    /// `api_url` in token responses (default: http://<Host header of the token request>).
    #[arg(long, env = "ZOOM_SANDBOX_PUBLIC_URL")]
    public_url: Option<String>,
}

impl Args {
    fn into_config(self) -> Result<SandboxConfig, String> {
        let mut tenant = self.tenant;
        if let Some(seed) = self.seed {
            tenant.seed = seed;
        }
        let scopes: Vec<String> = match &self.scopes {
            Some(s) => s
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            None => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        };
        let rate_limits = RateLimitConfig {
            profile: self.rate_limits,
            scale: self.rate_scale,
            daily_scale: self.daily_scale,
            budget: self.rate_budget,
            foreign_share: self.foreign_share,
            limit_headers: !self.no_limit_headers,
        };
        rate_limits.validate().map_err(|e| e.to_string())?;
        Ok(SandboxConfig {
            tenant,
            apps: vec![OAuthApp {
                client_id: self.client_id,
                client_secret: self.client_secret,
                redirect_uris: self.redirect_uris,
                scopes,
                webhook_secret: self.webhook_secret,
            }],
            access_token_ttl_secs: self.token_ttl,
            rate_limits,
            faults: self.faults,
            consent: self.consent,
            authorize_as: self.authorize_as,
            public_url: self.public_url,
            ..SandboxConfig::demo()
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let addr = SocketAddr::new(args.host, args.port);
    let config = args.into_config().map_err(anyhow::Error::msg)?;
    tracing::info!(
        rate_limits = ?config.rate_limits,
        faults = ?config.faults,
        sub_accounts = config.tenant.sub_accounts,
        "starting"
    );
    let sandbox = zoom_sandbox::start(config, addr).await?;
    println!("zoom-sandbox listening on {}", sandbox.base_url());
    shutdown_signal().await;
    tracing::info!("shutting down");
    sandbox.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix (how scripts stop the sandbox).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
