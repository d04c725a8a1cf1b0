//! Lambda entry point: JSON logs, configuration and the DynamoDB client built once, then the
//! handler. Needs the table only (no Zoom calls, no secrets).

use std::sync::Arc;

use aws_adapters::{AwsClients, AwsConfig, Records};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use license_admin::Admin;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .with_span_list(false)
        .init();

    let config = AwsConfig::from_env();
    let clients = AwsClients::new(&config).await;
    let admin = Arc::new(Admin::with_system_clock(Records::dynamo(
        clients.dynamodb.clone(),
        config.table_name.clone(),
    )));

    run(service_fn(move |event: LambdaEvent<Value>| {
        let admin = admin.clone();
        async move {
            admin
                .handle(&event.payload)
                .await
                .inspect_err(|e| tracing::warn!(error = %e, kind = e.kind(), "request refused"))
        }
    }))
    .await
}
