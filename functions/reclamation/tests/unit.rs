//! The use case over in-memory stores and a fake Zoom: selection, live re-checks, cap, scope,
//! idempotency, audit, reactivate, malformed requests. Events come from `events/reclamation/`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_adapters::Records;
use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::TryStreamExt;
use ports::{
    AccountKind, AccountRecord, AccountStore, AuditEntry, AuditRequest, AuditState, AuditStore,
    ConnectionRecord, ConnectionSettings, ConnectionStore, LeaseStore, MissingScopeNote,
    StoreError, TaskOutcome, UserAccess, UserRecord, UserStore, ZoomRegion,
};
use reclamation::{
    AccountRef, DRY_RUN_LIVE_CHECKS, LiveUser, MAX_LISTED_USERS, Outcome, Reclaimer,
    ReclamationError, ReclamationResponse, Stores, ZoomConnector, ZoomFailure, ZoomUsers,
};
use serde_json::{Value, json};
use sync_domain::{ActivityDates, InactivityThreshold};

const CONN: &str = "conn-demo";
const MASTER: &str = "master-acct";
const SUB: &str = "sub-account-id-1";
const ACCESS: &str = "application-access";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

/// `events/reclamation/{name}.json`, for the names listed (the files are compiled in).
macro_rules! events {
    ($name:expr, $($file:literal),* $(,)?) => {
        match $name {
            $($file => include_str!(concat!("../../../events/reclamation/", $file, ".json")),)*
            other => panic!("no event {other}"),
        }
    };
}

fn event(name: &str) -> Value {
    let text = events!(
        name,
        "dry-run",
        "execute",
        "policy",
        "explicit-users",
        "reactivate",
        "malformed-no-selection",
        "malformed-both-selections",
        "malformed-zero-days",
        "malformed-bad-mode",
        "malformed-unknown-field",
        "malformed-reactivate-without-restore",
        "malformed-missing-requested-by",
        "notify",
        "notify-dry-run",
        "reclaim-notified",
        "reclaim-notified-dry-run",
        "history",
        "history-user",
        "malformed-grace-days",
        "malformed-grace-without-notify",
        "malformed-reclaim-notified-policy",
        "malformed-bad-step",
        "malformed-bad-state",
        "malformed-states-without-history",
        "malformed-notify-reactivate",
    );
    serde_json::from_str(text).expect("event JSON")
}

// ----- fake Zoom ------------------------------------------------------------------------

/// Where the fake's invocation "crashes" (the future is never resumed, as when Lambda times
/// out or kills the instance) on a write for a given user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Crash {
    /// The request never reaches Zoom: nothing changes.
    BeforeChange,
    /// Zoom applies the change; the answer never comes back.
    AfterChange,
}

#[derive(Default)]
struct FakeZoom {
    /// When set, every write checks that the user's audit intent is in the store already.
    audit: Mutex<Option<Records>>,
    /// (user id, whether an `intent` entry of the user was stored when the write arrived).
    intent_at_write: Mutex<Vec<(String, bool)>>,
    /// user id → the crash a write for that user causes.
    crash: Mutex<HashMap<String, Crash>>,
    /// Signalled when a crash happens.
    crashed: tokio::sync::Notify,
    users: Mutex<HashMap<String, LiveUser>>,
    /// user id → failure on writes.
    fail_writes: Mutex<HashMap<String, ZoomFailure>>,
    writes: Mutex<Vec<(String, String)>>,
    scopes: Mutex<Option<Vec<String>>>,
    /// Like Zoom (and the sandbox): a deactivated user keeps listing its type; the seat is
    /// freed all the same. Off: the type drops to Basic.
    keep_type_on_deactivate: std::sync::atomic::AtomicBool,
    /// `GET /users/{id}` calls made.
    reads: std::sync::atomic::AtomicUsize,
    /// user id → the next write's answer is lost (a 502 page after the client's retries):
    /// `true`, Zoom carried the write out first; `false`, it never did. One write each.
    lost_answers: Mutex<HashMap<String, bool>>,
    /// User ids whose reads fail (transient) from their next write on: Zoom unreachable.
    unreadable_after_write: Mutex<HashSet<String>>,
    /// User ids whose reads fail now (transient 503).
    unreadable: Mutex<HashSet<String>>,
}

impl FakeZoom {
    fn writes(&self) -> Vec<(String, String)> {
        self.writes.lock().unwrap().clone()
    }
    fn user(&self, id: &str) -> LiveUser {
        self.users.lock().unwrap()[id].clone()
    }

    /// `user_id`'s next write answers a 502 after the client's retries; `carried_out`: Zoom
    /// made the change first.
    fn lose_next_answer(&self, user_id: &str, carried_out: bool) {
        self.lost_answers
            .lock()
            .unwrap()
            .insert(user_id.into(), carried_out);
    }

    /// `user_id` cannot be read from its next write on.
    fn unreadable_after_next_write(&self, user_id: &str) {
        self.unreadable_after_write
            .lock()
            .unwrap()
            .insert(user_id.into());
    }

    /// Zoom healthy again: every user can be read.
    fn heal(&self) {
        self.unreadable.lock().unwrap().clear();
        self.unreadable_after_write.lock().unwrap().clear();
    }

    /// Before a write: the intent check, reads starting to fail, and the crash before the
    /// change.
    async fn write_arrives(&self, user_id: &str) {
        if self.unreadable_after_write.lock().unwrap().remove(user_id) {
            self.unreadable.lock().unwrap().insert(user_id.into());
        }
        let audit = self.audit.lock().unwrap().clone();
        if let Some(records) = audit {
            let entries: Vec<AuditEntry> = records
                .list_user_entries(CONN, user_id)
                .try_collect()
                .await
                .unwrap();
            let found = entries.iter().any(|e| e.state == AuditState::Intent);
            self.intent_at_write
                .lock()
                .unwrap()
                .push((user_id.into(), found));
        }
        self.maybe_crash(user_id, Crash::BeforeChange).await;
    }

    async fn maybe_crash(&self, user_id: &str, at: Crash) {
        let planned = self.crash.lock().unwrap().get(user_id).copied();
        if planned == Some(at) {
            self.crash.lock().unwrap().remove(user_id);
            self.crashed.notify_one();
            std::future::pending::<()>().await;
        }
    }
}

#[async_trait]
impl ZoomUsers for FakeZoom {
    async fn get_user(&self, account: &AccountRef, user_id: &str) -> Result<LiveUser, ZoomFailure> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.unreadable.lock().unwrap().contains(user_id) {
            return Err(unavailable());
        }
        let users = self.users.lock().unwrap();
        let u = users.get(user_id).cloned().ok_or_else(not_found)?;
        let acct = match account {
            AccountRef::Own => MASTER.to_owned(),
            AccountRef::Sub(a) => a.clone(),
        };
        if u.account_id.as_deref() != Some(acct.as_str()) {
            return Err(not_found());
        }
        Ok(u)
    }

    async fn set_status(
        &self,
        _: &AccountRef,
        user_id: &str,
        activate: bool,
    ) -> Result<Option<String>, ZoomFailure> {
        self.write_arrives(user_id).await;
        if let Some(f) = self.fail_writes.lock().unwrap().get(user_id) {
            return Err(f.clone());
        }
        let lost = self.lost_answers.lock().unwrap().remove(user_id);
        if lost == Some(false) {
            return Err(lost_answer());
        }
        self.writes.lock().unwrap().push((
            user_id.into(),
            if activate { "activate" } else { "deactivate" }.into(),
        ));
        {
            let mut users = self.users.lock().unwrap();
            let u = users.get_mut(user_id).ok_or_else(not_found)?;
            u.status = if activate { "active" } else { "inactive" }.into();
            if !activate
                && u.user_type == 2
                && !self
                    .keep_type_on_deactivate
                    .load(std::sync::atomic::Ordering::Relaxed)
            {
                u.user_type = 1;
            }
        }
        self.maybe_crash(user_id, Crash::AfterChange).await;
        if lost.is_some() {
            return Err(lost_answer());
        }
        Ok(Some(format!("trk-{user_id}")))
    }

    async fn set_type(
        &self,
        _: &AccountRef,
        user_id: &str,
        user_type: i64,
    ) -> Result<Option<String>, ZoomFailure> {
        self.write_arrives(user_id).await;
        if let Some(f) = self.fail_writes.lock().unwrap().get(user_id) {
            return Err(f.clone());
        }
        let lost = self.lost_answers.lock().unwrap().remove(user_id);
        if lost == Some(false) {
            return Err(lost_answer());
        }
        self.writes
            .lock()
            .unwrap()
            .push((user_id.into(), format!("type {user_type}")));
        self.users
            .lock()
            .unwrap()
            .get_mut(user_id)
            .ok_or_else(not_found)?
            .user_type = user_type;
        self.maybe_crash(user_id, Crash::AfterChange).await;
        if lost.is_some() {
            return Err(lost_answer());
        }
        Ok(None)
    }
}

fn not_found() -> ZoomFailure {
    ZoomFailure {
        status: Some(404),
        code: Some(1001),
        message: "User does not exist".into(),
        tracking_id: Some("trk-404".into()),
        transient: false,
    }
}

/// A write's answer lost (a 502 page after the client's retries): Zoom may or may not have
/// carried the write out.
fn lost_answer() -> ZoomFailure {
    ZoomFailure {
        status: Some(502),
        code: None,
        message: "Bad Gateway".into(),
        tracking_id: None,
        transient: true,
    }
}

/// Zoom unreachable for a read.
fn unavailable() -> ZoomFailure {
    ZoomFailure {
        status: Some(503),
        code: None,
        message: "Service Unavailable".into(),
        tracking_id: None,
        transient: true,
    }
}

struct Connector(Arc<FakeZoom>);

#[async_trait]
impl ZoomConnector for Connector {
    async fn users(&self, _: &ConnectionRecord) -> Result<Arc<dyn ZoomUsers>, String> {
        Ok(self.0.clone())
    }
    async fn granted_scopes(&self, _: &str) -> Result<Option<Vec<String>>, String> {
        Ok(self.0.scopes.lock().unwrap().clone())
    }
}

// ----- fixture ---------------------------------------------------------------------------

struct Fixture {
    records: Records,
    zoom: Arc<FakeZoom>,
    reclaimer: Reclaimer,
}

struct Person {
    id: &'static str,
    account: &'static str,
    role: &'static str,
    stored_days_ago: i64,
    live_days_ago: i64,
    live_status: &'static str,
}

const PEOPLE: &[Person] = &[
    // Inactive member of the master: reclaimed.
    Person {
        id: "m1",
        account: MASTER,
        role: "Member",
        stored_days_ago: 200,
        live_days_ago: 200,
        live_status: "active",
    },
    // Active member: never selected by the policy.
    Person {
        id: "m2",
        account: MASTER,
        role: "Member",
        stored_days_ago: 10,
        live_days_ago: 10,
        live_status: "active",
    },
    // Admin: refused.
    Person {
        id: "adm",
        account: MASTER,
        role: "Admin",
        stored_days_ago: 300,
        live_days_ago: 300,
        live_status: "active",
    },
    // Protected (by email on the connection).
    Person {
        id: "prot",
        account: SUB,
        role: "Member",
        stored_days_ago: 300,
        live_days_ago: 300,
        live_status: "active",
    },
    // Logged in after the last sync.
    Person {
        id: "s1",
        account: SUB,
        role: "Member",
        stored_days_ago: 200,
        live_days_ago: 1,
        live_status: "active",
    },
    // Already deactivated at Zoom since the sync.
    Person {
        id: "s2",
        account: SUB,
        role: "Member",
        stored_days_ago: 200,
        live_days_ago: 200,
        live_status: "inactive",
    },
    // Zoom refuses the write (permanent error): reported, the others go on.
    Person {
        id: "s3",
        account: SUB,
        role: "Member",
        stored_days_ago: 150,
        live_days_ago: 150,
        live_status: "active",
    },
    // Gone from Zoom since the sync.
    Person {
        id: "s4",
        account: SUB,
        role: "Member",
        stored_days_ago: 400,
        live_days_ago: 400,
        live_status: "gone",
    },
    // Inactive member of the sub account: reclaimed.
    Person {
        id: "s5",
        account: SUB,
        role: "Member",
        stored_days_ago: 100,
        live_days_ago: 100,
        live_status: "active",
    },
];

fn email(id: &str) -> String {
    format!("{id}@example.com")
}

async fn fixture() -> Fixture {
    let records = Records::in_memory();
    let mut conn = ConnectionRecord::new(
        CONN,
        MASTER,
        ZoomRegion::Na,
        ConnectionSettings::default(),
        now(),
    );
    conn.protected_users = vec!["PROT@example.com".into()];
    // Application Access completed for both accounts an hour ago: fresh data.
    conn.tasks.insert(
        ACCESS.into(),
        access_completed(&[MASTER, SUB], now() - Duration::hours(1)),
    );
    records.insert_connection(&conn).await.unwrap();
    let account = |id: &str, kind| AccountRecord {
        account_id: id.into(),
        kind,
        name: None,
        owner_email: None,
        account_type: None,
        seats: Some(10),
        created_at: None,
        removed_at: None,
    };
    records
        .sync_accounts(
            CONN,
            &[
                account(MASTER, AccountKind::Master),
                account(SUB, AccountKind::Sub),
            ],
            now(),
        )
        .await
        .unwrap();
    let zoom = Arc::new(FakeZoom::default());
    *zoom.scopes.lock().unwrap() = Some(vec!["user:write:admin".into(), "user:master".into()]);
    for p in PEOPLE {
        let roster = UserRecord {
            user_id: Some(p.id.into()),
            email: email(p.id),
            first_name: Some(p.id.into()),
            last_name: None,
            user_type: 2,
            status: "active".into(),
            role_id: None,
            role_name: Some(p.role.into()),
            account_id: p.account.into(),
            active_date: Some(now() - Duration::days(1000)),
            license_name: Some("Business".into()),
            removed_at: None,
        };
        records.upsert_users(CONN, &[roster]).await.unwrap();
        records
            .upsert_access(
                CONN,
                &[UserAccess {
                    user_key: p.id.into(),
                    account_id: p.account.into(),
                    dates: ActivityDates {
                        last_login: Some(now() - Duration::days(p.stored_days_ago)),
                        last_meeting_created: None,
                        last_meeting_joined: Some(now() - Duration::days(p.stored_days_ago + 3)),
                    },
                }],
            )
            .await
            .unwrap();
        if p.live_status != "gone" {
            zoom.users.lock().unwrap().insert(
                p.id.into(),
                LiveUser {
                    id: p.id.into(),
                    email: email(p.id),
                    account_id: Some(p.account.into()),
                    user_type: if p.live_status == "inactive" { 1 } else { 2 },
                    status: p.live_status.into(),
                    role_id: None,
                    role_name: Some(p.role.into()),
                    last_login_time: Some(now() - Duration::days(p.live_days_ago)),
                },
            );
        }
    }
    zoom.fail_writes.lock().unwrap().insert(
        "s3".into(),
        ZoomFailure {
            status: Some(400),
            code: Some(300),
            message: "User has upcoming Zoom Events".into(),
            tracking_id: Some("trk-s3".into()),
            transient: false,
        },
    );
    let reclaimer = Reclaimer::new(
        Stores::from_store(Arc::new(records.clone())),
        Arc::new(Connector(zoom.clone())),
    )
    .with_clock(Arc::new(now));
    Fixture {
        records,
        zoom,
        reclaimer,
    }
}

/// Application Access as completed for `accounts` at `at`.
fn access_completed(accounts: &[&str], at: DateTime<Utc>) -> TaskOutcome {
    TaskOutcome {
        last_success_at: Some(at),
        account_success_at: accounts.iter().map(|a| ((*a).to_owned(), at)).collect(),
        ..TaskOutcome::default()
    }
}

/// Moves every account's Application Access completion to `at`.
async fn set_access_completed(f: &Fixture, at: DateTime<Utc>) {
    f.records
        .update_connection(CONN, &move |c| {
            c.tasks
                .insert(ACCESS.into(), access_completed(&[MASTER, SUB], at));
        })
        .await
        .unwrap();
}

fn by_user(r: &ReclamationResponse) -> HashMap<String, (Outcome, Option<String>)> {
    r.users
        .iter()
        .map(|u| (u.user_key.clone(), (u.outcome, u.reason.clone())))
        .collect()
}

fn expected_execute() -> HashMap<String, (Outcome, Option<String>)> {
    let o = |outcome, reason: Option<&str>| (outcome, reason.map(str::to_owned));
    HashMap::from([
        ("m1".to_owned(), o(Outcome::Acted, None)),
        (
            "adm".to_owned(),
            o(Outcome::Skipped, Some("owner_or_admin")),
        ),
        ("prot".to_owned(), o(Outcome::Skipped, Some("protected"))),
        (
            "s1".to_owned(),
            o(Outcome::Skipped, Some("logged_in_since_sync")),
        ),
        (
            "s2".to_owned(),
            o(Outcome::Unchanged, Some("already_deactivated")),
        ),
        ("s3".to_owned(), o(Outcome::Failed, Some("zoom_error"))),
        ("s4".to_owned(), o(Outcome::Skipped, Some("not_found"))),
        ("s5".to_owned(), o(Outcome::Acted, None)),
    ])
}

// ----- tests -----------------------------------------------------------------------------

#[tokio::test]
async fn dry_run_reports_what_execute_would_do_and_writes_nothing() {
    let f = fixture().await;
    let dry = f.reclaimer.handle(&event("dry-run")).await.unwrap();
    assert!(f.zoom.writes().is_empty(), "a dry run changes nothing");
    assert!(
        f.records
            .get_request(&dry.request_id)
            .await
            .unwrap()
            .is_none()
    );
    let mut expected = expected_execute();
    for key in ["m1", "s5", "s3"] {
        expected.insert(key.into(), (Outcome::WouldAct, None));
    }
    assert_eq!(by_user(&dry), expected);
    assert_eq!(dry.summary.licenses_freed.get("Business"), Some(&3));
    let m1 = dry.users.iter().find(|u| u.user_key == "m1").unwrap();
    assert_eq!(m1.days_inactive, Some(200));
    assert_eq!(m1.license_name.as_deref(), Some("Business"));
    assert!(m1.last_activity.last_meeting_joined.is_some());
    assert!(
        m1.detail.contains("Business") && m1.detail.contains("200"),
        "{}",
        m1.detail
    );

    // Execute with the same selection does what the dry run said (s3 fails at Zoom's answer).
    let mut ex = event("execute");
    ex["request_id"] = json!("exec-after-dry");
    let done = f.reclaimer.handle(&ex).await.unwrap();
    for u in &done.users {
        let planned = dry.users.iter().find(|d| d.user_key == u.user_key).unwrap();
        if planned.outcome == Outcome::WouldAct {
            assert!(
                matches!(u.outcome, Outcome::Acted | Outcome::Failed),
                "{u:?}"
            );
        } else {
            assert_eq!((planned.outcome, &planned.reason), (u.outcome, &u.reason));
        }
    }
}

#[tokio::test]
async fn execute_acts_on_exactly_the_eligible_users_and_audits_everything() {
    let f = fixture().await;
    let r = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert_eq!(by_user(&r), expected_execute());
    let mut writes = f.zoom.writes();
    writes.sort();
    assert_eq!(
        writes,
        vec![
            ("m1".to_owned(), "deactivate".to_owned()),
            ("s5".to_owned(), "deactivate".to_owned())
        ]
    );
    assert_eq!(f.zoom.user("m1").status, "inactive");
    assert_eq!(f.zoom.user("adm").status, "active");
    assert_eq!(r.summary.acted, 2);
    assert_eq!(r.summary.failed, 1);
    assert_eq!(r.summary.unchanged, 1);
    assert_eq!(r.summary.skipped, 4);
    assert_eq!(r.summary.skipped_by_reason.get("owner_or_admin"), Some(&1));
    assert_eq!(r.summary.licenses_freed.get("Business"), Some(&2));
    let s3 = r.users.iter().find(|u| u.user_key == "s3").unwrap();
    let err = s3.error.as_ref().unwrap();
    assert_eq!((err.status, err.code), (Some(400), Some(300)));
    assert_eq!(s3.zoom_tracking_id.as_deref(), Some("trk-s3"));

    // Every action and skip is audited with who, why, before and after.
    let entries: Vec<_> = f
        .records
        .list_request_entries(&r.request_id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(entries.len(), expected_execute().len());
    let m1 = entries.iter().find(|e| e.user_key == "m1").unwrap();
    assert_eq!(m1.outcome, "acted");
    assert_eq!(m1.requested_by, "it-admin@example.com");
    assert!(m1.why.contains("IT-4711"));
    assert_eq!(m1.before["status"], "active");
    assert_eq!(m1.before["type"], 2);
    assert_eq!(m1.before["license_name"], "Business");
    assert_eq!(m1.after["status"], "inactive");
    assert_eq!(m1.zoom_tracking_id.as_deref(), Some("trk-m1"));
    let adm = entries.iter().find(|e| e.user_key == "adm").unwrap();
    assert_eq!(adm.outcome, "skipped");
    assert!(adm.reason.as_deref().unwrap().starts_with("owner_or_admin"));
    let history: Vec<_> = f
        .records
        .list_user_entries(CONN, "m1")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
}

#[tokio::test]
async fn replaying_a_request_id_does_nothing_twice() {
    let f = fixture().await;
    let first = f.reclaimer.handle(&event("execute")).await.unwrap();
    let writes = f.zoom.writes().len();
    // Someone reactivates m1 by hand; the replay must not deactivate them again.
    f.zoom.users.lock().unwrap().get_mut("m1").unwrap().status = "active".into();
    let again = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert!(again.replayed);
    assert_eq!(f.zoom.writes().len(), writes, "no Zoom write on replay");
    assert_eq!(f.zoom.user("m1").status, "active");
    assert_eq!(by_user(&again), by_user(&first));
    assert_eq!(again.summary.acted, first.summary.acted);
    assert_eq!(again.summary.licenses_freed, first.summary.licenses_freed);

    // The same id with a different request is refused.
    let mut other = event("execute");
    other["policy"]["inactive_days"] = json!(30);
    let e = f.reclaimer.handle(&other).await.unwrap_err();
    assert!(matches!(e, ReclamationError::RequestIdReused(_)), "{e}");
}

#[tokio::test]
async fn cap_is_enforced_before_anything_happens() {
    let f = fixture().await;
    let mut ex = event("execute");
    ex["max_users"] = json!(2);
    let e = f.reclaimer.handle(&ex).await.unwrap_err();
    match &e {
        ReclamationError::CapExceeded { selected, cap } => {
            // m1, s1, s2, s3, s4, s5 pass the stored checks; admin and protected do not.
            assert_eq!((*selected, *cap), (6, 2));
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("max_users"));
    assert!(f.zoom.writes().is_empty());
    assert!(
        f.records
            .get_request("2026-11-q4-review")
            .await
            .unwrap()
            .is_none()
    );
    // A dry run says so as a warning.
    let mut dry = event("dry-run");
    dry["max_users"] = json!(2);
    let r = f.reclaimer.handle(&dry).await.unwrap();
    assert!(
        r.warnings.iter().any(|w| w.contains("cap of 2")),
        "{:?}",
        r.warnings
    );
    // Raising the cap lets it through.
    ex["max_users"] = json!(6);
    assert_eq!(f.reclaimer.handle(&ex).await.unwrap().summary.acted, 2);
}

#[tokio::test]
async fn missing_write_scope_is_reported_before_acting() {
    let f = fixture().await;
    *f.zoom.scopes.lock().unwrap() = Some(vec!["user:read:admin".into(), "user:master".into()]);
    let e = f.reclaimer.handle(&event("execute")).await.unwrap_err();
    match &e {
        ReclamationError::MissingScope { missing } => {
            assert_eq!(missing.len(), 1, "sub accounts are covered by user:master");
            assert!(missing[0].contains("user:write:admin"), "{missing:?}");
        }
        other => panic!("{other}"),
    }
    assert!(f.zoom.writes().is_empty());
    assert!(
        f.records
            .get_request("2026-11-q4-review")
            .await
            .unwrap()
            .is_none()
    );
    let r = f.reclaimer.handle(&event("dry-run")).await.unwrap();
    assert!(r.warnings.iter().any(|w| w.contains("write scope")));
    // Granular scopes work too.
    *f.zoom.scopes.lock().unwrap() = Some(vec![
        "user:update:status:admin".into(),
        "user:update:status:master".into(),
    ]);
    assert_eq!(
        f.reclaimer
            .handle(&event("execute"))
            .await
            .unwrap()
            .summary
            .acted,
        2
    );
}

#[tokio::test]
async fn reactivate_restores_the_users_of_an_earlier_request() {
    let f = fixture().await;
    let done = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert_eq!(done.summary.acted, 2);
    let before = f.zoom.writes().len();
    let mut dry = event("reactivate");
    dry["mode"] = json!("dry_run");
    let plan = f.reclaimer.handle(&dry).await.unwrap();
    assert_eq!(f.zoom.writes().len(), before);
    assert_eq!(plan.summary.would_act, 2);

    let r = f.reclaimer.handle(&event("reactivate")).await.unwrap();
    assert_eq!(r.summary.acted, 2, "{r:#?}");
    assert_eq!(r.summary.licenses_restored.get("Business"), Some(&2));
    for id in ["m1", "s5"] {
        let u = f.zoom.user(id);
        assert_eq!((u.status.as_str(), u.user_type), ("active", 2), "{id}");
    }
    // Users skipped or failed in the first request are not touched.
    let touched: Vec<_> = f.zoom.writes()[before..]
        .iter()
        .map(|w| w.0.clone())
        .collect();
    assert!(
        touched.iter().all(|id| id == "m1" || id == "s5"),
        "{touched:?}"
    );
    // Restoring again changes nothing.
    let mut again = event("reactivate");
    again["request_id"] = json!("undo-twice");
    let r = f.reclaimer.handle(&again).await.unwrap();
    assert_eq!(r.summary.unchanged, 2);
    // An unknown request to restore is a clear error.
    let mut unknown = event("reactivate");
    unknown["request_id"] = json!("undo-unknown");
    unknown["restore_request_id"] = json!("never-happened");
    let e = f.reclaimer.handle(&unknown).await.unwrap_err();
    assert!(matches!(e, ReclamationError::RestoreNotFound(_)), "{e}");
}

#[tokio::test]
async fn downgrade_moves_users_to_basic() {
    let f = fixture().await;
    let mut ev = event("policy");
    ev["mode"] = json!("execute");
    ev["policy"]["inactive_days"] = json!(90);
    ev["policy"]["account_ids"] = json!([MASTER]);
    let r = f.reclaimer.handle(&ev).await.unwrap();
    assert_eq!(
        f.zoom.writes(),
        vec![("m1".to_owned(), "type 1".to_owned())]
    );
    assert_eq!(f.zoom.user("m1").status, "active");
    assert_eq!(f.zoom.user("m1").user_type, 1);
    assert_eq!(r.summary.licenses_freed.get("Business"), Some(&1));
    // The license filter applies.
    let mut ev = event("policy");
    ev["request_id"] = json!("other-license");
    ev["policy"]["license_names"] = json!(["Education"]);
    ev["policy"]["account_ids"] = json!([MASTER, SUB]);
    let r = f.reclaimer.handle(&ev).await.unwrap();
    assert_eq!(r.summary.selected, 0);
}

#[tokio::test]
async fn explicit_users_by_id_or_email() {
    let f = fixture().await;
    let mut ev = event("explicit-users");
    ev["users"] = json!(["M1@example.com", "s5", "m2", "nobody@example.com", "adm"]);
    let r = f.reclaimer.handle(&ev).await.unwrap();
    let got = by_user(&r);
    assert_eq!(got["m1"].0, Outcome::Acted);
    assert_eq!(got["s5"].0, Outcome::Acted);
    // The connection's threshold (60 days) protects an active user named explicitly.
    assert_eq!(
        got["m2"],
        (Outcome::Skipped, Some("recently_active".into()))
    );
    assert_eq!(
        got["unknown:nobody@example.com"],
        (Outcome::Skipped, Some("not_in_roster".into()))
    );
    assert_eq!(got["adm"].1.as_deref(), Some("owner_or_admin"));
}

#[tokio::test]
async fn malformed_requests_get_a_clear_error_and_nothing_happens() {
    let f = fixture().await;
    for (name, expect) in [
        ("malformed-no-selection", "select users"),
        ("malformed-both-selections", "not both"),
        ("malformed-zero-days", "inactive_days` must be at least 1"),
        ("malformed-bad-mode", "field `mode`"),
        ("malformed-unknown-field", "unknown field `force`"),
        ("malformed-reactivate-without-restore", "restore_request_id"),
        ("malformed-missing-requested-by", "requested_by"),
        (
            "malformed-grace-days",
            "`grace_days` must be from 1 to 60, not 90",
        ),
        (
            "malformed-grace-without-notify",
            "`grace_days` is only for `\"step\": \"notify\"`",
        ),
        (
            "malformed-reclaim-notified-policy",
            "`policy` is not allowed",
        ),
        ("malformed-bad-step", "field `step`"),
        ("malformed-bad-state", "field `states[0]`"),
        ("malformed-states-without-history", "`states` is only for"),
        ("malformed-notify-reactivate", "not a `notify` step"),
    ] {
        let ev = event(name);
        let e = f.reclaimer.handle(&ev).await.unwrap_err();
        assert!(
            matches!(e, ReclamationError::InvalidRequest(_)),
            "{name}: {e}"
        );
        assert!(e.to_string().contains(expect), "{name}: {e}");
        assert!(e.is_caller_error() && !e.is_retryable());
        let id = ev["request_id"].as_str().unwrap();
        assert!(f.records.get_request(id).await.unwrap().is_none(), "{name}");
    }
    assert!(f.zoom.writes().is_empty());
    // Unknown connection.
    let mut ev = event("dry-run");
    ev["connection_id"] = json!("nope");
    let e = f.reclaimer.handle(&ev).await.unwrap_err();
    assert!(matches!(e, ReclamationError::ConnectionNotFound(_)), "{e}");
}

#[tokio::test]
async fn example_events_are_valid_requests() {
    for name in [
        "dry-run",
        "execute",
        "policy",
        "explicit-users",
        "reactivate",
        "notify",
        "notify-dry-run",
        "reclaim-notified",
        "reclaim-notified-dry-run",
        "history",
        "history-user",
    ] {
        reclamation::ReclamationRequest::parse(&event(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[tokio::test]
async fn a_request_being_executed_elsewhere_is_not_run_twice() {
    use ports::LeaseStore;
    let f = fixture().await;
    let id = event("execute")["request_id"].as_str().unwrap().to_owned();
    let held = f
        .records
        .acquire(
            &format!("reclamation#{id}"),
            "other-invocation",
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(held);
    let e = f.reclaimer.handle(&event("execute")).await.unwrap_err();
    assert!(matches!(e, ReclamationError::InProgress(_)), "{e}");
    assert!(e.is_retryable());
    assert!(f.zoom.writes().is_empty());
    f.records
        .release(&format!("reclamation#{id}"), "other-invocation")
        .await
        .unwrap();
    assert_eq!(
        f.reclaimer
            .handle(&event("execute"))
            .await
            .unwrap()
            .summary
            .acted,
        2
    );
}

#[tokio::test]
async fn a_connection_needing_reauthorization_is_refused() {
    let f = fixture().await;
    f.records
        .mark_needs_reauthorization(CONN, "invalid_grant", now())
        .await
        .unwrap();
    let e = f.reclaimer.handle(&event("dry-run")).await.unwrap_err();
    assert!(
        matches!(e, ReclamationError::ConnectionUnavailable { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("re-authorization"));
}

// ----- data freshness and completeness ------------------------------------------------------

#[tokio::test]
async fn execute_is_refused_when_application_access_is_older_than_48_hours() {
    let f = fixture().await;
    let fresh = f.reclaimer.handle(&event("dry-run")).await.unwrap();
    assert_eq!(fresh.data_as_of, Some(now() - Duration::hours(1)));
    assert_eq!(fresh.max_data_age_hours, 48);
    assert!(fresh.warnings.is_empty(), "{:?}", fresh.warnings);

    let old = now() - Duration::hours(49);
    set_access_completed(&f, old).await;
    let e = f.reclaimer.handle(&event("execute")).await.unwrap_err();
    match &e {
        ReclamationError::StaleData {
            data_as_of,
            max_age_hours,
            ..
        } => assert_eq!((*data_as_of, *max_age_hours), (Some(old), 48)),
        other => panic!("{other}"),
    }
    assert_eq!(e.kind(), "StaleData");
    assert!(e.is_retryable() && !e.is_caller_error());
    let msg = e.to_string();
    assert!(
        msg.contains(
            "Application Access has not completed for this connection within the last 48 hours"
        ) && msg.contains("49.0 hours old")
            && msg.contains("nothing was changed")
            && msg.contains("max_data_age_hours"),
        "{msg}"
    );
    assert!(f.zoom.writes().is_empty(), "nothing is sent to Zoom");
    assert!(
        f.records
            .get_request("2026-11-q4-review")
            .await
            .unwrap()
            .is_none(),
        "the request id is not consumed"
    );

    // The dry run still works on the same data, says how old it is and warns.
    let dry = f.reclaimer.handle(&event("dry-run")).await.unwrap();
    assert_eq!(dry.data_as_of, Some(old));
    assert!(
        dry.warnings
            .iter()
            .any(|w| w.contains("within the last 48 hours") && w.contains("49.0 hours old")),
        "{:?}",
        dry.warnings
    );
    assert_eq!(
        by_user(&dry),
        by_user(&fresh),
        "same plan as with fresh data"
    );
    assert!(f.zoom.writes().is_empty());

    // The caller may accept older data (up to a week)...
    let mut ex = event("execute");
    ex["max_data_age_hours"] = json!(72);
    let done = f.reclaimer.handle(&ex).await.unwrap();
    assert_eq!(done.summary.acted, 2);
    assert_eq!(done.data_as_of, Some(old));
    assert_eq!(done.max_data_age_hours, 72);
}

#[tokio::test]
async fn data_exactly_48_hours_old_is_still_acted_on() {
    let f = fixture().await;
    set_access_completed(&f, now() - Duration::hours(48)).await;
    let done = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert_eq!(done.summary.acted, 2);
    set_access_completed(&f, now() - Duration::hours(48) - Duration::seconds(1)).await;
    let mut again = event("execute");
    again["request_id"] = json!("one-second-later");
    let e = f.reclaimer.handle(&again).await.unwrap_err();
    assert_eq!(e.kind(), "StaleData", "{e}");
}

#[tokio::test]
async fn an_account_that_never_completed_blocks_execute_and_removed_accounts_do_not() {
    let f = fixture().await;
    // A new sub account Application Access has not been through yet.
    let account = |id: &str, kind| AccountRecord {
        account_id: id.into(),
        kind,
        name: None,
        owner_email: None,
        account_type: None,
        seats: Some(10),
        created_at: None,
        removed_at: None,
    };
    let with_new = [
        account(MASTER, AccountKind::Master),
        account(SUB, AccountKind::Sub),
        account("sub-new", AccountKind::Sub),
    ];
    f.records
        .sync_accounts(CONN, &with_new, now())
        .await
        .unwrap();
    let e = f.reclaimer.handle(&event("execute")).await.unwrap_err();
    match &e {
        ReclamationError::StaleData { data_as_of, .. } => assert_eq!(*data_as_of, None),
        other => panic!("{other}"),
    }
    assert!(
        e.to_string()
            .contains("it never completed for account sub-new"),
        "{e}"
    );
    assert!(f.zoom.writes().is_empty());
    let dry = f.reclaimer.handle(&event("dry-run")).await.unwrap();
    assert_eq!(dry.data_as_of, None);
    let json = serde_json::to_value(&dry).unwrap();
    assert!(json["data_as_of"].is_null(), "shown as null");
    assert!(
        dry.warnings.iter().any(|w| w.contains("sub-new")),
        "{:?}",
        dry.warnings
    );

    // Once the account is removed from the connection, it no longer counts.
    f.records
        .sync_accounts(CONN, &with_new[..2], now())
        .await
        .unwrap();
    let done = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert_eq!(done.summary.acted, 2);
    assert_eq!(done.data_as_of, Some(now() - Duration::hours(1)));
}

#[tokio::test]
async fn the_oldest_account_completion_dates_the_data() {
    let f = fixture().await;
    f.records
        .update_connection(CONN, &|c| {
            let t = c.tasks.get_mut(ACCESS).unwrap();
            t.account_success_at
                .insert(MASTER.into(), now() - Duration::hours(2));
            t.account_success_at
                .insert(SUB.into(), now() - Duration::hours(60));
            // The task's latest success is recent, but the sub account's data is not.
            t.last_success_at = Some(now() - Duration::hours(2));
        })
        .await
        .unwrap();
    let e = f.reclaimer.handle(&event("execute")).await.unwrap_err();
    assert_eq!(e.kind(), "StaleData", "{e}");
    let dry = f.reclaimer.handle(&event("dry-run")).await.unwrap();
    assert_eq!(dry.data_as_of, Some(now() - Duration::hours(60)));
}

#[tokio::test]
async fn partial_activity_data_refuses_execute_and_names_the_scope() {
    let f = fixture().await;
    let note = MissingScopeNote {
        scope: "meeting:read:list_past_participants:admin".into(),
        not_collected: "Meeting Joined dates (past meeting participants)".into(),
        noticed_by: ACCESS.into(),
        activity: true,
        noticed_at: now() - Duration::hours(3),
    };
    f.records
        .update_connection(CONN, &move |c| c.missing_scopes = vec![note.clone()])
        .await
        .unwrap();
    let e = f.reclaimer.handle(&event("execute")).await.unwrap_err();
    match &e {
        ReclamationError::PartialActivityData { scopes, .. } => {
            assert_eq!(scopes, &["meeting:read:list_past_participants:admin"]);
        }
        other => panic!("{other}"),
    }
    assert_eq!(e.kind(), "PartialActivityData");
    assert!(e.is_caller_error() && !e.is_retryable());
    let msg = e.to_string();
    assert!(
        msg.contains("meeting:read:list_past_participants:admin")
            && msg.contains("Meeting Joined dates")
            && msg.contains("nothing was changed"),
        "{msg}"
    );
    assert!(f.zoom.writes().is_empty());
    // A generous data age does not help: the data is incomplete, not old.
    let mut ex = event("execute");
    ex["max_data_age_hours"] = json!(168);
    assert_eq!(
        f.reclaimer.handle(&ex).await.unwrap_err().kind(),
        "PartialActivityData"
    );
    let dry = f.reclaimer.handle(&event("dry-run")).await.unwrap();
    assert_eq!(dry.data_as_of, Some(now() - Duration::hours(1)));
    assert!(
        dry.warnings
            .iter()
            .any(|w| w.contains("activity data is partial")),
        "{:?}",
        dry.warnings
    );
    assert_eq!(dry.summary.would_act, 3);
    assert!(f.zoom.writes().is_empty());
}

#[tokio::test]
async fn a_missing_scope_that_is_not_about_activity_does_not_block() {
    let f = fixture().await;
    let note = MissingScopeNote {
        scope: "account:read:plan_usage:master".into(),
        not_collected: "plan usage of sub accounts".into(),
        noticed_by: "license-information".into(),
        activity: false,
        noticed_at: now(),
    };
    f.records
        .update_connection(CONN, &move |c| c.missing_scopes = vec![note.clone()])
        .await
        .unwrap();
    assert_eq!(
        f.reclaimer
            .handle(&event("execute"))
            .await
            .unwrap()
            .summary
            .acted,
        2
    );
}

#[tokio::test]
async fn reactivate_is_not_blocked_by_stale_or_partial_data() {
    let f = fixture().await;
    assert_eq!(
        f.reclaimer
            .handle(&event("execute"))
            .await
            .unwrap()
            .summary
            .acted,
        2
    );
    // The sync broke afterwards: undoing must still be possible (it reads no activity).
    set_access_completed(&f, now() - Duration::days(30)).await;
    let note = MissingScopeNote {
        scope: "report:read:admin".into(),
        not_collected: "Meeting Created dates".into(),
        noticed_by: ACCESS.into(),
        activity: true,
        noticed_at: now(),
    };
    f.records
        .update_connection(CONN, &move |c| c.missing_scopes = vec![note.clone()])
        .await
        .unwrap();
    let r = f.reclaimer.handle(&event("reactivate")).await.unwrap();
    assert_eq!(r.summary.acted, 2, "{r:#?}");
    assert!(r.warnings.is_empty());
    assert_eq!(r.data_as_of, Some(now() - Duration::days(30)));
}

// ----- one inactivity comparison: more than N whole days ----------------------------------

/// A policy dry run over the sub account (s5 was last active exactly 100 days ago).
async fn policy_outcome(f: &Fixture, inactive_days: u32, user: &str) -> Option<Outcome> {
    let mut ev = event("dry-run");
    ev["policy"]["inactive_days"] = json!(inactive_days);
    ev["policy"]["account_ids"] = json!([SUB]);
    let r = f.reclaimer.handle(&ev).await.unwrap();
    r.users
        .iter()
        .find(|u| u.user_key == user)
        .map(|u| u.outcome)
}

#[tokio::test]
async fn policy_selects_users_inactive_more_than_n_days() {
    let f = fixture().await;
    // Exactly N days: not selected.
    assert_eq!(policy_outcome(&f, 100, "s5").await, None);
    // N + 1 days: selected.
    assert_eq!(policy_outcome(&f, 99, "s5").await, Some(Outcome::WouldAct));
    // The same at execute.
    let mut ex = event("execute");
    ex["policy"]["inactive_days"] = json!(100);
    ex["policy"]["account_ids"] = json!([SUB]);
    let r = f.reclaimer.handle(&ex).await.unwrap();
    assert!(r.users.iter().all(|u| u.user_key != "s5"), "{r:#?}");
    assert!(f.zoom.writes().iter().all(|w| w.0 != "s5"));
}

#[tokio::test]
async fn explicit_users_must_be_inactive_more_than_the_connection_threshold() {
    let f = fixture().await;
    let with_threshold = |days: u16| {
        let records = f.records.clone();
        async move {
            records
                .update_connection(CONN, &move |c| {
                    c.settings.inactivity_threshold = InactivityThreshold::try_from(days).unwrap();
                })
                .await
                .unwrap();
        }
    };
    let mut ev = event("explicit-users");
    ev["mode"] = json!("dry_run");
    ev["users"] = json!(["s5"]);
    // s5 was inactive 100 days as of the last sync. Not more than 120: skipped from the stored
    // records (the exact boundary is the policy's test above: the same comparison).
    with_threshold(120).await;
    let r = f.reclaimer.handle(&ev).await.unwrap();
    assert_eq!(
        by_user(&r)["s5"],
        (Outcome::Skipped, Some("recently_active".into()))
    );
    assert!(
        r.users[0]
            .detail
            .contains("not more than the threshold of 120")
    );
    // More than 90: acted on.
    with_threshold(90).await;
    let r = f.reclaimer.handle(&ev).await.unwrap();
    assert_eq!(by_user(&r)["s5"], (Outcome::WouldAct, None));

    // The live re-check uses the same comparison: Zoom shows a login exactly 90 days ago.
    f.zoom
        .users
        .lock()
        .unwrap()
        .get_mut("s5")
        .unwrap()
        .last_login_time = Some(now() - Duration::days(90));
    let r = f.reclaimer.handle(&ev).await.unwrap();
    assert_eq!(
        by_user(&r)["s5"],
        (Outcome::Skipped, Some("logged_in_since_sync".into()))
    );
    assert_eq!(r.users[0].days_inactive, Some(90));
    f.zoom
        .users
        .lock()
        .unwrap()
        .get_mut("s5")
        .unwrap()
        .last_login_time = Some(now() - Duration::days(90) - Duration::hours(23));
    // 90 whole days (and 23 hours) is still not more than 90.
    let r = f.reclaimer.handle(&ev).await.unwrap();
    assert_eq!(by_user(&r)["s5"].0, Outcome::Skipped);
}

// ----- licenses_freed: seats as Zoom counts them --------------------------------------------

#[tokio::test]
async fn deactivation_frees_the_seat_even_when_zoom_still_lists_the_paid_type() {
    let f = fixture().await;
    f.zoom
        .keep_type_on_deactivate
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let r = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert_eq!(r.summary.acted, 2);
    for id in ["m1", "s5"] {
        let u = f.zoom.user(id);
        assert_eq!((u.status.as_str(), u.user_type), ("inactive", 2), "{id}");
        let line = r.users.iter().find(|u| u.user_key == id).unwrap();
        assert_eq!(line.license_change.as_deref(), Some("Business"), "{id}");
        assert_eq!(line.after.as_ref().unwrap()["type"], 2);
    }
    // Failed (s3), unchanged (s2) and skipped users free nothing.
    assert_eq!(r.summary.failed, 1);
    assert_eq!(r.summary.unchanged, 1);
    for u in &r.users {
        if u.outcome != Outcome::Acted {
            assert_eq!(u.license_change, None, "{u:?}");
        }
    }
    assert_eq!(
        r.summary.licenses_freed,
        [("Business".to_owned(), 2)].into()
    );
    assert!(r.summary.licenses_restored.is_empty());

    // A replay reports the same from the audit.
    let again = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.summary.licenses_freed, r.summary.licenses_freed);

    // Reactivating takes the seats again: restored, never freed.
    let undo = f.reclaimer.handle(&event("reactivate")).await.unwrap();
    assert_eq!(undo.summary.acted, 2, "{undo:#?}");
    assert!(undo.summary.licenses_freed.is_empty());
    assert_eq!(
        undo.summary.licenses_restored,
        [("Business".to_owned(), 2)].into()
    );
    let undo_again = f.reclaimer.handle(&event("reactivate")).await.unwrap();
    assert!(undo_again.replayed);
    assert_eq!(
        undo_again.summary.licenses_restored,
        undo.summary.licenses_restored
    );
    assert!(undo_again.summary.licenses_freed.is_empty());
}

#[tokio::test]
async fn deactivating_a_free_user_frees_nothing() {
    let f = fixture().await;
    // m1 holds no paid seat at Zoom any more (moved to Basic since the sync).
    f.zoom
        .users
        .lock()
        .unwrap()
        .get_mut("m1")
        .unwrap()
        .user_type = 1;
    let mut ev = event("explicit-users");
    ev["users"] = json!(["m1", "s5"]);
    let dry = {
        let mut d = ev.clone();
        d["mode"] = json!("dry_run");
        f.reclaimer.handle(&d).await.unwrap()
    };
    assert_eq!(dry.summary.would_act, 2);
    assert_eq!(
        dry.summary.licenses_freed,
        [("Business".to_owned(), 1)].into()
    );
    let r = f.reclaimer.handle(&ev).await.unwrap();
    assert_eq!(r.summary.acted, 2);
    let m1 = r.users.iter().find(|u| u.user_key == "m1").unwrap();
    assert_eq!(m1.license_change, None);
    assert_eq!(
        r.summary.licenses_freed,
        [("Business".to_owned(), 1)].into()
    );
    let again = f.reclaimer.handle(&ev).await.unwrap();
    assert_eq!(again.summary.licenses_freed, r.summary.licenses_freed);
}

// ----- roles: every role but member is protected unless the request allows it ---------------

#[tokio::test]
async fn a_custom_admin_role_is_protected_unless_the_request_allows_it() {
    let f = fixture().await;
    // s5 (an inactive member, reclaimed by default) now holds a custom role at Zoom.
    f.zoom
        .users
        .lock()
        .unwrap()
        .get_mut("s5")
        .unwrap()
        .role_name = Some("IT Admin".into());
    let mut ev = event("explicit-users");
    ev["mode"] = json!("dry_run");
    ev["users"] = json!(["s5"]);
    let r = f.reclaimer.handle(&ev).await.unwrap();
    assert_eq!(
        by_user(&r)["s5"],
        (Outcome::Skipped, Some("owner_or_admin".into()))
    );
    assert!(
        r.users[0].detail.contains("IT Admin"),
        "{}",
        r.users[0].detail
    );

    ev["allowed_roles"] = json!(["it admin"]);
    let r = f.reclaimer.handle(&ev).await.unwrap();
    assert_eq!(by_user(&r)["s5"], (Outcome::WouldAct, None));

    // The owner role can never be allowed.
    ev["allowed_roles"] = json!(["Owner"]);
    let e = f.reclaimer.handle(&ev).await.unwrap_err();
    assert!(
        e.to_string().contains("owner role can never be allowed"),
        "{e}"
    );
}

// ----- size: a dry run over a large policy stays bounded --------------------------------------

#[tokio::test]
async fn a_dry_run_over_5000_candidates_is_bounded_and_under_6_mb() {
    let f = fixture().await;
    let n = 5_000;
    let roster: Vec<UserRecord> = (0..n)
        .map(|i| UserRecord {
            user_id: Some(format!("bulk{i:05}")),
            email: format!("bulk{i:05}@example.com"),
            first_name: Some(format!("Bulk {i}")),
            last_name: Some("Member".into()),
            user_type: 2,
            status: "active".into(),
            role_id: None,
            role_name: Some("Member".into()),
            account_id: MASTER.into(),
            active_date: Some(now() - Duration::days(1000)),
            license_name: Some("Business".into()),
            removed_at: None,
        })
        .collect();
    f.records.upsert_users(CONN, &roster).await.unwrap();
    let access: Vec<UserAccess> = roster
        .iter()
        .map(|u| UserAccess {
            user_key: u.key(),
            account_id: MASTER.into(),
            dates: ActivityDates {
                last_login: Some(now() - Duration::days(300)),
                last_meeting_created: None,
                last_meeting_joined: None,
            },
        })
        .collect();
    f.records.upsert_access(CONN, &access).await.unwrap();
    {
        let mut live = f.zoom.users.lock().unwrap();
        for u in &roster {
            let id = u.user_id.clone().unwrap();
            live.insert(
                id.clone(),
                LiveUser {
                    id,
                    email: u.email.clone(),
                    account_id: Some(MASTER.into()),
                    user_type: 2,
                    status: "active".into(),
                    role_id: None,
                    role_name: Some("Member".into()),
                    last_login_time: Some(now() - Duration::days(300)),
                },
            );
        }
    }

    let r = f.reclaimer.handle(&event("dry-run")).await.unwrap();
    let reads = f.zoom.reads.load(std::sync::atomic::Ordering::Relaxed);
    assert!(reads <= DRY_RUN_LIVE_CHECKS, "{reads} live checks");
    assert!(r.summary.not_checked_live >= (n - DRY_RUN_LIVE_CHECKS) as u64);
    assert!(r.summary.selected >= n as u64, "every candidate is counted");
    assert!(r.users.len() <= MAX_LISTED_USERS);
    assert!(
        r.warnings.iter().any(|w| w.contains("not checked at Zoom")),
        "{:?}",
        r.warnings
    );
    let bytes = serde_json::to_vec(&r).unwrap().len();
    assert!(bytes < 6 * 1024 * 1024, "{bytes} bytes");
}

// ----- audit intents: written before each Zoom change, resolved by reactivate ---------------

const EXECUTED: &str = "2026-11-q4-review";

/// Runs `ev` until the fake Zoom "crashes" (as planned in `f.zoom.crash`), then drops the
/// invocation: what Lambda's timeout or a killed instance leaves behind.
async fn crash_during(f: &Fixture, ev: &Value) {
    let run = f.reclaimer.handle(ev);
    tokio::select! {
        r = run => panic!("the invocation should have crashed: {r:?}"),
        _ = f.zoom.crashed.notified() => {}
    }
}

/// The crashed request's lease expiring (16 minutes later): released as its holder.
async fn expire_lease(f: &Fixture, request_id: &str) {
    let name = format!("reclamation#{request_id}");
    let lease = f
        .records
        .get_lease(&name)
        .await
        .unwrap()
        .expect("the lease is held");
    assert!(f.records.release(&name, &lease.owner).await.unwrap());
}

async fn entry_of(f: &Fixture, request_id: &str, user_key: &str) -> AuditEntry {
    let entries: Vec<AuditEntry> = f
        .records
        .list_request_entries(request_id)
        .try_collect()
        .await
        .unwrap();
    entries
        .into_iter()
        .find(|e| e.user_key == user_key)
        .unwrap_or_else(|| panic!("no entry of {user_key} in {request_id}"))
}

fn undo(request_id: &str) -> Value {
    let mut ev = event("reactivate");
    ev["request_id"] = json!(request_id);
    ev
}

fn line<'a>(r: &'a ReclamationResponse, user_key: &str) -> &'a reclamation::UserResult {
    r.users.iter().find(|u| u.user_key == user_key).unwrap()
}

#[tokio::test]
async fn every_zoom_change_is_preceded_by_its_audit_intent_and_completed_after() {
    let f = fixture().await;
    *f.zoom.audit.lock().unwrap() = Some(f.records.clone());
    let r = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert_eq!(r.summary.acted, 2);
    // m1, s3 (refused by Zoom) and s5 were written to; each found its intent stored.
    let mut seen = f.zoom.intent_at_write.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("m1".to_owned(), true),
            ("s3".to_owned(), true),
            ("s5".to_owned(), true)
        ]
    );
    // Completed after: done with the outcome, failed with Zoom's error; users never sent to
    // Zoom get one finished entry. The response shows the state recorded.
    let m1 = entry_of(&f, EXECUTED, "m1").await;
    assert_eq!((m1.state, m1.outcome.as_str()), (AuditState::Done, "acted"));
    assert_eq!(m1.after["status"], "inactive");
    assert_eq!(m1.before["license_name"], "Business");
    let s3 = entry_of(&f, EXECUTED, "s3").await;
    assert_eq!(
        (s3.state, s3.outcome.as_str()),
        (AuditState::Failed, "failed")
    );
    assert!(
        s3.reason
            .as_deref()
            .unwrap()
            .contains("upcoming Zoom Events"),
        "{s3:?}"
    );
    let adm = entry_of(&f, EXECUTED, "adm").await;
    assert_eq!(
        (adm.state, adm.outcome.as_str()),
        (AuditState::Done, "skipped")
    );
    assert_eq!(line(&r, "m1").audit_state, Some(AuditState::Done));
    assert_eq!(line(&r, "s3").audit_state, Some(AuditState::Failed));

    // Reactivate's own changes are journaled the same way.
    f.zoom.intent_at_write.lock().unwrap().clear();
    let back = f.reclaimer.handle(&event("reactivate")).await.unwrap();
    assert_eq!(back.summary.acted, 2, "{back:#?}");
    let seen = f.zoom.intent_at_write.lock().unwrap().clone();
    assert!(
        seen.len() >= 2 && seen.iter().all(|(_, found)| *found),
        "{seen:?}"
    );
    let m1_back = entry_of(&f, "2026-11-q4-review-undo", "m1").await;
    assert_eq!(
        (m1_back.state, m1_back.outcome.as_str()),
        (AuditState::Done, "acted")
    );
}

#[tokio::test]
async fn a_crash_after_the_zoom_change_leaves_an_intent_that_reactivate_undoes() {
    let f = fixture().await;
    f.zoom
        .crash
        .lock()
        .unwrap()
        .insert("m1".into(), Crash::AfterChange);
    crash_during(&f, &event("execute")).await;
    // Zoom deactivated m1; the audit holds the intent, with what reactivate needs.
    assert_eq!(f.zoom.user("m1").status, "inactive");
    let intent = entry_of(&f, EXECUTED, "m1").await;
    assert_eq!(intent.state, AuditState::Intent);
    assert_eq!(intent.outcome, "unknown");
    assert_eq!(intent.action, "deactivate");
    assert_eq!(
        (intent.account_id.as_str(), intent.user_key.as_str()),
        (MASTER, "m1")
    );
    assert_eq!(intent.before["status"], "active");
    assert_eq!(intent.before["type"], 2);
    assert_eq!(intent.before["license_name"], "Business");
    assert_eq!(intent.requested_by, "it-admin@example.com");
    assert_eq!(intent.at, now());
    let history: Vec<AuditEntry> = f
        .records
        .list_user_entries(CONN, "m1")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(history, vec![intent.clone()]);

    // While the crashed request still holds its lease, its intents are left alone.
    let writes = f.zoom.writes().len();
    let early = f.reclaimer.handle(&undo("undo-too-early")).await.unwrap();
    assert_eq!(
        line(&early, "m1").reason.as_deref(),
        Some("earlier_request_running"),
        "{early:#?}"
    );
    assert_eq!(f.zoom.writes().len(), writes);
    assert_eq!(entry_of(&f, EXECUTED, "m1").await.state, AuditState::Intent);
    expire_lease(&f, EXECUTED).await;

    // An owner or admin is never acted on, intent or not.
    f.zoom
        .users
        .lock()
        .unwrap()
        .get_mut("m1")
        .unwrap()
        .role_name = Some("Admin".into());
    let refused = f.reclaimer.handle(&undo("undo-admin")).await.unwrap();
    assert_eq!(
        line(&refused, "m1").reason.as_deref(),
        Some("owner_or_admin")
    );
    assert_eq!(f.zoom.writes().len(), writes);
    assert_eq!(entry_of(&f, EXECUTED, "m1").await.state, AuditState::Intent);
    f.zoom
        .users
        .lock()
        .unwrap()
        .get_mut("m1")
        .unwrap()
        .role_name = Some("Member".into());

    // A dry run says what it would do, from the live state.
    let mut dry = undo("undo-dry");
    dry["mode"] = json!("dry_run");
    let plan = f.reclaimer.handle(&dry).await.unwrap();
    let m1 = line(&plan, "m1");
    assert_eq!(m1.outcome, Outcome::WouldAct, "{m1:?}");
    assert_eq!(m1.reason.as_deref(), Some("outcome_was_unknown"));
    assert_eq!(f.zoom.writes().len(), writes);

    // Reactivate reads m1 live: deactivated, so the change happened; undone as if recorded.
    let r = f.reclaimer.handle(&undo("undo-after-crash")).await.unwrap();
    let m1 = line(&r, "m1");
    assert_eq!(m1.outcome, Outcome::Acted, "{m1:?}");
    assert_eq!(m1.reason.as_deref(), Some("outcome_was_unknown"));
    assert!(m1.detail.contains("never recorded"), "{}", m1.detail);
    assert_eq!(r.summary.licenses_restored.get("Business"), Some(&1));
    let u = f.zoom.user("m1");
    assert_eq!((u.status.as_str(), u.user_type), ("active", 2));
    assert_eq!(
        r.users.len(),
        1,
        "only the intent: nobody else was acted on"
    );
    // The earlier entry is completed from what Zoom showed.
    let resolved = entry_of(&f, EXECUTED, "m1").await;
    assert_eq!(
        (resolved.state, resolved.outcome.as_str()),
        (AuditState::Done, "acted")
    );
    assert_eq!(resolved.after["status"], "inactive");
    assert!(
        resolved
            .reason
            .as_deref()
            .unwrap()
            .starts_with("outcome_was_unknown: resolved at"),
        "{resolved:?}"
    );
    assert_eq!(resolved.at, intent.at);
    assert_eq!(
        entry_of(&f, "undo-after-crash", "m1").await.state,
        AuditState::Done
    );
}

#[tokio::test]
async fn reactivate_marks_an_intent_that_never_reached_zoom_not_applied() {
    let f = fixture().await;
    f.zoom
        .crash
        .lock()
        .unwrap()
        .insert("m1".into(), Crash::BeforeChange);
    crash_during(&f, &event("execute")).await;
    assert_eq!(f.zoom.user("m1").status, "active");
    assert_eq!(entry_of(&f, EXECUTED, "m1").await.state, AuditState::Intent);
    expire_lease(&f, EXECUTED).await;

    // A replay reports the intent's outcome as unknown and finishes the users never reached.
    let replay = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert!(replay.replayed);
    let m1 = line(&replay, "m1");
    assert_eq!(m1.outcome, Outcome::Unknown, "{m1:?}");
    assert_eq!(m1.reason.as_deref(), Some("unknown_outcome"));
    assert_eq!(m1.audit_state, Some(AuditState::Intent));
    assert_eq!(replay.summary.unknown, 1);
    assert_eq!(line(&replay, "s5").outcome, Outcome::Acted);
    assert_eq!(
        f.zoom.user("m1").status,
        "active",
        "the replay leaves the intent"
    );

    // Reactivate reads m1 live: still active, so nothing is sent for m1; s5 is restored.
    let writes = f.zoom.writes().len();
    let r = f.reclaimer.handle(&event("reactivate")).await.unwrap();
    let m1 = line(&r, "m1");
    assert_eq!(m1.outcome, Outcome::Unchanged, "{m1:?}");
    assert_eq!(m1.reason.as_deref(), Some("not_applied"));
    assert!(m1.detail.contains("never reached Zoom"), "{}", m1.detail);
    assert_eq!(line(&r, "s5").outcome, Outcome::Acted);
    assert!(
        f.zoom.writes()[writes..].iter().all(|(id, _)| id != "m1"),
        "{:?}",
        f.zoom.writes()
    );
    let u = f.zoom.user("m1");
    assert_eq!((u.status.as_str(), u.user_type), ("active", 2));
    let resolved = entry_of(&f, EXECUTED, "m1").await;
    assert_eq!(
        (resolved.state, resolved.outcome.as_str()),
        (AuditState::NotApplied, "unchanged")
    );
    assert_eq!(resolved.after["status"], "active");
    // Resolved once: a second reactivate finds nothing left to undo for m1.
    let again = f.reclaimer.handle(&undo("undo-again")).await.unwrap();
    assert!(again.users.iter().all(|u| u.user_key != "m1"), "{again:#?}");
}

/// The audit store with every completion failing (DynamoDB unreachable after the Zoom call).
struct CompletionFails(Records);

#[async_trait]
impl AuditStore for CompletionFails {
    async fn begin_request(&self, request: &AuditRequest) -> Result<bool, StoreError> {
        self.0.begin_request(request).await
    }
    async fn get_request(&self, id: &str) -> Result<Option<AuditRequest>, StoreError> {
        self.0.get_request(id).await
    }
    async fn record_entry(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        self.0.record_entry(entry).await
    }
    async fn complete_entry(&self, _: &AuditEntry) -> Result<bool, StoreError> {
        Err(StoreError::Dynamo {
            op: "PutItem",
            message: "connection reset".into(),
        })
    }
    fn list_request_entries<'a>(
        &'a self,
        id: &'a str,
    ) -> futures::stream::BoxStream<'a, Result<AuditEntry, StoreError>> {
        self.0.list_request_entries(id)
    }
    fn list_user_entries<'a>(
        &'a self,
        cid: &'a str,
        key: &'a str,
    ) -> futures::stream::BoxStream<'a, Result<AuditEntry, StoreError>> {
        self.0.list_user_entries(cid, key)
    }
}

#[tokio::test]
async fn a_failed_completion_stops_the_run_and_leaves_the_intent_for_reactivate() {
    let f = fixture().await;
    let mut stores = Stores::from_store(Arc::new(f.records.clone()));
    stores.audit = Arc::new(CompletionFails(f.records.clone()));
    let broken =
        Reclaimer::new(stores, Arc::new(Connector(f.zoom.clone()))).with_clock(Arc::new(now));
    let e = broken.handle(&event("execute")).await.unwrap_err();
    assert!(matches!(e, ReclamationError::Store(_)), "{e}");
    assert!(e.is_retryable());
    // m1 was deactivated; nobody after m1 was sent to Zoom.
    assert_eq!(
        f.zoom.writes(),
        vec![("m1".to_owned(), "deactivate".to_owned())]
    );
    assert_eq!(entry_of(&f, EXECUTED, "m1").await.state, AuditState::Intent);

    // The failed run released its lease: reactivate resolves the intent at once.
    let r = f.reclaimer.handle(&event("reactivate")).await.unwrap();
    assert_eq!(line(&r, "m1").outcome, Outcome::Acted, "{r:#?}");
    assert_eq!(f.zoom.user("m1").status, "active");
    assert_eq!(entry_of(&f, EXECUTED, "m1").await.state, AuditState::Done);
}

// ----- lost answers: a failed write is read back before it is called failed ----------------

/// The fake's user `id` as `(status, type)`.
fn state_of(f: &Fixture, id: &str) -> (String, i64) {
    let u = f.zoom.user(id);
    (u.status, u.user_type)
}

/// `r`'s line of `id` has `after` as the fake shows the user.
fn assert_after_is_live(r: &ReclamationResponse, f: &Fixture, id: &str) {
    let (status, user_type) = state_of(f, id);
    let after = line(r, id).after.as_ref().expect("after");
    assert_eq!(
        (after["status"].as_str(), after["type"].as_i64()),
        (Some(status.as_str()), Some(user_type)),
        "{id}"
    );
}

#[tokio::test]
async fn a_lost_answer_with_the_change_made_is_acted_and_done() {
    let f = fixture().await;
    f.zoom.lose_next_answer("m1", true);
    let r = f.reclaimer.handle(&event("execute")).await.unwrap();
    // The fake carried the deactivation out (and dropped the type to Basic) but answered 502.
    assert_eq!(state_of(&f, "m1"), ("inactive".into(), 1));
    assert!(
        f.zoom
            .writes()
            .contains(&("m1".to_owned(), "deactivate".to_owned()))
    );
    // Acted, as if Zoom had answered: the lines and the seats are those of a clean run.
    assert_eq!(by_user(&r), expected_execute());
    let m1 = line(&r, "m1");
    assert!(
        m1.detail
            .starts_with("deactivated (Zoom's answer was lost; its live state shows the change)"),
        "{}",
        m1.detail
    );
    assert_eq!(m1.error, None);
    assert_eq!(m1.license_change.as_deref(), Some("Business"));
    assert_eq!(m1.audit_state, Some(AuditState::Done));
    assert_after_is_live(&r, &f, "m1");
    assert_eq!(
        (r.summary.acted, r.summary.failed, r.summary.unknown),
        (2, 1, 0)
    );
    assert_eq!(
        r.summary.licenses_freed,
        [("Business".to_owned(), 2)].into()
    );
    let entry = entry_of(&f, EXECUTED, "m1").await;
    assert_eq!(
        (entry.state, entry.outcome.as_str()),
        (AuditState::Done, "acted")
    );
    assert_eq!(entry.after["status"], "inactive");
    assert_eq!(entry.before["status"], "active");

    // Reactivate's own activate answer is lost too, the fake activating m1: acted, and the
    // type is restored after it.
    f.zoom.lose_next_answer("m1", true);
    let back = f.reclaimer.handle(&event("reactivate")).await.unwrap();
    assert_eq!(back.summary.acted, 2, "{back:#?}");
    assert_eq!(back.summary.unknown + back.summary.failed, 0);
    assert_eq!(state_of(&f, "m1"), ("active".into(), 2));
    assert_eq!(
        back.summary.licenses_restored,
        [("Business".to_owned(), 2)].into()
    );
    assert_after_is_live(&back, &f, "m1");
    let undo = entry_of(&f, "2026-11-q4-review-undo", "m1").await;
    assert_eq!(
        (undo.state, undo.outcome.as_str()),
        (AuditState::Done, "acted")
    );
}

#[tokio::test]
async fn a_lost_answer_without_the_change_is_failed() {
    let f = fixture().await;
    f.zoom.lose_next_answer("m1", false);
    let r = f.reclaimer.handle(&event("execute")).await.unwrap();
    // The fake never carried the write out.
    assert_eq!(state_of(&f, "m1"), ("active".into(), 2));
    assert!(f.zoom.writes().iter().all(|(id, _)| id != "m1"));
    let m1 = line(&r, "m1");
    assert_eq!(
        (m1.outcome, m1.reason.as_deref()),
        (Outcome::Failed, Some("zoom_error")),
        "{m1:?}"
    );
    assert!(
        m1.detail.contains("Zoom refused to deactivate the user")
            && m1.detail.contains("Bad Gateway")
            && m1.detail.contains("temporary"),
        "{}",
        m1.detail
    );
    assert_eq!(m1.error.as_ref().and_then(|e| e.status), Some(502));
    assert_eq!(m1.license_change, None);
    assert_eq!(m1.audit_state, Some(AuditState::Failed));
    assert_eq!(
        (r.summary.acted, r.summary.failed, r.summary.unknown),
        (1, 2, 0)
    );
    assert_eq!(
        r.summary.licenses_freed,
        [("Business".to_owned(), 1)].into()
    );
    let entry = entry_of(&f, EXECUTED, "m1").await;
    assert_eq!(
        (entry.state, entry.outcome.as_str()),
        (AuditState::Failed, "failed")
    );

    // Reactivate leaves m1 alone; s5's activate answer is lost without the change: failed,
    // and s5 stays deactivated at the fake.
    let writes = f.zoom.writes().len();
    f.zoom.lose_next_answer("s5", false);
    let back = f.reclaimer.handle(&event("reactivate")).await.unwrap();
    assert_eq!(state_of(&f, "s5").0, "inactive");
    let s5 = line(&back, "s5");
    assert_eq!(s5.outcome, Outcome::Failed, "{s5:?}");
    assert!(
        s5.detail.contains("Zoom refused to activate the user"),
        "{}",
        s5.detail
    );
    assert!(back.summary.licenses_restored.is_empty());
    assert_eq!(f.zoom.writes().len(), writes, "nothing was carried out");
    assert_eq!(
        entry_of(&f, "2026-11-q4-review-undo", "s5").await.state,
        AuditState::Failed
    );
    // A new reactivate restores s5.
    let again = f.reclaimer.handle(&undo("undo-retry")).await.unwrap();
    assert_eq!(line(&again, "s5").outcome, Outcome::Acted, "{again:#?}");
    assert_eq!(state_of(&f, "s5"), ("active".into(), 2));
    assert!(f.zoom.writes()[writes..].iter().all(|(id, _)| id != "m1"));
}

#[tokio::test]
async fn a_lost_answer_that_cannot_be_read_back_stays_an_intent_for_reactivate() {
    let f = fixture().await;
    // m1: deactivated, answer lost; s5: never deactivated, answer lost; s3: refused (400).
    // After its write, none of them can be read (Zoom unreachable).
    f.zoom
        .lost_answers
        .lock()
        .unwrap()
        .extend([("m1".to_owned(), true), ("s5".to_owned(), false)]);
    f.zoom.unreadable_after_write.lock().unwrap().extend([
        "m1".to_owned(),
        "s5".to_owned(),
        "s3".to_owned(),
    ]);
    let r = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert_eq!(state_of(&f, "m1"), ("inactive".into(), 1));
    assert_eq!(state_of(&f, "s5"), ("active".into(), 2));
    assert_eq!(
        f.zoom.unreadable.lock().unwrap().len(),
        3,
        "each write was made, then the reads failed"
    );

    // Neither acted nor failed: unknown, the audit intent kept, no seat counted.
    let mut expected = expected_execute();
    for id in ["m1", "s5"] {
        expected.insert(
            id.into(),
            (Outcome::Unknown, Some("unknown_outcome".into())),
        );
    }
    assert_eq!(by_user(&r), expected);
    for id in ["m1", "s5"] {
        let u = line(&r, id);
        assert_eq!(u.audit_state, Some(AuditState::Intent), "{id}");
        assert_eq!(u.license_change, None, "{id}");
        assert_eq!(u.error.as_ref().and_then(|e| e.status), Some(502), "{id}");
        assert!(
            u.detail.contains("could not be read back") && u.detail.contains("reactivate"),
            "{id}: {}",
            u.detail
        );
        let entry = entry_of(&f, EXECUTED, id).await;
        assert_eq!(
            (entry.state, entry.outcome.as_str()),
            (AuditState::Intent, "unknown"),
            "{id}"
        );
        assert_eq!(entry.after, Value::Null, "{id}");
        assert_eq!(entry.before["type"], 2, "{id}");
    }
    // A refusal (4xx) is failed even when the user cannot be read back.
    let s3 = line(&r, "s3");
    assert_eq!(s3.audit_state, Some(AuditState::Failed));
    assert_eq!(s3.error.as_ref().and_then(|e| e.status), Some(400));
    assert_eq!(
        (r.summary.acted, r.summary.failed, r.summary.unknown),
        (0, 1, 2)
    );
    assert!(r.summary.licenses_freed.is_empty(), "{:?}", r.summary);

    // A replay reports the same and sends nothing.
    let writes = f.zoom.writes().len();
    let replay = f.reclaimer.handle(&event("execute")).await.unwrap();
    assert!(replay.replayed);
    assert_eq!(by_user(&replay), expected);
    assert!(replay.summary.licenses_freed.is_empty());
    assert_eq!(f.zoom.writes().len(), writes);

    // Zoom healthy again: reactivate settles each intent from the live status. m1 shows the
    // deactivation: undone, recorded done. s5 shows none: nothing sent, recorded not applied.
    f.zoom.heal();
    let back = f.reclaimer.handle(&event("reactivate")).await.unwrap();
    let m1 = line(&back, "m1");
    assert_eq!(
        (m1.outcome, m1.reason.as_deref()),
        (Outcome::Acted, Some("outcome_was_unknown")),
        "{m1:?}"
    );
    assert_eq!(state_of(&f, "m1"), ("active".into(), 2));
    let s5 = line(&back, "s5");
    assert_eq!(
        (s5.outcome, s5.reason.as_deref()),
        (Outcome::Unchanged, Some("not_applied")),
        "{s5:?}"
    );
    assert!(f.zoom.writes()[writes..].iter().all(|(id, _)| id != "s5"));
    assert_eq!(state_of(&f, "s5"), ("active".into(), 2));
    assert_eq!(
        back.summary.licenses_restored,
        [("Business".to_owned(), 1)].into()
    );
    assert_eq!(back.users.len(), 2, "m1 and s5 only: {back:#?}");

    let m1_entry = entry_of(&f, EXECUTED, "m1").await;
    assert_eq!(
        (m1_entry.state, m1_entry.outcome.as_str()),
        (AuditState::Done, "acted")
    );
    assert_eq!(m1_entry.after["status"], "inactive");
    assert!(
        m1_entry
            .reason
            .as_deref()
            .unwrap()
            .starts_with("outcome_was_unknown: resolved at"),
        "{m1_entry:?}"
    );
    let s5_entry = entry_of(&f, EXECUTED, "s5").await;
    assert_eq!(
        (s5_entry.state, s5_entry.outcome.as_str()),
        (AuditState::NotApplied, "unchanged")
    );
    assert_eq!(s5_entry.after["status"], "active");
    assert_eq!(
        entry_of(&f, "2026-11-q4-review-undo", "m1").await.state,
        AuditState::Done
    );
    // Settled once: a new reactivate finds nothing left to undo.
    let writes = f.zoom.writes().len();
    let again = f.reclaimer.handle(&undo("undo-again")).await.unwrap();
    assert!(
        again
            .users
            .iter()
            .all(|u| u.outcome == Outcome::Unchanged && u.license_change.is_none()),
        "{again:#?}"
    );
    assert_eq!(f.zoom.writes().len(), writes);
}

#[tokio::test]
async fn a_lost_downgrade_answer_is_read_back_by_type() {
    const DOWNGRADE: &str = "2026-11-business-subs";
    let downgrade = || {
        let mut ev = event("policy");
        ev["mode"] = json!("execute");
        ev["policy"]["inactive_days"] = json!(90);
        ev["policy"]["account_ids"] = json!([MASTER]);
        ev
    };
    // The change shown (type 1 while still active): acted with the lost answer said.
    let f = fixture().await;
    f.zoom.lose_next_answer("m1", true);
    let r = f.reclaimer.handle(&downgrade()).await.unwrap();
    assert_eq!(state_of(&f, "m1"), ("active".into(), 1));
    let m1 = line(&r, "m1");
    assert_eq!(m1.outcome, Outcome::Acted, "{m1:?}");
    assert!(
        m1.detail
            .starts_with("downgraded to Basic (Zoom's answer was lost"),
        "{}",
        m1.detail
    );
    assert_after_is_live(&r, &f, "m1");
    assert_eq!(
        r.summary.licenses_freed,
        [("Business".to_owned(), 1)].into()
    );
    assert_eq!(entry_of(&f, DOWNGRADE, "m1").await.state, AuditState::Done);

    // Not readable after the lost answer: unknown, the intent kept; reactivate finds type 1
    // where the intent recorded 2 and restores it.
    let f = fixture().await;
    f.zoom.lose_next_answer("m1", true);
    f.zoom.unreadable_after_next_write("m1");
    let r = f.reclaimer.handle(&downgrade()).await.unwrap();
    assert_eq!(state_of(&f, "m1"), ("active".into(), 1));
    let m1 = line(&r, "m1");
    assert_eq!(
        (m1.outcome, m1.audit_state),
        (Outcome::Unknown, Some(AuditState::Intent)),
        "{m1:?}"
    );
    assert!(r.summary.licenses_freed.is_empty());
    assert_eq!(
        entry_of(&f, DOWNGRADE, "m1").await.state,
        AuditState::Intent
    );
    f.zoom.heal();
    let mut ev = undo("undo-downgrade");
    ev["restore_request_id"] = json!(DOWNGRADE);
    let back = f.reclaimer.handle(&ev).await.unwrap();
    let m1 = line(&back, "m1");
    assert_eq!(
        (m1.outcome, m1.reason.as_deref()),
        (Outcome::Acted, Some("outcome_was_unknown")),
        "{m1:?}"
    );
    assert_eq!(state_of(&f, "m1"), ("active".into(), 2));
    assert_eq!(
        back.summary.licenses_restored,
        [("Business".to_owned(), 1)].into()
    );
    let entry = entry_of(&f, DOWNGRADE, "m1").await;
    assert_eq!(
        (entry.state, entry.outcome.as_str()),
        (AuditState::Done, "acted")
    );
    assert_eq!(entry.after["type"], 1);
}

// ----- notify, then reclaim ----------------------------------------------------------------

use ports::{OpportunityRecord, OpportunityState, OpportunityStore, RecordingNotifier};

/// A reclaimer on the fixture's stores and Zoom with a clock the test moves and a recording
/// notifier.
fn notifying(f: &Fixture, at: Arc<Mutex<DateTime<Utc>>>) -> (Reclaimer, Arc<RecordingNotifier>) {
    let notifier = Arc::new(RecordingNotifier::new());
    let reclaimer = Reclaimer::new(
        Stores::from_store(Arc::new(f.records.clone())),
        Arc::new(Connector(f.zoom.clone())),
    )
    .with_clock(Arc::new(move || *at.lock().unwrap()))
    .with_notifier(notifier.clone());
    (reclaimer, notifier)
}

async fn opportunity(f: &Fixture, account: &str, user: &str) -> Option<OpportunityRecord> {
    f.records
        .get_opportunity(CONN, account, user)
        .await
        .unwrap()
}

fn steps(o: &OpportunityRecord) -> Vec<OpportunityState> {
    o.history.iter().map(|s| s.state).collect()
}

fn keys_with(r: &ReclamationResponse, outcome: Outcome) -> HashSet<String> {
    r.users
        .iter()
        .filter(|u| u.outcome == outcome)
        .map(|u| u.user_key.clone())
        .collect()
}

fn set(keys: &[&str]) -> HashSet<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

#[tokio::test]
async fn notify_then_reclaim_acts_only_on_users_still_inactive_after_the_grace_period() {
    let f = fixture().await;
    let clock = Arc::new(Mutex::new(now()));
    let (reclaimer, notifier) = notifying(&f, clock.clone());
    let notified_at = now();
    let grace_end = notified_at + Duration::days(7);

    // The dry run names who would be notified (the live re-check of an immediate reclaim:
    // m1, s3 and s5 are inactive beyond 90 days; s1 logged in since the sync, s2 is already
    // deactivated, adm is an admin, prot protected, s4 gone) and sends and writes nothing.
    let dry = reclaimer.handle(&event("notify-dry-run")).await.unwrap();
    assert_eq!(keys_with(&dry, Outcome::WouldAct), set(&["m1", "s3", "s5"]));
    assert!(dry.users.iter().all(|u| u.license_change.is_none()));
    assert!(dry.summary.licenses_freed.is_empty());
    assert!(notifier.sent().is_empty());
    assert!(opportunity(&f, MASTER, "m1").await.is_none());

    let r = reclaimer.handle(&event("notify")).await.unwrap();
    assert_eq!(
        keys_with(&r, Outcome::Acted),
        set(&["m1", "s3", "s5"]),
        "{r:#?}"
    );
    let reasons = by_user(&r);
    assert_eq!(reasons["adm"].1.as_deref(), Some("owner_or_admin"));
    assert_eq!(reasons["prot"].1.as_deref(), Some("protected"));
    assert_eq!(reasons["s1"].1.as_deref(), Some("logged_in_since_sync"));
    assert_eq!(r.summary.opportunities.get("notified"), Some(&3));
    assert!(
        f.zoom.writes().is_empty(),
        "a notice changes nothing at Zoom"
    );
    let mut to: Vec<String> = notifier.sent().into_iter().map(|(_, n)| n.to).collect();
    to.sort();
    assert_eq!(
        to,
        vec!["m1@example.com", "s3@example.com", "s5@example.com"]
    );
    for (id, n) in notifier.sent() {
        assert!(n.text.contains("Business license"), "{}", n.text);
        assert!(n.text.contains("2026-12-05 12:00 UTC"), "{}", n.text);
        assert!(
            n.text
                .contains("sign in to Zoom, or host or join a meeting")
        );
        let key = n.to.trim_end_matches("@example.com");
        let account = if key == "m1" { MASTER } else { SUB };
        let o = opportunity(&f, account, key).await.unwrap();
        assert_eq!(o.state, OpportunityState::Notified);
        assert_eq!(o.message_id.as_deref(), Some(id.0.as_str()));
        assert_eq!(
            (o.notified_at, o.grace_ends_at),
            (Some(notified_at), Some(grace_end))
        );
        assert_eq!(
            steps(&o),
            vec![OpportunityState::Opportunity, OpportunityState::Notified]
        );
        assert_eq!(o.history[1].by, "it-admin@example.com");
        assert_eq!(o.history[1].request_id, "2026-12-notify-q4");
    }
    for (account, never) in [(MASTER, "adm"), (SUB, "prot"), (SUB, "s1"), (MASTER, "m2")] {
        assert!(opportunity(&f, account, never).await.is_none(), "{never}");
    }

    // Notifying again (the same or a new request) sends nothing more: the notices are open.
    let mut again = event("notify");
    again["request_id"] = json!("notify-again");
    let r = reclaimer.handle(&again).await.unwrap();
    assert_eq!(r.summary.acted, 0);
    assert_eq!(
        r.summary.skipped_by_reason.get("already_notified"),
        Some(&3)
    );
    assert_eq!(notifier.sent().len(), 3);

    // m1 comes back through the synced activity (a meeting joined in another account); s5
    // logs in (Zoom's own last login); s3 stays away.
    f.records
        .advance_joined(CONN, MASTER, "m1", now() + Duration::days(2))
        .await
        .unwrap();
    f.zoom
        .users
        .lock()
        .unwrap()
        .get_mut("s5")
        .unwrap()
        .last_login_time = Some(now() + Duration::days(3));

    // One second before the grace period ends nobody is reclaimed or marked.
    *clock.lock().unwrap() = grace_end - Duration::seconds(1);
    set_access_completed(&f, grace_end - Duration::hours(2)).await;
    let early = reclaimer.handle(&event("reclaim-notified")).await.unwrap();
    assert_eq!(early.summary.acted, 0);
    assert_eq!(
        early
            .summary
            .skipped_by_reason
            .get("grace_period_not_ended"),
        Some(&3),
        "{early:#?}"
    );
    assert!(f.zoom.writes().is_empty());
    assert!(early.summary.opportunities.is_empty());

    // Exactly at its end: s3 is still inactive, but Zoom refuses the write; m1 and s5 are kept.
    *clock.lock().unwrap() = grace_end;
    let mut first = event("reclaim-notified");
    first["request_id"] = json!("reclaim-notified-1");
    let r = reclaimer.handle(&first).await.unwrap();
    let lines = by_user(&r);
    assert_eq!(
        lines["m1"],
        (Outcome::Skipped, Some("came_back".into())),
        "{r:#?}"
    );
    assert_eq!(
        lines["s5"],
        (Outcome::Skipped, Some("logged_in_since_sync".into()))
    );
    assert_eq!(lines["s3"].0, Outcome::Failed);
    assert_eq!(lines.len(), 3, "only the notified users: {r:#?}");
    assert!(f.zoom.writes().iter().all(|(u, _)| u == "s3"));
    assert_eq!(
        opportunity(&f, MASTER, "m1").await.unwrap().state,
        OpportunityState::Kept
    );
    assert_eq!(
        opportunity(&f, SUB, "s5").await.unwrap().state,
        OpportunityState::Kept
    );
    let s3 = opportunity(&f, SUB, "s3").await.unwrap();
    assert_eq!(
        s3.state,
        OpportunityState::Notified,
        "a failed attempt leaves the notice open"
    );
    assert!(s3.history.last().unwrap().detail.contains("zoom_error"));
    assert_eq!(r.summary.opportunities.get("kept"), Some(&2));

    // Zoom accepts the write now: s3 is reclaimed, audited under the request; m1 and s5 are
    // no longer candidates.
    f.zoom.fail_writes.lock().unwrap().clear();
    let mut second = event("reclaim-notified");
    second["request_id"] = json!("reclaim-notified-2");
    let r = reclaimer.handle(&second).await.unwrap();
    assert_eq!(keys_with(&r, Outcome::Acted), set(&["s3"]));
    assert_eq!(r.users.len(), 1);
    assert_eq!(r.summary.licenses_freed.get("Business"), Some(&1));
    assert_eq!(f.zoom.user("s3").status, "inactive");
    assert_eq!(f.zoom.user("m1").status, "active");
    assert_eq!(f.zoom.user("s5").status, "active");
    let s3 = opportunity(&f, SUB, "s3").await.unwrap();
    assert_eq!(s3.state, OpportunityState::Reclaimed);
    assert_eq!(s3.reclaim_request_id.as_deref(), Some("reclaim-notified-2"));
    assert_eq!(
        steps(&s3),
        vec![
            OpportunityState::Opportunity,
            OpportunityState::Notified,
            OpportunityState::Notified,
            OpportunityState::Reclaimed
        ]
    );
    assert_eq!(
        entry_of(&f, "reclaim-notified-2", "s3").await.outcome,
        "acted"
    );

    // The history, per connection and per user.
    let all = reclaimer.handle(&event("history")).await.unwrap();
    let listed = all.opportunities.as_ref().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(all.summary.opportunities.get("kept"), Some(&2));
    assert_eq!(all.summary.opportunities.get("reclaimed"), Some(&1));
    let one = reclaimer.handle(&event("history-user")).await.unwrap();
    let listed = one.opportunities.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].user_key, "s3");
    assert_eq!(listed[0].history.len(), 4);
    let mut only_kept = event("history");
    only_kept["states"] = json!(["kept"]);
    let kept = reclaimer.handle(&only_kept).await.unwrap();
    let kept: HashSet<String> = kept
        .opportunities
        .unwrap()
        .into_iter()
        .map(|o| o.user_key)
        .collect();
    assert_eq!(kept, set(&["m1", "s5"]));

    // Reversible: the existing reactivate undoes the reclaim.
    let mut restore = event("reactivate");
    restore["request_id"] = json!("undo-reclaim-notified-2");
    restore["restore_request_id"] = json!("reclaim-notified-2");
    let r = reclaimer.handle(&restore).await.unwrap();
    assert_eq!(keys_with(&r, Outcome::Acted), set(&["s3"]), "{r:#?}");
    assert_eq!(f.zoom.user("s3").status, "active");
    let s3 = opportunity(&f, SUB, "s3").await.unwrap();
    assert_eq!(s3.state, OpportunityState::Restored);
    assert_eq!(
        s3.history.last().unwrap().request_id,
        "undo-reclaim-notified-2"
    );
    assert_eq!(r.summary.opportunities.get("restored"), Some(&1));
}

#[tokio::test]
async fn reclaim_notified_never_acts_on_someone_who_was_not_notified() {
    let f = fixture().await;
    let clock = Arc::new(Mutex::new(now()));
    let (reclaimer, _) = notifying(&f, clock.clone());
    // Nobody notified: nothing selected, nothing sent to Zoom, even for inactive users named.
    let mut ev = event("reclaim-notified");
    ev["users"] = json!(["m1", "s5@example.com"]);
    let r = reclaimer.handle(&ev).await.unwrap();
    assert_eq!(r.summary.acted, 0);
    assert_eq!(
        r.summary.skipped_by_reason.get("not_notified"),
        Some(&2),
        "{r:#?}"
    );
    assert!(f.zoom.writes().is_empty());

    // Notified for a downgrade, reclaimed as a deactivation: refused for that user.
    let mut notify = event("notify");
    notify["action"] = json!("downgrade");
    notify["policy"]["inactive_days"] = json!(90);
    reclaimer.handle(&notify).await.unwrap();
    *clock.lock().unwrap() = now() + Duration::days(8);
    set_access_completed(&f, now() + Duration::days(8)).await;
    let mut ev = event("reclaim-notified");
    ev["request_id"] = json!("reclaim-notified-deactivate");
    let r = reclaimer.handle(&ev).await.unwrap();
    assert_eq!(r.summary.acted, 0);
    assert!(
        r.summary.skipped_by_reason.contains_key("other_action"),
        "{r:#?}"
    );
    assert!(f.zoom.writes().is_empty());
}

#[tokio::test]
async fn notices_need_a_sender_and_a_failed_notice_is_never_reclaimed() {
    let f = fixture().await;
    // No notifier configured: execute is refused before anything, the dry run warns.
    let e = f.reclaimer.handle(&event("notify")).await.unwrap_err();
    assert_eq!(e.kind(), "NotificationsNotConfigured", "{e}");
    assert!(opportunity(&f, MASTER, "m1").await.is_none());
    let dry = f.reclaimer.handle(&event("notify-dry-run")).await.unwrap();
    assert!(dry.warnings.iter().any(|w| w.contains("ZTS_NOTIFY_FROM")));

    let clock = Arc::new(Mutex::new(now()));
    let (reclaimer, notifier) = notifying(&f, clock.clone());
    notifier.refuse("s5@example.com");
    let r = reclaimer.handle(&event("notify")).await.unwrap();
    assert_eq!(
        by_user(&r)["s5"],
        (Outcome::Failed, Some("notice_failed".into()))
    );
    assert_eq!(
        opportunity(&f, SUB, "s5").await.unwrap().state,
        OpportunityState::Failed
    );
    *clock.lock().unwrap() = now() + Duration::days(30);
    set_access_completed(&f, now() + Duration::days(30)).await;
    let r = reclaimer.handle(&event("reclaim-notified")).await.unwrap();
    assert!(!r.users.iter().any(|u| u.user_key == "s5"), "{r:#?}");
    assert!(!f.zoom.writes().iter().any(|(u, _)| u == "s5"));
}
