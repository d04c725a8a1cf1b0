//! Reports and exports delivered as files (issue #19): written to the file store under
//! `connections/{cid}/{kind}/{time}-{random}.{ext}`, answered with a short-lived link. Only the
//! key is logged (the link's query is its signature).

use std::time::Duration;

use chrono::{DateTime, Utc};
use licensing::Format;
use ports::{Chunks, FileError, FileStore};
use serde_json::{Value, json};

/// The byte-order mark a CSV file starts with, so that Excel reads it as UTF-8.
pub const UTF8_BOM: &str = "\u{feff}";

/// Where and how files are delivered, for one request.
#[derive(Clone, Copy)]
pub(crate) struct Delivery<'a> {
    pub(crate) files: &'a dyn FileStore,
    pub(crate) link_ttl: Duration,
    pub(crate) now: DateTime<Utc>,
}

impl Delivery<'_> {
    /// The rendered report as one file (a CSV with the UTF-8 byte-order mark, like the
    /// exports).
    pub(crate) async fn report(
        &self,
        cid: &str,
        report: &licensing::Report,
        format: Format,
    ) -> Result<Value, FileError> {
        let mut body = licensing::render(report, format);
        if format == Format::Csv {
            body.insert_str(0, UTF8_BOM);
        }
        let ext = match format {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Text => "txt",
        };
        let chunks: Chunks<'_> = Box::pin(futures::stream::iter([Ok(body.into_bytes())]));
        let mut out = self
            .deliver(cid, "report", ext, format.content_type(), chunks)
            .await?;
        out["operation"] = "report".into();
        out["format"] = json!(format);
        Ok(out)
    }

    /// Writes `chunks` as a file of connection `cid` and answers with its link: `{connection_id,
    /// link, expires_at, key, bytes, content_type}`.
    pub(crate) async fn deliver(
        &self,
        cid: &str,
        kind: &str,
        ext: &str,
        content_type: &str,
        chunks: Chunks<'_>,
    ) -> Result<Value, FileError> {
        let key = file_key(cid, kind, self.now, ext);
        let stored = self.files.write(&key, content_type, chunks).await?;
        let link = self.files.presign_get(&key, self.link_ttl).await?;
        tracing::info!(
            connection_id = cid,
            key,
            bytes = stored.bytes,
            parts = stored.parts,
            "file delivered"
        );
        Ok(json!({
            "connection_id": cid,
            "link": link.url,
            "expires_at": link.expires_at,
            "key": stored.key,
            "bytes": stored.bytes,
            "content_type": stored.content_type,
        }))
    }
}

/// `connections/{cid}/{kind}/{YYYYMMDDTHHMMSSZ}-{8 random hex}.{ext}`: the connection id with
/// anything but letters, digits, `.`, `_` and `-` replaced by `_` (a key never holds a path of
/// the caller's making, nor a token).
pub fn file_key(cid: &str, kind: &str, now: DateTime<Utc>, ext: &str) -> String {
    let safe: String = cid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let random: u32 = rand::random();
    format!(
        "connections/{safe}/{kind}/{}-{random:08x}.{ext}",
        now.format("%Y%m%dT%H%M%SZ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_the_connection_kind_time_and_randomness_only() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T12:00:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = file_key("conn/../x?y", "all_users", now, "csv");
        assert!(
            a.starts_with("connections/conn_.._x_y/all_users/20261128T120005Z-"),
            "{a}"
        );
        assert!(a.ends_with(".csv"));
        assert_ne!(
            a,
            file_key("conn/../x?y", "all_users", now, "csv"),
            "random"
        );
    }
}
