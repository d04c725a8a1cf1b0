//! Captures every log line (trace level, span fields included) and every error string of a full
//! run — OAuth flow, refreshes, listings, faults, rejected and revoked tokens — and finds none of
//! the issued tokens, codes, verifiers or the client secret in them.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use zoom::{MemoryTokenSource, Secret, TokenSet, UserStatus, ZoomClient};
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::faults::FaultConfig;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn logs_and_errors_never_contain_tokens_or_secrets() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(buffer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sb = common::sandbox(SandboxConfig::demo().with_access_token_ttl(600)).await;
    let oauth = common::oauth(&sb);
    let mut secrets: Vec<String> = vec![common::CLIENT_SECRET.to_string()];
    let mut texts: Vec<String> = Vec::new();
    let remember = |set: &TokenSet, secrets: &mut Vec<String>| {
        secrets.push(set.access_token.expose().to_string());
        secrets.push(set.refresh_token.expose().to_string());
    };

    // Browser flow and exchange.
    let request = oauth.authorize_url();
    secrets.push(request.pkce_verifier.expose().to_string());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let location = http
        .get(request.url.clone())
        .send()
        .await
        .unwrap()
        .headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    secrets.push(code.clone());
    let tokens = oauth
        .exchange_code(&Secret::new(code.clone()), &request.pkce_verifier)
        .await
        .unwrap();
    remember(&tokens, &mut secrets);
    texts.push(format!("{tokens:?} {oauth:?} {request:?}"));
    // Code reuse and a bad verifier: errors.
    let e = oauth
        .exchange_code(&Secret::new(code), &request.pkce_verifier)
        .await
        .unwrap_err();
    texts.push(format!("{e} {e:?}"));

    // A client on these tokens; listings, refresh through the 401/124 path, faults.
    let source = Arc::new(MemoryTokenSource::new(
        tokens.clone(),
        Arc::new(oauth.clone()),
    ));
    let client = ZoomClient::builder(common::config(&sb), source.clone())
        .retry_policy(common::fast_retries())
        .build()
        .unwrap();
    texts.push(format!("{client:?} {source:?}"));
    for status in [UserStatus::Active, UserStatus::Pending] {
        let users = client
            .me()
            .users(status)
            .page_size(5)
            .collect_all()
            .await
            .unwrap();
        assert!(!users.is_empty());
    }
    sb.state.clock.advance(700);
    client.me().get().await.unwrap();
    let rotated = source.tokens().await.unwrap();
    remember(&rotated, &mut secrets);
    assert_ne!(rotated.access_token, tokens.access_token);

    sb.state.faults.set(FaultConfig {
        error_500: 0.1,
        drop: 0.1,
        burst_429: 2,
        seed: 5,
        ..FaultConfig::default()
    });
    let subs = client.sub_accounts().collect_all().await.unwrap();
    let mut s = client
        .account(&subs[0].id)
        .users(UserStatus::Active)
        .page_size(3)
        .stream();
    while let Some(u) = s.next().await {
        u.unwrap();
    }
    sb.state.faults.clear();
    let e = client.me().user("nobody-here").await.unwrap_err();
    texts.push(format!("{e} {e:?}"));

    // Refresh-token reuse, a wrong secret, then a revoked grant.
    let e = oauth.refresh(&tokens.refresh_token).await.unwrap_err();
    texts.push(format!("{e} {e:?}"));
    let mut app = oauth.app().clone();
    app.client_secret = Secret::new("another-client-secret");
    secrets.push("another-client-secret".into());
    let bad =
        zoom::OAuthClient::with_http(&common::config(&sb), app, reqwest::Client::new()).unwrap();
    let e = bad.refresh(&rotated.refresh_token).await.unwrap_err();
    texts.push(format!("{e} {e:?}"));
    oauth.revoke(&rotated.access_token).await.unwrap();
    let e = client.me().get().await.unwrap_err();
    assert!(e.is_invalid_grant(), "{e:?}");
    texts.push(format!("{e} {e:?}"));

    let metrics = client.metrics();
    assert!(
        metrics.retries > 0 && metrics.token_rejections > 0,
        "{metrics:?}"
    );

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("zoom.request"), "request spans are logged");
    assert!(logs.contains("latency_ms"), "span fields are logged");
    let all = format!("{logs}\n{}", texts.join("\n"));
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        assert!(
            !all.contains(secret.as_str()),
            "a secret value appears in the logs or errors (len {})",
            secret.len()
        );
    }
    assert!(!all.to_ascii_lowercase().contains("authorization: bearer"));
    assert!(!all.to_ascii_lowercase().contains("basic c2fuzgj"));
}
