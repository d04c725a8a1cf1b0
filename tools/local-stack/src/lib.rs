//! The local demo's checks: the license figures the connector should have stored for one
//! connection, derived from the Zoom sandbox's ground-truth summary
//! (`GET /_sandbox/truth?summary=true`) by the rules of the License Information task, and the
//! comparison with what the functions stored.
//!
//! It also derives, from the full truth (`GET /_sandbox/truth`, every user's activity), the
//! reclamation candidates per license and the users a reclamation dry run must list.
//!
//! Rules (issue 6): per account, the Licensed plan is always reported; Basic, No Meeting
//! License and None only with Include Free Users; On-Prem only with Include On Premises; a kind
//! is reported when the account holds tracked users of it. Provisioned: with Include On
//! Premises every kind is Unlimited; otherwise Licensed counts the plan's seats and the others
//! are Unlimited. Assigned counts users that are not pending; active and inactive are by status.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Provisioned seats: a count or Unlimited (its own value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seats {
    Count(u64),
    Unlimited,
}

impl fmt::Display for Seats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seats::Count(n) => write!(f, "{n}"),
            Seats::Unlimited => f.write_str("Unlimited"),
        }
    }
}

/// One license row of the report (expected or stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figures {
    pub name: String,
    pub provisioned: Seats,
    pub assigned: u64,
    pub active: u64,
    pub inactive: u64,
}

/// Include options of the connection.
#[derive(Clone, Copy, Debug)]
pub struct Include {
    pub free_users: bool,
    pub on_premises: bool,
}

/// (user type in the truth's `by_type`, license name or `None` for the account's plan).
const KINDS: [(&str, Option<&str>); 5] = [
    ("2", None),
    ("1", Some("Basic")),
    ("3", Some("On-Prem")),
    ("4", Some("No Meeting License")),
    ("99", Some("None")),
];

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// Expected figures per account id (accounts of the master's tree, the stand-alone account
/// excluded) and license name.
pub fn expected(
    truth: &Value,
    include: Include,
) -> Result<BTreeMap<String, BTreeMap<String, Figures>>, String> {
    let standalone = truth["standalone_account_id"].as_str().unwrap_or("");
    let accounts = truth["accounts"]
        .as_array()
        .ok_or("the truth has no accounts")?;
    let mut out = BTreeMap::new();
    for a in accounts {
        let id = a["id"].as_str().ok_or("account without id")?;
        if id == standalone {
            continue;
        }
        let plan = a["plan"].as_str().ok_or("account without plan")?;
        let mut licenses = BTreeMap::new();
        for (ty, name) in KINDS {
            let counts = &a["counts"]["by_type"][ty];
            let (active, inactive, pending) = (
                u(&counts["active"]),
                u(&counts["inactive"]),
                u(&counts["pending"]),
            );
            let tracked = match ty {
                "2" => true,
                "3" => include.on_premises,
                _ => include.free_users,
            };
            if !tracked || (ty != "2" && active + inactive + pending == 0) {
                continue;
            }
            let provisioned = if include.on_premises || ty != "2" {
                Seats::Unlimited
            } else {
                Seats::Count(u(&a["seats"]))
            };
            let name = name.unwrap_or(plan).to_owned();
            licenses.insert(
                name.clone(),
                Figures {
                    name,
                    provisioned,
                    // A deactivated user holds no seat.
                    assigned: active,
                    active,
                    inactive,
                },
            );
        }
        out.insert(id.to_owned(), licenses);
    }
    Ok(out)
}

/// Every difference between expected and stored figures, as readable lines.
pub fn differences(
    expected: &BTreeMap<String, BTreeMap<String, Figures>>,
    stored: &BTreeMap<String, BTreeMap<String, Figures>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (account, want) in expected {
        let Some(have) = stored.get(account) else {
            out.push(format!("account {account}: no licenses stored"));
            continue;
        };
        for (name, w) in want {
            match have.get(name) {
                None => out.push(format!("account {account}: license {name} missing")),
                Some(h) if h != w => out.push(format!(
                    "account {account}, {name}: stored provisioned {} assigned {} active {} inactive {}, truth {} / {} / {} / {}",
                    h.provisioned, h.assigned, h.active, h.inactive,
                    w.provisioned, w.assigned, w.active, w.inactive
                )),
                Some(_) => {}
            }
        }
        for name in have.keys().filter(|n| !want.contains_key(*n)) {
            out.push(format!("account {account}: unexpected license {name}"));
        }
    }
    for account in stored.keys().filter(|a| !expected.contains_key(*a)) {
        out.push(format!("account {account}: not in the master's tree"));
    }
    out
}

/// One user of the sandbox's full ground truth (`GET /_sandbox/truth`), with what the
/// inactivity rules need.
#[derive(Clone, Debug)]
pub struct TruthUser {
    pub account_id: String,
    pub id: Option<String>,
    pub email: String,
    pub user_type: i64,
    pub status: String,
    pub role_name: String,
    /// The license name the connector records for the user.
    pub license: String,
    /// The latest of last login, meeting created and meeting joined; else the creation time
    /// (the roster's active date), as the connector counts inactivity.
    pub last_activity: Option<DateTime<Utc>>,
}

impl TruthUser {
    /// Whole days without activity at `now` (0 for future times), as the connector counts them.
    pub fn days_inactive(&self, now: DateTime<Utc>) -> Option<i64> {
        self.last_activity.map(|t| (now - t).num_days().max(0))
    }

    fn is_paid(&self) -> bool {
        matches!(self.user_type, 2 | 3)
    }

    fn is_tracked(&self, include: Include) -> bool {
        match self.user_type {
            2 => true,
            3 => include.on_premises,
            _ => include.free_users,
        }
    }
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// The users of the master's tree (the stand-alone account excluded) from the full truth.
pub fn truth_users(truth: &Value) -> Result<Vec<TruthUser>, String> {
    let standalone = truth["standalone_account_id"].as_str().unwrap_or("");
    let accounts = truth["accounts"]
        .as_array()
        .ok_or("the truth has no accounts")?;
    let mut out = Vec::new();
    for a in accounts {
        let id = a["id"].as_str().ok_or("account without id")?;
        if id == standalone {
            continue;
        }
        let users = a["users"]
            .as_array()
            .ok_or("the truth has no users (fetch it without ?summary=true)")?;
        for u in users {
            let activity = [
                "last_login_time",
                "latest_meeting_created",
                "latest_meeting_joined",
            ]
            .iter()
            .filter_map(|k| time(&u[*k]))
            .max();
            out.push(TruthUser {
                account_id: id.to_owned(),
                id: u["id"].as_str().map(str::to_owned),
                email: u["email"].as_str().unwrap_or("").to_owned(),
                user_type: u["type"].as_i64().ok_or("user without type")?,
                status: u["status"].as_str().unwrap_or("").to_owned(),
                role_name: u["role_name"].as_str().unwrap_or("").to_owned(),
                license: u["license"].as_str().unwrap_or("").to_owned(),
                last_activity: activity.or_else(|| time(&u["user_created_at"])),
            });
        }
    }
    Ok(out)
}

/// Reclamation candidates per account and license by the License Differentiation rule: users
/// with status active of a tracked license, inactive for more than `threshold_days`. The task
/// ran at an unknown moment between `from` and `to`; since inactivity only grows with time,
/// the count lies between the count at `from` and the count at `to` (inclusive).
pub fn expected_candidate_counts(
    users: &[TruthUser],
    include: Include,
    threshold_days: u32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<(String, String), (u64, u64)> {
    let mut out: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    let beyond = |u: &TruthUser, now| {
        u.days_inactive(now)
            .is_some_and(|d| d > i64::from(threshold_days))
    };
    for u in users
        .iter()
        .filter(|u| u.status == "active" && u.is_tracked(include))
    {
        let e = out
            .entry((u.account_id.clone(), u.license.clone()))
            .or_default();
        e.0 += u64::from(beyond(u, from));
        e.1 += u64::from(beyond(u, to));
    }
    out
}

/// The users a reclamation dry run with `{"policy": {"inactive_days": N}}` must report as
/// `would_act`: active Members holding a paid license (Licensed or On-Prem) without activity
/// for at least N days (owners and admins are refused). Returns (certainly, possibly): users
/// inactive long enough at `from` must be listed, and only users inactive long enough at `to`
/// may be listed (the run happened in between).
pub fn expected_reclamation(
    users: &[TruthUser],
    inactive_days: u32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let at = |now| -> BTreeSet<String> {
        users
            .iter()
            .filter(|u| u.status == "active" && u.is_paid() && u.role_name == "Member")
            .filter(|u| {
                u.days_inactive(now)
                    .is_some_and(|d| d >= i64::from(inactive_days))
            })
            .filter_map(|u| u.id.clone())
            .collect()
    };
    (at(from), at(to))
}

/// What differs between a user export's rows (column → cell) and the truth: `all_users` must
/// hold every tracked user of the master's tree once, with the truth's status, and flag as
/// candidate only users with status active inactive beyond the threshold at `to` (and every
/// one already so at `from`); `underutilized` must hold exactly those candidates.
pub fn export_differences(
    kind: &str,
    rows: &[BTreeMap<String, String>],
    users: &[TruthUser],
    include: Include,
    threshold_days: u32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<String> {
    let mut out = Vec::new();
    let tracked: BTreeMap<(String, String), &TruthUser> = users
        .iter()
        .filter(|u| u.is_tracked(include))
        .map(|u| ((u.account_id.clone(), u.email.clone()), u))
        .collect();
    let beyond = |u: &TruthUser, now| {
        u.status == "active"
            && u.days_inactive(now)
                .is_some_and(|d| d > i64::from(threshold_days))
    };
    let mut seen = BTreeSet::new();
    for r in rows {
        let get = |k: &str| r.get(k).map(String::as_str).unwrap_or("");
        let key = (get("account_id").to_owned(), get("email").to_owned());
        if !seen.insert(key.clone()) {
            out.push(format!("{key:?}: more than one row"));
        }
        let Some(u) = tracked.get(&key) else {
            out.push(format!("{key:?}: not a tracked user of the truth"));
            continue;
        };
        let candidate = match kind {
            "all_users" => {
                if get("status") != u.status {
                    out.push(format!("{key:?}: status {} != {}", get("status"), u.status));
                }
                matches!(get("candidate"), "yes" | "true")
            }
            _ => true,
        };
        if candidate && !beyond(u, to) {
            out.push(format!(
                "{key:?}: a candidate, but not inactive beyond {threshold_days} days"
            ));
        }
        if !candidate && beyond(u, from) {
            out.push(format!(
                "{key:?}: inactive beyond {threshold_days} days, but no candidate"
            ));
        }
    }
    for (key, u) in &tracked {
        let listed = match kind {
            "all_users" => true,
            _ => beyond(u, from),
        };
        if listed && !seen.contains(key) {
            out.push(format!("{key:?}: missing from the export"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn truth() -> Value {
        json!({
            "standalone_account_id": "solo",
            "accounts": [
                {"id": "m", "plan": "Business", "seats": 10, "counts": {"by_type": {
                    "1": {"active": 2, "inactive": 1, "pending": 0},
                    "2": {"active": 5, "inactive": 2, "pending": 1},
                    "3": {"active": 0, "inactive": 0, "pending": 0}}}},
                {"id": "s", "plan": "Education", "seats": 3, "counts": {"by_type": {
                    "2": {"active": 0, "inactive": 0, "pending": 0},
                    "3": {"active": 1, "inactive": 0, "pending": 0}}}},
                {"id": "solo", "plan": "Pro", "seats": 1, "counts": {"by_type": {}}}
            ]
        })
    }

    #[test]
    fn licensed_only_counts_seats_without_on_prem() {
        let e = expected(
            &truth(),
            Include {
                free_users: false,
                on_premises: false,
            },
        )
        .unwrap();
        assert_eq!(
            e.keys().collect::<Vec<_>>(),
            ["m", "s"],
            "stand-alone excluded"
        );
        let m = &e["m"];
        assert_eq!(m.keys().collect::<Vec<_>>(), ["Business"]);
        assert_eq!(m["Business"].provisioned, Seats::Count(10));
        assert_eq!(
            (
                m["Business"].assigned,
                m["Business"].active,
                m["Business"].inactive
            ),
            // A deactivated user holds no seat.
            (5, 5, 2)
        );
        // An account without licensed users still reports its plan.
        assert_eq!(e["s"]["Education"].assigned, 0);
    }

    #[test]
    fn include_options_add_kinds_and_make_everything_unlimited() {
        let e = expected(
            &truth(),
            Include {
                free_users: true,
                on_premises: true,
            },
        )
        .unwrap();
        assert_eq!(
            e["m"].keys().collect::<Vec<_>>(),
            ["Basic", "Business"],
            "no on-prem users held"
        );
        assert!(e["m"].values().all(|f| f.provisioned == Seats::Unlimited));
        assert_eq!(e["s"].keys().collect::<Vec<_>>(), ["Education", "On-Prem"]);
        let free_only = expected(
            &truth(),
            Include {
                free_users: true,
                on_premises: false,
            },
        )
        .unwrap();
        assert_eq!(free_only["m"]["Basic"].provisioned, Seats::Unlimited);
        assert_eq!(free_only["m"]["Business"].provisioned, Seats::Count(10));
    }

    fn users_truth() -> Value {
        let u = |id: &str, ty: i64, status: &str, role: &str, login: Option<&str>| {
            json!({"id": id, "email": format!("{id}@x.example"), "type": ty, "status": status,
                   "role_name": role, "license": if ty == 2 { "Business" } else { "Basic" },
                   "user_created_at": "2025-01-01T00:00:00Z", "last_login_time": login,
                   "latest_meeting_created": null, "latest_meeting_joined": null})
        };
        json!({
            "standalone_account_id": "solo",
            "accounts": [
                {"id": "m", "users": [
                    u("owner", 2, "active", "Owner", Some("2026-01-01T00:00:00Z")),
                    u("old", 2, "active", "Member", Some("2026-03-01T00:00:00Z")),
                    u("edge", 2, "active", "Member", Some("2026-04-01T12:00:00Z")),
                    u("recent", 2, "active", "Member", Some("2026-06-20T00:00:00Z")),
                    u("gone", 2, "inactive", "Member", Some("2026-01-01T00:00:00Z")),
                    u("basic", 1, "active", "Member", None),
                ]},
                {"id": "solo", "users": [u("other", 2, "active", "Member", None)]}
            ]
        })
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn reclamation_expectations_follow_the_policy_and_the_time_window() {
        let users = truth_users(&users_truth()).unwrap();
        assert_eq!(users.len(), 6, "stand-alone users excluded");
        // 90 days before 2026-06-30T00:00Z is 2026-04-01T00:00Z; "edge" crosses it at noon.
        let (sure, maybe) = expected_reclamation(
            &users,
            90,
            at("2026-06-30T00:00:00Z"),
            at("2026-06-30T00:00:00Z"),
        );
        assert_eq!(sure, maybe);
        assert_eq!(
            sure.into_iter().collect::<Vec<_>>(),
            ["old"],
            "no owner, inactive or Basic user"
        );
        let (sure, maybe) = expected_reclamation(
            &users,
            90,
            at("2026-06-30T00:00:00Z"),
            at("2026-06-30T13:00:00Z"),
        );
        assert_eq!(sure.into_iter().collect::<Vec<_>>(), ["old"]);
        assert_eq!(maybe.into_iter().collect::<Vec<_>>(), ["edge", "old"]);
    }

    #[test]
    fn candidate_counts_use_the_threshold_strictly_and_the_creation_date() {
        let users = truth_users(&users_truth()).unwrap();
        let include = Include {
            free_users: true,
            on_premises: false,
        };
        let now = at("2026-06-30T00:00:00Z");
        let counts = expected_candidate_counts(&users, include, 90, now, now);
        // owner (180 days) and old (121) are beyond 90; edge is 89 days; the never-active Basic
        // user counts from its creation; the deactivated user is not counted.
        assert_eq!(counts[&("m".into(), "Business".into())], (2, 2));
        assert_eq!(counts[&("m".into(), "Basic".into())], (1, 1));
        let licensed_only = Include {
            free_users: false,
            on_premises: false,
        };
        let counts = expected_candidate_counts(&users, licensed_only, 89, now, now);
        assert_eq!(counts.len(), 1);
        assert_eq!(
            counts[&("m".into(), "Business".into())],
            (2, 2),
            "89 days is not beyond 89"
        );
    }

    #[test]
    fn differences_name_what_differs() {
        let want = expected(
            &truth(),
            Include {
                free_users: false,
                on_premises: false,
            },
        )
        .unwrap();
        assert!(differences(&want, &want).is_empty());
        let mut have = want.clone();
        have.get_mut("m")
            .unwrap()
            .get_mut("Business")
            .unwrap()
            .active = 4;
        have.remove("s");
        let d = differences(&want, &have);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("Business") && d[1].contains("account s"));
    }
}
