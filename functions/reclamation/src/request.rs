//! The reclamation request: parsed strictly (unknown fields refused) and validated, with
//! errors that name the field and say what is expected.

use ports::OpportunityState;
use serde::{Deserialize, Serialize};

/// Default cap on the users one request may act on.
pub const DEFAULT_MAX_USERS: u32 = 25;
/// Hard ceiling on `max_users` (one invocation must finish well inside Lambda's 15 minutes).
pub const MAX_USERS_CEILING: u32 = 1000;
/// Default for `max_data_age_hours`: execute refuses when Application Access has not completed
/// for the connection within this many hours.
pub const DEFAULT_MAX_DATA_AGE_HOURS: u32 = 48;
/// Ceiling on `max_data_age_hours` (7 days): older activity data is never acted on.
pub const MAX_DATA_AGE_CEILING_HOURS: u32 = 168;
/// Default grace period of `"step": "notify"`, in days.
pub const DEFAULT_GRACE_DAYS: u32 = 7;
/// Bounds of `grace_days`.
pub const GRACE_DAYS_RANGE: std::ops::RangeInclusive<u32> = 1..=60;

/// Which step of reclamation a request is (notify-then-reclaim: `docs/reclamation.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Act on the selected users now (or, for `reactivate`, undo an earlier request).
    #[default]
    Reclaim,
    /// E-mail the selected users that their license will be reclaimed after `grace_days`,
    /// and record each as `notified`.
    Notify,
    /// Act on the users notified earlier whose grace period has ended and who are still
    /// inactive; mark those who came back as `kept`.
    ReclaimNotified,
    /// Read the connection's opportunities and their history (changes nothing).
    History,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reclaim => "reclaim",
            Self::Notify => "notify",
            Self::ReclaimNotified => "reclaim_notified",
            Self::History => "history",
        }
    }

    pub fn is_reclaim(&self) -> bool {
        *self == Self::Reclaim
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `PUT …/users/{id}/status {"action":"deactivate"}`: frees the paid license.
    #[default]
    Deactivate,
    /// `PATCH …/users/{id} {"type":1}`: to Basic, the user keeps signing in.
    Downgrade,
    /// Undo an earlier request (`restore_request_id`) from its audit.
    Reactivate,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deactivate => "deactivate",
            Self::Downgrade => "downgrade",
            Self::Reactivate => "reactivate",
        }
    }
}

/// Whether a request changes anything at Zoom.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Execution {
    /// Report what execute would do; change nothing.
    #[default]
    DryRun,
    Execute,
}

impl Execution {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DryRun => "dry_run",
            Self::Execute => "execute",
        }
    }
}

/// Select users by inactivity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Inactive (latest of last login, meeting created, meeting joined) for more than this many
    /// whole days (`sync_domain::inactive_beyond`: exactly this many is not enough).
    pub inactive_days: u32,
    /// Only users holding one of these licenses (as the roster names them, e.g. `Business`).
    /// Default: every paid license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_names: Option<Vec<String>>,
    /// Only users of these accounts (master or sub account ids). Default: every account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_ids: Option<Vec<String>>,
}

/// A reclamation request as sent to the function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReclamationRequest {
    /// Idempotency key: the same id replayed does nothing twice.
    pub request_id: String,
    pub connection_id: String,
    /// Explicit users: Zoom user ids or emails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    #[serde(default)]
    pub action: Action,
    /// For `reactivate`: the request whose users are restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_request_id: Option<String>,
    #[serde(default)]
    pub mode: Execution,
    pub requested_by: String,
    pub reason: String,
    /// Refuse to act on more users than this (default 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_users: Option<u32>,
    /// Execute refuses unless Application Access completed for every current account of the
    /// connection within this many hours (default 48, 1 to 168).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_data_age_hours: Option<u32>,
    /// Roles besides the plain member role whose holders may be acted on, by role name or
    /// Zoom role id (e.g. a custom `Sales` role). Every other role, custom ones included, is
    /// protected; the owner role can never be named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_roles: Vec<String>,
    /// Notify-then-reclaim: `notify`, `reclaim_notified` or `history` (default `reclaim`: act
    /// now).
    #[serde(default, skip_serializing_if = "Step::is_reclaim")]
    pub step: Step,
    /// `notify`: days between the notice and the earliest reclaim (default 7, 1 to 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_days: Option<u32>,
    /// `history`: only opportunities in these states (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states: Option<Vec<OpportunityState>>,
}

/// Why a request was refused before anything happened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid reclamation request: {0}")]
pub struct RequestError(pub String);

/// Which users a (validated) request is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    Users(Vec<String>),
    Policy(Policy),
    /// Reactivate: the users an earlier request acted on (optionally only `only`).
    Restore {
        request_id: String,
        only: Option<Vec<String>>,
    },
    /// Reclaim-notified: the users notified earlier (optionally only `only`).
    Notified {
        only: Option<Vec<String>>,
    },
}

impl ReclamationRequest {
    /// Parses the invocation payload; the error names the offending field.
    pub fn parse(payload: &serde_json::Value) -> Result<Self, RequestError> {
        let request: Self = sync_domain::parse_payload(payload).map_err(RequestError)?;
        request.validate()?;
        Ok(request)
    }

    pub fn cap(&self) -> u32 {
        self.max_users.unwrap_or(DEFAULT_MAX_USERS)
    }

    /// The oldest activity data execute may act on, in hours.
    pub fn max_data_age_hours(&self) -> u32 {
        self.max_data_age_hours
            .unwrap_or(DEFAULT_MAX_DATA_AGE_HOURS)
    }

    /// The grace period of a notify request, in days.
    pub fn grace_days(&self) -> u32 {
        self.grace_days.unwrap_or(DEFAULT_GRACE_DAYS)
    }

    /// Checks everything serde cannot: required text, exactly one selection, bounds.
    pub fn validate(&self) -> Result<(), RequestError> {
        let text = |name: &str, v: &str, max: usize| {
            sync_domain::check_request_text(name, v, max).map_err(RequestError)
        };
        text("request_id", &self.request_id, 128)?;
        text("connection_id", &self.connection_id, 128)?;
        text("requested_by", &self.requested_by, 256)?;
        text("reason", &self.reason, 1000)?;
        if let Some(cap) = self.max_users
            && !(1..=MAX_USERS_CEILING).contains(&cap)
        {
            return Err(RequestError(format!(
                "`max_users` must be from 1 to {MAX_USERS_CEILING}, not {cap}"
            )));
        }
        if let Some(hours) = self.max_data_age_hours
            && !(1..=MAX_DATA_AGE_CEILING_HOURS).contains(&hours)
        {
            return Err(RequestError(format!(
                "`max_data_age_hours` must be from 1 to {MAX_DATA_AGE_CEILING_HOURS} (7 days), not {hours}"
            )));
        }
        for (i, role) in self.allowed_roles.iter().enumerate() {
            text(&format!("allowed_roles[{i}]"), role, 128)?;
            if !sync_domain::reclamation::role_may_be_allowed(role) {
                return Err(RequestError(format!(
                    "`allowed_roles[{i}]`: the owner role can never be allowed"
                )));
            }
        }
        if let Some(users) = &self.users {
            if users.is_empty() {
                return Err(RequestError(
                    "`users` must name at least one user id or email".into(),
                ));
            }
            for (i, u) in users.iter().enumerate() {
                text(&format!("users[{i}]"), u, 320)?;
            }
        }
        if let Some(policy) = &self.policy {
            if policy.inactive_days < 1 {
                return Err(RequestError(
                    "`policy.inactive_days` must be at least 1".into(),
                ));
            }
            if policy.inactive_days > 3650 {
                return Err(RequestError(
                    "`policy.inactive_days` must be at most 3650".into(),
                ));
            }
            for (field, list) in [
                ("license_names", &policy.license_names),
                ("account_ids", &policy.account_ids),
            ] {
                if let Some(list) = list {
                    if list.is_empty() {
                        return Err(RequestError(format!(
                            "`policy.{field}`, when given, must not be empty (leave it out for all)"
                        )));
                    }
                    for (i, v) in list.iter().enumerate() {
                        text(&format!("policy.{field}[{i}]"), v, 256)?;
                    }
                }
            }
        }
        self.validate_step()?;
        if matches!(self.step, Step::ReclaimNotified | Step::History) {
            // The users come from the recorded opportunities (`users` only narrows them).
            return Ok(());
        }
        match self.action {
            Action::Reactivate => {
                let Some(restore) = &self.restore_request_id else {
                    return Err(RequestError(
                        "`reactivate` needs `restore_request_id`: the request whose users to restore"
                            .into(),
                    ));
                };
                text("restore_request_id", restore, 128)?;
                if restore == &self.request_id {
                    return Err(RequestError(
                        "`restore_request_id` must name an earlier request, not this one".into(),
                    ));
                }
                if self.policy.is_some() {
                    return Err(RequestError(
                        "`reactivate` restores the users of `restore_request_id`; `policy` is not allowed (use `users` to restore only some)"
                            .into(),
                    ));
                }
            }
            Action::Deactivate | Action::Downgrade => {
                if self.restore_request_id.is_some() {
                    return Err(RequestError(
                        "`restore_request_id` is only for `\"action\": \"reactivate\"`".into(),
                    ));
                }
                match (&self.users, &self.policy) {
                    (Some(_), Some(_)) => {
                        return Err(RequestError(
                            "give either `users` or `policy`, not both".into(),
                        ));
                    }
                    (None, None) => {
                        return Err(RequestError(
                            "select users: give `users` (ids or emails) or `policy` ({\"inactive_days\": N})"
                                .into(),
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The fields of the notify-then-reclaim steps, each only where it means something.
    fn validate_step(&self) -> Result<(), RequestError> {
        let step = self.step.as_str();
        if let Some(days) = self.grace_days {
            if self.step != Step::Notify {
                return Err(RequestError(format!(
                    "`grace_days` is only for `\"step\": \"notify\"`, not `{step}`"
                )));
            }
            if !GRACE_DAYS_RANGE.contains(&days) {
                return Err(RequestError(format!(
                    "`grace_days` must be from {} to {}, not {days}",
                    GRACE_DAYS_RANGE.start(),
                    GRACE_DAYS_RANGE.end()
                )));
            }
        }
        if let Some(states) = &self.states {
            if self.step != Step::History {
                return Err(RequestError(format!(
                    "`states` is only for `\"step\": \"history\"`, not `{step}`"
                )));
            }
            if states.is_empty() {
                return Err(RequestError(
                    "`states`, when given, must name at least one state (leave it out for all)"
                        .into(),
                ));
            }
        }
        if self.step.is_reclaim() {
            return Ok(());
        }
        if self.action == Action::Reactivate {
            return Err(RequestError(format!(
                "`\"action\": \"reactivate\"` undoes an executed request; it is not a `{step}` \
                 step (reactivate the reclaim_notified request with the default step)"
            )));
        }
        if self.restore_request_id.is_some() {
            return Err(RequestError(
                "`restore_request_id` is only for `\"action\": \"reactivate\"`".into(),
            ));
        }
        if self.step != Step::Notify && self.policy.is_some() {
            return Err(RequestError(format!(
                "`{step}` reads the recorded opportunities; `policy` is not allowed (use `users` \
                 to narrow them)"
            )));
        }
        Ok(())
    }

    pub fn selection(&self) -> Selection {
        if self.step == Step::ReclaimNotified {
            return Selection::Notified {
                only: self.users.clone(),
            };
        }
        if self.action == Action::Reactivate {
            return Selection::Restore {
                request_id: self.restore_request_id.clone().unwrap_or_default(),
                only: self.users.clone(),
            };
        }
        match (&self.users, &self.policy) {
            (Some(users), _) => Selection::Users(users.clone()),
            (None, Some(p)) => Selection::Policy(p.clone()),
            (None, None) => Selection::Users(Vec::new()),
        }
    }

    /// The parts that define what is done (a replayed id must carry the same), as JSON.
    pub fn fingerprint(&self) -> serde_json::Value {
        let mut f = serde_json::json!({
            "connection_id": self.connection_id,
            "users": self.users,
            "policy": self.policy,
            "action": self.action,
            "restore_request_id": self.restore_request_id,
        });
        if !self.step.is_reclaim() {
            // Requests recorded before steps existed keep their fingerprint.
            f["step"] = serde_json::json!(self.step);
            f["grace_days"] = serde_json::json!(self.grace_days);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> serde_json::Value {
        json!({
            "request_id": "r1", "connection_id": "c1",
            "policy": {"inactive_days": 90},
            "requested_by": "admin@example.com", "reason": "quarterly review"
        })
    }

    #[test]
    fn defaults_are_safe() {
        let r = ReclamationRequest::parse(&base()).unwrap();
        assert_eq!(r.mode, Execution::DryRun);
        assert_eq!(r.action, Action::Deactivate);
        assert_eq!(r.cap(), 25);
        assert_eq!(r.max_data_age_hours(), 48);
    }

    #[test]
    fn max_data_age_hours_is_bounded_to_a_week() {
        for ok in [1, 48, 168] {
            let mut v = base();
            v["max_data_age_hours"] = json!(ok);
            assert_eq!(
                ReclamationRequest::parse(&v).unwrap().max_data_age_hours(),
                ok
            );
        }
        for bad in [0, 169, 200] {
            let mut v = base();
            v["max_data_age_hours"] = json!(bad);
            let e = err(v);
            assert!(
                e.contains("`max_data_age_hours` must be from 1 to 168 (7 days)"),
                "{e}"
            );
        }
        let mut v = base();
        v["max_data_age_hours"] = json!(-1);
        assert!(err(v).contains("field `max_data_age_hours`"));
    }

    #[test]
    fn the_data_age_is_not_part_of_what_is_done() {
        let a = ReclamationRequest::parse(&base()).unwrap();
        let mut v = base();
        v["max_data_age_hours"] = json!(72);
        let b = ReclamationRequest::parse(&v).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
    }

    fn err(v: serde_json::Value) -> String {
        ReclamationRequest::parse(&v).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_problem() {
        let mut v = base();
        v["policy"]["inactive_days"] = json!(0);
        assert!(err(v).contains("inactive_days` must be at least 1"));
        let mut v = base();
        v["mode"] = json!("now");
        let e = err(v);
        assert!(e.contains("field `mode`"), "{e}");
        let mut v = base();
        v["users"] = json!(["a@x.com"]);
        assert!(err(v).contains("either `users` or `policy`"));
        let mut v = base();
        v.as_object_mut().unwrap().remove("policy");
        assert!(err(v).contains("select users"));
        let mut v = base();
        v["max_users"] = json!(0);
        assert!(err(v).contains("max_users"));
        let mut v = base();
        v["extra"] = json!(1);
        assert!(err(v).contains("unknown field `extra`"));
        let mut v = base();
        v["action"] = json!("reactivate");
        assert!(err(v).contains("restore_request_id"));
        let mut v = base();
        v["reason"] = json!("  ");
        assert!(err(v).contains("`reason` must not be empty"));
        let mut v = base();
        v.as_object_mut().unwrap().remove("requested_by");
        assert!(err(v).contains("requested_by"));
        assert!(err(json!([1, 2])).contains("invalid type"));
    }

    fn notify() -> serde_json::Value {
        let mut v = base();
        v["step"] = json!("notify");
        v
    }

    #[test]
    fn step_defaults_to_reclaim_and_names_unknown_values() {
        let r = ReclamationRequest::parse(&base()).unwrap();
        assert_eq!(r.step, Step::Reclaim);
        assert!(
            r.fingerprint().get("step").is_none(),
            "old fingerprints stay"
        );
        for (step, ok) in [
            ("notify", true),
            ("reclaim_notified", false),
            ("history", false),
        ] {
            let mut v = base();
            v["step"] = json!(step);
            // reclaim_notified and history select from the opportunities, never by policy.
            assert_eq!(ReclamationRequest::parse(&v).is_ok(), ok, "{step}");
            v.as_object_mut().unwrap().remove("policy");
            assert_eq!(
                ReclamationRequest::parse(&v).is_ok(),
                !ok,
                "{step} without policy"
            );
        }
        let mut v = base();
        v["step"] = json!("later");
        assert!(err(v).contains("field `step`: unknown variant `later`"));
    }

    #[test]
    fn grace_days_is_bounded_and_only_for_notify() {
        assert_eq!(
            ReclamationRequest::parse(&notify()).unwrap().grace_days(),
            7
        );
        for ok in [1, 30, 60] {
            let mut v = notify();
            v["grace_days"] = json!(ok);
            assert_eq!(ReclamationRequest::parse(&v).unwrap().grace_days(), ok);
        }
        for bad in [0, 61, 365] {
            let mut v = notify();
            v["grace_days"] = json!(bad);
            let e = err(v);
            assert!(
                e.contains(&format!("`grace_days` must be from 1 to 60, not {bad}")),
                "{e}"
            );
        }
        let mut v = notify();
        v["grace_days"] = json!("7");
        assert!(err(v).contains("field `grace_days`"));
        let mut v = base();
        v["grace_days"] = json!(7);
        assert!(err(v).contains("`grace_days` is only for `\"step\": \"notify\"`, not `reclaim`"));
        // What is done depends on the grace period: part of the fingerprint.
        let mut v = notify();
        v["grace_days"] = json!(14);
        assert_ne!(
            ReclamationRequest::parse(&v).unwrap().fingerprint(),
            ReclamationRequest::parse(&notify()).unwrap().fingerprint()
        );
    }

    #[test]
    fn states_filter_only_the_history() {
        let mut v = base();
        v.as_object_mut().unwrap().remove("policy");
        v["step"] = json!("history");
        v["states"] = json!(["notified", "kept"]);
        let r = ReclamationRequest::parse(&v).unwrap();
        assert_eq!(
            r.states,
            Some(vec![OpportunityState::Notified, OpportunityState::Kept])
        );
        v["states"] = json!([]);
        assert!(err(v.clone()).contains("`states`, when given, must name at least one state"));
        v["states"] = json!(["mailed"]);
        assert!(err(v.clone()).contains("field `states[0]`: unknown variant `mailed`"));
        let mut v = notify();
        v["states"] = json!(["notified"]);
        assert!(err(v).contains("`states` is only for `\"step\": \"history\"`, not `notify`"));
    }

    #[test]
    fn notify_steps_refuse_reactivate_and_a_restore_id() {
        let mut v = notify();
        v["action"] = json!("reactivate");
        v["restore_request_id"] = json!("r0");
        assert!(err(v).contains("is not a `notify` step"));
        let mut v = base();
        v.as_object_mut().unwrap().remove("policy");
        v["step"] = json!("reclaim_notified");
        v["restore_request_id"] = json!("r0");
        assert!(err(v).contains("`restore_request_id` is only for"));
        // Notify needs a selection like an immediate reclaim.
        let mut v = notify();
        v.as_object_mut().unwrap().remove("policy");
        assert!(err(v).contains("select users"));
    }
}
