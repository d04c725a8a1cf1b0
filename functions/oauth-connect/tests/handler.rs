//! Handler tests: every `events/oauth-connect/*.json` fixture through `App::handle`, with
//! in-memory stores and a fake Zoom (no socket, no AWS).

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use aws_adapters::{MemoryTokenStore, Records};
use chrono::{DateTime, Utc};
use common::*;
use futures::TryStreamExt;
use oauth_connect::connect::connection_id_for;
use oauth_connect::{App, Options};
use ports::{
    ConnectionSettings, ConnectionStatus, ConnectionStore, OAuthStateRecord, OAuthStateStore,
    StoreError, StoredTokens, TokenStore, ZoomRegion,
};
use zoom::Secret;

const WEBHOOK_SECRET: &str = "fixture-webhook-secret";
/// The binding cookie's value in the callback fixtures.
const FIXTURE_BROWSER_NONCE: &str = "fixture-browser-nonce";
/// The fixtures' time (their webhook timestamps): 2026-11-28T17:00:00Z.
const FIXTURE_TS: i64 = 1_795_885_200;

/// Every fixture and the tests that load it (checked against the directory below).
const USED: &[&str] = &[
    "connect",
    "connect-without-invite",
    "connect-with-settings",
    "callback-other-browser",
    "callback-success",
    "callback-success-json",
    "callback-access-denied",
    "callback-missing-state",
    "callback-forged-state",
    "callback-expired-state",
    "callback-missing-code",
    "callback-exchange-failed",
    "callback-missing-scope",
    "callback-not-master",
    "not-found",
    "webhook-deauthorized",
    "webhook-bad-signature",
    "webhook-stale",
    "webhook-future",
    "webhook-url-validation",
    "webhook-url-validation-unsigned",
    "webhook-unknown-event",
];

struct Harness {
    app: App,
    records: Records,
    tokens: Arc<MemoryTokenStore>,
    zoom: Arc<FakeZoom>,
    now: DateTime<Utc>,
}

fn fixture_now() -> DateTime<Utc> {
    DateTime::from_timestamp(FIXTURE_TS, 0).unwrap()
}

fn harness_with(tokens: Arc<dyn TokenStore>, memory: Arc<MemoryTokenStore>) -> Harness {
    let records = Records::in_memory();
    let stores = Arc::new(records.clone());
    let zoom = Arc::new(FakeZoom::new());
    let now = fixture_now();
    let app = App::new(
        Options::default(),
        stores.clone(),
        stores,
        tokens,
        zoom.clone(),
        Secret::new(WEBHOOK_SECRET),
    )
    .with_clock(Arc::new(move || now));
    Harness {
        app,
        records,
        tokens: memory,
        zoom,
        now,
    }
}

fn harness() -> Harness {
    let tokens = Arc::new(MemoryTokenStore::new());
    harness_with(tokens.clone(), tokens)
}

fn settings_90() -> ConnectionSettings {
    ConnectionSettings {
        include_free_users: true.into(),
        include_on_premises: false.into(),
        inactivity_threshold: sync_domain::InactivityThreshold::try_from(90).unwrap(),
    }
}

impl Harness {
    async fn seed_state(&self, state: &str, settings: ConnectionSettings, expires_in_secs: i64) {
        self.records
            .put_state(&OAuthStateRecord {
                state: state.into(),
                pkce_verifier: Secret::new(FIXTURE_VERIFIER),
                region: ZoomRegion::Na,
                settings,
                created_at: self.now - chrono::Duration::seconds(60),
                expires_at: self.now + chrono::Duration::seconds(expires_in_secs),
                browser_binding: Some(ports::secret_digest(FIXTURE_BROWSER_NONCE)),
                invited_by: Some("it@example.com".into()),
                expected_zoom_account_id: None,
            })
            .await
            .unwrap();
    }

    /// The link an admin minted (the fixtures' `invite=` token).
    async fn seed_invite(&self, token: &str, settings: ConnectionSettings) {
        self.records
            .put_invite(&ports::ConnectInviteRecord {
                key: ports::secret_digest(token),
                settings,
                requested_by: "it@example.com".into(),
                zoom_account_id: None,
                created_at: self.now,
                expires_at: self.now + chrono::Duration::minutes(60),
            })
            .await
            .unwrap();
    }

    async fn connections(&self) -> Vec<ports::ConnectionRecord> {
        self.records.list_connections().try_collect().await.unwrap()
    }

    async fn stored_tokens(&self) -> Option<StoredTokens> {
        self.tokens
            .read(&connection_id_for(MASTER_ACCOUNT))
            .await
            .unwrap()
    }

    /// Nothing was connected: no connection record, no tokens.
    async fn assert_nothing_stored(&self) {
        assert!(
            self.connections().await.is_empty(),
            "a connection was stored"
        );
        assert!(self.stored_tokens().await.is_none(), "tokens were stored");
    }

    async fn state_is_gone(&self, state: &str) -> bool {
        self.records
            .consume_state(state, self.now)
            .await
            .unwrap()
            .is_none()
    }

    async fn connect_successfully(&self) {
        self.connect_at(self.now).await;
    }

    /// The admin completes the flow at `at` (the app's clock then).
    async fn connect_at(&self, at: DateTime<Utc>) {
        self.seed_state("fixture-state-ok", settings_90(), 300)
            .await;
        let app = self.app.clone().with_clock(Arc::new(move || at));
        let r = app.handle(fixture("callback-success")).await;
        assert_eq!(r.status(), 200, "{}", text(&r));
    }
}

#[test]
fn every_fixture_is_used_by_a_test() {
    let on_disk = all_fixture_names();
    let used: std::collections::BTreeSet<String> = USED.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        on_disk, used,
        "fixtures on disk vs fixtures loaded by tests"
    );
}

/// The browser nonce in the `/connect` answer's cookie (asserting its attributes).
fn binding_cookie_of(r: &http::Response<lambda_http::Body>) -> String {
    let cookie = header(r, "set-cookie");
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    for wanted in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=600",
    ] {
        assert!(attributes.contains(&wanted), "{wanted} in {cookie}");
    }
    attributes[0]
        .strip_prefix("__Host-zts-connect=")
        .expect("the binding cookie")
        .to_string()
}

#[tokio::test]
async fn an_admin_link_stores_a_single_use_state_bound_to_the_browser() {
    let h = harness();
    h.seed_invite("fixture-invite-90", settings_90()).await;
    let r = h.app.handle(fixture("connect")).await;
    assert_eq!(r.status(), 302, "{}", text(&r));
    assert_eq!(header(&r, "cache-control"), "no-store");
    let nonce = binding_cookie_of(&r);
    assert!(nonce.len() >= 43, "256-bit nonce");
    let location = url::Url::parse(header(&r, "location")).unwrap();
    assert_eq!(location.host_str(), Some("zoom.example.test"));
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state in the authorize URL");
    assert!(state.len() >= 32, "state of at least 128 bits");

    let record = h
        .records
        .consume_state(&state, h.now)
        .await
        .unwrap()
        .expect("state stored");
    assert_eq!(record.settings, settings_90(), "the link's settings");
    assert_eq!(record.region, ZoomRegion::Na);
    assert_eq!(record.pkce_verifier.expose(), FIXTURE_VERIFIER);
    assert_eq!(record.expires_at - h.now, chrono::Duration::minutes(10));
    assert_eq!(
        record.browser_binding,
        Some(ports::secret_digest(&nonce)),
        "the table holds the nonce's digest, not the nonce"
    );
    assert_eq!(record.invited_by.as_deref(), Some("it@example.com"));
    // Single use.
    assert!(h.state_is_gone(&state).await);

    // The link opened one authorization: the second click is refused.
    let again = h.app.handle(fixture("connect")).await;
    assert_eq!(again.status(), 403);
    assert!(
        text(&again).contains("already opened once"),
        "{}",
        text(&again)
    );
    assert_eq!(*h.zoom.authorize_calls.lock().unwrap(), 1);
}

#[tokio::test]
async fn connect_without_an_admin_link_or_with_a_forged_one_is_refused() {
    let h = harness();
    let r = h.app.handle(fixture("connect-without-invite")).await;
    assert_eq!(r.status(), 403);
    let body = text(&r);
    assert!(body.contains("administrator"), "{body}");
    assert!(
        body.contains("fixture-connect-without-invite"),
        "request id shown: {body}"
    );
    assert!(
        header(&r, "set-cookie").is_empty(),
        "no cookie without a link"
    );

    // A token nobody minted, and one whose link expired.
    let r = h.app.handle(fixture("connect")).await;
    assert_eq!(r.status(), 403);
    h.records
        .put_invite(&ports::ConnectInviteRecord {
            key: ports::secret_digest("fixture-invite-90"),
            settings: settings_90(),
            requested_by: "it@example.com".into(),
            zoom_account_id: None,
            created_at: h.now - chrono::Duration::minutes(61),
            expires_at: h.now - chrono::Duration::minutes(1),
        })
        .await
        .unwrap();
    let r = h.app.handle(fixture("connect")).await;
    assert_eq!(r.status(), 403);
    assert_eq!(*h.zoom.authorize_calls.lock().unwrap(), 0);
}

#[tokio::test]
async fn settings_in_the_link_are_refused_and_the_link_stays_usable() {
    let h = harness();
    h.seed_invite("fixture-invite-90", settings_90()).await;
    // The real link with an attacker's threshold appended.
    let r = h.app.handle(fixture("connect-with-settings")).await;
    assert_eq!(r.status(), 400);
    let body = text(&r);
    assert!(body.contains("inactivity_threshold"), "{body}");
    assert!(body.contains("chosen when the link is created"), "{body}");
    assert_eq!(*h.zoom.authorize_calls.lock().unwrap(), 0);
    // The unaltered link still opens, with the admin's settings.
    let r = h.app.handle(fixture("connect")).await;
    assert_eq!(r.status(), 302);
}

#[tokio::test]
async fn a_callback_without_the_browser_cookie_is_refused_before_any_exchange() {
    let h = harness();
    h.seed_state("fixture-state-other-browser", settings_90(), 300)
        .await;
    let r = h.app.handle(fixture("callback-other-browser")).await;
    assert_eq!(r.status(), 403, "{}", text(&r));
    assert!(text(&r).contains("another browser"), "{}", text(&r));
    assert!(
        h.zoom.exchanged.lock().unwrap().is_empty(),
        "no code exchange"
    );
    assert!(
        h.state_is_gone("fixture-state-other-browser").await,
        "state spent"
    );
    h.assert_nothing_stored().await;

    // A cookie of another authorization does not fit this state either.
    h.seed_state("fixture-state-ok", settings_90(), 300).await;
    let mut event: serde_json::Value =
        serde_json::from_str(&fixture_text("callback-success")).unwrap();
    event["cookies"] = serde_json::json!(["__Host-zts-connect=someone-elses-nonce"]);
    let r = h
        .app
        .handle(lambda_http::request::from_str(&event.to_string()).unwrap())
        .await;
    assert_eq!(r.status(), 403);
    assert!(h.zoom.exchanged.lock().unwrap().is_empty());
    h.assert_nothing_stored().await;
}

#[tokio::test]
async fn accounts_outside_the_allow_list_or_the_links_account_are_refused_and_revoked() {
    // The deployment's allow-list.
    let mut h = harness();
    h.app.options.allowed_zoom_accounts = vec!["another-master".into()];
    h.seed_state("fixture-state-ok", settings_90(), 300).await;
    let r = h.app.handle(fixture("callback-success")).await;
    assert_eq!(r.status(), 403, "{}", text(&r));
    assert!(text(&r).contains("allowed accounts"), "{}", text(&r));
    assert_eq!(h.zoom.revoked(), vec!["at-fixture-code"]);
    h.assert_nothing_stored().await;

    // Listed: connects.
    h.app.options.allowed_zoom_accounts = vec!["another-master".into(), MASTER_ACCOUNT.into()];
    h.seed_state("fixture-state-ok", settings_90(), 300).await;
    let r = h.app.handle(fixture("callback-success")).await;
    assert_eq!(r.status(), 200, "{}", text(&r));

    // The link named another account.
    let h = harness();
    h.records
        .put_state(&OAuthStateRecord {
            state: "fixture-state-ok".into(),
            pkce_verifier: Secret::new(FIXTURE_VERIFIER),
            region: ZoomRegion::Na,
            settings: settings_90(),
            created_at: h.now,
            expires_at: h.now + chrono::Duration::minutes(10),
            browser_binding: Some(ports::secret_digest(FIXTURE_BROWSER_NONCE)),
            invited_by: Some("it@example.com".into()),
            expected_zoom_account_id: Some("another-master".into()),
        })
        .await
        .unwrap();
    let r = h.app.handle(fixture("callback-success")).await;
    assert_eq!(r.status(), 403);
    assert!(
        text(&r).contains("not the one this connect link was"),
        "{}",
        text(&r)
    );
    assert_eq!(h.zoom.revoked(), vec!["at-fixture-code"]);
    h.assert_nothing_stored().await;
}

#[tokio::test]
async fn callback_connects_the_account_and_a_replay_is_refused() {
    let h = harness();
    h.connect_successfully().await;

    let connections = h.connections().await;
    assert_eq!(connections.len(), 1);
    let c = &connections[0];
    assert_eq!(c.zoom_account_id, MASTER_ACCOUNT);
    assert_eq!(c.connection_id, connection_id_for(MASTER_ACCOUNT));
    assert_eq!(c.settings, settings_90());
    assert_eq!(c.status, ConnectionStatus::Active);
    assert_eq!(c.account_name.as_deref(), Some("Fixture Master <Inc> & Co"));
    let tokens = h.stored_tokens().await.expect("tokens stored");
    assert_eq!(tokens.tokens.access_token.expose(), "at-fixture-code");
    assert_eq!(tokens.refreshed_at, h.now);
    assert!(h.state_is_gone("fixture-state-ok").await);
    assert!(h.zoom.revoked().is_empty());

    // The same callback again: the state is spent.
    let again = h.app.handle(fixture("callback-success")).await;
    assert_eq!(again.status(), 400);
    assert!(text(&again).contains("already used"));
    assert_eq!(h.connections().await.len(), 1);
    assert_eq!(
        h.zoom.exchanged.lock().unwrap().len(),
        1,
        "no second exchange"
    );
}

#[tokio::test]
async fn callback_page_escapes_and_names_what_was_connected() {
    let h = harness();
    h.seed_state("fixture-state-ok", settings_90(), 300).await;
    let r = h.app.handle(fixture("callback-success")).await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/html"));
    let body = text(&r);
    assert!(
        body.contains("Fixture Master &lt;Inc&gt; &amp; Co"),
        "{body}"
    );
    assert!(!body.contains("<Inc>"));
    assert!(body.contains("3 sub accounts"), "{body}");
    assert!(body.contains("<dd id=\"include-free-users\">yes</dd>"));
    assert!(body.contains("<dd id=\"include-on-premises\">no</dd>"));
    assert!(body.contains("90 days"));
    assert!(!body.contains("at-fixture-code") && !body.contains(FIXTURE_VERIFIER));
}

#[tokio::test]
async fn reconnecting_updates_the_connection_and_answers_json() {
    let h = harness();
    h.connect_successfully().await;
    let first = h.connections().await[0].clone();

    let new_settings = ConnectionSettings {
        include_free_users: false.into(),
        include_on_premises: true.into(),
        inactivity_threshold: sync_domain::InactivityThreshold::try_from(120).unwrap(),
    };
    h.seed_state("fixture-state-json", new_settings, 300).await;
    *h.zoom.account_name.lock().unwrap() = "Renamed Master".into();
    let r = h.app.handle(fixture("callback-success-json")).await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(header(&r, "content-type"), "application/json");
    let v = json(&r);
    assert_eq!(v["status"], "connected");
    let c = &v["connection"];
    assert_eq!(c["connection_id"], first.connection_id.as_str());
    assert_eq!(c["zoom_account_id"], MASTER_ACCOUNT);
    assert_eq!(c["account_name"], "Renamed Master");
    assert_eq!(c["sub_accounts"], 3);
    assert_eq!(c["reconnected"], true);
    assert_eq!(c["settings"]["include_free_users"], "no");
    assert_eq!(c["settings"]["include_on_premises"], "yes");
    assert_eq!(c["settings"]["inactivity_threshold_days"], 120);

    let all = h.connections().await;
    assert_eq!(all.len(), 1, "reconnecting never duplicates");
    assert_eq!(all[0].settings, new_settings);
    assert_eq!(all[0].created_at, first.created_at);
    assert!(all[0].version > first.version);
    // The link's settings are an admin's change: audited old → new, like license-admin's.
    let old = first.settings;
    let audited: Vec<(&str, serde_json::Value, serde_json::Value)> = all[0]
        .settings_history
        .iter()
        .map(|h| (h.field.as_str(), h.old.clone(), h.new.clone()))
        .collect();
    let mut expected = Vec::new();
    if old.include_free_users != new_settings.include_free_users {
        expected.push((
            "include_free_users",
            serde_json::json!(old.include_free_users.is_yes()),
            serde_json::json!(false),
        ));
    }
    if old.include_on_premises != new_settings.include_on_premises {
        expected.push((
            "include_on_premises",
            serde_json::json!(old.include_on_premises.is_yes()),
            serde_json::json!(true),
        ));
    }
    expected.push((
        "inactivity_threshold_days",
        serde_json::json!(old.inactivity_threshold.days()),
        serde_json::json!(120),
    ));
    assert_eq!(audited, expected);
}

#[tokio::test]
async fn access_denied_is_explained_and_spends_the_state() {
    let h = harness();
    h.seed_state("fixture-state-denied", settings_90(), 300)
        .await;
    let r = h.app.handle(fixture("callback-access-denied")).await;
    assert_eq!(r.status(), 403);
    let body = text(&r);
    assert!(
        body.contains("not authorized") && body.contains("choose Allow"),
        "{body}"
    );
    assert!(h.state_is_gone("fixture-state-denied").await);
    assert!(h.zoom.exchanged.lock().unwrap().is_empty());
    h.assert_nothing_stored().await;
}

#[tokio::test]
async fn missing_forged_and_expired_states_are_refused_before_any_exchange() {
    let h = harness();
    let r = h.app.handle(fixture("callback-missing-state")).await;
    assert_eq!(r.status(), 400);
    assert!(text(&r).contains("no state parameter"));

    // A state nobody issued; a real one is pending meanwhile and stays.
    h.seed_state("fixture-state-ok", settings_90(), 300).await;
    let r = h.app.handle(fixture("callback-forged-state")).await;
    assert_eq!(r.status(), 400);
    assert!(text(&r).contains("unknown, has expired"));

    h.seed_state("fixture-state-expired", settings_90(), -1)
        .await;
    let r = h.app.handle(fixture("callback-expired-state")).await;
    assert_eq!(r.status(), 400);
    assert!(text(&r).contains("valid for 10 minutes"));

    assert!(h.zoom.exchanged.lock().unwrap().is_empty());
    h.assert_nothing_stored().await;
    assert!(
        !h.state_is_gone("fixture-state-ok").await,
        "the real state is untouched"
    );
}

#[tokio::test]
async fn missing_code_is_refused_and_spends_the_state() {
    let h = harness();
    h.seed_state("fixture-state-nocode", settings_90(), 300)
        .await;
    let r = h.app.handle(fixture("callback-missing-code")).await;
    assert_eq!(r.status(), 400);
    assert!(text(&r).contains("no authorization code"));
    assert!(h.state_is_gone("fixture-state-nocode").await);
    h.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_failed_exchange_is_explained() {
    let h = harness();
    h.seed_state("fixture-state-badcode", settings_90(), 300)
        .await;
    let r = h.app.handle(fixture("callback-exchange-failed")).await;
    assert_eq!(r.status(), 400);
    let body = text(&r);
    assert!(body.contains("refused the authorization code"), "{body}");
    assert!(
        !body.contains("fixture-code-expired"),
        "the code is never echoed"
    );
    h.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_missing_scope_is_named_and_the_grant_revoked() {
    let h = harness();
    h.seed_state("fixture-state-scope", settings_90(), 300)
        .await;
    let r = h.app.handle(fixture("callback-missing-scope")).await;
    assert_eq!(r.status(), 403);
    let body = text(&r);
    assert!(body.contains("cannot work without"), "{body}");
    assert!(body.contains("user:master"), "{body}");
    assert!(body.contains("user:read:list_users:master"), "{body}");
    assert!(body.contains("users of the sub accounts"), "{body}");
    assert!(
        !body.contains("account:master (") && !body.contains("meeting:"),
        "only the missing one is named: {body}"
    );
    assert_eq!(h.zoom.revoked(), vec!["at-fixture-code-missing-scope"]);
    h.assert_nothing_stored().await;
}

/// Connects through the `callback-success-json` fixture (a fresh state each time).
async fn connect_json(h: &Harness) -> serde_json::Value {
    h.seed_state("fixture-state-json", settings_90(), 300).await;
    let r = h.app.handle(fixture("callback-success-json")).await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    json(&r)
}

#[tokio::test]
async fn the_five_documented_scopes_connect_and_note_the_fields_not_collected() {
    let h = harness();
    h.zoom.grant(DOCUMENTED_FIVE);
    h.seed_state("fixture-state-ok", settings_90(), 300).await;
    let r = h.app.handle(fixture("callback-success")).await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    let page = text(&r);
    assert!(page.contains("Some fields will not be collected"), "{page}");
    for words in [
        "<strong>Meeting Joined dates (past meeting participants)</strong>",
        "<code>meeting:read:list_past_participants:admin</code>",
        "Meeting Created dates of the master account",
        "<code>meeting:read:list_meetings:admin</code>",
        "<code>meeting:read:list_past_instances:admin</code>",
        "instant meetings hosted in the master account",
        "<code>report:read:list_users:admin</code> and <code>report:read:user:admin</code>",
        "Zoom&#x27;s own count of the master account&#x27;s assigned seats",
        "<code>account:read:admin</code> or <code>billing:master</code>",
        "reclamation will not deactivate",
    ] {
        assert!(page.contains(words), "{words:?} missing from {page}");
    }
    assert!(h.zoom.revoked().is_empty(), "a working grant is kept");

    let c = &h.connections().await[0];
    let notes: Vec<(&str, &str)> = c
        .missing_scopes
        .iter()
        .map(|n| (n.scope.as_str(), n.not_collected.as_str()))
        .collect();
    assert_eq!(
        notes,
        vec![
            (
                "meeting:read:admin (or, for apps with granular scopes: \
                 meeting:read:list_past_participants:admin)",
                oauth_connect::scopes::NOT_COLLECTED_PARTICIPANTS
            ),
            (
                "meeting:read:admin (or, for apps with granular scopes: \
                 meeting:read:list_past_instances:admin)",
                oauth_connect::scopes::NOT_COLLECTED_INSTANCES
            ),
            (
                "meeting:read:admin (or, for apps with granular scopes: \
                 meeting:read:list_meetings:admin)",
                oauth_connect::scopes::NOT_COLLECTED_MASTER_MEETINGS
            ),
            (
                "report:read:admin (or, for apps with granular scopes: \
                 report:read:list_users:admin, report:read:user:admin)",
                oauth_connect::scopes::NOT_COLLECTED_MASTER_REPORTS
            ),
            (
                "account:read:admin or billing:master (or, for apps with granular scopes: \
                 billing:read:plan_usage:admin)",
                oauth_connect::scopes::NOT_COLLECTED_MASTER_PLAN_USAGE
            ),
        ]
    );
    assert!(
        c.missing_scopes
            .iter()
            .all(|n| n.noticed_by == "connect" && n.noticed_at == h.now)
    );
    assert!(c.activity_is_partial(), "reclamation must refuse");

    // Reconnecting with the same app: the same notes, not twice.
    let v = connect_json(&h).await;
    assert_eq!(
        v["connection"]["missing_scopes"].as_array().unwrap().len(),
        5
    );
    assert_eq!(h.connections().await[0].missing_scopes.len(), 5);

    // The admin adds the scopes and connects again: the notes are gone.
    *h.zoom.scopes.lock().unwrap() = None;
    let v = connect_json(&h).await;
    assert_eq!(v["connection"]["reconnected"], true);
    assert_eq!(v["connection"]["missing_scopes"], serde_json::json!([]));
    let c = &h.connections().await[0];
    assert!(c.missing_scopes.is_empty(), "{:?}", c.missing_scopes);
    assert!(!c.activity_is_partial());
}

#[tokio::test]
async fn granular_apps_connect_with_notes_only_for_what_they_lack() {
    let all_granular: Vec<&str> = oauth_connect::scopes::REQUIREMENTS
        .iter()
        .flat_map(|r| r.granular.iter().copied())
        .collect();
    let h = harness();
    h.zoom.grant(&all_granular);
    let v = connect_json(&h).await;
    assert_eq!(v["connection"]["missing_scopes"], serde_json::json!([]));
    assert!(h.connections().await[0].missing_scopes.is_empty());

    let h = harness();
    let lacking: Vec<&str> = all_granular
        .iter()
        .copied()
        .filter(|s| *s != "meeting:read:list_past_participants:admin")
        .collect();
    h.zoom.grant(&lacking);
    let v = connect_json(&h).await;
    let m = &v["connection"]["missing_scopes"];
    assert_eq!(m.as_array().unwrap().len(), 1, "{m}");
    assert_eq!(m[0]["classic"], serde_json::json!(["meeting:read:admin"]));
    assert_eq!(
        m[0]["granular"],
        serde_json::json!(["meeting:read:list_past_participants:admin"])
    );
    let c = &h.connections().await[0];
    assert_eq!(c.missing_scopes.len(), 1);
    assert!(c.missing_scopes[0].not_collected.contains("Meeting Joined"));
    assert!(c.activity_is_partial());

    // A granular app without a required scope is refused, naming it.
    let h = harness();
    let lacking: Vec<&str> = all_granular
        .iter()
        .copied()
        .filter(|s| *s != "account:read:list_sub_accounts:master")
        .collect();
    h.zoom.grant(&lacking);
    h.seed_state("fixture-state-json", settings_90(), 300).await;
    let r = h.app.handle(fixture("callback-success-json")).await;
    assert_eq!(r.status(), 403);
    let v = json(&r);
    assert_eq!(v["error"], "missing_scopes");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains(
            "account:master (or, for apps with granular scopes: \
             account:read:list_sub_accounts:master), to list the sub accounts"
        ),
        "{message}"
    );
    h.assert_nothing_stored().await;
}

#[tokio::test]
async fn reconnecting_settles_the_tasks_notes_of_scopes_it_brings() {
    let h = harness();
    h.zoom.grant(DOCUMENTED_FIVE);
    h.connect_successfully().await;
    let cid = connection_id_for(MASTER_ACCOUNT);
    let task_note = |scope: &str| ports::MissingScopeNote {
        scope: scope.into(),
        not_collected: "Meeting Joined dates (past meeting participants)".into(),
        noticed_by: "application-access".into(),
        activity: true,
        noticed_at: h.now,
    };
    h.records
        .update_missing_scopes(
            &cid,
            "application-access",
            vec![
                task_note("meeting:read:list_past_participants:admin"),
                task_note("meeting:read:something_new:admin"),
            ],
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(h.connections().await[0].missing_scopes.len(), 7);

    *h.zoom.scopes.lock().unwrap() = None;
    connect_json(&h).await;
    let left: Vec<String> = h.connections().await[0]
        .missing_scopes
        .iter()
        .map(|n| n.scope.clone())
        .collect();
    // The scope the table does not know stays until a task sees it work.
    assert_eq!(left, vec!["meeting:read:something_new:admin".to_string()]);
}

#[tokio::test]
async fn an_account_without_the_master_feature_is_refused_and_revoked() {
    let h = harness();
    h.seed_state("fixture-state-standalone", settings_90(), 300)
        .await;
    let r = h.app.handle(fixture("callback-not-master")).await;
    assert_eq!(r.status(), 403);
    let body = text(&r);
    assert!(body.contains("Master Account"), "{body}");
    assert!(
        body.contains("Account Management &gt; Sub Accounts"),
        "{body}"
    );
    assert_eq!(h.zoom.revoked(), vec!["at-fixture-code-standalone"]);
    h.assert_nothing_stored().await;
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let h = harness();
    let r = h.app.handle(fixture("not-found")).await;
    assert_eq!(r.status(), 404);
    let r = h
        .app
        .handle(apigw_request("POST", "/connect", "", &[], Some("x")))
        .await;
    assert_eq!(r.status(), 405);
}

/// Token writes fail: the admin gets a generic 500 with the request id, the grant is revoked
/// and no connection is stored.
struct FailingWrites;

#[async_trait]
impl TokenStore for FailingWrites {
    async fn read(&self, _: &str) -> Result<Option<StoredTokens>, StoreError> {
        Ok(None)
    }
    async fn write(&self, _: &str, _: &StoredTokens) -> Result<(), StoreError> {
        Err(StoreError::Secrets {
            op: "PutSecretValue",
            message: "injected failure: AccessDeniedException".into(),
        })
    }
    async fn delete(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

#[tokio::test]
async fn an_internal_failure_is_a_generic_500_with_the_request_id() {
    let h = harness_with(Arc::new(FailingWrites), Arc::new(MemoryTokenStore::new()));
    h.seed_state("fixture-state-ok", settings_90(), 300).await;
    let r = h.app.handle(fixture("callback-success")).await;
    assert_eq!(r.status(), 500);
    let body = text(&r);
    assert!(
        body.contains("fixture-callback-success"),
        "request id: {body}"
    );
    assert!(
        !body.contains("injected") && !body.contains("PutSecretValue"),
        "{body}"
    );
    assert_eq!(h.zoom.revoked(), vec!["at-fixture-code"]);
    assert!(h.connections().await.is_empty());
}

// ----- webhook ----------------------------------------------------------------------------

#[tokio::test]
async fn url_validation_is_answered_with_the_encrypted_token() {
    let h = harness();
    let r = h.app.handle(fixture("webhook-url-validation")).await;
    assert_eq!(r.status(), 200);
    let v = json(&r);
    assert_eq!(v["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    // Independent implementation: the sandbox's.
    assert_eq!(
        v["encryptedToken"],
        zoom_sandbox::webhooks::encrypted_token(WEBHOOK_SECRET, "qgg8vlvZRS6UYooatFL8Aw")
    );
}

#[tokio::test]
async fn deauthorization_deletes_the_tokens_and_marks_the_connection() {
    let h = harness();
    // Installed a day before the uninstall the fixture reports.
    h.connect_at(h.now - chrono::Duration::days(1)).await;
    assert!(h.stored_tokens().await.is_some());

    let r = h.app.handle(fixture("webhook-deauthorized")).await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert!(h.stored_tokens().await.is_none(), "tokens deleted");
    let c = &h.connections().await[0];
    let expected_at: DateTime<Utc> = "2026-11-28T16:59:58.123Z".parse().unwrap();
    assert_eq!(
        c.status,
        ConnectionStatus::Deauthorized {
            at: expected_at,
            purge_after: h.now + chrono::Duration::days(10),
        }
    );
    assert!(!c.status.is_active(), "scheduled tasks skip it");

    // Zoom retries the same event: still 200, nothing else changes.
    let version = c.version;
    let r = h.app.handle(fixture("webhook-deauthorized")).await;
    assert_eq!(r.status(), 200);
    let again = &h.connections().await[0];
    assert_eq!(again.status, c.status);
    assert!(again.version <= version + 1);
}

#[tokio::test]
async fn a_deauthorization_from_before_the_reinstall_changes_nothing() {
    let h = harness();
    // Uninstalled at the fixture's deauthorization time, re-installed two seconds later (the
    // fixture's time is 16:59:58; the harness's clock 17:00:00); the old event arrives late.
    h.connect_successfully().await;
    let before = h.connections().await;
    assert_eq!(before[0].authorized_at, Some(h.now));
    let r = h.app.handle(fixture("webhook-deauthorized")).await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(
        h.connections().await,
        before,
        "the new installation stays connected"
    );
    assert!(h.stored_tokens().await.is_some(), "its tokens are kept");
}

#[tokio::test]
async fn bad_signature_and_stale_timestamp_are_401_and_change_nothing() {
    let h = harness();
    h.connect_successfully().await;
    let before = h.connections().await;

    for name in ["webhook-bad-signature", "webhook-stale"] {
        let r = h.app.handle(fixture(name)).await;
        assert_eq!(r.status(), 401, "{name}");
        assert_eq!(json(&r)["error"], "unauthorized");
        assert_eq!(h.connections().await, before, "{name}");
        assert!(h.stored_tokens().await.is_some(), "{name}");
    }

    // The stale fixture is correctly signed: at its own time it would pass, so the 401 above
    // is the timestamp window's doing.
    let mut at_its_time = h.app.clone();
    let stale_now = fixture_now() - chrono::Duration::seconds(600);
    at_its_time = at_its_time.with_clock(Arc::new(move || stale_now));
    let r = at_its_time.handle(fixture("webhook-stale")).await;
    assert_eq!(r.status(), 200);
}

/// `webhook-future` is `webhook-deauthorized` correctly signed, stamped 600 s after the
/// fixtures' time (a clock running ahead, or a request made up for later).
#[tokio::test]
async fn a_timestamp_more_than_300_s_ahead_is_401_and_changes_nothing() {
    let h = harness();
    h.connect_at(h.now - chrono::Duration::days(1)).await;
    let before = h.connections().await;

    let r = h.app.handle(fixture("webhook-future")).await;
    assert_eq!(r.status(), 401, "{}", text(&r));
    assert_eq!(json(&r)["error"], "unauthorized");
    assert_eq!(h.connections().await, before);
    assert!(h.stored_tokens().await.is_some(), "tokens kept");

    // The window's edge, from the function's clock: 301 s ahead is refused, 300 s ahead is
    // accepted (so the refusals are the timestamp's doing, not the signature's).
    let stamped = fixture_now() + chrono::Duration::seconds(600);
    let at = |t: DateTime<Utc>| h.app.clone().with_clock(Arc::new(move || t));
    let r = at(stamped - chrono::Duration::seconds(301))
        .handle(fixture("webhook-future"))
        .await;
    assert_eq!(r.status(), 401, "{}", text(&r));
    assert_eq!(h.connections().await, before);
    assert!(h.stored_tokens().await.is_some());
    let r = at(stamped - chrono::Duration::seconds(300))
        .handle(fixture("webhook-future"))
        .await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert!(!h.connections().await[0].status.is_active());
    assert!(h.stored_tokens().await.is_none());
}

/// `webhook-url-validation-unsigned` is `webhook-url-validation` without `x-zm-signature`:
/// anyone could send it, so answering it would hand out the HMAC of a chosen text.
#[tokio::test]
async fn an_unsigned_url_validation_is_refused_and_its_token_not_answered() {
    let h = harness();
    let plain = "qgg8vlvZRS6UYooatFL8Aw";
    let answer = zoom_sandbox::webhooks::encrypted_token(WEBHOOK_SECRET, plain);
    // A rotated-token re-read would not help an unsigned request: none is attempted.
    let secret = Arc::new(Rotated {
        read_at_start: Secret::new(WEBHOOK_SECRET),
        now_in_the_secret: Some(Secret::new(WEBHOOK_SECRET)),
        rereads: Default::default(),
    });
    let app = h.app.clone().with_webhook_secret(secret.clone());
    let refused = |r: &http::Response<lambda_http::Body>, case: &str| {
        assert_eq!(r.status(), 401, "{case}: {}", text(r));
        assert_eq!(json(r)["error"], "unauthorized", "{case}");
        let body = text(r);
        assert!(
            !body.contains(&answer) && !body.contains("encryptedToken"),
            "{case}: {body}"
        );
    };
    let r = app.handle(fixture("webhook-url-validation-unsigned")).await;
    refused(&r, "no x-zm-signature");
    assert_eq!(secret.rereads.load(std::sync::atomic::Ordering::Relaxed), 0);

    // The same body with an empty signature, or the bare scheme prefix.
    let event: serde_json::Value =
        serde_json::from_str(&fixture_text("webhook-url-validation-unsigned")).unwrap();
    let body = event["body"].as_str().unwrap();
    let ts = event["headers"]["x-zm-request-timestamp"].as_str().unwrap();
    for signature in ["", "   ", "v0="] {
        let r = app
            .handle(apigw_request(
                "POST",
                "/zoom/events",
                "",
                &[
                    ("content-type", "application/json; charset=utf-8"),
                    ("x-zm-request-timestamp", ts),
                    ("x-zm-signature", signature),
                ],
                Some(body),
            ))
            .await;
        refused(&r, &format!("x-zm-signature {signature:?}"));
    }
    assert!(h.connections().await.is_empty());
}

#[tokio::test]
async fn unknown_events_are_acknowledged_and_ignored() {
    let h = harness();
    h.connect_successfully().await;
    let before = h.connections().await;
    let r = h.app.handle(fixture("webhook-unknown-event")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(&r)["status"], "ignored");
    assert_eq!(h.connections().await, before);
    assert!(h.stored_tokens().await.is_some());
}

#[tokio::test]
async fn a_deauthorization_for_an_unknown_account_is_acknowledged() {
    let h = harness();
    let r = h.app.handle(fixture("webhook-deauthorized")).await;
    assert_eq!(r.status(), 200);
    assert!(h.connections().await.is_empty());
}

#[tokio::test]
async fn a_named_stage_and_a_base64_body_are_handled_as_api_gateway_sends_them() {
    let h = harness();
    h.connect_at(h.now - chrono::Duration::days(1)).await;

    // A named stage: API Gateway's rawPath carries it, the routes do not.
    h.seed_invite("fixture-invite-90", settings_90()).await;
    let mut event: serde_json::Value = serde_json::from_str(&fixture_text("connect")).unwrap();
    event["rawPath"] = "/prod/connect".into();
    event["requestContext"]["stage"] = "prod".into();
    let r = h
        .app
        .handle(lambda_http::request::from_str(&event.to_string()).unwrap())
        .await;
    assert_eq!(r.status(), 302, "{}", text(&r));

    // A body API Gateway chose to base64-encode: the signature covers the decoded bytes.
    let mut event: serde_json::Value =
        serde_json::from_str(&fixture_text("webhook-deauthorized")).unwrap();
    let raw = event["body"].as_str().unwrap().to_string();
    event["body"] = base64(raw.as_bytes()).into();
    event["isBase64Encoded"] = true.into();
    let r = h
        .app
        .handle(lambda_http::request::from_str(&event.to_string()).unwrap())
        .await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert!(!h.connections().await[0].status.is_active());
}

/// Standard base64 with padding (kept here to avoid a dependency for one test).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A webhook token that was rotated in the app secret after the function read it.
struct Rotated {
    read_at_start: Secret,
    now_in_the_secret: Option<Secret>,
    rereads: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl ports::WebhookSecretSource for Rotated {
    async fn current(&self) -> Result<Secret, ports::StoreError> {
        Ok(self.read_at_start.clone())
    }
    async fn reread_after_mismatch(&self) -> Result<Option<Secret>, ports::StoreError> {
        self.rereads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self.now_in_the_secret.clone())
    }
}

#[tokio::test]
async fn a_rotated_webhook_token_is_read_again_on_a_mismatch() {
    let h = harness();
    // Zoom signs with the new token; the function still holds the old one.
    let rotated = Arc::new(Rotated {
        read_at_start: Secret::new("the-old-token"),
        now_in_the_secret: Some(Secret::new(WEBHOOK_SECRET)),
        rereads: Default::default(),
    });
    let app = h.app.clone().with_webhook_secret(rotated.clone());
    let r = app.handle(fixture("webhook-url-validation")).await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(
        json(&r)["encryptedToken"],
        zoom_sandbox::webhooks::encrypted_token(WEBHOOK_SECRET, "qgg8vlvZRS6UYooatFL8Aw"),
        "answered with the token Zoom signed with"
    );
    assert_eq!(
        rotated.rereads.load(std::sync::atomic::Ordering::Relaxed),
        1
    );

    // Nothing newer in the secret (a forged or stale signature): still refused.
    let unchanged = Arc::new(Rotated {
        read_at_start: Secret::new("the-old-token"),
        now_in_the_secret: None,
        rereads: Default::default(),
    });
    let app = h.app.clone().with_webhook_secret(unchanged);
    let r = app.handle(fixture("webhook-url-validation")).await;
    assert_eq!(r.status(), 401);
}
