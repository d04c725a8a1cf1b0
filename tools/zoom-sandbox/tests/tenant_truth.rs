//! The synthetic tenant and its ground truth: determinism, variety, the truth against what the
//! API shows, and simulated days.

mod rest_common;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use rest_common::{enc_uuid, start};
use serde_json::Value;
use zoom_sandbox::tenant::{Role, Tenant, TenantSpec, UserStatus, fixed_anchor};
use zoom_sandbox::truth::AccountTruth;

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let spec = TenantSpec::sized(7, 3, 300).with_anchor(fixed_anchor());
    let a = Tenant::generate(spec.clone());
    let b = Tenant::generate(spec.clone());
    assert_eq!(a.truth(false), b.truth(false));
    let m = |t: &Tenant| {
        (0..t.user_count(1))
            .flat_map(|u| t.meetings(1, u))
            .map(|m| (m.uuid.clone(), t.participants(&m)))
            .collect::<Vec<_>>()
    };
    assert_eq!(m(&a), m(&b));
    let c = Tenant::generate(spec.with_seed(8));
    let (ta, tc) = (a.truth(false), c.truth(false));
    assert_ne!(ta.master_account_id, tc.master_account_id);
    let emails = |t: &zoom_sandbox::truth::TenantTruth| {
        t.accounts
            .iter()
            .flat_map(|a| a.users.iter().flatten().map(|u| u.email.clone()))
            .collect::<HashSet<_>>()
    };
    assert!(emails(&ta).intersection(&emails(&tc)).count() < emails(&ta).len() / 10);
}

#[test]
fn tenants_have_every_kind_of_user() {
    let t = Tenant::generate(TenantSpec::sized(11, 10, 3000).with_anchor(fixed_anchor()));
    let mut types = BTreeMap::new();
    let mut statuses = HashMap::new();
    let (mut never, mut unicode, mut licensed_inactive) = (0, 0, 0);
    for a in t.accounts() {
        let users: Vec<_> = (0..a.users).filter_map(|u| t.user(a.index, u)).collect();
        assert_eq!(users.iter().filter(|u| u.role == Role::Owner).count(), 1);
        assert!(users.iter().any(|u| u.role == Role::Admin));
        for u in &users {
            *types.entry(u.user_type).or_insert(0) += 1;
            *statuses.entry(u.status).or_insert(0) += 1;
            if u.user_type == 3 {
                assert!(a.legacy_on_prem, "On-prem users only on legacy accounts");
            }
            if u.status != UserStatus::Pending && u.last_login_time.is_none() {
                never += 1;
            }
            if !u.first_name.is_ascii() || !u.last_name.is_ascii() {
                unicode += 1;
            }
            assert!(u.email.is_ascii());
            assert!(u.user_created_at <= t.anchor());
            if let Some(l) = u.last_login_time {
                assert!(l >= u.user_created_at && l <= t.anchor());
            }
        }
        let c = t.counts(a.index);
        assert!(
            a.seats >= c.get(2, UserStatus::Active) + c.get(2, UserStatus::Pending),
            "{}: seats {} < seats in use",
            a.name,
            a.seats
        );
        assert_eq!(
            t.seats_used(a.index),
            c.get(2, UserStatus::Active) + c.get(2, UserStatus::Pending)
        );
        licensed_inactive += c.get(2, UserStatus::Inactive);
    }
    for ty in [1, 2, 3, 4, 99] {
        assert!(
            types.get(&ty).copied().unwrap_or(0) > 0,
            "type {ty}: {types:?}"
        );
    }
    for s in UserStatus::ALL {
        assert!(statuses.get(&s).copied().unwrap_or(0) > 0, "{s:?}");
    }
    assert!(never > 0 && unicode > 0);
    assert!(
        licensed_inactive > 10,
        "{licensed_inactive} deactivated users show type 2"
    );
    let plans: HashSet<_> = t.sub_accounts().iter().map(|a| a.plan).collect();
    assert!(plans.len() >= 3, "{plans:?}");
}

#[test]
fn demo_tenant_is_small_and_complete() {
    let t = Tenant::generate(TenantSpec::demo().with_anchor(fixed_anchor()));
    assert_eq!(t.sub_accounts().len(), 2);
    let total: u32 = t.accounts()[..3].iter().map(|a| a.users).sum();
    assert!((20..=60).contains(&total));
    assert!(t.sub_accounts().iter().any(|a| a.legacy_on_prem));
    assert_ne!(t.standalone_account_id(), t.master_account_id());
    assert_eq!(
        t.find_user(&t.master_owner_user_id()).unwrap().role,
        Role::Owner
    );
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().map(|s| s.parse().expect("RFC 3339"))
}

/// What a client learns about activity by walking the REST API of some accounts.
#[derive(Default)]
struct Walked {
    /// Latest join per user id, and the id of the account that hosted that meeting.
    joined: HashMap<String, (DateTime<Utc>, String)>,
    /// Latest meeting creation per host id: listed meetings' `created_at`, instant meetings'
    /// start (from the report API).
    created: HashMap<String, DateTime<Utc>>,
    /// (rows carrying ids of the walked accounts' users, of which from another walked account)
    member_rows: (usize, usize),
    /// Rows carrying the id of a user outside the walked accounts.
    outsider_rows: usize,
    instant_meetings: usize,
    recurring_instances: usize,
}

/// Walk every user of `accounts` through the API only, as a connector would: listed meetings
/// and their ended instances (`/past_meetings/{id}/instances`), instant meetings from the
/// report API (never listed), participants of every ended instance.
async fn walk(api: &rest_common::Api, token: &str, accounts: &[&AccountTruth]) -> Walked {
    let mut w = Walked::default();
    let master = api.sb.state.tenant.master_account_id().to_string();
    let standalone = api.sb.state.tenant.standalone_account_id().to_string();
    let own_form = |id: &str| id == master || id == standalone;
    let ids: HashMap<String, String> = accounts
        .iter()
        .flat_map(|a| {
            a.users
                .iter()
                .flatten()
                .filter_map(|u| u.id.clone().map(|id| (id, a.id.clone())))
        })
        .collect();
    let today = api.sb.state.clock.now().date_naive();
    let oldest = today.checked_sub_months(chrono::Months::new(6)).unwrap();
    for acct in accounts {
        let prefix = if own_form(&acct.id) {
            String::new()
        } else {
            format!("/accounts/{}", acct.id)
        };
        for row in acct.users.as_ref().unwrap() {
            let Some(id) = &row.id else { continue };
            let listed = api
                .list_all_as(
                    token,
                    &format!("{prefix}/users/{id}/meetings"),
                    "meetings",
                    300,
                )
                .await;
            let mut uuids: Vec<String> = Vec::new();
            for m in &listed {
                assert_ne!(m["type"], 1, "instant meetings are never listed: {m}");
                let t = time(&m["created_at"]).unwrap();
                let e = w.created.entry(id.clone()).or_insert(t);
                *e = (*e).max(t);
                let (s, v) = api
                    .get_as(
                        token,
                        &format!("{prefix}/past_meetings/{}/instances", m["id"]),
                    )
                    .await;
                assert_eq!(s, 200, "{v}");
                let instances = v["meetings"].as_array().unwrap();
                if m["type"] == 8 {
                    w.recurring_instances += instances.len();
                } else {
                    assert!(instances.len() <= 1, "{v}");
                }
                uuids.extend(
                    instances
                        .iter()
                        .map(|i| i["uuid"].as_str().unwrap().to_string()),
                );
            }
            // Instant meetings: only the report API shows them (one month at a time, within
            // the last 6 months).
            let mut to = today;
            while to > oldest {
                let from = (to - chrono::Duration::days(30)).max(oldest);
                let report = api
                    .list_all_as(
                        token,
                        &format!("{prefix}/report/users/{id}/meetings?from={from}&to={to}"),
                        "meetings",
                        300,
                    )
                    .await;
                for m in report.iter().filter(|m| m["type"] == 1) {
                    w.instant_meetings += 1;
                    let t = time(&m["start_time"]).unwrap();
                    let e = w.created.entry(id.clone()).or_insert(t);
                    *e = (*e).max(t);
                    uuids.push(m["uuid"].as_str().unwrap().to_string());
                }
                to = from - chrono::Duration::days(1);
            }
            for uuid in uuids {
                let v = api
                    .list_all_as(
                        token,
                        &format!("/past_meetings/{}/participants", enc_uuid(&uuid)),
                        "participants",
                        300,
                    )
                    .await;
                for p in &v {
                    let pid = p["id"].as_str().unwrap();
                    if pid.is_empty() {
                        continue;
                    }
                    let Some(home) = ids.get(pid) else {
                        w.outsider_rows += 1;
                        assert_eq!(p["user_email"], "", "{p}");
                        assert_eq!(p["internal_user"], false, "{p}");
                        continue;
                    };
                    w.member_rows.0 += 1;
                    if *home != acct.id {
                        w.member_rows.1 += 1;
                        assert_eq!(p["user_email"], "", "{p}");
                        assert_eq!(p["internal_user"], false, "{p}");
                    } else {
                        assert_eq!(p["internal_user"], true, "{p}");
                        assert_ne!(p["user_email"], "", "{p}");
                    }
                    let t = time(&p["join_time"]).unwrap();
                    let e = w
                        .joined
                        .entry(pid.to_string())
                        .or_insert((t, acct.id.clone()));
                    if t > e.0 {
                        *e = (t, acct.id.clone());
                    }
                }
            }
        }
    }
    w
}

/// Everything the truth says, rebuilt from API calls only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_equals_what_the_api_shows() {
    let api = start(TenantSpec::sized(41, 3, 160)).await;
    let tenant = &api.sb.state.tenant;
    let truth = tenant.truth(false);
    let tree: Vec<&AccountTruth> = truth.accounts[..truth.accounts.len() - 1].iter().collect();
    for acct in &tree {
        let prefix = api.prefix(&acct.id);
        let rows = acct.users.as_ref().unwrap();
        // Users, every status.
        let mut listed = Vec::new();
        for s in ["active", "inactive", "pending"] {
            listed.extend(
                api.list_all(&format!("{prefix}/users?status={s}"), "users", 300)
                    .await,
            );
        }
        assert_eq!(listed.len(), rows.len());
        let by_email: HashMap<&str, &Value> = listed
            .iter()
            .map(|u| (u["email"].as_str().unwrap(), u))
            .collect();
        for row in rows {
            let u = by_email[row.email.as_str()];
            assert_eq!(u["id"].as_str(), row.id.as_deref());
            assert_eq!(u["first_name"], row.first_name.as_str());
            assert_eq!(u["last_name"], row.last_name.as_str());
            assert_eq!(u["type"].as_i64(), Some(row.user_type));
            assert_eq!(u["status"], serde_json::to_value(row.status).unwrap());
            assert_eq!(u["role_id"], row.role_id.as_str());
            assert_eq!(time(&u["user_created_at"]), Some(row.user_created_at));
            assert_eq!(time(&u["last_login_time"]), row.last_login_time);
            if row.id.is_none() {
                assert_eq!(row.latest_meeting_created, None);
                assert_eq!(row.latest_meeting_joined, None);
            }
        }
        // Counts against summary and plan usage.
        let summary = api.ok(&format!("{prefix}/users/summary")).await;
        let c = &acct.counts;
        assert_eq!(summary["total_users_count"].as_u64(), Some(c.total as u64));
        assert_eq!(
            summary["pending_users_count"].as_u64(),
            Some(c.pending as u64)
        );
        assert_eq!(
            summary["on_prem_users_count"].as_u64(),
            Some((c.on_prem - c.by_type["3"].pending) as u64)
        );
        let active_licensed = listed
            .iter()
            .filter(|u| u["type"] == 2 && u["status"] == "active")
            .count();
        let inactive_licensed = listed
            .iter()
            .filter(|u| u["type"] == 2 && u["status"] == "inactive")
            .count();
        assert_eq!(c.plan_usage as usize, active_licensed);
        assert_eq!(c.licensed_inactive as usize, inactive_licensed);
        let me = if prefix.is_empty() {
            "me"
        } else {
            acct.id.as_str()
        };
        let (s, usage) = api.get(&format!("/accounts/{me}/plans/usage")).await;
        if acct.pay_mode == "sub" {
            // The master cannot see a self-paying sub account's usage.
            assert_eq!((s, usage["code"].as_i64()), (400, Some(2100)), "{usage}");
        } else {
            assert_eq!(s, 200, "{usage}");
            assert_eq!(
                usage["plan_base"]["usage"].as_u64(),
                Some(active_licensed as u64)
            );
            assert_eq!(
                usage["plan_base"]["pending"].as_u64(),
                Some(c.plan_pending as u64)
            );
            assert_eq!(
                usage["plan_base"]["hosts"].as_u64(),
                Some(acct.seats as u64)
            );
        }
        assert!(acct.seats >= c.plan_usage + c.plan_pending);
        assert_eq!(
            c.total,
            c.licensed + c.basic + c.on_prem + c.no_meeting_license + c.none
        );
    }

    // Activity, organisation-wide, from the API only.
    let w = walk(&api, &api.token, &tree).await;
    let (mut compared, mut only_elsewhere) = (0, 0);
    for acct in &tree {
        for row in acct.users.as_ref().unwrap() {
            let Some(id) = &row.id else { continue };
            assert_eq!(
                w.created.get(id).copied(),
                row.latest_meeting_created,
                "created: {}",
                row.email
            );
            let got = w.joined.get(id);
            assert_eq!(
                got.map(|(t, _)| *t),
                row.latest_meeting_joined,
                "joined: {}",
                row.email
            );
            compared += row.latest_meeting_joined.is_some() as usize;
            // The latest join happened in a meeting of another account of the tree.
            only_elsewhere += got.is_some_and(|(_, host)| *host != acct.id) as usize;
        }
    }
    println!(
        "{compared} users joined, {only_elsewhere} last in another account; member rows {:?}, \
         {} outsider rows, {} instant meetings, {} recurring instances",
        w.member_rows, w.outsider_rows, w.instant_meetings, w.recurring_instances
    );
    assert!(compared > 50, "only {compared} users ever joined");
    assert!(
        only_elsewhere > 5,
        "{only_elsewhere} users whose latest join was in another account"
    );
    let (rows, cross) = w.member_rows;
    let share = cross as f64 / rows as f64;
    assert!((0.2..0.4).contains(&share), "cross-account share {share}");
    assert!(w.outsider_rows > 0);
    assert!(w.instant_meetings > 10 && w.recurring_instances > 20);

    // The standalone account is its own organisation: tree meetings' rows carrying its users'
    // ids do not count for them.
    let standalone = truth.accounts.last().unwrap();
    let token = api.standalone_token();
    let ws = walk(&api, &token, &[standalone]).await;
    for row in standalone.users.as_ref().unwrap() {
        let Some(id) = &row.id else { continue };
        assert_eq!(
            ws.joined.get(id).map(|(t, _)| *t),
            row.latest_meeting_joined,
            "{}",
            row.email
        );
    }
    assert_eq!(ws.member_rows.1, 0);
}

#[tokio::test]
async fn truth_route_streams_the_same_truth() {
    let api = start(TenantSpec::sized(42, 3, 1200)).await;
    let tenant = &api.sb.state.tenant;
    let base = api.sb.base_url();
    let full: Value = api
        .http
        .get(format!("{base}/_sandbox/truth"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(full, serde_json::to_value(tenant.truth(false)).unwrap());
    let summary: Value = api
        .http
        .get(format!("{base}/_sandbox/truth?summary=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary, serde_json::to_value(tenant.truth(true)).unwrap());
    assert!(summary["accounts"][0].get("users").is_none());
    let sub = &tenant.sub_accounts()[1];
    let one: Value = api
        .http
        .get(format!("{base}/_sandbox/truth/accounts/{}", sub.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one, full["accounts"][2]);
}

#[tokio::test]
async fn a_simulated_day_moves_activity_for_a_fraction_of_users() {
    let mut api = start(TenantSpec::sized(43, 2, 600)).await;
    let state = api.sb.state.clone();
    let tenant = &state.tenant;
    let before = tenant.truth(false);
    api.sb.state.clock.advance(86_400);
    api.token = api.sb.state.issue_token_for_tests(&[]).access_token;
    let now = api.sb.state.clock.now();
    let r: Value = api
        .http
        .post(format!(
            "{}/_sandbox/tenant/simulate-day?fraction=0.1",
            api.sb.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["day"], 1);
    let after = tenant.truth(false);
    let (mut logged_in, mut new_meetings, mut new_joins, mut eligible) = (0, 0, 0, 0);
    for (a, b) in before.accounts.iter().zip(&after.accounts) {
        for (u0, u1) in a.users.iter().flatten().zip(b.users.iter().flatten()) {
            assert_eq!(u0.email, u1.email);
            if u0.status == UserStatus::Active {
                eligible += 1;
            }
            if u1.last_login_time != u0.last_login_time {
                logged_in += 1;
                let t = u1.last_login_time.unwrap();
                assert!(
                    t > tenant.anchor() && t <= now,
                    "login {t} within the simulated day"
                );
                assert_eq!(u0.status, UserStatus::Active, "only active users log in");
            }
            if u1.latest_meeting_created != u0.latest_meeting_created {
                new_meetings += 1;
                assert!(u1.latest_meeting_created.unwrap() > tenant.anchor());
            }
            if u1.latest_meeting_joined != u0.latest_meeting_joined {
                new_joins += 1;
            }
        }
    }
    assert_eq!(r["active_users"].as_u64(), Some(logged_in as u64));
    let share = logged_in as f64 / eligible as f64;
    assert!((0.05..0.15).contains(&share), "share {share}");
    assert!(
        new_meetings > 0 && new_joins >= new_meetings,
        "{new_meetings} {new_joins}"
    );
    // The API shows the new meetings and their participants.
    let changed = after.accounts[0]
        .users
        .iter()
        .flatten()
        .zip(before.accounts[0].users.iter().flatten())
        .find(|(u1, u0)| u1.latest_meeting_created != u0.latest_meeting_created)
        .map(|(u1, _)| u1.clone())
        .expect("a master user with a new meeting");
    // The new meeting is listed, or (an instant meeting) only in the report.
    let id = changed.id.clone().unwrap();
    let meetings = api
        .list_all(&format!("/users/{id}/meetings"), "meetings", 300)
        .await;
    let report = api
        .list_all(&format!("/report/users/{id}/meetings"), "meetings", 300)
        .await;
    let (newest, created) = meetings
        .iter()
        .map(|m| (m, time(&m["created_at"])))
        .chain(
            report
                .iter()
                .filter(|m| m["type"] == 1)
                .map(|m| (m, time(&m["start_time"]))),
        )
        .max_by_key(|(_, t)| *t)
        .unwrap();
    assert_eq!(created, changed.latest_meeting_created);
    let parts = api
        .ok(&format!(
            "/past_meetings/{}/participants",
            enc_uuid(newest["uuid"].as_str().unwrap())
        ))
        .await;
    assert!(parts["total_records"].as_u64().unwrap() >= 2);
    // A user deactivated before the next day takes no part in it.
    let (a, u) = (0..tenant.user_count(0))
        .map(|u| (0, u))
        .find(|(a, u)| {
            let user = tenant.user(*a, *u).unwrap();
            user.role == Role::Member && user.status == UserStatus::Active
        })
        .unwrap();
    tenant.set_status(a, u, false).unwrap();
    let login = tenant.user(a, u).unwrap().last_login_time;
    tenant.simulate_day(1.0, now + chrono::Duration::days(1));
    assert_eq!(tenant.user(a, u).unwrap().last_login_time, login);
    // Same seed, same simulated day: same users.
    let other = Tenant::generate(tenant.spec.clone());
    other.simulate_day(0.1, now);
    let t1 = other.truth(false);
    let logins = |t: &zoom_sandbox::truth::TenantTruth| {
        t.accounts
            .iter()
            .flat_map(|a| a.users.iter().flatten().map(|u| u.last_login_time))
            .collect::<Vec<_>>()
    };
    assert_eq!(logins(&t1), logins(&after));
}
