//! Every access pattern of docs/data-model.md, run against the in-memory fake and against
//! DynamoDB (moto) with the same assertions, so the fake keeps DynamoDB's semantics.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use aws_adapters::backend::{Index, Query, SkCond, query_all};
use aws_adapters::*;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use futures::TryStreamExt;
use ports::*;
use serde_json::json;
use sync_domain::ActivityDates;

macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                super::$name(aws_adapters::Records::in_memory()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dynamodb() {
                let Some(moto) = super::common::moto(stringify!($name)).await else {
                    return;
                };
                super::$name(aws_adapters::Records::dynamo(
                    moto.clients.dynamodb.clone(),
                    moto.table.clone(),
                ))
                .await;
            }
        }
    };
}

fn t(day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).unwrap()
}

fn connection(id: &str, zoom_account: &str) -> ConnectionRecord {
    ConnectionRecord::new(
        id,
        zoom_account,
        ZoomRegion::Na,
        ConnectionSettings::default(),
        t(1),
    )
}

// Connections: insert, get, by Zoom account, CAS update, list (paginated, no Scan), status.
both!(connections);
async fn connections(r: Records) {
    r.insert_connection(&connection("c1", "zA")).await.unwrap();
    assert!(matches!(
        r.insert_connection(&connection("c1", "zA")).await,
        Err(StoreError::ConditionFailed)
    ));
    for i in 0..130 {
        r.insert_connection(&connection(&format!("cx{i:03}"), &format!("z{i}")))
            .await
            .unwrap();
    }
    let got = r.get_connection("c1").await.unwrap().unwrap();
    assert_eq!(got.zoom_account_id, "zA");
    assert_eq!(got.status, ConnectionStatus::Active);
    let by_account = r
        .find_connection_by_zoom_account("zA")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_account.connection_id, "c1");
    assert!(
        r.find_connection_by_zoom_account("nope")
            .await
            .unwrap()
            .is_none()
    );

    // Concurrent updates of different tasks all land (optimistic concurrency retries).
    let mut handles = Vec::new();
    for i in 0..8 {
        let r = r.clone();
        handles.push(tokio::spawn(async move {
            r.record_task_outcome("c1", &format!("task-{i}"), Ok(()), t(2))
                .await
                .unwrap();
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    r.record_task_outcome("c1", "task-0", Err("Zoom said 500".into()), t(3))
        .await
        .unwrap();
    let got = r.get_connection("c1").await.unwrap().unwrap();
    assert_eq!(got.tasks.len(), 8);
    assert_eq!(got.tasks["task-0"].last_success_at, Some(t(2)));
    assert_eq!(
        got.tasks["task-0"].last_error.as_deref(),
        Some("Zoom said 500")
    );
    assert_eq!(got.version, 1 + 9);

    r.mark_needs_reauthorization("c1", "invalid_grant", t(4))
        .await
        .unwrap();
    let got = r.get_connection("c1").await.unwrap().unwrap();
    assert_eq!(
        got.status,
        ConnectionStatus::NeedsReauthorization {
            reason: "invalid_grant".into(),
            since: t(4)
        }
    );
    // Deauthorized stays deauthorized.
    r.update_connection("cx000", &|c| {
        c.status = ConnectionStatus::Deauthorized {
            at: t(5),
            purge_after: t(15),
        }
    })
    .await
    .unwrap();
    r.mark_needs_reauthorization("cx000", "x", t(6))
        .await
        .unwrap();
    assert!(matches!(
        r.get_connection("cx000").await.unwrap().unwrap().status,
        ConnectionStatus::Deauthorized { .. }
    ));
    assert!(matches!(
        r.update_connection("missing", &|_| {}).await,
        Err(StoreError::NotFound(_))
    ));

    let all: Vec<ConnectionRecord> = r.list_connections().try_collect().await.unwrap();
    assert_eq!(all.len(), 131);
    let ids: Vec<&str> = all.iter().map(|c| c.connection_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 131);

    r.delete_connection("cx129").await.unwrap();
    assert!(r.get_connection("cx129").await.unwrap().is_none());
}

// OAuth states: single use (atomic), expiry, TTL attribute.
both!(oauth_states);
async fn oauth_states(r: Records) {
    let now = Utc::now();
    let state = OAuthStateRecord {
        state: "s-1".into(),
        pkce_verifier: zoom::Secret::new("verifier"),
        region: ZoomRegion::Eu,
        settings: ConnectionSettings {
            include_free_users: true.into(),
            include_on_premises: false.into(),
            inactivity_threshold: sync_domain::InactivityThreshold::try_from(90).unwrap(),
        },
        created_at: now,
        expires_at: now + ports::stores::OAUTH_STATE_TTL,
        browser_binding: Some(ports::secret_digest("nonce")),
        invited_by: Some("it@example.com".into()),
        expected_zoom_account_id: None,
    };
    r.put_state(&state).await.unwrap();
    assert!(
        r.put_state(&state).await.is_err(),
        "state values are unique"
    );
    let raw = r
        .table()
        .get("OAUTHSTATE#s-1", "OAUTHSTATE")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw["ttl"], json!(state.expires_at.timestamp()));

    // Ten concurrent consumers: exactly one gets it.
    let mut handles = Vec::new();
    for _ in 0..10 {
        let r = r.clone();
        handles.push(tokio::spawn(async move {
            r.consume_state("s-1", Utc::now()).await.unwrap()
        }));
    }
    let mut winners = Vec::new();
    for h in handles {
        if let Some(s) = h.await.unwrap() {
            winners.push(s);
        }
    }
    assert_eq!(winners, vec![state.clone()]);
    assert!(r.consume_state("s-1", Utc::now()).await.unwrap().is_none());

    // Expired: not handed out (and gone).
    let old = OAuthStateRecord {
        state: "s-old".into(),
        expires_at: now - Duration::seconds(1),
        ..state.clone()
    };
    r.put_state(&old).await.unwrap();
    assert!(r.consume_state("s-old", now).await.unwrap().is_none());
    assert!(
        r.table()
            .get("OAUTHSTATE#s-old", "OAUTHSTATE")
            .await
            .unwrap()
            .is_none()
    );
    assert!(r.consume_state("never", now).await.unwrap().is_none());

    // A state stored before browser binding existed reads back without one (and is then
    // refused by the callback).
    let mut legacy = serde_json::to_value(&state).unwrap();
    for field in ["browser_binding", "invited_by", "expected_zoom_account_id"] {
        legacy.as_object_mut().unwrap().remove(field);
    }
    let decoded: OAuthStateRecord = serde_json::from_value(legacy).unwrap();
    assert_eq!(decoded.browser_binding, None);
}

// Admin-minted connect links: stored under the token's digest, single use, expiry, TTL.
both!(connect_invites);
async fn connect_invites(r: Records) {
    let now = Utc::now();
    let invite = ports::ConnectInviteRecord {
        key: ports::secret_digest("token-1"),
        settings: ConnectionSettings::default(),
        requested_by: "it@example.com".into(),
        zoom_account_id: Some("acct".into()),
        created_at: now,
        expires_at: now + Duration::minutes(60),
    };
    r.put_invite(&invite).await.unwrap();
    assert!(r.put_invite(&invite).await.is_err(), "keys are unique");
    let raw = r
        .table()
        .get(&format!("CONNECTINVITE#{}", invite.key), "CONNECTINVITE")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw["ttl"], json!(invite.expires_at.timestamp()));
    assert!(
        !serde_json::to_string(&raw).unwrap().contains("token-1"),
        "the token itself is never stored"
    );
    let mut handles = Vec::new();
    for _ in 0..10 {
        let r = r.clone();
        let key = invite.key.clone();
        handles.push(tokio::spawn(async move {
            r.consume_invite(&key, Utc::now()).await.unwrap()
        }));
    }
    let mut winners = Vec::new();
    for h in handles {
        if let Some(i) = h.await.unwrap() {
            winners.push(i);
        }
    }
    assert_eq!(winners, vec![invite.clone()], "exactly one consumer");

    let expired = ports::ConnectInviteRecord {
        key: ports::secret_digest("token-2"),
        expires_at: now - Duration::seconds(1),
        ..invite
    };
    r.put_invite(&expired).await.unwrap();
    assert!(r.consume_invite(&expired.key, now).await.unwrap().is_none());
}

fn account(id: &str, kind: AccountKind) -> AccountRecord {
    AccountRecord {
        account_id: id.into(),
        kind,
        name: Some(format!("Account {id}")),
        owner_email: Some(format!("owner@{id}.example")),
        account_type: Some("Business".into()),
        seats: Some(10),
        created_at: Some(t(1)),
        removed_at: None,
    }
}

// Accounts: master and subs per connection; vanished ones marked removed.
both!(accounts);
async fn accounts(r: Records) {
    let all = vec![
        account("master", AccountKind::Master),
        account("sub1", AccountKind::Sub),
        account("sub2", AccountKind::Sub),
    ];
    assert_eq!(r.sync_accounts("c1", &all, t(2)).await.unwrap(), 0);
    assert_eq!(r.sync_accounts("c2", &all[..1], t(2)).await.unwrap(), 0);
    assert_eq!(r.sync_accounts("c1", &all[..2], t(3)).await.unwrap(), 1);
    assert_eq!(r.sync_accounts("c1", &all[..2], t(4)).await.unwrap(), 0);
    let listed: Vec<AccountRecord> = r.list_accounts("c1").try_collect().await.unwrap();
    let by_id: BTreeMap<_, _> = listed.iter().map(|a| (a.account_id.as_str(), a)).collect();
    assert_eq!(by_id.len(), 3);
    assert_eq!(by_id["sub2"].removed_at, Some(t(3)));
    assert_eq!(by_id["sub1"].removed_at, None);
    assert_eq!(by_id["master"].kind, AccountKind::Master);
    // Back again: no longer removed.
    r.sync_accounts("c1", &all, t(5)).await.unwrap();
    let listed: Vec<AccountRecord> = r.list_accounts("c1").try_collect().await.unwrap();
    assert!(listed.iter().all(|a| a.removed_at.is_none()));
    assert_eq!(
        r.list_accounts("c2")
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        1
    );
}

pub fn user(account: &str, i: usize) -> UserRecord {
    UserRecord {
        user_id: Some(format!("u{i:05}-{account}")),
        email: format!("User{i}@{account}.example"),
        first_name: Some(format!("Zoë {i}")),
        last_name: Some("Ωmega".into()),
        user_type: if i.is_multiple_of(3) { 1 } else { 2 },
        status: "active".into(),
        role_id: Some("2".into()),
        role_name: Some("Member".into()),
        account_id: account.into(),
        active_date: Some(t(1) + Duration::minutes(i as i64)),
        license_name: Some(
            if i.is_multiple_of(3) {
                "Basic"
            } else {
                "Business"
            }
            .into(),
        ),
        removed_at: None,
    }
}

// Users: batch upsert, list by account with activity (paginated), get, by id, by email,
// pending users keyed by email, removal and return.
both!(users);
async fn users(r: Records) {
    let mut a: Vec<UserRecord> = (0..150).map(|i| user("acctA", i)).collect();
    let pending = UserRecord {
        user_id: None,
        email: "Pending.Person@acctA.example".into(),
        status: "pending".into(),
        ..user("acctA", 999)
    };
    a.push(pending.clone());
    let b: Vec<UserRecord> = (0..5).map(|i| user("acctB", i)).collect();
    assert_eq!(r.upsert_users("c1", &a).await.unwrap(), 151);
    r.upsert_users("c1", &b).await.unwrap();
    // The same user also in another connection: separate.
    r.upsert_users("c2", &a[..1]).await.unwrap();

    let access: Vec<UserAccess> = (0..150)
        .step_by(2)
        .map(|i| UserAccess {
            user_key: a[i].key(),
            account_id: "acctA".into(),
            dates: ActivityDates {
                last_login: Some(t(2)),
                last_meeting_created: (i % 4 == 0).then(|| t(3)),
                last_meeting_joined: None,
            },
        })
        .collect();
    assert_eq!(r.upsert_access("c1", &access).await.unwrap(), 75);
    let mut sorted = access.clone();
    sorted.sort_by(|x, y| x.user_key.cmp(&y.user_key));
    let listed_access: Vec<UserAccess> = r
        .list_account_access("c1", "acctA")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed_access, sorted);

    let listed: Vec<UserView> = r.list_users("c1", "acctA").try_collect().await.unwrap();
    assert_eq!(listed.len(), 151);
    let expected: BTreeMap<String, &UserRecord> = a.iter().map(|u| (u.key(), u)).collect();
    let access_by_key: BTreeMap<String, &UserAccess> =
        access.iter().map(|x| (x.user_key.clone(), x)).collect();
    for view in &listed {
        assert_eq!(&&view.roster, expected.get(&view.roster.key()).unwrap());
        assert_eq!(
            view.access.as_ref(),
            access_by_key.get(&view.roster.key()).copied()
        );
    }
    assert_eq!(pending.key(), "email:pending.person@accta.example");
    let got = r
        .get_user("c1", "acctA", &pending.key())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.roster, pending);
    assert_eq!(got.access, None);

    let by_id = r
        .find_user_by_id("c1", "u00002-acctA")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_id.roster, a[2]);
    assert_eq!(by_id.access.as_ref(), Some(&access[1]));
    assert!(r.find_user_by_id("c1", "nobody").await.unwrap().is_none());
    let by_email = r
        .find_users_by_email("c1", "USER3@accta.EXAMPLE")
        .await
        .unwrap();
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].roster, a[3]);

    // Users 0..10 vanish from Zoom (the roster marks them removed) and user 20 changes name.
    let mut changed: Vec<UserRecord> = a[..10]
        .iter()
        .map(|u| UserRecord {
            removed_at: Some(t(9)),
            ..u.clone()
        })
        .collect();
    let mut renamed = a[20].clone();
    renamed.first_name = Some("Renamed".into());
    changed.push(renamed);
    assert_eq!(r.upsert_users("c1", &changed).await.unwrap(), 11);
    assert_eq!(
        r.get_user("c1", "acctA", &a[20].key())
            .await
            .unwrap()
            .unwrap()
            .roster
            .first_name
            .as_deref(),
        Some("Renamed")
    );
    let listed: Vec<UserView> = r.list_users("c1", "acctA").try_collect().await.unwrap();
    let removed: Vec<&UserView> = listed.iter().filter(|v| v.roster.is_removed()).collect();
    assert_eq!(removed.len(), 10);
    assert!(removed.iter().all(|v| v.roster.removed_at == Some(t(9))));
    // Access data survives removal; account B untouched.
    assert_eq!(
        r.get_user("c1", "acctA", &a[0].key())
            .await
            .unwrap()
            .unwrap()
            .access
            .as_ref(),
        Some(&access[0])
    );
    assert_eq!(
        r.list_users("c1", "acctB")
            .try_filter(|v| futures::future::ready(!v.roster.is_removed()))
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        5
    );
    // User 0 comes back.
    r.upsert_users("c1", &a[..1]).await.unwrap();
    assert!(
        !r.get_user("c1", "acctA", &a[0].key())
            .await
            .unwrap()
            .unwrap()
            .roster
            .is_removed()
    );
}

fn license(account: &str, id: &str, provisioned: Provisioned) -> LicenseRecord {
    LicenseRecord {
        account_id: account.into(),
        license_id: id.into(),
        name: id.to_uppercase(),
        provisioned,
        assigned: 7,
        active: 5,
        inactive: 2,
        activity: None,
        as_of: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        zoom_assigned: None,
        zoom_assigned_note: None,
        entered_by_hand: false,
    }
}

fn activity(inactive: u64) -> LicenseActivity {
    LicenseActivity {
        active_30_days: 3,
        active_60_days: 4,
        active_90_days: 5,
        threshold_days: 60,
        inactive_beyond_threshold: inactive,
    }
}

// License Information's records and License Differentiation's activity are written apart
// (neither overwrites the other, in any order) and listed joined.
both!(license_activity);
async fn license_activity(r: Records) {
    let business = license("acctA", "business", Provisioned::Count(10));
    let basic = license("acctA", "basic", Provisioned::Unlimited);
    r.replace_account_licenses("c1", "acctA", &[business.clone(), basic.clone()])
        .await
        .unwrap();
    let figures = std::collections::BTreeMap::from([
        ("business".to_string(), activity(2)),
        ("gone".to_string(), activity(9)),
    ]);
    r.replace_account_license_activity("c1", "acctA", &figures)
        .await
        .unwrap();
    // License Information runs again (its records carry no activity): the figures stay.
    let mut newer = business.clone();
    newer.assigned = 8;
    newer.activity = Some(activity(99));
    r.replace_account_licenses("c1", "acctA", &[newer.clone(), basic.clone()])
        .await
        .unwrap();
    let listed: Vec<LicenseRecord> = r
        .list_account_licenses("c1", "acctA")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        listed,
        vec![
            basic.clone(),
            LicenseRecord {
                activity: Some(activity(2)),
                ..newer.clone()
            }
        ]
    );
    // A stand-in is written only where License Information has no record.
    let mut stand_in = business.clone();
    stand_in.assigned = 1;
    assert!(!r.insert_license_if_missing("c1", &stand_in).await.unwrap());
    stand_in.license_id = "on_prem".into();
    assert!(r.insert_license_if_missing("c1", &stand_in).await.unwrap());
    let all: Vec<LicenseRecord> = r.list_licenses("c1").try_collect().await.unwrap();
    let ids: Vec<(&str, u64)> = all
        .iter()
        .map(|l| (l.license_id.as_str(), l.assigned))
        .collect();
    assert_eq!(ids, vec![("basic", 7), ("business", 8), ("on_prem", 1)]);
    // Replacing the activity drops figures of licenses no longer reported.
    r.replace_account_license_activity("c1", "acctA", &Default::default())
        .await
        .unwrap();
    let all: Vec<LicenseRecord> = r.list_licenses("c1").try_collect().await.unwrap();
    assert!(all.iter().all(|l| l.activity.is_none()));
}

// Licenses: replaced per account, listed per connection and per account.
both!(licenses);
async fn licenses(r: Records) {
    let a = vec![
        license("acctA", "business", Provisioned::Count(10)),
        license("acctA", "basic", Provisioned::Unlimited),
        license("acctA", "old_plan", Provisioned::Count(1)),
    ];
    r.replace_account_licenses("c1", "acctA", &a).await.unwrap();
    r.replace_account_licenses(
        "c1",
        "acctB",
        &a[..1]
            .iter()
            .map(|l| LicenseRecord {
                account_id: "acctB".into(),
                ..l.clone()
            })
            .collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    r.replace_account_licenses("c1", "acctA", &a[..2])
        .await
        .unwrap();
    let listed: Vec<LicenseRecord> = r
        .list_account_licenses("c1", "acctA")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed, vec![a[1].clone(), a[0].clone()]);
    assert_eq!(listed[0].provisioned, Provisioned::Unlimited);
    let all: Vec<LicenseRecord> = r.list_licenses("c1").try_collect().await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].account_id, "acctB");
}

// Sync runs newest first; checkpoints compare-and-swap.
both!(runs_and_checkpoints);
async fn runs_and_checkpoints(r: Records) {
    for day in 1..=5 {
        let run = SyncRunRecord {
            run_id: format!("run-{day}"),
            connection_id: "c1".into(),
            task: "application-roster".into(),
            account_id: None,
            started_at: t(day),
            finished_at: Some(t(day) + Duration::minutes(3)),
            status: RunStatus::Succeeded,
            counts: BTreeMap::from([("users".into(), 100 + day as u64)]),
            requests_by_endpoint: BTreeMap::from([("GET /users".into(), 4)]),
            rate_limited: 0,
            retries: 1,
            duration_ms: 180_000,
            error: None,
        };
        r.put_run(&run).await.unwrap();
        let other = SyncRunRecord {
            task: "license-information".into(),
            ..run
        };
        r.put_run(&other).await.unwrap();
    }
    let recent = r.recent_runs("c1", "application-roster", 3).await.unwrap();
    let ids: Vec<&str> = recent.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["run-5", "run-4", "run-3"]);
    assert!(recent.iter().all(|r| r.task == "application-roster"));
    assert_eq!(recent[0].counts["users"], 105);

    assert!(
        r.get_checkpoint("c1", "application-access", "acctA")
            .await
            .unwrap()
            .is_none()
    );
    let cp = Checkpoint {
        connection_id: "c1".into(),
        task: "application-access".into(),
        account_id: "acctA".into(),
        watermark: Some(t(2)),
        cursor: Some("page-3".into()),
        last_full_run_at: Some(t(1)),
        data: json!({"meetings_seen": 12}),
        updated_at: t(2),
        version: 0,
    };
    let stored = r.put_checkpoint(&cp).await.unwrap();
    assert_eq!(stored.version, 1);
    assert!(matches!(
        r.put_checkpoint(&cp).await,
        Err(StoreError::ConditionFailed)
    ));
    let next = Checkpoint {
        cursor: None,
        watermark: Some(t(3)),
        ..stored.clone()
    };
    let stored2 = r.put_checkpoint(&next).await.unwrap();
    assert!(
        matches!(
            r.put_checkpoint(&stored).await,
            Err(StoreError::ConditionFailed)
        ),
        "stale writer loses"
    );
    assert_eq!(
        r.get_checkpoint("c1", "application-access", "acctA")
            .await
            .unwrap(),
        Some(stored2)
    );
    r.delete_checkpoint("c1", "application-access", "acctA")
        .await
        .unwrap();
    assert!(
        r.get_checkpoint("c1", "application-access", "acctA")
            .await
            .unwrap()
            .is_none()
    );
}

// Checkpoint parts: per run, in order, only the counted ones; items over 400 KB refused.
both!(checkpoint_parts);
async fn checkpoint_parts(r: Records) {
    let part = |run: &str, seq: u32, data: serde_json::Value| CheckpointPart {
        connection_id: "c1".into(),
        task: "application-access".into(),
        account_id: "acctA".into(),
        run_id: run.into(),
        seq,
        data,
    };
    // Written out of order, one rewritten, one of another run, one of another account.
    for seq in [2, 0, 1, 3] {
        r.put_checkpoint_part(&part("run-1", seq, json!({ "n": seq })))
            .await
            .unwrap();
    }
    r.put_checkpoint_part(&part("run-1", 1, json!({ "n": "one" })))
        .await
        .unwrap();
    r.put_checkpoint_part(&part("run-0", 0, json!({ "stale": true })))
        .await
        .unwrap();
    let mut other = part("run-1", 0, json!({}));
    other.account_id = "acctB".into();
    r.put_checkpoint_part(&other).await.unwrap();

    let got = r
        .checkpoint_parts("c1", "application-access", "acctA", "run-1", 0..3)
        .await
        .unwrap();
    let data: Vec<_> = got.iter().map(|p| p.data.clone()).collect();
    assert_eq!(
        data,
        vec![json!({"n": 0}), json!({"n": "one"}), json!({"n": 2})]
    );
    let middle = r
        .checkpoint_parts("c1", "application-access", "acctA", "run-1", 1..2)
        .await
        .unwrap();
    assert_eq!(middle.len(), 1);
    assert_eq!(middle[0].data, json!({"n": "one"}));

    // A part near DynamoDB's item limit is refused, one well under it is stored.
    let big = "x".repeat(420 * 1024);
    assert!(
        r.put_checkpoint_part(&part("run-1", 9, json!({ "s": big })))
            .await
            .is_err()
    );
    let fits = "x".repeat(300 * 1024);
    r.put_checkpoint_part(&part("run-1", 4, json!({ "s": fits })))
        .await
        .unwrap();

    // Deleting removes every run's parts of that account, not other accounts'.
    let deleted = r
        .delete_checkpoint_parts("c1", "application-access", "acctA")
        .await
        .unwrap();
    assert_eq!(deleted, 6);
    assert!(
        r.checkpoint_parts("c1", "application-access", "acctA", "run-1", 0..10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        r.checkpoint_parts("c1", "application-access", "acctB", "run-1", 0..10)
            .await
            .unwrap()
            .len(),
        1
    );
}

// Reclamation candidates: written and deleted per user (in the users' partition, not listed as
// users).
both!(candidates);
async fn candidates(r: Records) {
    r.upsert_users("c1", &[user("acctA", 1)]).await.unwrap();
    let candidate = |key: &str, days: i64| ReclamationCandidate {
        account_id: "acctA".into(),
        user_key: key.into(),
        user_id: Some(key.into()),
        email: format!("{key}@example.com"),
        license_id: "acctA:licensed".into(),
        license_name: "Business".into(),
        user_type: 2,
        last_login: Some(t(1)),
        last_meeting_created: None,
        last_meeting_joined: None,
        last_activity: Some(t(1)),
        days_inactive: days,
        threshold_days: 60,
        computed_at: t(20),
    };
    let first = vec![candidate("b", 70), candidate("a", 90), candidate("c", 61)];
    r.put_candidates("c1", &first).await.unwrap();
    let second = vec![candidate("c", 62), candidate("d", 100)];
    // A key twice in one call: the last wins.
    r.put_candidates(
        "c1",
        &[candidate("d", 99), second[0].clone(), second[1].clone()],
    )
    .await
    .unwrap();
    r.delete_candidates(
        "c1",
        "acctA",
        &["a".into(), "b".into(), "b".into(), "zz".into()],
    )
    .await
    .unwrap();
    let listed: Vec<ReclamationCandidate> = r
        .list_account_candidates("c1", "acctA")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed, second);
    assert!(
        r.list_account_candidates("c1", "acctB")
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    let users: Vec<UserView> = r.list_users("c1", "acctA").try_collect().await.unwrap();
    assert_eq!(users.len(), 1);
}

fn entry(request: &str, user_key: &str, at: chrono::DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        request_id: request.into(),
        connection_id: "c1".into(),
        account_id: "acctA".into(),
        user_key: user_key.into(),
        email: Some(format!("{user_key}@example.com")),
        action: "deactivate".into(),
        state: ports::AuditState::Done,
        outcome: "acted".into(),
        reason: Some("inactive 120 days".into()),
        requested_by: "admin@example.com".into(),
        why: "quarterly cleanup".into(),
        before: json!({"status": "active"}),
        after: json!({"status": "inactive"}),
        zoom_tracking_id: Some("trk".into()),
        at,
    }
}

// Audit: request recorded once (replay detection), entries once, by request and by user;
// intents completed once.
both!(audit);
async fn audit(r: Records) {
    let req = AuditRequest {
        request_id: "req-1".into(),
        connection_id: "c1".into(),
        requested_by: "admin@example.com".into(),
        reason: "cleanup".into(),
        action: "deactivate".into(),
        mode: "execute".into(),
        request: json!({"policy": {"inactive_days": 90}}),
        created_at: t(2),
    };
    assert!(r.begin_request(&req).await.unwrap());
    assert!(!r.begin_request(&req).await.unwrap(), "replay detected");
    assert_eq!(r.get_request("req-1").await.unwrap(), Some(req.clone()));
    assert!(r.record_entry(&entry("req-1", "uB", t(2))).await.unwrap());
    assert!(r.record_entry(&entry("req-1", "uA", t(2))).await.unwrap());
    assert!(!r.record_entry(&entry("req-1", "uA", t(3))).await.unwrap());
    assert!(r.record_entry(&entry("req-2", "uA", t(4))).await.unwrap());
    assert!(r.record_entry(&entry("req-0", "uA", t(1))).await.unwrap());
    let entries: Vec<AuditEntry> = r.list_request_entries("req-1").try_collect().await.unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| e.user_key.as_str())
            .collect::<Vec<_>>(),
        ["uA", "uB"]
    );
    assert_eq!(entries[0].at, t(2), "first record kept");
    let by_user: Vec<AuditEntry> = r.list_user_entries("c1", "uA").try_collect().await.unwrap();
    assert_eq!(
        by_user
            .iter()
            .map(|e| e.request_id.as_str())
            .collect::<Vec<_>>(),
        ["req-0", "req-1", "req-2"]
    );

    // An intent (before a Zoom call) is completed once; a finished entry is never replaced.
    let mut intent = entry("req-3", "uA", t(5));
    intent.state = ports::AuditState::Intent;
    intent.outcome = "unknown".into();
    assert!(r.record_entry(&intent).await.unwrap());
    let mut done = intent.clone();
    done.state = ports::AuditState::Done;
    done.outcome = "acted".into();
    assert!(r.complete_entry(&done).await.unwrap());
    let mut late = intent.clone();
    late.state = ports::AuditState::NotApplied;
    assert!(!r.complete_entry(&late).await.unwrap(), "completed once");
    assert!(!r.complete_entry(&entry("req-1", "uA", t(6))).await.unwrap());
    let stored: Vec<AuditEntry> = r.list_request_entries("req-3").try_collect().await.unwrap();
    assert_eq!(stored, vec![done]);
    assert_eq!(
        r.list_request_entries("req-1")
            .try_collect::<Vec<AuditEntry>>()
            .await
            .unwrap(),
        entries
    );
}

// Leases: exclusive, renewable by the owner, released only by the owner, expire. Expiry is
// read from the records' clock, which the test moves: no sleep, so a slow machine (or a slow
// moto) cannot let a lease lapse between two steps, nor keep one alive past its sleep.
both!(leases);
async fn leases(r: Records) {
    let now = Arc::new(std::sync::Mutex::new(t(1)));
    let clock = now.clone();
    let r = r.with_clock(Arc::new(move || *clock.lock().unwrap()));
    let advance = |d: Duration| {
        let mut now = now.lock().unwrap();
        *now += d;
    };
    let ttl = std::time::Duration::from_secs(60);
    assert!(r.acquire("l1", "A", ttl).await.unwrap());
    assert!(!r.acquire("l1", "B", ttl).await.unwrap());
    advance(Duration::seconds(30));
    assert!(
        r.acquire("l1", "A", ttl).await.unwrap(),
        "owner renews (until t+90 s)"
    );
    assert!(
        r.acquire("l2", "B", ttl).await.unwrap(),
        "other names are independent"
    );
    assert!(!r.release("l1", "B").await.unwrap());
    assert_eq!(r.get_lease("l1").await.unwrap().unwrap().owner, "A");
    // A "crashes". At the renewed expiry the lease is still A's; a millisecond later it has
    // expired and B gets it.
    advance(Duration::seconds(60));
    assert!(
        !r.acquire("l1", "B", ttl).await.unwrap(),
        "held until its expiry"
    );
    advance(Duration::milliseconds(1));
    assert!(
        r.acquire("l1", "B", ttl).await.unwrap(),
        "expired: B takes it"
    );
    assert_eq!(r.get_lease("l1").await.unwrap().unwrap().owner, "B");
    assert!(
        !r.acquire("l1", "A", ttl).await.unwrap(),
        "the old holder cannot take it back"
    );
    assert!(
        !r.release("l1", "A").await.unwrap(),
        "the old holder cannot release it"
    );
    assert!(r.release("l1", "B").await.unwrap());
    assert!(r.get_lease("l1").await.unwrap().is_none());
    assert!(r.acquire("l1", "C", ttl).await.unwrap());
}

// Running-task marks: renewed by the holder, expired ones ignored, cleared only by the holder,
// scoped to the connection, and gone with the connection's purge (the learned pace too).
both!(running_tasks);
async fn running_tasks(r: Records) {
    let mark = |cid: &str, task: &str, owner: &str, until| RunningTask {
        connection_id: cid.into(),
        task: task.into(),
        owner: owner.into(),
        until,
    };
    r.insert_connection(&connection("c1", "zA")).await.unwrap();
    r.mark_running(&mark("c1", "application-access", "run-a", t(10)))
        .await
        .unwrap();
    r.mark_running(&mark("c1", "application-roster", "run-r", t(5)))
        .await
        .unwrap();
    r.mark_running(&mark("c2", "license-information", "run-l", t(10)))
        .await
        .unwrap();
    let tasks = |marks: Vec<RunningTask>| {
        let mut names: Vec<String> = marks.into_iter().map(|m| m.task).collect();
        names.sort();
        names
    };
    assert_eq!(
        tasks(r.running_tasks("c1", t(4)).await.unwrap()),
        ["application-access", "application-roster"]
    );
    // The roster mark has expired at day 6 (its holder crashed without clearing it).
    assert_eq!(
        tasks(r.running_tasks("c1", t(6)).await.unwrap()),
        ["application-access"]
    );
    // A heartbeat renews the mark; the connection's other records are untouched.
    r.mark_running(&mark("c1", "application-roster", "run-r", t(20)))
        .await
        .unwrap();
    assert_eq!(r.running_tasks("c1", t(6)).await.unwrap().len(), 2);
    assert!(r.get_connection("c1").await.unwrap().is_some());
    // Only the holder clears its mark.
    r.clear_running("c1", "application-access", "someone-else")
        .await
        .unwrap();
    assert_eq!(r.running_tasks("c1", t(6)).await.unwrap().len(), 2);
    r.clear_running("c1", "application-access", "run-a")
        .await
        .unwrap();
    assert_eq!(
        tasks(r.running_tasks("c1", t(6)).await.unwrap()),
        ["application-roster"]
    );
    assert_eq!(
        tasks(r.running_tasks("c2", t(6)).await.unwrap()),
        ["license-information"]
    );
    // The learned pace: one per connection, the last writer's, gone with the purge too.
    assert!(r.learned_pace("c1").await.unwrap().is_none());
    let pace = |owner: &str, medium: f64| LearnedPace {
        connection_id: "c1".into(),
        paces: [("Medium".to_owned(), medium), ("Heavy".to_owned(), 1.0)].into(),
        owner: owner.into(),
        at: t(3),
    };
    r.record_pace(&pace("run-a", 0.3)).await.unwrap();
    r.record_pace(&pace("run-r", 0.25)).await.unwrap();
    assert_eq!(
        r.learned_pace("c1").await.unwrap(),
        Some(pace("run-r", 0.25))
    );
    assert!(r.learned_pace("c2").await.unwrap().is_none());
    r.purge_connection("c1").await.unwrap();
    assert!(r.running_tasks("c1", t(1)).await.unwrap().is_empty());
    assert!(r.learned_pace("c1").await.unwrap().is_none());
}

// Raw queries page on LastEvaluatedKey, forwards and backwards.
both!(pagination);
async fn pagination(r: Records) {
    let users: Vec<UserRecord> = (0..57).map(|i| user("acctP", i)).collect();
    r.upsert_users("c9", &users).await.unwrap();
    let table: Arc<dyn aws_adapters::backend::Table> = r.table().clone();
    let pk = "CONN#c9#ACCT#acctP".to_string();
    let mut q = Query::new(
        Index::Primary,
        pk.clone(),
        SkCond::BeginsWith("USER#".into()),
    );
    q.limit = Some(7);
    let first = table.query(&q).await.unwrap();
    assert_eq!(first.items.len(), 7);
    assert!(first.next.is_some());
    let all: Vec<_> = query_all(&*table, q.clone()).try_collect().await.unwrap();
    let keys: Vec<String> = all
        .iter()
        .map(|i| i["sk"].as_str().unwrap().to_owned())
        .collect();
    let mut expected: Vec<String> = users.iter().map(|u| format!("USER#{}", u.key())).collect();
    expected.sort();
    assert_eq!(keys, expected);
    // Keys only (what a delete reads): the same keys, and nothing else.
    let keys_only: Vec<_> = query_all(&*table, q.clone().keys_only())
        .try_collect()
        .await
        .unwrap();
    assert!(
        keys_only
            .iter()
            .all(|i| i.len() == 2 && i.contains_key("pk"))
    );
    let only: Vec<String> = keys_only
        .iter()
        .map(|i| i["sk"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(only, expected);
    let back: Vec<_> = query_all(&*table, q.backward())
        .try_collect()
        .await
        .unwrap();
    let back_keys: Vec<String> = back
        .iter()
        .map(|i| i["sk"].as_str().unwrap().to_owned())
        .collect();
    expected.reverse();
    assert_eq!(back_keys, expected);
    let between = Query::new(
        Index::Primary,
        pk,
        SkCond::Between("USER#u00010".into(), "USER#u00019~".into()),
    );
    let mid: Vec<_> = query_all(&*table, between).try_collect().await.unwrap();
    assert_eq!(mid.len(), 10);
}

// Purge after deauthorization: everything of that connection goes (its audit trail too), other
// connections stay.
both!(purge);
async fn purge(r: Records) {
    for cid in ["c1", "c2"] {
        r.insert_connection(&connection(cid, &format!("z-{cid}")))
            .await
            .unwrap();
        r.sync_accounts(
            cid,
            &[
                account("m", AccountKind::Master),
                account("s", AccountKind::Sub),
            ],
            t(2),
        )
        .await
        .unwrap();
        // More users than the in-memory table's page: the purge deletes page after page.
        let users: Vec<UserRecord> = (0..250)
            .map(|i| user(if i % 2 == 0 { "m" } else { "s" }, i))
            .collect();
        r.upsert_users(cid, &users).await.unwrap();
        r.replace_account_licenses(cid, "m", &[license("m", "business", Provisioned::Count(3))])
            .await
            .unwrap();
    }
    // A reclamation of one of each connection's users: c1's audit trail goes with c1.
    let member = user("m", 0).key();
    assert!(
        r.record_entry(&entry("req-1", &member, t(2)))
            .await
            .unwrap()
    );
    let mut other = entry("req-2", &member, t(2));
    other.connection_id = "c2".into();
    assert!(r.record_entry(&other).await.unwrap());
    let deleted = r.purge_connection("c1").await.unwrap();
    assert_eq!(deleted, 1 + 2 + 250 + 1 + 1);
    assert!(
        r.list_request_entries("req-1")
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    // Idempotent: nothing is left to delete.
    assert_eq!(r.purge_connection("c1").await.unwrap(), 0);
    assert!(r.get_connection("c1").await.unwrap().is_none());
    assert!(
        r.list_users("c1", "m")
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        r.list_licenses("c1")
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        r.list_users("c2", "m")
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        125
    );
    assert!(r.get_connection("c2").await.unwrap().is_some());
    assert_eq!(
        r.list_request_entries("req-2")
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        1
    );
}

// Activity across accounts: joins only move forward, whoever writes them, in any order or at
// once; the connection-wide index finds a user's account from the Zoom user id.
both!(joins_move_forward);
async fn joins_move_forward(r: Records) {
    let (a, b) = (user("acctA", 1), user("acctB", 2));
    r.upsert_users("c1", &[a.clone(), b.clone()]).await.unwrap();
    let id_b = b.user_id.clone().unwrap();
    assert_eq!(
        r.locate_user_id("c1", &id_b).await.unwrap(),
        Some(("acctB".to_owned(), b.key()))
    );
    assert_eq!(
        r.locate_user_id("c1", "someone-outside").await.unwrap(),
        None
    );
    assert_eq!(r.locate_user_id("c2", &id_b).await.unwrap(), None);

    // A join written before the user's own unit ever ran creates the record.
    assert!(
        r.advance_joined("c1", "acctB", &b.key(), t(5))
            .await
            .unwrap()
    );
    assert!(
        !r.advance_joined("c1", "acctB", &b.key(), t(4))
            .await
            .unwrap()
    );
    assert!(
        !r.advance_joined("c1", "acctB", &b.key(), t(5))
            .await
            .unwrap()
    );
    let joined = |r: Records, key: String| async move {
        r.list_account_access("c1", "acctB")
            .try_collect::<Vec<UserAccess>>()
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.user_key == key)
            .unwrap()
    };
    let stored = joined(r.clone(), b.key()).await;
    assert_eq!(
        (stored.dates.last_login, stored.dates.last_meeting_joined),
        (None, Some(t(5)))
    );

    // The user's own unit writes an older join and its login: the login lands, the join
    // stays at the later date.
    let own = UserAccess {
        user_key: b.key(),
        account_id: "acctB".into(),
        dates: ActivityDates {
            last_login: Some(t(3)),
            last_meeting_created: Some(t(2)),
            last_meeting_joined: Some(t(4)),
        },
    };
    assert_eq!(
        r.upsert_access("c1", std::slice::from_ref(&own))
            .await
            .unwrap(),
        1
    );
    let stored = joined(r.clone(), b.key()).await;
    assert_eq!(stored.dates.last_login, Some(t(3)));
    assert_eq!(stored.dates.last_meeting_created, Some(t(2)));
    assert_eq!(stored.dates.last_meeting_joined, Some(t(5)));
    // Writing the same again changes nothing.
    assert_eq!(r.upsert_access("c1", &[own]).await.unwrap(), 0);

    // Many writers at once (units of several accounts, redeliveries): the latest join wins.
    let days: Vec<u32> = (6..=20).rev().collect();
    let writers = days.iter().map(|d| {
        let (r, key) = (r.clone(), b.key());
        let d = *d;
        async move {
            if d % 2 == 0 {
                r.advance_joined("c1", "acctB", &key, t(d))
                    .await
                    .map(|_| ())
            } else {
                let access = UserAccess {
                    user_key: key,
                    account_id: "acctB".into(),
                    dates: ActivityDates {
                        last_login: Some(t(3)),
                        last_meeting_created: Some(t(2)),
                        last_meeting_joined: Some(t(d)),
                    },
                };
                r.upsert_access("c1", &[access]).await.map(|_| ())
            }
        }
    });
    for result in futures::future::join_all(writers).await {
        result.unwrap();
    }
    assert_eq!(
        joined(r.clone(), b.key()).await.dates.last_meeting_joined,
        Some(t(20))
    );
}

// Reclamation opportunities: created once, compare-and-swap on `version`, listed per
// connection in (account, user) order, purged with the connection.
both!(opportunities);
async fn opportunities(r: Records) {
    let opportunity = |cid: &str, account: &str, key: &str| OpportunityRecord {
        action: "deactivate".into(),
        inactive_days: 90,
        ..OpportunityRecord::new(cid, account, key)
    };
    r.insert_connection(&connection("c1", "z-c1"))
        .await
        .unwrap();
    let stored = r
        .put_opportunity(&opportunity("c1", "s", "u2"))
        .await
        .unwrap();
    assert_eq!(stored.version, 1);
    // Created only if absent: a second creation loses.
    assert!(matches!(
        r.put_opportunity(&opportunity("c1", "s", "u2")).await,
        Err(StoreError::ConditionFailed)
    ));
    let mut next = stored.clone();
    next.record(OpportunityStep {
        state: OpportunityState::Notified,
        at: t(3),
        by: "admin".into(),
        request_id: "n1".into(),
        reason: "review".into(),
        detail: "sent".into(),
    });
    next.notified_at = Some(t(3));
    next.grace_ends_at = Some(t(10));
    let moved = r.put_opportunity(&next).await.unwrap();
    assert_eq!(moved.version, 2);
    // A writer that read version 1 loses.
    assert!(matches!(
        r.put_opportunity(&next).await,
        Err(StoreError::ConditionFailed)
    ));
    let read = r.get_opportunity("c1", "s", "u2").await.unwrap().unwrap();
    assert_eq!(read, moved);
    assert!(read.grace_ended(t(10)) && !read.grace_ended(t(9)));
    r.put_opportunity(&opportunity("c1", "m", "u9"))
        .await
        .unwrap();
    r.put_opportunity(&opportunity("c2", "m", "u1"))
        .await
        .unwrap();
    let listed: Vec<(String, String)> = r
        .list_opportunities("c1")
        .map_ok(|o| (o.account_id, o.user_key))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        listed,
        vec![("m".into(), "u9".into()), ("s".into(), "u2".into())]
    );
    assert!(r.get_opportunity("c1", "m", "u2").await.unwrap().is_none());
    // The connection's purge takes them with its partition; another connection keeps its own.
    r.purge_connection("c1").await.unwrap();
    assert!(
        r.list_opportunities("c1")
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        r.list_opportunities("c2")
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Notices through SES (moto): sent from a verified sender with both bodies, read back from
/// moto's own record; an unverified sender is refused (not transient).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_notices_are_sent_and_an_unverified_sender_is_refused() {
    let Some(moto) = common::moto("ses_notices").await else {
        return;
    };
    let n: u64 = rand::random();
    let from = format!("notices-{n:016x}@example.com");
    let notice = Notice {
        to: format!("user-{n:016x}@example.org"),
        subject: "Your Zoom Business license will be reclaimed after 2026-06-09".into(),
        text: "Use Zoom before 2026-06-09 12:00 UTC to keep it.\n".into(),
        html: "<p>Use Zoom before 2026-06-09 12:00 UTC to keep it.</p>".into(),
    };
    let unverified = SesNotifier::new(moto.clients.ses.clone(), &from);
    let e = unverified.send(&notice).await.unwrap_err();
    assert!(matches!(e, NotifyError::Rejected(_)), "{e}");
    assert!(!e.is_transient());
    moto.clients
        .ses
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .unwrap();
    let id = SesNotifier::new(moto.clients.ses.clone(), &from)
        .send(&notice)
        .await
        .unwrap();
    let endpoint = AwsConfig::from_env().endpoint_url.unwrap();
    let data: serde_json::Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent: Vec<&serde_json::Value> = data["ses"]["Message"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["source"] == from.as_str())
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["id"], id.0.as_str());
    assert_eq!(sent[0]["destinations"]["ToAddresses"], json!([notice.to]));
    assert_eq!(sent[0]["subject"], notice.subject.as_str());
    // moto keeps the HTML body when both are sent.
    assert_eq!(sent[0]["body"], notice.html.as_str());
}
