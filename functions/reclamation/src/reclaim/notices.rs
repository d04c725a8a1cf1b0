//! Notify-then-reclaim, first step (`"step": "notify"`): the selected users who pass the
//! stored and the live checks (the same as an immediate reclaim's) are e-mailed that their
//! license will be reclaimed after the grace period unless they use Zoom, and their
//! opportunity is recorded as `notified`. A user whose opportunity is open (notified, or being
//! notified by another run) is not notified again. A dry run sends and writes nothing.
//!
//! Each user's opportunity is first claimed (state `opportunity`, compare-and-swap), then the
//! notice is sent, then the opportunity is moved to `notified` with the message id and the
//! grace period's end: a run that ends in between leaves `opportunity`, which is never
//! reclaimed (a later notify run sends the notice).

use chrono::{DateTime, Duration, Utc};
use ports::{
    ConnectionRecord, Notice, Notifier, OpportunityRecord, OpportunityState, OpportunityStep,
    StoreError,
};
use tracing::{info, warn};

use super::acting::process;
use super::response::{
    DRY_RUN_LIVE_CHECKS, Outcome, ReclamationResponse, UserResult, reason, respond,
};
use super::selection::Candidate;
use super::{LEASE_TTL, Reclaimer};
use crate::error::ReclamationError;
use crate::gateway::ZoomUsers;
use crate::request::{Action, Execution, ReclamationRequest};

/// A step of `request` at `at`, with what happened.
pub(super) fn step(
    request: &ReclamationRequest,
    state: OpportunityState,
    at: DateTime<Utc>,
    detail: String,
) -> OpportunityStep {
    OpportunityStep {
        state,
        at,
        by: request.requested_by.clone(),
        request_id: request.request_id.clone(),
        reason: request.reason.clone(),
        detail,
    }
}

/// Why an opportunity is still open at `now` (no new notice): notified (awaiting its
/// reclaim-notified run), or claimed by a run less than a lease's time ago.
fn still_open(o: &OpportunityRecord, now: DateTime<Utc>) -> Option<(&'static str, String)> {
    match o.state {
        OpportunityState::Notified => Some((
            reason::ALREADY_NOTIFIED,
            format!(
                "notified at {} (message {}); the grace period ends {}: a reclaim_notified run \
                 after that reclaims the license if the user is still inactive; no second notice \
                 was sent",
                fmt_time(o.notified_at),
                o.message_id.as_deref().unwrap_or("unknown"),
                fmt_time(o.grace_ends_at)
            ),
        )),
        OpportunityState::Opportunity
            if o.history.last().is_some_and(|s| {
                now - s.at < Duration::from_std(LEASE_TTL).unwrap_or(Duration::minutes(16))
            }) =>
        {
            Some((
                reason::NOTICE_IN_PROGRESS,
                "another run is notifying this user right now; nothing was sent".into(),
            ))
        }
        _ => None,
    }
}

fn fmt_time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "unknown".into())
}

impl Reclaimer {
    /// The notify step: one line per candidate (`acted`: notified; `would_act`: would be
    /// notified).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn notify(
        &self,
        request: &ReclamationRequest,
        connection: &ConnectionRecord,
        zoom: &dyn ZoomUsers,
        candidates: &[Candidate],
        data_as_of: Option<DateTime<Utc>>,
        mut warnings: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<ReclamationResponse, ReclamationError> {
        let execute = request.mode == Execution::Execute;
        let notifier = match (&self.notifier, execute) {
            (Some(n), _) => Some(n.as_ref()),
            (None, true) => return Err(ReclamationError::NotificationsNotConfigured),
            (None, false) => None,
        };
        let grace = Duration::days(i64::from(request.grace_days()));
        let mut results = Vec::with_capacity(candidates.len());
        let (mut checked, mut not_checked) = (0, 0u64);
        for c in candidates {
            if c.pre.is_some() {
                results.push(process(request, connection, zoom, c, now, None).await?);
                continue;
            }
            let existing = self
                .stores
                .opportunities
                .get_opportunity(&connection.connection_id, &c.account_id, &c.user_key)
                .await?;
            if let Some((why, detail)) = existing.as_ref().and_then(|o| still_open(o, now)) {
                let mut r = c.line();
                r.reason = Some(why.into());
                r.detail = detail;
                r.grace_ends_at = existing.as_ref().and_then(|o| o.grace_ends_at);
                results.push(r);
                continue;
            }
            if !execute {
                if checked == DRY_RUN_LIVE_CHECKS {
                    not_checked += 1;
                    continue;
                }
                checked += 1;
            }
            // The live re-check of an immediate reclaim (journal-less: it only says whether
            // the user would be acted on now).
            let mut r = process(request, connection, zoom, c, now, None).await?;
            if r.outcome != Outcome::WouldAct {
                results.push(r);
                continue;
            }
            r.license_change = None;
            match notifier.filter(|_| execute) {
                None => {
                    r.grace_ends_at = Some(now + grace);
                    r.detail = format!(
                        "would notify (grace period until {}), then {}",
                        fmt_time(r.grace_ends_at),
                        r.detail
                    );
                    results.push(r);
                }
                Some(notifier) => {
                    let threshold = c.threshold(request, connection);
                    results.push(
                        self.notify_one(request, c, notifier, existing, threshold, grace, r)
                            .await?,
                    );
                }
            }
        }
        if not_checked > 0 {
            warnings.push(format!(
                "{not_checked} more users pass the stored checks but were not checked at Zoom \
                 (a dry run checks at most {DRY_RUN_LIVE_CHECKS}): narrow the policy to see them"
            ));
        }
        let mut response = respond(request, false, data_as_of, warnings, results);
        response.summary.selected += not_checked;
        response.summary.not_checked_live = not_checked;
        Ok(response)
    }

    /// Claims the user's opportunity, sends the notice, records `notified` (or `failed`).
    #[allow(clippy::too_many_arguments)]
    async fn notify_one(
        &self,
        request: &ReclamationRequest,
        c: &Candidate,
        notifier: &dyn Notifier,
        existing: Option<OpportunityRecord>,
        threshold: u32,
        grace: Duration,
        mut r: UserResult,
    ) -> Result<UserResult, ReclamationError> {
        let Some(email) = r.email.clone().filter(|e| e.contains('@')) else {
            r.outcome = Outcome::Skipped;
            r.reason = Some(reason::NO_EMAIL.into());
            r.detail = "no e-mail address is known for the user; nothing was sent".into();
            return Ok(r);
        };
        let opportunities = &*self.stores.opportunities;
        let mut o = existing.unwrap_or_else(|| {
            OpportunityRecord::new(&request.connection_id, &c.account_id, &c.user_key)
        });
        o.user_id = c.user_id.clone();
        o.email = Some(email.clone());
        o.license_name = c.license_name.clone();
        o.action = request.action.as_str().into();
        o.inactive_days = threshold;
        o.days_inactive = r.days_inactive;
        o.notified_at = None;
        o.grace_ends_at = None;
        o.message_id = None;
        o.reclaim_request_id = None;
        let at = (self.clock)();
        o.record(step(
            request,
            OpportunityState::Opportunity,
            at,
            format!("selected: {}", r.detail.trim_start_matches("would ")),
        ));
        let claimed = match opportunities.put_opportunity(&o).await {
            Ok(stored) => stored,
            Err(StoreError::ConditionFailed) => {
                r.outcome = Outcome::Skipped;
                r.reason = Some(reason::NOTICE_IN_PROGRESS.into());
                r.detail = "another run changed this user's opportunity meanwhile; nothing was \
                            sent"
                    .into();
                return Ok(r);
            }
            Err(e) => return Err(e.into()),
        };
        let ends = at + grace;
        let notice = notice(&email, c, request.action, r.days_inactive, ends);
        let mut o = claimed;
        match notifier.send(&notice).await {
            Ok(id) => {
                o.notified_at = Some(at);
                o.grace_ends_at = Some(ends);
                o.message_id = Some(id.0.clone());
                o.record(step(
                    request,
                    OpportunityState::Notified,
                    at,
                    format!(
                        "notice sent (message {id}); grace period until {}",
                        fmt_time(Some(ends))
                    ),
                ));
                opportunities.put_opportunity(&o).await?;
                info!(user_key = %c.user_key, account_id = %c.account_id, message_id = %id, "notified");
                r.outcome = Outcome::Acted;
                r.detail = format!(
                    "notified (message {id}; grace period until {}): {}",
                    fmt_time(Some(ends)),
                    r.detail.trim_start_matches("would ")
                );
                r.opportunity = Some(OpportunityState::Notified);
                r.grace_ends_at = Some(ends);
            }
            Err(e) => {
                // The message may name the recipient: only its kind goes to the log.
                warn!(user_key = %c.user_key, account_id = %c.account_id, error = e.kind(), "notice not sent");
                o.record(step(
                    request,
                    OpportunityState::Failed,
                    (self.clock)(),
                    e.to_string(),
                ));
                opportunities.put_opportunity(&o).await?;
                r.outcome = Outcome::Failed;
                r.reason = Some(reason::NOTICE_FAILED.into());
                r.detail = format!(
                    "{e}{}",
                    if e.is_transient() {
                        " (run the notify step again later)"
                    } else {
                        ""
                    }
                );
                r.opportunity = Some(OpportunityState::Failed);
            }
        }
        Ok(r)
    }
}

/// The e-mail to a user whose license will be reclaimed at `ends` unless they use Zoom: the
/// license, the days inactive, the date, what to do. No link, nothing secret.
pub(super) fn notice(
    email: &str,
    c: &Candidate,
    action: Action,
    days_inactive: Option<i64>,
    ends: DateTime<Utc>,
) -> Notice {
    let license = c.license_name.as_deref().unwrap_or("paid");
    let date = fmt_time(Some(ends));
    let idle =
        days_inactive.map_or_else(|| "for a long time".to_owned(), |d| format!("for {d} days"));
    let what = match action {
        Action::Downgrade => "your Zoom user will be changed to Basic (free)",
        _ => "your Zoom user will be deactivated",
    };
    let subject = format!("Your Zoom {license} license will be reclaimed after {date}");
    let paragraphs = [
        "Hello,".to_owned(),
        format!(
            "Your Zoom user {email} holds a {license} license that has not been used {idle} \
             (no sign-in, no meeting hosted or joined)."
        ),
        format!("Unless you use Zoom before {date}, the license will be reclaimed: {what}."),
        "To keep it, use Zoom before then: sign in to Zoom, or host or join a meeting. \
         Nothing else is needed."
            .to_owned(),
        "If you have questions, contact your Zoom administrator.".to_owned(),
    ];
    let text = paragraphs.join("\n\n") + "\n";
    let html = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", licensing::render::esc(p)))
        .collect::<Vec<_>>()
        .join("\n");
    Notice {
        to: email.to_owned(),
        subject,
        text,
        html: format!("<html><body>\n{html}\n</body></html>\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_domain::ActivityDates;

    #[test]
    fn the_notice_says_which_license_how_long_until_when_and_what_to_do() {
        let mut c = Candidate::bare("acct".into(), "u1".into(), Some("u1".into()));
        c.license_name = Some("Business <Pro>".into());
        c.activity = ActivityDates::default();
        let ends = "2026-06-09T12:00:00Z".parse().unwrap();
        let n = notice("a@x.com", &c, Action::Deactivate, Some(120), ends);
        assert_eq!(n.to, "a@x.com");
        assert!(n.subject.contains("Business <Pro>") && n.subject.contains("2026-06-09"));
        for part in [
            "a@x.com",
            "Business <Pro> license",
            "for 120 days",
            "before 2026-06-09 12:00 UTC",
            "deactivated",
            "sign in to Zoom, or host or join a meeting",
        ] {
            assert!(n.text.contains(part), "{part} in {}", n.text);
        }
        assert!(
            n.html.contains("Business &lt;Pro&gt; license"),
            "{}",
            n.html
        );
        assert!(!n.html.contains("<Pro>"));
        assert!(!n.text.contains("http"), "no links");
        let d = notice("a@x.com", &c, Action::Downgrade, None, ends);
        assert!(d.text.contains("changed to Basic") && d.text.contains("for a long time"));
    }
}
