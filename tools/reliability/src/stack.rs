//! One connection's deployment on the local AWS, as the stack lays it out: the table, the app
//! secret (the sandbox's app), a FIFO unit queue per task, the connection and its tokens; and the
//! task functions started as Lambda starts them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use aws_adapters::{
    AppCredentials, AppSecrets, AwsClients, Records, SecretsManagerTokenStore,
    create_table_if_missing,
};
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::Utc;
use ports::{
    ConnectionRecord, ConnectionSettings, ConnectionStore, StoredTokens, TokenStore, ZoomRegion,
};
use sync_engine::Task;
use zoom::TokenSet;
use zoom_sandbox::RunningSandbox;

/// The local deployment of one connection.
pub struct Stack {
    pub clients: AwsClients,
    pub records: Records,
    pub table: String,
    pub token_prefix: String,
    pub app_secret: String,
    /// Each task's FIFO queue: (url, arn).
    pub queues: BTreeMap<Task, (String, String)>,
    pub connection_id: String,
    pub oauth_base: String,
    pub name: String,
}

impl Stack {
    /// Creates everything on `clients` (names made unique by `name`) for the sandbox `sb`'s
    /// master account, with `tokens` stored for the connection. `visibility_secs`: the queues'
    /// visibility timeout (how soon an unanswered message is delivered again).
    pub async fn create(
        clients: AwsClients,
        sb: &RunningSandbox,
        name: &str,
        settings: ConnectionSettings,
        tokens: TokenSet,
        visibility_secs: u32,
    ) -> anyhow::Result<Self> {
        let table = format!("zts-{name}");
        create_table_if_missing(&clients.dynamodb, &table).await?;
        let records = Records::dynamo(clients.dynamodb.clone(), table.clone());
        let app = sb.state.config.apps[0].clone();
        let app_secret = format!("zts-{name}-app");
        AppSecrets {
            apps: BTreeMap::from([(
                ZoomRegion::Na,
                AppCredentials {
                    client_id: app.client_id.clone(),
                    client_secret: app.client_secret.clone().into(),
                },
            )]),
            webhook_secret_token: app.webhook_secret.clone().into(),
        }
        .store(&clients.secrets, &app_secret)
        .await?;
        let mut queues = BTreeMap::new();
        for task in Task::ALL {
            let queue_name = format!("zts-{name}-{}.fifo", task.as_str());
            let url = clients
                .sqs
                .create_queue()
                .queue_name(&queue_name)
                .attributes(QueueAttributeName::FifoQueue, "true")
                .attributes(
                    QueueAttributeName::VisibilityTimeout,
                    visibility_secs.to_string(),
                )
                .send()
                .await?
                .queue_url()
                .unwrap_or_default()
                .to_owned();
            let arn = format!("arn:aws:sqs:us-east-1:000000000000:{queue_name}");
            queues.insert(task, (url, arn));
        }
        let connection_id = format!("conn-{name}");
        let master = sb.state.tenant.master_account_id().to_string();
        records
            .insert_connection(&ConnectionRecord::new(
                connection_id.clone(),
                master,
                ZoomRegion::Na,
                settings,
                Utc::now(),
            ))
            .await?;
        let token_prefix = format!("zts-{name}-tokens/");
        SecretsManagerTokenStore::new(clients.secrets.clone(), token_prefix.clone())
            .write_new_authorization(
                &connection_id,
                &StoredTokens {
                    tokens,
                    refreshed_at: Utc::now(),
                },
            )
            .await?;
        Ok(Self {
            clients,
            records,
            table,
            token_prefix,
            app_secret,
            queues,
            connection_id,
            oauth_base: sb.base_url(),
            name: name.to_owned(),
        })
    }

    /// Connects the account again with `tokens`, as the OAuth callback does after an admin
    /// re-authorizes: the tokens stored as a new authorization, the connection active.
    pub async fn reauthorize(&self, tokens: TokenSet) -> anyhow::Result<()> {
        let now = Utc::now();
        SecretsManagerTokenStore::new(self.clients.secrets.clone(), self.token_prefix.clone())
            .write_new_authorization(
                &self.connection_id,
                &StoredTokens {
                    tokens,
                    refreshed_at: now,
                },
            )
            .await?;
        self.records
            .update_connection(&self.connection_id, &move |c| {
                c.status = ports::ConnectionStatus::Active;
                c.authorized_at = Some(now);
            })
            .await?;
        Ok(())
    }

    /// Starts `binary` (the `task-function` executable) as `task`'s Lambda process polling
    /// `runtime`, sending its AWS calls to `aws_endpoint`; its output goes to a log file, at
    /// `ZTS_FUNCTION_LOG` (a `RUST_LOG` value; default warn).
    pub fn start_function(
        &self,
        binary: &str,
        task: Task,
        runtime: &crate::runtime::RuntimeApi,
        aws_endpoint: &str,
    ) -> std::io::Result<FunctionProcess> {
        let log_path =
            std::env::temp_dir().join(format!("zts-{}-{}.log", self.name, task.as_str()));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        let child = tokio::process::Command::new(binary)
            .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", task.as_str())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/local/{}", task.as_str()),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("ZTS_TASK", task.as_str())
            .env("ZTS_TABLE_NAME", &self.table)
            .env("ZTS_APP_SECRET_ID", &self.app_secret)
            .env("ZTS_TOKEN_SECRET_PREFIX", &self.token_prefix)
            .env("ZTS_QUEUE_URL", &self.queues[&task].0)
            .env("ZTS_ZOOM_REGION", "NA")
            .env("ZTS_ZOOM_OAUTH_BASE", &self.oauth_base)
            .env("ZTS_ZOOM_API_BASE", format!("{}/v2", self.oauth_base))
            .env("ZTS_AWS_ENDPOINT_URL", aws_endpoint)
            .env("ZTS_AWS_REGION", "us-east-1")
            .env(
                "RUST_LOG",
                std::env::var("ZTS_FUNCTION_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()?;
        Ok(FunctionProcess { child, log_path })
    }
}

/// A running function process.
pub struct FunctionProcess {
    pub child: tokio::process::Child,
    pub log_path: PathBuf,
}

impl FunctionProcess {
    /// The last `n` lines it logged.
    pub fn last_logs(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// The SQS record Lambda hands a function for message `m` of queue `queue_arn`.
pub fn sqs_record(m: &aws_sdk_sqs::types::Message, queue_arn: &str) -> serde_json::Value {
    serde_json::json!({
        "messageId": m.message_id(),
        "receiptHandle": m.receipt_handle(),
        "body": m.body(),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": m.md5_of_body().unwrap_or(""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    })
}
