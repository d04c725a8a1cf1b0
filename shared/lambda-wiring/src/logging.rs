//! The functions' log format, and what no log level may show.

use tracing_subscriber::EnvFilter;

/// Crates that log request or event bodies below `info`: the AWS SDK (`PutSecretValue` carries
/// tokens), the HTTP stack and the Lambda runtime (raw events carry OAuth codes). Whatever
/// `RUST_LOG` says, they log at `info` at most.
const CAPPED_AT_INFO: [&str; 12] = [
    "aws_config",
    "aws_runtime",
    "aws_sdk_dynamodb",
    "aws_sdk_secretsmanager",
    "aws_sdk_sqs",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "hyper",
    "h2",
    "reqwest",
    "lambda_runtime",
    "lambda_http",
];

/// JSON logs, one object per line; `RUST_LOG` filters (default `info`), with the caps above.
pub fn init_tracing() {
    use tracing_subscriber::util::SubscriberInitExt;
    log_subscriber(std::io::stdout, std::env::var("RUST_LOG").ok().as_deref()).init();
}

/// The functions' log lines written to `writer`: a JSON object per line, the event's fields
/// under `fields` (the stack's metric filters match `$.fields.alert`).
pub fn log_subscriber<W>(
    writer: W,
    rust_log: Option<&str>,
) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(log_filter(rust_log))
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
        .finish()
}

/// Logs why a function cannot start, once, as the error it returns (`main` then ends; Lambda
/// reports the init error).
pub fn refused<E: std::fmt::Display>(error: E) -> E {
    tracing::error!(error = %error, "the function cannot start");
    error
}

/// `rust_log` (else `info`) with every crate of [`CAPPED_AT_INFO`] capped at `info`; the caps
/// come last, so they replace any directive `rust_log` gave those crates.
fn log_filter(rust_log: Option<&str>) -> EnvFilter {
    let mut filter = EnvFilter::try_new(rust_log.unwrap_or("info").trim())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    for target in CAPPED_AT_INFO {
        if let Ok(cap) = format!("{target}=info").parse() {
            filter = filter.add_directive(cap);
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    fn enabled(rust_log: &str, target_is_sdk: bool, level: Level) -> bool {
        let subscriber = tracing_subscriber::registry().with(log_filter(Some(rust_log)));
        tracing::subscriber::with_default(subscriber, || {
            // `enabled!` needs literal targets.
            match (target_is_sdk, level) {
                (true, Level::TRACE) => {
                    tracing::enabled!(target: "aws_smithy_runtime", Level::TRACE)
                }
                (true, Level::DEBUG) => {
                    tracing::enabled!(target: "aws_smithy_runtime", Level::DEBUG)
                }
                (true, _) => tracing::enabled!(target: "aws_smithy_runtime", Level::INFO),
                (false, Level::TRACE) => tracing::enabled!(target: "sync_engine", Level::TRACE),
                (false, Level::DEBUG) => tracing::enabled!(target: "sync_engine", Level::DEBUG),
                (false, _) => tracing::enabled!(target: "sync_engine", Level::INFO),
            }
        })
    }

    #[test]
    fn sdk_and_runtime_never_log_below_info() {
        for rust_log in [
            "trace",
            "debug",
            "aws_smithy_runtime=trace",
            "trace,aws_smithy_runtime=trace",
        ] {
            assert!(!enabled(rust_log, true, Level::DEBUG), "{rust_log}");
            assert!(!enabled(rust_log, true, Level::TRACE), "{rust_log}");
        }
        assert!(enabled("trace", true, Level::INFO));
        // Our own crates follow RUST_LOG.
        assert!(enabled("debug", false, Level::DEBUG));
        assert!(!enabled("info", false, Level::DEBUG));
        // An unreadable filter falls back to info.
        assert!(enabled("=[bad", false, Level::INFO));
        assert!(!enabled("=[bad", false, Level::DEBUG));
    }
}
