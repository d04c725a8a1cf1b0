//! User exports (issue #19): every user of a connection ("all users") or the reclamation
//! candidates ("underutilized"), as CSV (RFC 4180, UTF-8 with a byte-order mark, formula-safe
//! text cells) or JSON lines, produced as a stream of chunks from the store: per account, the
//! users (`UserStore::list_users`) and the candidates (`CandidateStore::list_account_candidates`),
//! both in user-key order, are merged in one pass. Memory holds one chunk and the file store's
//! one part, whatever the tenant's size.
//!
//! Removed users (no longer at Zoom) are left out: they hold no license. The band follows
//! License Differentiation's 30/60/90-day rule (`sync_domain::ActivityBand`); "candidate" is
//! whether License Differentiation stored the user as a reclamation candidate.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use futures::TryStreamExt;
use futures::stream::BoxStream;
use ports::{AccountRecord, Chunks, FileError, ReclamationCandidate, Store, StoreError, UserView};
use serde_json::{Value, json};

use crate::delivery::{Delivery, UTF8_BOM};
use crate::error::AdminError;
pub use crate::request::{ExportFormat, ExportKind};
use sync_domain::ActivityBand;

pub const ALL_USERS_COLUMNS: [&str; 15] = [
    "account_id",
    "account_name",
    "email",
    "first_name",
    "last_name",
    "license_name",
    "status",
    "last_login",
    "last_meeting_created",
    "last_meeting_joined",
    "last_activity",
    "days_since_last_activity",
    "band",
    "candidate",
    "user_id",
];

/// The columns of an export (CSV header, JSON names), in order.
pub fn columns(kind: ExportKind) -> &'static [&'static str] {
    match kind {
        ExportKind::AllUsers => &ALL_USERS_COLUMNS,
        ExportKind::Underutilized => &UNDERUTILIZED_COLUMNS,
    }
}

pub const UNDERUTILIZED_COLUMNS: [&str; 15] = [
    "account_id",
    "account_name",
    "email",
    "first_name",
    "last_name",
    "license_name",
    "last_login",
    "last_meeting_created",
    "last_meeting_joined",
    "last_activity",
    "days_inactive",
    "threshold_days",
    "reason",
    "computed_at",
    "user_id",
];

/// A cell: text (formula-neutralized in CSV) or a number (written as is).
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(Option<String>),
    Number(Option<i64>),
    Flag(bool),
}

fn time(t: Option<DateTime<Utc>>) -> Cell {
    Cell::Text(t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)))
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(Some(s.into()))
}

/// Why a candidate is one, in words.
pub fn reason(c: &ReclamationCandidate) -> String {
    match c.last_activity {
        Some(_) => format!(
            "no login, meeting created or joined for {} days (threshold {})",
            c.days_inactive, c.threshold_days
        ),
        None => format!(
            "no login, meeting created or joined since becoming active {} days ago (threshold {})",
            c.days_inactive, c.threshold_days
        ),
    }
}

/// One user with their candidate record, or a candidate whose user is not in the roster.
struct Pair {
    user: Option<UserView>,
    candidate: Option<ReclamationCandidate>,
}

fn all_users_row(account: &AccountRecord, p: &Pair, now: DateTime<Utc>) -> Option<Vec<Cell>> {
    let v = p.user.as_ref()?;
    let r = &v.roster;
    if r.is_removed() {
        return None;
    }
    let d = v.activity();
    let last = d.last_activity();
    Some(vec![
        text(&account.account_id),
        Cell::Text(account.name.clone()),
        text(&r.email),
        Cell::Text(r.first_name.clone()),
        Cell::Text(r.last_name.clone()),
        Cell::Text(r.license_name.clone()),
        text(&r.status),
        time(d.last_login),
        time(d.last_meeting_created),
        time(d.last_meeting_joined),
        time(last),
        Cell::Number(d.days_inactive(None, now)),
        text(ActivityBand::of(last, now).label()),
        Cell::Flag(p.candidate.is_some()),
        Cell::Text(r.user_id.clone()),
    ])
}

fn underutilized_row(account: &AccountRecord, p: &Pair) -> Option<Vec<Cell>> {
    let c = p.candidate.as_ref()?;
    let roster = p.user.as_ref().map(|v| &v.roster);
    Some(vec![
        text(&account.account_id),
        Cell::Text(account.name.clone()),
        text(&c.email),
        Cell::Text(roster.and_then(|r| r.first_name.clone())),
        Cell::Text(roster.and_then(|r| r.last_name.clone())),
        text(&c.license_name),
        time(c.last_login),
        time(c.last_meeting_created),
        time(c.last_meeting_joined),
        time(c.last_activity),
        Cell::Number(Some(c.days_inactive)),
        Cell::Number(Some(i64::from(c.threshold_days))),
        text(reason(c)),
        time(Some(c.computed_at)),
        Cell::Text(c.user_id.clone()),
    ])
}

/// One CSV line (CRLF), every text cell through the report's formula-safe quoting.
pub(crate) fn csv_line(cells: &[(Option<String>, bool)]) -> String {
    let mut line: String = cells
        .iter()
        .map(|(v, is_text)| licensing::render::csv_cell(v.as_deref().unwrap_or(""), *is_text))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn line(columns: &[&str], cells: Vec<Cell>, format: ExportFormat) -> String {
    match format {
        ExportFormat::Csv => csv_line(
            &cells
                .into_iter()
                .map(|c| match c {
                    Cell::Text(t) => (t, true),
                    Cell::Number(n) => (n.map(|n| n.to_string()), false),
                    Cell::Flag(b) => (Some(if b { "yes" } else { "no" }.to_owned()), false),
                })
                .collect::<Vec<_>>(),
        ),
        ExportFormat::Jsonl => {
            // Written by hand to keep the columns' order (serde_json's map sorts its keys).
            let fields: Vec<String> = columns
                .iter()
                .zip(cells)
                .map(|(k, c)| {
                    let v = match c {
                        Cell::Text(t) => t.map_or(serde_json::Value::Null, Into::into),
                        Cell::Number(n) => n.map_or(serde_json::Value::Null, Into::into),
                        Cell::Flag(b) => b.into(),
                    };
                    format!("{}:{v}", serde_json::Value::from(*k))
                })
                .collect();
            format!("{{{}}}\n", fields.join(","))
        }
    }
}

/// The header: the byte-order mark and the column names (CSV); nothing (JSON lines).
fn header(kind: ExportKind, format: ExportFormat) -> String {
    match format {
        ExportFormat::Csv => {
            let names: Vec<(Option<String>, bool)> = columns(kind)
                .iter()
                .map(|c| (Some((*c).to_owned()), false))
                .collect();
            format!("{UTF8_BOM}{}", csv_line(&names))
        }
        ExportFormat::Jsonl => String::new(),
    }
}

/// An account's users and candidates, both in user-key order, merged.
struct Merge<'a> {
    users: BoxStream<'a, Result<UserView, StoreError>>,
    candidates: BoxStream<'a, Result<ReclamationCandidate, StoreError>>,
    user: Option<UserView>,
    candidate: Option<ReclamationCandidate>,
}

impl<'a> Merge<'a> {
    fn new(store: &'a dyn Store, cid: &'a str, account_id: &'a str) -> Self {
        Self {
            users: store.list_users(cid, account_id),
            candidates: store.list_account_candidates(cid, account_id),
            user: None,
            candidate: None,
        }
    }

    async fn next(&mut self) -> Result<Option<Pair>, StoreError> {
        if self.user.is_none() {
            self.user = self.users.try_next().await?;
        }
        if self.candidate.is_none() {
            self.candidate = self.candidates.try_next().await?;
        }
        let order = match (&self.user, &self.candidate) {
            (None, None) => return Ok(None),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(u), Some(c)) => u.roster.key().cmp(&c.user_key),
        };
        Ok(Some(match order {
            std::cmp::Ordering::Less => Pair {
                user: self.user.take(),
                candidate: None,
            },
            std::cmp::Ordering::Equal => Pair {
                user: self.user.take(),
                candidate: self.candidate.take(),
            },
            std::cmp::Ordering::Greater => Pair {
                user: None,
                candidate: self.candidate.take(),
            },
        }))
    }
}

/// What an `export` request asks for.
pub(crate) struct ExportRequest<'a> {
    pub(crate) connection_id: &'a str,
    pub(crate) kind: ExportKind,
    pub(crate) format: ExportFormat,
    pub(crate) requested_by: &'a str,
}

/// Writes the export through `delivery` and answers with its link and row count. A failure to
/// read the table is the table's error (not the file store's).
pub(crate) async fn export(
    store: &dyn Store,
    delivery: Delivery<'_>,
    r: ExportRequest<'_>,
) -> Result<Value, AdminError> {
    let accounts: Vec<AccountRecord> = store
        .list_accounts(r.connection_id)
        .try_filter(|a| futures::future::ready(a.removed_at.is_none()))
        .try_collect()
        .await?;
    let rows = AtomicU64::new(0);
    let failure = Mutex::new(None);
    let export = Export {
        store,
        connection_id: r.connection_id,
        accounts: &accounts,
        kind: r.kind,
        format: r.format,
        now: delivery.now,
        rows: &rows,
        failure: &failure,
    };
    let delivered = delivery
        .deliver(
            r.connection_id,
            r.kind.as_str(),
            r.format.extension(),
            r.format.content_type(),
            export.chunks(),
        )
        .await;
    if let Some(e) = failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e.into());
    }
    let mut out = delivered?;
    let rows = rows.into_inner();
    tracing::info!(
        connection_id = r.connection_id,
        kind = r.kind.as_str(),
        rows,
        requested_by = r.requested_by.trim(),
        "export written"
    );
    out["operation"] = "export".into();
    out["kind"] = r.kind.as_str().into();
    out["format"] = json!(r.format);
    out["rows"] = rows.into();
    Ok(out)
}

/// Chunks of about this size go to the file store.
const CHUNK: usize = 64 * 1024;

/// What an export needs, borrowed for the time of the write.
struct Export<'a> {
    store: &'a dyn Store,
    connection_id: &'a str,
    /// The connection's accounts that are not removed.
    accounts: &'a [AccountRecord],
    kind: ExportKind,
    format: ExportFormat,
    now: DateTime<Utc>,
    /// Rows written so far.
    rows: &'a AtomicU64,
    /// The store's error, when reading failed (the write then fails with `FileError::Source`).
    failure: &'a Mutex<Option<StoreError>>,
}

struct State<'a> {
    export: Export<'a>,
    next_account: usize,
    merge: Option<(&'a AccountRecord, Merge<'a>)>,
    header: bool,
    done: bool,
}

impl<'a> Export<'a> {
    /// The file's content as chunks of about 64 KiB, read from the store as they are needed.
    fn chunks(self) -> Chunks<'a> {
        let state = State {
            export: self,
            next_account: 0,
            merge: None,
            header: true,
            done: false,
        };
        Box::pin(futures::stream::try_unfold(state, |mut s| async move {
            let chunk = s.next_chunk().await?;
            Ok(chunk.map(|c| (c, s)))
        }))
    }
}

impl<'a> State<'a> {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, FileError> {
        if self.done {
            return Ok(None);
        }
        let mut out = String::new();
        if std::mem::take(&mut self.header) {
            out.push_str(&header(self.export.kind, self.export.format));
        }
        while out.len() < CHUNK {
            match self.next_row().await {
                Ok(Some(row)) => out.push_str(&row),
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    let message = e.to_string();
                    *self
                        .export
                        .failure
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) = Some(e);
                    return Err(FileError::Source(message));
                }
            }
        }
        Ok((!out.is_empty() || !self.done).then(|| out.into_bytes()))
    }

    async fn next_row(&mut self) -> Result<Option<String>, StoreError> {
        let e = &self.export;
        loop {
            let (account, merge) = match &mut self.merge {
                Some((a, m)) => (*a, m),
                None => {
                    let accounts: &'a [AccountRecord] = e.accounts;
                    let Some(account) = accounts.get(self.next_account) else {
                        return Ok(None);
                    };
                    self.next_account += 1;
                    let m = Merge::new(e.store, e.connection_id, &account.account_id);
                    let (a, m) = self.merge.insert((account, m));
                    (*a, m)
                }
            };
            let Some(pair) = merge.next().await? else {
                self.merge = None;
                continue;
            };
            let cells = match e.kind {
                ExportKind::AllUsers => all_users_row(account, &pair, e.now),
                ExportKind::Underutilized => underutilized_row(account, &pair),
            };
            if let Some(cells) = cells {
                e.rows.fetch_add(1, Ordering::Relaxed);
                return Ok(Some(line(columns(e.kind), cells, e.format)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_every_column_once() {
        for kind in [ExportKind::AllUsers, ExportKind::Underutilized] {
            let h = header(kind, ExportFormat::Csv);
            assert!(h.starts_with(UTF8_BOM));
            assert!(h.ends_with("\r\n"));
            let names: Vec<&str> = h[UTF8_BOM.len()..h.len() - 2].split(',').collect();
            assert_eq!(names, columns(kind));
            let unique: std::collections::BTreeSet<_> = names.iter().collect();
            assert_eq!(unique.len(), names.len());
            assert_eq!(header(kind, ExportFormat::Jsonl), "");
        }
    }

    #[test]
    fn numbers_and_flags_are_not_quoted_text_is_neutralized() {
        let cells = vec![
            text("=1+2"),
            Cell::Number(Some(-3)),
            Cell::Flag(true),
            Cell::Text(None),
        ];
        let csv = line(&["d", "c", "b", "a"], cells.clone(), ExportFormat::Csv);
        assert_eq!(csv, "'=1+2,-3,yes,\r\n");
        let json = line(&["d", "c", "b", "a\"q"], cells, ExportFormat::Jsonl);
        assert_eq!(
            json,
            "{\"d\":\"=1+2\",\"c\":-3,\"b\":true,\"a\\\"q\":null}\n"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["d"], "=1+2", "JSON keeps the value as it is");
    }
}
