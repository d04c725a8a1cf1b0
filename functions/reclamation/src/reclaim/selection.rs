//! Selection: the users a request is about, from the stored roster, activity and audit, what
//! the stored records decide already, and the scopes acting on them needs.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use ports::{AuditEntry, AuditState, ConnectionRecord, OpportunityRecord, UserView};
use serde_json::Value;
use sync_domain::reclamation::{self, Hold, StoredUser, is_paid};
use sync_domain::{ActivityDates, LicenseKind, inactive_beyond};

use super::Reclaimer;
use super::response::{Outcome, UserResult, reason};
use crate::error::ReclamationError;
use crate::gateway::{AccountRef, scopes_for};
use crate::request::{Action, Policy, ReclamationRequest, Selection};

/// A user the request is about, from the stored records.
#[derive(Clone, Debug)]
pub(super) struct Candidate {
    pub(super) account_id: String,
    pub(super) user_key: String,
    pub(super) user_id: Option<String>,
    pub(super) email: Option<String>,
    pub(super) license_name: Option<String>,
    pub(super) role: Option<String>,
    pub(super) status: Option<String>,
    pub(super) removed: bool,
    pub(super) activity: ActivityDates,
    pub(super) created: Option<DateTime<Utc>>,
    /// Decided from the stored data already (no Zoom call needed).
    pub(super) pre: Option<(Outcome, &'static str, String)>,
    /// Reactivate: the audit entry being undone.
    pub(super) restore: Option<AuditEntry>,
    /// Reclaim-notified: the inactivity this user must show instead of the request's
    /// ([`Candidate::threshold`]).
    pub(super) threshold: Option<u32>,
    /// Reclaim-notified: the user's opportunity (state `notified`).
    pub(super) opportunity: Option<OpportunityRecord>,
}

impl Candidate {
    pub(super) fn from_view(view: UserView) -> Self {
        let activity = view.activity();
        let r = view.roster;
        Self {
            user_key: r.key(),
            account_id: r.account_id.clone(),
            user_id: r.user_id.clone().filter(|s| !s.is_empty()),
            email: Some(r.email.clone()),
            license_name: r.license_name.clone().or_else(|| {
                Some(LicenseKind::from_user_type(r.user_type).license_name("Licensed"))
            }),
            role: r.role_name.clone().or(r.role_id.clone()),
            status: Some(r.status.clone()),
            removed: r.is_removed(),
            activity,
            created: r.active_date,
            pre: None,
            restore: None,
            threshold: None,
            opportunity: None,
        }
    }

    /// A user known only by a key (not in the roster): nothing but what the caller gives.
    pub(super) fn bare(account_id: String, user_key: String, user_id: Option<String>) -> Self {
        Self {
            account_id,
            user_key,
            user_id,
            email: None,
            license_name: None,
            role: None,
            status: None,
            removed: false,
            activity: ActivityDates::default(),
            created: None,
            pre: None,
            restore: None,
            threshold: None,
            opportunity: None,
        }
    }

    pub(super) fn unknown(given: &str, reason: &'static str, detail: String) -> Self {
        Self {
            email: given.contains('@').then(|| given.to_owned()),
            pre: Some((Outcome::Skipped, reason, detail)),
            ..Self::bare(
                String::new(),
                format!("unknown:{}", given.to_lowercase()),
                None,
            )
        }
    }

    /// A user an earlier request acted on, as the stored roster has them now (else as the
    /// audit entry recorded them).
    fn restoring(stored: Option<UserView>, e: AuditEntry) -> Self {
        let mut c = match stored {
            Some(v) => Self::from_view(v),
            None => Self {
                email: e.email.clone(),
                ..Self::bare(
                    e.account_id.clone(),
                    e.user_key.clone(),
                    (!e.user_key.starts_with("email:")).then(|| e.user_key.clone()),
                )
            },
        };
        if let Some(name) = e.before.get("license_name").and_then(Value::as_str) {
            c.license_name = Some(name.to_owned());
        }
        c.restore = Some(e);
        c
    }

    pub(super) fn is_protected(&self, protected: &[String], live_email: Option<&str>) -> bool {
        let keys = [
            self.user_id.as_deref(),
            self.email.as_deref(),
            live_email,
            Some(self.user_key.as_str()),
        ];
        protected.iter().any(|p| {
            let p = p.trim();
            keys.iter().flatten().any(|k| k.eq_ignore_ascii_case(p))
        })
    }

    /// The user's response line from the stored records (skipped until decided otherwise).
    pub(super) fn line(&self) -> UserResult {
        UserResult {
            grace_ends_at: self.opportunity.as_ref().and_then(|o| o.grace_ends_at),
            ..UserResult::new(
                self.user_key.clone(),
                self.user_id.clone(),
                self.email.clone(),
                self.account_id.clone(),
                self.license_name.clone(),
                self.activity,
            )
        }
    }

    /// What can be decided from the stored records alone ([`reclamation::pre_check`]).
    pub(super) fn pre_check(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
        now: DateTime<Utc>,
    ) -> Option<(Outcome, &'static str, String)> {
        let stored = StoredUser {
            removed: self.removed,
            protected: self.is_protected(&connection.protected_users, None),
            role: self.role.as_deref(),
            allowed_roles: &request.allowed_roles,
            status: self.status.as_deref(),
            has_zoom_id: self.user_id.is_some(),
            restoring: self.restore.is_some(),
            activity: self.activity,
            created: self.created,
        };
        let (why, detail) = match reclamation::pre_check(
            &stored,
            self.threshold(request, connection),
            now,
        )? {
            Hold::Removed => (
                reason::NOT_FOUND,
                "the last sync marked this user as removed from Zoom".into(),
            ),
            Hold::Protected => (
                reason::PROTECTED,
                "the user is on the connection's protected list".into(),
            ),
            Hold::OwnerOrAdmin => (
                reason::OWNER_OR_ADMIN,
                "the user is an account owner or admin; they are never changed".into(),
            ),
            Hold::Pending => (
                reason::PENDING,
                "the user has not accepted the invitation (no Zoom id)".into(),
            ),
            Hold::RecentlyActive { days, threshold } => (
                reason::RECENTLY_ACTIVE,
                format!(
                    "inactive {days} days as of the last sync, not more than the threshold of {threshold}"
                ),
            ),
        };
        Some((Outcome::Skipped, why, detail))
    }
}

impl Candidate {
    /// The inactivity this user must show: their own (reclaim-notified), else the request's
    /// ([`threshold`]).
    pub(super) fn threshold(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
    ) -> u32 {
        self.threshold
            .unwrap_or_else(|| threshold(request, connection))
    }
}

/// The inactivity a user must show: the policy's, else the connection's threshold.
pub(super) fn threshold(request: &ReclamationRequest, connection: &ConnectionRecord) -> u32 {
    reclamation::threshold(
        request.policy.as_ref().map(|p| p.inactive_days),
        u32::from(connection.settings.inactivity_threshold.days()),
    )
}

impl Reclaimer {
    /// The users the request is about, from the stored records: one line per user, in a
    /// stable order.
    pub(super) async fn select(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
    ) -> Result<Vec<Candidate>, ReclamationError> {
        let cid = connection.connection_id.as_str();
        let mut out = match request.selection() {
            Selection::Users(given) => self.select_users(cid, &given).await?,
            Selection::Policy(policy) => self.select_inactive(request, cid, &policy).await?,
            Selection::Restore { request_id, only } => {
                self.select_restore(connection, &request_id, only).await?
            }
            Selection::Notified { only } => self.select_notified(request, connection, only).await?,
        };
        let mut seen = HashSet::new();
        out.retain(|c| seen.insert((c.account_id.clone(), c.user_key.clone())));
        out.sort_by(|a, b| {
            (a.account_id.as_str(), a.user_key.as_str())
                .cmp(&(b.account_id.as_str(), b.user_key.as_str()))
        });
        Ok(out)
    }

    /// The connection's current (not removed) accounts.
    pub(super) async fn current_accounts(
        &self,
        cid: &str,
    ) -> Result<Vec<String>, ReclamationError> {
        Ok(self
            .stores
            .accounts
            .list_accounts(cid)
            .try_filter(|a| futures::future::ready(a.removed_at.is_none()))
            .map_ok(|a| a.account_id)
            .try_collect()
            .await?)
    }

    /// Named users (ids or emails); a name the roster does not hold (or holds more than once)
    /// is a skipped line.
    async fn select_users(
        &self,
        cid: &str,
        given: &[String],
    ) -> Result<Vec<Candidate>, ReclamationError> {
        let mut out = Vec::with_capacity(given.len());
        for g in given {
            let g = g.trim();
            let mut found: Vec<UserView> = Vec::new();
            if g.contains('@') {
                found = self.stores.users.find_users_by_email(cid, g).await?;
                found.retain(|v| !v.roster.is_removed());
            } else if let Some(v) = self.stores.users.find_user_by_id(cid, g).await? {
                found.push(v);
            }
            match found.len() {
                0 => out.push(Candidate::unknown(
                    g,
                    reason::NOT_IN_ROSTER,
                    format!("{g} is not in the synced roster of this connection"),
                )),
                1 => out.push(Candidate::from_view(found.remove(0))),
                n => out.push(Candidate::unknown(
                    g,
                    reason::AMBIGUOUS_EMAIL,
                    format!("{g} is a user of {n} accounts; name the user id instead"),
                )),
            }
        }
        Ok(out)
    }

    /// Active users of the policy's licenses (default: every paid one) and accounts (default:
    /// every current one), inactive beyond the policy's days as of the last sync.
    async fn select_inactive(
        &self,
        request: &ReclamationRequest,
        cid: &str,
        policy: &Policy,
    ) -> Result<Vec<Candidate>, ReclamationError> {
        let accounts: Vec<String> = match &policy.account_ids {
            Some(ids) => ids.clone(),
            None => self.current_accounts(cid).await?,
        };
        let names: Option<HashSet<String>> = policy
            .license_names
            .as_ref()
            .map(|l| l.iter().map(|n| n.trim().to_lowercase()).collect());
        let now = (self.clock)();
        let mut out = Vec::new();
        for account in &accounts {
            let mut users = self.stores.users.list_users(cid, account);
            while let Some(view) = users.try_next().await? {
                let r = &view.roster;
                if r.is_removed() || r.status != "active" {
                    continue;
                }
                let license_ok = match &names {
                    Some(names) => r
                        .license_name
                        .as_deref()
                        .is_some_and(|n| names.contains(&n.trim().to_lowercase())),
                    // By default only paid seats: freeing a Basic user frees nothing.
                    None => is_paid(r.user_type),
                };
                if !license_ok {
                    continue;
                }
                if request.action == Action::Downgrade && !is_paid(r.user_type) {
                    continue;
                }
                let c = Candidate::from_view(view);
                let days = c.activity.days_inactive(c.created, now);
                if days.is_some_and(|d| inactive_beyond(d, policy.inactive_days)) {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// Reactivate: the users the earlier request deactivated or downgraded, and those whose
    /// change it sent (or was about to send) without recording the outcome (entries still in
    /// state `intent`, resolved from the live state); optionally only those named in `only`,
    /// by user key or email.
    async fn select_restore(
        &self,
        connection: &ConnectionRecord,
        request_id: &str,
        only: Option<Vec<String>>,
    ) -> Result<Vec<Candidate>, ReclamationError> {
        let cid = connection.connection_id.as_str();
        let earlier = self
            .stores
            .audit
            .get_request(request_id)
            .await?
            .filter(|r| r.connection_id == connection.connection_id)
            .ok_or_else(|| ReclamationError::RestoreNotFound(request_id.to_owned()))?;
        let only: Option<HashSet<String>> =
            only.map(|o| o.iter().map(|s| s.trim().to_lowercase()).collect());
        let entries: Vec<AuditEntry> = self
            .stores
            .audit
            .list_request_entries(&earlier.request_id)
            .try_collect()
            .await?;
        let mut out = Vec::new();
        for e in entries {
            let undoable = e.state == AuditState::Intent || e.outcome == Outcome::Acted.as_str();
            if !undoable || !(e.action == "deactivate" || e.action == "downgrade") {
                continue;
            }
            if let Some(only) = &only {
                let key = e.user_key.to_lowercase();
                let email = e.email.clone().unwrap_or_default().to_lowercase();
                if !only.contains(&key) && !only.contains(&email) {
                    continue;
                }
            }
            let stored = self
                .stores
                .users
                .get_user(cid, &e.account_id, &e.user_key)
                .await?;
            out.push(Candidate::restoring(stored, e));
        }
        Ok(out)
    }

    /// Scopes missing for what the actionable users need (`None`: nothing missing).
    pub(super) async fn missing_scopes(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
        actionable: &[&Candidate],
    ) -> Result<Option<Vec<String>>, ReclamationError> {
        if actionable.is_empty() {
            return Ok(None);
        }
        let granted = match self
            .zoom
            .granted_scopes(&connection.connection_id)
            .await
            .map_err(ReclamationError::Zoom)?
        {
            Some(g) => g,
            None => {
                return Err(ReclamationError::ConnectionUnavailable {
                    id: connection.connection_id.clone(),
                    state: "no Zoom tokens are stored for it (reconnect the account)".into(),
                });
            }
        };
        let granted: HashSet<&str> = granted.iter().map(String::as_str).collect();
        let mut needs: Vec<(AccountRef, bool)> = Vec::new();
        for c in actionable {
            let account = AccountRef::for_user(connection, &c.account_id);
            let kinds: &[bool] = match request.action {
                Action::Deactivate => &[false],
                Action::Downgrade => &[true],
                Action::Reactivate => &[false, true],
            };
            for &k in kinds {
                let key = (
                    match &account {
                        AccountRef::Own => AccountRef::Own,
                        AccountRef::Sub(_) => AccountRef::Sub(String::new()),
                    },
                    k,
                );
                if !needs.contains(&key) {
                    needs.push(key);
                }
            }
        }
        let mut missing = Vec::new();
        for (account, type_change) in needs {
            let group = scopes_for(&account, type_change);
            if !group.iter().any(|s| granted.contains(s)) {
                missing.push(group.join(" or "));
            }
        }
        Ok((!missing.is_empty()).then_some(missing))
    }
}
