//! Activity across the whole organisation (issue #14): cross-account attendees, instant
//! meetings, recurring meetings and their instances, seats as Zoom counts them. Everything is
//! checked through the REST API.

mod rest_common;

use std::collections::{BTreeSet, HashMap};

use reqwest::Method;
use rest_common::{enc_uuid, start};
use serde_json::{Value, json};
use zoom_sandbox::tenant::{MeetingKind, Role, TenantSpec, UserStatus};

#[tokio::test]
async fn recurring_meetings_have_ended_instances_with_their_own_participants() {
    let api = start(TenantSpec::sized(61, 3, 300)).await;
    let tenant = &api.sb.state.tenant;
    // A recurring meeting with at least three ended occurrences, hosted in a sub account.
    let sub = tenant.sub_accounts()[0].clone();
    let m = (0..sub.users)
        .flat_map(|u| tenant.meetings(sub.index, u))
        .find(|m| {
            m.kind == MeetingKind::Recurring
                && tenant
                    .meeting_instances(m)
                    .iter()
                    .filter(|i| i.ended)
                    .count()
                    >= 3
        })
        .expect("a recurring meeting with 3 ended occurrences");
    let host = tenant.user(sub.index, m.host).unwrap();
    // Listed once, as type 8, with the latest ended occurrence's UUID.
    let listed = api
        .list_all(
            &format!("/accounts/{}/users/{}/meetings", sub.id, host.id),
            "meetings",
            300,
        )
        .await;
    let entries: Vec<&Value> = listed.iter().filter(|l| l["id"] == m.id).collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["type"], 8);
    assert_eq!(entries[0]["uuid"], m.uuid.as_str());

    // Every ended instance, un-prefixed and master form alike.
    let v = api.ok(&format!("/past_meetings/{}/instances", m.id)).await;
    let prefixed = api
        .ok(&format!(
            "/accounts/{}/past_meetings/{}/instances",
            sub.id, m.id
        ))
        .await;
    assert_eq!(v, prefixed);
    let instances = v["meetings"].as_array().unwrap();
    assert!(instances.len() >= 3, "{v}");
    let uuids: BTreeSet<&str> = instances
        .iter()
        .map(|i| i["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(uuids.len(), instances.len(), "distinct UUIDs: {v}");
    assert_eq!(
        instances.last().unwrap()["uuid"],
        m.uuid.as_str(),
        "the listed UUID is the latest ended instance"
    );
    let mut people: Vec<BTreeSet<(String, String)>> = Vec::new();
    let mut starts = BTreeSet::new();
    for i in instances {
        let uuid = i["uuid"].as_str().unwrap();
        let rows = api
            .list_all(
                &format!("/past_meetings/{}/participants", enc_uuid(uuid)),
                "participants",
                300,
            )
            .await;
        assert!(rows.len() >= 2);
        assert_eq!(rows[0]["id"], host.id.as_str());
        assert_eq!(rows[0]["join_time"], i["start_time"]);
        starts.insert(i["start_time"].as_str().unwrap().to_string());
        people.push(
            rows.iter()
                .map(|r| {
                    (
                        r["name"].as_str().unwrap().to_string(),
                        r["join_time"].as_str().unwrap().to_string(),
                    )
                })
                .collect(),
        );
        // The report sees the same instance.
        let report = api
            .list_all(
                &format!(
                    "/accounts/{}/report/meetings/{}/participants",
                    sub.id,
                    enc_uuid(uuid)
                ),
                "participants",
                300,
            )
            .await;
        assert_eq!(report.len(), rows.len());
    }
    assert_eq!(starts.len(), instances.len());
    assert!(people.windows(2).all(|w| w[0] != w[1]));
    // The meeting number means the latest ended instance.
    let latest = api
        .list_all(
            &format!("/past_meetings/{}/participants", m.id),
            "participants",
            300,
        )
        .await;
    assert_eq!(
        latest.len(),
        tenant
            .participants(&tenant.meeting_by_uuid(&m.uuid).unwrap())
            .len()
    );
    // GET /meetings/{id}: the series with its occurrences.
    let series = api
        .ok(&format!(
            "/meetings/{}?show_previous_occurrences=true",
            m.id
        ))
        .await;
    assert_eq!(series["type"], 8);
    assert_eq!(
        series["occurrences"].as_array().unwrap().len() as u32,
        m.occurrences
    );

    // A scheduled meeting has its one instance; an unknown number or a UUID: 404 code 3001.
    let single = (0..sub.users)
        .flat_map(|u| tenant.meetings(sub.index, u))
        .find(|m| m.kind == MeetingKind::Scheduled && m.ended)
        .unwrap();
    let v = api
        .ok(&format!("/past_meetings/{}/instances", single.id))
        .await;
    assert_eq!(
        v["meetings"],
        json!([{"uuid": single.uuid, "start_time": zoom_sandbox::tenant::zoom_time(single.start_time)}])
    );
    for bad in ["999".to_string(), enc_uuid(&single.uuid)] {
        let (s, v) = api.get(&format!("/past_meetings/{bad}/instances")).await;
        assert_eq!((s, v["code"].as_i64()), (404, Some(3001)), "{bad}: {v}");
    }
    // The master form addresses the meeting's own account only.
    let other = &tenant.sub_accounts()[1];
    let (s, v) = api
        .get(&format!(
            "/accounts/{}/past_meetings/{}/instances",
            other.id, m.id
        ))
        .await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(3001)), "{v}");
    // No master variant of past participants.
    let (s, v) = api
        .get(&format!(
            "/accounts/{}/past_meetings/{}/participants",
            sub.id, m.id
        ))
        .await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(2300)), "{v}");
    // Scopes: granular instance scopes.
    let token = api.token_with(&["meeting:read:list_past_instances:admin"]);
    assert_eq!(
        api.get_as(&token, &format!("/past_meetings/{}/instances", m.id))
            .await
            .0,
        200
    );
    let (s, v) = api
        .get_as(
            &token,
            &format!("/accounts/{}/past_meetings/{}/instances", sub.id, m.id),
        )
        .await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(4711)), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("meeting:read:list_past_instances:master")
    );
}

#[tokio::test]
async fn instant_meetings_are_reported_but_never_listed() {
    let api = start(TenantSpec::sized(62, 2, 300)).await;
    let tenant = &api.sb.state.tenant;
    let (a, m) = (0..3u32)
        .flat_map(|a| (0..tenant.user_count(a)).map(move |u| (a, u)))
        .flat_map(|(a, u)| tenant.all_meetings(a, u).into_iter().map(move |m| (a, m)))
        .find(|(_, m)| m.kind == MeetingKind::Instant)
        .expect("an instant meeting");
    assert!(m.ended && m.created_at == m.start_time);
    let host = tenant.user(a, m.host).unwrap();
    let prefix = api.prefix(&tenant.account(a).unwrap().id);
    for kind in [
        "scheduled",
        "live",
        "upcoming",
        "upcoming_meetings",
        "previous_meetings",
    ] {
        let listed = api
            .list_all(
                &format!("{prefix}/users/{}/meetings?type={kind}", host.id),
                "meetings",
                300,
            )
            .await;
        assert!(
            listed.iter().all(|l| l["type"] != 1 && l["id"] != m.id),
            "{kind}"
        );
    }
    // The report shows it (with ≥ 2 participants) and counts it.
    let day = m.start_time.date_naive();
    let q = format!("from={}&to={}", day - chrono::Duration::days(3), day);
    let report = api
        .list_all(
            &format!("{prefix}/report/users/{}/meetings?{q}", host.id),
            "meetings",
            300,
        )
        .await;
    let row = report
        .iter()
        .find(|r| r["uuid"] == m.uuid.as_str())
        .expect("in the report");
    assert_eq!(row["type"], 1);
    assert_eq!(row["id"], m.id);
    assert!(row["participants_count"].as_u64().unwrap() >= 2);
    let hosts = api
        .list_all(
            &format!("{prefix}/report/users?type=active&{q}"),
            "users",
            300,
        )
        .await;
    let counted = hosts
        .iter()
        .find(|h| h["id"] == host.id.as_str())
        .expect("an active host");
    assert_eq!(counted["meetings"].as_u64().unwrap() as usize, report.len());
    // Participants, by UUID and by number; the meeting itself.
    let rows = api
        .list_all(
            &format!("/past_meetings/{}/participants", enc_uuid(&m.uuid)),
            "participants",
            300,
        )
        .await;
    assert!(rows.len() >= 2);
    let by_number = api
        .list_all(
            &format!("/past_meetings/{}/participants", m.id),
            "participants",
            300,
        )
        .await;
    assert_eq!(rows, by_number);
    let got = api.ok(&format!("/meetings/{}", m.id)).await;
    assert_eq!(
        (got["type"].as_i64(), got["uuid"].as_str()),
        (Some(1), Some(m.uuid.as_str()))
    );
    let v = api.ok(&format!("/past_meetings/{}/instances", m.id)).await;
    assert_eq!(v["meetings"].as_array().unwrap().len(), 1);
    // The truth counts it as a meeting created by its host.
    let truth = tenant.truth_account(a, true);
    let t = truth
        .users
        .unwrap()
        .into_iter()
        .find(|u| u.id.as_deref() == Some(host.id.as_str()))
        .unwrap();
    assert!(t.latest_meeting_created >= Some(m.start_time));
}

#[tokio::test]
async fn cross_account_rows_look_like_other_accounts_users() {
    // A mid-size tenant; a sample of hosts walked through the API.
    let api = start(TenantSpec::sized(63, 10, 3000)).await;
    let tenant = &api.sb.state.tenant;
    let tree: Vec<u32> = (0..tenant.accounts().len() as u32 - 1).collect();
    let standalone = tenant.accounts().len() as u32 - 1;
    let (mut same, mut cross, mut outsiders, mut instances) = (0usize, 0usize, 0usize, 0usize);
    for &a in &tree {
        for u in (0..tenant.user_count(a)).step_by(17) {
            for m in tenant.ended_instances(a, u) {
                instances += 1;
                let rows = api
                    .list_all(
                        &format!("/past_meetings/{}/participants", enc_uuid(&m.uuid)),
                        "participants",
                        300,
                    )
                    .await;
                let mut seen = HashMap::new();
                for r in &rows {
                    let id = r["id"].as_str().unwrap();
                    if id.is_empty() {
                        assert_eq!(r["internal_user"], false);
                        continue;
                    }
                    let user = tenant.find_user(id).expect("a user Zoom knows");
                    assert_ne!(user.status, UserStatus::Pending);
                    assert!(user.user_created_at < m.start_time);
                    let join = r["join_time"].as_str().unwrap();
                    // One person per instance (a rejoin is a second row of the same person).
                    let first = seen.entry(id.to_string()).or_insert(join.to_string());
                    assert!(first.as_str() <= join);
                    if user.account == a {
                        same += 1;
                        assert_eq!(r["internal_user"], true);
                        assert_eq!(r["user_email"], user.email.as_str());
                    } else {
                        assert_eq!(r["internal_user"], false, "{r}");
                        assert_eq!(r["user_email"], "", "{r}");
                        assert_eq!(r["name"], user.display_name().as_str());
                        if user.account == standalone {
                            outsiders += 1;
                        } else {
                            cross += 1;
                        }
                    }
                }
            }
        }
    }
    let share = cross as f64 / (same + cross) as f64;
    println!(
        "{instances} instances: {same} same-account, {cross} cross-account ({share:.3}), \
         {outsiders} outsider rows"
    );
    assert!((0.2..0.4).contains(&share), "cross-account share {share}");
    assert!(outsiders > 0);
}

#[tokio::test]
async fn plan_usage_counts_seats_in_use() {
    let api = start(TenantSpec::sized(64, 6, 900)).await;
    let tenant = &api.sb.state.tenant;
    let self_pay: Vec<_> = tenant
        .sub_accounts()
        .iter()
        .filter(|a| a.pay_mode == "sub")
        .cloned()
        .collect();
    assert!(!self_pay.is_empty());
    for a in &self_pay {
        let (s, v) = api.get(&format!("/accounts/{}/plans/usage", a.id)).await;
        assert_eq!((s, v["code"].as_i64()), (400, Some(2100)), "{v}");
    }
    // The master's own usage works with `me` and with its id.
    let me = api.ok("/accounts/me/plans/usage").await;
    let by_id = api
        .ok(&format!(
            "/accounts/{}/plans/usage",
            tenant.master_account_id()
        ))
        .await;
    assert_eq!(me, by_id);
    // usage = active Licensed users, as listed.
    let sub = tenant
        .sub_accounts()
        .iter()
        .find(|a| a.pay_mode == "master")
        .unwrap()
        .clone();
    let prefix = format!("/accounts/{}", sub.id);
    let listed = |status: &'static str| {
        let api = &api;
        let prefix = prefix.clone();
        async move {
            api.list_all(&format!("{prefix}/users?status={status}"), "users", 300)
                .await
        }
    };
    let active = listed("active").await;
    let inactive = listed("inactive").await;
    let licensed_active = active.iter().filter(|u| u["type"] == 2).count() as u64;
    let licensed_inactive = inactive.iter().filter(|u| u["type"] == 2).count();
    assert!(
        licensed_inactive > 0,
        "deactivated users still showing type 2"
    );
    let usage = api.ok(&format!("{prefix}/plans/usage")).await;
    assert_eq!(usage["plan_base"]["usage"].as_u64(), Some(licensed_active));
    let truth = tenant.truth_account(sub.index, false);
    assert_eq!(truth.counts.plan_usage as u64, licensed_active);
    assert_eq!(truth.counts.licensed_inactive as usize, licensed_inactive);
    assert!(sub.seats as u64 >= licensed_active + usage["plan_base"]["pending"].as_u64().unwrap());
    // Deactivating a licensed member frees its seat at once.
    let member = (0..sub.users)
        .filter_map(|u| tenant.user(sub.index, u))
        .find(|u| u.role == Role::Member && u.status == UserStatus::Active && u.user_type == 2)
        .unwrap();
    let (s, _) = api
        .send(
            Method::PUT,
            &format!("{prefix}/users/{}/status", member.id),
            json!({"action": "deactivate"}),
        )
        .await;
    assert_eq!(s, 200);
    let usage = api.ok(&format!("{prefix}/plans/usage")).await;
    assert_eq!(
        usage["plan_base"]["usage"].as_u64(),
        Some(licensed_active - 1)
    );
    assert_eq!(
        tenant.truth_account(sub.index, false).counts.plan_usage as u64,
        licensed_active - 1
    );
    // The summary has every count, On-prem included.
    let summary = api.ok(&format!("{prefix}/users/summary")).await;
    for k in [
        "licensed_users_count",
        "basic_users_count",
        "on_prem_users_count",
        "room_users_count",
        "pending_users_count",
        "join_only_users_count",
        "total_users_count",
    ] {
        assert!(summary[k].is_u64(), "{k}: {summary}");
    }
}
