//! One Zoom budget per connection, split among the tasks that are running.
//!
//! Zoom's rate limits are per account; every task's function spends the same master account's
//! budget from its own process. A running unit keeps a mark in the table (renewed by a
//! heartbeat) and paces its client at its weight's part of the weights of the tasks marked
//! running: Application Access alone gets the whole budget, and when Roster and License
//! Information start beside it, all three slow down to their weights within one heartbeat.
//! A crashed unit's mark expires after `mark_ttl`.
//!
//! The pace each client learns (the part of the configured rate the account really allows,
//! `zoom::RateLimiter::pace`) is shared the same way: at every heartbeat a unit records its
//! paces for the connection and adopts a lower one another unit recorded since it last looked;
//! a unit that starts adopts the connection's recorded paces if they are under
//! [`PACE_MEMORY`] old, instead of rediscovering the budget from the configured rate.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ports::{BudgetStore, LearnedPace, RunningTask};
use tokio::task::JoinHandle;
use zoom::{Category, RateLimiter};

use crate::unit::Task;

/// How often a running unit renews its mark and re-reads the others', and how long a mark
/// lives without renewal.
#[derive(Clone, Copy, Debug)]
pub struct BudgetTiming {
    pub heartbeat: Duration,
    /// The heartbeat while the unit shares the budget (its share is under the whole): the
    /// part of a task that ends comes back this soon instead of idling for a whole heartbeat
    /// (Application Access paced at 88% for up to 5 s after License Information ended).
    pub shared_heartbeat: Duration,
    pub mark_ttl: Duration,
}

impl Default for BudgetTiming {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(5),
            shared_heartbeat: Duration::from_secs(1),
            mark_ttl: Duration::from_secs(30),
        }
    }
}

/// How long a recorded pace is believed by a unit that starts: the budget changes as the
/// account's other apps start and stop.
pub const PACE_MEMORY: chrono::Duration = chrono::Duration::minutes(15);

/// `task`'s part of the budget while `running` (which may or may not list it) are running.
pub fn share_of(task: Task, running: impl IntoIterator<Item = Task>) -> f64 {
    let mut tasks: Vec<Task> = running.into_iter().filter(|t| t.uses_zoom()).collect();
    tasks.push(task);
    tasks.sort();
    tasks.dedup();
    let total: f64 = tasks.iter().map(|t| t.budget_weight()).sum();
    if total > 0.0 {
        task.budget_weight() / total
    } else {
        1.0
    }
}

/// A unit's membership in its connection's budget: the heartbeat runs until [`Self::leave`].
pub(crate) struct BudgetMember {
    store: Arc<dyn BudgetStore>,
    mark: RunningTask,
    heartbeat: JoinHandle<()>,
}

impl BudgetMember {
    /// Marks the unit's task running, sets the limiter's share from the marks, and starts the
    /// heartbeat. A store error leaves the task's own weight as its share (the shares of all
    /// tasks add up to the whole budget, so that is safe whatever else runs).
    pub(crate) async fn join(
        store: Arc<dyn BudgetStore>,
        connection_id: &str,
        task: Task,
        owner: &str,
        limiter: Arc<RateLimiter>,
        timing: BudgetTiming,
    ) -> Self {
        limiter.set_share(task.budget_weight());
        let mark = RunningTask {
            connection_id: connection_id.to_owned(),
            task: task.as_str().to_owned(),
            owner: owner.to_owned(),
            until: Utc::now(),
        };
        rebalance(store.as_ref(), &mark, task, &limiter, timing).await;
        let mut seen = None;
        exchange_pace(store.as_ref(), &mark, &limiter, &mut seen).await;
        let heartbeat = tokio::spawn({
            let store = store.clone();
            let mark = mark.clone();
            async move {
                loop {
                    tokio::time::sleep(if limiter.share() < 1.0 {
                        timing.shared_heartbeat
                    } else {
                        timing.heartbeat
                    })
                    .await;
                    rebalance(store.as_ref(), &mark, task, &limiter, timing).await;
                    exchange_pace(store.as_ref(), &mark, &limiter, &mut seen).await;
                }
            }
        });
        Self {
            store,
            mark,
            heartbeat,
        }
    }

    /// Stops the heartbeat and clears the mark, so that the others get its part at their next
    /// heartbeat.
    pub(crate) async fn leave(self) {
        self.heartbeat.abort();
        let m = &self.mark;
        if let Err(e) = self
            .store
            .clear_running(&m.connection_id, &m.task, &m.owner)
            .await
        {
            tracing::warn!(connection_id = %m.connection_id, task = %m.task, error = %e,
                "could not clear the running mark; it expires by itself");
        }
    }
}

impl Drop for BudgetMember {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// Adopts the connection's recorded pace if another unit recorded it after `seen` and within
/// [`PACE_MEMORY`] (a lower pace only: `RateLimiter::adopt_pace`), then records this unit's
/// paces over it (categories this unit has not paced keep the recorded value). A store error
/// changes nothing: the unit goes on with what its own client learns.
async fn exchange_pace(
    store: &dyn BudgetStore,
    mark: &RunningTask,
    limiter: &RateLimiter,
    seen: &mut Option<DateTime<Utc>>,
) {
    let cid = &mark.connection_id;
    let now = Utc::now();
    let recorded = match store.learned_pace(cid).await {
        Ok(recorded) => recorded.filter(|r| now - r.at <= PACE_MEMORY),
        Err(e) => {
            tracing::debug!(connection_id = %cid, error = %e, "could not read the learned pace");
            return;
        }
    };
    let mut paces = std::collections::BTreeMap::new();
    if let Some(r) = &recorded {
        if r.owner != mark.owner && seen.is_none_or(|s| r.at > s) {
            for (name, pace) in &r.paces {
                if let Some(category) = Category::from_header(name) {
                    limiter.adopt_pace(cid, category, *pace);
                }
            }
            *seen = Some(r.at);
        }
        paces = r.paces.clone();
    }
    let own = limiter.paces(cid);
    if own.is_empty() {
        return; // nothing learned yet: leave the record to those who have
    }
    for (category, pace) in own {
        paces.insert(category.as_str().to_owned(), pace);
    }
    let learned = LearnedPace {
        connection_id: cid.clone(),
        paces,
        owner: mark.owner.clone(),
        at: now,
    };
    if let Err(e) = store.record_pace(&learned).await {
        tracing::debug!(connection_id = %cid, error = %e, "could not record the learned pace");
    }
}

async fn rebalance(
    store: &dyn BudgetStore,
    mark: &RunningTask,
    task: Task,
    limiter: &RateLimiter,
    timing: BudgetTiming,
) {
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(timing.mark_ttl).unwrap_or(chrono::Duration::minutes(1));
    let renewed = RunningTask {
        until: now + ttl,
        ..mark.clone()
    };
    let running = match store.mark_running(&renewed).await {
        Ok(()) => store.running_tasks(&mark.connection_id, now).await,
        Err(e) => Err(e),
    };
    match running {
        Ok(marks) => {
            let share = share_of(task, marks.iter().filter_map(|m| m.task.parse().ok()));
            if (share - limiter.share()).abs() > 1e-9 {
                tracing::debug!(connection_id = %mark.connection_id, task = %task, share,
                    running = marks.len(), "budget share changed");
            }
            limiter.set_share(share);
        }
        Err(e) => {
            limiter.set_share(task.budget_weight());
            tracing::warn!(connection_id = %mark.connection_id, task = %task, error = %e,
                "could not read the running tasks; pacing at the task's fixed weight");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_split_the_budget_among_running_tasks() {
        use Task::*;
        assert_eq!(share_of(ApplicationAccess, []), 1.0);
        assert_eq!(share_of(ApplicationAccess, [ApplicationAccess]), 1.0);
        // All three running: the fixed weights, which add up to the whole budget.
        let all = [ApplicationRoster, ApplicationAccess, LicenseInformation];
        let total: f64 = all.iter().map(|t| share_of(*t, all)).sum();
        assert!((total - 1.0).abs() < 1e-9);
        for t in all {
            assert!((share_of(t, all) - t.budget_weight()).abs() < 1e-9);
        }
        // Access and Roster: Access gets 0.75 / 0.90.
        let pair = [ApplicationRoster, ApplicationAccess];
        assert!((share_of(ApplicationAccess, pair) - 0.75 / 0.90).abs() < 1e-9);
        // Differentiation spends nothing and takes nothing.
        assert_eq!(share_of(ApplicationRoster, [LicenseDifferentiation]), 1.0);
    }

    #[tokio::test]
    async fn members_rebalance_as_tasks_join_and_leave() {
        let store = store();
        let timing = timing(Duration::from_millis(20), Duration::from_millis(20));
        let (access, access_limiter) = join_access(&store, timing).await;
        assert_eq!(access_limiter.share(), 1.0, "alone: the whole budget");

        let roster_limiter = business();
        let roster = join(
            &store,
            "c1",
            Task::ApplicationRoster,
            roster_limiter.clone(),
            timing,
        )
        .await;
        assert!((roster_limiter.share() - 0.15 / 0.90).abs() < 1e-9);
        // Access notices at its next heartbeat.
        wait_for(|| (access_limiter.share() - 0.75 / 0.90).abs() < 1e-9).await;
        // Another connection's tasks do not count.
        let other = join(&store, "c2", Task::LicenseInformation, business(), timing).await;
        roster.leave().await;
        wait_for(|| access_limiter.share() == 1.0).await;
        other.leave().await;
        access.leave().await;
        assert!(
            store
                .running_tasks("c1", Utc::now())
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_unit_sharing_the_budget_takes_it_back_soon_after_the_other_leaves() {
        let store = store();
        // A heartbeat far longer than the test may wait: only the shared heartbeat can notice.
        let timing = timing(Duration::from_secs(3_600), Duration::from_millis(20));
        let license = join(&store, "c1", Task::LicenseInformation, business(), timing).await;
        let (access, access_limiter) = join_access(&store, timing).await;
        let shared = share_of(Task::ApplicationAccess, [Task::LicenseInformation]);
        assert!(shared < 1.0);
        assert!((access_limiter.share() - shared).abs() < 1e-9);
        license.leave().await;
        wait_for(|| access_limiter.share() == 1.0).await;
        access.leave().await;
    }

    #[tokio::test]
    async fn a_unit_starts_at_the_pace_another_unit_learned() {
        let store = store();
        let timing = timing(Duration::from_millis(20), Duration::from_millis(20));
        // Access's client learned that the account allows 30% of the configured Medium rate.
        let access_limiter = business();
        access_limiter.adopt_pace("c1", Category::Medium, 0.3);
        let access = join(
            &store,
            "c1",
            Task::ApplicationAccess,
            access_limiter.clone(),
            timing,
        )
        .await;
        let recorded = store.learned_pace("c1").await.unwrap().unwrap();
        assert_eq!(recorded.paces.get("Medium"), Some(&0.3));
        assert_eq!(recorded.owner, "run-application-access");
        // A unit in another process starts there, not at the configured rate.
        let roster_limiter = business();
        let roster = join(
            &store,
            "c1",
            Task::ApplicationRoster,
            roster_limiter.clone(),
            timing,
        )
        .await;
        assert_eq!(roster_limiter.pace("c1", Category::Medium), 0.3);
        assert_eq!(roster_limiter.pace("c1", Category::Light), 1.0);
        // Another connection's units do not take it.
        let other_limiter = business();
        let other = join(
            &store,
            "c2",
            Task::ApplicationRoster,
            other_limiter.clone(),
            timing,
        )
        .await;
        assert_eq!(other_limiter.pace("c2", Category::Medium), 1.0);
        // A lower pace learned later reaches the running unit at its next heartbeat.
        access_limiter.adopt_pace("c1", Category::Medium, 0.2);
        wait_for(|| roster_limiter.pace("c1", Category::Medium) == 0.2).await;
        for m in [access, roster, other] {
            m.leave().await;
        }
        // A record older than PACE_MEMORY is not believed.
        store
            .record_pace(&LearnedPace {
                connection_id: "c3".into(),
                paces: [("Medium".to_owned(), 0.1)].into(),
                owner: "run-old".into(),
                at: Utc::now() - PACE_MEMORY - chrono::Duration::minutes(1),
            })
            .await
            .unwrap();
        let late_limiter = business();
        let late = join(
            &store,
            "c3",
            Task::ApplicationAccess,
            late_limiter.clone(),
            timing,
        )
        .await;
        assert_eq!(late_limiter.pace("c3", Category::Medium), 1.0);
        late.leave().await;
    }

    /// `task` joins `connection_id`'s budget as the unit `run-{task}`.
    async fn join(
        store: &Arc<dyn BudgetStore>,
        connection_id: &str,
        task: Task,
        limiter: Arc<RateLimiter>,
        timing: BudgetTiming,
    ) -> BudgetMember {
        let owner = format!("run-{task}");
        BudgetMember::join(store.clone(), connection_id, task, &owner, limiter, timing).await
    }

    /// Application Access joins `c1`'s budget with a Business limiter of its own.
    async fn join_access(
        store: &Arc<dyn BudgetStore>,
        timing: BudgetTiming,
    ) -> (BudgetMember, Arc<RateLimiter>) {
        let limiter = business();
        let member = join(
            store,
            "c1",
            Task::ApplicationAccess,
            limiter.clone(),
            timing,
        )
        .await;
        (member, limiter)
    }

    fn store() -> Arc<dyn BudgetStore> {
        Arc::new(aws_adapters::Records::in_memory())
    }

    fn business() -> Arc<RateLimiter> {
        RateLimiter::new(zoom::RateProfile::business())
    }

    fn timing(heartbeat: Duration, shared_heartbeat: Duration) -> BudgetTiming {
        BudgetTiming {
            heartbeat,
            shared_heartbeat,
            mark_ttl: Duration::from_secs(60),
        }
    }

    async fn wait_for(done: impl Fn() -> bool) {
        for _ in 0..500 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the share did not change within 5 s");
    }
}
