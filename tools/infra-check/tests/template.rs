//! `infra/template.yaml` against the workspace: one SAM function per crate under `functions/`
//! built by rust-cargolambda with its binary, every schedule and queue wired to an existing
//! function, dead-letter queues with alarms, least-privilege IAM, JSON logs with retention,
//! environment variables the code really reads, and the OAuth routes and their URLs as outputs.

use std::collections::{BTreeMap, BTreeSet};

use infra_check::{
    FunctionCrate, function_crates, reference, root, rust_sources, tag, template, untag,
};
use serde_yaml_ng::{Mapping, Value};

fn resources(doc: &Value) -> &Mapping {
    doc["Resources"].as_mapping().expect("Resources")
}

fn of_type<'a>(doc: &'a Value, ty: &str) -> BTreeMap<String, &'a Value> {
    resources(doc)
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(ty))
        .map(|(k, r)| (k.as_str().unwrap().to_owned(), r))
        .collect()
}

fn functions(doc: &Value) -> BTreeMap<String, &Value> {
    of_type(doc, "AWS::Serverless::Function")
}

/// The function's property, else the Globals' one.
fn prop<'a>(doc: &'a Value, f: &'a Value, name: &str) -> &'a Value {
    let own = &f["Properties"][name];
    if own.is_null() {
        &doc["Globals"]["Function"][name]
    } else {
        own
    }
}

fn events(f: &Value) -> Vec<(String, &Value)> {
    f["Properties"]["Events"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_owned(), v))
                .collect()
        })
        .unwrap_or_default()
}

/// Environment variables of a function: Globals merged with its own.
fn env(doc: &Value, f: &Value) -> BTreeMap<String, Value> {
    let mut vars = BTreeMap::new();
    for source in [
        &doc["Globals"]["Function"]["Environment"]["Variables"],
        &f["Properties"]["Environment"]["Variables"],
    ] {
        if let Some(m) = source.as_mapping() {
            for (k, v) in m {
                vars.insert(k.as_str().unwrap().to_owned(), v.clone());
            }
        }
    }
    vars
}

fn function_for<'a>(doc: &'a Value, krate: &FunctionCrate) -> (String, &'a Value) {
    let matching: Vec<_> = functions(doc)
        .into_iter()
        .filter(|(_, f)| {
            f["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(krate.package.as_str())
        })
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "exactly one function resource with Binary {} (found {:?})",
        krate.package,
        matching.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    matching.into_iter().next().unwrap()
}

#[test]
fn every_function_crate_has_exactly_one_resource_with_its_binary() {
    let doc = template();
    let crates = function_crates();
    assert!(
        crates.len() >= 6,
        "functions/ holds the six functions: {crates:?}"
    );
    for krate in &crates {
        let (id, f) = function_for(&doc, krate);
        assert_eq!(
            f["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{id}"
        );
        assert_eq!(
            prop(&doc, f, "CodeUri").as_str(),
            Some(".."),
            "{id}: CodeUri is the workspace root"
        );
        assert_eq!(
            prop(&doc, f, "Runtime").as_str(),
            Some("provided.al2023"),
            "{id}"
        );
        assert_eq!(prop(&doc, f, "Handler").as_str(), Some("bootstrap"), "{id}");
        // The binary exists in the crate: src/main.rs or a [[bin]] of that name.
        let dir = root().join("functions").join(&krate.dir);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            dir.join("src/main.rs").is_file()
                || manifest.contains(&format!("name = \"{}\"", krate.package)),
            "{}: no binary {}",
            krate.dir,
            krate.package
        );
    }
    // No resource for a crate that does not exist.
    let packages: BTreeSet<_> = crates.iter().map(|c| c.package.as_str()).collect();
    for (id, f) in functions(&doc) {
        // SAM's rust-cargolambda builder reads the binary from Metadata.BuildProperties only;
        // anywhere else it builds every binary and packages none by name.
        assert!(
            f["Metadata"].get("Binary").is_none(),
            "{id}: Binary belongs under Metadata.BuildProperties"
        );
        let binary = f["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or("");
        assert!(
            packages.contains(binary),
            "{id}: Binary {binary:?} is no crate under functions/"
        );
    }
}

#[test]
fn architecture_defaults_to_arm64_with_a_parameter_to_switch() {
    let doc = template();
    let param = &doc["Parameters"]["Architecture"];
    assert_eq!(param["Default"].as_str(), Some("arm64"));
    let allowed: BTreeSet<_> = param["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(allowed, BTreeSet::from(["arm64", "x86_64"]));
    for (id, f) in functions(&doc) {
        let archs = prop(&doc, f, "Architectures")
            .as_sequence()
            .expect("Architectures");
        assert_eq!(archs.len(), 1, "{id}");
        assert_eq!(
            reference(&archs[0]),
            Some(("Architecture".into(), None)),
            "{id}"
        );
    }
}

#[test]
fn schedules_and_queues_target_existing_functions() {
    let doc = template();
    let res = resources(&doc);
    let queues = of_type(&doc, "AWS::SQS::Queue");
    let alarmed_queue = |queue: &str| {
        of_type(&doc, "AWS::CloudWatch::Alarm").values().any(|a| {
            a["Properties"]["Dimensions"]
                .as_sequence()
                .is_some_and(|d| {
                    d.iter()
                        .any(|dim| reference(&dim["Value"]).is_some_and(|(r, _)| r == queue))
                })
        })
    };
    let mut consumed = BTreeSet::new();
    let mut schedule_dlqs = BTreeSet::new();
    let mut scheduled = BTreeSet::new();
    for (id, f) in functions(&doc) {
        let binary = f["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_owned();
        for (name, event) in events(f) {
            let p = &event["Properties"];
            match event["Type"].as_str() {
                Some("SQS") => {
                    let (queue, attr) = reference(&p["Queue"]).expect("Queue: !GetAtt X.Arn");
                    assert_eq!(attr.as_deref(), Some("Arn"), "{id}.{name}");
                    let q = queues
                        .get(&queue)
                        .unwrap_or_else(|| panic!("{id}.{name}: no queue {queue}"));
                    assert!(consumed.insert(queue.clone()), "{queue} consumed twice");
                    assert!(
                        p["FunctionResponseTypes"].as_sequence().is_some_and(|s| s
                            .iter()
                            .any(|t| t.as_str() == Some("ReportBatchItemFailures"))),
                        "{id}.{name}: partial batch failures"
                    );
                    // The function sends its fan-out to the queue it consumes.
                    let url = env(&doc, f)
                        .get("ZTS_QUEUE_URL")
                        .cloned()
                        .expect("ZTS_QUEUE_URL");
                    assert_eq!(reference(&url), Some((queue.clone(), None)), "{id}");
                    // FIFO with a dead-letter queue that has an alarm.
                    assert_eq!(
                        q["Properties"]["FifoQueue"].as_bool(),
                        Some(true),
                        "{queue}"
                    );
                    let visibility = q["Properties"]["VisibilityTimeout"].as_u64().unwrap_or(30);
                    let timeout = prop(&doc, f, "Timeout").as_u64().unwrap_or(3);
                    assert!(
                        visibility >= timeout,
                        "{queue}: visibility {visibility} < timeout {timeout}"
                    );
                    let redrive = &q["Properties"]["RedrivePolicy"];
                    let (dlq, _) = reference(&redrive["deadLetterTargetArn"])
                        .unwrap_or_else(|| panic!("{queue}: no dead-letter queue"));
                    assert!(queues.contains_key(&dlq), "{queue}: DLQ {dlq} missing");
                    assert!(alarmed_queue(&dlq), "{dlq}: no alarm on its depth");
                }
                Some("ScheduleV2") => {
                    let input: serde_json::Value =
                        serde_json::from_str(p["Input"].as_str().expect("Input"))
                            .expect("Input JSON");
                    // A task function (it consumes its units' queue) is told which task.
                    let is_task = events(f)
                        .iter()
                        .any(|(_, e)| e["Type"].as_str() == Some("SQS"));
                    if is_task {
                        assert_eq!(
                            input["task"],
                            binary.as_str(),
                            "{id}.{name}: schedule input names its task"
                        );
                    }
                    // The same event as events/<function>/schedule.json (the local loop's event).
                    let path = root().join("events").join(&binary).join("schedule.json");
                    let file: serde_json::Value =
                        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                    assert_eq!(input, file, "{id}.{name} vs {}", path.display());
                    let expr = &p["ScheduleExpression"];
                    let (param, _) = reference(expr).expect("schedule expression is a parameter");
                    assert!(doc["Parameters"][param.as_str()].is_mapping(), "{param}");
                    // A run Scheduler could not deliver lands in an alarmed dead-letter queue.
                    let (dlq, attr) = reference(&p["DeadLetterConfig"]["Arn"])
                        .unwrap_or_else(|| panic!("{id}.{name}: no DeadLetterConfig.Arn"));
                    assert_eq!(attr.as_deref(), Some("Arn"), "{id}.{name}");
                    assert!(queues.contains_key(&dlq), "{id}.{name}: no queue {dlq}");
                    assert!(alarmed_queue(&dlq), "{dlq}: no alarm on its depth");
                    schedule_dlqs.insert(dlq);
                    scheduled.insert(binary.clone());
                }
                Some("HttpApi") | Some("Api") => {
                    panic!("{id}: the HTTP API is declared as resources")
                }
                other => panic!("{id}.{name}: unexpected event type {other:?}"),
            }
        }
    }
    // Stand-alone schedules (if any) target a function of this stack.
    for (id, s) in of_type(&doc, "AWS::Scheduler::Schedule") {
        let (target, _) = reference(&s["Properties"]["Target"]["Arn"]).expect("target");
        assert!(
            functions(&doc).contains_key(&target),
            "{id}: target {target}"
        );
    }
    // Every queue is consumed, some queue's DLQ or the schedules' DLQ.
    let mut dlqs: BTreeSet<String> = queues
        .values()
        .filter_map(|q| {
            reference(&q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]).map(|r| r.0)
        })
        .collect();
    dlqs.extend(schedule_dlqs);
    for id in queues.keys() {
        assert!(
            consumed.contains(id) || dlqs.contains(id),
            "{id}: neither consumed nor a DLQ"
        );
    }
    // The four tasks and the daily maintenance (purge, idle-token refresh).
    let scheduled_functions = [
        "application-roster",
        "application-access",
        "license-information",
        "license-differentiation",
        "maintenance",
    ];
    assert_eq!(
        scheduled,
        scheduled_functions.iter().map(|t| t.to_string()).collect(),
        "every task and the maintenance are scheduled"
    );
    assert!(!res.is_empty());
}

fn statements(role: &Value) -> Vec<&Value> {
    role["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|p| {
            p["PolicyDocument"]["Statement"]
                .as_sequence()
                .into_iter()
                .flatten()
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    match untag(v) {
        Value::Sequence(s) => s.iter().flat_map(strings).collect(),
        Value::String(s) => vec![s.clone()],
        _ => vec![],
    }
}

#[test]
fn iam_is_least_privilege() {
    let doc = template();
    for (id, f) in functions(&doc) {
        assert!(
            f["Properties"]["Policies"].is_null(),
            "{id}: use its own role, not SAM policies"
        );
        let (role_id, _) =
            reference(&f["Properties"]["Role"]).unwrap_or_else(|| panic!("{id}: Role"));
        let role = &doc["Resources"][role_id.as_str()];
        assert_eq!(role["Type"].as_str(), Some("AWS::IAM::Role"), "{role_id}");
        assert!(
            role["Properties"]["ManagedPolicyArns"].is_null(),
            "{role_id}: no managed policies"
        );
        let stmts = statements(role);
        assert!(!stmts.is_empty(), "{role_id}");
        for s in stmts {
            assert_eq!(s["Effect"].as_str(), Some("Allow"));
            for action in strings(&s["Action"]) {
                assert!(!action.contains('*'), "{role_id}: wildcard action {action}");
            }
            let resources: Vec<&Value> = match &s["Resource"] {
                Value::Sequence(r) => r.iter().collect(),
                r => vec![r],
            };
            for r in resources {
                // Scoped to this stack: a reference to one of its resources, or a Sub on them
                // or on this stack's secret prefix parameter.
                match (tag(r).as_deref(), untag(r)) {
                    (Some("Ref" | "GetAtt"), _) => {
                        let (target, _) = reference(r).unwrap();
                        assert!(
                            doc["Resources"][target.as_str()].is_mapping(),
                            "{role_id}: {target}"
                        );
                    }
                    (Some("Sub"), Value::String(s)) => {
                        assert!(
                            s.contains("${TokenSecretPrefix}")
                                || s.contains("${RecordsTable.Arn}")
                                // Reclamation's notices: the configured SES identity.
                                || s.contains(":identity/${NotifySenderIdentity}")
                                || s.contains("${FilesBucket.Arn}/")
                                || s.contains("LogGroup.Arn}"),
                            "{role_id}: resource {s} is not scoped to this stack"
                        );
                    }
                    other => panic!("{role_id}: unscoped resource {other:?}"),
                }
            }
        }
        // The role can write only to the function's own log group, in JSON.
        assert_eq!(
            f["Properties"]["LoggingConfig"]["LogFormat"].as_str(),
            Some("JSON"),
            "{id}"
        );
        let (group, _) =
            reference(&f["Properties"]["LoggingConfig"]["LogGroup"]).expect("LogGroup");
        let lg = &doc["Resources"][group.as_str()];
        assert_eq!(lg["Type"].as_str(), Some("AWS::Logs::LogGroup"), "{group}");
        assert!(
            !lg["Properties"]["RetentionInDays"].is_null(),
            "{group}: retention"
        );
    }
}

#[test]
fn environment_variables_are_read_by_the_code() {
    let doc = template();
    let sources = rust_sources(&["functions", "shared"], &[]);
    let read_by = |var: &str, dirs: &[String]| {
        sources.iter().any(|(path, text)| {
            dirs.iter().any(|d| path.starts_with(root().join(d)))
                && text.contains(&format!("\"{var}\""))
        })
    };
    for krate in function_crates() {
        let (id, f) = function_for(&doc, &krate);
        let dirs = vec![format!("functions/{}", krate.dir), "shared".to_owned()];
        let vars = env(&doc, f);
        for var in vars.keys() {
            assert!(
                var == "RUST_LOG" || read_by(var, &dirs),
                "{id}: {var} is set but no code of {} reads it",
                krate.package
            );
        }
        // What each function cannot start without.
        let text = sources
            .iter()
            .filter(|(p, _)| p.starts_with(root().join(&dirs[0])))
            .map(|(_, t)| t.as_str())
            .collect::<String>();
        let queue_task = text.contains("lambda_wiring::run_task_function");
        if queue_task {
            assert!(vars.contains_key("ZTS_QUEUE_URL"), "{id}: ZTS_QUEUE_URL");
        }
        if text.contains("\"ZTS_OAUTH_REDIRECT_URI\"") && krate.package == "oauth-connect" {
            let v = untag(&vars["ZTS_OAUTH_REDIRECT_URI"])
                .as_str()
                .unwrap_or("")
                .to_owned();
            assert!(v.ends_with("/oauth/callback"), "{id}: redirect {v}");
        }
        for required in [
            "ZTS_TABLE_NAME",
            "ZTS_APP_SECRET_ID",
            "ZTS_TOKEN_SECRET_PREFIX",
        ] {
            assert!(vars.contains_key(required), "{id}: {required}");
        }
    }
}

#[test]
fn oauth_routes_and_their_urls() {
    let doc = template();
    let routes: BTreeSet<String> = of_type(&doc, "AWS::ApiGatewayV2::Route")
        .values()
        .map(|r| r["Properties"]["RouteKey"].as_str().unwrap().to_owned())
        .collect();
    let want = ["GET /connect", "GET /oauth/callback", "POST /zoom/events"];
    assert_eq!(routes, want.iter().map(|s| s.to_string()).collect());
    // The integration invokes the oauth-connect function (by its fixed name) with payload 2.0.
    let (oauth_id, oauth) = function_for(
        &doc,
        &FunctionCrate {
            dir: "oauth-connect".into(),
            package: "oauth-connect".into(),
        },
    );
    let name = untag(&oauth["Properties"]["FunctionName"])
        .as_str()
        .expect("FunctionName")
        .to_owned();
    for (id, i) in of_type(&doc, "AWS::ApiGatewayV2::Integration") {
        let uri = untag(&i["Properties"]["IntegrationUri"]).as_str().unwrap();
        assert!(uri.ends_with(&format!(":function:{name}")), "{id}: {uri}");
        assert_eq!(
            i["Properties"]["PayloadFormatVersion"].as_str(),
            Some("2.0")
        );
    }
    let permitted = of_type(&doc, "AWS::Lambda::Permission").values().any(|p| {
        reference(&p["Properties"]["FunctionName"]).is_some_and(|(f, _)| f == oauth_id)
            && p["Properties"]["Principal"].as_str() == Some("apigateway.amazonaws.com")
    });
    assert!(permitted, "API Gateway may invoke {oauth_id}");
    let outputs: Vec<String> = doc["Outputs"]
        .as_mapping()
        .unwrap()
        .values()
        .filter_map(|o| untag(&o["Value"]).as_str().map(str::to_owned))
        .collect();
    for path in ["/connect", "/oauth/callback", "/zoom/events"] {
        assert!(
            outputs
                .iter()
                .any(|o| o.starts_with("https://${HttpApi}") && o.ends_with(path)),
            "output URL for {path}"
        );
    }
}

/// API Gateway's token bucket of one route: `burst` tokens, refilled at `rate` per second.
struct Bucket {
    burst: f64,
    rate: f64,
    tokens: f64,
}

impl Bucket {
    fn take(&mut self, elapsed_secs: f64) -> bool {
        self.tokens = (self.tokens + elapsed_secs * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[test]
fn a_flood_of_the_browser_routes_does_not_starve_zoom_events() {
    let doc = template();
    let stage = of_type(&doc, "AWS::ApiGatewayV2::Stage")
        .into_values()
        .next()
        .expect("the HTTP API stage");
    let routes: BTreeSet<String> = of_type(&doc, "AWS::ApiGatewayV2::Route")
        .values()
        .map(|r| r["Properties"]["RouteKey"].as_str().unwrap().to_owned())
        .collect();
    let settings = stage["Properties"]["RouteSettings"]
        .as_mapping()
        .expect("per-route throttles (RouteSettings)");
    let named: BTreeSet<String> = settings
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        named, routes,
        "every route has its own budget, and only routes"
    );
    let depends: BTreeSet<String> = strings(&stage["DependsOn"]).into_iter().collect();
    for (id, _) in of_type(&doc, "AWS::ApiGatewayV2::Route") {
        assert!(depends.contains(&id), "the stage is created after {id}");
    }
    let limits = |route: &str| {
        let s = &settings[route];
        (
            s["ThrottlingBurstLimit"].as_f64().expect("burst"),
            s["ThrottlingRateLimit"].as_f64().expect("rate"),
        )
    };
    let bucket = |route: &str| {
        let (burst, rate) = limits(route);
        Bucket {
            burst,
            rate,
            tokens: burst,
        }
    };
    // API Gateway throttles each route on its own bucket (documented for HTTP API route
    // settings). Ten minutes: /connect and /oauth/callback flooded at 1,000 requests a second
    // each, Zoom delivering 20 event notifications a second in bursts of 40 every 2 s.
    let (events_burst, events_rate) = limits("POST /zoom/events");
    let mut buckets: BTreeMap<&str, Bucket> =
        ["GET /connect", "GET /oauth/callback", "POST /zoom/events"]
            .into_iter()
            .map(|r| (r, bucket(r)))
            .collect();
    let mut passed: BTreeMap<&str, u64> = BTreeMap::new();
    let mut refused_events = 0;
    let step = 0.001;
    let mut last: BTreeMap<&str, f64> = BTreeMap::new();
    for tick in 0..600_000u64 {
        let now = tick as f64 * step;
        let mut arrive = vec!["GET /connect", "GET /oauth/callback"];
        if tick % 2_000 < 40 {
            arrive.push("POST /zoom/events");
        }
        for route in arrive {
            let elapsed = now - last.get(route).copied().unwrap_or(0.0);
            last.insert(route, now);
            if buckets.get_mut(route).unwrap().take(elapsed) {
                *passed.entry(route).or_default() += 1;
            } else if route == "POST /zoom/events" {
                refused_events += 1;
            }
        }
    }
    assert_eq!(
        refused_events, 0,
        "Zoom's notifications throttled during the flood (burst {events_burst}, rate {events_rate})"
    );
    assert_eq!(passed["POST /zoom/events"], 300 * 40);
    // The flood itself is held to the browser routes' small budgets (admins only use them).
    for route in ["GET /connect", "GET /oauth/callback"] {
        let (burst, rate) = limits(route);
        assert!(rate <= 5.0 && burst <= 10.0, "{route}: {burst}/{rate}");
        assert!(passed[route] as f64 <= burst + rate * 600.0 + 1.0);
    }
}

#[test]
fn secrets_hold_placeholders_only() {
    let doc = template();
    for (id, s) in of_type(&doc, "AWS::SecretsManager::Secret") {
        let text = untag(&s["Properties"]["SecretString"])
            .as_str()
            .expect("SecretString");
        let json: serde_json::Value =
            serde_json::from_str(&text.replace("${ZoomRegion}", "NA")).expect("JSON");
        let mut values = Vec::new();
        fn leaves(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => m.values().for_each(|v| leaves(v, out)),
                serde_json::Value::String(s) => out.push(s.clone()),
                _ => {}
            }
        }
        leaves(&json, &mut values);
        assert!(
            values.iter().all(String::is_empty),
            "{id}: placeholder values only"
        );
        assert!(
            json["apps"]["NA"].is_object() && json.get("webhook_secret_token").is_some(),
            "{id}"
        );
    }
    for (name, p) in doc["Parameters"].as_mapping().unwrap() {
        let name = name.as_str().unwrap().to_lowercase();
        assert!(
            !(name.contains("clientsecret") || name.contains("token") && !name.contains("prefix")),
            "{name}: secret values never go through parameters"
        );
        assert!(p["NoEcho"].is_null());
    }
}

/// Whether a function's crate builds the token vault (it refreshes tokens, so it is where a
/// grant is found dead): its sources call `token_vault(` or run a task function.
fn builds_the_vault(krate: &FunctionCrate) -> bool {
    let dir = format!("functions/{}", krate.dir);
    rust_sources(&[dir.as_str()], &[])
        .iter()
        .any(|(_, t)| t.contains("token_vault(") || t.contains("run_task_function("))
}

#[test]
fn alarms_reach_a_person() {
    let doc = template();
    let alarms = of_type(&doc, "AWS::CloudWatch::Alarm");
    // Every alarm notifies (and says when it is over) through the one topic.
    for (id, a) in &alarms {
        for key in ["AlarmActions", "OKActions"] {
            let targets: Vec<String> = a["Properties"][key]
                .as_sequence()
                .unwrap_or_else(|| panic!("{id}: no {key}"))
                .iter()
                .filter_map(|t| reference(t).map(|(r, _)| r))
                .collect();
            assert_eq!(targets, ["AlarmTopic"], "{id}.{key}");
        }
    }
    // The topic's key is one CloudWatch may use (the AWS-managed alias/aws/sns is not).
    let topic = &resources(&doc)["AlarmTopic"];
    let (key_id, _) = reference(&topic["Properties"]["KmsMasterKeyId"])
        .expect("the topic is encrypted with a key of this stack");
    let key = &resources(&doc)[key_id.as_str()];
    assert_eq!(key["Type"].as_str(), Some("AWS::KMS::Key"));
    let cloudwatch_may_encrypt = key["Properties"]["KeyPolicy"]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .any(|s| {
            s["Principal"]["Service"].as_str() == Some("cloudwatch.amazonaws.com")
                && strings(&s["Action"]).contains(&"kms:GenerateDataKey*".to_owned())
                && strings(&s["Action"]).contains(&"kms:Decrypt".to_owned())
        });
    assert!(cloudwatch_may_encrypt, "{key_id}: CloudWatch cannot use it");

    // Every function's errors are alarmed.
    let errors_alarmed: BTreeSet<String> = alarms
        .values()
        .filter(|a| {
            a["Properties"]["Namespace"].as_str() == Some("AWS/Lambda")
                && a["Properties"]["MetricName"].as_str() == Some("Errors")
        })
        .filter_map(|a| {
            a["Properties"]["Dimensions"]
                .as_sequence()?
                .iter()
                .find(|d| d["Name"].as_str() == Some("FunctionName"))
                .and_then(|d| reference(&d["Value"]).map(|(r, _)| r))
        })
        .collect();
    let all: BTreeSet<String> = functions(&doc).keys().cloned().collect();
    assert_eq!(errors_alarmed, all, "an Errors alarm per function");

    // A dead grant is counted in every log group where one can be found, and alarmed.
    let filters = of_type(&doc, "AWS::Logs::MetricFilter");
    let metric = |f: &Value| {
        let t = &f["Properties"]["MetricTransformations"][0];
        (
            untag(&t["MetricNamespace"])
                .as_str()
                .unwrap_or("")
                .to_owned(),
            t["MetricName"].as_str().unwrap_or("").to_owned(),
        )
    };
    for krate in function_crates() {
        let (id, f) = function_for(&doc, &krate);
        if !builds_the_vault(&krate) {
            continue;
        }
        let (log_group, _) =
            reference(&f["Properties"]["LoggingConfig"]["LogGroup"]).expect("log group");
        let counted = filters.values().any(|m| {
            reference(&m["Properties"]["LogGroupName"]).is_some_and(|(g, _)| g == log_group)
                && m["Properties"]["FilterPattern"]
                    .as_str()
                    .is_some_and(|p| p.contains("$.fields.alert = \"needs_reauthorization\""))
                && metric(m).1 == "ConnectionsNeedingReauthorization"
        });
        assert!(
            counted,
            "{id}: its log group counts no needs_reauthorization alert"
        );
    }
    let alarmed = alarms.values().any(|a| {
        a["Properties"]["MetricName"].as_str() == Some("ConnectionsNeedingReauthorization")
            && filters
                .values()
                .any(|m| metric(m).0 == untag(&a["Properties"]["Namespace"]).as_str().unwrap_or(""))
    });
    assert!(alarmed, "no alarm on ConnectionsNeedingReauthorization");
}

/// Every action a function's role allows.
fn allowed_actions(doc: &Value, f: &Value) -> BTreeSet<String> {
    let (role_id, _) = reference(&f["Properties"]["Role"]).expect("Role");
    statements(&doc["Resources"][role_id.as_str()])
        .into_iter()
        .flat_map(|s| strings(&s["Action"]))
        .collect()
}

/// Whether a role reaches the token secrets at all.
fn reaches_token_secrets(doc: &Value, f: &Value) -> bool {
    let (role_id, _) = reference(&f["Properties"]["Role"]).expect("Role");
    statements(&doc["Resources"][role_id.as_str()])
        .into_iter()
        .any(|s| {
            serde_yaml_ng::to_string(&s["Resource"])
                .unwrap()
                .contains("TokenSecretPrefix")
        })
}

#[test]
fn roles_are_trimmed_to_what_each_function_calls() {
    let doc = template();
    for krate in function_crates() {
        let (id, f) = function_for(&doc, &krate);
        let actions = allowed_actions(&doc, f);
        match krate.package.as_str() {
            // No Zoom calls: never a token secret.
            "license-differentiation" | "license-admin" => {
                assert!(!reaches_token_secrets(&doc, f), "{id}: token secrets");
            }
            // Puts one link item: nothing else of the table, no secrets at all.
            "connect-link" => {
                let want: BTreeSet<String> = [
                    "dynamodb:PutItem",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                ]
                .map(String::from)
                .into();
                assert_eq!(actions, want, "{id}");
            }
            // Connects accounts and records deauthorizations: single items, no batches.
            "oauth-connect" => {
                assert!(
                    !actions.contains("dynamodb:BatchWriteItem"),
                    "{id}: batch writes"
                );
            }
            _ => {}
        }
        // Deleting secrets: the deauthorization (oauth-connect) and the purge (maintenance) only.
        if krate.package != "maintenance" && krate.package != "oauth-connect" {
            assert!(
                !actions.contains("secretsmanager:DeleteSecret"),
                "{id}: deletes secrets"
            );
        }
    }
}

#[test]
fn metric_filters_match_what_the_code_logs() {
    let doc = template();
    let sources = rust_sources(&["shared", "functions"], &[]);
    let logged = |literal: &str| sources.iter().any(|(_, t)| t.contains(literal));
    let filters = of_type(&doc, "AWS::Logs::MetricFilter");
    assert!(!filters.is_empty());
    for (id, f) in &filters {
        let pattern = f["Properties"]["FilterPattern"].as_str().expect("pattern");
        // `{ $.fields.<field> = "<value>" }`: the value is a message or constant the code writes.
        let value = pattern
            .split('"')
            .nth(1)
            .unwrap_or_else(|| panic!("{id}: pattern {pattern}"));
        assert!(pattern.contains("$.fields."), "{id}: {pattern}");
        assert!(
            logged(&format!("\"{value}\"")),
            "{id}: no code logs {value:?}"
        );
        // A value taken from a field: the code logs that field.
        let metric_value = f["Properties"]["MetricTransformations"][0]["MetricValue"]
            .as_str()
            .unwrap_or("");
        if let Some(field) = metric_value.strip_prefix("$.fields.") {
            assert!(logged(&format!("{field} = ")), "{id}: no code logs {field}");
        }
        // Dimensions come from logged fields, and CloudWatch refuses a default value with them.
        let transform = &f["Properties"]["MetricTransformations"][0];
        for d in transform["Dimensions"].as_sequence().into_iter().flatten() {
            let field = d["Value"]
                .as_str()
                .and_then(|v| v.strip_prefix("$.fields."))
                .unwrap_or_else(|| panic!("{id}: dimension {d:?} is not a log field"));
            assert!(logged(&format!("{field} = ")), "{id}: no code logs {field}");
            assert!(
                transform["DefaultValue"].is_null(),
                "{id}: DefaultValue with dimensions"
            );
        }
    }
    // Every task function counts its failed units.
    for (id, f) in functions(&doc) {
        if !events(f)
            .iter()
            .any(|(_, e)| e["Type"].as_str() == Some("SQS"))
        {
            continue;
        }
        let (log_group, _) =
            reference(&f["Properties"]["LoggingConfig"]["LogGroup"]).expect("log group");
        let counts = |metric: &str| {
            filters.values().find(|m| {
                reference(&m["Properties"]["LogGroupName"]).is_some_and(|(g, _)| g == log_group)
                    && m["Properties"]["MetricTransformations"][0]["MetricName"].as_str()
                        == Some(metric)
            })
        };
        let failed =
            counts("UnitsFailed").unwrap_or_else(|| panic!("{id}: failed units are not counted"));
        let by_reason = failed["Properties"]["MetricTransformations"][0]["Dimensions"]
            .as_sequence()
            .is_some_and(|d| d.iter().any(|d| d["Key"].as_str() == Some("reason")));
        assert!(by_reason, "{id}: failed units are not counted by reason");
        let written = counts("RecordsWritten")
            .unwrap_or_else(|| panic!("{id}: records written are not counted"));
        assert_eq!(
            written["Properties"]["MetricTransformations"][0]["MetricValue"].as_str(),
            Some("$.fields.records_written"),
            "{id}"
        );
    }
}

/// The files bucket (reports and exports): private, encrypted, TLS only, files expire; only
/// license-admin reaches it, with the few object actions it needs on its prefix, and it is told
/// the bucket's name.
#[test]
fn files_bucket_is_private_encrypted_expiring_and_only_license_admin_writes_it() {
    let doc = template();
    let buckets = of_type(&doc, "AWS::S3::Bucket");
    let b = buckets.get("FilesBucket").expect("FilesBucket");
    let p = &b["Properties"];
    let block = &p["PublicAccessBlockConfiguration"];
    for k in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[k].as_bool(), Some(true), "{k}");
    }
    assert_eq!(
        p["OwnershipControls"]["Rules"][0]["ObjectOwnership"].as_str(),
        Some("BucketOwnerEnforced")
    );
    let sse = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        ["SSEAlgorithm"];
    assert!(
        matches!(sse.as_str(), Some("AES256" | "aws:kms")),
        "{sse:?}"
    );
    let rule = &p["LifecycleConfiguration"]["Rules"][0];
    assert_eq!(rule["Status"].as_str(), Some("Enabled"));
    assert!(!rule["ExpirationInDays"].is_null(), "files expire");
    assert!(!rule["AbortIncompleteMultipartUpload"].is_null());
    // A bucket policy that denies every request without TLS.
    let policies = of_type(&doc, "AWS::S3::BucketPolicy");
    let denies_plain = policies.values().any(|bp| {
        reference(&bp["Properties"]["Bucket"]).is_some_and(|(t, _)| t == "FilesBucket")
            && statements_of(&bp["Properties"]["PolicyDocument"])
                .iter()
                .any(|s| {
                    s["Effect"].as_str() == Some("Deny")
                        && strings(&s["Action"]).contains(&"s3:*".to_owned())
                        && s["Condition"]["Bool"]["aws:SecureTransport"].as_str() == Some("false")
                })
    });
    assert!(denies_plain, "no deny of non-TLS requests on FilesBucket");

    for krate in function_crates() {
        let (id, f) = function_for(&doc, &krate);
        let actions = allowed_actions(&doc, f);
        let s3: BTreeSet<&String> = actions.iter().filter(|a| a.starts_with("s3:")).collect();
        if krate.package == "license-admin" {
            let want = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"];
            assert_eq!(
                s3.into_iter().map(String::as_str).collect::<Vec<_>>(),
                want,
                "{id}"
            );
            let vars = env(&doc, f);
            let bucket = vars.get("ZTS_FILES_BUCKET").expect("ZTS_FILES_BUCKET");
            assert_eq!(
                reference(bucket).map(|(t, _)| t),
                Some("FilesBucket".to_owned())
            );
        } else {
            assert!(s3.is_empty(), "{id}: S3 actions {s3:?}");
        }
    }
}

fn statements_of(policy: &Value) -> Vec<&Value> {
    match &policy["Statement"] {
        Value::Sequence(s) => s.iter().collect(),
        other => vec![other],
    }
}
