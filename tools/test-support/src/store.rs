//! The store: the AWS clients on moto, a fresh table there (or the in-memory fake), and the
//! stored records read back (user views, run records, everything of a connection).

use std::collections::BTreeMap;

use aws_adapters::{AwsClients, AwsConfig, Records, create_table_if_missing};
use futures::TryStreamExt;
use ports::{
    CandidateStore, LicenseRecord, LicenseStore, ReclamationCandidate, SyncRunRecord, SyncRunStore,
    UserStore, UserView,
};
use rand::RngExt;
use sync_engine::Task;

/// The AWS clients on moto when `ZTS_AWS_ENDPOINT_URL` is set (a local endpoint only). `None`
/// when it is not, which fails the test `test` if `ZTS_REQUIRE_AWS` is set (`make test`).
pub async fn moto_clients(test: &str) -> Option<AwsClients> {
    let config = AwsConfig::from_env();
    let Some(endpoint) = config.endpoint_url.clone() else {
        let required = std::env::var("ZTS_REQUIRE_AWS").is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "{test}: ZTS_REQUIRE_AWS is set but ZTS_AWS_ENDPOINT_URL is not"
        );
        return None;
    };
    assert!(
        endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost"),
        "tests only run against a local endpoint"
    );
    Some(AwsClients::new(&config).await)
}

/// A store: moto when configured (required under `make test`), else memory.
pub async fn store(test: &str) -> Records {
    let Some(clients) = moto_clients(test).await else {
        return Records::in_memory();
    };
    let n: u64 = rand::rng().random();
    let table = format!("zts-sync-{n:016x}");
    create_table_if_missing(&clients.dynamodb, &table)
        .await
        .expect("create table in moto");
    Records::dynamo(clients.dynamodb, table)
}

/// The latest `limit` run records of `task` for connection `cid`.
pub async fn task_runs(
    records: &Records,
    cid: &str,
    task: Task,
    limit: usize,
) -> Vec<SyncRunRecord> {
    records
        .recent_runs(cid, task.as_str(), limit)
        .await
        .expect("recent runs")
}

pub async fn views(records: &Records, cid: &str, account: &str) -> BTreeMap<String, UserView> {
    records
        .list_users(cid, account)
        .map_ok(|v| (v.roster.key(), v))
        .try_collect()
        .await
        .expect("list users")
}

/// Everything the tasks stored for connection `cid` in `accounts`, comparable across stores and
/// runs: per account the user views, the license records and the candidates (each shown by
/// `candidate`).
pub async fn stored_records(
    records: &Records,
    cid: &str,
    accounts: &[String],
    candidate: impl Fn(&ReclamationCandidate) -> String,
) -> String {
    let mut out = BTreeMap::new();
    for a in accounts {
        let users: Vec<String> = views(records, cid, a)
            .await
            .values()
            .map(|v| format!("{v:?}"))
            .collect();
        let licenses: Vec<LicenseRecord> = records
            .list_account_licenses(cid, a)
            .try_collect()
            .await
            .unwrap();
        let candidates: Vec<String> = records
            .list_account_candidates(cid, a)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .iter()
            .map(&candidate)
            .collect();
        out.insert(
            a.clone(),
            format!("{users:?}\n{licenses:?}\n{candidates:?}"),
        );
    }
    format!("{out:#?}")
}
