//! The local demo's checks: the license figures the connector should have stored for one
//! connection, derived from the Zoom sandbox's ground-truth summary
//! (`GET /_sandbox/truth?summary=true`) by the rules of the License Information task, and the
//! comparison with what the functions stored.
//!
//! Rules (issue 6): per account, the Licensed plan is always reported; Basic, No Meeting
//! License and None only with Include Free Users; On-Prem only with Include On Premises; a kind
//! is reported when the account holds tracked users of it. Provisioned: with Include On
//! Premises every kind is Unlimited; otherwise Licensed counts the plan's seats and the others
//! are Unlimited. Assigned counts users that are not pending; active and inactive are by status.

use std::collections::BTreeMap;
use std::fmt;

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
                    assigned: active + inactive,
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
            (7, 5, 2)
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
