//! Lambda entry point: JSON logs, configuration and clients built once, then the handler.

use std::sync::Arc;

use aws_adapters::AwsClients;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use reclamation::{Config, build};
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

    let config = Config::from_env()?;
    let clients = AwsClients::new(&config.aws).await;
    let reclaimer = Arc::new(build(&config, &clients).await?);

    run(service_fn(move |event: LambdaEvent<Value>| {
        let reclaimer = reclaimer.clone();
        async move {
            reclaimer
                .handle(&event.payload)
                .await
                .inspect_err(|e| tracing::warn!(error = %e, kind = e.kind(), "request refused"))
        }
    }))
    .await
}
