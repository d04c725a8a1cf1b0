//! Cold start: a function binary is started with `AWS_LAMBDA_RUNTIME_API` (and the AWS endpoint)
//! pointing at a tiny local server that plays the Lambda Runtime API and Secrets Manager. "Ready"
//! is the binary's first `GET /2018-06-01/runtime/invocation/next`: configuration read, AWS
//! clients built, the app secret fetched (one local round trip), the runtime polling. The
//! request is never answered; the process is then killed.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The nine Lambda functions (package = binary name). license-admin and connect-link read the
/// same `ZTS_*` variables, need the table only and make no AWS call before polling.
pub const FUNCTIONS: [&str; 9] = [
    "oauth-connect",
    "reclamation",
    "application-roster",
    "application-access",
    "license-information",
    "license-differentiation",
    "license-admin",
    "connect-link",
    "maintenance",
];

const SECRET: &str = r#"{"apps":{"NA":{"client_id":"bench-client","client_secret":"bench-secret"}},"webhook_secret_token":"bench-webhook"}"#;

/// Serves the stub until the listener is dropped; reports each `invocation/next` poll.
async fn serve(listener: TcpListener, ready: mpsc::UnboundedSender<Instant>) {
    while let Ok((stream, _)) = listener.accept().await {
        let ready = ready.clone();
        tokio::spawn(async move {
            let _ = connection(stream, ready).await;
        });
    }
}

async fn connection(
    mut stream: TcpStream,
    ready: mpsc::UnboundedSender<Instant>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        // One request: headers, then the body by Content-Length.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())
                    .flatten()
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..head_end + len);
        let line = head.lines().next().unwrap_or_default();
        if line.contains("/runtime/invocation/next") {
            let _ = ready.send(Instant::now());
            // Never answered: the process is killed.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        let target = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("x-amz-target").then(|| v.trim())
            })
            .unwrap_or_default();
        let body = if target.ends_with("GetSecretValue") {
            serde_json::json!({
                "ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:zts-app-AbCdEf",
                "Name": "zts-app",
                "SecretString": SECRET,
                "VersionId": "v1",
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": 1.8e9,
            })
            .to_string()
        } else {
            "{}".to_owned()
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await?;
    }
}

/// One start of one binary.
#[derive(Debug, Clone)]
pub struct Start {
    /// Process start to the first `invocation/next`.
    pub ready: Duration,
    /// Peak resident memory at that moment, kB.
    pub rss_kb: Option<u64>,
}

/// Starts `binary` once and measures the time until it polls for an invocation.
pub async fn start_once(binary: &Path, name: &str) -> anyhow::Result<Start> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = tokio::spawn(serve(listener, tx));
    let endpoint = format!("http://{addr}");
    let started = Instant::now();
    let mut child = std::process::Command::new(binary)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("ZTS_AWS_ENDPOINT_URL", &endpoint)
        .env("ZTS_AWS_REGION", "us-east-1")
        .env("ZTS_QUEUE_URL", format!("{endpoint}/000000000000/zts.fifo"))
        .env("ZTS_CONNECT_URL", "https://bench.example/connect")
        .env(
            "ZTS_OAUTH_REDIRECT_URI",
            "https://example.com/oauth/callback",
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("start {}", binary.display()))?;
    let pid = child.id().to_string();
    let outcome = loop {
        tokio::select! {
            r = rx.recv() => break r.map(|t| t - started),
            _ = tokio::time::sleep(Duration::from_millis(2)) => {
                let exited = child.try_wait().ok().flatten().is_some();
                if exited || started.elapsed() > Duration::from_secs(20) {
                    break None;
                }
            }
        }
    };
    let rss_kb = crate::procfs::status_kb(&pid, "VmHWM");
    // Our own child, by its handle.
    let _ = child.kill();
    let stderr = tokio::task::spawn_blocking(move || {
        child
            .wait_with_output()
            .map(|o| String::from_utf8_lossy(&o.stderr).to_string())
            .unwrap_or_default()
    })
    .await
    .unwrap_or_default();
    server.abort();
    match outcome {
        Some(ready) => Ok(Start { ready, rss_kb }),
        None => anyhow::bail!(
            "{name} did not poll for an invocation; stderr: {}",
            stderr
                .chars()
                .rev()
                .take(600)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        ),
    }
}
