//! Sandbox configuration: the tenant, the OAuth apps, rate limits, faults and token lifetimes.
//! (Owner: OAuth/gate side. Extend freely; keep `SandboxConfig::demo()` working.)

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::config_error::ConfigError;
use crate::faults::FaultConfig;
use crate::tenant::{TenantSpec, fixed_anchor, fixed_now};

/// One OAuth app registered with the sandbox (a Zoom Marketplace app).
#[derive(Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    /// Allow-listed redirect URIs (exact match).
    pub redirect_uris: Vec<String>,
    /// Scopes granted to every token of this app (Zoom configures scopes on the app, not per
    /// authorization request).
    pub scopes: Vec<String>,
    /// Secret token used to sign webhook events.
    pub webhook_secret: String,
}

impl fmt::Debug for OAuthApp {
    // Never print the client secret or the webhook secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_uris", &self.redirect_uris)
            .field("scopes", &self.scopes)
            .field("webhook_secret", &"<redacted>")
            .finish()
    }
}

/// What `GET /oauth/authorize` does once the request is valid (Zoom would show a consent page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentMode {
    /// Redirect at once to `redirect_uri?code=…&state=…`.
    #[default]
    Approve,
    /// Redirect at once to `redirect_uri?error=access_denied&state=…`.
    Deny,
}

impl FromStr for ConsentMode {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "approve" => Ok(Self::Approve),
            "deny" => Ok(Self::Deny),
            other => Err(ConfigError(format!(
                "unknown consent mode {other:?} (expected approve or deny)"
            ))),
        }
    }
}

/// Which account (and its owner) authorizes the app in `GET /oauth/authorize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthorizeAs {
    /// The master account's owner (the normal case for this connector).
    #[default]
    Master,
    /// The owner of a stand-alone account without the Master Account feature.
    Standalone,
}

impl FromStr for AuthorizeAs {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "master" => Ok(Self::Master),
            "standalone" => Ok(Self::Standalone),
            other => Err(ConfigError(format!(
                "unknown account {other:?} (expected master or standalone)"
            ))),
        }
    }
}

/// Zoom's rate-limit plan profiles (REFERENCE §8), or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitProfile {
    /// Business and above (also Enterprise, Partners).
    Business,
    /// Same numbers as Business.
    Education,
    Pro,
    Free,
    /// No rate limits at all.
    #[default]
    Off,
}

impl FromStr for RateLimitProfile {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "business" => Ok(Self::Business),
            "education" => Ok(Self::Education),
            "pro" => Ok(Self::Pro),
            "free" => Ok(Self::Free),
            "off" | "none" => Ok(Self::Off),
            other => Err(ConfigError(format!(
                "unknown rate-limit profile {other:?} (expected business, education, pro, free or off)"
            ))),
        }
    }
}

/// Whose budget a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetMode {
    /// The token's account: a master token calling `/accounts/{subId}/…` draws on the master's
    /// budget (Zoom staff, 2021; REFERENCE §8). The default.
    #[default]
    Token,
    /// The account addressed by `/accounts/{accountId}/…` (the token's account otherwise).
    Target,
}

impl FromStr for BudgetMode {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "token" | "master" => Ok(Self::Token),
            "target" => Ok(Self::Target),
            other => Err(ConfigError(format!(
                "unknown budget mode {other:?} (expected token or target)"
            ))),
        }
    }
}

/// Rate-limit settings; switchable at run time through `/_sandbox/rate-limits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub profile: RateLimitProfile,
    /// Every per-second/per-minute limit is multiplied by this (so benchmarks fit in minutes).
    pub scale: f64,
    /// Multiplier for the daily caps; `None` uses `scale`.
    pub daily_scale: Option<f64>,
    pub budget: BudgetMode,
    /// Share (0 to 0.95) of every per-second budget another app installed on the account
    /// spends while the sandbox runs (Zoom's limits are shared by every app of the account):
    /// at each whole second it takes that share of a second's refill at once, a burst rather
    /// than a steady trickle (the harsher of the two; Zoom does not say how other apps spend).
    /// The limit headers still show the account's whole limit.
    pub foreign_share: f64,
    /// Whether answers carry `X-RateLimit-*` and a 429's `Retry-After` (on by default). Zoom's
    /// 2026 page no longer documents them (REFERENCE §8); off plays a Zoom that sends none.
    pub limit_headers: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            profile: RateLimitProfile::Off,
            scale: 1.0,
            daily_scale: None,
            budget: BudgetMode::Token,
            foreign_share: 0.0,
            limit_headers: true,
        }
    }
}

impl RateLimitConfig {
    pub fn profile(profile: RateLimitProfile) -> Self {
        Self {
            profile,
            ..Self::default()
        }
    }

    pub fn effective_daily_scale(&self) -> f64 {
        self.daily_scale.unwrap_or(self.scale)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let ok = |x: f64| x.is_finite() && x > 0.0;
        if !ok(self.scale) || !self.daily_scale.is_none_or(ok) {
            return Err(ConfigError(
                "rate-limit scales must be finite and greater than zero".into(),
            ));
        }
        if !(0.0..=0.95).contains(&self.foreign_share) {
            return Err(ConfigError(
                "the foreign app's share must be between 0 and 0.95".into(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub tenant: TenantSpec,
    pub apps: Vec<OAuthApp>,
    /// Access-token lifetime in seconds (Zoom: 3599).
    pub access_token_ttl_secs: u64,
    /// Authorization-code lifetime in seconds (Zoom: 300).
    pub code_ttl_secs: u64,
    pub rate_limits: RateLimitConfig,
    /// Faults injected from the start (more can be set through `/_sandbox/faults`).
    pub faults: FaultConfig,
    pub consent: ConsentMode,
    pub authorize_as: AuthorizeAs,
    /// `api_url` returned in token responses. `None`: `http://{Host header}` of the token request,
    /// i.e. the sandbox's own base URL as the client reached it.
    pub public_url: Option<String>,
    /// What the sandbox clock reads when it starts (it runs on from there). `None`: real time,
    /// as Zoom's (the binary, the demo, and tests that compare the sandbox's times with their
    /// own clock, such as signed webhooks or daily-cap resets).
    pub clock_start: Option<DateTime<Utc>>,
}

/// Every scope the connector needs, classic and granular.
pub const DEFAULT_SCOPES: &[&str] = &[
    "account:master",
    "user:master",
    "report:master",
    "meeting:master",
    "billing:master",
    "user:read:admin",
    "user:write:admin",
    "meeting:read:admin",
    "report:read:admin",
];

impl SandboxConfig {
    /// The 3-account demo tenant with one app holding every scope the connector needs.
    /// Rate limits are off (tests opt in); the binary defaults to the Business profile.
    pub fn demo() -> Self {
        Self {
            tenant: TenantSpec::demo(),
            apps: vec![OAuthApp {
                client_id: "sandbox-client-id".into(),
                client_secret: "sandbox-client-secret".into(),
                redirect_uris: vec!["http://localhost:9000/oauth/callback".into()],
                scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
                webhook_secret: "sandbox-webhook-secret".into(),
            }],
            access_token_ttl_secs: 3599,
            code_ttl_secs: 300,
            rate_limits: RateLimitConfig::default(),
            faults: FaultConfig::default(),
            consent: ConsentMode::Approve,
            authorize_as: AuthorizeAs::Master,
            public_url: None,
            clock_start: None,
        }
    }

    /// The same sandbox at a fixed date, for tests whose users and boundaries must not change
    /// with the day they run: the tenant anchored at [`fixed_anchor`] (its seed and shape
    /// kept) and the clock started at [`fixed_now`] (36 hours later).
    pub fn at_fixed_date(mut self) -> Self {
        self.tenant = self.tenant.with_anchor(fixed_anchor());
        self.clock_start = Some(fixed_now());
        self
    }

    /// Starts the sandbox clock at `start` (see [`SandboxConfig::clock_start`]).
    pub fn with_clock_start(mut self, start: DateTime<Utc>) -> Self {
        self.clock_start = Some(start);
        self
    }

    /// Builder-style helpers for tests.
    pub fn with_rate_limits(mut self, rate_limits: RateLimitConfig) -> Self {
        self.rate_limits = rate_limits;
        self
    }

    pub fn with_faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        for app in &mut self.apps {
            app.scopes = scopes.iter().map(|s| s.to_string()).collect();
        }
        self
    }

    pub fn with_access_token_ttl(mut self, secs: u64) -> Self {
        self.access_token_ttl_secs = secs;
        self
    }

    /// The app with this client id.
    pub fn app(&self, client_id: &str) -> Option<&OAuthApp> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }
}

/// Parse a `--tenant` value: a preset (`demo`, `small`, `medium`, `large`, `huge`, or
/// `SUBS:USERS` such as `20:5000`), optionally followed by comma-separated `key=value` overrides,
/// or overrides alone (applied to `demo`): `subs=20` (sub accounts), `users=5000` (users across
/// the master and its sub accounts), `users_per_account=250`, `meetings=5` (per user),
/// `participants=5` (per past meeting), `legacy=1` (sub accounts with On-prem users),
/// `standalone=8` (users of the stand-alone account), `dormant=30` (percent of active members
/// without activity for 100+ days; the local demo's reclamation candidates), `seed=7`,
/// `anchor=2026-01-01T00:00:00Z` (the tenant's "now"). Example: `medium,seed=3` or
/// `subs=20,users=5000`.
pub fn parse_tenant_spec(s: &str) -> Result<TenantSpec, ConfigError> {
    let s = s.trim();
    let mut parts = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .peekable();
    let mut spec = match parts.peek() {
        Some(first) if !first.contains('=') => {
            let spec = TenantSpec::preset(first, TenantSpec::demo().seed).ok_or_else(|| {
                ConfigError(format!(
                    "unknown tenant preset {first:?} (demo, small, medium, large, huge or SUBS:USERS)"
                ))
            })?;
            parts.next();
            spec
        }
        _ => TenantSpec::demo(),
    };
    let mut subs_given = false;
    for part in parts {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| ConfigError(format!("tenant spec item {part:?} is not key=value")))?;
        let key = key.trim();
        let number = |v: &str| {
            v.trim()
                .replace('_', "")
                .parse::<u64>()
                .map_err(|_| ConfigError(format!("tenant spec {key}: {v:?} is not a number")))
        };
        match key {
            "subs" | "sub_accounts" => {
                spec.sub_accounts = to_u32(key, number(value)?)?;
                subs_given = true;
            }
            "users" | "total_users" => {
                spec.total_users = to_u32(key, number(value)?)?;
                spec.users_per_account = 0;
            }
            "users_per_account" => spec.users_per_account = to_u32(key, number(value)?)?,
            "meetings" | "meetings_per_user" => {
                spec.meetings_per_user = to_u32(key, number(value)?)?
            }
            "participants" | "participants_per_meeting" => {
                spec.participants_per_meeting = to_u32(key, number(value)?)?.max(2)
            }
            "legacy" | "legacy_on_prem_accounts" => {
                spec.legacy_on_prem_accounts = to_u32(key, number(value)?)?
            }
            "standalone" | "standalone_users" => {
                spec.standalone_users = to_u32(key, number(value)?)?
            }
            "dormant" | "dormant_percent" => {
                let percent = number(value)?;
                if percent > 100 {
                    return Err(ConfigError(format!(
                        "tenant spec dormant: {percent} is not a percentage (0-100)"
                    )));
                }
                spec.dormant_percent = to_u32(key, percent)?;
            }
            "seed" => spec.seed = number(value)?,
            "anchor" => {
                spec.anchor = value.trim().parse().map_err(|_| {
                    ConfigError(format!(
                        "tenant spec anchor: {value:?} is not an RFC 3339 time"
                    ))
                })?
            }
            other => {
                return Err(ConfigError(format!(
                    "unknown tenant spec key {other:?} (known: subs, users, users_per_account, \
                     meetings, participants, legacy, standalone, dormant, seed, anchor)"
                )));
            }
        }
    }
    if subs_given {
        spec.legacy_on_prem_accounts = spec.legacy_on_prem_accounts.min(spec.sub_accounts);
    }
    Ok(spec)
}

fn to_u32(key: &str, v: u64) -> Result<u32, ConfigError> {
    u32::try_from(v).map_err(|_| ConfigError(format!("tenant spec {key}: {v} is too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_enums() {
        assert_eq!(
            "Business".parse::<RateLimitProfile>().unwrap(),
            RateLimitProfile::Business
        );
        assert!("gold".parse::<RateLimitProfile>().is_err());
        assert_eq!("deny".parse::<ConsentMode>().unwrap(), ConsentMode::Deny);
        assert_eq!(
            "standalone".parse::<AuthorizeAs>().unwrap(),
            AuthorizeAs::Standalone
        );
        assert_eq!("target".parse::<BudgetMode>().unwrap(), BudgetMode::Target);
    }

    #[test]
    fn parses_tenant_specs() {
        let spec = parse_tenant_spec("subs=20,users=5_000,seed=9,meetings=2").unwrap();
        assert_eq!(spec.sub_accounts, 20);
        assert_eq!(spec.total_users, 5000);
        assert_eq!(spec.users_per_account, 0);
        assert_eq!(spec.meetings_per_user, 2);
        assert_eq!(spec.seed, 9);
        let medium = parse_tenant_spec("medium,seed=3").unwrap();
        assert_eq!(medium, TenantSpec::preset("medium", 3).unwrap());
        let custom = parse_tenant_spec("20:5000").unwrap();
        assert_eq!((custom.sub_accounts, custom.total_users), (20, 5000));
        let anchored = parse_tenant_spec("demo,anchor=2026-01-01T00:00:00Z").unwrap();
        assert_eq!(anchored.anchor.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        let dormant = parse_tenant_spec("demo,dormant=30").unwrap();
        assert_eq!(dormant, TenantSpec::demo().with_dormant_percent(30));
        assert!(parse_tenant_spec("demo,dormant=101").is_err());
        assert!(parse_tenant_spec("subs=x").is_err());
        assert!(parse_tenant_spec("colour=blue").is_err());
        assert!(parse_tenant_spec("gigantic").is_err());
        assert_eq!(parse_tenant_spec("demo").unwrap(), TenantSpec::demo());
        assert_eq!(parse_tenant_spec("").unwrap(), TenantSpec::demo());
    }

    #[test]
    fn debug_hides_secrets() {
        let cfg = SandboxConfig::demo();
        let text = format!("{:?}", cfg.apps[0]);
        assert!(!text.contains(&cfg.apps[0].client_secret));
        assert!(!text.contains(&cfg.apps[0].webhook_secret));
    }
}
