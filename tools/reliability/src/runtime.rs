//! A local Lambda Runtime API (the endpoints `lambda_runtime` uses).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// What a function answered to one invocation: its response, or the error it reported.
pub type Answer = Result<Value, Value>;

struct Invocation {
    event: Value,
    deadline_epoch_ms: i64,
    answer: oneshot::Sender<Answer>,
}

struct Shared {
    queued: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    init_errors: Mutex<Vec<Value>>,
    next_id: Mutex<u64>,
}

/// A local Lambda Runtime API (the endpoints `lambda_runtime` uses).
pub struct RuntimeApi {
    pub addr: SocketAddr,
    invocations: mpsc::Sender<Invocation>,
    shared: Arc<Shared>,
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(16);
        let shared = Arc::new(Shared {
            queued: tokio::sync::Mutex::new(rx),
            waiting: Mutex::new(HashMap::new()),
            init_errors: Mutex::new(Vec::new()),
            next_id: Mutex::new(0),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            invocations: tx,
            shared,
        })
    }

    /// Hands `event` to the next poll, with `time_left` until its deadline, and waits (at most
    /// `time_left` plus 30 s) for the answer. `None`: no answer (the process died or hung).
    pub async fn invoke(&self, event: Value, time_left: Duration) -> Option<Answer> {
        let (answer, received) = oneshot::channel();
        let deadline_epoch_ms = chrono::Utc::now().timestamp_millis()
            + i64::try_from(time_left.as_millis()).unwrap_or(i64::MAX / 2);
        self.invocations
            .send(Invocation {
                event,
                deadline_epoch_ms,
                answer,
            })
            .await
            .ok()?;
        tokio::time::timeout(time_left + Duration::from_secs(30), received)
            .await
            .ok()?
            .ok()
    }

    /// Errors the function reported before taking events (a refused start).
    pub fn init_errors(&self) -> Vec<Value> {
        self.shared.init_errors.lock().unwrap().clone()
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let Some(invocation) = shared.queued.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let id = {
        let mut n = shared.next_id.lock().unwrap();
        *n += 1;
        format!("req-{n}")
    };
    shared
        .waiting
        .lock()
        .unwrap()
        .insert(id.clone(), invocation.answer);
    let mut headers = HeaderMap::new();
    let header = |v: &str| HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static(""));
    headers.insert("lambda-runtime-aws-request-id", header(&id));
    headers.insert(
        "lambda-runtime-deadline-ms",
        header(&invocation.deadline_epoch_ms.to_string()),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        header("arn:aws:lambda:us-east-1:000000000000:function:local"),
    );
    headers.insert("lambda-runtime-trace-id", header("Root=1-local"));
    headers.insert("content-type", header("application/json"));
    (StatusCode::OK, headers, invocation.event.to_string()).into_response()
}

fn answer(shared: &Shared, id: &str, answer: Answer) -> StatusCode {
    match shared.waiting.lock().unwrap().remove(id) {
        Some(waiter) => {
            let _ = waiter.send(answer);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

fn json_of(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    answer(&shared, &id, Ok(json_of(&body)))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    answer(&shared, &id, Err(json_of(&body)))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    shared.init_errors.lock().unwrap().push(json_of(&body));
    StatusCode::ACCEPTED
}
