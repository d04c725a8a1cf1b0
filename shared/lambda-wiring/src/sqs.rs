//! The units' queue in AWS: SQS FIFO.

use async_trait::async_trait;
use sync_engine::{SyncError, Unit, UnitQueue};

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
