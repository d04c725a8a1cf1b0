//! Consecutive units of one task and connection in one invocation (a queue batch of one FIFO
//! group, or a direct invoke) overlap where it is safe: the next unit lists its users and
//! plans while the one before looks at its hosts, and starts its own hosts once the one before
//! has started its last, so the budget does not idle between accounts. Accounts start their
//! hosts in order and at most two units run at once: a unit takes its [`HostTurn`] after
//! planning and holds it until its last host has started; the next unit starts only once it
//! has taken it. Units that take no turn (every task but Application Access) run one after
//! the other as before. Writes need no order: joins only move forward (`UserStore`).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesOrdered;
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use crate::unit::Unit;

/// A unit's place in the order in which units look at their hosts.
pub(crate) struct HostTurn {
    gate: Arc<Mutex<()>>,
    taken: oneshot::Sender<()>,
}

impl HostTurn {
    /// Waits for the unit before to start its last host; the next unit may start once this
    /// returns. Hold the guard until this unit's last host has started.
    pub(crate) async fn take(self) -> OwnedMutexGuard<()> {
        let guard = self.gate.lock_owned().await;
        let _ = self.taken.send(());
        guard
    }
}

/// What the caller of [`run_in_turns`] does after a unit's result.
pub(crate) enum Step {
    /// Go on with the queue.
    Next,
    /// Run this unit (a follow-up segment) before the rest of the queue, under the same key.
    Then(Unit),
    /// Stop: the unit started after this one is cancelled, and nothing else starts.
    Stop,
}

/// Runs `queue` in order with `run` (which gets each unit's turn), at most two units at
/// once: a unit starts when the one before has taken its host turn (or has finished).
/// `on_result` sees every result in queue order. Once `stop_before_start` says so, nothing
/// more starts. Returns the keys of the units not run to their end, in order: the one
/// cancelled by a stop, and those never started.
pub(crate) async fn run_in_turns<K: Clone, R, F: Future<Output = (Unit, R)>>(
    mut queue: VecDeque<(K, Unit)>,
    run: impl Fn(Unit, HostTurn) -> F,
    stop_before_start: impl Fn() -> bool,
    mut on_result: impl FnMut(K, &Unit, R) -> Step,
) -> Vec<K> {
    let gate = Arc::new(Mutex::new(()));
    let mut running = FuturesOrdered::new();
    let mut running_keys: VecDeque<K> = VecDeque::new();
    // The newest running unit's turn, until it is taken or given up (the unit ended, or its
    // task takes none).
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
                running_keys.push_back(key);
                running.push_back(run(unit, turn));
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
        let (Some((unit, result)), Some(key)) = (finished, running_keys.pop_front()) else {
            break;
        };
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::time::Duration;

    use super::*;
    use crate::unit::{Mode, Task};

    fn queue(accounts: &[&str]) -> VecDeque<(String, Unit)> {
        accounts
            .iter()
            .map(|a| {
                let unit = Unit::new(Task::ApplicationAccess, "c1", a, Mode::Auto);
                ((*a).to_owned(), unit)
            })
            .collect()
    }

    /// A unit that plans for `plan`, takes its turn if `turns`, looks at hosts for `hosts`,
    /// and logs each step as "{account} {step}".
    async fn unit_run(
        log: &StdMutex<Vec<String>>,
        unit: Unit,
        turn: HostTurn,
        turns: bool,
    ) -> (Unit, Result<(), String>) {
        let say = |step: &str| {
            log.lock()
                .unwrap()
                .push(format!("{} {step}", unit.account_id))
        };
        say("starts");
        tokio::time::sleep(Duration::from_millis(20)).await;
        if turns {
            let guard = turn.take().await;
            say("hosts");
            tokio::time::sleep(Duration::from_millis(30)).await;
            say("last host");
            drop(guard);
        } else {
            drop(turn);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        say("ends");
        let failed = unit.account_id.starts_with("fail");
        (unit, if failed { Err("failed".into()) } else { Ok(()) })
    }

    fn position(log: &[String], line: &str) -> usize {
        log.iter()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("{line:?} not in {log:?}"))
    }

    #[tokio::test]
    async fn the_next_unit_starts_once_the_one_before_took_its_turn() {
        let log = StdMutex::new(Vec::new());
        let mut results = Vec::new();
        let not_run = run_in_turns(
            queue(&["a", "b", "c"]),
            |unit, turn| unit_run(&log, unit, turn, true),
            || false,
            |key, _, result| {
                results.push((key, result));
                Step::Next
            },
        )
        .await;
        let log = log.into_inner().unwrap();
        assert!(not_run.is_empty());
        let keys: Vec<&str> = results.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"], "results in queue order");
        for (before, after) in [("a", "b"), ("b", "c")] {
            // Overlap: the next one starts while the one before looks at hosts...
            assert!(
                position(&log, &format!("{after} starts"))
                    < position(&log, &format!("{before} ends"))
            );
            assert!(
                position(&log, &format!("{before} hosts"))
                    < position(&log, &format!("{after} starts"))
            );
            // ...and its hosts wait for the last host of the one before.
            assert!(
                position(&log, &format!("{before} last host"))
                    < position(&log, &format!("{after} hosts"))
            );
        }
        // Never three at once: c starts after a ends.
        assert!(position(&log, "a ends") < position(&log, "c starts"));
    }

    #[tokio::test]
    async fn units_that_take_no_turn_run_one_after_the_other() {
        let log = StdMutex::new(Vec::new());
        run_in_turns(
            queue(&["a", "b"]),
            |unit, turn| unit_run(&log, unit, turn, false),
            || false,
            |_, _, _| Step::Next,
        )
        .await;
        let log = log.into_inner().unwrap();
        assert_eq!(log, ["a starts", "a ends", "b starts", "b ends"]);
    }

    #[tokio::test]
    async fn a_stop_cancels_the_unit_started_after_and_hands_back_the_rest() {
        let log = StdMutex::new(Vec::new());
        let mut seen = Vec::new();
        let not_run = run_in_turns(
            queue(&["fail-a", "b", "c"]),
            |unit, turn| unit_run(&log, unit, turn, true),
            || false,
            |key, _, result: Result<(), String>| {
                seen.push(key);
                if result.is_err() {
                    Step::Stop
                } else {
                    Step::Next
                }
            },
        )
        .await;
        let log = log.into_inner().unwrap();
        assert_eq!(seen, ["fail-a"]);
        assert_eq!(not_run, ["b", "c"], "b was cancelled, c never started");
        assert!(log.contains(&"b starts".to_owned()));
        assert!(
            !log.contains(&"b ends".to_owned()),
            "b was cancelled: {log:?}"
        );
    }

    #[tokio::test]
    async fn once_out_of_time_nothing_starts_but_the_running_unit_ends() {
        let log = StdMutex::new(Vec::new());
        let started = StdMutex::new(0);
        let mut results = Vec::new();
        let not_run = run_in_turns(
            queue(&["a", "b", "c"]),
            |unit, turn| unit_run(&log, unit, turn, true),
            || {
                let mut n = started.lock().unwrap();
                *n += 1;
                *n > 1
            },
            |key, _, _| {
                results.push(key);
                Step::Next
            },
        )
        .await;
        assert_eq!(results, ["a"], "a ran to its end");
        assert_eq!(not_run, ["b", "c"]);
    }

    #[tokio::test]
    async fn a_follow_up_runs_next_under_the_same_key() {
        let log = StdMutex::new(Vec::new());
        let mut results = Vec::new();
        let mut followed = false;
        run_in_turns(
            queue(&["a", "b"]),
            |unit, turn| unit_run(&log, unit, turn, false),
            || false,
            |key, unit, _| {
                results.push((key, unit.account_id.clone()));
                if unit.account_id == "a" && !followed {
                    followed = true;
                    return Step::Then(unit.clone());
                }
                Step::Next
            },
        )
        .await;
        let keys: Vec<&str> = results.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "a", "b"]);
    }
}
