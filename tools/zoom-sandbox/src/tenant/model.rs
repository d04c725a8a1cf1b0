//! The tenant's data types: accounts, users and their counts, the tenant itself and the overlay of
//! changes made at run time (what is stored; how it is derived lives in the sibling modules).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::meetings::model::JoinTable;
use super::spec::TenantSpec;

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
    pub(super) fn licensed_share(self) -> f64 {
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
    pub(super) fn add(&mut self, user_type: i64, status: UserStatus, delta: i64) {
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
pub(super) struct UserChange {
    pub(super) user_type: Option<i64>,
    pub(super) status: Option<UserStatus>,
    /// (number of simulated days when changed, new status): a user deactivated before a simulated
    /// day takes no part in it.
    pub(super) history: Vec<(u32, UserStatus)>,
}

#[derive(Debug, Default)]
pub(super) struct Overlay {
    pub(super) users: HashMap<(u32, u32), UserChange>,
    pub(super) counts: Vec<Counts>,
    pub(super) sim_days: Vec<SimDay>,
    /// Bumped by every change (caches derived from the overlay compare it).
    pub(super) version: u64,
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

/// A synthetic tenant: accounts in memory, users/meetings derived on demand, a sparse overlay
/// of changes.
pub struct Tenant {
    pub spec: TenantSpec,
    pub(super) accounts: Vec<Account>,
    pub(super) by_id: HashMap<String, u32>,
    pub(super) by_domain: HashMap<String, u32>,
    pub(super) base_counts: Vec<Counts>,
    /// Prefix sums of the tree accounts' user counts (master and subs; `len = tree + 1`).
    pub(super) tree_offsets: Vec<u32>,
    /// Probability that a member attendee of a tree meeting comes from another tree account.
    pub(super) cross_share: f64,
    pub(super) overlay: Mutex<Overlay>,
    /// Organisation-wide latest joins, cached per overlay version.
    pub(super) joins: Mutex<Option<Arc<JoinTable>>>,
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
pub(super) struct Core {
    pub(super) user_type: i64,
    pub(super) status: UserStatus,
    pub(super) role: Role,
}
