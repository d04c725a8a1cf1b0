//! The run: check the connection and its activity data, select, pre-check, check the cap and
//! scopes, then a dry run or an execute (one lease and one audit record per request id).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use futures::TryStreamExt;
use ports::{
    AuditEntry, AuditRequest, AuditState, ConnectionRecord, ConnectionStatus, MissingScopeNote,
};
use serde_json::{Value, json};
use tracing::{info, warn};

use super::acting::process;
use super::journal::Journal;
use super::response::{
    DRY_RUN_LIVE_CHECKS, Outcome, ReclamationResponse, reason, respond, result_from_entry,
};
use super::selection::Candidate;
use super::{ACCESS_TASK, LEASE_TTL, Reclaimer};
use crate::error::ReclamationError;
use crate::gateway::ZoomUsers;
use crate::request::{Action, Execution, ReclamationRequest, Step};

impl Reclaimer {
    /// Handles one invocation payload.
    pub async fn handle(&self, payload: &Value) -> Result<ReclamationResponse, ReclamationError> {
        let request = ReclamationRequest::parse(payload)?;
        self.run(&request).await
    }

    #[tracing::instrument(skip_all, fields(
        request_id = %request.request_id,
        connection_id = %request.connection_id,
        action = request.action.as_str(),
        mode = request.mode.as_str(),
        step = request.step.as_str(),
    ))]
    pub async fn run(
        &self,
        request: &ReclamationRequest,
    ) -> Result<ReclamationResponse, ReclamationError> {
        request.validate()?;
        let connection = self
            .stores
            .connections
            .get_connection(&request.connection_id)
            .await?
            .ok_or_else(|| ReclamationError::ConnectionNotFound(request.connection_id.clone()))?;
        if request.step == Step::History {
            // Reads what was recorded; also for a connection that cannot be used any more.
            return self.history(request).await;
        }
        match &connection.status {
            ConnectionStatus::Active => {}
            ConnectionStatus::NeedsReauthorization { reason, .. } => {
                return Err(ReclamationError::ConnectionUnavailable {
                    id: connection.connection_id.clone(),
                    state: format!("it needs re-authorization ({reason})"),
                });
            }
            ConnectionStatus::Deauthorized { at, .. } => {
                return Err(ReclamationError::ConnectionUnavailable {
                    id: connection.connection_id.clone(),
                    state: format!("the app was uninstalled at {at}"),
                });
            }
        }
        let now = (self.clock)();
        let mut warnings = Vec::new();
        let (data_as_of, data_problems) = self.data_state(request, &connection, now).await?;
        if request.action != Action::Reactivate {
            // Reactivate only undoes an earlier request from its audit and reads no activity:
            // stale or partial data never keeps anyone from being restored.
            for problem in data_problems {
                if request.mode == Execution::Execute {
                    warn!(error = %problem, "refusing to act on this activity data");
                    return Err(problem);
                }
                warnings.push(problem.to_string());
            }
        }
        let mut candidates = self.select(request, &connection).await?;
        for c in &mut candidates {
            if c.pre.is_none() {
                c.pre = c.pre_check(request, &connection, now);
            }
        }
        let actionable: Vec<&Candidate> = candidates.iter().filter(|c| c.pre.is_none()).collect();

        let cap = request.cap();
        if actionable.len() > cap as usize {
            let e = ReclamationError::CapExceeded {
                selected: actionable.len(),
                cap,
            };
            if request.mode == Execution::Execute {
                return Err(e);
            }
            warnings.push(e.to_string());
        }
        if request.step == Step::Notify {
            // Notices change nothing at Zoom (the reclaim_notified run checks the scopes).
            if self.notifier.is_none() && request.mode == Execution::DryRun {
                warnings.push(ReclamationError::NotificationsNotConfigured.to_string());
            }
        } else if let Some(missing) = self
            .missing_scopes(request, &connection, &actionable)
            .await?
        {
            let e = ReclamationError::MissingScope { missing };
            if request.mode == Execution::Execute {
                return Err(e);
            }
            warnings.push(e.to_string());
        }

        let zoom = self
            .zoom
            .users(&connection)
            .await
            .map_err(ReclamationError::Zoom)?;

        if request.step == Step::Notify && request.mode == Execution::DryRun {
            return self
                .notify(
                    request,
                    &connection,
                    &*zoom,
                    &candidates,
                    data_as_of,
                    warnings,
                    now,
                )
                .await;
        }
        if request.mode == Execution::DryRun {
            let mut results = Vec::with_capacity(candidates.len());
            let (mut checked, mut not_checked) = (0, 0u64);
            for c in &candidates {
                if c.pre.is_none() {
                    if checked == DRY_RUN_LIVE_CHECKS {
                        not_checked += 1;
                        continue;
                    }
                    checked += 1;
                }
                results.push(process(request, &connection, &*zoom, c, now, None).await?);
            }
            if not_checked > 0 {
                warnings.push(format!(
                    "{not_checked} more users pass the stored checks but were not checked at \
                     Zoom (a dry run checks at most {DRY_RUN_LIVE_CHECKS}): narrow the policy \
                     (license_names, account_ids, inactive_days) to see them"
                ));
            }
            let mut response = respond(request, false, data_as_of, warnings, results);
            response.summary.selected += not_checked;
            response.summary.not_checked_live = not_checked;
            return Ok(response);
        }

        // Execute: one invocation per request id at a time, recorded once.
        let lease = lease_name(&request.request_id);
        let owner = format!("{:016x}", rand::random::<u64>());
        if !self
            .stores
            .leases
            .acquire(&lease, &owner, LEASE_TTL)
            .await?
        {
            return Err(ReclamationError::InProgress(request.request_id.clone()));
        }
        // Notify-then-reclaim: one run of its steps per connection at a time.
        let notices = (!request.step.is_reclaim()).then(|| notices_lease_name(&connection));
        if let Some(name) = &notices
            && !self.stores.leases.acquire(name, &owner, LEASE_TTL).await?
        {
            self.release(&lease, &owner).await;
            return Err(ReclamationError::InProgress(format!(
                "{} (another notify or reclaim_notified run of connection {} is running)",
                request.request_id, connection.connection_id
            )));
        }
        let outcome = if request.step == Step::Notify {
            self.notify(
                request,
                &connection,
                &*zoom,
                &candidates,
                data_as_of,
                Vec::new(),
                now,
            )
            .await
        } else {
            match self.hold_earlier(&mut candidates, &owner).await {
                Ok(earlier) => {
                    let mut outcome = self
                        .execute(request, &connection, &*zoom, &candidates, data_as_of, now)
                        .await;
                    if let Some(earlier) = earlier {
                        self.release(&earlier, &owner).await;
                    }
                    if request.step == Step::ReclaimNotified
                        && let Ok(response) = &mut outcome
                        && let Err(e) = self.settle(request, &candidates, response).await
                    {
                        // The changes are audited; a replay of the request settles them.
                        outcome = Err(e);
                    }
                    if request.action == Action::Reactivate
                        && let Ok(response) = &mut outcome
                        && let Err(e) = self.note_restored(request, response).await
                    {
                        warn!(error = %e, "restored users' opportunities not updated");
                    }
                    outcome
                }
                Err(e) => Err(e),
            }
        };
        if let Some(name) = &notices {
            self.release(name, &owner).await;
        }
        self.release(&lease, &owner).await;
        outcome
    }

    async fn release(&self, lease: &str, owner: &str) {
        if let Err(e) = self.stores.leases.release(lease, owner).await {
            warn!(lease, error = %e, "could not release a request lease (it expires by itself)");
        }
    }

    /// Reactivate of entries still in state `intent`: their request must have ended, so what
    /// it did is final before it is read from Zoom. Takes the earlier request's lease (held
    /// until this one ends; a replay of it waits meanwhile) and returns its name; if the
    /// earlier request holds it (running, or crashed less than the lease's 16 minutes ago),
    /// its intents are skipped (`earlier_request_running`) and the rest goes on.
    async fn hold_earlier(
        &self,
        candidates: &mut [Candidate],
        owner: &str,
    ) -> Result<Option<String>, ReclamationError> {
        let is_intent = |c: &Candidate| {
            c.pre.is_none()
                && c.restore
                    .as_ref()
                    .is_some_and(|e| e.state == AuditState::Intent)
        };
        let Some(earlier) = candidates
            .iter()
            .find(|c| is_intent(c))
            .and_then(|c| c.restore.as_ref())
            .map(|e| e.request_id.clone())
        else {
            return Ok(None);
        };
        let lease = lease_name(&earlier);
        if self.stores.leases.acquire(&lease, owner, LEASE_TTL).await? {
            return Ok(Some(lease));
        }
        warn!(earlier_request = %earlier, "the earlier request holds its lease: its intents are left");
        for c in candidates.iter_mut().filter(|c| is_intent(c)) {
            c.pre = Some((
                Outcome::Skipped,
                reason::EARLIER_REQUEST_RUNNING,
                format!(
                    "request {earlier} is still running (or ended less than {} minutes ago) and \
                     never recorded what it did to this user: run this reactivate again later \
                     (with a new request_id)",
                    LEASE_TTL.as_secs() / 60
                ),
            ));
        }
        Ok(None)
    }

    async fn execute(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
        zoom: &dyn ZoomUsers,
        candidates: &[Candidate],
        data_as_of: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ReclamationResponse, ReclamationError> {
        let plan: Vec<String> = candidates.iter().map(|c| c.user_key.clone()).collect();
        let record = AuditRequest {
            request_id: request.request_id.clone(),
            connection_id: request.connection_id.clone(),
            requested_by: request.requested_by.clone(),
            reason: request.reason.clone(),
            action: request.action.as_str().into(),
            mode: request.mode.as_str().into(),
            request: json!({ "fingerprint": request.fingerprint(), "plan": plan }),
            created_at: now,
        };
        let first = self.stores.audit.begin_request(&record).await?;
        let mut recorded: HashMap<String, AuditEntry> = HashMap::new();
        let mut planned: Option<HashSet<String>> = None;
        if !first {
            let earlier = self
                .stores
                .audit
                .get_request(&request.request_id)
                .await?
                .ok_or_else(|| ReclamationError::RequestIdReused(request.request_id.clone()))?;
            if earlier.request.get("fingerprint") != Some(&request.fingerprint())
                || earlier.mode != Execution::Execute.as_str()
            {
                return Err(ReclamationError::RequestIdReused(
                    request.request_id.clone(),
                ));
            }
            planned = earlier
                .request
                .get("plan")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                });
            let entries: Vec<AuditEntry> = self
                .stores
                .audit
                .list_request_entries(&request.request_id)
                .try_collect()
                .await?;
            recorded = entries
                .into_iter()
                .map(|e| (e.user_key.clone(), e))
                .collect();
            info!(
                recorded = recorded.len(),
                "replayed request id: reporting recorded results, finishing only unrecorded users"
            );
        }

        let mut results = Vec::with_capacity(candidates.len());
        let mut seen = HashSet::new();
        for c in candidates {
            seen.insert(c.user_key.clone());
            if let Some(entry) = recorded.get(&c.user_key) {
                results.push(result_from_entry(entry, Some(&c.line())));
                continue;
            }
            if let Some(planned) = &planned
                && !planned.contains(&c.user_key)
            {
                // Not part of the request as first executed (e.g. the roster changed since).
                continue;
            }
            // The user's audit entry: an intent just before a Zoom change, completed here.
            let mut journal = Journal::new(&*self.stores.audit, &self.clock, request, c);
            let mut result = process(request, connection, zoom, c, now, Some(&mut journal)).await?;
            result.audit_state = journal.finish(&result).await?;
            info!(
                user_key = %c.user_key,
                account_id = %c.account_id,
                outcome = result.outcome.as_str(),
                reason = result.reason.as_deref().unwrap_or(""),
                audit_state = result.audit_state.map_or("", AuditState::as_str),
                "reclamation"
            );
            results.push(result);
        }
        // Recorded users the current selection no longer yields still belong to the report.
        let mut rest: Vec<&AuditEntry> = recorded
            .values()
            .filter(|e| !seen.contains(&e.user_key))
            .collect();
        rest.sort_by(|a, b| a.user_key.cmp(&b.user_key));
        results.extend(rest.into_iter().map(|e| result_from_entry(e, None)));
        Ok(respond(request, !first, data_as_of, Vec::new(), results))
    }

    /// As of when the activity data is complete for the connection (the oldest Application
    /// Access completion over its current accounts; `None` if one never completed), and what
    /// keeps execute from acting on it: partial activity (a missing scope), data older than
    /// the request's `max_data_age_hours`.
    async fn data_state(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
        now: DateTime<Utc>,
    ) -> Result<(Option<DateTime<Utc>>, Vec<ReclamationError>), ReclamationError> {
        let accounts = self.current_accounts(&connection.connection_id).await?;
        let access = connection.tasks.get(ACCESS_TASK);
        let as_of = access.and_then(|t| t.completed_for(accounts.iter().map(String::as_str)));
        let mut problems = Vec::new();
        if connection.activity_is_partial() {
            problems.push(partial_activity(&connection.activity_gaps()));
        }
        let max_age_hours = request.max_data_age_hours();
        let detail = match as_of {
            Some(at) if now - at <= chrono::Duration::hours(i64::from(max_age_hours)) => None,
            Some(at) => Some(format!(
                "the data is as of {}, {:.1} hours old",
                at.to_rfc3339_opts(SecondsFormat::Secs, true),
                (now - at).num_seconds() as f64 / 3600.0
            )),
            None if accounts.is_empty() => {
                Some("no accounts of the connection are recorded yet".to_owned())
            }
            None => {
                let never: Vec<&str> = accounts
                    .iter()
                    .map(String::as_str)
                    .filter(|a| access.is_none_or(|t| !t.account_success_at.contains_key(*a)))
                    .collect();
                const NAMED: usize = 10;
                let mut named = never
                    .iter()
                    .take(NAMED)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ");
                if never.len() > NAMED {
                    named.push_str(&format!(" and {} more", never.len() - NAMED));
                }
                Some(format!(
                    "it never completed for account{} {named}",
                    if never.len() == 1 { "" } else { "s" }
                ))
            }
        };
        if let Some(detail) = detail {
            problems.push(ReclamationError::StaleData {
                data_as_of: as_of,
                max_age_hours,
                detail,
            });
        }
        Ok((as_of, problems))
    }
}

/// The lease that keeps two invocations of one request apart.
fn lease_name(request_id: &str) -> String {
    format!("reclamation#{request_id}")
}

/// The lease that keeps two notify-then-reclaim runs of one connection apart.
fn notices_lease_name(connection: &ConnectionRecord) -> String {
    format!("reclamation-notices#{}", connection.connection_id)
}

/// The refusal for partial activity data, naming the scopes behind
/// `ConnectionRecord::activity_gaps`.
fn partial_activity(notes: &[&MissingScopeNote]) -> ReclamationError {
    let mut scopes: Vec<String> = Vec::new();
    let mut not_collected: Vec<String> = Vec::new();
    for n in notes {
        if !scopes.contains(&n.scope) {
            scopes.push(n.scope.clone());
        }
        if !not_collected.contains(&n.not_collected) {
            not_collected.push(n.not_collected.clone());
        }
    }
    ReclamationError::PartialActivityData {
        scopes,
        not_collected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_activity_names_the_scopes_behind_it() {
        let note = |scope: &str, what: &str, by: &str| MissingScopeNote {
            scope: scope.into(),
            not_collected: what.into(),
            activity: by == ACCESS_TASK,
            noticed_by: by.into(),
            noticed_at: Utc::now(),
        };
        let mut connection = ConnectionRecord::new(
            "c",
            "z",
            ports::ZoomRegion::Na,
            Default::default(),
            Utc::now(),
        );
        connection.missing_scopes = vec![
            note(
                "report:read:admin",
                "Meeting Created dates",
                "application-access",
            ),
            note(
                "account:read:plan_usage:master",
                "plan usage",
                "license-information",
            ),
            note(
                "report:read:admin",
                "Meeting Joined dates",
                "application-access",
            ),
        ];
        let e = partial_activity(&connection.activity_gaps());
        match e {
            ReclamationError::PartialActivityData {
                scopes,
                not_collected,
            } => {
                assert_eq!(scopes, vec!["report:read:admin"]);
                assert_eq!(
                    not_collected,
                    vec!["Meeting Created dates", "Meeting Joined dates"]
                );
            }
            other => panic!("{other}"),
        }
    }
}
