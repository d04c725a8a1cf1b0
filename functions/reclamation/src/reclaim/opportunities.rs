//! Notify-then-reclaim, second step (`"step": "reclaim_notified"`) and the history.
//!
//! Only opportunities in state `notified` are selected, never anyone else. Before any Zoom
//! call a user is held back when the notice announced another action, when the grace period
//! has not ended at the request's clock (exactly at its end it has), or when the synced
//! activity shows them active after the notice (`came_back`). The rest go through the checks
//! of an immediate reclaim (stored, then live at Zoom, then the audited change), with the
//! inactivity they must show raised to the whole days since the notice: activity after the
//! notice, synced or Zoom's own last login, can never be "inactive beyond" it. After the run
//! each opportunity moves on: `reclaimed` (its audit is the request's, so `reactivate` with
//! `restore_request_id` undoes it), `kept` (came back), `skipped` (no longer a candidate), or
//! stays `notified` (Zoom failed, or its grace period runs).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use ports::{ConnectionRecord, OpportunityRecord, OpportunityState, StoreError};
use tracing::{info, warn};

use super::Reclaimer;
use super::notices::step;
use super::response::{
    MAX_LISTED_USERS, Outcome, ReclamationResponse, UserResult, reason, respond,
};
use super::selection::Candidate;
use crate::error::ReclamationError;
use crate::request::ReclamationRequest;

/// Whether `o` is `name` (user key, Zoom id or e-mail, case-insensitive).
fn names(o: &OpportunityRecord, name: &str) -> bool {
    [Some(&o.user_key), o.user_id.as_ref(), o.email.as_ref()]
        .into_iter()
        .flatten()
        .any(|k| k.eq_ignore_ascii_case(name))
}

/// The inactivity a notified user must show at `now`: the days they were selected on, or the
/// whole days since the notice if more (activity after the notice is never beyond it).
pub(super) fn reclaim_threshold(o: &OpportunityRecord, now: DateTime<Utc>) -> u32 {
    let since = o.notified_at.map_or(0, |t| (now - t).num_days().max(0));
    o.inactive_days
        .max(u32::try_from(since).unwrap_or(u32::MAX))
}

/// What holds a notified user back before any Zoom call.
fn held(
    request: &ReclamationRequest,
    o: &OpportunityRecord,
    c: &Candidate,
    now: DateTime<Utc>,
) -> Option<(Outcome, &'static str, String)> {
    let at = |t: Option<DateTime<Utc>>| t.map_or_else(|| "unknown".into(), |t| t.to_rfc3339());
    if o.action != request.action.as_str() {
        return Some((
            Outcome::Skipped,
            reason::OTHER_ACTION,
            format!(
                "the notice announced `{}`, this request is `{}`",
                o.action,
                request.action.as_str()
            ),
        ));
    }
    if !o.grace_ended(now) {
        return Some((
            Outcome::Skipped,
            reason::GRACE_PERIOD_NOT_ENDED,
            format!(
                "notified at {}; the grace period ends {}",
                at(o.notified_at),
                at(o.grace_ends_at)
            ),
        ));
    }
    let last = c.activity.last_activity();
    if last.is_some() && last >= o.notified_at {
        return Some((
            Outcome::Skipped,
            reason::CAME_BACK,
            format!(
                "active since the notice of {}: last activity {} (login {}, meeting created {}, \
                 meeting joined {})",
                at(o.notified_at),
                at(last),
                at(c.activity.last_login),
                at(c.activity.last_meeting_created),
                at(c.activity.last_meeting_joined)
            ),
        ));
    }
    None
}

/// The state a reclaim-notified line moves its opportunity to (`None`: it stays `notified`,
/// with a step when something was tried).
fn settled(line: &UserResult) -> Option<OpportunityState> {
    let why = line.reason.as_deref().unwrap_or_default();
    match line.outcome {
        Outcome::Acted => Some(OpportunityState::Reclaimed),
        Outcome::Skipped
            if [
                reason::CAME_BACK,
                reason::RECENTLY_ACTIVE,
                reason::LOGGED_IN_SINCE_SYNC,
            ]
            .contains(&why) =>
        {
            Some(OpportunityState::Kept)
        }
        Outcome::Skipped
            if [
                reason::GRACE_PERIOD_NOT_ENDED,
                reason::OTHER_ACTION,
                reason::ALREADY_RECORDED,
                reason::NOT_NOTIFIED,
            ]
            .contains(&why) =>
        {
            None
        }
        // No longer a candidate (removed, moved, admin, protected, pending, no data) or
        // holding no license any more (already deactivated or Basic).
        Outcome::Skipped | Outcome::Unchanged => Some(OpportunityState::Skipped),
        Outcome::Failed | Outcome::Unknown | Outcome::WouldAct => None,
    }
}

impl Reclaimer {
    /// The notified users (optionally only `only`, by id, key or e-mail), held back or not.
    pub(super) async fn select_notified(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
        only: Option<Vec<String>>,
    ) -> Result<Vec<Candidate>, ReclamationError> {
        let cid = connection.connection_id.as_str();
        let now = (self.clock)();
        let only: Option<Vec<String>> =
            only.map(|o| o.iter().map(|s| s.trim().to_owned()).collect());
        let mut named = HashSet::new();
        let mut out = Vec::new();
        let mut all = self.stores.opportunities.list_opportunities(cid);
        while let Some(o) = all.try_next().await? {
            if o.state != OpportunityState::Notified {
                continue;
            }
            if let Some(only) = &only {
                let hits: Vec<&String> = only.iter().filter(|n| names(&o, n)).collect();
                if hits.is_empty() {
                    continue;
                }
                named.extend(hits.into_iter().cloned());
            }
            let stored = self
                .stores
                .users
                .get_user(cid, &o.account_id, &o.user_key)
                .await?;
            let mut c = match stored {
                Some(v) => Candidate::from_view(v),
                None => Candidate {
                    email: o.email.clone(),
                    pre: Some((
                        Outcome::Skipped,
                        reason::NOT_FOUND,
                        "the user is no longer in the synced roster".into(),
                    )),
                    ..Candidate::bare(o.account_id.clone(), o.user_key.clone(), o.user_id.clone())
                },
            };
            if c.license_name.is_none() {
                c.license_name = o.license_name.clone();
            }
            c.threshold = Some(reclaim_threshold(&o, now));
            if c.pre.is_none() {
                c.pre = held(request, &o, &c, now);
            }
            c.opportunity = Some(o);
            out.push(c);
        }
        for n in only.iter().flatten().filter(|n| !named.contains(*n)) {
            out.push(Candidate::unknown(
                n,
                reason::NOT_NOTIFIED,
                format!("{n} has no open notice in this connection; nothing is done"),
            ));
        }
        Ok(out)
    }

    /// Moves each opportunity of an executed reclaim-notified run on from its line.
    pub(super) async fn settle(
        &self,
        request: &ReclamationRequest,
        candidates: &[Candidate],
        response: &mut ReclamationResponse,
    ) -> Result<(), ReclamationError> {
        for line in &mut response.users {
            let Some(o) = candidates
                .iter()
                .find(|c| c.user_key == line.user_key && c.account_id == line.account_id)
                .and_then(|c| c.opportunity.as_ref())
            else {
                continue;
            };
            let target = settled(line);
            let tried = matches!(line.outcome, Outcome::Failed | Outcome::Unknown);
            if target.is_none() && !tried {
                continue;
            }
            let state = target.unwrap_or(OpportunityState::Notified);
            let detail = match (line.outcome, line.reason.as_deref()) {
                (Outcome::Acted, _) => line.detail.clone(),
                (_, Some(why)) => format!("{why}: {}", line.detail),
                (_, None) => line.detail.clone(),
            };
            if self
                .move_opportunity(request, o, OpportunityState::Notified, state, detail)
                .await?
            {
                if let Some(state) = target {
                    line.opportunity = Some(state);
                    *response
                        .summary
                        .opportunities
                        .entry(state.as_str().to_owned())
                        .or_default() += 1;
                }
                info!(user_key = %line.user_key, account_id = %line.account_id, state = state.as_str(), "opportunity");
            }
        }
        Ok(())
    }

    /// After an executed `reactivate`: the opportunities its restored users were reclaimed by
    /// (state `reclaimed` by the restored request) become `restored`.
    pub(super) async fn note_restored(
        &self,
        request: &ReclamationRequest,
        response: &mut ReclamationResponse,
    ) -> Result<(), ReclamationError> {
        let Some(restored) = request.restore_request_id.as_deref() else {
            return Ok(());
        };
        for line in response
            .users
            .iter_mut()
            .filter(|l| l.outcome == Outcome::Acted)
        {
            let Some(o) = self
                .stores
                .opportunities
                .get_opportunity(&request.connection_id, &line.account_id, &line.user_key)
                .await?
                .filter(|o| o.reclaim_request_id.as_deref() == Some(restored))
            else {
                continue;
            };
            let detail = format!("reactivate of {restored}: {}", line.detail);
            let state = OpportunityState::Restored;
            if self
                .move_opportunity(request, &o, OpportunityState::Reclaimed, state, detail)
                .await?
            {
                line.opportunity = Some(state);
                *response
                    .summary
                    .opportunities
                    .entry(state.as_str().to_owned())
                    .or_default() += 1;
            }
        }
        Ok(())
    }

    /// Records `state` on the opportunity if it is still in state `from` (compare-and-swap,
    /// re-read on a conflict). `false`: another run moved it first.
    async fn move_opportunity(
        &self,
        request: &ReclamationRequest,
        seen: &OpportunityRecord,
        from: OpportunityState,
        state: OpportunityState,
        detail: String,
    ) -> Result<bool, ReclamationError> {
        let store = &*self.stores.opportunities;
        let mut current = Some(seen.clone());
        for _ in 0..4 {
            let Some(mut o) = current.take().filter(|o| o.state == from) else {
                return Ok(false);
            };
            if state == OpportunityState::Reclaimed {
                o.reclaim_request_id = Some(request.request_id.clone());
            }
            o.record(step(request, state, (self.clock)(), detail.clone()));
            match store.put_opportunity(&o).await {
                Ok(_) => return Ok(true),
                Err(StoreError::ConditionFailed) => {
                    warn!(user_key = %o.user_key, "opportunity changed meanwhile; re-reading");
                    current = store
                        .get_opportunity(&o.connection_id, &o.account_id, &o.user_key)
                        .await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(format!(
            "the opportunity of {} kept changing",
            seen.user_key
        ))
        .into())
    }

    /// The history: the connection's opportunities (optionally only some users or states),
    /// each with its steps. Changes nothing.
    pub(super) async fn history(
        &self,
        request: &ReclamationRequest,
    ) -> Result<ReclamationResponse, ReclamationError> {
        let only: Option<Vec<String>> = request
            .users
            .as_ref()
            .map(|o| o.iter().map(|s| s.trim().to_owned()).collect());
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut listed = Vec::new();
        let mut total = 0u64;
        let mut all = self
            .stores
            .opportunities
            .list_opportunities(&request.connection_id);
        while let Some(o) = all.try_next().await? {
            if request
                .states
                .as_ref()
                .is_some_and(|s| !s.contains(&o.state))
            {
                continue;
            }
            if only
                .as_ref()
                .is_some_and(|only| !only.iter().any(|n| names(&o, n)))
            {
                continue;
            }
            total += 1;
            *counts.entry(o.state.as_str().to_owned()).or_default() += 1;
            if listed.len() < MAX_LISTED_USERS {
                listed.push(o);
            }
        }
        let mut response = respond(request, false, None, Vec::new(), Vec::new());
        response.summary.selected = total;
        response.summary.opportunities = counts;
        response.users_not_listed = total - listed.len() as u64;
        response.opportunities = Some(listed);
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opp(notified: &str, inactive_days: u32) -> OpportunityRecord {
        OpportunityRecord {
            user_id: Some("u".into()),
            email: Some("U@x.com".into()),
            action: "deactivate".into(),
            inactive_days,
            state: OpportunityState::Notified,
            notified_at: Some(notified.parse().unwrap()),
            ..OpportunityRecord::new("c", "a", "u")
        }
    }

    #[test]
    fn the_threshold_grows_with_the_days_since_the_notice() {
        let o = opp("2026-06-01T12:00:00Z", 30);
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(reclaim_threshold(&o, at("2026-06-08T12:00:00Z")), 30);
        let o = opp("2026-06-01T12:00:00Z", 3);
        assert_eq!(reclaim_threshold(&o, at("2026-06-08T11:59:59Z")), 6);
        assert_eq!(reclaim_threshold(&o, at("2026-06-08T12:00:00Z")), 7);
        // Any activity at or after the notice is within it (the one inactivity rule).
        for active in ["2026-06-01T12:00:00Z", "2026-06-05T00:00:00Z"] {
            let now = at("2026-06-08T12:00:01Z");
            let days = (now - at(active)).num_days();
            assert!(!sync_domain::inactive_beyond(
                days,
                reclaim_threshold(&o, now)
            ));
        }
    }

    #[test]
    fn a_user_is_named_by_key_id_or_email() {
        let o = opp("2026-06-01T12:00:00Z", 3);
        assert!(names(&o, "u") && names(&o, "u@X.COM"));
        assert!(!names(&o, "v"));
    }
}
