//! The committed requests of `events/connect-link/` through the handler, on the in-memory table.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use connect_link::{LinkConfig, LinkMinter, MintError};
use ports::OAuthStateStore;

fn event(name: &str) -> serde_json::Value {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../",
        "events/connect-link/"
    );
    let path = format!("{dir}{name}.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn minter(records: Arc<aws_adapters::Records>) -> LinkMinter {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    LinkMinter {
        states: records,
        config: LinkConfig {
            connect_url: url::Url::parse("https://abc.execute-api.example/connect").unwrap(),
        },
        clock: Arc::new(move || now),
    }
}

#[tokio::test]
async fn the_sample_requests_mint_links_with_their_settings() {
    let records = Arc::new(aws_adapters::Records::in_memory());
    let m = minter(records.clone());
    for name in ["mint", "mint-for-account"] {
        let request = event(name);
        let link = m.handle(&request).await.unwrap();
        assert!(
            link.connect_url
                .starts_with("https://abc.execute-api.example/connect?invite="),
            "{name}: {}",
            link.connect_url
        );
        assert_eq!(
            link.expires_at - (m.clock)(),
            chrono::Duration::minutes(request["valid_minutes"].as_i64().unwrap())
        );
        assert_eq!(
            i64::from(link.inactivity_threshold_days),
            request["inactivity_threshold_days"].as_i64().unwrap()
        );
        assert_eq!(
            link.zoom_account_id.as_deref(),
            request["zoom_account_id"].as_str()
        );
        let token = url::Url::parse(&link.connect_url)
            .unwrap()
            .query_pairs()
            .next()
            .unwrap()
            .1
            .into_owned();
        let stored = records
            .consume_invite(&ports::secret_digest(&token), (m.clock)())
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(
            stored.settings.include_free_users.is_yes(),
            request["include_free_users"].as_bool().unwrap_or(false)
        );
    }
}

#[tokio::test]
async fn the_malformed_sample_is_refused_by_name() {
    let records = Arc::new(aws_adapters::Records::in_memory());
    let e = minter(records)
        .handle(&event("malformed-threshold"))
        .await
        .unwrap_err();
    assert!(matches!(e, MintError::Invalid(_)));
    assert!(e.to_string().contains("inactivity_threshold_days"), "{e}");
}
