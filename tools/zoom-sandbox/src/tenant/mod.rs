//! Synthetic tenants, deterministic from a seed and a size spec. (Owner: tenant/api side.)
//!
//! A tenant is a master account with `sub_accounts` sub accounts, plus one *standalone* account
//! (an ordinary paid account that is neither the master nor one of its subs, with its own owner;
//! used to show how master-only endpoints fail for a non-master caller).
//!
//! Nothing per user is stored: every user, meeting and participant row is derived on demand from
//! `(seed, account index, user index, meeting index)` with splitmix64 hashing ([`ids`]), so a
//! 200,000-user tenant costs a few kilobytes. What changes at run time (status and type changes
//! made through the API, simulated days of activity) lives in a small overlay behind a mutex.
//!
//! Generation rules (all per account, `n` user slots):
//! - user 0 is the account owner (role Owner, licensed, active); users `1..=admins` are admins
//!   (role Admin, licensed, active); everybody else is a Member;
//! - Members: 4% pending (no `id`, never logged in, no meetings), 8% inactive (Basic or type 99:
//!   a deactivated user holds no licence), the rest active; active members are Licensed (2) at the
//!   plan's licensed share, On-prem (3) only on legacy accounts (15%), no-meeting-licence (4)
//!   4%, None (99) 1%, Basic (1) otherwise;
//! - `last_login_time`: about 6% of non-pending users never logged in (field absent); the
//!   others spread from minutes to 400 days before the tenant's anchor;
//! - meetings: every non-pending user of type 1, 2 or 3 hosts `0..=2*meetings_per_user`
//!   scheduled meetings created before the anchor; about 85% have started and ended (past
//!   meetings with an instance UUID and participants), the rest are upcoming;
//! - participants of a past meeting: the host first, then internal users of the same account
//!   (never pending, never created after the meeting) and external guests; 15% of people leave
//!   and rejoin (two rows for one person);
//! - about 4% of instance UUIDs start with `/` and 4% contain `//` (they must be double-encoded);
//! - with `dormant_percent` (0 by default; the local demo uses it), that share of the active
//!   Members created more than 100 days before the anchor is *dormant*: last login 100 to 400 days before the anchor (or never), no scheduled
//!   meetings of their own and never an internal participant of a meeting, so they are
//!   reclamation candidates (simulated days still make them log in).
//!
//! Seats: `seats >= licensed users` (active + pending licensed) with some headroom, so plan
//! usage is consistent with the users.

pub mod ids;
pub mod names;

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use serde::Serialize;

use ids::{UuidStyle, below, hash, unit};

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

/// A scheduled meeting of a user.
#[derive(Debug, Clone, PartialEq)]
pub struct Meeting {
    pub account: u32,
    pub host: u32,
    pub index: u32,
    pub id: i64,
    /// The instance UUID (past meetings: the ended instance).
    pub uuid: String,
    pub host_id: String,
    pub topic: &'static str,
    /// 2 scheduled, 8 recurring with fixed time.
    pub meeting_type: i64,
    pub start_time: DateTime<Utc>,
    pub duration_min: i64,
    pub timezone: &'static str,
    pub created_at: DateTime<Utc>,
    /// Whether the instance has ended (it then has participants) at the tenant's current time.
    pub ended: bool,
}

impl Meeting {
    pub fn end_time(&self) -> DateTime<Utc> {
        self.start_time + Duration::minutes(self.duration_min)
    }
}

/// One participant row of a past meeting (one join segment).
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    /// The participant's Zoom user id when signed in as a user of the host's account, else "".
    pub id: String,
    /// Per-meeting participant id.
    pub user_id: String,
    pub name: String,
    pub user_email: String,
    pub join_time: DateTime<Utc>,
    pub leave_time: DateTime<Utc>,
    pub internal_user: bool,
    /// The account user index of an internal participant.
    pub internal_index: Option<u32>,
}

impl Participant {
    pub fn duration_secs(&self) -> i64 {
        (self.leave_time - self.join_time).num_seconds().max(0)
    }
}

/// One participant of a past meeting, before names are attached.
#[derive(Debug, Clone)]
struct Slot {
    k: u64,
    internal: Option<u32>,
    /// (join, leave) per row: two when the person left and rejoined.
    segments: Vec<(DateTime<Utc>, DateTime<Utc>)>,
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
    overlay: Mutex<Overlay>,
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
            accounts,
            overlay: Mutex::new(Overlay::default()),
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
            let licensed = c.of_type(2);
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
            (UserStatus::Inactive, if t < 0.8 { 1 } else { 99 })
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
    /// pending users cannot be (de)activated. Deactivating frees the user's paid licence (the
    /// user becomes Basic); activating does not restore it. Returns whether anything changed.
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
        let new_type = if !active && matches!(core.user_type, 2 | 3) {
            1
        } else {
            core.user_type
        };
        let day = ov.sim_days.len() as u32;
        let ch = ov.users.entry((a, u)).or_default();
        ch.status = Some(target);
        ch.user_type = Some(new_type);
        ch.history.push((day, target));
        let counts = &mut ov.counts[a as usize];
        counts.add(core.user_type, status, -1);
        counts.add(new_type, target, 1);
        Ok(true)
    }

    /// `PATCH …/users/{userId}` with `{"type": t}`: 1 Basic, 2 Licensed (needs a free seat),
    /// 4 no-meeting licence. Owners and admins cannot be downgraded; On-prem (3) cannot be set.
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
        if user_type == 2 {
            let c = ov.counts[a as usize];
            let used = c.of_type(2) - c.get(2, UserStatus::Inactive);
            if used >= self.accounts[a as usize].seats {
                return Err(TenantError::NoSeatsLeft);
            }
        }
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

    // ---- meetings --------------------------------------------------------------------------

    fn can_host(&self, a: u32, u: u32) -> bool {
        let core = self.core(a, u);
        core.status != UserStatus::Pending && matches!(core.user_type, 1..=3)
    }

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

    fn base_meeting_count(&self, a: u32, u: u32) -> u32 {
        if !self.can_host(a, u) || self.is_dormant(a, u) {
            return 0;
        }
        let m = self.spec.meetings_per_user as u64;
        below(
            hash(self.seed(), &[SALT_MEETING, a as u64, u as u64]),
            2 * m + 1,
        ) as u32
    }

    /// All scheduled meetings of a user, base ones first then the simulated days' ones.
    pub fn meetings(&self, a: u32, u: u32) -> Vec<Meeting> {
        if u >= self.user_count(a) {
            return Vec::new();
        }
        let ov = self.overlay();
        self.meetings_with(&ov, a, u)
    }

    fn meetings_with(&self, ov: &Overlay, a: u32, u: u32) -> Vec<Meeting> {
        let base = self.base_meeting_count(a, u);
        let mut out: Vec<Meeting> = (0..base).map(|j| self.base_meeting(a, u, j)).collect();
        if self.can_host(a, u) {
            let mut j = base;
            for d in self.active_days(ov, a, u) {
                if j >= ids::MAX_MEETINGS_PER_USER {
                    break;
                }
                let h = hash(
                    self.seed(),
                    &[SALT_SIM, d.day as u64, a as u64, u as u64, 2],
                );
                if unit(h) < 0.6 {
                    out.push(self.sim_meeting(a, u, j, d));
                    j += 1;
                }
            }
        }
        out
    }

    /// A meeting by (account, host, index), if it exists.
    pub fn meeting(&self, a: u32, u: u32, j: u32) -> Option<Meeting> {
        self.meetings(a, u).into_iter().nth(j as usize)
    }

    /// A meeting by its number.
    pub fn meeting_by_number(&self, number: i64) -> Option<Meeting> {
        let (a, u, j) = ids::parse_meeting_number(self.seed(), number)?;
        self.account(a)?;
        self.meeting(a, u, j)
    }

    /// A meeting by its instance UUID.
    pub fn meeting_by_uuid(&self, uuid: &str) -> Option<Meeting> {
        let (a, u, j) = ids::parse_meeting_uuid(self.seed(), uuid)?;
        self.account(a)?;
        self.meeting(a, u, j).filter(|m| m.uuid == uuid)
    }

    fn uuid_style(&self, a: u32, u: u32, j: u32) -> UuidStyle {
        let r = unit(hash(
            self.seed(),
            &[SALT_MEETING, a as u64, u as u64, j as u64, 9],
        ));
        if r < 0.04 {
            UuidStyle::LeadingSlash
        } else if r < 0.08 {
            UuidStyle::DoubleSlash
        } else {
            UuidStyle::Plain
        }
    }

    fn meeting_shell(&self, a: u32, u: u32, j: u32) -> Meeting {
        let seed = self.seed();
        let h = |k: u64| hash(seed, &[SALT_MEETING, a as u64, u as u64, j as u64, k]);
        let tz = names::TIMEZONES[below(
            hash(seed, &[SALT_USER, a as u64, u as u64, 12]),
            names::TIMEZONES.len() as u64,
        ) as usize];
        Meeting {
            account: a,
            host: u,
            index: j,
            id: ids::meeting_number(seed, a, u, j),
            uuid: ids::meeting_uuid(seed, a, u, j, self.uuid_style(a, u, j)),
            host_id: ids::user_id(seed, a, u),
            topic: names::TOPICS[below(h(1), names::TOPICS.len() as u64) as usize],
            meeting_type: if unit(h(2)) < 0.8 { 2 } else { 8 },
            start_time: self.anchor(),
            duration_min: 15 + 15 * below(h(3), 6) as i64,
            timezone: tz,
            created_at: self.anchor(),
            ended: false,
        }
    }

    fn base_meeting(&self, a: u32, u: u32, j: u32) -> Meeting {
        let mut m = self.meeting_shell(a, u, j);
        let h = |k: u64| {
            hash(
                self.seed(),
                &[SALT_MEETING, a as u64, u as u64, j as u64, k],
            )
        };
        let created_user = self.user_created_at(a, u);
        let anchor = self.anchor();
        let start = if unit(h(4)) < 0.15 {
            // Upcoming, within 30 days.
            anchor + Duration::minutes(60 + below(h(5), 30 * 1440) as i64)
        } else {
            let x = unit(h(5));
            anchor - Duration::minutes(120 + (180.0 * 1440.0 * x * x) as i64)
        };
        let start = start
            .max(created_user + Duration::hours(2))
            .duration_trunc(Duration::minutes(5))
            .unwrap_or(start);
        let lead = Duration::minutes(10 + below(h(6), 20 * 1440) as i64);
        let created = (start - lead)
            .max(created_user + Duration::minutes(1))
            .min(anchor);
        m.start_time = start;
        m.created_at = created;
        m.ended = m.end_time() < anchor;
        m
    }

    fn sim_meeting(&self, a: u32, u: u32, j: u32, d: &SimDay) -> Meeting {
        let mut m = self.meeting_shell(a, u, j);
        let h = hash(
            self.seed(),
            &[SALT_SIM, d.day as u64, a as u64, u as u64, 3],
        );
        let created = d.at - Duration::minutes(120 + below(h, 18 * 60) as i64);
        m.created_at = created;
        m.start_time = created + Duration::minutes(10);
        m.ended = m.end_time() < d.at;
        m
    }

    /// Participant rows of a past meeting (empty for meetings that have not ended).
    pub fn participants(&self, m: &Meeting) -> Vec<Participant> {
        if !m.ended {
            return Vec::new();
        }
        let ov = self.overlay();
        self.participants_with(&ov, m)
    }

    /// Who attended a past meeting and when, without names (cheap): one slot per person, with
    /// one or two join segments.
    fn participant_slots(&self, m: &Meeting) -> Vec<Slot> {
        let seed = self.seed();
        let (a, u, j) = (m.account, m.host, m.index);
        let h = |k: u64, s: u64| hash(seed, &[SALT_PART, a as u64, u as u64, j as u64, k, s]);
        let p = self.spec.participants_per_meeting.max(2) as u64;
        let people = 2 + below(h(0, 0), 2 * (p - 2) + 1);
        let n = self.user_count(a);
        let start = m.start_time;
        let end = m.end_time();
        let span = (end - start).num_seconds().max(60) as u64;
        let mut slots: Vec<Slot> = Vec::with_capacity(people as usize);
        for k in 0..people {
            // Who is it?
            let internal = if k == 0 {
                Some(u)
            } else if n > 1 && unit(h(k, 1)) < 0.7 {
                let v = below(h(k, 2), n as u64) as u32;
                (v != u
                    && !slots.iter().any(|s| s.internal == Some(v))
                    && self.core(a, v).status != UserStatus::Pending
                    && !self.is_dormant(a, v)
                    && self.user_created_at(a, v) < start)
                    .then_some(v)
            } else {
                None
            };
            let join = if k == 0 {
                start
            } else {
                start + Duration::seconds(below(h(k, 7), span / 3) as i64)
            };
            let leave = if k == 0 {
                end
            } else {
                end - Duration::seconds(below(h(k, 8), span / 4) as i64)
            };
            let leave = leave.max(join + Duration::seconds(30));
            let segments = if k > 0 && unit(h(k, 10)) < 0.15 {
                // Leaves and rejoins: two rows.
                let mid = join + Duration::seconds((leave - join).num_seconds() / 2);
                let back = mid + Duration::seconds(30 + below(h(k, 11), 240) as i64);
                vec![(join, mid), (back.min(leave), leave)]
            } else {
                vec![(join, leave)]
            };
            slots.push(Slot {
                k,
                internal,
                segments,
            });
        }
        slots
    }

    /// Number of participant rows and their total duration in seconds (cheap: no names).
    pub fn participant_stats(&self, m: &Meeting) -> (usize, i64) {
        if !m.ended {
            return (0, 0);
        }
        self.participant_slots(m)
            .iter()
            .flat_map(|s| s.segments.iter())
            .fold((0, 0), |(n, secs), (j, l)| {
                (n + 1, secs + (*l - *j).num_seconds().max(0))
            })
    }

    fn participants_with(&self, ov: &Overlay, m: &Meeting) -> Vec<Participant> {
        let seed = self.seed();
        let (a, u, j) = (m.account, m.host, m.index);
        let h = |k: u64, s: u64| hash(seed, &[SALT_PART, a as u64, u as u64, j as u64, k, s]);
        let mut rows = Vec::new();
        for slot in self.participant_slots(m) {
            let k = slot.k;
            let (id, name, email) = match slot.internal {
                Some(v) => {
                    let user = self.user_with(ov, a, v);
                    (user.id.clone(), user.display_name(), user.email)
                }
                None => {
                    let (f, fa) = names::FIRST_NAMES
                        [below(h(k, 3), names::FIRST_NAMES.len() as u64) as usize];
                    let (l, la) =
                        names::LAST_NAMES[below(h(k, 4), names::LAST_NAMES.len() as u64) as usize];
                    let word =
                        names::ORG_WORDS[below(h(k, 5), names::ORG_WORDS.len() as u64) as usize];
                    // A third of guests join without signing in: no email.
                    let email = if unit(h(k, 6)) < 0.33 {
                        String::new()
                    } else {
                        format!("{fa}.{la}@{word}-guest.example.org")
                    };
                    (String::new(), format!("{f} {l}"), email)
                }
            };
            for (seg, (join, leave)) in slot.segments.iter().enumerate() {
                rows.push(Participant {
                    id: id.clone(),
                    user_id: format!("{}", 16_778_240 + below(h(k, 9 + seg as u64), 90_000_000)),
                    name: name.clone(),
                    user_email: email.clone(),
                    join_time: *join,
                    leave_time: *leave,
                    internal_user: slot.internal.is_some(),
                    internal_index: slot.internal,
                });
            }
        }
        rows
    }

    /// For every user of an account: the latest `join_time` among all participant rows that
    /// carry the user's id (past meetings of the account, hosting included). Used by the ground
    /// truth; costs one pass over the account's meetings and one map entry per user who joined.
    pub fn latest_joins(&self, a: u32) -> HashMap<u32, DateTime<Utc>> {
        let ov = self.overlay();
        let mut map: HashMap<u32, DateTime<Utc>> = HashMap::new();
        for u in 0..self.user_count(a) {
            for m in self.meetings_with(&ov, a, u) {
                if !m.ended {
                    continue;
                }
                for slot in self.participant_slots(&m) {
                    if let Some(v) = slot.internal {
                        for (join, _) in &slot.segments {
                            let e = map.entry(v).or_insert(*join);
                            if *join > *e {
                                *e = *join;
                            }
                        }
                    }
                }
            }
        }
        map
    }

    /// Latest `created_at` of the user's scheduled meetings (as listed by
    /// `GET /users/{userId}/meetings`).
    pub fn latest_meeting_created(&self, a: u32, u: u32) -> Option<DateTime<Utc>> {
        self.meetings(a, u).iter().map(|m| m.created_at).max()
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
        let t = Tenant::generate(TenantSpec::sized(5, 3, 200));
        let mut found = 0;
        for a in 0..t.accounts().len() as u32 {
            for u in 0..t.user_count(a) {
                for m in t.meetings(a, u) {
                    assert_eq!(t.meeting_by_number(m.id).as_ref(), Some(&m));
                    assert_eq!(t.meeting_by_uuid(&m.uuid).as_ref(), Some(&m));
                    found += 1;
                }
            }
        }
        assert!(found > 100);
    }
}
