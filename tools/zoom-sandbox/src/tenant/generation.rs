//! Building a synthetic tenant from its spec: the accounts, and each user's generated facts
//! (role, type, status, creation, dormancy) before any change of the overlay. The rules are in the
//! module docs of [`super`].

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::ids::{self, SALT_ACCOUNT, SALT_USER, below, hash, unit};
use super::meetings::model::cross_probability;
use super::model::{Account, AccountKind, Core, Counts, Overlay, Plan, Role, Tenant, UserStatus};
use super::names;
use super::spec::TenantSpec;

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
            cross_share: cross_probability(spec.participants_per_meeting),
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

    pub(super) fn core(&self, a: u32, u: u32) -> Core {
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

    pub(super) fn user_created_at(&self, a: u32, u: u32) -> DateTime<Utc> {
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

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
