//! Reclamation's rules, free of I/O: which users hold a paid seat, which changes free or take
//! one, who is never changed, and what can be decided from the stored records alone.

use chrono::{DateTime, Utc};

use crate::{ActivityDates, LicenseKind, inactive_beyond};

/// Whether a user type is a paid one (Licensed or On-Prem).
pub fn is_paid(user_type: i64) -> bool {
    matches!(
        LicenseKind::from_user_type(user_type),
        LicenseKind::Licensed | LicenseKind::OnPrem
    )
}

/// Whether Zoom counts a paid seat for a user in this state: active and of a paid type. A
/// deactivated user holds none, whatever type Zoom still lists (deactivation removes all
/// licenses, REFERENCE §3.6); a pending invitation holds none yet.
pub fn holds_seat(status: &str, user_type: i64) -> bool {
    status == "active" && is_paid(user_type)
}

/// Whether an `acted` change frees a paid seat (`before` / `after`: whether the user held one).
/// Deactivation frees the seat the user held whatever type Zoom lists afterwards; a downgrade
/// frees it unless the user still holds one after; reactivation never frees.
pub fn frees_seat(action: &str, before: Option<bool>, after: Option<bool>) -> bool {
    match action {
        "deactivate" => before == Some(true),
        "downgrade" => before == Some(true) && after != Some(true),
        _ => false,
    }
}

/// Whether an `acted` restore takes a paid seat again.
pub fn takes_seat(before: Option<bool>, after: Option<bool>) -> bool {
    before == Some(false) && after == Some(true)
}

/// Whether a role (name or Zoom id) keeps its holder out of reclamation: every role but the
/// plain member role (`Member`, id `2`), unless the request allows it by name or id. Custom
/// roles ("IT Admin") are protected like Zoom's admin role; the owner role is never allowed.
pub fn role_is_protected(role: &str, allowed: &[String]) -> bool {
    let r = role.trim().to_ascii_lowercase();
    if r == "member" || r == "2" {
        return false;
    }
    if r == "owner" || r == "0" {
        return true;
    }
    !allowed.iter().any(|a| a.trim().eq_ignore_ascii_case(&r))
}

/// Whether a role may be named as allowed in a request (never the owner's).
pub fn role_may_be_allowed(role: &str) -> bool {
    let r = role.trim().to_ascii_lowercase();
    !(r.is_empty() || r == "owner" || r == "0")
}

/// The inactivity a user must show: the requested (policy) threshold, else the connection's.
pub fn threshold(requested_days: Option<u32>, connection_days: u32) -> u32 {
    requested_days.unwrap_or(connection_days)
}

/// What the stored records say of a user, as far as [`pre_check`] needs it.
#[derive(Clone, Copy, Debug)]
pub struct StoredUser<'a> {
    /// The last sync marked the user as removed from Zoom.
    pub removed: bool,
    /// On the connection's protected list.
    pub protected: bool,
    pub role: Option<&'a str>,
    /// Roles besides member the request allows (see [`role_is_protected`]).
    pub allowed_roles: &'a [String],
    pub status: Option<&'a str>,
    pub has_zoom_id: bool,
    /// An earlier change is being undone (reactivate): inactivity does not matter.
    pub restoring: bool,
    pub activity: ActivityDates,
    pub created: Option<DateTime<Utc>>,
}

/// Why a user is left alone on the stored records alone (no Zoom call needed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    Removed,
    Protected,
    OwnerOrAdmin,
    /// The invitation is not accepted (no Zoom id).
    Pending,
    /// Not inactive beyond the threshold as of the last sync.
    RecentlyActive {
        days: i64,
        threshold: u32,
    },
}

/// What can be decided from the stored records alone, in this order: removed, protected,
/// a protected role (owner, admin, any role but member unless allowed), pending, then (unless restoring) recently active.
pub fn pre_check(user: &StoredUser<'_>, threshold: u32, now: DateTime<Utc>) -> Option<Hold> {
    if user.removed {
        return Some(Hold::Removed);
    }
    if user.protected {
        return Some(Hold::Protected);
    }
    if user
        .role
        .is_some_and(|role| role_is_protected(role, user.allowed_roles))
    {
        return Some(Hold::OwnerOrAdmin);
    }
    if user.status == Some("pending") || !user.has_zoom_id {
        return Some(Hold::Pending);
    }
    if !user.restoring
        && let Some(days) = user.activity.days_inactive(user.created, now)
        && !inactive_beyond(days, threshold)
    {
        return Some(Hold::RecentlyActive { days, threshold });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_but_member_is_protected_unless_allowed() {
        for member in ["Member", " member ", "2"] {
            assert!(!role_is_protected(member, &[]), "{member}");
        }
        for protected in ["Owner", "0", "Admin", "1", "IT Admin", "Billing", ""] {
            assert!(role_is_protected(protected, &[]), "{protected}");
        }
        let allowed = vec!["it admin".to_string(), "r8Kx".to_string()];
        assert!(!role_is_protected("IT Admin", &allowed));
        assert!(!role_is_protected("r8kx", &allowed));
        assert!(role_is_protected("Admin", &allowed));
        // Never the owner, even when named.
        assert!(role_is_protected("Owner", &["owner".to_string()]));
        assert!(!role_may_be_allowed("Owner") && !role_may_be_allowed("0"));
        assert!(role_may_be_allowed("Sales"));
    }

    #[test]
    fn a_seat_is_held_by_active_users_of_a_paid_type_only() {
        assert!(holds_seat("active", 2));
        assert!(holds_seat("active", 3), "On-Prem counts as paid");
        assert!(!holds_seat("active", 1));
        assert!(!holds_seat("active", 4));
        assert!(
            !holds_seat("inactive", 2),
            "deactivation removes all licenses"
        );
        assert!(!holds_seat("pending", 2));
    }

    #[test]
    fn deactivating_a_seat_holder_frees_the_seat_whatever_type_is_listed_after() {
        assert!(frees_seat("deactivate", Some(true), Some(false)));
        assert!(frees_seat("deactivate", Some(true), None));
        // Zoom may keep listing type 2 for the deactivated user: still freed.
        assert!(frees_seat(
            "deactivate",
            Some(true),
            Some(holds_seat("inactive", 2))
        ));
        assert!(
            !frees_seat("deactivate", Some(false), Some(false)),
            "free user"
        );
        assert!(!frees_seat("deactivate", None, None));
    }

    #[test]
    fn a_downgrade_frees_the_seat_unless_the_user_still_holds_one() {
        assert!(frees_seat("downgrade", Some(true), Some(false)));
        assert!(frees_seat("downgrade", Some(true), None), "re-read failed");
        assert!(!frees_seat("downgrade", Some(true), Some(true)));
        assert!(!frees_seat("downgrade", Some(false), Some(false)));
    }

    #[test]
    fn a_restore_takes_a_seat_and_never_frees_one() {
        assert!(!frees_seat("reactivate", Some(true), Some(false)));
        assert!(!frees_seat("reactivate", Some(false), Some(true)));
        assert!(takes_seat(Some(false), Some(true)));
        assert!(!takes_seat(Some(true), Some(true)));
        assert!(!takes_seat(Some(false), Some(false)));
        assert!(!takes_seat(None, Some(true)));
    }
}
