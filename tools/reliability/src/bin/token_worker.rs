//! `token-worker`: one "Lambda process" for the many-processes suite. It builds the production
//! token vault (DynamoDB lease and Secrets Manager tokens on the local AWS, Zoom's token endpoint
//! at the sandbox) on a clock of its own (`--skew-ms` from the machine's), waits for the common
//! start instant, then runs `--tasks` concurrent Zoom calls on one connection, as the tasks of an
//! invocation would. Prints one JSON line (`{"ok": n, "errors": [...]}`) and exits 1 if any call
//! failed. AWS settings come from the usual `ZTS_*` variables.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_adapters::{AwsClients, AwsConfig, Records, SecretsManagerTokenStore};
use clap::Parser;
use ports::{TokenVault, VaultOptions};
use zoom::{OAuthApp, OAuthClient, RateProfile, Region, Secret, ZoomClient, ZoomConfig};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    connection: String,
    /// This process's clock minus the machine's, in milliseconds.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    skew_ms: i64,
    #[arg(long, default_value_t = 8)]
    tasks: usize,
    /// Epoch milliseconds (machine clock) at which every worker starts its calls.
    #[arg(long)]
    start_at_ms: i64,
    #[arg(long)]
    oauth_base: String,
    #[arg(long)]
    client_id: String,
    #[arg(long, env = "TOKEN_WORKER_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    #[arg(long)]
    redirect_uri: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let skew = chrono::Duration::milliseconds(args.skew_ms);
    let aws = AwsConfig::from_env();
    let clients = AwsClients::new(&aws).await;
    let records = Records::dynamo(clients.dynamodb.clone(), aws.table_name.clone())
        .with_clock(Arc::new(move || chrono::Utc::now() + skew));
    let tokens = Arc::new(SecretsManagerTokenStore::new(
        clients.secrets.clone(),
        aws.token_secret_prefix.clone(),
    ));
    let config = ZoomConfig::builder()
        .region(Region::Na)
        .app(
            Region::Na,
            OAuthApp::new(
                args.client_id.clone(),
                Secret::new(args.client_secret.clone()),
                args.redirect_uri.clone(),
            ),
        )
        .oauth_base(args.oauth_base.clone())
        .request_timeout(Duration::from_secs(10))
        .build()
        .context("zoom config")?;
    let vault = TokenVault {
        tokens,
        leases: Arc::new(records.clone()),
        connections: Arc::new(records),
        refresher: Arc::new(OAuthClient::new(&config).context("oauth client")?),
        options: VaultOptions {
            poll_interval: Duration::from_millis(100),
            ..VaultOptions::default()
        },
    };
    let wait = args.start_at_ms - chrono::Utc::now().timestamp_millis();
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
    }
    let calls = (0..args.tasks).map(|_| {
        let client = ZoomClient::builder(
            config.clone(),
            Arc::new(vault.token_source(&args.connection)),
        )
        .rate_profile(RateProfile::unlimited())
        .build();
        async move {
            let client = client.map_err(|e| e.to_string())?;
            client.me().user("me").await.map_err(|e| e.to_string())
        }
    });
    let results = futures::future::join_all(calls).await;
    let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    println!(
        "{}",
        serde_json::json!({ "ok": args.tasks - errors.len(), "errors": errors })
    );
    if errors.is_empty() {
        Ok(())
    } else {
        std::process::exit(1)
    }
}
