//! The oracle against hand-written expectations: tiny tenants built by hand around every
//! boundary (threshold −1/±0/+1 day, the 30/60/90-day bands, midnight, never-active users,
//! every Include combination, seats), all at a fixed anchor so runs are reproducible. Every
//! expected value below is written out by hand, not computed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use oracle::{
    Bands, ExpectedLicense, Kind, Seats, Settings, ZoomAssigned, beyond, days_inactive,
    expect_account, expect_tenant, is_tracked, last_activity, license_id, whole_days, within,
};
use zoom_sandbox::tenant::{AccountKind, UserStatus};
use zoom_sandbox::truth::{AccountTruth, CountsTruth, StatusCounts, TenantTruth, UserTruth};

/// 2026-06-01T00:00:00Z: the fixed "now" of these tests.
fn now() -> DateTime<Utc> {
    at(2026, 6, 1, 0, 0, 0)
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap()
}

fn ago(days: i64, seconds: i64) -> DateTime<Utc> {
    now() - Duration::days(days) - Duration::seconds(seconds)
}

fn settings(free: bool, on_prem: bool, threshold_days: u32) -> Settings {
    Settings {
        include_free_users: free,
        include_on_premises: on_prem,
        threshold_days,
    }
}

/// An active Licensed user created long ago who never did anything.
fn user(id: &str) -> UserTruth {
    UserTruth {
        account_id: "acct".into(),
        id: Some(id.into()),
        email: format!("{id}@example.com"),
        first_name: "First".into(),
        last_name: "Last".into(),
        user_type: 2,
        status: UserStatus::Active,
        role_id: "2".into(),
        role_name: "Member".into(),
        license: "Business".into(),
        user_created_at: at(2024, 1, 1, 0, 0, 0),
        last_login_time: None,
        latest_meeting_created: None,
        latest_meeting_joined: None,
    }
}

fn login(id: &str, t: DateTime<Utc>) -> UserTruth {
    UserTruth {
        last_login_time: Some(t),
        ..user(id)
    }
}

fn of_type(id: &str, user_type: i64, status: UserStatus) -> UserTruth {
    UserTruth {
        user_type,
        status,
        ..login(id, ago(1, 0))
    }
}

fn counts(plan_usage: u32) -> CountsTruth {
    CountsTruth {
        total: 0,
        active: 0,
        inactive: 0,
        pending: 0,
        licensed: 0,
        basic: 0,
        on_prem: 0,
        no_meeting_license: 0,
        none: 0,
        by_type: BTreeMap::new(),
        plan_usage,
        plan_pending: 0,
        licensed_inactive: 0,
    }
}

fn account(id: &str, kind: AccountKind, pay_mode: &str, users: Vec<UserTruth>) -> AccountTruth {
    AccountTruth {
        id: id.into(),
        name: format!("Account {id}"),
        kind,
        parent_id: None,
        plan: "Business".into(),
        plan_code: "business".into(),
        seats: 40,
        pay_mode: pay_mode.into(),
        legacy_on_prem: false,
        counts: counts(7),
        users: Some(users),
    }
}

fn sub(users: Vec<UserTruth>) -> AccountTruth {
    account("acct", AccountKind::Sub, "master", users)
}

fn keys(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn whole_days_are_the_floor_of_elapsed_seconds() {
    assert_eq!(whole_days(ago(60, 0), now()), 60);
    assert_eq!(whole_days(ago(60, 1), now()), 60);
    assert_eq!(whole_days(ago(60, -1), now()), 59);
    assert_eq!(whole_days(ago(61, 0), now()), 61);
    assert_eq!(whole_days(ago(0, 1), now()), 0);
    assert_eq!(whole_days(now(), now()), 0);
    // A time after now: a negative number of days (never beyond any threshold).
    assert_eq!(whole_days(now() + Duration::seconds(1), now()), -1);
}

#[test]
fn threshold_60_exactly_is_within_one_more_day_is_beyond() {
    assert!(!beyond(59, 60));
    assert!(!beyond(60, 60));
    assert!(beyond(61, 60));
    let a = sub(vec![
        login("d59", ago(59, 0)),
        login("d60-1s", ago(60, -1)),
        login("d60", ago(60, 0)),
        login("d60+1s", ago(60, 1)),
        login("d61-1s", ago(61, -1)),
        login("d61", ago(61, 0)),
        login("d62", ago(62, 0)),
    ]);
    let e = expect_account(&a, &settings(false, false, 60), now());
    let days: BTreeMap<&str, i64> = e
        .users
        .values()
        .map(|u| (u.key.as_str(), u.days_inactive))
        .collect();
    assert_eq!(
        days,
        BTreeMap::from([
            ("d59", 59),
            ("d60-1s", 59),
            ("d60", 60),
            ("d60+1s", 60),
            ("d61-1s", 60),
            ("d61", 61),
            ("d62", 62),
        ])
    );
    assert_eq!(e.candidates, keys(&["d61", "d62"]));
    let licensed = &e.licenses["acct:licensed"];
    assert_eq!(licensed.bands.inactive_beyond_threshold, 2);
    assert_eq!(
        (
            licensed.bands.active_30_days,
            licensed.bands.active_60_days,
            licensed.bands.active_90_days
        ),
        (0, 5, 7)
    );
}

#[test]
fn threshold_15_minus_one_same_plus_one_day() {
    let a = sub(vec![
        login("d14", ago(14, 0)),
        login("d15", ago(15, 0)),
        login("d15+23h59m59s", ago(15, 86_399)),
        login("d16", ago(16, 0)),
    ]);
    let e = expect_account(&a, &settings(false, false, 15), now());
    assert_eq!(e.candidates, keys(&["d16"]));
    assert_eq!(e.users["d15+23h59m59s"].days_inactive, 15);
    assert!(!e.users["d15"].candidate);
    assert!(e.users["d16"].candidate);
}

#[test]
fn band_edges_30_60_90() {
    assert!(within(Some(ago(30, 0)), 30, now()));
    assert!(within(Some(ago(30, 1)), 30, now()));
    assert!(!within(Some(ago(31, 0)), 30, now()));
    assert!(!within(None, 30, now()));
    let a = sub(vec![
        login("d30", ago(30, 0)),
        login("d30+1s", ago(30, 1)),
        login("d31", ago(31, 0)),
        login("d60", ago(60, 0)),
        login("d60+1s", ago(60, 1)),
        login("d61", ago(61, 0)),
        login("d90", ago(90, 0)),
        login("d90+1s", ago(90, 1)),
        login("d91", ago(91, 0)),
        user("never"),
    ]);
    let e = expect_account(&a, &settings(false, false, 120), now());
    assert_eq!(
        e.licenses["acct:licensed"].bands,
        Bands {
            active_30_days: 2,
            active_60_days: 5,
            active_90_days: 8,
            // Only "never" (created 2024-01-01, 882 days ago) is beyond 120 days.
            inactive_beyond_threshold: 1,
        }
    );
    assert_eq!(e.candidates, keys(&["never"]));
    assert_eq!(e.users["never"].days_inactive, 882);
}

#[test]
fn midnight_is_elapsed_time_not_calendar_dates() {
    // 2026-04-02T00:00:00Z is exactly 60 days before 2026-06-01T00:00:00Z; 23:59:59 the
    // evening before is 60 days and one second: still 60 whole days, though a calendar
    // difference of dates would say 61.
    let evening = at(2026, 4, 1, 23, 59, 59);
    let midnight = at(2026, 4, 2, 0, 0, 0);
    assert_eq!(whole_days(evening, now()), 60);
    assert_eq!(whole_days(midnight, now()), 60);
    assert_eq!(whole_days(at(2026, 4, 1, 0, 0, 0), now()), 61);
    let a = sub(vec![
        login("evening", evening),
        login("midnight", midnight),
        login("morning-before", at(2026, 4, 1, 0, 0, 0)),
    ]);
    let s = settings(false, false, 60);
    let e = expect_account(&a, &s, now());
    assert_eq!(e.candidates, keys(&["morning-before"]));
    // One second before the next midnight, the evening activity is exactly 61 days old.
    let late = at(2026, 6, 1, 23, 59, 59);
    assert_eq!(whole_days(evening, late), 61);
    assert_eq!(whole_days(midnight, late), 60);
    let e = expect_account(&a, &s, late);
    assert_eq!(e.candidates, keys(&["evening", "morning-before"]));
}

#[test]
fn never_active_users_count_from_creation() {
    let created = |id: &str, t: DateTime<Utc>| UserTruth {
        user_created_at: t,
        ..user(id)
    };
    let a = sub(vec![
        created("new", ago(10, 0)),
        created("c60", ago(60, 0)),
        created("c60+1s", ago(60, 1)),
        created("c61", ago(61, 0)),
        // Old account, recent login: the activity counts, not the creation.
        UserTruth {
            user_created_at: ago(400, 0),
            ..login("old-but-active", ago(10, 0))
        },
    ]);
    let e = expect_account(&a, &settings(false, false, 60), now());
    assert_eq!(e.candidates, keys(&["c61"]));
    assert_eq!(e.users["c60+1s"].days_inactive, 60);
    assert_eq!(e.users["new"].last_activity, None);
    assert_eq!(e.users["old-but-active"].days_inactive, 10);
    // Never-active users are in no band; "old-but-active" is in all three.
    assert_eq!(
        e.licenses["acct:licensed"].bands,
        Bands {
            active_30_days: 1,
            active_60_days: 1,
            active_90_days: 1,
            inactive_beyond_threshold: 1,
        }
    );
}

#[test]
fn last_activity_is_the_latest_of_the_three_signals() {
    let u = UserTruth {
        last_login_time: Some(ago(100, 0)),
        latest_meeting_created: Some(ago(70, 0)),
        latest_meeting_joined: Some(ago(20, 0)),
        ..user("u")
    };
    assert_eq!(last_activity(&u), Some(ago(20, 0)));
    assert_eq!(days_inactive(&u, now()), 20);
    let u = UserTruth {
        last_login_time: Some(ago(5, 0)),
        latest_meeting_created: Some(ago(70, 0)),
        latest_meeting_joined: None,
        ..user("u")
    };
    assert_eq!(last_activity(&u), Some(ago(5, 0)));
    let u = UserTruth {
        latest_meeting_created: Some(ago(61, 0)),
        ..user("u")
    };
    assert_eq!(days_inactive(&u, now()), 61);
    assert_eq!(last_activity(&user("u")), None);
}

/// One active user of each type (1, 2, 3, 4, 99 and an unknown 7).
fn every_type() -> AccountTruth {
    sub(vec![
        of_type("t1", 1, UserStatus::Active),
        of_type("t2", 2, UserStatus::Active),
        of_type("t3", 3, UserStatus::Active),
        of_type("t4", 4, UserStatus::Active),
        of_type("t99", 99, UserStatus::Active),
        of_type("t7", 7, UserStatus::Active),
    ])
}

#[test]
fn tracking_for_every_include_combination() {
    let cases: [(bool, bool, &[&str]); 4] = [
        (false, false, &["t2"]),
        (true, false, &["t1", "t2", "t4", "t99", "t7"]),
        (false, true, &["t2", "t3"]),
        (true, true, &["t1", "t2", "t3", "t4", "t99", "t7"]),
    ];
    let a = every_type();
    for (free, on_prem, tracked) in cases {
        let s = settings(free, on_prem, 60);
        let e = expect_account(&a, &s, now());
        let got: BTreeSet<String> = e.users.keys().cloned().collect();
        assert_eq!(got, keys(tracked), "free {free} on-prem {on_prem}");
        for t in [1, 2, 3, 4, 99, 7] {
            let want = tracked.contains(&format!("t{t}").as_str());
            assert_eq!(
                is_tracked(t, &s),
                want,
                "type {t}, free {free} on-prem {on_prem}"
            );
        }
    }
}

/// License id, name, provisioned, assigned.
type Row<'a> = (&'a str, &'a str, Seats, u64);

#[test]
fn licenses_for_every_include_combination() {
    let a = every_type();
    // (free, on_prem) -> [(id, name, provisioned, assigned)]
    let unlimited = Seats::Unlimited;
    let cases: [(bool, bool, Vec<Row<'_>>); 4] = [
        (
            false,
            false,
            vec![("acct:licensed", "Business", Seats::Count(40), 1)],
        ),
        (
            true,
            false,
            vec![
                ("acct:basic", "Basic", unlimited, 1),
                ("acct:licensed", "Business", Seats::Count(40), 1),
                ("acct:no_meetings_basic", "No Meeting License", unlimited, 1),
                // 99 and the unknown type 7 share "other".
                ("acct:other", "None", unlimited, 2),
            ],
        ),
        (
            false,
            true,
            vec![
                ("acct:licensed", "Business", unlimited, 1),
                ("acct:on_prem", "On-Prem", unlimited, 1),
            ],
        ),
        (
            true,
            true,
            vec![
                ("acct:basic", "Basic", unlimited, 1),
                ("acct:licensed", "Business", unlimited, 1),
                ("acct:no_meetings_basic", "No Meeting License", unlimited, 1),
                ("acct:on_prem", "On-Prem", unlimited, 1),
                ("acct:other", "None", unlimited, 2),
            ],
        ),
    ];
    for (free, on_prem, want) in cases {
        let e = expect_account(&a, &settings(free, on_prem, 60), now());
        let got: Vec<Row<'_>> = e
            .licenses
            .values()
            .map(|l| {
                (
                    l.license_id.as_str(),
                    l.name.as_str(),
                    l.provisioned,
                    l.assigned,
                )
            })
            .collect();
        assert_eq!(got, want, "free {free} on-prem {on_prem}");
    }
}

#[test]
fn seats_count_active_holders_only() {
    let a = sub(vec![
        of_type("a1", 2, UserStatus::Active),
        of_type("a2", 2, UserStatus::Active),
        // A deactivated user holds no seat and is in no band, however old their activity.
        UserTruth {
            status: UserStatus::Inactive,
            ..login("off", ago(300, 0))
        },
        UserTruth {
            id: None,
            status: UserStatus::Pending,
            email: "Invited@Example.com".into(),
            ..user("p")
        },
        // A Basic user who is only pending: the Basic license exists, with no seat.
        UserTruth {
            id: None,
            user_type: 1,
            status: UserStatus::Pending,
            email: "basic-invite@example.com".into(),
            ..user("bp")
        },
    ]);
    let e = expect_account(&a, &settings(true, false, 60), now());
    assert_eq!(
        e.licenses["acct:licensed"],
        ExpectedLicense {
            license_id: "acct:licensed".into(),
            kind: Kind::Licensed,
            name: "Business".into(),
            provisioned: Seats::Count(40),
            assigned: 2,
            active: 2,
            inactive: 1,
            zoom_assigned: ZoomAssigned::Reported(7),
            threshold_days: 60,
            bands: Bands {
                active_30_days: 2,
                active_60_days: 2,
                active_90_days: 2,
                inactive_beyond_threshold: 0,
            },
        }
    );
    assert_eq!(
        e.licenses["acct:basic"],
        ExpectedLicense {
            license_id: "acct:basic".into(),
            kind: Kind::Basic,
            name: "Basic".into(),
            provisioned: Seats::Unlimited,
            assigned: 0,
            active: 0,
            inactive: 0,
            zoom_assigned: ZoomAssigned::NotReported,
            threshold_days: 60,
            bands: Bands::default(),
        }
    );
    assert_eq!(
        e.users.keys().cloned().collect::<BTreeSet<_>>(),
        keys(&[
            "a1",
            "a2",
            "off",
            "email:invited@example.com",
            "email:basic-invite@example.com"
        ])
    );
    assert!(e.candidates.is_empty());
}

#[test]
fn licensed_license_exists_with_no_holder_and_self_pay_has_no_zoom_figure() {
    let a = account(
        "self",
        AccountKind::Sub,
        "sub",
        vec![of_type("b", 1, UserStatus::Active)],
    );
    let e = expect_account(&a, &settings(false, false, 30), now());
    assert_eq!(
        e.licenses.keys().cloned().collect::<Vec<_>>(),
        vec!["self:licensed".to_owned()]
    );
    let l = &e.licenses["self:licensed"];
    assert_eq!((l.assigned, l.active, l.inactive), (0, 0, 0));
    assert_eq!(l.zoom_assigned, ZoomAssigned::Missing);
    assert_eq!(l.bands, Bands::default());
    assert!(e.users.is_empty());
}

#[test]
fn a_tenant_is_its_master_tree_without_the_standalone_account() {
    let t = TenantTruth {
        seed: 1,
        anchor: now(),
        master_account_id: "m".into(),
        master_owner_user_id: "owner".into(),
        standalone_account_id: "alone".into(),
        standalone_owner_user_id: "alone-owner".into(),
        sim_days: Vec::new(),
        accounts: vec![
            account(
                "m",
                AccountKind::Master,
                "master",
                vec![login("m-old", ago(61, 0))],
            ),
            account(
                "alone",
                AccountKind::Standalone,
                "master",
                vec![login("x", ago(100, 0))],
            ),
            account(
                "s",
                AccountKind::Sub,
                "sub",
                vec![login("s-edge", ago(60, 0))],
            ),
        ],
    };
    let e = expect_tenant(&t, &settings(false, false, 60), now());
    let ids: Vec<&str> = e.iter().map(|a| a.account.id.as_str()).collect();
    assert_eq!(ids, ["m", "s"]);
    assert_eq!(e[0].candidates, keys(&["m-old"]));
    assert!(e[1].candidates.is_empty());
    assert_eq!(
        e[0].licenses["m:licensed"].zoom_assigned,
        ZoomAssigned::Reported(7)
    );
    assert_eq!(
        e[1].licenses["s:licensed"].zoom_assigned,
        ZoomAssigned::Missing
    );
    assert_eq!(
        license_id("s", Kind::NoMeetingsBasic),
        "s:no_meetings_basic"
    );
}

/// The oracle shares no code with what it checks: its only dependencies are chrono and the
/// sandbox (the truth's types).
#[test]
fn the_oracle_depends_on_nothing_under_test() {
    let manifest = include_str!("../Cargo.toml");
    let mut section = "";
    let mut deps = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        if section.ends_with("dependencies]")
            && let Some((name, _)) = line.split_once('=')
            && !line.starts_with('#')
        {
            // `chrono.workspace = true` or `chrono = { … }`.
            let name = name.trim();
            deps.push(name.split('.').next().unwrap_or(name).to_owned());
        }
    }
    for d in &deps {
        assert!(
            ["chrono", "serde", "zoom-sandbox"].contains(&d.as_str()),
            "oracle depends on {d}"
        );
    }
    assert!(deps.contains(&"zoom-sandbox".to_owned()), "{deps:?}");
    // Nor does the source name them (it is also compiled inside sync-engine's tests, which
    // could reach them).
    let source = include_str!("../src/lib.rs");
    for forbidden in ["sync_domain", "aws_adapters", "sync_engine", "licensing::"] {
        assert!(
            !source.contains(forbidden),
            "oracle source names {forbidden}"
        );
    }
    for line in source.lines() {
        assert!(
            !line.replace("zoom_sandbox::", "").contains("zoom::"),
            "oracle source names the zoom client: {line}"
        );
    }
}

#[test]
fn zoom_figures_per_kind() {
    let a = every_type();
    let e = expect_account(&a, &settings(true, true, 60), now());
    let got: Vec<(&str, ZoomAssigned)> = e
        .licenses
        .values()
        .map(|l| (l.license_id.as_str(), l.zoom_assigned))
        .collect();
    assert_eq!(
        got,
        [
            ("acct:basic", ZoomAssigned::NotReported),
            ("acct:licensed", ZoomAssigned::Reported(7)),
            ("acct:no_meetings_basic", ZoomAssigned::NotReported),
            // The hand-built counts have no type 3: the summary says 0.
            ("acct:on_prem", ZoomAssigned::OnPremSummary(0)),
            ("acct:other", ZoomAssigned::NotReported),
        ]
    );
}

/// Counts whose type 3 has these active, inactive and pending users.
fn with_type_3(mut a: AccountTruth, active: u32, inactive: u32, pending: u32) -> AccountTruth {
    a.counts.by_type.insert(
        "3".into(),
        StatusCounts {
            active,
            inactive,
            pending,
        },
    );
    a
}

#[test]
fn on_prem_figure_is_the_user_summary() {
    let a = with_type_3(
        sub(vec![
            of_type("on", 3, UserStatus::Active),
            of_type("off", 3, UserStatus::Inactive),
            UserTruth {
                id: None,
                ..of_type("invited", 3, UserStatus::Pending)
            },
        ]),
        1,
        1,
        1,
    );
    let e = expect_account(&a, &settings(false, true, 60), now());
    let l = &e.licenses["acct:on_prem"];
    assert_eq!((l.assigned, l.active, l.inactive), (1, 1, 1));
    // Active + deactivated, not pending: 2, which differs from the 1 seat (a note expected).
    assert_eq!(l.zoom_assigned, ZoomAssigned::OnPremSummary(2));
    assert_eq!(l.provisioned, Seats::Unlimited);
    // Without Include On Premises there is no On-Prem license at all.
    let e = expect_account(&a, &settings(true, false, 60), now());
    assert!(!e.licenses.contains_key("acct:on_prem"));
}

#[test]
fn on_prem_license_exists_when_only_the_summary_counts_them() {
    let a = with_type_3(sub(vec![of_type("p", 2, UserStatus::Active)]), 2, 0, 0);
    let e = expect_account(&a, &settings(false, true, 60), now());
    let l = &e.licenses["acct:on_prem"];
    assert_eq!((l.assigned, l.active, l.inactive), (0, 0, 0));
    assert_eq!(l.zoom_assigned, ZoomAssigned::OnPremSummary(2));
    assert_eq!(l.name, "On-Prem");
    let e = expect_account(&a, &settings(false, false, 60), now());
    assert_eq!(e.licenses.keys().collect::<Vec<_>>(), ["acct:licensed"]);
}
