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
//!   sandbox's ground truth (`/_sandbox/truth`): provisioned, assigned, active, inactive and
//!   reclamation candidates; exits 1 on any difference.
//! - `end-retention`: moves the deauthorized connection's `purge_after` to now, as if its
//!   retention period had passed (the demo cannot wait ten days); `purged ID`: checks that no
//!   item of the table mentions connection ID and that its token secret is gone (exits 1 if not).
//! - `dry-run FILE`: a reclamation dry run through `cargo lambda watch`; prints the users it
//!   would act on and checks that they are exactly those the truth implies; exits 1 otherwise.
//! - `file FILE`: a license-admin `report` or `export` request (FILE with this connection's id)
//!   through `cargo lambda watch`; prints the download link, downloads the file through it and
//!   checks it: a text report is printed, an export's users and candidates are compared with
//!   the sandbox's truth (exits 1 on any difference).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_adapters::{
    AppCredentials, AppSecrets, AwsClients, AwsConfig, Records, create_table_if_missing,
};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use futures::TryStreamExt;
use local_stack::{
    Figures, Include, Seats, differences, expected, expected_candidate_counts,
    expected_reclamation, export_differences, truth_users,
};
use ports::{AccountStore, ConnectionStore, LicenseStore, Provisioned, ZoomRegion};
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
        /// The bucket license-admin writes reports and exports to (created if missing).
        #[arg(long, env = "ZTS_FILES_BUCKET")]
        files_bucket: String,
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
    EndRetention,
    Purged {
        connection_id: String,
    },
    Event {
        file: String,
    },
    Report {
        /// The Zoom sandbox's base URL.
        #[arg(long)]
        sandbox: String,
        /// When License Differentiation was started (RFC 3339): the candidates are checked for
        /// a run between then and now. Default: now.
        #[arg(long)]
        since: Option<DateTime<Utc>>,
    },
    /// Runs a reclamation dry run (FILE with this connection's id) through `cargo lambda
    /// watch`, prints the users it would act on and checks them against the sandbox's truth.
    DryRun {
        /// Base URL of `cargo lambda watch` (e.g. http://127.0.0.1:9000).
        #[arg(long)]
        invoke_url: String,
        /// The Zoom sandbox's base URL.
        #[arg(long)]
        sandbox: String,
        /// A reclamation request with a `policy` (events/reclamation/dry-run.json).
        file: String,
    },
    /// Invokes license-admin with a `report` or `export` request (FILE with this connection's
    /// id), downloads the file through the link it answers with and checks it.
    File {
        /// Base URL of `cargo lambda watch` (e.g. http://127.0.0.1:9000).
        #[arg(long)]
        invoke_url: String,
        /// The Zoom sandbox's base URL.
        #[arg(long)]
        sandbox: String,
        /// When License Differentiation was started (RFC 3339): candidates are checked for a
        /// run between then and now.
        #[arg(long)]
        since: DateTime<Utc>,
        file: String,
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
            files_bucket,
        } => {
            create_table_if_missing(&clients.dynamodb, &config.table_name).await?;
            create_bucket_if_missing(&clients.s3, &files_bucket).await?;
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
        Command::EndRetention => end_retention(&records).await?,
        Command::Purged { connection_id } => purged(&clients, &config, &connection_id).await?,
        Command::Event { file } => println!("{}", event_for_connection(&records, &file).await?),
        Command::Report { sandbox, since } => report(&records, &sandbox, since).await?,
        Command::DryRun {
            invoke_url,
            sandbox,
            file,
        } => dry_run(&records, &invoke_url, &sandbox, &file).await?,
        Command::File {
            invoke_url,
            sandbox,
            since,
            file,
        } => deliver_file(&records, &invoke_url, &sandbox, since, &file).await?,
    }
    Ok(())
}

/// The files bucket, as the stack has it (moto ignores the policies; the bucket is private).
async fn create_bucket_if_missing(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    if s3.head_bucket().bucket(bucket).send().await.is_ok() {
        return Ok(());
    }
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .with_context(|| format!("create the files bucket {bucket}"))?;
    Ok(())
}

/// The one connection, which must be deauthorized, due for purge now.
async fn end_retention(records: &Records) -> Result<()> {
    let connection = only_connection(records).await?;
    let ports::ConnectionStatus::Deauthorized { purge_after, .. } = connection.status else {
        bail!("{} is not deauthorized", connection.connection_id);
    };
    let now = Utc::now();
    records
        .update_connection(&connection.connection_id, &|c| {
            if let ports::ConnectionStatus::Deauthorized { purge_after, .. } = &mut c.status {
                *purge_after = now;
            }
        })
        .await?;
    println!(
        "    {}: purge_after {purge_after} -> {now} (the retention period has passed)",
        connection.connection_id
    );
    Ok(())
}

/// Fails unless no item of the table mentions `connection_id` and its token secret is gone.
async fn purged(clients: &AwsClients, config: &AwsConfig, connection_id: &str) -> Result<()> {
    let mut remaining = 0usize;
    let mut scanned = 0usize;
    let mut start = None;
    loop {
        let out = clients
            .dynamodb
            .scan()
            .table_name(&config.table_name)
            .set_exclusive_start_key(start)
            .send()
            .await
            .context("scan the table")?;
        for item in out.items() {
            scanned += 1;
            if format!("{item:?}").contains(connection_id) {
                remaining += 1;
            }
        }
        match out.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => break,
        }
    }
    let secret = format!("{}{connection_id}", config.token_secret_prefix);
    let secret_left = match clients
        .secrets
        .describe_secret()
        .secret_id(&secret)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) if format!("{e:?}").contains("ResourceNotFoundException") => false,
        Err(e) => bail!("describe {secret}: {e:?}"),
    };
    println!(
        "    table: {scanned} items scanned, {remaining} mention {connection_id}; token secret {secret}: {}",
        if secret_left { "still there" } else { "gone" }
    );
    if remaining > 0 || secret_left {
        bail!("MISMATCH: {connection_id} was not purged completely");
    }
    Ok(())
}

/// FILE (a JSON event) with its `connection_id` set to the one connection's.
async fn event_for_connection(records: &Records, file: &str) -> Result<Value> {
    let cid = only_connection(records).await?.connection_id;
    let text = std::fs::read_to_string(file).with_context(|| file.to_owned())?;
    let mut v: Value = serde_json::from_str(&text).with_context(|| file.to_owned())?;
    v["connection_id"] = cid.into();
    Ok(v)
}

/// The sandbox's full ground truth (every user's facts; small for the demo tenant).
async fn fetch_truth(sandbox: &str) -> Result<Value> {
    reqwest::get(format!("{sandbox}/_sandbox/truth"))
        .await
        .context("fetch the sandbox's ground truth")?
        .error_for_status()?
        .json()
        .await
        .context("read the sandbox's ground truth")
}

async fn only_connection(records: &Records) -> Result<ports::ConnectionRecord> {
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

async fn report(records: &Records, sandbox: &str, since: Option<DateTime<Utc>>) -> Result<()> {
    let connection = only_connection(records).await?;
    let s = &connection.settings;
    let yes = |v: sync_domain::YesNo| if v.is_yes() { "yes" } else { "no" };
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
        s.inactivity_threshold.days()
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
    let mut stored_candidates: BTreeMap<(String, String), u64> = BTreeMap::new();
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
        stored_candidates.insert((l.account_id.clone(), l.name.clone()), candidates);
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
    let truth = fetch_truth(sandbox).await?;
    let to = Utc::now();
    let include = Include {
        free_users: s.include_free_users.is_yes(),
        on_premises: s.include_on_premises.is_yes(),
    };
    let want = expected(&truth, include).map_err(anyhow::Error::msg)?;
    let mut diffs = differences(&want, &stored);
    // Reclamation candidates per license: the License Differentiation rule over every user's
    // activity in the truth, for a run between `since` and now.
    let users = truth_users(&truth).map_err(anyhow::Error::msg)?;
    let want_candidates = expected_candidate_counts(
        &users,
        include,
        u32::from(s.inactivity_threshold.days()),
        since.unwrap_or(to).min(to),
        to,
    );
    for (key, have) in &stored_candidates {
        let (low, high) = want_candidates.get(key).copied().unwrap_or((0, 0));
        if *have < low || *have > high {
            let want = if low == high {
                low.to_string()
            } else {
                format!("{low} to {high}")
            };
            diffs.push(format!(
                "account {}, {}: {have} reclamation candidates stored, truth {want}",
                key.0, key.1
            ));
        }
    }
    let truth_total: u64 = want_candidates.values().map(|(low, _)| low).sum();
    mismatches(&diffs, "figure(s)")?;
    if licenses.is_empty() {
        bail!("no licenses stored");
    }
    println!(
        "All figures equal the sandbox's ground truth (/_sandbox/truth): provisioned, assigned, \
         active, inactive and {truth_total} reclamation candidate(s) per account and license."
    );
    Ok(())
}

/// Invokes `function` with `event` through `cargo lambda watch`'s Invoke API: whether the
/// function failed, the HTTP status and the answer.
async fn invoke(
    invoke_url: &str,
    function: &str,
    event: &Value,
) -> Result<(bool, reqwest::StatusCode, Value)> {
    let url = format!("{invoke_url}/2015-03-31/functions/{function}/invocations");
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(900))
        .build()?
        .post(&url)
        .json(event)
        .send()
        .await
        .with_context(|| format!("cannot reach cargo lambda watch at {url}"))?;
    let failed = response.headers().contains_key("x-amz-function-error");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Ok((failed, status, body))
}

/// Prints one `MISMATCH` line per difference and fails when there is any.
fn mismatches(diffs: &[String], what: &str) -> Result<()> {
    for d in diffs {
        eprintln!("    MISMATCH {d}");
    }
    if !diffs.is_empty() {
        bail!(
            "{} {what} differ from the sandbox's ground truth",
            diffs.len()
        );
    }
    Ok(())
}

/// Invokes license-admin with FILE (a `report` or `export` request) for the one connection,
/// prints the link it answers with, downloads the file and checks it: a text report is
/// printed; an export's users and candidates must be those the sandbox's truth implies.
async fn deliver_file(
    records: &Records,
    invoke_url: &str,
    sandbox: &str,
    since: DateTime<Utc>,
    file: &str,
) -> Result<()> {
    let event = event_for_connection(records, file).await?;
    let connection = only_connection(records).await?;
    let (failed, _, body) = invoke(invoke_url, "license-admin", &event).await?;
    if failed || body["link"].as_str().is_none() {
        bail!(
            "license-admin answered no link: {}",
            body.to_string().chars().take(400).collect::<String>()
        );
    }
    let link = body["link"].as_str().unwrap_or_default();
    println!(
        "    {} {}: {} bytes at {} (link valid until {})",
        body["operation"].as_str().unwrap_or(""),
        body["kind"]
            .as_str()
            .or(body["format"].as_str())
            .unwrap_or(""),
        body["bytes"],
        body["key"].as_str().unwrap_or(""),
        body["expires_at"].as_str().unwrap_or("")
    );
    println!("    link: {link}");
    let download = reqwest::get(link).await.context("download the file")?;
    if !download.status().is_success() {
        bail!("the link answered {}", download.status());
    }
    let bytes = download.bytes().await?;
    if body["bytes"].as_u64() != Some(bytes.len() as u64) {
        bail!(
            "downloaded {} bytes, the answer said {}",
            bytes.len(),
            body["bytes"]
        );
    }
    let mut text = String::from_utf8(bytes.to_vec()).context("the file is not UTF-8")?;
    let csv = body["content_type"]
        .as_str()
        .is_some_and(|c| c.starts_with("text/csv"));
    if csv {
        text = text
            .strip_prefix('\u{feff}')
            .context("a CSV file starts with the UTF-8 byte-order mark")?
            .to_owned();
    }
    if body["operation"] == "report" {
        println!("{text}");
        return Ok(());
    }
    let rows: Vec<BTreeMap<String, String>> = if csv {
        oracle::csv::records(&text)
            .into_iter()
            .map(|r| r.into_iter().collect())
            .collect()
    } else {
        text.lines()
            .map(|l| {
                let v: BTreeMap<String, Value> = serde_json::from_str(l)?;
                Ok(v.into_iter()
                    .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                    .collect())
            })
            .collect::<Result<_, serde_json::Error>>()
            .context("a JSON line")?
    };
    let s = &connection.settings;
    let include = Include {
        free_users: s.include_free_users.is_yes(),
        on_premises: s.include_on_premises.is_yes(),
    };
    let users = truth_users(&fetch_truth(sandbox).await?).map_err(anyhow::Error::msg)?;
    let diffs = export_differences(
        body["kind"].as_str().unwrap_or(""),
        &rows,
        &users,
        include,
        u32::from(s.inactivity_threshold.days()),
        since,
        Utc::now(),
    );
    mismatches(&diffs, "export row(s)")?;
    println!(
        "    {} rows; users and candidates equal the sandbox's ground truth",
        rows.len()
    );
    Ok(())
}

/// Invokes the reclamation function with FILE (a policy dry run) for the one connection, prints
/// what it would do and compares the users it would act on with the sandbox's truth.
async fn dry_run(records: &Records, invoke_url: &str, sandbox: &str, file: &str) -> Result<()> {
    let event = event_for_connection(records, file).await?;
    if event["mode"].as_str().is_some_and(|m| m != "dry_run") {
        bail!("{file} is not a dry run");
    }
    let inactive_days = event["policy"]["inactive_days"]
        .as_u64()
        .and_then(|d| u32::try_from(d).ok())
        .with_context(|| format!("{file} has no policy.inactive_days"))?;
    let from = Utc::now();
    let (failed, status, body) = invoke(invoke_url, "reclamation", &event).await?;
    let to = Utc::now();
    if failed || !status.is_success() {
        bail!(
            "the reclamation function failed ({status}): {}",
            body.to_string().chars().take(400).collect::<String>()
        );
    }
    let summary = &body["summary"];
    let reasons = summary["skipped_by_reason"]
        .as_object()
        .filter(|r| !r.is_empty())
        .map(|r| format!(" {}", Value::Object(r.clone())))
        .unwrap_or_default();
    println!(
        "    dry run, policy: paid licenses, no activity for {inactive_days}+ days: selected {}, \
         would act on {}, skipped {}{reasons}",
        summary["selected"], summary["would_act"], summary["skipped"]
    );
    for w in body["warnings"].as_array().into_iter().flatten() {
        println!(
            "    warning: {}",
            w.as_str().map_or(w.to_string(), str::to_owned)
        );
    }
    let rows = body["users"].as_array().cloned().unwrap_or_default();
    println!(
        "    {:<46} {:<12} {:>13} {:<13} outcome",
        "user", "license", "days inactive", "last activity"
    );
    let mut would_act = BTreeSet::new();
    for u in &rows {
        let outcome = u["outcome"].as_str().unwrap_or("");
        if outcome == "would_act"
            && let Some(id) = u["user_id"].as_str()
        {
            would_act.insert(id.to_owned());
        }
        let last = ["last_login", "last_meeting_created", "last_meeting_joined"]
            .iter()
            .filter_map(|k| u["last_activity"][*k].as_str())
            .filter_map(|t| t.parse::<DateTime<Utc>>().ok())
            .max()
            .map_or("never".to_owned(), |t| t.format("%Y-%m-%d").to_string());
        let reason = u["reason"]
            .as_str()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        println!(
            "    {:<46} {:<12} {:>13} {:<13} {outcome}{reason}",
            u["email"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(46)
                .collect::<String>(),
            u["license_name"].as_str().unwrap_or(""),
            u["days_inactive"]
                .as_i64()
                .map_or("-".into(), |d| d.to_string()),
            last,
        );
    }
    let truth = fetch_truth(sandbox).await?;
    let users = truth_users(&truth).map_err(anyhow::Error::msg)?;
    let (must, may) = expected_reclamation(&users, inactive_days, from, to);
    let email = |id: &String| {
        users
            .iter()
            .find(|u| u.id.as_ref() == Some(id))
            .map_or(id.clone(), |u| u.email.clone())
    };
    let missing: Vec<String> = must.difference(&would_act).map(email).collect();
    let extra: Vec<String> = would_act.difference(&may).map(email).collect();
    if !missing.is_empty() || !extra.is_empty() {
        for m in &missing {
            eprintln!(
                "    MISMATCH {m}: inactive for {inactive_days}+ days by the truth, not listed"
            );
        }
        for e in &extra {
            eprintln!(
                "    MISMATCH {e}: listed, but active within {inactive_days} days by the truth"
            );
        }
        bail!(
            "the dry run's users differ from the sandbox's ground truth ({} missing, {} extra)",
            missing.len(),
            extra.len()
        );
    }
    if would_act.is_empty() {
        bail!(
            "the dry run would act on nobody: the demo tenant needs dormant users (--tenant demo,dormant=N)"
        );
    }
    if summary["acted"].as_u64().unwrap_or(0) != 0 {
        bail!("a dry run acted on users");
    }
    println!(
        "    The {} user(s) it would act on are exactly the truth's active members with a paid \
         license and no activity for {inactive_days}+ days (the report's candidates also count \
         free licenses, owners and admins, by the connection's threshold).",
        would_act.len()
    );
    Ok(())
}
