//! The four task functions (Application Roster, Application Access, License Information,
//! License Differentiation): configuration, the engine built once per cold start, the typed
//! Lambda event and the whole `main`.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ZTS_QUEUE_URL` | this task's FIFO queue (schedule fan-out and follow-ups) | required |
//! | `ZTS_RATE_PROFILE` | the account's Zoom plan: business, pro, free or unlimited | `business` |
//! | `ZTS_RATE_SCALE` | multiplies the profile (a sandbox scaled the same way) | `1` |
//! | `ZTS_DEADLINE_MARGIN_SECS` | stop this long before the invocation's deadline and continue in a follow-up | `60` |
//!
//! plus [`ZoomSettings`]' and the AWS adapters' variables.

use std::sync::Arc;
use std::time::Duration;

use aws_adapters::AwsConfig;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};
use serde::{Deserialize, Serialize};
use sync_engine::{
    DirectInvoke, DirectReport, EngineOptions, PlanReport, QueuedMessage, ScheduleEvent,
    SyncEngine, SyncError, Task, VaultClientFactory, system_clock,
};
use tokio::time::Instant;
use zoom::RateProfile;

use crate::clients::Wiring;
use crate::error::StartupError;
use crate::vars::{ConfigError, Vars};
use crate::zoom_settings::ZoomSettings;

/// One task function's configuration (names and URLs only; secrets come from Secrets Manager).
#[derive(Clone, Debug)]
pub struct TaskConfig {
    pub aws: AwsConfig,
    pub zoom: ZoomSettings,
    pub queue_url: String,
    pub rate_profile: RateProfile,
    pub deadline_margin: Duration,
    /// `EngineOptions::heavy_participants_share`, from a percentage.
    pub heavy_participants_share: f64,
}

impl TaskConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&Vars::from_env())
    }

    pub fn from_vars<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, ConfigError> {
        let queue_url = vars.required("ZTS_QUEUE_URL", "this task's FIFO queue")?;
        let base = match vars
            .get("ZTS_RATE_PROFILE")
            .as_deref()
            .unwrap_or("business")
        {
            "business" => RateProfile::business(),
            "pro" => RateProfile::pro(),
            "free" => RateProfile::free(),
            "unlimited" => RateProfile::unlimited(),
            other => {
                return Err(ConfigError(format!(
                    "ZTS_RATE_PROFILE {other:?}: business, pro, free or unlimited"
                )));
            }
        };
        let scale: f64 = vars.parsed("ZTS_RATE_SCALE", 1.0)?;
        let margin = vars.number_in("ZTS_DEADLINE_MARGIN_SECS", 0..=900, 60)?;
        let heavy_percent = vars.number_in("ZTS_HEAVY_PARTICIPANTS_PERCENT", 0..=100, 50)?;
        Ok(Self {
            aws: vars.aws(),
            zoom: ZoomSettings::from_vars(vars)?,
            queue_url,
            rate_profile: base.scaled(scale),
            deadline_margin: Duration::from_secs(margin.unsigned_abs()),
            heavy_participants_share: heavy_percent as f64 / 100.0,
        })
    }
}

/// Builds the engine: AWS clients, the OAuth app (read once), the token vault, the SQS queue.
pub async fn task_engine(config: &TaskConfig) -> Result<SyncEngine, StartupError> {
    let wiring = Wiring::new(config.aws.clone()).await;
    let zoom_config = config.zoom.zoom_config(&wiring.app_secrets().await?)?;
    let vault = wiring.token_vault(&zoom_config)?;
    Ok(SyncEngine {
        store: Arc::new(wiring.records()),
        clients: Arc::new(VaultClientFactory::new(
            zoom_config,
            vault,
            config.rate_profile,
        )),
        queue: Arc::new(wiring.queue(&config.queue_url)),
        clock: system_clock(),
        options: EngineOptions {
            deadline_margin: config.deadline_margin,
            heavy_participants_share: config.heavy_participants_share,
            ..EngineOptions::default()
        },
    })
}

/// What a task function is invoked with. The kinds have disjoint required keys
/// (`Records`, `connection_id`, `task`), so the first that reads is the one.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TaskEvent {
    /// Units fanned out by planning, or follow-ups of a unit that stopped at a checkpoint.
    Sqs(SqsEvent),
    /// An admin or the demo: `{"connection_id": …, "account_id"?: …, "mode"?: …}`.
    Direct(DirectInvoke),
    /// EventBridge Scheduler: `{"task": …, "mode"?: …}`.
    Schedule(ScheduleEvent),
}

impl TaskEvent {
    /// Reads an event; one that is none of the three says what was expected, or, when its
    /// keys say which kind it meant, what is wrong with it.
    pub fn from_value(event: serde_json::Value) -> Result<Self, SyncError> {
        // Read from a borrow: the batch is not copied on the way that succeeds.
        if let Ok(e) = Self::deserialize(&event) {
            return Ok(e);
        }
        let invalid = |e: serde_json::Error| SyncError::Invalid(e.to_string());
        Err(if event.get("Records").is_some() {
            serde_json::from_value::<SqsEvent>(event).err().map(invalid)
        } else if event.get("connection_id").is_some() {
            serde_json::from_value::<DirectInvoke>(event).err().map(invalid)
        } else if event.get("task").is_some() {
            serde_json::from_value::<ScheduleEvent>(event).err().map(invalid)
        } else {
            None
        }
        .unwrap_or_else(|| {
            SyncError::Invalid(
                "expected a schedule event ({\"task\": …}), an SQS batch ({\"Records\": …}) or a direct invoke ({\"connection_id\": …})".into(),
            )
        }))
    }
}

/// The answer to each kind of event.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TaskResponse {
    /// Partial batch failures: the messages SQS should deliver again.
    Batch(SqsBatchResponse),
    Direct(DirectReport),
    Plan(PlanReport),
}

/// Runs one event of `task`'s function.
pub async fn handle(
    engine: &SyncEngine,
    task: Task,
    event: TaskEvent,
    deadline: Option<Instant>,
) -> Result<TaskResponse, SyncError> {
    Ok(match event {
        TaskEvent::Sqs(batch) => {
            let messages = batch.records.into_iter().map(|m| QueuedMessage {
                id: m.message_id.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            });
            let mut response = SqsBatchResponse::default();
            for id in engine.run_messages(task, messages, deadline).await {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
            TaskResponse::Batch(response)
        }
        TaskEvent::Direct(request) => {
            TaskResponse::Direct(engine.run_direct(task, &request, deadline).await?)
        }
        TaskEvent::Schedule(event) => TaskResponse::Plan(engine.on_schedule(task, &event).await?),
    })
}

/// The whole `main` of a task's function: logs, configuration, the engine, then events.
pub async fn run_task_function(task: Task) -> Result<(), lambda_runtime::Error> {
    crate::init_tracing();
    let config = TaskConfig::from_env().map_err(crate::refused)?;
    let engine = task_engine(&config).await.map_err(crate::refused)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let engine = &engine;
        async move {
            let (payload, context) = event.into_parts();
            let event = TaskEvent::from_value(payload)?;
            let deadline = deadline_from_epoch_ms(context.deadline);
            Ok::<_, lambda_runtime::Error>(handle(engine, task, event, deadline).await?)
        }
    }))
    .await
}

/// Below this, a deadline header is a duration, not an epoch time (1e12 ms is September 2001).
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// The invocation's deadline as an `Instant`. Lambda sends epoch milliseconds; `cargo lambda
/// watch` (1.9) sends the remaining time in milliseconds instead, so small values are read as that.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Option<Instant> {
    deadline_at(deadline_ms, chrono::Utc::now().timestamp_millis())
}

fn deadline_at(deadline_ms: u64, now_epoch_ms: i64) -> Option<Instant> {
    if deadline_ms == 0 {
        return None;
    }
    let remaining_ms = if deadline_ms < EPOCH_MS_FLOOR {
        deadline_ms
    } else {
        deadline_ms.saturating_sub(u64::try_from(now_epoch_ms).unwrap_or(0))
    };
    Some(Instant::now() + Duration::from_millis(remaining_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remaining_secs(deadline: Option<Instant>) -> u64 {
        deadline
            .expect("a deadline")
            .duration_since(Instant::now())
            .as_secs()
    }

    #[test]
    fn epoch_deadlines_count_from_now() {
        let now = 1_800_000_000_000_i64;
        let in_five_minutes = 1_800_000_300_000_u64;
        let secs = remaining_secs(deadline_at(in_five_minutes, now));
        assert!((299..=300).contains(&secs), "{secs}");
        // Already past: no time left, not a wrap-around.
        assert_eq!(remaining_secs(deadline_at(1_799_999_000_000, now)), 0);
    }

    #[test]
    fn each_event_kind_reads_as_itself_and_bad_events_say_why() {
        let sqs = TaskEvent::from_value(serde_json::json!({
            "Records": [{"messageId": "m1", "body": "{}", "eventSource": "aws:sqs"}]
        }));
        assert!(matches!(sqs, Ok(TaskEvent::Sqs(b)) if b.records.len() == 1));
        let direct =
            TaskEvent::from_value(serde_json::json!({"connection_id": "c", "mode": "full"}));
        assert!(matches!(direct, Ok(TaskEvent::Direct(d)) if d.connection_id == "c"));
        let schedule = TaskEvent::from_value(serde_json::json!({"task": "application-access"}));
        assert!(
            matches!(schedule, Ok(TaskEvent::Schedule(s)) if s.task == Task::ApplicationAccess)
        );

        let message = |v: serde_json::Value| TaskEvent::from_value(v).unwrap_err().to_string();
        // Which kind it meant is clear from its keys: the error is that kind's.
        assert!(message(serde_json::json!({"task": "payroll"})).contains("payroll"));
        assert!(message(serde_json::json!({"connection_id": 7})).contains("expected a string"));
        assert!(message(serde_json::json!({"Records": "none"})).contains("expected a sequence"));
        // Otherwise: the three kinds it could have been.
        let other = message(serde_json::json!({"hello": "world"}));
        assert!(
            other.contains("schedule event") && other.contains("SQS batch"),
            "{other}"
        );
        assert!(message(serde_json::json!([1, 2])).contains("direct invoke"));
    }

    #[test]
    fn task_configuration_names_what_is_missing_or_wrong() {
        let config = |pairs: &'static [(&'static str, &'static str)]| {
            TaskConfig::from_vars(&Vars::from_lookup(move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }))
        };
        assert!(config(&[]).unwrap_err().0.contains("ZTS_QUEUE_URL"));
        let c = config(&[("ZTS_QUEUE_URL", "q"), ("ZTS_DEADLINE_MARGIN_SECS", "30")]).unwrap();
        assert_eq!(c.deadline_margin, Duration::from_secs(30));
        assert_eq!(c.rate_profile, RateProfile::business());
        assert_eq!(c.heavy_participants_share, 0.5);
        let c = config(&[
            ("ZTS_QUEUE_URL", "q"),
            ("ZTS_HEAVY_PARTICIPANTS_PERCENT", "0"),
        ])
        .unwrap();
        assert_eq!(c.heavy_participants_share, 0.0);
        let e = config(&[
            ("ZTS_QUEUE_URL", "q"),
            ("ZTS_HEAVY_PARTICIPANTS_PERCENT", "150"),
        ])
        .unwrap_err();
        assert!(e.0.contains("ZTS_HEAVY_PARTICIPANTS_PERCENT"), "{e}");
        let e = config(&[("ZTS_QUEUE_URL", "q"), ("ZTS_RATE_PROFILE", "gold")]).unwrap_err();
        assert!(e.0.contains("ZTS_RATE_PROFILE"), "{e}");
        let e = config(&[("ZTS_QUEUE_URL", "q"), ("ZTS_RATE_SCALE", "fast")]).unwrap_err();
        assert!(e.0.contains("ZTS_RATE_SCALE"), "{e}");
    }

    #[test]
    fn cargo_lambda_watch_durations_are_remaining_time() {
        let secs = remaining_secs(deadline_at(600_000, 1_800_000_000_000));
        assert!((599..=600).contains(&secs), "{secs}");
        assert!(deadline_at(0, 1_800_000_000_000).is_none());
    }
}
