use lambda_runtime::{Error, run, service_fn};
use sync_engine::runtime::{FunctionConfig, engine_from_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_current_span(false)
        .without_time()
        .init();
    let config = FunctionConfig::from_env()?;
    let engine = engine_from_config(&config).await?;
    run(service_fn(|event| {
        license_differentiation::handler(&engine, event)
    }))
    .await
}
