//! The `zoom-sandbox` binary: `--help` documents every flag, flags and `ZOOM_SANDBOX_*` variables
//! take effect, the listening URL is printed on one parseable line, secrets are never printed.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_zoom-sandbox");

#[test]
fn help_documents_every_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--port",
        "--host",
        "--tenant",
        "--seed",
        "--rate-limits",
        "--rate-scale",
        "--daily-scale",
        "--rate-budget",
        "--faults",
        "--client-id",
        "--client-secret",
        "--redirect-uri",
        "--scopes",
        "--webhook-secret",
        "--token-ttl",
        "--consent",
        "--authorize-as",
        "--public-url",
    ] {
        assert!(help.contains(flag), "--help lists {flag}");
        let env = format!(
            "ZOOM_SANDBOX_{}",
            flag.trim_start_matches("--")
                .replace('-', "_")
                .to_uppercase()
        );
        let env = match env.as_str() {
            "ZOOM_SANDBOX_REDIRECT_URI" => "ZOOM_SANDBOX_REDIRECT_URIS".to_string(),
            _ => env,
        };
        assert!(help.contains(&env), "--help names {env}");
    }
    // Default secrets are not shown.
    assert!(!help.contains("sandbox-client-secret"));
    assert!(!help.contains("sandbox-webhook-secret"));
}

#[test]
fn bad_flags_are_refused_with_a_message() {
    for args in [
        &["--rate-limits", "gold"][..],
        &["--faults", "drop=5"],
        &["--tenant", "colour=blue"],
        &["--consent", "maybe"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
    // The variable goes through the same parser.
    let out = Command::new(BIN)
        .env("ZOOM_SANDBOX_FAULTS", "lost=0.05,lost_paths=oauth/token")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lost_paths"));
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn runs_with_flags_and_environment() {
    let secret = "cli-secret-value-9f8e7d";
    let mut child = Child(
        Command::new(BIN)
            .args([
                "--port",
                "0",
                "--client-id",
                "cli-app",
                "--client-secret",
                secret,
                "--rate-limits",
                "pro",
                "--rate-scale",
                "2",
                "--token-ttl",
                "120",
                "--redirect-uri",
                "http://localhost:1/a",
                "--redirect-uri",
                "http://localhost:1/b",
                "--scopes",
                "user:read:admin,account:master",
                "--faults",
                "latency=1ms,seed=4,lost=0.01,lost_methods=PUT,PATCH,lost_paths=/v2/users",
            ])
            .env("ZOOM_SANDBOX_CONSENT", "deny")
            .env("RUST_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    });
    let line = tokio::time::timeout(Duration::from_secs(60), line)
        .await
        .expect("the sandbox announces itself")
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("zoom-sandbox listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"));

    let http = reqwest::Client::new();
    let get = |path: &str| {
        let http = http.clone();
        let url = format!("{base}/_sandbox/{path}");
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let limits = get("rate-limits").await;
    assert_eq!(limits["profile"], "pro");
    assert_eq!(limits["scale"], 2.0);
    assert_eq!(get("consent").await["mode"], "deny");
    let faults = get("faults").await;
    assert_eq!(faults["latency_ms"], 1);
    assert_eq!(faults["lost"], 0.01);
    assert_eq!(faults["lost_methods"], serde_json::json!(["PUT", "PATCH"]));
    assert_eq!(faults["lost_paths"], serde_json::json!(["/v2/users"]));

    // The app's credentials, scopes and token lifetime come from the flags.
    let master = get("authorize-as").await["account_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http
        .post(format!("{base}/oauth/token"))
        .basic_auth("cli-app", Some(secret))
        .form(&[
            ("grant_type", "account_credentials"),
            ("account_id", master.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["scope"], "user:read:admin account:master");
    let access = body["access_token"].as_str().unwrap().to_string();
    let r = http
        .get(format!("{base}/v2/users/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("x-ratelimit-limit")
            .and_then(|v| v.to_str().ok()),
        Some("60"),
        "Pro Light 30/s ×2"
    );
    // Both redirect URIs are registered.
    for redirect in ["http://localhost:1/a", "http://localhost:1/b"] {
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{base}/oauth/authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", "cli-app"),
                ("redirect_uri", redirect),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 302, "{redirect}");
    }

    // Nothing secret in the logs, even at debug level.
    let _ = child.0.kill();
    let _ = child.0.wait();
    let mut logs = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(!logs.is_empty());
    assert!(!logs.contains(secret));
    assert!(!logs.contains(&access));
}
