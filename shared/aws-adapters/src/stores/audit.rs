//! [`AuditStore`]. An entry's item carries its state (`intent`, `done`, …) as the top-level
//! attribute [`STATE`] besides the record, so completing an intent is a put conditioned on the
//! stored state still being `intent` (it never overwrites a finished entry). Items written before
//! intents existed have neither the attribute nor the record field: they read as `done`.

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::json;

use super::keys::{audit_pk, audit_user_gsi, sort_time};
use super::{Records, decode, encode, written};
use crate::backend::{Cond, Index, Item, Query, SkCond};
use crate::table::{GSI1_PK, GSI1_SK, PK, SK};
use ports::{AuditEntry, AuditRequest, AuditState, AuditStore, StoreError};

/// Top-level attribute of an audit entry's item holding [`AuditEntry::state`].
const STATE: &str = "state";

/// The item of `entry`: keyed by request and user, indexed by user and time, with its state.
fn entry_item(entry: &AuditEntry) -> Result<Item, StoreError> {
    let mut item = encode(
        entry,
        &[
            (PK, audit_pk(&entry.request_id)),
            (SK, format!("ENTRY#{}", entry.user_key)),
            (
                GSI1_PK,
                audit_user_gsi(&entry.connection_id, &entry.user_key),
            ),
            (
                GSI1_SK,
                format!("{}#{}", sort_time(entry.at), entry.request_id),
            ),
        ],
        None,
    )?;
    item.insert(STATE.into(), json!(entry.state.as_str()));
    Ok(item)
}

#[async_trait]
impl AuditStore for Records {
    async fn begin_request(&self, request: &AuditRequest) -> Result<bool, StoreError> {
        let item = encode(
            request,
            &[(PK, audit_pk(&request.request_id)), (SK, "REQUEST".into())],
            None,
        )?;
        self.put_new(item).await
    }

    async fn get_request(&self, request_id: &str) -> Result<Option<AuditRequest>, StoreError> {
        self.table
            .get(&audit_pk(request_id), "REQUEST")
            .await?
            .map(decode)
            .transpose()
    }

    async fn record_entry(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        self.put_new(entry_item(entry)?).await
    }

    async fn complete_entry(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        if entry.state == AuditState::Intent {
            return Err(StoreError::Conflict(format!(
                "the completion of {}'s entry in request {} must not be an intent",
                entry.user_key, entry.request_id
            )));
        }
        let cond = Cond::Eq(STATE, json!(AuditState::Intent.as_str()));
        written(self.table.put(entry_item(entry)?, Some(cond)).await)
    }

    fn list_request_entries<'a>(
        &'a self,
        request_id: &'a str,
    ) -> BoxStream<'a, Result<AuditEntry, StoreError>> {
        self.decoded_under(audit_pk(request_id), "ENTRY#")
    }

    fn list_user_entries<'a>(
        &'a self,
        cid: &'a str,
        user_key: &'a str,
    ) -> BoxStream<'a, Result<AuditEntry, StoreError>> {
        self.decoded(Query::new(
            Index::Gsi1,
            audit_user_gsi(cid, user_key),
            SkCond::Any,
        ))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use futures::TryStreamExt;
    use serde_json::Value;

    use super::*;
    use crate::stores::DATA;

    fn intent(user_key: &str) -> AuditEntry {
        AuditEntry {
            request_id: "req-1".into(),
            connection_id: "c1".into(),
            account_id: "a1".into(),
            user_key: user_key.into(),
            email: Some(format!("{user_key}@example.com")),
            action: "deactivate".into(),
            state: AuditState::Intent,
            outcome: "unknown".into(),
            reason: None,
            requested_by: "admin@example.com".into(),
            why: "review".into(),
            before: json!({"status": "active", "type": 2, "license_name": "Business"}),
            after: Value::Null,
            zoom_tracking_id: None,
            at: Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap(),
        }
    }

    fn done(mut e: AuditEntry) -> AuditEntry {
        e.state = AuditState::Done;
        e.outcome = "acted".into();
        e.after = json!({"status": "inactive", "type": 2});
        e
    }

    /// An item as the store wrote audit entries before intents existed: no `state` attribute,
    /// no `state` field in the record.
    #[tokio::test]
    async fn entries_stored_before_intents_read_as_done() {
        let r = Records::in_memory();
        let data = r#"{"request_id":"req-old","connection_id":"c1","account_id":"a1","user_key":"u9","email":"u9@example.com","action":"deactivate","outcome":"acted","reason":null,"requested_by":"admin@example.com","why":"IT-4711","before":{"status":"active","type":2,"license_name":"Business","role":"Member","account_id":"a1","last_login_time":null},"after":{"status":"inactive","type":2},"zoom_tracking_id":null,"at":"2026-01-05T10:00:00Z"}"#;
        let mut item = Item::new();
        for (k, v) in [
            (PK, "AUDIT#req-old"),
            (SK, "ENTRY#u9"),
            (GSI1_PK, "CONN#c1#AUDITUSER#u9"),
            (GSI1_SK, "2026-01-05T10:00:00.000Z#req-old"),
            (DATA, data),
        ] {
            item.insert(k.into(), json!(v));
        }
        r.table().put(item, None).await.unwrap();

        let entries: Vec<AuditEntry> = r
            .list_request_entries("req-old")
            .try_collect()
            .await
            .unwrap();
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.state, AuditState::Done);
        assert_eq!((e.user_key.as_str(), e.outcome.as_str()), ("u9", "acted"));
        assert_eq!(e.before["type"], 2);
        let history: Vec<AuditEntry> = r.list_user_entries("c1", "u9").try_collect().await.unwrap();
        assert_eq!(history, entries);
        // An old, finished entry is never "completed" again.
        assert!(!r.complete_entry(&done(e.clone())).await.unwrap());
    }

    #[tokio::test]
    async fn an_intent_is_completed_once_and_listed_with_its_state() {
        let r = Records::in_memory();
        let i = intent("u1");
        assert!(r.record_entry(&i).await.unwrap());
        // A second intent for the same request and user is refused.
        assert!(!r.record_entry(&i).await.unwrap());
        let stored = r
            .table()
            .get("AUDIT#req-1", "ENTRY#u1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored[STATE], json!("intent"));
        let listed: Vec<AuditEntry> = r.list_request_entries("req-1").try_collect().await.unwrap();
        assert_eq!(listed, vec![i.clone()]);

        let finished = done(i.clone());
        assert!(r.complete_entry(&finished).await.unwrap());
        let stored = r
            .table()
            .get("AUDIT#req-1", "ENTRY#u1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored[STATE], json!("done"));
        // A second completion (say, a later reactivate that saw the intent) loses.
        let mut late = i.clone();
        late.state = AuditState::NotApplied;
        late.outcome = "unchanged".into();
        assert!(!r.complete_entry(&late).await.unwrap());
        let history: Vec<AuditEntry> = r.list_user_entries("c1", "u1").try_collect().await.unwrap();
        assert_eq!(history, vec![finished]);
        // No intent stored: nothing to complete.
        assert!(!r.complete_entry(&done(intent("u2"))).await.unwrap());
        assert!(
            r.table()
                .get("AUDIT#req-1", "ENTRY#u2")
                .await
                .unwrap()
                .is_none()
        );
        // A completion must not itself be an intent.
        assert!(r.complete_entry(&intent("u1")).await.is_err());
    }
}
