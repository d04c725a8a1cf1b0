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

/// Whether a stored role (name or id) is an account owner's or admin's.
pub fn role_is_privileged(role: &str) -> bool {
    let r = role.trim().to_ascii_lowercase();
    r == "owner" || r == "admin" || r == "0" || r == "1"
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
/// owner or admin, pending, then (unless restoring) recently active.
pub fn pre_check(user: &StoredUser<'_>, threshold: u32, now: DateTime<Utc>) -> Option<Hold> {
    if user.removed {
        return Some(Hold::Removed);
    }
    if user.protected {
        return Some(Hold::Protected);
    }
    if user.role.is_some_and(role_is_privileged) {
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
