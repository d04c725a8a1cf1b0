//! Consecutive units of one task and connection in one invocation (a queue batch of one FIFO
//! group, or a direct invoke) overlap where it is safe: the next unit lists its users and
//! plans while the one before looks at its hosts, so the budget does not idle between
//! accounts. Hosts are still looked at one unit at a time and in order: a unit takes its
//! [`HostTurn`] after planning, and the next unit starts only once it has. Units that take no
//! turn (every task but Application Access) run one after the other as before.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesOrdered;
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use crate::SyncError;
use crate::engine::{SyncEngine, UnitReport};
use crate::unit::Unit;

/// A unit's place in the order in which units look at their hosts.
pub(crate) struct HostTurn {
    gate: Arc<Mutex<()>>,
    taken: oneshot::Sender<()>,
}

impl HostTurn {
    /// Waits for the units before to finish their hosts; the next unit may start once this
    /// returns. Hold the guard while looking at hosts.
    pub(crate) async fn take(self) -> OwnedMutexGuard<()> {
        let guard = self.gate.lock_owned().await;
        let _ = self.taken.send(());
        guard
    }
}

/// What the caller of [`SyncEngine::run_in_turns`] does after a unit's result.
pub(crate) enum Step {
    /// Go on with the queue.
    Next,
    /// Run this unit (a follow-up segment) before the rest of the queue, under the same key.
    Then(Unit),
    /// Stop: the unit started after this one is cancelled, and nothing else starts.
    Stop,
}

impl SyncEngine {
    /// Runs `queue` in order, at most two units at once: a unit starts when the one before
    /// has taken its host turn (or has finished). `on_result` sees every result in queue
    /// order. Once `stop_before_start` says so, nothing more starts. Returns the keys of the
    /// units not run to their end, in order: the one cancelled by a stop, and those never
    /// started.
    pub(crate) async fn run_in_turns<K: Clone + Send + 'static>(
        &self,
        mut queue: VecDeque<(K, Unit)>,
        deadline: Option<tokio::time::Instant>,
        stop_before_start: impl Fn() -> bool,
        mut on_result: impl FnMut(K, &Unit, Result<UnitReport, SyncError>) -> Step,
    ) -> Vec<K> {
        let gate = Arc::new(Mutex::new(()));
        let start = |key: K, unit: Unit, turn: HostTurn| async move {
            let result = self.run_unit_in_turn(&unit, deadline, Some(turn)).await;
            (key, unit, result)
        };
        let mut running = FuturesOrdered::new();
        let mut running_keys: VecDeque<K> = VecDeque::new();
        // The newest running unit's turn, until it is taken or given up (the unit ended, or
        // its task takes none).
        let mut turn_of_newest: Option<oneshot::Receiver<()>> = None;
        let mut newest_took_turn = false;
        let mut starting = true;
        loop {
            let may_start = running.is_empty() || running.len() == 1 && newest_took_turn;
            if starting && may_start && !queue.is_empty() {
                if stop_before_start() {
                    starting = false;
                    continue;
                }
                if let Some((key, unit)) = queue.pop_front() {
                    let (taken, turn_taken) = oneshot::channel();
                    let turn = HostTurn {
                        gate: gate.clone(),
                        taken,
                    };
                    turn_of_newest = Some(turn_taken);
                    newest_took_turn = false;
                    running_keys.push_back(key.clone());
                    running.push_back(start(key, unit, turn));
                }
                continue;
            }
            let finished = match turn_of_newest.as_mut() {
                Some(turn) => tokio::select! {
                    taken = turn => {
                        newest_took_turn = taken.is_ok();
                        turn_of_newest = None;
                        continue;
                    }
                    finished = running.next() => finished,
                },
                None => running.next().await,
            };
            let Some((key, unit, result)) = finished else {
                break;
            };
            running_keys.pop_front();
            if running.is_empty() {
                turn_of_newest = None;
                newest_took_turn = false;
            }
            match on_result(key.clone(), &unit, result) {
                Step::Next => {}
                Step::Then(next) => queue.push_front((key, next)),
                Step::Stop => break,
            }
        }
        running_keys
            .into_iter()
            .chain(queue.into_iter().map(|(key, _)| key))
            .collect()
    }
}
