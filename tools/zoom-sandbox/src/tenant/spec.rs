//! [`TenantSpec`]: the size and shape of a synthetic tenant, its presets and options.

use chrono::{DateTime, Utc};

use super::time::{today, whole_seconds};

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
