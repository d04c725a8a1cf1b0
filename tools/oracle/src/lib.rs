//! The oracle: what the integration tasks must have stored for a connection, computed from the
//! documented rules (docs/integration-tasks.md "What each task records",
//! docs/license-management.md, docs/reclamation.md, the truth rules of
//! `tools/zoom-sandbox/src/truth.rs`) and the sandbox's ground truth.
//!
//! It is deliberately **not** the code under test: it depends on chrono and the sandbox's truth
//! types only (no `sync-domain`, `aws-adapters`, `sync-engine` or `zoom`), and writes every rule
//! out again, plainly. A `>` turned into `>=` in the tasks then fails the comparison instead of
//! being repeated by it.
//!
//! The rules as coded here:
//!
//! - **Tracking**: Licensed (type 2) always; On-Prem (3) only with Include On Premises; Basic
//!   (1), No-Meeting-License (4), None (99) and any other type only with Include Free Users.
//! - **Licenses** per account: id `{account_id}:{kind}`, kind ∈ `basic`, `licensed`, `on_prem`,
//!   `no_meetings_basic`, `other`; name = the account's plan for Licensed, else `Basic`,
//!   `On-Prem`, `No Meeting License`, `None`. Provisioned: Include On Premises = yes → Unlimited
//!   for every license; else the account's `seats` for Licensed and Unlimited for the free
//!   kinds. The Licensed license always exists; another kind exists when a tracked user (any
//!   status) holds it.
//! - **Seats**: assigned = tracked holders with status `active` (a deactivated user holds no
//!   seat, a pending one none yet); active = the same; inactive = tracked holders with status
//!   `inactive`. Zoom's own figure (Licensed only): a paying account (`pay_mode` `master`) has
//!   `zoom_assigned` = the truth's plan usage and no note; a self-pay sub account has no figure
//!   and a note saying why. On-Prem (only recorded with Include On Premises): Zoom's figure is
//!   the user summary's `on_prem_users_count`, which the truth's counts match (type-3 users
//!   not pending), with a note exactly when it differs from `assigned`; the On-Prem license
//!   exists also when that count is above zero and no tracked user holds it. The free kinds
//!   have no Zoom figure.
//! - **Activity**: last activity = the latest of last login, latest meeting created, latest
//!   meeting joined. Days inactive = whole elapsed days (floor of elapsed seconds / 86,400)
//!   since the last activity, or since `user_created_at` for a user who never did anything.
//!   Over tracked users with status `active`, per license: active within 30/60/90 days = has
//!   an activity and days ≤ 30/60/90; inactive beyond the threshold = days > threshold
//!   (exactly the threshold is still within). Reclamation candidates = those inactive beyond
//!   the threshold.
//!
//! The test harness (`tools/test-support`) compares stored records with it; [`csv`] reads
//! back the CSV files the connector writes.

pub mod csv;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use zoom_sandbox::tenant::UserStatus;
use zoom_sandbox::truth::{AccountTruth, TenantTruth, UserTruth};

/// A connection's settings, as the oracle needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub include_free_users: bool,
    pub include_on_premises: bool,
    /// Inactive beyond this many whole days.
    pub threshold_days: u32,
}

/// The license a Zoom user type stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Type 1.
    Basic,
    /// Type 2: a paid seat of the account's plan.
    Licensed,
    /// Type 3.
    OnPrem,
    /// Type 4.
    NoMeetingsBasic,
    /// Type 99 and any type Zoom adds later.
    Other,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Basic,
        Kind::Licensed,
        Kind::OnPrem,
        Kind::NoMeetingsBasic,
        Kind::Other,
    ];

    pub fn of_user_type(user_type: i64) -> Kind {
        match user_type {
            1 => Kind::Basic,
            2 => Kind::Licensed,
            3 => Kind::OnPrem,
            4 => Kind::NoMeetingsBasic,
            _ => Kind::Other,
        }
    }

    /// The kind's part of the license id.
    pub fn id_part(self) -> &'static str {
        match self {
            Kind::Basic => "basic",
            Kind::Licensed => "licensed",
            Kind::OnPrem => "on_prem",
            Kind::NoMeetingsBasic => "no_meetings_basic",
            Kind::Other => "other",
        }
    }

    /// Free kinds: tracked only with Include Free Users.
    pub fn is_free(self) -> bool {
        matches!(self, Kind::Basic | Kind::NoMeetingsBasic | Kind::Other)
    }

    /// Whether a connection with these settings tracks holders of this kind.
    pub fn is_tracked(self, s: &Settings) -> bool {
        match self {
            Kind::Licensed => true,
            Kind::OnPrem => s.include_on_premises,
            Kind::Basic | Kind::NoMeetingsBasic | Kind::Other => s.include_free_users,
        }
    }

    /// The license name shown to admins (Licensed: the account's plan, e.g. `Business`).
    pub fn name(self, plan: &str) -> String {
        match self {
            Kind::Licensed => plan.to_owned(),
            Kind::Basic => "Basic".to_owned(),
            Kind::OnPrem => "On-Prem".to_owned(),
            Kind::NoMeetingsBasic => "No Meeting License".to_owned(),
            Kind::Other => "None".to_owned(),
        }
    }

    /// Seats the license provides in an account with `seats` paid seats.
    pub fn provisioned(self, seats: u32, s: &Settings) -> Seats {
        if s.include_on_premises {
            Seats::Unlimited
        } else if self == Kind::Licensed {
            Seats::Count(u64::from(seats))
        } else {
            Seats::Unlimited
        }
    }
}

/// Whether a connection with these settings tracks a user of this type.
pub fn is_tracked(user_type: i64, s: &Settings) -> bool {
    Kind::of_user_type(user_type).is_tracked(s)
}

/// `{account_id}:{kind}`.
pub fn license_id(account_id: &str, kind: Kind) -> String {
    format!("{account_id}:{}", kind.id_part())
}

/// Provisioned seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seats {
    Count(u64),
    Unlimited,
}

/// A user's key within an account: the Zoom user id, or `email:<lower-case email>` for a user
/// without one (pending).
pub fn user_key(user_id: Option<&str>, email: &str) -> String {
    match user_id {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("email:{}", email.to_lowercase()),
    }
}

/// The latest of last login, latest meeting created and latest meeting joined.
pub fn last_activity(u: &UserTruth) -> Option<DateTime<Utc>> {
    let mut latest: Option<DateTime<Utc>> = None;
    for t in [
        u.last_login_time,
        u.latest_meeting_created,
        u.latest_meeting_joined,
    ]
    .into_iter()
    .flatten()
    {
        latest = match latest {
            Some(l) if l >= t => Some(l),
            _ => Some(t),
        };
    }
    latest
}

const SECONDS_PER_DAY: i64 = 86_400;

/// Whole days from `since` to `now`: the floor of the elapsed seconds / 86,400 (a time after
/// `now` gives a negative number).
pub fn whole_days(since: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let elapsed = now.timestamp() - since.timestamp();
    elapsed.div_euclid(SECONDS_PER_DAY)
}

/// Whole days since the user's last activity, or since `user_created_at` when the user never
/// did anything.
pub fn days_inactive(u: &UserTruth, now: DateTime<Utc>) -> i64 {
    whole_days(last_activity(u).unwrap_or(u.user_created_at), now)
}

/// Inactive beyond the threshold: strictly more whole days than the threshold.
pub fn beyond(days: i64, threshold_days: u32) -> bool {
    days > i64::from(threshold_days)
}

/// Active within a band of `band_days` (30, 60, 90): an activity at most that many whole days
/// ago. A user who never did anything is in no band.
pub fn within(last_activity: Option<DateTime<Utc>>, band_days: i64, now: DateTime<Utc>) -> bool {
    match last_activity {
        Some(t) => whole_days(t, now) <= band_days,
        None => false,
    }
}

/// A user's band as exports show it: `0-30 days`, `31-60 days`, `61-90 days` (whole days since
/// the last activity, each band's edge included), `over 90 days`, or `never active`.
pub fn band(last_activity: Option<DateTime<Utc>>, now: DateTime<Utc>) -> &'static str {
    if last_activity.is_none() {
        "never active"
    } else if within(last_activity, 30, now) {
        "0-30 days"
    } else if within(last_activity, 60, now) {
        "31-60 days"
    } else if within(last_activity, 90, now) {
        "61-90 days"
    } else {
        "over 90 days"
    }
}

/// The activity figures of one license (License Differentiation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bands {
    pub active_30_days: u64,
    pub active_60_days: u64,
    pub active_90_days: u64,
    pub inactive_beyond_threshold: u64,
}

/// What the license record must say about Zoom's own assigned-seat figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoomAssigned {
    /// A paying account's Licensed license: `zoom_assigned == Some(n)` (the truth's plan
    /// usage), no note.
    Reported(u64),
    /// A self-pay sub account's Licensed license: no figure, a note saying why.
    Missing,
    /// A free license (Basic, No Meeting License, None): Zoom gives no figure
    /// (`zoom_assigned == None`).
    NotReported,
    /// On-Prem: `zoom_assigned == Some(n)`, the user summary's `on_prem_users_count` (the
    /// truth's type-3 users that are not pending); a note exactly when `n` differs from the
    /// license's `assigned` (docs/license-management.md "Seats as Zoom counts them").
    OnPremSummary(u64),
}

/// One expected license record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLicense {
    pub license_id: String,
    pub kind: Kind,
    pub name: String,
    pub provisioned: Seats,
    pub assigned: u64,
    pub active: u64,
    pub inactive: u64,
    pub zoom_assigned: ZoomAssigned,
    pub threshold_days: u32,
    pub bands: Bands,
}

/// One tracked user and the oracle's verdicts on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedUser<'a> {
    pub truth: &'a UserTruth,
    pub key: String,
    pub kind: Kind,
    pub license_id: String,
    pub license_name: String,
    pub last_activity: Option<DateTime<Utc>>,
    pub days_inactive: i64,
    /// Status active and inactive beyond the threshold.
    pub candidate: bool,
}

/// Everything expected of one account of the master's tree.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedAccount<'a> {
    pub account: &'a AccountTruth,
    /// Tracked users by key.
    pub users: BTreeMap<String, ExpectedUser<'a>>,
    /// By license id.
    pub licenses: BTreeMap<String, ExpectedLicense>,
    /// Keys of the reclamation candidates.
    pub candidates: BTreeSet<String>,
}

/// The user summary's `on_prem_users_count` as the truth's counts give it: type-3 users that
/// are not pending (active or deactivated).
pub fn on_prem_summary(a: &AccountTruth) -> u64 {
    a.counts
        .by_type
        .get("3")
        .map_or(0, |c| u64::from(c.active) + u64::from(c.inactive))
}

/// The accounts of the master's tree (the stand-alone account is not part of it).
pub fn tree_accounts(truth: &TenantTruth) -> impl Iterator<Item = &AccountTruth> {
    truth
        .accounts
        .iter()
        .filter(|a| a.id != truth.standalone_account_id)
}

/// The expectations for every account of the master's tree, in the truth's order.
pub fn expect_tenant<'a>(
    truth: &'a TenantTruth,
    s: &Settings,
    now: DateTime<Utc>,
) -> Vec<ExpectedAccount<'a>> {
    tree_accounts(truth)
        .map(|a| expect_account(a, s, now))
        .collect()
}

/// The expectations for one account. Panics on a summary truth (no users).
pub fn expect_account<'a>(
    a: &'a AccountTruth,
    s: &Settings,
    now: DateTime<Utc>,
) -> ExpectedAccount<'a> {
    let users = a.users.as_deref().unwrap_or_else(|| {
        panic!(
            "oracle: account {} has no users in the truth (a summary truth?)",
            a.id
        )
    });
    let mut out = ExpectedAccount {
        account: a,
        users: BTreeMap::new(),
        licenses: BTreeMap::new(),
        candidates: BTreeSet::new(),
    };
    let new_license = |kind: Kind| ExpectedLicense {
        license_id: license_id(&a.id, kind),
        kind,
        name: kind.name(&a.plan),
        provisioned: kind.provisioned(a.seats, s),
        assigned: 0,
        active: 0,
        inactive: 0,
        zoom_assigned: match kind {
            Kind::Licensed if a.pay_mode == "master" => {
                ZoomAssigned::Reported(u64::from(a.counts.plan_usage))
            }
            Kind::Licensed => ZoomAssigned::Missing,
            Kind::OnPrem => ZoomAssigned::OnPremSummary(on_prem_summary(a)),
            Kind::Basic | Kind::NoMeetingsBasic | Kind::Other => ZoomAssigned::NotReported,
        },
        threshold_days: s.threshold_days,
        bands: Bands::default(),
    };
    // The Licensed license exists even when nobody holds it; On-Prem (when tracked) also when
    // Zoom's user summary counts On-Prem users the listing does not show.
    let licensed = new_license(Kind::Licensed);
    out.licenses.insert(licensed.license_id.clone(), licensed);
    if Kind::OnPrem.is_tracked(s) && on_prem_summary(a) > 0 {
        let on_prem = new_license(Kind::OnPrem);
        out.licenses.insert(on_prem.license_id.clone(), on_prem);
    }
    for u in users {
        let kind = Kind::of_user_type(u.user_type);
        if !kind.is_tracked(s) {
            continue;
        }
        let key = user_key(u.id.as_deref(), &u.email);
        let id = license_id(&a.id, kind);
        let license = out
            .licenses
            .entry(id.clone())
            .or_insert_with(|| new_license(kind));
        let last = last_activity(u);
        let days = days_inactive(u, now);
        let mut candidate = false;
        match u.status {
            UserStatus::Active => {
                license.assigned += 1;
                license.active += 1;
                let b = &mut license.bands;
                b.active_30_days += u64::from(within(last, 30, now));
                b.active_60_days += u64::from(within(last, 60, now));
                b.active_90_days += u64::from(within(last, 90, now));
                candidate = beyond(days, s.threshold_days);
                b.inactive_beyond_threshold += u64::from(candidate);
            }
            UserStatus::Inactive => license.inactive += 1,
            UserStatus::Pending => {}
        }
        if candidate {
            out.candidates.insert(key.clone());
        }
        let user = ExpectedUser {
            truth: u,
            key: key.clone(),
            kind,
            license_id: id,
            license_name: kind.name(&a.plan),
            last_activity: last,
            days_inactive: days,
            candidate,
        };
        if let Some(twice) = out.users.insert(key.clone(), user) {
            panic!(
                "oracle: account {} has two users with key {key} ({} and {})",
                a.id, twice.truth.email, u.email
            );
        }
    }
    out
}
