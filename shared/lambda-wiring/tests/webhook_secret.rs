//! The webhook secret token on moto's Secrets Manager: kept for its time to live, read again
//! after it, and at once on a mismatch unless it was read moments ago.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_adapters::{AppCredentials, AppSecrets};
use lambda_wiring::AppSecretWebhookSource;
use ports::{WebhookSecretSource, ZoomRegion};
use test_support::moto_clients;
use tokio::time::Instant;
use zoom::Secret;

fn app_secrets(webhook: &str) -> AppSecrets {
    AppSecrets {
        apps: BTreeMap::from([(
            ZoomRegion::Na,
            AppCredentials {
                client_id: "id".into(),
                client_secret: Secret::new("secret"),
            },
        )]),
        webhook_secret_token: Secret::new(webhook),
    }
}

#[tokio::test]
async fn the_token_is_read_again_after_its_ttl_and_on_a_mismatch() {
    let Some(clients) = moto_clients("webhook secret").await else {
        eprintln!("NOTICE: skipped, ZTS_AWS_ENDPOINT_URL is not set");
        return;
    };
    let id = format!(
        "zts-webhook-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    app_secrets("v1")
        .store(&clients.secrets, &id)
        .await
        .unwrap();
    // Rotated in Secrets Manager after the function read "v1" at its start.
    app_secrets("v2")
        .store(&clients.secrets, &id)
        .await
        .unwrap();
    let fresh = || {
        let mut source =
            AppSecretWebhookSource::new(clients.secrets.clone(), id.clone(), Secret::new("v1"));
        source.ttl = Duration::from_millis(300);
        source.min_reread = Duration::from_millis(100);
        source
    };
    // Right after the read, the cached token is used and a mismatch does not read again. The
    // two checks take no I/O; should the machine stall for longer than `min_reread` around
    // them, that attempt proves nothing (the source may rightly read again) and is made anew
    // with a fresh source.
    let mut attempts = 0;
    let source = loop {
        attempts += 1;
        let before = Instant::now();
        let source = fresh();
        let current = source.current().await.unwrap();
        let reread = source.reread_after_mismatch().await.unwrap();
        if before.elapsed() < source.min_reread {
            assert_eq!(current.expose(), "v1", "used until its time to live ends");
            assert_eq!(reread, None, "no read again moments after the last");
            break source;
        }
        assert!(
            attempts < 20,
            "the machine stalled for {:?} around every attempt",
            source.min_reread
        );
    };
    tokio::time::sleep(Duration::from_millis(120)).await;
    // Later it does, and says the token changed.
    assert_eq!(
        source
            .reread_after_mismatch()
            .await
            .unwrap()
            .map(|s| s.expose().to_owned()),
        Some("v2".to_owned())
    );
    assert_eq!(source.current().await.unwrap().expose(), "v2");
    // Unchanged since: nothing new.
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(source.reread_after_mismatch().await.unwrap(), None);

    // After the time to live, `current` reads it again by itself.
    app_secrets("v3")
        .store(&clients.secrets, &id)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(source.current().await.unwrap().expose(), "v3");

    // An empty token in the secret is never taken (fail closed): the last good one stays.
    app_secrets(" ").store(&clients.secrets, &id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(source.current().await.unwrap().expose(), "v3");
}
