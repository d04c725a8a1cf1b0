//! `infra/template.yaml` declares the same table as `aws_adapters::TABLE` (keys, attribute
//! definitions, GSIs, TTL, billing), and `create_table_if_missing` creates exactly that.

mod common;

use std::collections::BTreeSet;

use aws_adapters::TABLE;
use serde_yaml_ng::Value;

type KeySchema = Vec<(String, String)>;
/// (index name, key schema, projection type)
type Gsi = (String, KeySchema, String);

#[derive(Debug, PartialEq, Eq)]
struct Shape {
    keys: KeySchema,
    attributes: BTreeSet<(String, String)>,
    gsis: BTreeSet<Gsi>,
    ttl_attribute: String,
    on_demand: bool,
}

fn expected() -> Shape {
    let key = |pk: &str, sk: &str| {
        vec![
            (pk.to_owned(), "HASH".to_owned()),
            (sk.to_owned(), "RANGE".to_owned()),
        ]
    };
    Shape {
        keys: key(TABLE.pk, TABLE.sk),
        attributes: TABLE
            .key_attributes()
            .into_iter()
            .map(|a| (a.to_owned(), "S".to_owned()))
            .collect(),
        gsis: TABLE
            .gsis
            .iter()
            .map(|g| (g.name.to_owned(), key(g.pk, g.sk), "ALL".to_owned()))
            .collect(),
        ttl_attribute: TABLE.ttl_attribute.to_owned(),
        on_demand: TABLE.on_demand,
    }
}

fn s(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing string {key} in {v:?}"))
        .to_owned()
}

fn key_schema(v: &Value) -> KeySchema {
    v.get("KeySchema")
        .and_then(Value::as_sequence)
        .expect("KeySchema list")
        .iter()
        .map(|k| (s(k, "AttributeName"), s(k, "KeyType")))
        .collect()
}

fn template_table() -> Shape {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/template.yaml");
    let text = std::fs::read_to_string(path).expect("read infra/template.yaml");
    let doc: Value = serde_yaml_ng::from_str(&text).expect("template is YAML");
    assert_eq!(
        doc.get("Transform").and_then(Value::as_str),
        Some("AWS::Serverless-2016-10-31")
    );
    let tables: Vec<&Value> = doc["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .filter(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::DynamoDB::Table"))
        .collect();
    assert_eq!(tables.len(), 1, "exactly one table (single-table design)");
    let p = &tables[0]["Properties"];
    let ttl = &p["TimeToLiveSpecification"];
    assert_eq!(ttl.get("Enabled").and_then(Value::as_bool), Some(true));
    Shape {
        keys: key_schema(p),
        attributes: p["AttributeDefinitions"]
            .as_sequence()
            .expect("AttributeDefinitions")
            .iter()
            .map(|a| (s(a, "AttributeName"), s(a, "AttributeType")))
            .collect(),
        gsis: p["GlobalSecondaryIndexes"]
            .as_sequence()
            .expect("GlobalSecondaryIndexes")
            .iter()
            .map(|g| {
                (
                    s(g, "IndexName"),
                    key_schema(g),
                    s(&g["Projection"], "ProjectionType"),
                )
            })
            .collect(),
        ttl_attribute: s(ttl, "AttributeName"),
        on_demand: p.get("BillingMode").and_then(Value::as_str) == Some("PAY_PER_REQUEST"),
    }
}

#[test]
fn template_declares_the_rust_table_definition() {
    assert_eq!(template_table(), expected());
}

/// The table `create_table_if_missing` makes in moto has the same shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_table_matches_the_definition() {
    let Some(moto) = common::moto("created_table_matches_the_definition").await else {
        return;
    };
    let db = &moto.clients.dynamodb;
    // Idempotent: a second call finds it.
    assert!(
        !aws_adapters::create_table_if_missing(db, &moto.table)
            .await
            .unwrap()
    );
    let out = db
        .describe_table()
        .table_name(&moto.table)
        .send()
        .await
        .unwrap();
    let t = out.table().unwrap();
    let ks = |k: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> KeySchema {
        k.iter()
            .map(|e| {
                (
                    e.attribute_name().to_owned(),
                    e.key_type().as_str().to_owned(),
                )
            })
            .collect()
    };
    let ttl = db
        .describe_time_to_live()
        .table_name(&moto.table)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(
        ttl.time_to_live_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
    let created = Shape {
        keys: ks(t.key_schema()),
        attributes: t
            .attribute_definitions()
            .iter()
            .map(|a| {
                (
                    a.attribute_name().to_owned(),
                    a.attribute_type().as_str().to_owned(),
                )
            })
            .collect(),
        gsis: t
            .global_secondary_indexes()
            .iter()
            .map(|g| {
                (
                    g.index_name().unwrap().to_owned(),
                    ks(g.key_schema()),
                    g.projection()
                        .and_then(|p| p.projection_type())
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })
            .collect(),
        ttl_attribute: ttl.attribute_name().unwrap().to_owned(),
        on_demand: t
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str() == "PAY_PER_REQUEST")
            .unwrap_or(false),
    };
    assert_eq!(created, expected());
}
