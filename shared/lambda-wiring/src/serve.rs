//! The start and the event loop of the functions an admin or a schedule invokes with a JSON
//! payload.

use std::future::Future;

use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

use crate::{Vars, Wiring, ZoomSettings};

/// The start of a function that calls Zoom: JSON logs, the Zoom settings and the AWS wiring
/// from the environment (a bad setting is logged once and ends `main`).
pub async fn start_with_zoom() -> Result<(Wiring, ZoomSettings), lambda_runtime::Error> {
    crate::init_tracing();
    let vars = Vars::from_env();
    let zoom = ZoomSettings::from_vars(&vars).map_err(crate::refused)?;
    Ok((Wiring::new(vars.aws()).await, zoom))
}

/// Answers every invocation with `handle(payload, deadline)` (the invocation's deadline, for
/// work that must not start too late); a refused one is logged once and returned as the
/// invocation's error (its type and message).
pub async fn serve_json<H, Fut, R, E>(handle: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(Value, Option<tokio::time::Instant>) -> Fut,
    Fut: Future<Output = Result<R, E>>,
    R: Serialize,
    E: std::fmt::Display + std::fmt::Debug + Into<lambda_runtime::Diagnostic>,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let deadline = crate::task::deadline_from_epoch_ms(event.context.deadline);
        let answer = handle(event.payload, deadline);
        async move {
            answer
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "request refused"))
        }
    }))
    .await
}
