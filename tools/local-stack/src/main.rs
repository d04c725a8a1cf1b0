//! `local-stack`: the local demo's helper (tools/local/demo.sh).
//!
//! - `setup`: creates the table, the app secret (OAuth app of the region + webhook secret token)
//!   and the FIFO unit queue in local AWS (moto); prints the queue URL.
//! - `drain`: receives the queue's unit messages and hands them, as SQS batch events, to the
//!   function named by each message's `task`, served by `cargo lambda watch` (its Lambda Invoke
//!   API); deletes what succeeded, retries the reported batch item failures, and fails once a
//!   message has failed `--max-receives` times (the deployed stack's dead-letter queue).
//! - `connection`: prints the one connection's id; `event FILE`: prints FILE with its
//!   `connection_id` set to it (the direct-invoke and reclamation examples of events/).
//! - `report`: prints the license report per account and license and compares it with the
//!   sandbox's ground truth (`/_sandbox/truth?summary=true`); exits 1 on any difference.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_adapters::{
    AccountStore, AppCredentials, AppSecrets, AwsClients, AwsConfig, ConnectionStore, LicenseStore,
    Provisioned, Records, ZoomRegion, create_table_if_missing,
};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use clap::{Parser, Subcommand};
use futures::TryStreamExt;
use local_stack::{Figures, Include, Seats, differences, expected};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Local demo helper: resources, queue drain, license report")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Setup {
        #[arg(long)]
        queue_name: String,
        #[arg(long, default_value = "NA")]
        region: String,
        #[arg(long, env = "ZTS_DEMO_CLIENT_ID")]
        client_id: String,
        #[arg(long, env = "ZTS_DEMO_CLIENT_SECRET", hide_env_values = true)]
        client_secret: String,
        #[arg(long, env = "ZTS_DEMO_WEBHOOK_SECRET", hide_env_values = true)]
        webhook_secret: String,
    },
    Drain {
        #[arg(long)]
        queue_url: String,
        /// Base URL of `cargo lambda watch` (e.g. http://127.0.0.1:9000).
        #[arg(long)]
        invoke_url: String,
        #[arg(long, default_value_t = 3)]
        max_receives: u32,
    },
    Connection,
    Event {
        file: String,
    },
    Report {
        /// The Zoom sandbox's base URL.
        #[arg(long)]
        sandbox: String,
    },
    /// Proxies the Lambda Runtime API of `cargo lambda watch --only-lambda-apis` for the
    /// function processes, turning its `Lambda-Runtime-Deadline-Ms` (a duration in 1.9.2) into
    /// the epoch milliseconds real Lambda sends. Prints its URL, then serves until killed.
    RuntimeProxy {
        /// e.g. http://127.0.0.1:9000
        #[arg(long)]
        upstream: String,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let config = AwsConfig::from_env();
    let clients = AwsClients::new(&config).await;
    let records = Records::dynamo(clients.dynamodb.clone(), config.table_name.clone());
    match cli.command {
        Command::Setup {
            queue_name,
            region,
            client_id,
            client_secret,
            webhook_secret,
        } => {
            create_table_if_missing(&clients.dynamodb, &config.table_name).await?;
            let region: ZoomRegion = region.parse().map_err(anyhow::Error::msg)?;
            let secrets = AppSecrets {
                apps: BTreeMap::from([(
                    region,
                    AppCredentials {
                        client_id,
                        client_secret: client_secret.into(),
                    },
                )]),
                webhook_secret_token: webhook_secret.into(),
            };
            secrets
                .store(&clients.secrets, &config.app_secret_id)
                .await?;
            let out = clients
                .sqs
                .create_queue()
                .queue_name(&queue_name)
                .attributes(QueueAttributeName::FifoQueue, "true")
                .attributes(QueueAttributeName::VisibilityTimeout, "300")
                .send()
                .await
                .context("create the unit queue")?;
            println!("{}", out.queue_url().context("queue URL")?);
        }
        Command::Drain {
            queue_url,
            invoke_url,
            max_receives,
        } => drain(&clients.sqs, &queue_url, &invoke_url, max_receives).await?,
        Command::Connection => println!("{}", only_connection(&records).await?.connection_id),
        Command::Event { file } => {
            let cid = only_connection(&records).await?.connection_id;
            let text = std::fs::read_to_string(&file).with_context(|| file.clone())?;
            let mut v: Value = serde_json::from_str(&text).with_context(|| file.clone())?;
            v["connection_id"] = cid.into();
            println!("{v}");
        }
        Command::Report { sandbox } => report(&records, &sandbox).await?,
        Command::RuntimeProxy { upstream } => runtime_proxy(upstream).await?,
    }
    Ok(())
}

async fn only_connection(records: &Records) -> Result<aws_adapters::ConnectionRecord> {
    let all: Vec<_> = records.list_connections().try_collect().await?;
    match all.len() {
        1 => Ok(all.into_iter().next().unwrap()),
        n => bail!("expected one connection, found {n}"),
    }
}

/// One SQS event record as Lambda hands it to the function.
fn sqs_record(m: &aws_sdk_sqs::types::Message, queue_arn: &str) -> Value {
    let attributes: serde_json::Map<String, Value> = m
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "messageId": m.message_id(),
        "receiptHandle": m.receipt_handle(),
        "body": m.body(),
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": m.md5_of_body().unwrap_or(""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    })
}

async fn drain(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    invoke_url: &str,
    max_receives: u32,
) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(900))
        .build()?;
    let arn = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default();
    let (mut done, mut empty_polls) = (0usize, 0);
    let mut by_task: BTreeMap<String, usize> = BTreeMap::new();
    while empty_polls < 2 {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await?;
        let messages = out.messages();
        if messages.is_empty() {
            empty_polls += 1;
            continue;
        }
        empty_polls = 0;
        // One batch per task (the deployed stack has one queue per task function).
        let mut batches: BTreeMap<String, Vec<&aws_sdk_sqs::types::Message>> = BTreeMap::new();
        for m in messages {
            let body: Value = serde_json::from_str(m.body().unwrap_or("")).unwrap_or(Value::Null);
            let task = body["task"].as_str().unwrap_or("unknown").to_owned();
            batches.entry(task).or_default().push(m);
        }
        for (task, batch) in batches {
            let event =
                json!({"Records": batch.iter().map(|m| sqs_record(m, &arn)).collect::<Vec<_>>()});
            let url = format!("{invoke_url}/2015-03-31/functions/{task}/invocations");
            let response = http.post(&url).json(&event).send().await;
            let failed: Vec<String> = match response {
                Ok(r)
                    if r.status().is_success()
                        && !r.headers().contains_key("x-amz-function-error") =>
                {
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    v["batchItemFailures"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                }
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    eprintln!(
                        "    {task}: invocation failed ({status}): {}",
                        text.chars().take(300).collect::<String>()
                    );
                    batch
                        .iter()
                        .filter_map(|m| m.message_id().map(str::to_owned))
                        .collect()
                }
                Err(e) => bail!("cannot reach cargo lambda watch at {url}: {e}"),
            };
            for m in batch {
                let id = m.message_id().unwrap_or_default();
                let handle = m.receipt_handle().unwrap_or_default();
                if failed.iter().any(|f| f == id) {
                    let receives: u32 = m
                        .attributes()
                        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1);
                    if receives >= max_receives {
                        bail!(
                            "{task}: unit {} failed {receives} times (would go to the dead-letter queue)",
                            m.body().unwrap_or("")
                        );
                    }
                    eprintln!("    {task}: unit failed (receive {receives}), retrying");
                    sqs.change_message_visibility()
                        .queue_url(queue_url)
                        .receipt_handle(handle)
                        .visibility_timeout(0)
                        .send()
                        .await?;
                } else {
                    sqs.delete_message()
                        .queue_url(queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await?;
                    done += 1;
                    *by_task.entry(task.clone()).or_default() += 1;
                }
            }
        }
    }
    let summary: Vec<String> = by_task.iter().map(|(t, n)| format!("{t} {n}")).collect();
    println!(
        "    drained {done} unit message(s): {}",
        if summary.is_empty() {
            "none".into()
        } else {
            summary.join(", ")
        }
    );
    Ok(())
}

async fn report(records: &Records, sandbox: &str) -> Result<()> {
    let connection = only_connection(records).await?;
    let s = &connection.settings;
    let yes = |b: bool| if b { "yes" } else { "no" };
    println!();
    println!(
        "License report: {} (connection {}), Include Free Users {}, Include On Premises {}, inactive after {} days",
        connection
            .account_name
            .as_deref()
            .unwrap_or(&connection.zoom_account_id),
        connection.connection_id,
        yes(s.include_free_users),
        yes(s.include_on_premises),
        s.inactivity_threshold_days
    );
    let names: BTreeMap<String, String> = records
        .list_accounts(&connection.connection_id)
        .map_ok(|a| (a.account_id.clone(), a.name.clone().unwrap_or_default()))
        .try_collect()
        .await?;
    let licenses: Vec<_> = records
        .list_licenses(&connection.connection_id)
        .try_collect()
        .await?;
    let mut stored: BTreeMap<String, BTreeMap<String, Figures>> = BTreeMap::new();
    println!(
        "{:<28} {:<22} {:<20} {:>11} {:>8} {:>7} {:>8} {:>10}",
        "account", "id", "license", "provisioned", "assigned", "active", "inactive", "candidates"
    );
    let mut candidates_total = 0;
    for l in &licenses {
        let provisioned = match l.provisioned {
            Provisioned::Unlimited => Seats::Unlimited,
            Provisioned::Count(n) => Seats::Count(n),
        };
        let candidates = l
            .activity
            .as_ref()
            .map(|a| a.inactive_beyond_threshold)
            .unwrap_or(0);
        candidates_total += candidates;
        let name = names.get(&l.account_id).map(String::as_str).unwrap_or("");
        println!(
            "{:<28} {:<22} {:<20} {:>11} {:>8} {:>7} {:>8} {:>10}",
            name.chars().take(28).collect::<String>(),
            l.account_id.chars().take(22).collect::<String>(),
            l.name,
            provisioned.to_string(),
            l.assigned,
            l.active,
            l.inactive,
            candidates
        );
        stored.entry(l.account_id.clone()).or_default().insert(
            l.name.clone(),
            Figures {
                name: l.name.clone(),
                provisioned,
                assigned: l.assigned,
                active: l.active,
                inactive: l.inactive,
            },
        );
    }
    println!(
        "{} accounts, {} licenses, {} reclamation candidates",
        stored.len(),
        licenses.len(),
        candidates_total
    );
    let truth: Value = reqwest::get(format!("{sandbox}/_sandbox/truth?summary=true"))
        .await
        .context("fetch the sandbox's ground truth")?
        .error_for_status()?
        .json()
        .await?;
    let want = expected(
        &truth,
        Include {
            free_users: s.include_free_users,
            on_premises: s.include_on_premises,
        },
    )
    .map_err(anyhow::Error::msg)?;
    let diffs = differences(&want, &stored);
    if !diffs.is_empty() {
        for d in &diffs {
            eprintln!("    MISMATCH {d}");
        }
        bail!(
            "{} figure(s) differ from the sandbox's ground truth",
            diffs.len()
        );
    }
    if licenses.is_empty() {
        bail!("no licenses stored");
    }
    println!("All figures equal the sandbox's ground truth (/_sandbox/truth?summary=true).");
    Ok(())
}

/// Epoch milliseconds for a deadline header: kept when it already is one (after 2001-09-09),
/// else read as a duration from now.
fn epoch_deadline(value: u64, now_ms: u64) -> u64 {
    if value >= 1_000_000_000_000 {
        value
    } else {
        now_ms + value
    }
}

async fn runtime_proxy(upstream: String) -> Result<()> {
    use axum::body::{Body, to_bytes};
    use axum::extract::{Request, State};
    use axum::response::Response;

    #[derive(Clone)]
    struct Proxy {
        http: reqwest::Client,
        upstream: String,
    }

    async fn forward(State(p): State<Proxy>, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let url = format!(
            "{}{}",
            p.upstream,
            parts
                .uri
                .path_and_query()
                .map(|x| x.as_str())
                .unwrap_or("/")
        );
        let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
        let mut builder = p.http.request(parts.method.clone(), &url).body(body);
        for (k, v) in parts.headers.iter().filter(|(k, _)| *k != "host") {
            builder = builder.header(k, v);
        }
        match builder.send().await {
            Ok(r) => {
                let mut out = Response::builder().status(r.status());
                for (k, v) in r.headers() {
                    if k == "lambda-runtime-deadline-ms" {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_millis() as u64)
                            .unwrap_or(0);
                        let value = v.to_str().ok().and_then(|s| s.parse().ok()).unwrap_or(0);
                        out = out.header(k, epoch_deadline(value, now).to_string());
                    } else if k != "content-length" && k != "transfer-encoding" {
                        out = out.header(k, v);
                    }
                }
                let bytes = r.bytes().await.unwrap_or_default();
                out.body(Body::from(bytes)).unwrap_or_default()
            }
            Err(e) => Response::builder()
                .status(502)
                .body(Body::from(format!("runtime proxy: {e}")))
                .unwrap_or_default(),
        }
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("http://{}", listener.local_addr()?);
    use std::io::Write;
    std::io::stdout().flush()?;
    let app = axum::Router::new().fallback(forward).with_state(Proxy {
        http: reqwest::Client::new(),
        upstream: upstream.trim_end_matches('/').to_owned(),
    });
    axum::serve(listener, app).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::epoch_deadline;

    #[test]
    fn deadlines_become_epoch_milliseconds() {
        let now = 1_795_887_529_091;
        assert_eq!(epoch_deadline(600_000, now), now + 600_000, "a duration");
        assert_eq!(epoch_deadline(now + 5, now), now + 5, "already epoch");
    }
}
