//! Fan-out: where units go (SQS FIFO in production, memory in tests).

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::SyncError;
use crate::unit::Unit;

#[async_trait]
pub trait UnitQueue: Send + Sync {
    /// Sends units (message group = connection id; deduplication by unit and `salt`).
    async fn send(&self, units: &[Unit], salt: &str) -> Result<(), SyncError>;
}

/// SQS FIFO queue: MessageGroupId = connection id, so one unit per connection and task is in
/// flight at a time; MessageDeduplicationId from the unit and the planning run.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl UnitQueue for SqsQueue {
    async fn send(&self, units: &[Unit], salt: &str) -> Result<(), SyncError> {
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        for chunk in units.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, unit) in chunk.iter().enumerate() {
                let body =
                    serde_json::to_string(unit).map_err(|e| SyncError::Queue(e.to_string()))?;
                entries.push(
                    SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(body)
                        .message_group_id(unit.connection_id.clone())
                        .message_deduplication_id(unit.dedup_id(salt))
                        .build()
                        .map_err(|e| SyncError::Queue(e.to_string()))?,
                );
            }
            let mut pending = entries;
            for attempt in 0..5u32 {
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|e| {
                        SyncError::Queue(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
                    })?;
                let failed: Vec<String> = out.failed().iter().map(|f| f.id().to_owned()).collect();
                if failed.is_empty() {
                    break;
                }
                if attempt == 4 {
                    return Err(SyncError::Queue(format!(
                        "{} messages could not be sent",
                        failed.len()
                    )));
                }
                pending.retain(|e| failed.iter().any(|f| f == e.id()));
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
            }
        }
        Ok(())
    }
}

/// In-memory queue with FIFO deduplication (tests, local runs).
#[derive(Default)]
pub struct MemoryQueue {
    inner: Mutex<(VecDeque<Unit>, std::collections::HashSet<String>)>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes up to `n` messages.
    pub fn receive(&self, n: usize) -> Vec<Unit> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let k = n.min(g.0.len());
        g.0.drain(..k).collect()
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map(|g| g.0.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl UnitQueue for MemoryQueue {
    async fn send(&self, units: &[Unit], salt: &str) -> Result<(), SyncError> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for u in units {
            if g.1.insert(u.dedup_id(salt)) {
                g.0.push_back(u.clone());
            }
        }
        Ok(())
    }
}
