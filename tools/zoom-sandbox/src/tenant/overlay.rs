//! The overlay: what changes at run time on top of the generated tenant (status and type
//! changes made through the API, simulated days of activity), and the status of a user on a day.

use std::sync::MutexGuard;

use chrono::{DateTime, Utc};

use super::ids::{SALT_SIM, hash, unit};
use super::model::{Core, Counts, Overlay, Role, SimDay, Tenant, TenantError, UserStatus};
use super::time::whole_seconds;

impl Tenant {
    pub(super) fn overlay(&self) -> MutexGuard<'_, Overlay> {
        self.overlay.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The overlay's version: bumped by every change (status, type, simulated day), so a value
    /// derived from the tenant and kept with the version it was computed at is current while the
    /// version is the same.
    pub fn overlay_version(&self) -> u64 {
        self.overlay().version
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

    pub(super) fn effective_core(&self, ov: &Overlay, a: u32, u: u32) -> (Core, UserStatus) {
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
    pub(super) fn active_days<'a>(
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
}
