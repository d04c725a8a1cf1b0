//! Key layout (`docs/data-model.md`): partition and sort keys, index keys, and the
//! fixed-width time format of sort keys.

use chrono::{DateTime, SecondsFormat, Utc};

pub(super) const CONNECTIONS_PARTITION: &str = "CONNS";
pub(super) const ACCESS_SUFFIX: &str = "#ACCESS";
pub(super) const CANDIDATE_PREFIX: &str = "CAND#";

pub(super) fn conn_pk(cid: &str) -> String {
    format!("CONN#{cid}")
}
pub(super) fn users_pk(cid: &str, account_id: &str) -> String {
    format!("CONN#{cid}#ACCT#{account_id}")
}
pub(super) fn user_sk(key: &str) -> String {
    format!("USER#{key}")
}
pub(super) fn access_sk(key: &str) -> String {
    format!("USER#{key}{ACCESS_SUFFIX}")
}
pub(super) fn email_gsi(cid: &str, email: &str) -> String {
    format!("CONN#{cid}#EMAIL#{}", email.to_lowercase())
}
pub(super) fn uid_gsi(cid: &str, user_id: &str) -> String {
    format!("CONN#{cid}#UID#{user_id}")
}
pub(super) fn audit_pk(request_id: &str) -> String {
    format!("AUDIT#{request_id}")
}
pub(super) fn audit_user_gsi(cid: &str, user_key: &str) -> String {
    format!("CONN#{cid}#AUDITUSER#{user_key}")
}
pub(super) fn running_sk(task: &str) -> String {
    format!("RUNNING#{task}")
}
pub(super) fn lease_pk(name: &str) -> String {
    format!("LEASE#{name}")
}
/// Fixed-width UTC time for sort keys (sorts as text in time order).
pub(super) fn sort_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
pub(super) fn license_sk(account_id: &str, license_id: &str) -> String {
    format!("LIC#{account_id}#{license_id}")
}
pub(super) fn license_activity_sk(account_id: &str, license_id: &str) -> String {
    format!("LICACT#{account_id}#{license_id}")
}
pub(super) fn checkpoint_sk(task: &str, account_id: &str) -> String {
    format!("CKPT#{task}#{account_id}")
}
pub(super) fn checkpoint_parts_prefix(task: &str, account_id: &str) -> String {
    format!("CKPTPART#{task}#{account_id}#")
}
