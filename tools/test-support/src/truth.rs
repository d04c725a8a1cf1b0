//! Stored records compared with the sandbox's ground truth through the oracle: every
//! difference collected and reported, and what the comparison covered ([`Stats`]).

use std::collections::{BTreeMap, BTreeSet};

use aws_adapters::Records;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use ports::{
    AccountStore, CandidateStore, ConnectionSettings, LicenseStore, Provisioned, UserView,
};
use zoom_sandbox::truth::TenantTruth;

use crate::store::views;

/// The accounts of the master's tree (the stand-alone account is not part of it).
pub fn tree(truth: &TenantTruth) -> Vec<&zoom_sandbox::truth::AccountTruth> {
    oracle::tree_accounts(truth).collect()
}

/// The oracle's copy of a connection's settings.
pub fn oracle_settings(s: &ConnectionSettings) -> oracle::Settings {
    oracle::Settings {
        include_free_users: s.include_free_users.is_yes(),
        include_on_premises: s.include_on_premises.is_yes(),
        threshold_days: u32::from(s.inactivity_threshold.days()),
    }
}

/// Every stored roster, access, license and candidate field equals what the oracle
/// (`tools/oracle`: the documented rules written out again, sharing no code with the tasks)
/// expects from the sandbox's ground truth at `now`. Every difference is collected (naming
/// the connection, account, user or license, and field), then the function panics with them
/// all.
pub async fn assert_matches_truth(
    records: &Records,
    truth: &TenantTruth,
    cid: &str,
    s: &ConnectionSettings,
    now: DateTime<Utc>,
) -> Stats {
    let os = oracle_settings(s);
    let mut stats = Stats::default();
    let mut m = Mismatches::new(cid);
    let accounts: BTreeSet<String> = records
        .list_accounts(cid)
        .try_filter(|a| std::future::ready(a.removed_at.is_none()))
        .map_ok(|a| a.account_id)
        .try_collect()
        .await
        .unwrap();
    let expected: BTreeSet<String> = oracle::tree_accounts(truth).map(|a| a.id.clone()).collect();
    for a in accounts.difference(&expected) {
        m.note(
            &format!("account {a}"),
            "stored but not in the master's tree",
        );
    }
    for a in expected.difference(&accounts) {
        m.note(&format!("account {a}"), "not stored");
    }
    for e in oracle::expect_tenant(truth, &os, now) {
        let aid = &e.account.id;
        let stored = views(records, cid, aid).await;
        let live: BTreeMap<&String, &UserView> = stored
            .iter()
            .filter(|(_, v)| v.roster.removed_at.is_none())
            .collect();
        for (key, v) in &live {
            if !e.users.contains_key(*key) {
                m.note(
                    &format!("account {aid} user {key} <{}>", v.roster.email),
                    format!(
                        "stored (type {}, status {}) but not a tracked user of the truth",
                        v.roster.user_type, v.roster.status
                    ),
                );
            }
        }
        for (key, u) in &e.users {
            let t = u.truth;
            let ctx = format!("account {aid} user {key} <{}>", t.email);
            let Some(v) = live.get(key) else {
                m.note(&ctx, "not stored (or marked removed)");
                continue;
            };
            let r = &v.roster;
            m.field(&ctx, "user id", &r.user_id, &t.id);
            m.field(&ctx, "email", &r.email, &t.email);
            m.field(
                &ctx,
                "first name",
                r.first_name.as_deref().unwrap_or(""),
                t.first_name.as_str(),
            );
            m.field(
                &ctx,
                "last name",
                r.last_name.as_deref().unwrap_or(""),
                t.last_name.as_str(),
            );
            m.field(&ctx, "type", r.user_type, t.user_type);
            m.field(&ctx, "status", r.status.as_str(), t.status.as_str());
            m.field(
                &ctx,
                "role id",
                r.role_id.as_deref(),
                Some(t.role_id.as_str()),
            );
            m.field(&ctx, "account id", &r.account_id, aid);
            m.field(&ctx, "active date", r.active_date, Some(t.user_created_at));
            m.field(
                &ctx,
                "license name",
                r.license_name.as_deref(),
                Some(u.license_name.as_str()),
            );
            // The sandbox's own licence name must follow the same documented rule.
            m.field(
                &ctx,
                "truth's license name (sandbox)",
                t.license.as_str(),
                u.license_name.as_str(),
            );
            let access = v.access.as_ref();
            let login = access.and_then(|x| x.dates.last_login);
            let created = access.and_then(|x| x.dates.last_meeting_created);
            let joined = access.and_then(|x| x.dates.last_meeting_joined);
            m.field(&ctx, "last login", login, t.last_login_time);
            m.field(
                &ctx,
                "latest meeting created",
                created,
                t.latest_meeting_created,
            );
            m.field(
                &ctx,
                "latest meeting joined",
                joined,
                t.latest_meeting_joined,
            );
            stats.users += 1;
            stats.logins += u64::from(login.is_some());
            stats.created += u64::from(created.is_some());
            stats.joined += u64::from(joined.is_some());
            stats.on_prem += u64::from(u.kind == oracle::Kind::OnPrem);
            stats.free += u64::from(u.kind.is_free());
        }

        let licenses: BTreeMap<String, ports::LicenseRecord> = records
            .list_account_licenses(cid, aid)
            .map_ok(|l| (l.license_id.clone(), l))
            .try_collect()
            .await
            .unwrap();
        for id in licenses.keys() {
            if !e.licenses.contains_key(id) {
                m.note(
                    &format!("account {aid} license {id}"),
                    "stored but not expected",
                );
            }
        }
        for (id, x) in &e.licenses {
            let ctx = format!("account {aid} license {id}");
            let Some(l) = licenses.get(id) else {
                m.note(&ctx, "not stored");
                continue;
            };
            m.field(&ctx, "name", &l.name, &x.name);
            let provisioned = match x.provisioned {
                oracle::Seats::Count(n) => Provisioned::Count(n),
                oracle::Seats::Unlimited => Provisioned::Unlimited,
            };
            m.field(&ctx, "provisioned", l.provisioned, provisioned);
            m.field(&ctx, "assigned", l.assigned, x.assigned);
            m.field(&ctx, "active", l.active, x.active);
            m.field(&ctx, "inactive (deactivated)", l.inactive, x.inactive);
            match x.zoom_assigned {
                oracle::ZoomAssigned::Reported(n) => {
                    m.field(&ctx, "zoom_assigned", l.zoom_assigned, Some(n));
                    m.field(
                        &ctx,
                        "zoom_assigned_note",
                        l.zoom_assigned_note.as_deref(),
                        None,
                    );
                    // A paying account's seats equal Zoom's plan usage in the truth.
                    m.field(&ctx, "assigned vs the truth's plan usage", l.assigned, n);
                }
                oracle::ZoomAssigned::Missing => {
                    m.field(&ctx, "zoom_assigned (self-pay)", l.zoom_assigned, None);
                    m.field(
                        &ctx,
                        "zoom_assigned_note present (self-pay)",
                        l.zoom_assigned_note.is_some(),
                        true,
                    );
                }
                oracle::ZoomAssigned::NotReported => {
                    m.field(&ctx, "zoom_assigned (free license)", l.zoom_assigned, None);
                }
                oracle::ZoomAssigned::OnPremSummary(n) => {
                    m.field(
                        &ctx,
                        "zoom_assigned (user summary)",
                        l.zoom_assigned,
                        Some(n),
                    );
                    m.field(
                        &ctx,
                        "zoom_assigned_note present (On-Prem figures differ)",
                        l.zoom_assigned_note.is_some(),
                        n != x.assigned,
                    );
                }
            }
            let Some(act) = l.activity.as_ref() else {
                m.note(&ctx, "no activity figures (License Differentiation)");
                continue;
            };
            m.field(&ctx, "threshold days", act.threshold_days, x.threshold_days);
            m.field(
                &ctx,
                "active within 30 days",
                act.active_30_days,
                x.bands.active_30_days,
            );
            m.field(
                &ctx,
                "active within 60 days",
                act.active_60_days,
                x.bands.active_60_days,
            );
            m.field(
                &ctx,
                "active within 90 days",
                act.active_90_days,
                x.bands.active_90_days,
            );
            m.field(
                &ctx,
                "inactive beyond threshold",
                act.inactive_beyond_threshold,
                x.bands.inactive_beyond_threshold,
            );
        }

        let candidates: BTreeMap<String, ports::ReclamationCandidate> = records
            .list_account_candidates(cid, aid)
            .map_ok(|c| (c.user_key.clone(), c))
            .try_collect()
            .await
            .unwrap();
        for (key, c) in &candidates {
            if !e.candidates.contains(key) {
                let why = match e.users.get(key) {
                    Some(u) => format!(
                        "stored as a candidate, expected none (status {}, {} whole days \
                         inactive, threshold {})",
                        u.truth.status.as_str(),
                        u.days_inactive,
                        os.threshold_days
                    ),
                    None => "stored as a candidate but not a tracked user".to_owned(),
                };
                m.note(&format!("account {aid} user {key} <{}>", c.email), why);
            }
        }
        for key in &e.candidates {
            let u = &e.users[key];
            let t = u.truth;
            let ctx = format!("account {aid} user {key} <{}>", t.email);
            let Some(c) = candidates.get(key) else {
                m.note(
                    &ctx,
                    format!(
                        "not stored as a candidate ({} whole days inactive, threshold {})",
                        u.days_inactive, os.threshold_days
                    ),
                );
                continue;
            };
            m.field(&ctx, "candidate account id", &c.account_id, aid);
            m.field(&ctx, "candidate user id", &c.user_id, &t.id);
            m.field(&ctx, "candidate email", &c.email, &t.email);
            m.field(&ctx, "candidate type", c.user_type, t.user_type);
            m.field(&ctx, "candidate license id", &c.license_id, &u.license_id);
            m.field(
                &ctx,
                "candidate license name",
                &c.license_name,
                &u.license_name,
            );
            m.field(
                &ctx,
                "candidate last login",
                c.last_login,
                t.last_login_time,
            );
            m.field(
                &ctx,
                "candidate last meeting created",
                c.last_meeting_created,
                t.latest_meeting_created,
            );
            m.field(
                &ctx,
                "candidate last meeting joined",
                c.last_meeting_joined,
                t.latest_meeting_joined,
            );
            m.field(
                &ctx,
                "candidate last activity",
                c.last_activity,
                u.last_activity,
            );
            m.field(
                &ctx,
                "candidate days inactive",
                c.days_inactive,
                u.days_inactive,
            );
            m.field(
                &ctx,
                "candidate threshold days",
                u32::from(c.threshold_days),
                os.threshold_days,
            );
        }
        stats.candidates += e.candidates.len() as u64;
    }
    m.finish();
    stats
}

/// The differences found by [`assert_matches_truth`], each naming the connection, the account,
/// the user or license, and the field.
struct Mismatches {
    cid: String,
    found: Vec<String>,
}

impl Mismatches {
    /// At most this many are printed (all are counted).
    const SHOWN: usize = 60;

    fn new(cid: &str) -> Self {
        Self {
            cid: cid.to_owned(),
            found: Vec::new(),
        }
    }

    fn field<T: PartialEq + std::fmt::Debug>(
        &mut self,
        ctx: &str,
        field: &str,
        stored: T,
        expected: T,
    ) {
        if stored != expected {
            self.found.push(format!(
                "{}: {ctx}: {field}: stored {stored:?}, expected {expected:?}",
                self.cid
            ));
        }
    }

    fn note(&mut self, ctx: &str, what: impl std::fmt::Display) {
        self.found.push(format!("{}: {ctx}: {what}", self.cid));
    }

    /// Panics listing the differences, if any.
    fn finish(self) {
        if self.found.is_empty() {
            return;
        }
        let n = self.found.len();
        let mut by_field: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &self.found {
            // "{cid}: {ctx}: {field}: …": the third part names the field (or what is wrong).
            let field = f.split(": ").nth(2).unwrap_or("?");
            *by_field.entry(field).or_default() += 1;
        }
        let shown: Vec<&str> = self
            .found
            .iter()
            .take(Self::SHOWN)
            .map(String::as_str)
            .collect();
        let more = if n > Self::SHOWN {
            format!("\n  … and {} more", n - Self::SHOWN)
        } else {
            String::new()
        };
        panic!(
            "{}: {n} difference(s) from the oracle's expectations (by field: {by_field:?}):\n  {}{more}",
            self.cid,
            shown.join("\n  ")
        );
    }
}

/// What a comparison covered (so tests can show they compared something real).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub users: u64,
    pub logins: u64,
    pub created: u64,
    pub joined: u64,
    pub on_prem: u64,
    pub free: u64,
    pub candidates: u64,
}
