//! The synthetic tenant and its ground truth: determinism, variety, the truth against what the
//! API shows, and simulated days.

mod rest_common;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use rest_common::{enc_uuid, start};
use serde_json::Value;
use zoom_sandbox::tenant::{Role, Tenant, TenantSpec, UserStatus, fixed_anchor};

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
    let t = Tenant::generate(TenantSpec::sized(11, 10, 3000));
    let mut types = BTreeMap::new();
    let mut statuses = HashMap::new();
    let (mut never, mut unicode) = (0, 0);
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
            a.seats >= c.of_type(2),
            "{}: seats {} < licensed",
            a.name,
            a.seats
        );
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
    let plans: HashSet<_> = t.sub_accounts().iter().map(|a| a.plan).collect();
    assert!(plans.len() >= 3, "{plans:?}");
}

#[test]
fn demo_tenant_is_small_and_complete() {
    let t = Tenant::generate(TenantSpec::demo());
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

/// Everything the truth says, rebuilt from API calls only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_equals_what_the_api_shows() {
    let api = start(TenantSpec::sized(41, 3, 160)).await;
    let tenant = &api.sb.state.tenant;
    let truth = tenant.truth(false);
    // Latest join per user id, from every past meeting's participants through the API.
    let mut joined: HashMap<String, DateTime<Utc>> = HashMap::new();
    for acct in &truth.accounts[..truth.accounts.len() - 1] {
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
            // Meetings: latest created; participants: latest join.
            let Some(id) = &row.id else {
                assert_eq!(row.latest_meeting_created, None);
                continue;
            };
            let meetings = api
                .list_all(&format!("{prefix}/users/{id}/meetings"), "meetings", 300)
                .await;
            let latest = meetings.iter().filter_map(|m| time(&m["created_at"])).max();
            assert_eq!(latest, row.latest_meeting_created, "{}", row.email);
            for m in &meetings {
                let (s, v) = api
                    .get(&format!(
                        "/past_meetings/{}/participants?page_size=300",
                        enc_uuid(m["uuid"].as_str().unwrap())
                    ))
                    .await;
                if s == 404 {
                    continue; // not ended yet
                }
                assert_eq!(s, 200, "{v}");
                for p in v["participants"].as_array().unwrap() {
                    let pid = p["id"].as_str().unwrap();
                    if pid.is_empty() {
                        continue;
                    }
                    let t = time(&p["join_time"]).unwrap();
                    let e = joined.entry(pid.to_string()).or_insert(t);
                    *e = (*e).max(t);
                }
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
        let me = if prefix.is_empty() {
            "me"
        } else {
            acct.id.as_str()
        };
        let usage = api.ok(&format!("/accounts/{me}/plans/usage")).await;
        assert_eq!(
            usage["plan_base"]["usage"].as_u64(),
            Some(c.plan_usage as u64)
        );
        assert_eq!(
            usage["plan_base"]["hosts"].as_u64(),
            Some(acct.seats as u64)
        );
        assert_eq!(
            c.total,
            c.licensed + c.basic + c.on_prem + c.no_meeting_license + c.none
        );
    }
    let mut compared = 0;
    for acct in &truth.accounts[..truth.accounts.len() - 1] {
        for row in acct.users.as_ref().unwrap() {
            if let Some(id) = &row.id {
                assert_eq!(
                    joined.get(id).copied(),
                    row.latest_meeting_joined,
                    "{}",
                    row.email
                );
                compared += row.latest_meeting_joined.is_some() as usize;
            }
        }
    }
    assert!(compared > 50, "only {compared} users ever joined");
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
    let meetings = api
        .list_all(
            &format!("/users/{}/meetings", changed.id.clone().unwrap()),
            "meetings",
            300,
        )
        .await;
    let newest = meetings
        .iter()
        .max_by_key(|m| m["created_at"].as_str().unwrap().to_string())
        .unwrap();
    assert_eq!(time(&newest["created_at"]), changed.latest_meeting_created);
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
