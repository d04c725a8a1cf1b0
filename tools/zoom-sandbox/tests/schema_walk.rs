//! Walks every endpoint of the sandbox and validates each response body against Zoom's own
//! schemas in `spec/openapi-subset.json` (OpenAPI 3.0 schemas converted to JSON Schema draft 4:
//! `$ref`s resolved against the document, `nullable` turned into a null alternative).
//!
//! Formats are validated (`date-time`, `date`, `email`, `url`), except Zoom's `uuid`, which Zoom
//! uses for its own base64 meeting UUIDs and user ids, not RFC 4122 UUIDs.
//!
//! One documented deviation: spec26 dropped user type 3 (On-prem) from the `type` enum, but
//! legacy accounts still have such users (REFERENCE §3.5: "still accept unknown ints"); users of
//! the legacy accounts are validated against the schema with 3 added to that enum, every other
//! account strictly.

mod rest_common;

use std::collections::BTreeSet;

use reqwest::Method;
use rest_common::{Api, enc, enc_uuid, start};
use serde_json::{Map, Value, json};
use zoom_sandbox::tenant::{TenantSpec, UserStatus};

const SPEC: &str = include_str!("../spec/openapi-subset.json");

fn resolve<'a>(doc: &'a Value, pointer: &str) -> &'a Value {
    let p = pointer.strip_prefix('#').expect("local $ref");
    doc.pointer(p)
        .unwrap_or_else(|| panic!("unresolved $ref {pointer}"))
}

/// OpenAPI 3.0 schema → JSON Schema (draft 4).
fn convert(schema: &Value, doc: &Value) -> Value {
    match schema {
        Value::Object(obj) => {
            if let Some(Value::String(r)) = obj.get("$ref") {
                return convert(resolve(doc, r), doc);
            }
            let mut out = Map::new();
            for (k, v) in obj {
                if k == "nullable" || k == "example" || k == "deprecated" || k.starts_with("x-") {
                    continue;
                }
                let v = match k.as_str() {
                    "properties" => Value::Object(
                        v.as_object()
                            .unwrap()
                            .iter()
                            .map(|(name, s)| (name.clone(), convert(s, doc)))
                            .collect(),
                    ),
                    "items" | "additionalProperties" | "not" => convert(v, doc),
                    "allOf" | "anyOf" | "oneOf" => Value::Array(
                        v.as_array()
                            .unwrap()
                            .iter()
                            .map(|s| convert(s, doc))
                            .collect(),
                    ),
                    _ => v.clone(),
                };
                out.insert(k.clone(), v);
            }
            let converted = Value::Object(out);
            if obj.get("nullable") == Some(&Value::Bool(true)) {
                json!({"anyOf": [converted, {"type": "null"}]})
            } else {
                converted
            }
        }
        other => other.clone(),
    }
}

struct Spec {
    doc: Value,
}

impl Spec {
    fn load() -> Self {
        Self {
            doc: serde_json::from_str(SPEC).expect("spec parses"),
        }
    }

    fn operations(&self) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                    out.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        out
    }

    fn response_schema(&self, method: &str, path: &str, status: u16) -> Option<Value> {
        let op = &self.doc["paths"][path][method.to_lowercase()];
        assert!(op.is_object(), "spec has no {method} {path}");
        let resp = &op["responses"][status.to_string()];
        assert!(
            resp.is_object(),
            "spec has no {status} response for {method} {path}"
        );
        let schema = resp.pointer("/content/application~1json/schema")?;
        Some(convert(schema, &self.doc))
    }
}

/// Add 3 (On-prem) to every integer enum `[1, 2, 4, 99]` (the user `type`).
fn allow_on_prem(schema: &mut Value) {
    match schema {
        Value::Object(obj) => {
            if let Some(Value::Array(e)) = obj.get_mut("enum")
                && *e == vec![json!(1), json!(2), json!(4), json!(99)]
            {
                e.push(json!(3));
            }
            for v in obj.values_mut() {
                allow_on_prem(v);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(allow_on_prem),
        _ => {}
    }
}

fn validate(schema: &Value, body: &Value, what: &str) {
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .with_format("uuid", |_: &str| true)
        .build(schema)
        .unwrap_or_else(|e| panic!("{what}: schema does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: body does not match Zoom's schema:\n{}\nbody: {}",
        errors.join("\n"),
        serde_json::to_string(body).unwrap()
    );
}

const ERROR_SCHEMA: &str = r#"{"type":"object","required":["code","message"],
  "properties":{"code":{"type":"integer"},"message":{"type":"string"},
  "errors":{"type":"array","items":{"type":"object","required":["field","message"]}}}}"#;

struct Walk {
    spec: Spec,
    api: Api,
    covered: BTreeSet<(String, String)>,
    calls: usize,
}

impl Walk {
    /// Call `url` and validate the body against the spec's `(method, template, status)` schema.
    async fn check(
        &mut self,
        method: Method,
        template: &str,
        url: &str,
        body: Option<Value>,
        status: u16,
        on_prem: bool,
    ) -> Value {
        let (got, v) = match (&method, body) {
            (&Method::GET, None) => self.api.get(url).await,
            (_, b) => {
                self.api
                    .send(method.clone(), url, b.unwrap_or(Value::Null))
                    .await
            }
        };
        let what = format!("{method} {url}");
        assert_eq!(got, status, "{what}: {v}");
        // Master forms the subset does not list have the un-prefixed form's bodies (the
        // documented prefix rule, REFERENCE §2).
        let template = if self.spec.doc["paths"][template].is_null() {
            template
                .strip_prefix("/accounts/{accountId}")
                .unwrap_or(template)
        } else {
            template
        };
        self.calls += 1;
        if status >= 400 {
            let schema: Value = serde_json::from_str(ERROR_SCHEMA).unwrap();
            validate(&schema, &v, &what);
            // The status must be one the spec documents for the operation.
            self.spec.response_schema(method.as_str(), template, status);
        } else {
            match self.spec.response_schema(method.as_str(), template, status) {
                Some(mut schema) => {
                    if on_prem {
                        allow_on_prem(&mut schema);
                    }
                    validate(&schema, &v, &what);
                }
                None => assert!(v.is_null(), "{what}: expected no body, got {v}"),
            }
            self.covered
                .insert((method.as_str().to_string(), template.to_string()));
        }
        v
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_matches_zooms_schemas() {
    let spec = Spec::load();
    let api = start(TenantSpec::sized(23, 4, 420).with_legacy_on_prem_accounts(1)).await;
    let mut w = Walk {
        spec,
        api,
        covered: BTreeSet::new(),
        calls: 0,
    };
    let state = w.api.sb.state.clone();
    let tenant = &state.tenant;
    let anchor = tenant.anchor();
    let from = (anchor - chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let to = anchor.format("%Y-%m-%d").to_string();
    let g = Method::GET;

    // Sub accounts.
    let subs = w
        .check(
            g.clone(),
            "/accounts",
            "/accounts?page_size=2",
            None,
            200,
            false,
        )
        .await;
    assert_eq!(subs["accounts"].as_array().unwrap().len(), 2);

    let mut accounts: Vec<(String, String, bool)> = vec![("me".into(), String::new(), false)];
    for a in tenant.sub_accounts() {
        accounts.push((
            a.id.clone(),
            format!("/accounts/{}", a.id),
            a.legacy_on_prem,
        ));
    }
    assert!(accounts.iter().any(|a| a.2), "a legacy account is walked");

    for (id, prefix, legacy) in &accounts {
        let master_form = !prefix.is_empty();
        let acct_tpl = |rest: &str| format!("/accounts/{{accountId}}{rest}");
        // Account, plans, usage (master form; `me` for the master itself).
        w.check(
            g.clone(),
            &acct_tpl(""),
            &format!("/accounts/{id}"),
            None,
            200,
            false,
        )
        .await;
        let account = tenant
            .account_by_id(if id == "me" {
                tenant.master_account_id()
            } else {
                id
            })
            .unwrap()
            .clone();
        if account.pay_mode == "master" || id == "me" {
            w.check(
                g.clone(),
                &acct_tpl("/plans"),
                &format!("/accounts/{id}/plans"),
                None,
                200,
                false,
            )
            .await;
        }
        // A sub account that pays its own bill: 400 code 2100 for the master.
        let self_pay = account.pay_mode == "sub" && id != "me";
        let usage = w
            .check(
                g.clone(),
                &acct_tpl("/plans/usage"),
                &format!("/accounts/{id}/plans/usage"),
                None,
                if self_pay { 400 } else { 200 },
                false,
            )
            .await;
        if self_pay {
            assert_eq!(usage["code"], 2100, "{usage}");
        }

        // Users: every page of every status.
        let users_tpl = if master_form {
            acct_tpl("/users")
        } else {
            "/users".into()
        };
        let mut some_users = Vec::new();
        for status in UserStatus::ALL {
            let mut token = String::new();
            loop {
                let url = format!(
                    "{prefix}/users?status={}&page_size=300&next_page_token={token}",
                    status.as_str()
                );
                let v = w
                    .check(g.clone(), &users_tpl, &url, None, 200, *legacy)
                    .await;
                for u in v["users"].as_array().unwrap().iter().take(3) {
                    some_users.push(u.clone());
                }
                token = v["next_page_token"].as_str().unwrap().to_string();
                if token.is_empty() {
                    break;
                }
            }
        }
        let user_tpl = if master_form {
            acct_tpl("/users/{userId}")
        } else {
            "/users/{userId}".into()
        };
        for u in &some_users {
            let key = u["id"]
                .as_str()
                .unwrap_or_else(|| u["email"].as_str().unwrap());
            w.check(
                g.clone(),
                &user_tpl,
                &format!("{prefix}/users/{}", enc(key)),
                None,
                200,
                *legacy,
            )
            .await;
        }
        if !master_form {
            w.check(g.clone(), &user_tpl, "/users/me", None, 200, false)
                .await;
        }
        w.check(
            g.clone(),
            &user_tpl,
            &format!("{prefix}/users/nobody"),
            None,
            404,
            false,
        )
        .await;

        // Meetings of the users with the most meetings, their participants, reports.
        let idx = account.index;
        let mut hosts: Vec<u32> = (0..tenant.user_count(idx)).collect();
        hosts.sort_by_key(|u| std::cmp::Reverse(tenant.meetings(idx, *u).len()));
        let meetings_tpl = if master_form {
            acct_tpl("/users/{userId}/meetings")
        } else {
            "/users/{userId}/meetings".into()
        };
        let report_tpl = |rest: &str| {
            if master_form {
                acct_tpl(rest)
            } else {
                rest.to_string()
            }
        };
        for &u in hosts.iter().take(3) {
            let user = tenant.user(idx, u).unwrap();
            w.check(
                g.clone(),
                &meetings_tpl,
                &format!("{prefix}/users/{}/meetings?page_size=300", user.id),
                None,
                200,
                false,
            )
            .await;
            w.check(
                g.clone(),
                &report_tpl("/report/users/{userId}/meetings"),
                &format!(
                    "{prefix}/report/users/{}/meetings?from={from}&to={to}",
                    user.id
                ),
                None,
                200,
                false,
            )
            .await;
            for m in tenant
                .all_meetings(idx, u)
                .iter()
                .filter(|m| m.ended)
                .take(3)
            {
                w.check(
                    g.clone(),
                    &report_tpl("/past_meetings/{meetingId}/instances"),
                    &format!("{prefix}/past_meetings/{}/instances", m.id),
                    None,
                    200,
                    false,
                )
                .await;
                w.check(
                    g.clone(),
                    "/past_meetings/{meetingUUID}/participants",
                    &format!(
                        "/past_meetings/{}/participants?page_size=300",
                        enc_uuid(&m.uuid)
                    ),
                    None,
                    200,
                    false,
                )
                .await;
                w.check(
                    g.clone(),
                    &report_tpl("/report/meetings/{meetingId}/participants"),
                    &format!(
                        "{prefix}/report/meetings/{}/participants",
                        enc_uuid(&m.uuid)
                    ),
                    None,
                    200,
                    false,
                )
                .await;
            }
        }
        for t in ["active", "inactive"] {
            w.check(
                g.clone(),
                &report_tpl("/report/users"),
                &format!("{prefix}/report/users?type={t}&from={from}&to={to}&page_size=300"),
                None,
                200,
                false,
            )
            .await;
        }
        w.check(
            g.clone(),
            &report_tpl("/report/activities"),
            &format!("{prefix}/report/activities?from={from}&to={to}&page_size=300"),
            None,
            200,
            false,
        )
        .await;

        // Writes: a member's type and status.
        let member = (0..tenant.user_count(idx))
            .filter_map(|u| tenant.user(idx, u))
            .find(|u| {
                u.role == zoom_sandbox::tenant::Role::Member
                    && u.status == UserStatus::Active
                    && u.user_type == 2
            })
            .unwrap();
        let patch_tpl = user_tpl.clone();
        w.check(
            Method::PATCH,
            &patch_tpl,
            &format!("{prefix}/users/{}", member.id),
            Some(json!({"type": 1})),
            204,
            false,
        )
        .await;
        let status_tpl = format!("{user_tpl}/status");
        w.check(
            Method::PUT,
            &status_tpl,
            &format!("{prefix}/users/{}/status", member.id),
            Some(json!({"action": "deactivate"})),
            200,
            false,
        )
        .await;
        w.check(
            Method::PUT,
            &status_tpl,
            &format!("{prefix}/users/{}/status", tenant.owner_user_id(idx)),
            Some(json!({"action": "deactivate"})),
            400,
            false,
        )
        .await;
        w.check(
            Method::PATCH,
            &patch_tpl,
            &format!("{prefix}/users/nobody"),
            Some(json!({"type": 1})),
            404,
            false,
        )
        .await;
    }
    // Errors documented by the spec.
    w.check(
        g.clone(),
        "/accounts/{accountId}",
        "/accounts/unknown-account",
        None,
        404,
        false,
    )
    .await;
    w.check(
        g.clone(),
        "/past_meetings/{meetingUUID}/participants",
        "/past_meetings/999/participants",
        None,
        404,
        false,
    )
    .await;
    w.check(
        g.clone(),
        "/past_meetings/{meetingId}/instances",
        "/past_meetings/999/instances",
        None,
        404,
        false,
    )
    .await;
    w.check(
        g.clone(),
        "/users",
        "/users?next_page_token=bogus",
        None,
        400,
        false,
    )
    .await;

    // Every operation of the spec was exercised with a success status.
    let missing: Vec<_> = w
        .spec
        .operations()
        .difference(&w.covered)
        .cloned()
        .collect();
    assert!(missing.is_empty(), "operations not walked: {missing:?}");
    assert!(w.calls > 100, "walked {} calls", w.calls);
}

/// Endpoints without a schema in the subset: check their fields by hand.
#[tokio::test]
async fn summary_and_meeting_have_zooms_fields() {
    let api = start(TenantSpec::demo()).await;
    let s = api.ok("/users/summary").await;
    for k in [
        "licensed_users_count",
        "basic_users_count",
        "on_prem_users_count",
        "room_users_count",
        "pending_users_count",
        "join_only_users_count",
        "total_users_count",
    ] {
        assert!(s[k].is_u64(), "{k} in {s}");
    }
    let tenant = &api.sb.state.tenant;
    let m = (0..tenant.user_count(0))
        .flat_map(|u| tenant.meetings(0, u))
        .next()
        .unwrap();
    let v = api.ok(&format!("/meetings/{}", m.id)).await;
    assert_eq!(v["id"].as_i64(), Some(m.id));
    assert_eq!(v["uuid"], m.uuid);
    for k in [
        "host_id",
        "topic",
        "type",
        "start_time",
        "duration",
        "timezone",
        "created_at",
        "join_url",
    ] {
        assert!(!v[k].is_null(), "{k} in {v}");
    }
    let (s, v) = api.get("/meetings/12345").await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(3001)));
}

/// The conversion and validator are not vacuous: bodies that break Zoom's schema are rejected.
#[test]
fn validator_rejects_bodies_that_break_the_schema() {
    let spec = Spec::load();
    let schema = spec.response_schema("GET", "/users", 200).unwrap();
    let good = json!({"page_size": 30, "total_records": 1, "next_page_token": "",
        "users": [{"id": "x", "email": "a@example.com", "type": 2, "status": "active",
                   "last_login_time": "2026-01-02T03:04:05Z"}]});
    validate(&schema, &good, "good body");
    for (bad, why) in [
        (
            json!({"users": [{"email": "a@example.com", "type": 3}]}),
            "type 3",
        ),
        (
            json!({"users": [{"email": "a@example.com"}]}),
            "type missing",
        ),
        (
            json!({"users": [{"email": "a@example.com", "type": 1, "status": "gone"}]}),
            "status",
        ),
        (
            json!({"users": [{"email": "a@example.com", "type": 1,
                           "last_login_time": "yesterday"}]}),
            "date-time format",
        ),
        (
            json!({"users": [{"email": "not an email", "type": 1}]}),
            "email format",
        ),
        (json!({"page_size": "30", "users": []}), "page_size type"),
    ] {
        let result = std::panic::catch_unwind(|| validate(&schema, &bad, why));
        assert!(result.is_err(), "{why}: accepted {bad}");
    }
    let mut lenient = schema.clone();
    allow_on_prem(&mut lenient);
    validate(
        &lenient,
        &json!({"users": [{"email": "a@example.com", "type": 3}]}),
        "type 3 with the legacy patch",
    );
}
