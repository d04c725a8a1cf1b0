//! Lambda entry point: JSON logs, configuration and clients built once, then the handler.

use std::sync::Arc;

use lambda_http::{Error, Request, run, service_fn};
use lambda_wiring::Wiring;
use oauth_connect::{Config, build_app};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_wiring::init_tracing();
    let config = Config::from_env().map_err(lambda_wiring::refused)?;
    let wiring = Wiring::new(config.aws.clone()).await;
    let app = Arc::new(
        build_app(&config, &wiring)
            .await
            .map_err(lambda_wiring::refused)?,
    );
    run(service_fn(move |req: Request| {
        let app = app.clone();
        async move { Ok::<_, Error>(app.handle(req).await) }
    }))
    .await
}
