//! Behaviour of the `/v2` endpoints: master and own forms, permissions, scopes, mutations and
//! how they show in listings and counts, UUID encoding, reports.

mod rest_common;

use reqwest::Method;
use rest_common::{enc, enc_uuid, start};
use serde_json::json;
use zoom_sandbox::tenant::{Role, TenantSpec, UserStatus};

#[tokio::test]
async fn master_and_sub_accounts() {
    let api = start(TenantSpec::demo()).await;
    let tenant = &api.sb.state.tenant;
    let v = api.ok("/accounts").await;
    let subs = v["accounts"].as_array().unwrap();
    assert_eq!(subs.len(), 2);
    assert_eq!(v["total_records"], 2);
    for (row, sub) in subs.iter().zip(tenant.sub_accounts()) {
        assert_eq!(row["id"], sub.id.as_str());
        assert_eq!(row["account_type"], sub.plan.account_type());
        assert_eq!(row["seats"], sub.seats);
        let owner = tenant.user(sub.index, 0).unwrap();
        assert_eq!(row["owner_email"], owner.email.as_str());
        let detail = api.ok(&format!("/accounts/{}", sub.id)).await;
        assert_eq!(detail["owner_id"], owner.id.as_str());
        assert_eq!(detail["account_name"], sub.name.as_str());
    }
    // `me` is the master itself.
    let me = api.ok("/accounts/me").await;
    assert_eq!(me["id"], tenant.master_account_id());
    // The standalone account is not a sub account of the master.
    let (s, v) = api
        .get(&format!("/accounts/{}", tenant.standalone_account_id()))
        .await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(2001)), "{v}");
    let (s, v) = api.get("/accounts/nope/users").await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(2001)), "{v}");
}

#[tokio::test]
async fn non_master_account_cannot_call_master_apis() {
    let api = start(TenantSpec::demo()).await;
    let tenant = &api.sb.state.tenant;
    let token = api.standalone_token();
    let sub = &tenant.sub_accounts()[0].id;
    for path in [
        "/accounts".to_string(),
        format!("/accounts/{sub}"),
        format!("/accounts/{sub}/users"),
        format!("/accounts/{}/users", tenant.master_account_id()),
    ] {
        let (s, v) = api.get_as(&token, &path).await;
        assert_eq!(s, 400, "{path}: {v}");
        assert_eq!(v["code"], 200, "{path}: {v}");
        assert_eq!(v["message"], "No permission.");
    }
    // Its own data works, in both forms.
    let own = api.get_as(&token, "/users").await.1;
    let standalone = tenant
        .account_by_id(tenant.standalone_account_id())
        .unwrap();
    assert_eq!(
        own["total_records"].as_u64().unwrap() as u32,
        tenant
            .counts(standalone.index)
            .of_status(UserStatus::Active)
    );
    let me = api.get_as(&token, "/users/me").await.1;
    assert_eq!(me["id"], tenant.standalone_owner_user_id().as_str());
    assert_eq!(me["role_name"], "Owner");
    let acct = api.get_as(&token, "/accounts/me").await.1;
    assert_eq!(acct["id"], tenant.standalone_account_id());
}

#[tokio::test]
async fn missing_scope_names_the_granular_scope() {
    let api = start(TenantSpec::demo()).await;
    let token = api.token_with(&["meeting:read:admin"]);
    let (s, v) = api.get_as(&token, "/users").await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(4711)), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("user:read:list_users:admin"),
        "{v}"
    );
    let sub = api.sb.state.tenant.sub_accounts()[0].id.clone();
    let (s, v) = api.get_as(&token, &format!("/accounts/{sub}/users")).await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(4711)), "{v}");
    assert!(v["message"].as_str().unwrap().contains(":master"), "{v}");
    // Granular scopes alone are enough.
    let token = api.token_with(&["user:read:list_users:master", "user:read:list_users:admin"]);
    assert_eq!(api.get_as(&token, "/users").await.0, 200);
    assert_eq!(
        api.get_as(&token, &format!("/accounts/{sub}/users"))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn deactivation_frees_the_seat_and_shows_everywhere() {
    let api = start(TenantSpec::sized(31, 2, 200)).await;
    let tenant = &api.sb.state.tenant;
    let sub = tenant.sub_accounts()[0].clone();
    let prefix = format!("/accounts/{}", sub.id);
    let member = (0..sub.users)
        .filter_map(|u| tenant.user(sub.index, u))
        .find(|u| u.role == Role::Member && u.status == UserStatus::Active && u.user_type == 2)
        .unwrap();
    let usage = || async {
        api.ok(&format!("{prefix}/plans/usage")).await["plan_base"]["usage"]
            .as_u64()
            .unwrap()
    };
    let usage_before = usage().await;
    let summary_before = api.ok(&format!("{prefix}/users/summary")).await;

    let (s, _) = api
        .send(
            Method::PUT,
            &format!("{prefix}/users/{}/status", member.id),
            json!({"action": "deactivate"}),
        )
        .await;
    assert_eq!(s, 200);
    let after = api.ok(&format!("{prefix}/users/{}", member.id)).await;
    assert_eq!(after["status"], "inactive");
    assert_eq!(after["type"], 2, "the listing keeps the type");
    // The seat is freed: plan usage counts active licensed users only.
    let usage_after = usage().await;
    assert_eq!(usage_after, usage_before - 1);
    // The summary counts users by the type they show.
    let summary_after = api.ok(&format!("{prefix}/users/summary")).await;
    assert_eq!(
        summary_after["licensed_users_count"],
        summary_before["licensed_users_count"]
    );
    let inactive = api
        .list_all(&format!("{prefix}/users?status=inactive"), "users", 300)
        .await;
    assert!(
        inactive
            .iter()
            .any(|u| u["id"] == member.id.as_str() && u["type"] == 2)
    );
    let active = api
        .list_all(&format!("{prefix}/users?status=active"), "users", 300)
        .await;
    assert!(!active.iter().any(|u| u["id"] == member.id.as_str()));
    // The ground truth follows.
    let truth = tenant.truth_account(sub.index, true);
    let row = truth
        .users
        .as_ref()
        .unwrap()
        .iter()
        .find(|u| u.id.as_deref() == Some(member.id.as_str()))
        .unwrap();
    assert_eq!((row.status, row.user_type), (UserStatus::Inactive, 2));
    assert_eq!(truth.counts.plan_usage as u64, usage_after);
    assert_eq!(
        truth.counts.licensed_inactive,
        tenant.counts(sub.index).get(2, UserStatus::Inactive)
    );
    assert!(truth.counts.licensed_inactive >= 1);

    // Reactivation with a free seat: licensed again.
    let activate = |id: String| {
        let api = &api;
        let path = format!("{prefix}/users/{id}/status");
        async move {
            let (s, v) = api
                .send(Method::PUT, &path, json!({"action": "activate"}))
                .await;
            assert_eq!(s, 200, "{v}");
        }
    };
    activate(member.id.clone()).await;
    let again = api.ok(&format!("{prefix}/users/{}", member.id)).await;
    assert_eq!(
        (again["status"].as_str(), again["type"].as_i64()),
        (Some("active"), Some(2))
    );
    assert_eq!(usage().await, usage_before);

    // Deactivate again, fill every seat, then reactivate: no seat, so Basic.
    let (s, _) = api
        .send(
            Method::PUT,
            &format!("{prefix}/users/{}/status", member.id),
            json!({"action": "deactivate"}),
        )
        .await;
    assert_eq!(s, 200);
    let basics: Vec<_> = (0..sub.users)
        .filter_map(|u| tenant.user(sub.index, u))
        .filter(|u| u.status == UserStatus::Active && u.user_type == 1)
        .collect();
    for u in &basics {
        let (s, v) = api
            .send(
                Method::PATCH,
                &format!("{prefix}/users/{}", u.id),
                json!({"type": 2}),
            )
            .await;
        if s != 204 {
            assert_eq!((s, v["code"].as_i64()), (400, Some(2034)), "{v}");
            break;
        }
    }
    assert_eq!(tenant.seats_used(sub.index), sub.seats, "every seat taken");
    activate(member.id.clone()).await;
    let again = api.ok(&format!("{prefix}/users/{}", member.id)).await;
    assert_eq!(
        (again["status"].as_str(), again["type"].as_i64()),
        (Some("active"), Some(1)),
        "no seat left: back as Basic"
    );
    assert!(tenant.seats_used(sub.index) <= sub.seats);
    let truth = tenant.truth_account(sub.index, false);
    assert_eq!(
        truth.counts.plan_usage + truth.counts.plan_pending,
        tenant.seats_used(sub.index)
    );

    // Owners and admins are refused, as Zoom refuses them.
    for u in [0, 1] {
        let id = tenant.user(sub.index, u).unwrap().id;
        let (s, v) = api
            .send(
                Method::PUT,
                &format!("{prefix}/users/{id}/status"),
                json!({"action": "deactivate"}),
            )
            .await;
        assert_eq!((s, v["code"].as_i64()), (400, Some(200)), "{v}");
        let (s, v) = api
            .send(
                Method::PATCH,
                &format!("{prefix}/users/{id}"),
                json!({"type": 1}),
            )
            .await;
        assert_eq!((s, v["code"].as_i64()), (400, Some(200)), "{v}");
    }
    // Unknown action, user of another account.
    let (s, v) = api
        .send(
            Method::PUT,
            &format!("{prefix}/users/{}/status", member.id),
            json!({"action": "explode"}),
        )
        .await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(300)));
    let master_user = tenant.user(0, 2).unwrap();
    let (s, v) = api
        .send(
            Method::PUT,
            &format!("{prefix}/users/{}/status", master_user.id),
            json!({"action": "deactivate"}),
        )
        .await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(1001)));
}

#[tokio::test]
async fn type_changes_respect_seats() {
    let api = start(TenantSpec::sized(32, 0, 400)).await;
    let tenant = &api.sb.state.tenant;
    let a = tenant.account(0).unwrap().clone();
    // Seats taken: active and pending licensed users (plan usage `usage` + `pending`);
    // deactivated users hold none.
    let licensed = |api: &rest_common::Api| {
        let c = api.sb.state.tenant.counts(0);
        c.get(2, UserStatus::Active) + c.get(2, UserStatus::Pending)
    };
    let member = (0..a.users)
        .filter_map(|u| tenant.user(0, u))
        .find(|u| u.role == Role::Member && u.status == UserStatus::Active && u.user_type == 2)
        .unwrap();
    let before = licensed(&api);
    let (s, v) = api
        .send(
            Method::PATCH,
            &format!("/users/{}", member.id),
            json!({"type": 1}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    assert!(v.is_null());
    assert_eq!(licensed(&api), before - 1);
    assert_eq!(api.ok(&format!("/users/{}", member.id)).await["type"], 1);
    // `type` with `zoom_one_type` is refused.
    let (s, v) = api
        .send(
            Method::PATCH,
            &format!("/users/{}", member.id),
            json!({"type": 1, "zoom_one_type": 0}),
        )
        .await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(300)));
    // Upgrading Basic users until the seats run out: then 2034.
    let basics: Vec<_> = (0..a.users)
        .filter_map(|u| tenant.user(0, u))
        .filter(|u| u.status == UserStatus::Active && u.user_type == 1)
        .collect();
    let free = a.seats - licensed(&api);
    assert!(
        basics.len() as u32 > free,
        "need more Basic users than free seats"
    );
    for (i, u) in basics.iter().enumerate() {
        let (s, v) = api
            .send(
                Method::PATCH,
                &format!("/users/{}", u.id),
                json!({"type": 2}),
            )
            .await;
        if (i as u32) < free {
            assert_eq!(s, 204, "{v}");
        } else {
            assert_eq!((s, v["code"].as_i64()), (400, Some(2034)), "{v}");
            break;
        }
    }
    assert_eq!(licensed(&api), a.seats);
}

#[tokio::test]
async fn pending_users_have_no_id_and_are_found_by_email() {
    let api = start(TenantSpec::sized(33, 0, 300)).await;
    let pending = api.list_all("/users?status=pending", "users", 300).await;
    assert!(!pending.is_empty());
    for u in &pending {
        assert!(u.get("id").is_none(), "{u}");
        assert!(u.get("last_login_time").is_none(), "{u}");
    }
    let email = pending[0]["email"].as_str().unwrap();
    let v = api.ok(&format!("/users/{}", enc(email))).await;
    assert_eq!(v["status"], "pending");
    assert!(v.get("id").is_none());
    // Their (internal) id is not an id Zoom would know.
    let (a, u) = api.sb.state.tenant.locate_user(email).unwrap();
    let internal = api.sb.state.tenant.user(a, u).unwrap().id;
    assert_eq!(api.get(&format!("/users/{internal}")).await.0, 404);
    // Pending users cannot be (de)activated.
    let (s, v) = api
        .send(
            Method::PUT,
            &format!("/users/{}/status", enc(email)),
            json!({"action": "activate"}),
        )
        .await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(1000)), "{v}");
}

#[tokio::test]
async fn meeting_uuids_with_slashes_must_be_double_encoded() {
    let api = start(TenantSpec::sized(34, 2, 400)).await;
    let tenant = &api.sb.state.tenant;
    let mut past = Vec::new();
    for a in 0..3 {
        for u in 0..tenant.user_count(a) {
            past.extend(tenant.meetings(a, u).into_iter().filter(|m| m.ended));
        }
    }
    let leading = past
        .iter()
        .find(|m| m.uuid.starts_with('/'))
        .expect("a /UUID");
    let double = past
        .iter()
        .find(|m| !m.uuid.starts_with('/') && m.uuid.contains("//"))
        .expect("a //UUID");
    let plain = past
        .iter()
        .find(|m| m.uuid.contains('/') && !m.uuid.starts_with('/') && !m.uuid.contains("//"))
        .expect("a UUID with a single inner slash");
    for m in [leading, double] {
        for path in [
            format!("/past_meetings/{}/participants", enc_uuid(&m.uuid)),
            format!(
                "/accounts/{}/report/meetings/{}/participants",
                tenant.account(m.account).unwrap().id,
                enc_uuid(&m.uuid)
            ),
        ] {
            let path = path.replace(&format!("/accounts/{}", tenant.master_account_id()), "");
            let v = api.ok(&path).await;
            assert_eq!(
                v["total_records"].as_u64().unwrap() as usize,
                tenant.participants(m).len()
            );
        }
        // Encoded once: 404 code 3001, as Zoom.
        let (s, v) = api
            .get(&format!("/past_meetings/{}/participants", enc(&m.uuid)))
            .await;
        assert_eq!(
            (s, v["code"].as_i64()),
            (404, Some(3001)),
            "{}: {v}",
            m.uuid
        );
    }
    // A plain UUID works encoded once (and twice).
    for encoded in [enc(&plain.uuid), enc(&enc(&plain.uuid))] {
        let v = api
            .ok(&format!("/past_meetings/{encoded}/participants"))
            .await;
        assert!(v["total_records"].as_u64().unwrap() >= 2);
    }
    // By meeting number too.
    let v = api
        .ok(&format!("/past_meetings/{}/participants", plain.id))
        .await;
    assert!(v["total_records"].as_u64().unwrap() >= 2);
}

#[tokio::test]
async fn participants_are_internal_external_and_rejoin() {
    let api = start(TenantSpec::sized(35, 1, 300).with_participants_per_meeting(8)).await;
    let tenant = &api.sb.state.tenant;
    let (mut internal, mut external, mut rejoins) = (0, 0, 0);
    for u in 0..tenant.user_count(0) {
        for m in tenant
            .meetings(0, u)
            .into_iter()
            .filter(|m| m.ended)
            .take(1)
        {
            let rows = api
                .list_all(
                    &format!("/past_meetings/{}/participants", enc_uuid(&m.uuid)),
                    "participants",
                    300,
                )
                .await;
            assert_eq!(
                rows[0]["id"],
                m.host_id.as_str(),
                "the host is a participant"
            );
            let mut ids = std::collections::HashMap::new();
            for r in &rows {
                if r["internal_user"] == true {
                    internal += 1;
                    let user = tenant.find_user(r["id"].as_str().unwrap()).unwrap();
                    assert_eq!(
                        user.account, 0,
                        "internal users belong to the host's account"
                    );
                    assert!(user.status != UserStatus::Pending);
                    assert!(user.user_created_at < m.start_time);
                    assert_eq!(r["user_email"], user.email.as_str());
                    *ids.entry(r["id"].as_str().unwrap().to_string())
                        .or_insert(0) += 1;
                } else {
                    external += 1;
                    // Guests have no id; users of other accounts show an id and no email.
                    if let Some(id) = r["id"].as_str().filter(|id| !id.is_empty()) {
                        let user = tenant.find_user(id).unwrap();
                        assert_ne!(user.account, 0, "{r}");
                        assert_eq!(r["user_email"], "", "{r}");
                        assert_eq!(r["name"], user.display_name().as_str());
                    }
                }
                assert!(r["leave_time"].as_str() >= r["join_time"].as_str());
            }
            rejoins += ids.values().filter(|n| **n > 1).count();
        }
    }
    assert!(
        internal > 50 && external > 20 && rejoins > 0,
        "{internal} {external} {rejoins}"
    );
}

#[tokio::test]
async fn reports_agree_with_meetings() {
    let api = start(TenantSpec::sized(36, 0, 150)).await;
    let tenant = &api.sb.state.tenant;
    let to = tenant.anchor().date_naive();
    let from = to - chrono::Duration::days(30);
    let q = format!("from={from}&to={to}");
    let active = api
        .list_all(&format!("/report/users?type=active&{q}"), "users", 300)
        .await;
    let inactive = api
        .list_all(&format!("/report/users?type=inactive&{q}"), "users", 300)
        .await;
    let non_pending = tenant.counts(0).total() - tenant.counts(0).of_status(UserStatus::Pending);
    assert_eq!((active.len() + inactive.len()) as u32, non_pending);
    assert!(!active.is_empty());
    for row in &active {
        let user = tenant.find_user(row["id"].as_str().unwrap()).unwrap();
        // Every ended instance in range (instant ones, each recurring occurrence), by start.
        let want: Vec<(i64, String)> = tenant
            .ended_instances(0, user.index)
            .into_iter()
            .filter(|m| {
                let d = m.start_time.date_naive();
                d >= from && d <= to
            })
            .map(|m| (m.id, m.uuid))
            .collect();
        assert_eq!(row["meetings"].as_u64().unwrap() as usize, want.len());
        let listed = api
            .list_all(
                &format!("/report/users/{}/meetings?{q}", user.id),
                "meetings",
                300,
            )
            .await;
        let got: Vec<(i64, String)> = listed
            .iter()
            .map(|m| {
                assert!(m["participants_count"].as_u64().unwrap() >= 2, "{m}");
                (
                    m["id"].as_i64().unwrap(),
                    m["uuid"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(got, want);
    }
    // More than a month: error 300.
    let (s, v) = api
        .get(&format!(
            "/report/users?from={}&to={to}",
            to - chrono::Duration::days(60)
        ))
        .await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(300)));
    // Older than 6 months before today: error 300 too, even for a short range.
    let today = api.sb.state.clock.now().date_naive();
    let old = today.checked_sub_months(chrono::Months::new(6)).unwrap() - chrono::Duration::days(2);
    let (s, v) = api
        .get(&format!(
            "/report/users?from={old}&to={}",
            old + chrono::Duration::days(5)
        ))
        .await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(300)), "{v}");
    let recent =
        today.checked_sub_months(chrono::Months::new(6)).unwrap() + chrono::Duration::days(1);
    let (s, v) = api
        .get(&format!(
            "/report/users?from={recent}&to={}",
            recent + chrono::Duration::days(5)
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    // Sign-ins in range.
    let logs = api
        .list_all(&format!("/report/activities?{q}"), "activity_logs", 50)
        .await;
    let want = (0..tenant.user_count(0))
        .filter_map(|u| tenant.user(0, u))
        .filter(|u| {
            u.last_login_time
                .is_some_and(|t| t.date_naive() >= from && t.date_naive() <= to)
        })
        .count();
    assert_eq!(logs.len(), want);
}
