//! Users as the API shows them: the generated facts with the overlay applied (status, type,
//! logins of simulated days), found by position, id or email.

use chrono::Duration;

use super::ids::{self, SALT_SIM, SALT_USER, below, hash, unit};
use super::model::{Overlay, Tenant, User, UserStatus};
use super::names;

impl Tenant {
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

    pub(super) fn user_with(&self, ov: &Overlay, a: u32, u: u32) -> User {
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
}
