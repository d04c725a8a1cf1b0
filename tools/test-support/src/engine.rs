//! The engine on a sandbox and a store ([`Env`]), and its runs: direct invocations and the
//! draining of its queue.

use std::sync::Arc;

use aws_adapters::Records;
use sync_engine::{
    ClientFactory, Clock, DirectInvoke, DirectReport, EngineOptions, FixedClientFactory,
    MemoryQueue, QueuedMessage, SyncEngine, Task,
};
use zoom::ZoomClient;
use zoom_sandbox::RunningSandbox;
use zoom_sandbox::tenant::TenantSpec;

use crate::clients::zoom_client;
use crate::sandbox::{TestClock, pin_clock, sandbox};
use crate::store::store;

pub struct Env {
    pub sb: RunningSandbox,
    pub client: ZoomClient,
    pub records: Records,
    pub queue: Arc<MemoryQueue>,
    pub clock: TestClock,
    pub engine: SyncEngine,
}

pub async fn env(spec: TenantSpec, test: &str) -> Env {
    let sb = sandbox(spec).await;
    let records = store(test).await;
    env_on(sb, records)
}

/// The engine on `sb` and `records`. Pins the sandbox clock first ([`pin_clock`]): the
/// engine's clock starts at exactly the pinned time, the sandbox's just after it.
pub fn env_on(sb: RunningSandbox, records: Records) -> Env {
    let now = pin_clock(&sb);
    let client = zoom_client(&sb);
    let queue = Arc::new(MemoryQueue::new());
    let clock = TestClock::at(now);
    let engine = engine(
        &records,
        Arc::new(FixedClientFactory(client.clone())),
        queue.clone(),
        clock.clock(),
    );
    Env {
        sb,
        client,
        records,
        queue,
        clock,
        engine,
    }
}

/// An engine with the default options on `records`, taking its clients from `clients` and
/// sending follow-up units to `queue`.
pub fn engine(
    records: &Records,
    clients: Arc<dyn ClientFactory>,
    queue: Arc<MemoryQueue>,
    clock: Clock,
) -> SyncEngine {
    SyncEngine {
        store: Arc::new(records.clone()),
        clients,
        queue,
        clock,
        options: EngineOptions::default(),
    }
}

/// A direct invocation of a task for every account of connection `cid`, in the mode the task
/// chooses.
pub fn direct(cid: &str) -> DirectInvoke {
    DirectInvoke {
        connection_id: cid.to_owned(),
        account_id: None,
        mode: None,
    }
}

/// Runs `task` as `invoke` asks, expecting the run and every account's unit to succeed.
pub async fn run_direct(engine: &SyncEngine, task: Task, invoke: &DirectInvoke) -> DirectReport {
    let report = engine
        .run_direct(task, invoke, None)
        .await
        .expect("direct run");
    assert!(report.failed.is_empty(), "{task}: {:?}", report.failed);
    report
}

/// Runs the four tasks in their scheduled order ([`Task::ALL`]) as `invoke` asks, expecting
/// every unit to succeed.
pub async fn run_every_task(engine: &SyncEngine, invoke: &DirectInvoke) {
    for task in Task::ALL {
        run_direct(engine, task, invoke).await;
    }
}

/// Runs `task` for every account of connection `cid` ([`direct`]), expecting success.
pub async fn run_connection(engine: &SyncEngine, task: Task, cid: &str) -> DirectReport {
    run_direct(engine, task, &direct(cid)).await
}

/// Drains the memory queue the way the SQS event source would: batches of up to 10 messages
/// through the engine's batch entry point. Returns how many messages ran.
pub async fn drain(env: &Env, task: sync_engine::Task) -> usize {
    let mut n = 0;
    loop {
        let batch = env.queue.receive(10);
        if batch.is_empty() {
            return n;
        }
        let messages: Vec<QueuedMessage> = batch
            .iter()
            .enumerate()
            .map(|(i, u)| QueuedMessage {
                id: format!("m-{n}-{i}"),
                body: serde_json::to_string(u).unwrap(),
            })
            .collect();
        n += batch.len();
        let redeliver = env.engine.run_messages(task, messages, None).await;
        assert!(redeliver.is_empty(), "{task}: {redeliver:?}");
    }
}
