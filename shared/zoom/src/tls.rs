//! One TLS configuration per process for every reqwest client: rustls with aws-lc-rs (the
//! provider the AWS SDK uses too) and the platform's root certificates, read and parsed once.
//!
//! reqwest's default (rustls-platform-verifier) reads the root store again for each client it
//! builds; on a Debian host that is the bundle plus every file of `/etc/ssl/certs`, about 10 ms
//! each time. The roots are the same ones: `rustls-native-certs` (`SSL_CERT_FILE` /
//! `SSL_CERT_DIR`, else the OpenSSL locations; on Lambda the Amazon Linux CA bundle), as the
//! AWS SDK's HTTPS client loads them; `aws-adapters` hands [`root_certificates`] to the SDK so
//! the process reads the store once. Certificates are verified as before (webpki, hostname
//! included).

use std::sync::{Arc, LazyLock};

use rustls::pki_types::CertificateDer;

/// The platform's roots: the certificates that parsed as trust anchors, and the store.
struct Roots {
    certs: Vec<CertificateDer<'static>>,
    store: Arc<rustls::RootCertStore>,
}

static ROOTS: LazyLock<Roots> = LazyLock::new(|| {
    let loaded = rustls_native_certs::load_native_certs();
    if !loaded.errors.is_empty() {
        tracing::warn!(errors = ?loaded.errors, "some native root certificates could not be read");
    }
    let mut store = rustls::RootCertStore::empty();
    let mut certs = Vec::with_capacity(loaded.certs.len());
    let mut invalid = 0;
    // The bundle and the directory's hash links and named files repeat each certificate (three
    // times on Debian): parse, keep and hand on each one once.
    let mut seen = std::collections::HashSet::with_capacity(loaded.certs.len());
    for cert in loaded.certs {
        if !seen.insert(cert.as_ref().to_vec()) {
            continue;
        }
        match store.add(cert.clone()) {
            Ok(()) => certs.push(cert),
            Err(_) => invalid += 1,
        }
    }
    if certs.is_empty() {
        tracing::warn!(
            invalid,
            "no native root certificates: every HTTPS request will fail"
        );
    } else {
        tracing::debug!(
            valid = certs.len(),
            invalid,
            "native root certificates loaded"
        );
    }
    Roots {
        certs,
        store: Arc::new(store),
    }
});

/// The platform's root certificates (DER), loaded on first use and kept for the process: give
/// them to other HTTPS clients of the process (the AWS SDK's) so the store is read once.
pub fn root_certificates() -> &'static [CertificateDer<'static>] {
    &ROOTS.certs
}

/// The rustls configuration of every reqwest client (ALPN: h2, then HTTP/1.1, as reqwest's own).
pub(crate) fn client_config() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports TLS 1.2 and 1.3")
        .with_root_certificates(ROOTS.store.clone())
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
