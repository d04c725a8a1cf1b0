//! Seats as Zoom counts them (issue #14), against the sandbox:
//! - License Information's Licensed record: `assigned` = licensed users with status active
//!   (deactivated and pending users hold no seat), and for every paying account (the master,
//!   and sub accounts whose bill the master pays) Zoom's `plan_base.usage` beside it, both
//!   equal to the truth's plan usage; one plan usage call per paying account, none for a sub
//!   account that pays its own bill (Zoom answers it 400 code 2100), whose record has no Zoom
//!   figure and the self-pay note;
//! - Include On Premises = yes: the On-Prem record carries the user summary's
//!   `on_prem_users_count`, a difference explained in its note;
//! - License Differentiation's stand-in records count seats the same way;
//! - a missing scope leaves a note instead of failing the unit.

use std::sync::Arc;

use aws_adapters::Records;
use futures::TryStreamExt;
use ports::{ConnectionStore, LicenseRecord, LicenseStore};
use sync_domain::LicenseKind;
use sync_engine::{FixedClientFactory, MemoryQueue, Task};
use test_support::*;
use zoom_sandbox::tenant::UserStatus;
use zoom_sandbox::truth::AccountTruth;

const PLAN_USAGE: &str = "GET /accounts/{accountId}/plans/usage";
const SELF_PAY_NOTE: &str = "Zoom gives no plan usage for a sub account that pays its own bill (code 2100); seats counted from the roster";

async fn license(
    records: &Records,
    cid: &str,
    account: &str,
    kind: LicenseKind,
) -> Option<LicenseRecord> {
    let id = kind.unique_id(account);
    records
        .list_account_licenses(cid, account)
        .try_filter(|l| std::future::ready(l.license_id == id))
        .try_next()
        .await
        .unwrap()
}

/// Users of `user_type` with `status`, from the truth's user rows.
fn users(a: &AccountTruth, user_type: i64, status: UserStatus) -> u64 {
    a.users
        .as_ref()
        .expect("truth with users")
        .iter()
        .filter(|u| u.user_type == user_type && u.status == status)
        .count() as u64
}

fn pays_own_bill(a: &AccountTruth) -> bool {
    a.pay_mode == "sub"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licensed_seats_equal_zoom_plan_usage_for_paying_accounts() {
    let env = env(twenty_subs_spec(), "license_seats").await;
    let truth = truth(&env.sb);
    let cid = "conn-seats";
    connect(&env.records, &truth, cid, settings(false, true)).await;
    let report = run_connection(&env.engine, Task::LicenseInformation, cid).await;

    let (mut paying, mut self_pay, mut deactivated_licensed, mut on_prem) = (0, 0, 0, 0);
    let mut on_prem_explained = 0;
    for a in tree(&truth) {
        let ctx = format!("account {} (pay_mode {})", a.id, a.pay_mode);
        let l = license(&env.records, cid, &a.id, LicenseKind::Licensed)
            .await
            .unwrap_or_else(|| panic!("{ctx}: no Licensed record"));
        // Our count: licensed users with status active; deactivated ones their own figure.
        assert_eq!(
            l.assigned,
            users(a, 2, UserStatus::Active),
            "{ctx}: assigned = active licensed users"
        );
        assert_eq!(l.active, l.assigned, "{ctx}: active");
        assert_eq!(
            l.inactive,
            users(a, 2, UserStatus::Inactive),
            "{ctx}: inactive = deactivated licensed users"
        );
        deactivated_licensed += l.inactive;
        let unit = report
            .units
            .iter()
            .find(|u| u.run.account_id.as_deref() == Some(a.id.as_str()))
            .unwrap_or_else(|| panic!("{ctx}: no unit"));
        let usage_calls = unit
            .run
            .requests_by_endpoint
            .get(PLAN_USAGE)
            .copied()
            .unwrap_or(0);
        if pays_own_bill(a) {
            self_pay += 1;
            assert_eq!(l.zoom_assigned, None, "{ctx}: no Zoom figure");
            assert_eq!(
                l.zoom_assigned_note.as_deref(),
                Some(SELF_PAY_NOTE),
                "{ctx}: note"
            );
            assert!(!l.differs_from_zoom());
            assert_eq!(usage_calls, 0, "{ctx}: a self-pay sub account is not asked");
            // What Zoom answers when asked anyway.
            let err = env
                .client
                .account(a.id.clone())
                .plan_usage()
                .await
                .expect_err("plan usage of a self-pay sub account");
            assert_eq!(
                (err.status(), err.code()),
                (Some(400), Some(2100)),
                "{ctx}: {err}"
            );
        } else {
            paying += 1;
            assert_eq!(
                (l.assigned, l.zoom_assigned),
                (
                    u64::from(a.counts.plan_usage),
                    Some(u64::from(a.counts.plan_usage))
                ),
                "{ctx}: assigned == zoom_assigned == the truth's plan usage"
            );
            assert_eq!(l.zoom_assigned_note, None, "{ctx}: no note");
            assert!(!l.differs_from_zoom(), "{ctx}");
            assert_eq!(usage_calls, 1, "{ctx}: one plan usage call per run");
        }

        // On-Prem (Include On Premises = yes): Zoom's user summary beside the type-3 users.
        let summary = env
            .client
            .account(a.id.clone())
            .user_summary()
            .await
            .expect("user summary");
        match license(&env.records, cid, &a.id, LicenseKind::OnPrem).await {
            None => assert_eq!(
                (a.counts.on_prem, summary.on_prem_users_count),
                (0, 0),
                "{ctx}: On-Prem record iff type-3 users"
            ),
            Some(p) => {
                on_prem += 1;
                assert_eq!(
                    p.assigned,
                    users(a, 3, UserStatus::Active),
                    "{ctx}: On-Prem"
                );
                assert_eq!(p.inactive, users(a, 3, UserStatus::Inactive), "{ctx}");
                assert_eq!(
                    p.zoom_assigned,
                    Some(summary.on_prem_users_count as u64),
                    "{ctx}: On-Prem Zoom figure"
                );
                assert_eq!(
                    p.zoom_assigned_note.is_some(),
                    p.differs_from_zoom(),
                    "{ctx}: a note iff the figures differ: {:?}",
                    p.zoom_assigned_note
                );
                if p.zoom_assigned == Some(p.assigned + p.inactive) && p.inactive > 0 {
                    // The sandbox's summary counts every user who is not pending.
                    assert_eq!(
                        p.zoom_assigned_note.as_deref(),
                        Some(
                            format!(
                                "Zoom's user summary counts {} On-Prem users, deactivated ones included ({}); seats counted from the roster's {} active",
                                p.assigned + p.inactive,
                                p.inactive,
                                p.assigned
                            )
                            .as_str()
                        ),
                        "{ctx}"
                    );
                    on_prem_explained += 1;
                }
            }
        }
    }
    assert!(
        paying > 1 && self_pay > 0,
        "{paying} paying, {self_pay} self-pay"
    );
    assert!(on_prem > 0, "a legacy account has On-Prem users");
    eprintln!(
        "On-Prem records: {on_prem}, of which {on_prem_explained} differ by deactivated users"
    );
    assert!(
        deactivated_licensed > 0,
        "some accounts have deactivated licensed users: the rule is exercised"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differentiation_stand_ins_count_seats_like_license_information() {
    let env = env(twenty_subs_spec(), "license_seats_stand_in").await;
    let truth = truth(&env.sb);
    let cid = "conn-stand-in";
    connect(&env.records, &truth, cid, settings(true, true)).await;
    // Roster first, then Differentiation before License Information ever ran: stand-ins.
    run_connection(&env.engine, Task::ApplicationRoster, cid).await;
    run_connection(&env.engine, Task::LicenseDifferentiation, cid).await;
    let mut deactivated = 0;
    for a in tree(&truth) {
        for (kind, user_type) in [
            (LicenseKind::Licensed, 2),
            (LicenseKind::Basic, 1),
            (LicenseKind::OnPrem, 3),
        ] {
            let held = users(a, user_type, UserStatus::Active)
                + users(a, user_type, UserStatus::Inactive)
                + users(a, user_type, UserStatus::Pending);
            let Some(l) = license(&env.records, cid, &a.id, kind).await else {
                assert_eq!(held, 0, "account {} {kind:?}: no stand-in", a.id);
                continue;
            };
            let ctx = format!("account {} {kind:?} stand-in", a.id);
            assert_eq!(l.assigned, users(a, user_type, UserStatus::Active), "{ctx}");
            assert_eq!(l.active, l.assigned, "{ctx}");
            assert_eq!(
                l.inactive,
                users(a, user_type, UserStatus::Inactive),
                "{ctx}"
            );
            assert_eq!(
                (l.zoom_assigned, l.zoom_assigned_note),
                (None, None),
                "{ctx}"
            );
            deactivated += l.inactive;
        }
    }
    assert!(deactivated > 0, "deactivated users exercised the rule");
    // License Information's records replace the stand-ins with the same seats.
    run_connection(&env.engine, Task::LicenseInformation, cid).await;
    for a in tree(&truth) {
        let l = license(&env.records, cid, &a.id, LicenseKind::Licensed)
            .await
            .unwrap();
        assert_eq!(
            l.assigned,
            users(a, 2, UserStatus::Active),
            "account {}",
            a.id
        );
        assert!(
            l.zoom_assigned.is_some() || l.zoom_assigned_note.is_some(),
            "account {}: Zoom's figure or why not",
            a.id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_scopes_leave_a_note_and_the_unit_succeeds() {
    let sb = sandbox(twenty_subs_spec()).await;
    let records = store("license_seats_scopes").await;
    // Everything License Information needs except plan usage (no billing:master or
    // account:master) and the sub accounts' user summary (no user:master).
    let client = client_with_scopes(
        &sb,
        &[
            "account:read:sub_account:master",
            "account:read:list_sub_accounts:master",
            "user:read:list_users:master",
            "user:read:admin",
        ],
    );
    let limited = engine(
        &records,
        Arc::new(FixedClientFactory(client)),
        Arc::new(MemoryQueue::new()),
        TestClock::at(sb.state.clock.now()).clock(),
    );
    let truth = truth(&sb);
    let cid = "conn-scopes";
    connect(&records, &truth, cid, settings(false, true)).await;
    run_connection(&limited, Task::LicenseInformation, cid).await;
    let (mut scope_notes, mut on_prem_notes) = (0, 0);
    for a in tree(&truth) {
        let l = license(&records, cid, &a.id, LicenseKind::Licensed)
            .await
            .unwrap();
        assert_eq!(l.zoom_assigned, None, "account {}", a.id);
        let note = l.zoom_assigned_note.as_deref().unwrap_or_default();
        if pays_own_bill(a) {
            assert_eq!(note, SELF_PAY_NOTE, "account {}: not asked", a.id);
        } else {
            scope_notes += 1;
            assert!(
                note.starts_with("Zoom refused plan usage: the app lacks the scope ")
                    && note.ends_with("(code 4711); seats counted from the roster"),
                "account {}: {note}",
                a.id
            );
        }
        assert_eq!(l.assigned, users(a, 2, UserStatus::Active));
        if let Some(p) = license(&records, cid, &a.id, LicenseKind::OnPrem).await {
            assert_eq!(p.zoom_assigned, None);
            assert_eq!(
                p.zoom_assigned_note.as_deref(),
                Some(
                    "Zoom refused the user summary: the app lacks the scope user:read:summary:master (code 4711); On-Prem users counted from the roster"
                ),
                "account {}",
                a.id
            );
            on_prem_notes += 1;
        }
    }
    assert!(
        scope_notes > 1,
        "the master and the sub accounts it pays for"
    );
    assert!(
        on_prem_notes > 0,
        "the legacy sub accounts' On-Prem records"
    );

    // The connection names the scopes and what is not collected without them.
    let noted = |c: &ports::ConnectionRecord| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = c
            .missing_scopes
            .iter()
            .filter(|n| n.noticed_by == "license-information")
            .map(|n| (n.scope.clone(), n.not_collected.clone()))
            .collect();
        v.sort();
        v
    };
    let c = records.get_connection(cid).await.unwrap().unwrap();
    let want = [
        (
            "billing:read:plan_usage:admin",
            "Zoom's own count of assigned seats of the master account (plan usage)",
        ),
        (
            "billing:read:plan_usage:master",
            "Zoom's own count of assigned seats of sub accounts (plan usage)",
        ),
        (
            "user:read:summary:master",
            "Zoom's own count of On-Prem users of sub accounts (user summary)",
        ),
    ]
    .map(|(a, b)| (a.to_owned(), b.to_owned()));
    assert_eq!(noted(&c), want);
    assert!(
        !c.activity_is_partial(),
        "seat figures are not activity: reclamation is not held back"
    );

    // Given the scopes, the next run collects Zoom's figures and the notes go.
    let full = engine(
        &records,
        Arc::new(FixedClientFactory(zoom_client(&sb))),
        Arc::new(MemoryQueue::new()),
        TestClock::at(sb.state.clock.now()).clock(),
    );
    run_connection(&full, Task::LicenseInformation, cid).await;
    let c = records.get_connection(cid).await.unwrap().unwrap();
    assert_eq!(noted(&c), [], "notes dropped once the calls work");
    for a in tree(&truth).into_iter().filter(|a| !pays_own_bill(a)) {
        let l = license(&records, cid, &a.id, LicenseKind::Licensed)
            .await
            .unwrap();
        assert_eq!(
            (l.zoom_assigned, l.zoom_assigned_note.as_deref()),
            (Some(u64::from(a.counts.plan_usage)), None),
            "account {}",
            a.id
        );
    }
}
