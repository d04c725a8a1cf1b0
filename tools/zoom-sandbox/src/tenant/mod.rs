//! Synthetic tenants, deterministic from a seed and a size spec. (Owner: tenant/api side.)
//!
//! A tenant is a master account with `sub_accounts` sub accounts, plus one *standalone* account
//! (an ordinary paid account that is neither the master nor one of its subs, with its own owner;
//! used to show how master-only endpoints fail for a non-master caller).
//!
//! Nothing per user is stored: every user, meeting and participant row is derived on demand
//! from `(seed, account index, user index, meeting index, occurrence)` with splitmix64 hashing
//! ([`ids`]), so a 200,000-user tenant costs a few kilobytes (plus, once the ground truth is
//! asked for, 8 bytes per user of cached latest joins). What changes at run time (status and
//! type changes made through the API, simulated days of activity) lives in a small overlay
//! behind a mutex.
//!
//! Generation rules (authoritative: test oracles follow them; all per account, `n` user slots):
//! - user 0 is the account owner (role Owner, licensed, active); users `1..=admins` are admins
//!   (role Admin, licensed, active); everybody else is a Member;
//! - Members: 4% pending (no `id`, never logged in, no meetings), 8% inactive (deactivated:
//!   30% of them still show Licensed (2) — they hold no seat, REFERENCE §3.6; the sandbox takes
//!   the harsher reading that the listing keeps the type — 55% Basic (1), 15% None (99)), the
//!   rest active; active members are Licensed (2) at the plan's licensed share, On-prem (3)
//!   only on legacy accounts (15%), no-meeting-licence (4) 4%, None (99) 1%, Basic (1)
//!   otherwise;
//! - `last_login_time`: about 6% of non-pending users never logged in (field absent); the
//!   others spread from minutes to 400 days before the tenant's anchor;
//! - meetings ([`meetings`]): every non-pending user of type 1, 2 or 3 hosts
//!   `0..=2*meetings_per_user` meetings created before the anchor, each of one kind:
//!   - 12% *instant* (type 1; only for hosts created at least 4 hours before the anchor,
//!     otherwise the meeting is recurring or scheduled as below): `created_at == start_time`,
//!     started 2 hours to 150 days before the anchor, always ended, one instance. Never listed by
//!     `GET /users/{userId}/meetings` (whatever `type`); found by number and UUID, in reports and
//!     with participants;
//!   - 18% *recurring* with a fixed time (type 8): 2 to 6 occurrences, 1, 7 or 14 days apart
//!     (7 most often), each occurrence its own instance with its own UUID and participants;
//!     some series are all past, some straddle the anchor, some are all upcoming. The meeting
//!     list shows one entry per recurring meeting: `start_time` of its first occurrence not yet
//!     ended (of its last occurrence when all ended), `uuid` of its latest ended occurrence (of
//!     its first while none ended). The meeting number stands for that same *representative*
//!     instance (so `GET /past_meetings/{number}/participants` is the latest ended occurrence);
//!   - the rest *scheduled* (type 2), one instance.
//!
//!   Scheduled meetings and first occurrences start on 5-minute marks; about 85% start before
//!   the anchor (up to 180 days), the rest within the next 30 days. An instance has *ended*
//!   when its end is before the anchor (a simulated day's time for that day's meetings);
//!   ended instances have participants (at least 2 people), the others none;
//! - participants of an ended instance: the host first (joins at the start), then for every
//!   other person: 70% a user of the organisation, else a guest (no id; a third give no email).
//!   In tree accounts (master + subs) an organisation user comes from *another* tree account
//!   with a probability chosen from `participants_per_meeting` so that about 30% (measured 20–40%)
//!   of the rows carrying ids of tree users (host rows included) are cross-account; the other
//!   account's user is drawn uniformly over the tree's other users. Same-account rows: `id`,
//!   `user_email`, `internal_user: true`; cross-account rows: `id`, `name`, `user_email` "",
//!   `internal_user: false` (as Zoom shows other accounts' users). In tree meetings 15% of the
//!   guests are instead signed-in users of the standalone account (`id` set, email "",
//!   `internal_user: false`): outsiders no tree connector may match. An attendee (any account)
//!   is never pending, never dormant, created before the instance's start, never twice in one
//!   instance (else the slot becomes a guest). The standalone account's meetings have only
//!   its own users and guests. 15% of people leave and rejoin (two rows for one person);
//! - about 4% of instance UUIDs start with `/` and 4% contain `//` (they must be double-encoded);
//! - with `dormant_percent` (0 by default; the local demo uses it), that share of the active
//!   Members created more than 100 days before the anchor is *dormant*: last login 100 to 400
//!   days before the anchor (or never), no meetings of their own and never a participant of
//!   any meeting, so they are reclamation candidates (simulated days still make them log in);
//! - simulated days ([`Tenant::simulate_day`]): each user active that day logs in, and 60% of
//!   those who can host hold a meeting created and ended before the day's time: 12% instant
//!   (created at its start), the rest scheduled (type 2, starting 10 minutes after creation),
//!   with participants drawn as above.
//!
//! Seats: `seats >= seats in use` (active + pending Licensed users; an inactive user holds no
//! seat whatever type it shows) with some headroom, so plan usage is consistent with the users.
//! Deactivation frees the seat and keeps the type shown; activation of a Licensed user takes a
//! seat when one is free, else the user becomes Basic.

pub mod ids;
pub mod meetings;
pub mod names;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use serde::Serialize;

use ids::{below, hash, unit};
pub use meetings::{Meeting, MeetingKind, Participant};

/// The size and shape of a synthetic tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantSpec {
    pub seed: u64,
    /// Number of sub accounts below the master.
    pub sub_accounts: u32,
    /// Users across the master and its sub accounts (the standalone account comes on top).
    pub total_users: u32,
    /// When non-zero, overrides `total_users` with `users_per_account × (sub_accounts + 1)`.
    pub users_per_account: u32,
    /// Average number of scheduled meetings per meeting-capable user.
    pub meetings_per_user: u32,
    /// Average number of participant people per past meeting (host included, at least 2).
    pub participants_per_meeting: u32,
    /// How many sub accounts (the last ones) are "legacy" accounts that still have On-prem
    /// (type 3) users.
    pub legacy_on_prem_accounts: u32,
    /// Users of the standalone (non-master) account.
    pub standalone_users: u32,
    /// Percent (0-100) of the active Members (not owners or admins) that are dormant: no activity
    /// for 100 to 400 days before the anchor. 0 in every preset.
    pub dormant_percent: u32,
    /// The tenant's notion of "now" when generated: every generated time is before it (except
    /// upcoming meetings). Defaults to the start of the current UTC day, so the same seed gives
    /// the same data all day long; pin it for data that is identical across days.
    pub anchor: DateTime<Utc>,
}

fn today() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(Duration::days(1))
        .unwrap_or_else(|_| Utc::now())
}

impl TenantSpec {
    /// The 3-account demo tenant: master + 2 sub accounts (one of them a legacy account with
    /// On-prem users), 36 users, plus a 6-user standalone account.
    pub fn demo() -> Self {
        Self {
            seed: 42,
            sub_accounts: 2,
            total_users: 36,
            users_per_account: 0,
            meetings_per_user: 3,
            participants_per_meeting: 4,
            legacy_on_prem_accounts: 1,
            standalone_users: 6,
            dormant_percent: 0,
            anchor: today(),
        }
    }

    /// A tenant of `total_users` users over the master and `sub_accounts` sub accounts; one
    /// legacy On-prem account per ten sub accounts (at least one when there are sub accounts).
    pub fn sized(seed: u64, sub_accounts: u32, total_users: u32) -> Self {
        Self {
            seed,
            sub_accounts,
            total_users,
            users_per_account: 0,
            meetings_per_user: 5,
            participants_per_meeting: 5,
            legacy_on_prem_accounts: if sub_accounts == 0 {
                0
            } else {
                sub_accounts.div_ceil(10)
            },
            standalone_users: 8,
            dormant_percent: 0,
            anchor: today(),
        }
    }

    /// Named presets for the binary's `--tenant` flag: `demo`, `small` (5 subs, 500 users),
    /// `medium` (20 subs, 5,000 users), `large` (50 subs, 50,000 users), `huge` (50 subs,
    /// 200,000 users), or `SUBS:USERS` (e.g. `20:5000`).
    pub fn preset(name: &str, seed: u64) -> Option<Self> {
        let spec = match name {
            "demo" => Self {
                seed,
                ..Self::demo()
            },
            "small" => Self::sized(seed, 5, 500),
            "medium" => Self::sized(seed, 20, 5_000),
            "large" => Self::sized(seed, 50, 50_000),
            "huge" => Self::sized(seed, 50, 200_000),
            other => {
                let (subs, users) = other.split_once(':')?;
                Self::sized(seed, subs.trim().parse().ok()?, users.trim().parse().ok()?)
            }
        };
        Some(spec)
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub fn with_meetings_per_user(mut self, n: u32) -> Self {
        self.meetings_per_user = n;
        self
    }

    pub fn with_participants_per_meeting(mut self, n: u32) -> Self {
        self.participants_per_meeting = n.max(2);
        self
    }

    pub fn with_legacy_on_prem_accounts(mut self, n: u32) -> Self {
        self.legacy_on_prem_accounts = n;
        self
    }

    pub fn with_dormant_percent(mut self, percent: u32) -> Self {
        self.dormant_percent = percent.min(100);
        self
    }

    pub fn with_anchor(mut self, anchor: DateTime<Utc>) -> Self {
        self.anchor = whole_seconds(anchor);
        self
    }
}

/// A Zoom plan (what the connector reports as the licence name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Plan {
    Business,
    Education,
    #[serde(rename = "API Partner")]
    ApiPartner,
    #[serde(rename = "Bulk License")]
    BulkLicense,
    Pro,
    Enterprise,
}

impl Plan {
    /// `account_type` as Zoom spells it.
    pub fn account_type(self) -> &'static str {
        match self {
            Self::Business => "Business",
            Self::Education => "Education",
            Self::ApiPartner => "API Partner",
            Self::BulkLicense => "Bulk License",
            Self::Pro => "Pro",
            Self::Enterprise => "Enterprise",
        }
    }

    /// The billing plan code in `plan_base.type`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Business => "business_yearly",
            Self::Education => "edu_yearly",
            Self::ApiPartner => "api_partner_monthly",
            Self::BulkLicense => "bulk_license_yearly",
            Self::Pro => "pro_monthly",
            Self::Enterprise => "enterprise_yearly",
        }
    }

    /// Share of active members holding a paid licence.
    fn licensed_share(self) -> f64 {
        match self {
            Self::Business => 0.6,
            Self::Education => 0.45,
            Self::ApiPartner => 0.7,
            Self::BulkLicense => 0.8,
            Self::Pro => 0.5,
            Self::Enterprise => 0.65,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Master,
    Sub,
    Standalone,
}

/// One account of the tenant (all accounts are held in memory; there are few).
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub index: u32,
    pub id: String,
    pub name: String,
    pub number: i64,
    pub kind: AccountKind,
    pub plan: Plan,
    /// Paid seats (`plan_base.hosts`, `seats`).
    pub seats: u32,
    /// Legacy account that still has On-prem (type 3) users.
    pub legacy_on_prem: bool,
    /// Number of user slots (every status).
    pub users: u32,
    /// Users `1..=admins` are admins.
    pub admins: u32,
    pub domain: String,
    pub created_at: DateTime<Utc>,
    pub subscription_start: DateTime<Utc>,
    pub subscription_end: DateTime<Utc>,
    /// `master` when the master pays this account's bill (plan information available).
    pub pay_mode: &'static str,
}

impl Account {
    pub fn is_master(&self) -> bool {
        self.kind == AccountKind::Master
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Inactive,
    Pending,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Pending => "pending",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "inactive" => Some(Self::Inactive),
            "pending" => Some(Self::Pending),
            _ => None,
        }
    }

    fn slot(self) -> usize {
        self as usize
    }

    pub const ALL: [UserStatus; 3] = [Self::Active, Self::Inactive, Self::Pending];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    /// Zoom's default role ids: Owner `0`, Admin `1`, Member `2`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Owner => "0",
            Self::Admin => "1",
            Self::Member => "2",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Admin => "Admin",
            Self::Member => "Member",
        }
    }
}

/// User types the tenant generates: 1 Basic, 2 Licensed, 3 On-prem, 4 no-meeting licence,
/// 99 None.
pub const USER_TYPES: [i64; 5] = [1, 2, 3, 4, 99];

fn type_slot(t: i64) -> usize {
    match t {
        1 => 0,
        2 => 1,
        3 => 2,
        4 => 3,
        _ => 4,
    }
}

/// Users of one account by type (in [`USER_TYPES`] order) and status (active, inactive, pending).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts(pub [[u32; 3]; 5]);

impl Counts {
    fn add(&mut self, user_type: i64, status: UserStatus, delta: i64) {
        let c = &mut self.0[type_slot(user_type)][status.slot()];
        *c = (*c as i64 + delta).max(0) as u32;
    }

    pub fn get(&self, user_type: i64, status: UserStatus) -> u32 {
        self.0[type_slot(user_type)][status.slot()]
    }

    /// Users of a type, every status.
    pub fn of_type(&self, user_type: i64) -> u32 {
        self.0[type_slot(user_type)].iter().sum()
    }

    /// Users of a status, every type.
    pub fn of_status(&self, status: UserStatus) -> u32 {
        self.0.iter().map(|t| t[status.slot()]).sum()
    }

    pub fn total(&self) -> u32 {
        self.0.iter().flatten().sum()
    }
}

/// A user as the API shows it (derived on demand, overlay applied).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub account: u32,
    pub index: u32,
    /// The user id; Zoom shows none for pending users, but the sandbox keeps one internally.
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: i64,
    pub status: UserStatus,
    pub role: Role,
    pub user_created_at: DateTime<Utc>,
    pub last_login_time: Option<DateTime<Utc>>,
    pub last_client_version: Option<String>,
    pub dept: &'static str,
    pub timezone: &'static str,
    pub pmi: i64,
    pub verified: i64,
    pub language: &'static str,
}

impl User {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// A day of simulated activity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimDay {
    /// 1-based day number.
    pub day: u32,
    pub at: DateTime<Utc>,
    pub fraction: f64,
}

#[derive(Debug, Clone, Default)]
struct UserChange {
    user_type: Option<i64>,
    status: Option<UserStatus>,
    /// (number of simulated days when changed, new status): a user deactivated before a simulated
    /// day takes no part in it.
    history: Vec<(u32, UserStatus)>,
}

#[derive(Debug, Default)]
struct Overlay {
    users: HashMap<(u32, u32), UserChange>,
    counts: Vec<Counts>,
    sim_days: Vec<SimDay>,
    /// Bumped by every change (caches derived from the overlay compare it).
    version: u64,
}

/// Errors of tenant mutations, mapped to Zoom's errors by the API layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    #[error("user not found")]
    UserNotFound,
    #[error("owner or admin users cannot be changed")]
    PrivilegedUser,
    #[error("pending users cannot be changed")]
    PendingUser,
    #[error("no paid seats left")]
    NoSeatsLeft,
    #[error("invalid value: {0}")]
    Invalid(String),
}

const SALT_ACCOUNT: u64 = 1;
const SALT_USER: u64 = 2;
const SALT_MEETING: u64 = 3;
const SALT_PART: u64 = 4;
const SALT_SIM: u64 = 5;

/// A synthetic tenant: accounts in memory, users/meetings derived on demand, a sparse overlay
/// of changes.
pub struct Tenant {
    pub spec: TenantSpec,
    accounts: Vec<Account>,
    by_id: HashMap<String, u32>,
    by_domain: HashMap<String, u32>,
    base_counts: Vec<Counts>,
    /// Prefix sums of the tree accounts' user counts (master and subs; `len = tree + 1`).
    tree_offsets: Vec<u32>,
    /// Probability that a member attendee of a tree meeting comes from another tree account.
    cross_share: f64,
    overlay: Mutex<Overlay>,
    /// Organisation-wide latest joins, cached per overlay version.
    joins: Mutex<Option<Arc<meetings::JoinTable>>>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("spec", &self.spec)
            .field("accounts", &self.accounts.len())
            .finish()
    }
}

/// Core facts of a user, cheap to compute (no strings).
#[derive(Debug, Clone, Copy)]
struct Core {
    user_type: i64,
    status: UserStatus,
    role: Role,
}

impl Tenant {
    pub fn generate(spec: TenantSpec) -> Self {
        let seed = spec.seed;
        let subs = spec.sub_accounts.min(ids::MAX_ACCOUNTS - 2);
        let n_accounts = subs + 1;
        // Split users over master + subs by deterministic weights.
        let weights: Vec<f64> = (0..n_accounts)
            .map(|a| {
                let w = 0.5 + unit(hash(seed, &[SALT_ACCOUNT, a as u64, 1]));
                if a == 0 { w * 1.5 } else { w }
            })
            .collect();
        let wsum: f64 = weights.iter().sum();
        let total = if spec.users_per_account > 0 {
            spec.users_per_account.saturating_mul(n_accounts)
        } else {
            spec.total_users
        }
        .max(n_accounts * 2);
        let mut sizes: Vec<u32> = weights
            .iter()
            .map(|w| ((w / wsum) * total as f64).floor().max(2.0) as u32)
            .collect();
        let assigned: u32 = sizes.iter().sum();
        let mut i = 0usize;
        let mut left = total.saturating_sub(assigned);
        let len = sizes.len();
        while left > 0 {
            sizes[i % len] += 1;
            left -= 1;
            i += 1;
        }
        sizes.push(spec.standalone_users.max(2));

        let legacy_from = n_accounts.saturating_sub(spec.legacy_on_prem_accounts.min(subs));
        let mut accounts = Vec::with_capacity(sizes.len());
        for (a, &users) in sizes.iter().enumerate() {
            let a = a as u32;
            let users = users.min(ids::MAX_USERS_PER_ACCOUNT - 1);
            let h = |k: u64| hash(seed, &[SALT_ACCOUNT, a as u64, k]);
            let kind = if a == 0 {
                AccountKind::Master
            } else if a == n_accounts {
                AccountKind::Standalone
            } else {
                AccountKind::Sub
            };
            let plan = match kind {
                AccountKind::Master => Plan::Business,
                AccountKind::Standalone => Plan::Pro,
                AccountKind::Sub => {
                    if spec.sub_accounts <= 3 {
                        [Plan::Education, Plan::ApiPartner, Plan::BulkLicense][(a as usize - 1) % 3]
                    } else {
                        let r = unit(h(2));
                        match r {
                            r if r < 0.35 => Plan::Business,
                            r if r < 0.55 => Plan::Education,
                            r if r < 0.65 => Plan::ApiPartner,
                            r if r < 0.75 => Plan::BulkLicense,
                            r if r < 0.90 => Plan::Pro,
                            _ => Plan::Enterprise,
                        }
                    }
                }
            };
            let word = names::ORG_WORDS[below(h(3), names::ORG_WORDS.len() as u64) as usize];
            let suffix =
                names::ORG_SUFFIXES[below(h(4), names::ORG_SUFFIXES.len() as u64) as usize];
            let (name, domain) = match kind {
                AccountKind::Master => (
                    format!("{} Holdings", capitalize(word)),
                    format!("{word}.example.com"),
                ),
                AccountKind::Sub => (
                    format!("{} {suffix} {a}", capitalize(word)),
                    format!("{word}{a}.example.com"),
                ),
                AccountKind::Standalone => (
                    format!("{} Independent", capitalize(word)),
                    format!("{word}-independent.example.net"),
                ),
            };
            let created_at = spec.anchor - Duration::days(400 + below(h(5), 2000) as i64);
            let subscription_start = spec.anchor - Duration::days(30 + below(h(6), 300) as i64);
            let admins = (users / 40).clamp(1, 20).min(users.saturating_sub(1));
            accounts.push(Account {
                index: a,
                id: ids::account_id(seed, a),
                name,
                number: 1_000_000_000 + below(h(7), 8_999_999_999) as i64,
                kind,
                plan,
                seats: 0,
                legacy_on_prem: kind == AccountKind::Sub && a >= legacy_from,
                users,
                admins,
                domain,
                created_at,
                subscription_start,
                subscription_end: subscription_start + Duration::days(365),
                // Every third sub account pays its own bill.
                pay_mode: if kind == AccountKind::Sub && a.is_multiple_of(3) {
                    "sub"
                } else {
                    "master"
                },
            });
        }
        let mut tenant = Self {
            by_id: accounts.iter().map(|a| (a.id.clone(), a.index)).collect(),
            by_domain: accounts
                .iter()
                .map(|a| (a.domain.clone(), a.index))
                .collect(),
            base_counts: Vec::new(),
            tree_offsets: std::iter::once(0)
                .chain(accounts[..n_accounts as usize].iter().scan(0u32, |acc, a| {
                    *acc += a.users;
                    Some(*acc)
                }))
                .collect(),
            cross_share: meetings::cross_probability(spec.participants_per_meeting),
            accounts,
            overlay: Mutex::new(Overlay::default()),
            joins: Mutex::new(None),
            spec,
        };
        // Count users by type and status; size the seats from the licensed users.
        let mut counts = Vec::with_capacity(tenant.accounts.len());
        for a in 0..tenant.accounts.len() as u32 {
            let mut c = Counts::default();
            for u in 0..tenant.accounts[a as usize].users {
                let core = tenant.core(a, u);
                c.add(core.user_type, core.status, 1);
            }
            // Seats in use: active and pending licensed users (an inactive user holds none).
            let licensed = c.get(2, UserStatus::Active) + c.get(2, UserStatus::Pending);
            let h = hash(seed, &[SALT_ACCOUNT, a as u64, 8]);
            let headroom =
                (licensed as f64 * 0.25 * unit(h)).ceil() as u32 + below(h >> 7, 4) as u32;
            tenant.accounts[a as usize].seats = licensed + headroom;
            counts.push(c);
        }
        tenant.overlay.lock().expect("overlay").counts = counts.clone();
        tenant.base_counts = counts;
        tenant
    }

    fn overlay(&self) -> std::sync::MutexGuard<'_, Overlay> {
        self.overlay.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn seed(&self) -> u64 {
        self.spec.seed
    }

    pub fn anchor(&self) -> DateTime<Utc> {
        self.spec.anchor
    }

    pub fn master_account_id(&self) -> &str {
        &self.accounts[0].id
    }

    /// The master account's owner: who authorizes the connector's OAuth app.
    pub fn master_owner_user_id(&self) -> String {
        ids::user_id(self.seed(), 0, 0)
    }

    /// An ordinary paid (Pro) account that is not part of the master's tree.
    pub fn standalone_account_id(&self) -> &str {
        &self.standalone().id
    }

    pub fn standalone_owner_user_id(&self) -> String {
        ids::user_id(self.seed(), self.standalone().index, 0)
    }

    /// The owner user id of any account.
    pub fn owner_user_id(&self, account: u32) -> String {
        ids::user_id(self.seed(), account, 0)
    }

    fn standalone(&self) -> &Account {
        self.accounts
            .last()
            .expect("tenant has a standalone account")
    }

    /// Every account: master first, then the sub accounts, then the standalone account.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The master's sub accounts.
    pub fn sub_accounts(&self) -> &[Account] {
        &self.accounts[1..self.accounts.len() - 1]
    }

    pub fn account(&self, index: u32) -> Option<&Account> {
        self.accounts.get(index as usize)
    }

    pub fn account_by_id(&self, id: &str) -> Option<&Account> {
        self.by_id.get(id).and_then(|i| self.account(*i))
    }

    /// Current users of an account by type and status (overlay included).
    pub fn counts(&self, account: u32) -> Counts {
        self.overlay()
            .counts
            .get(account as usize)
            .copied()
            .unwrap_or_default()
    }

    /// The simulated days so far.
    pub fn sim_days(&self) -> Vec<SimDay> {
        self.overlay().sim_days.clone()
    }

    fn core(&self, a: u32, u: u32) -> Core {
        let acct = &self.accounts[a as usize];
        if u == 0 {
            return Core {
                user_type: 2,
                status: UserStatus::Active,
                role: Role::Owner,
            };
        }
        if u <= acct.admins {
            return Core {
                user_type: 2,
                status: UserStatus::Active,
                role: Role::Admin,
            };
        }
        let h = hash(self.seed(), &[SALT_USER, a as u64, u as u64, 1]);
        let r = unit(h);
        let t = unit(ids::mix(h));
        let (status, user_type) = if r < 0.04 {
            (UserStatus::Pending, if t < 0.6 { 2 } else { 1 })
        } else if r < 0.12 {
            // Deactivated: most show Basic, some still show Licensed (Zoom frees the seat of
            // a deactivated user but the listing may keep its type), a few None.
            let ty = if t < 0.3 {
                2
            } else if t < 0.85 {
                1
            } else {
                99
            };
            (UserStatus::Inactive, ty)
        } else {
            let ty = if acct.legacy_on_prem && t < 0.15 {
                3
            } else if t < 0.19 {
                4
            } else if t < 0.20 {
                99
            } else if t < 0.20 + 0.8 * acct.plan.licensed_share() {
                2
            } else {
                1
            };
            (UserStatus::Active, ty)
        };
        Core {
            user_type,
            status,
            role: Role::Member,
        }
    }

    /// Number of user slots of an account.
    pub fn user_count(&self, account: u32) -> u32 {
        self.account(account).map_or(0, |a| a.users)
    }

    /// The user at `(account, index)` with the overlay applied.
    pub fn user(&self, account: u32, index: u32) -> Option<User> {
        if index >= self.user_count(account) {
            return None;
        }
        let ov = self.overlay();
        Some(self.user_with(&ov, account, index))
    }

    /// Users `from..` of an account whose current status is `status`, at most `limit` of them,
    /// and the index to continue from (None when no further user has that status).
    pub fn users_page(
        &self,
        account: u32,
        status: Option<UserStatus>,
        from: u32,
        limit: usize,
    ) -> (Vec<User>, Option<u32>) {
        let n = self.user_count(account);
        let ov = self.overlay();
        let mut out = Vec::with_capacity(limit.min(n as usize));
        let mut u = from;
        while u < n {
            let (_, st) = self.effective_core(&ov, account, u);
            if status.is_none_or(|s| s == st) {
                if out.len() == limit {
                    return (out, Some(u));
                }
                out.push(self.user_with(&ov, account, u));
            }
            u += 1;
        }
        (out, None)
    }

    fn effective_core(&self, ov: &Overlay, a: u32, u: u32) -> (Core, UserStatus) {
        let mut core = self.core(a, u);
        if let Some(ch) = ov.users.get(&(a, u)) {
            if let Some(t) = ch.user_type {
                core.user_type = t;
            }
            if let Some(s) = ch.status {
                core.status = s;
            }
        }
        (core, core.status)
    }

    fn status_on_day(&self, ov: &Overlay, a: u32, u: u32, day: u32) -> UserStatus {
        let mut st = self.core(a, u).status;
        if let Some(ch) = ov.users.get(&(a, u)) {
            for (len, s) in &ch.history {
                if *len < day {
                    st = *s;
                }
            }
        }
        st
    }

    /// Simulated days on which the user was active (logged in).
    fn active_days<'a>(
        &'a self,
        ov: &'a Overlay,
        a: u32,
        u: u32,
    ) -> impl Iterator<Item = &'a SimDay> + 'a {
        ov.sim_days.iter().filter(move |d| {
            unit(hash(
                self.seed(),
                &[SALT_SIM, d.day as u64, a as u64, u as u64],
            )) < d.fraction
                && self.status_on_day(ov, a, u, d.day) == UserStatus::Active
        })
    }

    fn user_created_at(&self, a: u32, u: u32) -> DateTime<Utc> {
        let acct = &self.accounts[a as usize];
        if u == 0 {
            return acct.created_at;
        }
        let span = (self.anchor() - acct.created_at).num_minutes().max(60) as u64;
        let h = hash(self.seed(), &[SALT_USER, a as u64, u as u64, 2]);
        // Skewed towards older users.
        let x = unit(h);
        acct.created_at + Duration::minutes((span as f64 * x * x) as i64)
    }

    fn user_with(&self, ov: &Overlay, a: u32, u: u32) -> User {
        let seed = self.seed();
        let (core, status) = self.effective_core(ov, a, u);
        let acct = &self.accounts[a as usize];
        let h = |k: u64| hash(seed, &[SALT_USER, a as u64, u as u64, k]);
        let (first, first_ascii) =
            names::FIRST_NAMES[below(h(3), names::FIRST_NAMES.len() as u64) as usize];
        let (last, last_ascii) =
            names::LAST_NAMES[below(h(4), names::LAST_NAMES.len() as u64) as usize];
        let created = self.user_created_at(a, u);
        let base_pending = self.core(a, u).status == UserStatus::Pending;
        let mut last_login = if base_pending || unit(h(5)) < 0.06 && u != 0 {
            None
        } else {
            let r = unit(h(6));
            let days = match r {
                _ if self.is_dormant(a, u) => 100.0 + 300.0 * unit(h(7)),
                r if r < 0.40 => 7.0 * unit(h(7)),
                r if r < 0.60 => 7.0 + 23.0 * unit(h(7)),
                r if r < 0.75 => 30.0 + 60.0 * unit(h(7)),
                r if r < 0.88 => 90.0 + 90.0 * unit(h(7)),
                _ => 180.0 + 220.0 * unit(h(7)),
            };
            let t = self.anchor() - Duration::minutes((days * 1440.0) as i64 + 5);
            Some(t.max(created + Duration::minutes(5)))
        };
        for d in self.active_days(ov, a, u) {
            let t = d.at
                - Duration::minutes(
                    below(
                        hash(seed, &[SALT_SIM, d.day as u64, a as u64, u as u64, 1]),
                        360,
                    ) as i64
                        + 1,
                );
            last_login = Some(last_login.map_or(t, |l| l.max(t)));
        }
        User {
            account: a,
            index: u,
            id: ids::user_id(seed, a, u),
            email: format!("{first_ascii}.{last_ascii}.{u}@{}", acct.domain),
            first_name: first.to_string(),
            last_name: last.to_string(),
            user_type: core.user_type,
            status,
            role: core.role,
            user_created_at: created,
            last_login_time: last_login,
            last_client_version: last_login.map(|_| {
                format!(
                    "6.{}.{} ({})",
                    below(h(8), 4),
                    below(h(9), 20),
                    10_000 + below(h(10), 9_000)
                )
            }),
            dept: names::DEPARTMENTS[below(h(11), names::DEPARTMENTS.len() as u64) as usize],
            timezone: names::TIMEZONES[below(h(12), names::TIMEZONES.len() as u64) as usize],
            pmi: 1_000_000_000 + below(h(13), 8_999_999_999) as i64,
            verified: i64::from(!base_pending),
            language: "en-US",
        }
    }

    /// Find a user of any account by id (pending users included) or by email.
    pub fn find_user(&self, id_or_email: &str) -> Option<User> {
        let (a, u) = self.locate_user(id_or_email)?;
        self.user(a, u)
    }

    /// The (account, index) of a user id or email, if it exists.
    pub fn locate_user(&self, id_or_email: &str) -> Option<(u32, u32)> {
        let (a, u) = if let Some((local, domain)) = id_or_email.rsplit_once('@') {
            let a = *self.by_domain.get(&domain.to_ascii_lowercase())?;
            let u: u32 = local.rsplit_once('.')?.1.parse().ok()?;
            (a, u)
        } else {
            ids::parse_user_id(self.seed(), id_or_email)?
        };
        if u >= self.user_count(a) {
            return None;
        }
        if id_or_email.contains('@') {
            // The whole address must match (names are part of it).
            let user = self.user(a, u)?;
            if !user.email.eq_ignore_ascii_case(id_or_email) {
                return None;
            }
        }
        Some((a, u))
    }

    // ---- mutations -------------------------------------------------------------------------

    /// `PUT …/users/{userId}/status`: activate or deactivate. Owners and admins are refused;
    /// pending users cannot be (de)activated. Returns whether anything changed.
    ///
    /// Deactivating frees the user's seat (REFERENCE §3.6: a deactivated user holds no
    /// licence) but the user keeps the type it shows (harsher plausible behaviour: listings
    /// may still say Licensed for a user who holds no seat). Activating a Licensed user takes a
    /// seat again when one is free; otherwise the user comes back as Basic (type 1): Zoom does
    /// not promise to restore the licence.
    pub fn set_status(&self, a: u32, u: u32, active: bool) -> Result<bool, TenantError> {
        if u >= self.user_count(a) {
            return Err(TenantError::UserNotFound);
        }
        let mut ov = self.overlay();
        let (core, status) = self.effective_core(&ov, a, u);
        if core.role != Role::Member {
            return Err(TenantError::PrivilegedUser);
        }
        if status == UserStatus::Pending {
            return Err(TenantError::PendingUser);
        }
        let target = if active {
            UserStatus::Active
        } else {
            UserStatus::Inactive
        };
        if status == target {
            return Ok(false);
        }
        let new_type = if active
            && core.user_type == 2
            && self.seats_in_use(&ov, a) >= self.accounts[a as usize].seats
        {
            1
        } else {
            core.user_type
        };
        let day = ov.sim_days.len() as u32;
        ov.version += 1;
        let ch = ov.users.entry((a, u)).or_default();
        ch.status = Some(target);
        ch.user_type = Some(new_type);
        ch.history.push((day, target));
        let counts = &mut ov.counts[a as usize];
        counts.add(core.user_type, status, -1);
        counts.add(new_type, target, 1);
        Ok(true)
    }

    /// Seats taken in an account: Licensed users that are active or pending (a deactivated user
    /// holds no seat, whatever type it shows).
    fn seats_in_use(&self, ov: &Overlay, a: u32) -> u32 {
        let c = ov.counts[a as usize];
        c.get(2, UserStatus::Active) + c.get(2, UserStatus::Pending)
    }

    /// Seats taken in an account now (see `set_status`): `plan_base.usage + plan_base.pending`.
    pub fn seats_used(&self, a: u32) -> u32 {
        let ov = self.overlay();
        self.seats_in_use(&ov, a)
    }

    /// `PATCH …/users/{userId}` with `{"type": t}`: 1 Basic, 2 Licensed (needs a free seat when
    /// the user is active; a deactivated user takes no seat until activated), 4 no-meeting
    /// licence. Owners and admins cannot be downgraded; On-prem (3) cannot be set.
    pub fn set_type(&self, a: u32, u: u32, user_type: i64) -> Result<bool, TenantError> {
        if u >= self.user_count(a) {
            return Err(TenantError::UserNotFound);
        }
        if !matches!(user_type, 1 | 2 | 4) {
            return Err(TenantError::Invalid(format!("type {user_type}")));
        }
        let mut ov = self.overlay();
        let (core, status) = self.effective_core(&ov, a, u);
        if core.user_type == user_type {
            return Ok(false);
        }
        if core.role != Role::Member && user_type != 2 {
            return Err(TenantError::PrivilegedUser);
        }
        if user_type == 2
            && status != UserStatus::Inactive
            && self.seats_in_use(&ov, a) >= self.accounts[a as usize].seats
        {
            return Err(TenantError::NoSeatsLeft);
        }
        ov.version += 1;
        let ch = ov.users.entry((a, u)).or_default();
        ch.user_type = Some(user_type);
        let counts = &mut ov.counts[a as usize];
        counts.add(core.user_type, status, -1);
        counts.add(user_type, status, 1);
        Ok(true)
    }

    /// Simulate a day of activity at `now`: a deterministic `fraction` of the users who are
    /// active at that moment log in (a new `last_login_time` shortly before `now`), and about
    /// 60% of those who can host create and hold a new meeting (created and ended before
    /// `now`, with participants). Returns the day and the number of users who were active.
    pub fn simulate_day(&self, fraction: f64, now: DateTime<Utc>) -> (SimDay, u64) {
        let fraction = fraction.clamp(0.0, 1.0);
        let mut ov = self.overlay();
        let day = SimDay {
            day: ov.sim_days.len() as u32 + 1,
            at: whole_seconds(now),
            fraction,
        };
        ov.sim_days.push(day.clone());
        ov.version += 1;
        drop(ov);
        let ov = self.overlay();
        let mut active = 0u64;
        for a in 0..self.accounts.len() as u32 {
            for u in 0..self.user_count(a) {
                if self.active_days(&ov, a, u).any(|d| d.day == day.day) {
                    active += 1;
                }
            }
        }
        (day, active)
    }

    // ---- users' activity ----------------------------------------------------------------

    /// A dormant user (see `TenantSpec::dormant_percent`): an active Member created more than
    /// 100 days before the anchor, without activity for at least 100 days before it.
    pub fn is_dormant(&self, a: u32, u: u32) -> bool {
        let percent = self.spec.dormant_percent;
        if percent == 0 {
            return false;
        }
        let core = self.core(a, u);
        core.role == Role::Member
            && core.status == UserStatus::Active
            && unit(hash(self.seed(), &[SALT_USER, a as u64, u as u64, 20])) * 100.0
                < f64::from(percent)
            // Only users old enough to have been idle that long.
            && self.user_created_at(a, u) < self.anchor() - Duration::days(101)
    }
}

/// Zoom's times have whole seconds.
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::seconds(1)).unwrap_or(t)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// RFC 3339 with a `Z` and whole seconds, as Zoom formats times.
pub fn zoom_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A fixed anchor for tests that need data identical across days.
pub fn fixed_anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_shape() {
        let t = Tenant::generate(TenantSpec::demo());
        assert_eq!(t.accounts().len(), 4);
        assert_eq!(t.sub_accounts().len(), 2);
        let total: u32 = t.accounts()[..3].iter().map(|a| a.users).sum();
        assert_eq!(total, 36);
        for a in t.accounts() {
            let c = t.counts(a.index);
            assert_eq!(c.total(), a.users);
            assert!(a.seats >= c.of_type(2));
            let owners = (0..a.users)
                .filter(|u| t.user(a.index, *u).unwrap().role == Role::Owner)
                .count();
            assert_eq!(owners, 1);
        }
    }

    #[test]
    fn dormant_members_show_no_activity_for_100_days() {
        let spec = TenantSpec::demo()
            .with_anchor(fixed_anchor())
            .with_dormant_percent(30);
        let t = Tenant::generate(spec);
        let plain = Tenant::generate(TenantSpec::demo().with_anchor(fixed_anchor()));
        let cutoff = fixed_anchor() - Duration::days(100);
        let mut dormant = 0;
        for a in 0..t.accounts().len() as u32 {
            // Same users, counts and seats as without dormant members.
            assert_eq!(t.counts(a), plain.counts(a));
            assert_eq!(
                t.accounts()[a as usize].seats,
                plain.accounts()[a as usize].seats
            );
            for u in t.truth_users(a) {
                let (ai, ui) = t.locate_user(&u.email).unwrap();
                if !t.is_dormant(ai, ui) {
                    continue;
                }
                dormant += 1;
                assert_eq!(
                    (u.status, u.role_name.as_str()),
                    (UserStatus::Active, "Member")
                );
                assert!(u.last_login_time.is_none_or(|l| l <= cutoff), "{u:?}");
                assert_eq!(u.latest_meeting_created, None, "{u:?}");
                assert_eq!(u.latest_meeting_joined, None, "{u:?}");
            }
        }
        assert!(dormant >= 4, "{dormant} dormant users");
        let none = (0..plain.accounts().len() as u32)
            .flat_map(|a| (0..plain.user_count(a)).map(move |u| (a, u)))
            .filter(|(a, u)| plain.is_dormant(*a, *u))
            .count();
        assert_eq!(none, 0);
    }

    #[test]
    fn users_found_by_id_and_email() {
        let t = Tenant::generate(TenantSpec::sized(3, 4, 400));
        for a in 0..t.accounts().len() as u32 {
            for u in (0..t.user_count(a)).step_by(7) {
                let user = t.user(a, u).unwrap();
                assert_eq!(t.locate_user(&user.id), Some((a, u)));
                assert_eq!(t.locate_user(&user.email), Some((a, u)));
            }
        }
        assert_eq!(t.locate_user("nobody@nowhere.example.com"), None);
    }

    #[test]
    fn meetings_found_by_number_and_uuid() {
        let t = Tenant::generate(TenantSpec::sized(5, 3, 600));
        let mut found = 0;
        let mut styles = HashMap::new();
        for a in 0..t.accounts().len() as u32 {
            for u in 0..t.user_count(a) {
                for m in t.meetings(a, u) {
                    assert_eq!(t.meeting_by_number(m.id).as_ref(), Some(&m));
                    assert_eq!(t.meeting_by_uuid(&m.uuid).as_ref(), Some(&m));
                    found += 1;
                }
                // Every instance (instant meetings, each recurring occurrence) by its UUID;
                // the number names the representative instance.
                for i in t.instances(a, u) {
                    assert_eq!(t.meeting_by_uuid(&i.uuid).as_ref(), Some(&i));
                    let rep = t.meeting_by_number(i.id).unwrap();
                    assert_eq!((rep.index, rep.host), (i.index, i.host));
                    if i.occurrences > 1 {
                        let style = (i.uuid.starts_with('/'), i.uuid.contains("//"));
                        *styles.entry(style).or_insert(0) += 1;
                    }
                }
            }
        }
        assert!(found > 100);
        assert_eq!(
            styles.len(),
            3,
            "quirky UUIDs among occurrences: {styles:?}"
        );
    }
}
