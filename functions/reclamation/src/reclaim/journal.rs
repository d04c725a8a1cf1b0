//! The audit around each Zoom change: an `intent` entry is written before the change is sent,
//! and completed after it (`done`, or `failed` with the error), so a crash in between (a Lambda
//! timeout or kill) leaves an entry that `reactivate` resolves from the user's live state
//! ([`Journal::resolve`]). A user whose processing ends without a change gets one finished
//! entry. Completions are conditional (`AuditStore::complete_entry`): they never overwrite a
//! finished entry.

use chrono::{DateTime, Utc};
use ports::{AuditEntry, AuditState, AuditStore, StoreError};
use serde_json::Value;
use tracing::warn;

use super::Clock;
use super::response::{Outcome, UserResult, reason, with_license};
use super::selection::Candidate;
use crate::gateway::LiveUser;
use crate::request::ReclamationRequest;

/// One user's audit entry in one executed request.
pub(super) struct Journal<'a> {
    audit: &'a dyn AuditStore,
    clock: &'a Clock,
    request: &'a ReclamationRequest,
    account_id: String,
    user_key: String,
    /// The intent written for this user (completed by [`Journal::finish`]).
    intent: Option<AuditEntry>,
    /// Another invocation had recorded this user already: this one writes nothing more.
    taken: bool,
}

impl<'a> Journal<'a> {
    pub(super) fn new(
        audit: &'a dyn AuditStore,
        clock: &'a Clock,
        request: &'a ReclamationRequest,
        c: &Candidate,
    ) -> Self {
        Self {
            audit,
            clock,
            request,
            account_id: c.account_id.clone(),
            user_key: c.user_key.clone(),
            intent: None,
            taken: false,
        }
    }

    /// The entry of line `r` in `state`, first written at `at`.
    fn entry(&self, r: &UserResult, state: AuditState, at: DateTime<Utc>) -> AuditEntry {
        let intent = state == AuditState::Intent;
        AuditEntry {
            request_id: self.request.request_id.clone(),
            connection_id: self.request.connection_id.clone(),
            account_id: self.account_id.clone(),
            user_key: self.user_key.clone(),
            email: r.email.clone(),
            action: self.request.action.as_str().into(),
            state,
            // While the state is `intent`, what Zoom did is unknown.
            outcome: if intent { Outcome::Unknown } else { r.outcome }
                .as_str()
                .into(),
            reason: if intent {
                None
            } else {
                r.reason.clone().map(|code| format!("{code}: {}", r.detail))
            },
            requested_by: self.request.requested_by.clone(),
            why: self.request.reason.clone(),
            before: with_license(r.before.clone(), r.license_name.as_deref()),
            after: if intent {
                Value::Null
            } else {
                r.after.clone().unwrap_or(Value::Null)
            },
            zoom_tracking_id: r.zoom_tracking_id.clone(),
            at,
        }
    }

    /// Writes the intent just before a change is sent to Zoom: everything `reactivate` needs
    /// (the user, account, state and license before, the action, request, who and when).
    /// `false`: another invocation of the request recorded this user already; Zoom must not be
    /// called.
    pub(super) async fn intend(&mut self, r: &UserResult) -> Result<bool, StoreError> {
        let entry = self.entry(r, AuditState::Intent, (self.clock)());
        if self.audit.record_entry(&entry).await? {
            self.intent = Some(entry);
            Ok(true)
        } else {
            warn!(user_key = %self.user_key, "audit entry already recorded by another invocation; not acting");
            self.taken = true;
            Ok(false)
        }
    }

    /// Records the user's final line: completes the intent if one was written, else writes
    /// the finished entry. The state recorded (`None`: another invocation's entry stands).
    pub(super) async fn finish(self, r: &UserResult) -> Result<Option<AuditState>, StoreError> {
        if self.taken {
            return Ok(None);
        }
        if r.outcome == Outcome::Unknown && self.intent.is_some() {
            // What Zoom did is unknown: the intent stays, for reactivate to resolve.
            warn!(user_key = %self.user_key, "outcome unknown; the audit intent stays");
            return Ok(Some(AuditState::Intent));
        }
        let state = if r.outcome == Outcome::Failed {
            AuditState::Failed
        } else {
            AuditState::Done
        };
        let written = match &self.intent {
            Some(intent) => {
                let done = self
                    .audit
                    .complete_entry(&self.entry(r, state, intent.at))
                    .await?;
                if !done {
                    warn!(user_key = %self.user_key, "the intent was completed by another invocation");
                }
                done
            }
            None => {
                let done = self
                    .audit
                    .record_entry(&self.entry(r, state, (self.clock)()))
                    .await?;
                if !done {
                    warn!(user_key = %self.user_key, "audit entry already recorded by another invocation");
                }
                done
            }
        };
        Ok(written.then_some(state))
    }

    /// Completes an earlier request's intent from the user's live state (reactivate): `done`
    /// (`acted`) when Zoom shows its change applied, `not_applied` (`unchanged`) when the user
    /// is still as before. `false`: it had been completed meanwhile.
    pub(super) async fn resolve(
        &self,
        earlier: &AuditEntry,
        applied: bool,
        live: &LiveUser,
    ) -> Result<bool, StoreError> {
        let (state, outcome, code) = if applied {
            (
                AuditState::Done,
                Outcome::Acted,
                reason::OUTCOME_WAS_UNKNOWN,
            )
        } else {
            (
                AuditState::NotApplied,
                Outcome::Unchanged,
                reason::NOT_APPLIED,
            )
        };
        let entry = AuditEntry {
            state,
            outcome: outcome.as_str().into(),
            reason: Some(format!(
                "{code}: resolved at {} by request {} ({}) from the user's live state at Zoom",
                (self.clock)().to_rfc3339(),
                self.request.request_id,
                self.request.requested_by
            )),
            after: live.state(),
            ..earlier.clone()
        };
        let done = self.audit.complete_entry(&entry).await?;
        if !done {
            warn!(
                user_key = %earlier.user_key,
                earlier_request = %earlier.request_id,
                "the earlier intent was completed meanwhile"
            );
        }
        Ok(done)
    }
}
