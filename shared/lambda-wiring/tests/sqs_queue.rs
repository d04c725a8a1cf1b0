//! The SQS FIFO adapter against moto: message group = connection id, deduplication of a
//! repeated fan-out, batches of ten.

use std::collections::BTreeSet;

use lambda_wiring::SqsQueue;
use rand::RngExt;
use sync_engine::{Mode, Task, Unit, UnitQueue};

#[tokio::test]
async fn fifo_messages_carry_the_unit_group_and_deduplicate() {
    let Some(clients) = test_support::moto_clients("sqs_queue").await else {
        eprintln!("NOTICE: skipped, ZTS_AWS_ENDPOINT_URL is not set");
        return;
    };
    let n: u64 = rand::rng().random();
    let queue_url = clients
        .sqs
        .create_queue()
        .queue_name(format!("zts-sync-{n:016x}.fifo"))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .unwrap()
        .to_owned();
    let queue = SqsQueue::new(clients.sqs.clone(), queue_url.clone());
    let units: Vec<Unit> = (0..12)
        .map(|i| {
            Unit::new(
                Task::ApplicationAccess,
                &format!("conn-{}", i % 3),
                &format!("acct-{i}"),
                Mode::Auto,
            )
        })
        .collect();
    queue.send(&units, "plan-1").await.unwrap();
    // The same planning run re-sent (a retried schedule invocation): deduplicated.
    queue.send(&units, "plan-1").await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..20 {
        let out = clients
            .sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId,
            )
            .send()
            .await
            .unwrap();
        let messages = out.messages();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let unit: Unit = serde_json::from_str(m.body().unwrap()).unwrap();
            let group = m
                .attributes()
                .and_then(|a| {
                    a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
                })
                .cloned();
            assert_eq!(group.as_deref(), Some(unit.connection_id.as_str()));
            seen.push(unit);
            clients
                .sqs
                .delete_message()
                .queue_url(&queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    let got: BTreeSet<String> = seen.iter().map(|u| u.account_id.clone()).collect();
    let want: BTreeSet<String> = units.iter().map(|u| u.account_id.clone()).collect();
    assert_eq!(got, want);
    assert_eq!(seen.len(), units.len(), "no duplicates");
}
