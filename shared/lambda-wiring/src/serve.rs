//! The event loop of the functions an admin or a schedule invokes with a JSON payload.

use std::future::Future;

use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

/// Answers every invocation with `handle(payload)`; a refused one is logged once and returned
/// as the invocation's error (its type and message).
pub async fn serve_json<H, Fut, R, E>(handle: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(Value) -> Fut,
    Fut: Future<Output = Result<R, E>>,
    R: Serialize,
    E: std::fmt::Display + std::fmt::Debug + Into<lambda_runtime::Diagnostic>,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let answer = handle(event.payload);
        async move {
            answer
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "request refused"))
        }
    }))
    .await
}
