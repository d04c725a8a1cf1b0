//! The one definition of the DynamoDB table: name of every key attribute, the two GSIs and the
//! TTL attribute. `infra/template.yaml` declares the same table; a test parses the template and
//! compares it with [`TABLE`], so the two cannot drift.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};

use ports::StoreError;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const GSI2: &str = "gsi2";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
pub const TTL: &str = "ttl";

/// A global secondary index: both keys are strings, all attributes projected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GsiDef {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

/// The table's shape (its name is configuration, see [`crate::AwsConfig`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableDef {
    /// Partition key (string).
    pub pk: &'static str,
    /// Sort key (string).
    pub sk: &'static str,
    pub gsis: &'static [GsiDef],
    /// Number attribute holding an epoch-seconds expiry; DynamoDB deletes the item some time
    /// after it (lazily: readers must still check expiry themselves).
    pub ttl_attribute: &'static str,
    /// Always on-demand (`PAY_PER_REQUEST`).
    pub on_demand: bool,
}

pub const TABLE: TableDef = TableDef {
    pk: PK,
    sk: SK,
    gsis: &[
        GsiDef {
            name: GSI1,
            pk: GSI1_PK,
            sk: GSI1_SK,
        },
        GsiDef {
            name: GSI2,
            pk: GSI2_PK,
            sk: GSI2_SK,
        },
    ],
    ttl_attribute: TTL,
    on_demand: true,
};

impl TableDef {
    /// Every key attribute (all strings), in a stable order.
    pub fn key_attributes(&self) -> Vec<&'static str> {
        let mut attrs = vec![self.pk, self.sk];
        for gsi in self.gsis {
            attrs.push(gsi.pk);
            attrs.push(gsi.sk);
        }
        attrs
    }
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("key schema element has all required fields")
}

/// Creates the table (with its GSIs and TTL) unless a table of that name exists. Returns
/// whether it was created. Used by tests and by the local demo; in AWS, `infra/` creates it.
pub async fn create_table_if_missing(client: &Client, name: &str) -> Result<bool, StoreError> {
    match client.describe_table().table_name(name).send().await {
        Ok(_) => return Ok(false),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) => {}
        Err(err) => return Err(crate::error::dynamo_error("DescribeTable", err)),
    }
    let def = TABLE;
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(def.pk, KeyType::Hash))
        .key_schema(key(def.sk, KeyType::Range));
    for attr in def.key_attributes() {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition has all required fields"),
        );
    }
    for gsi in def.gsis {
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(gsi.name)
                .key_schema(key(gsi.pk, KeyType::Hash))
                .key_schema(key(gsi.sk, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("GSI has all required fields"),
        );
    }
    match req.send().await {
        Ok(_) => {}
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            return Ok(false);
        }
        Err(err) => return Err(crate::error::dynamo_error("CreateTable", err)),
    }
    // Wait until ACTIVE (moto: immediately; AWS: seconds).
    for _ in 0..600 {
        let out = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| crate::error::dynamo_error("DescribeTable", e))?;
        if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(def.ttl_attribute)
                .enabled(true)
                .build()
                .expect("TTL specification has all required fields"),
        )
        .send()
        .await
        .map_err(|e| crate::error::dynamo_error("UpdateTimeToLive", e))?;
    tracing::info!(table = name, "created DynamoDB table");
    Ok(true)
}
