//! Tasks, units of work, and the events that carry them (schedule, SQS message, direct invoke).

use serde::{Deserialize, Serialize};

pub use sync_domain::Task;

/// `auto`: incremental when a recent full run exists, full otherwise (see `docs/integration-tasks.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Auto,
    Full,
    Incremental,
}

/// One unit of work: one task for one account of one connection. Also the SQS message body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub task: Task,
    pub connection_id: String,
    pub account_id: String,
    #[serde(default)]
    pub mode: Mode,
    /// Set on follow-up messages: the run this message continues (its checkpoint holds the
    /// cursor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continues_run: Option<String>,
}

impl Unit {
    pub fn new(task: Task, connection_id: &str, account_id: &str, mode: Mode) -> Self {
        Self {
            task,
            connection_id: connection_id.to_owned(),
            account_id: account_id.to_owned(),
            mode,
            continues_run: None,
        }
    }

    /// FIFO deduplication id: one message per unit and run segment.
    pub fn dedup_id(&self, salt: &str) -> String {
        let raw = format!(
            "{}|{}|{}|{}|{salt}",
            self.task,
            self.connection_id,
            self.account_id,
            self.continues_run.as_deref().unwrap_or("")
        );
        // FIFO dedup ids are at most 128 characters of [A-Za-z0-9!-~]: hash long inputs.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in raw.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{}-{h:016x}", self.task)
    }
}

/// EventBridge Scheduler payload: `{"task":"application-roster","mode":"scheduled"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleEvent {
    pub task: Task,
    /// `scheduled` (= auto), `full` or `incremental`.
    #[serde(default)]
    pub mode: Option<String>,
}

impl ScheduleEvent {
    pub fn mode(&self) -> Result<Mode, String> {
        parse_mode(self.mode.as_deref())
    }
}

/// Direct invoke: `{"connection_id": "...", "account_id": optional, "mode": optional}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectInvoke {
    pub connection_id: String,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
}

impl DirectInvoke {
    pub fn mode(&self) -> Result<Mode, String> {
        parse_mode(self.mode.as_deref())
    }
}

pub fn parse_mode(mode: Option<&str>) -> Result<Mode, String> {
    match mode.map(str::trim).unwrap_or("") {
        "" | "scheduled" | "auto" => Ok(Mode::Auto),
        "full" => Ok(Mode::Full),
        "incremental" => Ok(Mode::Incremental),
        other => Err(format!(
            "unknown mode {other:?} (scheduled, auto, full or incremental)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert!(parse_mode(Some("weekly")).is_err());
        assert_eq!(parse_mode(Some("full")), Ok(Mode::Full));
    }

    #[test]
    fn dedup_ids_are_short_and_distinct() {
        let a = Unit::new(Task::ApplicationAccess, "c1", "a1", Mode::Auto);
        let mut b = a.clone();
        b.continues_run = Some("run-1".into());
        assert_ne!(a.dedup_id("x"), b.dedup_id("x"));
        assert_ne!(a.dedup_id("x"), a.dedup_id("y"));
        assert!(a.dedup_id("x").len() <= 128);
    }
}
