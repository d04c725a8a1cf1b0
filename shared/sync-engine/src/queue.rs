//! Fan-out: where units go (SQS FIFO in production: `lambda-wiring`; memory in tests).

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
