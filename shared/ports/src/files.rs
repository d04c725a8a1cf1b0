//! Where reports and exports are delivered: files written from a stream of byte chunks
//! (multipart underneath, so memory is bounded by one part whatever the file's size) and read
//! back through a short-lived link. `aws-adapters` implements it on S3 and in memory.
//!
//! Object keys never hold a token or a secret; the link is what the admin gets back, and only
//! its key is ever logged (the link's query is a signature).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

/// S3's smallest part of a multipart upload (every part but the last).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// A file's content: chunks in order. A chunk that is an error stops the write (nothing is
/// left behind).
pub type Chunks<'a> = BoxStream<'a, Result<Vec<u8>, FileError>>;

/// Why a file could not be written or linked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The content could not be produced (the chunk stream failed): the write was abandoned.
    #[error("the file's content could not be produced: {0}")]
    Source(String),
    /// The file store refused or failed (S3's error code and message; no signature, no token).
    #[error("file store {op} failed: {message}")]
    Storage { op: &'static str, message: String },
    #[error("no file {0}")]
    NotFound(String),
    #[error("invalid file request: {0}")]
    Invalid(String),
}

impl FileError {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Storage { .. } | Self::Source(_))
    }
}

/// A file that was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    pub key: String,
    pub bytes: u64,
    pub content_type: String,
    /// How many parts it was uploaded in (1: a single write).
    pub parts: u32,
}

/// A link that downloads a file until `expires_at`. Its `Debug` leaves out the query, which
/// carries the signature.
#[derive(Clone, PartialEq, Eq)]
pub struct FileLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

impl FileLink {
    /// The link without its query (what may be logged).
    pub fn without_query(&self) -> &str {
        self.url.split('?').next().unwrap_or_default()
    }
}

impl std::fmt::Debug for FileLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileLink")
            .field("url", &format_args!("{}?…", self.without_query()))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[async_trait]
pub trait FileStore: Send + Sync {
    /// Writes `chunks` to `key` with `content_type`, holding at most about one part in memory;
    /// a failure (of the store or of `chunks`) leaves no file and no pending upload behind.
    async fn write(
        &self,
        key: &str,
        content_type: &str,
        chunks: Chunks<'_>,
    ) -> Result<StoredFile, FileError>;
    /// A link that downloads `key` for `ttl` (the store may refuse a longer one).
    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<FileLink, FileError>;
}

/// Collects chunks into parts of at least `part_size` bytes (the last one may be smaller): the
/// one buffering rule of every file store.
#[derive(Debug)]
pub struct Parts {
    part_size: usize,
    buffer: Vec<u8>,
}

impl Parts {
    pub fn new(part_size: usize) -> Self {
        Self {
            part_size,
            buffer: Vec::new(),
        }
    }

    /// Adds a chunk; returns a full part when there is one.
    pub fn push(&mut self, chunk: &[u8]) -> Option<Vec<u8>> {
        if self.buffer.capacity() == 0 {
            self.buffer.reserve(self.part_size.min(1 << 20));
        }
        self.buffer.extend_from_slice(chunk);
        (self.buffer.len() >= self.part_size).then(|| std::mem::take(&mut self.buffer))
    }

    /// What is left (the last part; empty when nothing is).
    pub fn finish(self) -> Vec<u8> {
        self.buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_at_least_the_part_size_but_the_last() {
        let mut parts = Parts::new(10);
        let mut out = Vec::new();
        for chunk in [&b"abcd"[..], b"efgh", b"ijkl", b"", b"mnopqrstuvwxyz", b"0"] {
            out.extend(parts.push(chunk));
        }
        out.push(parts.finish());
        assert_eq!(
            out,
            vec![
                b"abcdefghijkl".to_vec(),
                b"mnopqrstuvwxyz".to_vec(),
                b"0".to_vec()
            ]
        );
        assert!(Parts::new(10).finish().is_empty());
    }

    #[test]
    fn a_link_debug_hides_the_signature() {
        let link = FileLink {
            url: "https://b.s3.amazonaws.com/k.csv?X-Amz-Signature=abc".into(),
            expires_at: DateTime::UNIX_EPOCH,
        };
        let shown = format!("{link:?}");
        assert!(
            shown.contains("https://b.s3.amazonaws.com/k.csv"),
            "{shown}"
        );
        assert!(!shown.contains("abc"), "{shown}");
    }
}
