//! Configuration from the environment, and the AWS clients built once from it.

use aws_config::{BehaviorVersion, Region};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use base64::Engine;

/// Default table name (infra names the real one per stack and passes it in `ZTS_TABLE_NAME`).
pub(crate) const DEFAULT_TABLE_NAME: &str = "zoom-tiered-sync";
pub(crate) const DEFAULT_TOKEN_SECRET_PREFIX: &str = "zoom-tiered-sync/tokens/";
pub(crate) const DEFAULT_APP_SECRET_ID: &str = "zoom-tiered-sync/app";

/// Names and endpoints only, never secret values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsConfig {
    /// `ZTS_AWS_ENDPOINT_URL`: send every AWS call there (moto); unset in AWS.
    pub endpoint_url: Option<String>,
    /// `ZTS_AWS_REGION`, else the SDK's chain (`AWS_REGION`, profile, Lambda environment).
    pub region: Option<String>,
    /// `ZTS_TABLE_NAME`.
    pub table_name: String,
    /// `ZTS_TOKEN_SECRET_PREFIX`: one secret per connection, named prefix + connection id.
    pub token_secret_prefix: String,
    /// `ZTS_APP_SECRET_ID`: OAuth app credentials per region and the webhook secret token.
    pub app_secret_id: String,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            endpoint_url: None,
            region: None,
            table_name: DEFAULT_TABLE_NAME.into(),
            token_secret_prefix: DEFAULT_TOKEN_SECRET_PREFIX.into(),
            app_secret_id: DEFAULT_APP_SECRET_ID.into(),
        }
    }
}

impl AwsConfig {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Self::from_env`], reading variables through `var` (for tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let defaults = Self::default();
        Self {
            endpoint_url: get("ZTS_AWS_ENDPOINT_URL"),
            region: get("ZTS_AWS_REGION"),
            table_name: get("ZTS_TABLE_NAME").unwrap_or(defaults.table_name),
            token_secret_prefix: get("ZTS_TOKEN_SECRET_PREFIX")
                .unwrap_or(defaults.token_secret_prefix),
            app_secret_id: get("ZTS_APP_SECRET_ID").unwrap_or(defaults.app_secret_id),
        }
    }

    /// The SDK configuration: default credential and region chains, with the endpoint and
    /// region overrides applied.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        // The SDK's default HTTPS client (hyper, rustls with aws-lc-rs, proxy settings from the
        // environment), trusting the roots the Zoom clients use; one client for every service.
        let context = trusted_roots();
        let http = Builder::new().build_with_connector_fn(move |settings, components| {
            let mut connector = ConnectorBuilder::default()
                .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(context.clone());
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(ProxyConfig::from_env()));
            connector.build()
        });
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        loader.load().await
    }
}

/// The root certificates of [`zoom::tls`] as the SDK's trust store: the platform's store is
/// read and parsed once per process instead of once per TLS stack (about 10 ms each on a Debian
/// host, see BENCHMARKS.md).
fn trusted_roots() -> TlsContext {
    let mut trust = TrustStore::empty().with_native_roots(false);
    for cert in zoom::tls::root_certificates() {
        trust.add_pem_certificate(pem(cert));
    }
    TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context from a trust store always builds")
}

/// One certificate, PEM encoded (the SDK's trust store takes PEM).
fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// AWS clients, built once per process (cold start) and shared.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// Reclamation's notices ([`crate::SesNotifier`]).
    pub ses: aws_sdk_sesv2::Client,
    /// Path-style addressing when an endpoint is set (moto has no per-bucket host names).
    pub s3: aws_sdk_s3::Client,
}

impl AwsClients {
    pub async fn new(config: &AwsConfig) -> Self {
        let sdk = config.sdk_config().await;
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            secrets: aws_sdk_secretsmanager::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            ses: aws_sdk_sesv2::Client::new(&sdk),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(config.endpoint_url.is_some())
                    .build(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_every_root_certificate() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        // Any DER bytes survive the encoding (odd lengths, more than one line).
        for der in [
            vec![0u8; 1],
            (0..=255u8).collect::<Vec<_>>(),
            vec![7u8; 1000],
        ] {
            let back: Vec<_> = CertificateDer::pem_slice_iter(pem(&der).as_bytes())
                .collect::<Result<_, _>>()
                .expect("valid PEM");
            assert_eq!(back.len(), 1);
            assert_eq!(back[0].as_ref(), der.as_slice());
        }
        for cert in zoom::tls::root_certificates() {
            let back = CertificateDer::from_pem_slice(pem(cert).as_bytes()).expect("valid PEM");
            assert_eq!(&back, cert);
        }
    }

    #[test]
    fn reads_names_from_the_environment_with_defaults() {
        let cfg = AwsConfig::from_lookup(|name| match name {
            "ZTS_AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000".into()),
            "ZTS_TABLE_NAME" => Some("records".into()),
            "ZTS_AWS_REGION" => Some("  ".into()),
            _ => None,
        });
        assert_eq!(cfg.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(cfg.table_name, "records");
        assert_eq!(cfg.region, None, "blank means unset");
        assert_eq!(cfg.token_secret_prefix, DEFAULT_TOKEN_SECRET_PREFIX);
        assert_eq!(cfg.app_secret_id, DEFAULT_APP_SECRET_ID);
        assert_eq!(AwsConfig::from_lookup(|_| None), AwsConfig::default());
    }
}
