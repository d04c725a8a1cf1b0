//! Lambda entry point: JSON logs, configuration and clients built once, then the handler.

use std::sync::Arc;

use aws_adapters::AwsClients;
use lambda_http::{Error, Request, run, service_fn};
use oauth_connect::{Config, build_app};

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
    let app = Arc::new(build_app(&config, &clients).await?);

    run(service_fn(move |req: Request| {
        let app = app.clone();
        async move { Ok::<_, Error>(app.handle(req).await) }
    }))
    .await
}
