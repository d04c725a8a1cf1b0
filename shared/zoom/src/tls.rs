//! One TLS configuration per process for every reqwest client: rustls with aws-lc-rs (the
//! provider the AWS SDK uses too) and the platform's root certificates, read and parsed once.
//!
//! reqwest's default (rustls-platform-verifier) reads the root store again for each client it
//! builds; on a Debian host that is the bundle plus every file of `/etc/ssl/certs`, about 10 ms
//! each time. The roots are the same ones: `rustls-native-certs` (`SSL_CERT_FILE` /
//! `SSL_CERT_DIR`, else the OpenSSL locations; on Lambda the Amazon Linux CA bundle), as the
//! AWS SDK's HTTPS client loads them. Certificates are verified as before (webpki, hostname
//! included).

use std::sync::{Arc, LazyLock};

static ROOTS: LazyLock<Arc<rustls::RootCertStore>> = LazyLock::new(|| {
    let loaded = rustls_native_certs::load_native_certs();
    if !loaded.errors.is_empty() {
        tracing::warn!(errors = ?loaded.errors, "some native root certificates could not be read");
    }
    let mut roots = rustls::RootCertStore::empty();
    let (valid, invalid) = roots.add_parsable_certificates(loaded.certs);
    if valid == 0 {
        tracing::warn!(
            invalid,
            "no native root certificates: every HTTPS request will fail"
        );
    } else {
        tracing::debug!(valid, invalid, "native root certificates loaded");
    }
    Arc::new(roots)
});

/// The rustls configuration of every reqwest client (ALPN: h2, then HTTP/1.1, as reqwest's own).
pub(crate) fn client_config() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports TLS 1.2 and 1.3")
        .with_root_certificates(ROOTS.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// `reqwest::Client::builder()` with the process-wide TLS configuration; use it for every
/// reqwest client of the process so the root store is loaded once.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(client_config())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reqwest_accepts_the_preconfigured_rustls() {
        // An unknown preconfigured backend (another rustls version than reqwest's) fails here.
        http_client_builder()
            .build()
            .expect("reqwest takes this rustls ClientConfig");
    }
}
