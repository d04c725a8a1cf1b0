//! Every typed endpoint against the in-process sandbox, compared with its ground truth.

mod common;

use std::collections::BTreeSet;

use chrono::Duration;
use zoom::{
    AccountApi, MeetingListType, ReportUserType, StatusAction, UserStatus, UserType, ZoomClient,
};
use zoom_sandbox::SandboxConfig;
use zoom_sandbox::tenant::Tenant;

/// `client.me()` for the master (index 0), `client.account(id)` for the others.
fn api_for(client: &ZoomClient, tenant: &Tenant, index: u32) -> AccountApi {
    let account = tenant.account(index).unwrap();
    if account.is_master() {
        client.me()
    } else {
        client.account(&account.id)
    }
}

fn tree_indexes(tenant: &Tenant) -> Vec<u32> {
    tenant
        .accounts()
        .iter()
        .filter(|a| a.is_master() || tenant.sub_accounts().iter().any(|s| s.id == a.id))
        .map(|a| a.index)
        .collect()
}

#[tokio::test]
async fn sub_accounts_and_account_details() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let h = common::client(&sb);
    let tenant = &sb.state.tenant;
    let subs = h.client.sub_accounts().collect_all().await.unwrap();
    let expected: BTreeSet<String> = tenant.sub_accounts().iter().map(|a| a.id.clone()).collect();
    let got: BTreeSet<String> = subs.iter().map(|a| a.id.clone()).collect();
    assert_eq!(got, expected);

    for sub in &subs {
        let account = h.client.account(&sub.id).get().await.unwrap();
        assert_eq!(account.id, sub.id);
        let truth = tenant.account_by_id(&sub.id).unwrap();
        assert_eq!(account.account_name, truth.name);
        assert_eq!(
            account.account_type.as_deref(),
            Some(truth.plan.account_type())
        );
        assert_eq!(account.seats, Some(truth.seats as i64));
    }
    let me = h.client.me().get().await.unwrap();
    assert_eq!(me.id, tenant.master_account_id());
    // `account("me")` is the own form as well.
    assert_eq!(h.client.account("me").get().await.unwrap().id, me.id);

    let metrics = h.client.metrics();
    assert_eq!(metrics.requests_by_endpoint["GET /accounts"], 1);
    assert_eq!(
        metrics.requests_by_endpoint["GET /accounts/{accountId}"],
        subs.len() as u64 + 2
    );
}

#[tokio::test]
async fn users_summary_plans_and_usage_match_the_ground_truth() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let h = common::client(&sb);
    let tenant = &sb.state.tenant;
    for index in tree_indexes(tenant) {
        let api = api_for(&h.client, tenant, index);
        let truth = tenant.truth_account(index, true);

        // Users: all three statuses, each exactly once, with type and status as the truth says.
        let mut listed = Vec::new();
        for status in [
            UserStatus::Active,
            UserStatus::Inactive,
            UserStatus::Pending,
        ] {
            for user in api
                .users(status.clone())
                .page_size(7)
                .collect_all()
                .await
                .unwrap()
            {
                assert_eq!(user.status.as_ref(), Some(&status), "{}", user.email);
                listed.push((
                    user.key(),
                    user.user_type.code(),
                    status.as_str().to_string(),
                ));
            }
        }
        let mut expected: Vec<_> = truth
            .users
            .as_ref()
            .unwrap()
            .iter()
            .map(|u| {
                let key = match &u.id {
                    Some(id) => format!("id:{id}"),
                    None => format!("email:{}", u.email.to_ascii_lowercase()),
                };
                (key, u.user_type, u.status.as_str().to_string())
            })
            .collect();
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected, "users of account {}", truth.id);
        // Pending users come without an id.
        let pending = api.users(UserStatus::Pending).collect_all().await.unwrap();
        assert!(pending.iter().all(|u| u.id.is_none()));
        assert_eq!(pending.len() as u32, truth.counts.pending);

        let summary = api.user_summary().await.unwrap();
        assert_eq!(summary.total_users_count, truth.counts.total as i64);
        // Per-type counts leave pending users out (they are counted once, as pending).
        let settled = |t: &str| {
            let c = &truth.counts.by_type[t];
            (c.active + c.inactive) as i64
        };
        assert_eq!(summary.licensed_users_count, settled("2"));
        assert_eq!(summary.basic_users_count, settled("1"));
        assert_eq!(summary.on_prem_users_count, settled("3"));
        assert_eq!(summary.pending_users_count, truth.counts.pending as i64);

        let usage = api.plan_usage().await.unwrap();
        let base = usage.base().expect("plan_base in plan usage");
        assert_eq!(base.usage, Some(truth.counts.plan_usage as i64));
        assert_eq!(base.pending, Some(truth.counts.plan_pending as i64));

        match api.plans().await {
            Ok(plans) => {
                assert_eq!(truth.pay_mode, "master", "plans of {}", truth.id);
                assert_eq!(plans.base().unwrap().hosts, Some(truth.seats as i64));
            }
            Err(e) => {
                assert_ne!(truth.pay_mode, "master", "{e}");
                assert_eq!(e.code(), Some(2100), "{e}");
                assert!(e.tracking_id().is_some());
            }
        }
    }
}

#[tokio::test]
async fn user_get_status_and_type_changes() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let h = common::client(&sb);
    let tenant = &sb.state.tenant;
    let sub = &tenant.sub_accounts()[0];
    let api = h.client.account(&sub.id);
    let truth: Vec<_> = tenant.truth_users(sub.index).collect();

    // `me` as the user id: the master's owner.
    let me = h.client.me().user("me").await.unwrap();
    assert_eq!(
        me.id.as_deref(),
        Some(tenant.master_owner_user_id().as_str())
    );

    // A licensed, active member (not owner/admin).
    let target = truth
        .iter()
        .find(|u| u.user_type == 2 && u.status.as_str() == "active" && u.role_name == "Member")
        .expect("a licensed active member");
    let id = target.id.clone().unwrap();
    let user = api.user(&id).await.unwrap();
    assert_eq!(user.email, target.email);
    assert_eq!(user.user_type, UserType::Licensed);

    let tracking = api
        .update_user_status(&id, StatusAction::Deactivate)
        .await
        .unwrap();
    // Successful writes hand back Zoom's tracking id (audits record it).
    assert!(
        tracking.as_deref().is_some_and(|t| !t.is_empty()),
        "{tracking:?}"
    );
    assert_eq!(
        api.user(&id).await.unwrap().status,
        Some(UserStatus::Inactive)
    );
    api.update_user_status(&id, StatusAction::Activate)
        .await
        .unwrap();
    assert_eq!(
        api.user(&id).await.unwrap().status,
        Some(UserStatus::Active)
    );

    let tracking = api.update_user_type(&id, UserType::Basic).await.unwrap();
    assert!(tracking.is_some());
    assert_eq!(api.user(&id).await.unwrap().user_type, UserType::Basic);

    // The owner cannot be deactivated: a 4xx is returned at once, not retried.
    let owner = tenant.owner_user_id(sub.index);
    let before = h.client.metrics().requests;
    let err = api
        .update_user_status(&owner, StatusAction::Deactivate)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(h.client.metrics().requests, before + 1);

    // Unknown user: 404 code 1001.
    let err = api.user("no-such-user").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.code(), Some(1001));
}

#[tokio::test]
async fn meetings_participants_and_reports() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let h = common::client(&sb);
    let tenant = &sb.state.tenant;

    // Find ended meetings, including one whose UUID needs double encoding.
    let mut tricky = None;
    let mut plain = None;
    let mut host_with_meetings = None;
    for index in tree_indexes(tenant) {
        for u in 0..tenant.user_count(index) {
            let meetings = tenant.meetings(index, u);
            if !meetings.is_empty() && host_with_meetings.is_none() {
                host_with_meetings = Some((index, u, meetings.clone()));
            }
            for m in meetings.into_iter().filter(|m| m.ended) {
                if m.uuid.starts_with('/') || m.uuid.contains("//") {
                    tricky.get_or_insert((index, m));
                } else {
                    plain.get_or_insert((index, m));
                }
            }
        }
    }
    let (host_account, host, meetings) = host_with_meetings.expect("a host");
    let host_user = tenant.user(host_account, host).unwrap();
    let api = api_for(&h.client, tenant, host_account);
    let listed = api
        .user_meetings(&host_user.id, MeetingListType::Scheduled)
        .collect_all()
        .await
        .unwrap();
    let listed_ids: BTreeSet<i64> = listed.iter().filter_map(|m| m.id).collect();
    let expected_ids: BTreeSet<i64> = meetings.iter().map(|m| m.id).collect();
    assert_eq!(listed_ids, expected_ids);

    for (index, meeting) in [
        tricky.expect("a UUID with / or //"),
        plain.expect("a plain UUID"),
    ] {
        let expected = tenant.participants(&meeting);
        let rows = h
            .client
            .past_meeting_participants(&meeting.uuid)
            .page_size(2)
            .collect_all()
            .await
            .unwrap_or_else(|e| panic!("participants of {:?}: {e}", meeting.uuid));
        assert_eq!(rows.len(), expected.len(), "rows of {:?}", meeting.uuid);
        let got: BTreeSet<_> = rows
            .iter()
            .map(|p| (p.user_id.clone().unwrap_or_default(), p.join_time))
            .collect();
        let want: BTreeSet<_> = expected
            .iter()
            .map(|p| (p.user_id.clone(), Some(p.join_time)))
            .collect();
        assert_eq!(got, want);

        let api = api_for(&h.client, tenant, index);
        let report = api
            .report_meeting_participants(&meeting.uuid)
            .collect_all()
            .await
            .unwrap();
        assert_eq!(
            report.len(),
            expected.len(),
            "report rows of {:?}",
            meeting.uuid
        );
    }

    // Reports over the last month.
    let to = tenant.anchor().date_naive();
    let from = to - Duration::days(30);
    for index in tree_indexes(tenant) {
        let api = api_for(&h.client, tenant, index);
        let ids: BTreeSet<String> = tenant.truth_users(index).filter_map(|u| u.id).collect();
        let active = api
            .report_users(ReportUserType::Active, from, to)
            .collect_all()
            .await
            .unwrap();
        for row in &active {
            assert!(ids.contains(row.id.as_deref().unwrap_or("")), "{row:?}");
        }
    }
    let reported = api_for(&h.client, tenant, host_account)
        .report_user_meetings(&host_user.id, from, to)
        .collect_all()
        .await
        .unwrap();
    let host_uuids: BTreeSet<String> = meetings.iter().map(|m| m.uuid.clone()).collect();
    for m in &reported {
        assert!(host_uuids.contains(&m.uuid), "{m:?}");
    }

    // `GET /meetings/{id}`.
    let m = h.client.meeting(&meetings[0].id.to_string()).await.unwrap();
    assert_eq!(m["id"].as_i64(), Some(meetings[0].id));

    let metrics = h.client.metrics();
    assert!(metrics.requests_by_category["Heavy"] > 0);
    assert!(metrics.requests_by_category["Medium"] > 0);
}

/// A clone with counters of its own counts only its requests, and they count in the client's
/// counters too (one unit's figures while the next unit uses the same client).
#[tokio::test]
async fn a_clone_with_own_counters_counts_in_both() {
    let sb = common::sandbox(SandboxConfig::demo()).await;
    let h = common::client(&sb);
    h.client.me().get().await.unwrap();
    let unit = h.client.with_own_counters();
    assert_eq!(unit.metrics().requests, 0, "counts from its start");
    unit.me().get().await.unwrap();
    unit.sub_accounts().collect_all().await.unwrap();
    h.client.me().get().await.unwrap();
    let own = unit.metrics();
    assert_eq!(own.requests, 2, "{own:?}");
    assert_eq!(own.requests_by_endpoint.len(), 2, "{own:?}");
    assert_eq!(h.client.metrics().requests, 4);
    // Its budget is the client's: same limiter.
    assert!(std::sync::Arc::ptr_eq(
        unit.rate_limiter(),
        h.client.rate_limiter()
    ));
}
