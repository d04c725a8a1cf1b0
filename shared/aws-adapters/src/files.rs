//! The file port (`ports::FileStore`) on S3 ([`S3FileStore`]: multipart, server-side
//! encryption, presigned GET links) and in memory ([`MemoryFileStore`], for tests and the
//! bench). Both cut the content into parts with `ports::Parts`, so memory is bounded by one
//! part whatever the file's size.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use chrono::Utc;
use futures::TryStreamExt;
use ports::{Chunks, FileError, FileLink, FileStore, MIN_PART_SIZE, Parts, StoredFile};

/// The longest link S3FileStore signs: 12 hours (a link signed with the role's temporary
/// credentials stops working when they expire anyway).
pub const MAX_LINK_TTL: Duration = Duration::from_secs(12 * 3600);

fn s3_error(op: &'static str, err: impl std::error::Error) -> FileError {
    FileError::Storage {
        op,
        message: aws_sdk_s3::error::DisplayErrorContext(err).to_string(),
    }
}

/// When a link of `ttl` signed now expires.
fn expires_at(ttl: Duration) -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::hours(12))
}

fn stored(key: &str, content_type: &str, bytes: u64, parts: u32) -> StoredFile {
    StoredFile {
        key: key.to_owned(),
        bytes,
        content_type: content_type.to_owned(),
        parts,
    }
}

fn check_ttl(ttl: Duration) -> Result<(), FileError> {
    if ttl.is_zero() || ttl > MAX_LINK_TTL {
        return Err(FileError::Invalid(format!(
            "a link lives from 1 second to {} hours, not {} s",
            MAX_LINK_TTL.as_secs() / 3600,
            ttl.as_secs()
        )));
    }
    Ok(())
}

/// Files in one S3 bucket, encrypted at rest (SSE-S3), written with multipart uploads.
#[derive(Clone, Debug)]
pub struct S3FileStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    part_size: usize,
}

impl S3FileStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            part_size: MIN_PART_SIZE,
        }
    }

    /// Parts of `part_size` bytes (at least S3's 5 MiB).
    pub fn with_part_size(mut self, part_size: usize) -> Self {
        self.part_size = part_size.max(MIN_PART_SIZE);
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn put_whole(
        &self,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(), FileError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| s3_error("PutObject", e))?;
        Ok(())
    }

    /// The multipart upload from its first full part on; returns the part count.
    async fn put_parts(
        &self,
        up: &mut Upload<'_, '_>,
        content_type: &str,
        first: Vec<u8>,
    ) -> Result<u32, FileError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(up.key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .map_err(|e| s3_error("CreateMultipartUpload", e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| FileError::Storage {
                op: "CreateMultipartUpload",
                message: "no upload id in the answer".into(),
            })?
            .to_owned();
        let result = self.upload_parts(up, &upload_id, first).await;
        if result.is_err() {
            // Nothing half-written stays behind (the bucket's lifecycle also aborts leftovers).
            if let Err(e) = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(up.key)
                .upload_id(&upload_id)
                .send()
                .await
            {
                tracing::warn!(key = up.key, error = %s3_error("AbortMultipartUpload", e), "abort failed");
            }
        }
        result
    }

    async fn upload_parts(
        &self,
        up: &mut Upload<'_, '_>,
        upload_id: &str,
        first: Vec<u8>,
    ) -> Result<u32, FileError> {
        let mut done = Vec::new();
        let mut next = Some(first);
        while let Some(body) = next.take() {
            let number = i32::try_from(done.len() + 1).unwrap_or(i32::MAX);
            let out = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(up.key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| s3_error("UploadPart", e))?;
            done.push(
                CompletedPart::builder()
                    .set_e_tag(out.e_tag().map(str::to_owned))
                    .part_number(number)
                    .build(),
            );
            next = up.next_part().await?;
        }
        let count = u32::try_from(done.len()).unwrap_or(u32::MAX);
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(up.key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(done))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| s3_error("CompleteMultipartUpload", e))?;
        Ok(count)
    }
}

/// A file being written: its content's stream cut into parts.
struct Upload<'k, 'c> {
    key: &'k str,
    parts: Option<Parts>,
    chunks: Chunks<'c>,
    bytes: u64,
}

impl Upload<'_, '_> {
    /// The next part: a full one, or the last (smaller) one; `None` when all were given.
    async fn next_part(&mut self) -> Result<Option<Vec<u8>>, FileError> {
        let Some(parts) = self.parts.as_mut() else {
            return Ok(None);
        };
        while let Some(chunk) = self.chunks.try_next().await? {
            self.bytes += chunk.len() as u64;
            if let Some(part) = parts.push(&chunk) {
                return Ok(Some(part));
            }
        }
        let last = self.parts.take().map(Parts::finish).unwrap_or_default();
        Ok((!last.is_empty()).then_some(last))
    }
}

#[async_trait]
impl FileStore for S3FileStore {
    async fn write(
        &self,
        key: &str,
        content_type: &str,
        chunks: Chunks<'_>,
    ) -> Result<StoredFile, FileError> {
        let mut up = Upload {
            key,
            parts: Some(Parts::new(self.part_size)),
            chunks,
            bytes: 0,
        };
        let count = match up.next_part().await? {
            Some(first) if up.parts.is_some() => {
                self.put_parts(&mut up, content_type, first).await?
            }
            // Smaller than one part (or empty): one PutObject.
            last => {
                self.put_whole(key, content_type, last.unwrap_or_default())
                    .await?;
                1
            }
        };
        tracing::info!(key, bytes = up.bytes, parts = count, "file written");
        Ok(stored(key, content_type, up.bytes, count))
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<FileLink, FileError> {
        check_ttl(ttl)?;
        let config = PresigningConfig::expires_in(ttl)
            .map_err(|e| FileError::Invalid(format!("link lifetime: {e}")))?;
        let expires_at = expires_at(ttl);
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| s3_error("presign GetObject", e))?;
        tracing::info!(key, %expires_at, "download link signed");
        Ok(FileLink {
            url: request.uri().to_owned(),
            expires_at,
        })
    }
}

/// A stored file of [`MemoryFileStore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryFile {
    pub content_type: String,
    /// The content (empty when the store discards it).
    pub content: Vec<u8>,
    /// The size of each part as written.
    pub part_sizes: Vec<usize>,
}

/// Files in memory, cut into parts like S3's (tests and the bench). Links are
/// `memory://files/{key}?expires=…`; [`MemoryFileStore::get`] reads a file.
#[derive(Debug)]
pub struct MemoryFileStore {
    files: Mutex<BTreeMap<String, MemoryFile>>,
    part_size: usize,
    keep_content: bool,
}

impl Default for MemoryFileStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryFileStore {
    pub fn new() -> Self {
        Self {
            files: Mutex::default(),
            part_size: MIN_PART_SIZE,
            keep_content: true,
        }
    }

    /// Keeps the part sizes only (the bench measures the writer's memory, not the file's).
    pub fn discarding() -> Self {
        Self {
            keep_content: false,
            ..Self::new()
        }
    }

    /// Parts of `part_size` bytes (tests use small ones to see several parts).
    pub fn with_part_size(mut self, part_size: usize) -> Self {
        self.part_size = part_size.max(1);
        self
    }

    pub fn get(&self, key: &str) -> Option<MemoryFile> {
        self.lock().get(key).cloned()
    }

    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, MemoryFile>> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keep(&self, file: &mut MemoryFile, part: &[u8]) {
        file.part_sizes.push(part.len());
        if self.keep_content {
            file.content.extend_from_slice(part);
        }
    }
}

#[async_trait]
impl FileStore for MemoryFileStore {
    async fn write(
        &self,
        key: &str,
        content_type: &str,
        mut chunks: Chunks<'_>,
    ) -> Result<StoredFile, FileError> {
        if key.is_empty() {
            return Err(FileError::Invalid("an empty key".into()));
        }
        let mut parts = Parts::new(self.part_size);
        let mut file = MemoryFile {
            content_type: content_type.to_owned(),
            content: Vec::new(),
            part_sizes: Vec::new(),
        };
        let mut bytes = 0u64;
        while let Some(chunk) = chunks.try_next().await? {
            bytes += chunk.len() as u64;
            if let Some(part) = parts.push(&chunk) {
                self.keep(&mut file, &part);
            }
        }
        let last = parts.finish();
        if !last.is_empty() || file.part_sizes.is_empty() {
            self.keep(&mut file, &last);
        }
        let count = u32::try_from(file.part_sizes.len()).unwrap_or(u32::MAX);
        self.lock().insert(key.to_owned(), file);
        Ok(stored(key, content_type, bytes, count))
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<FileLink, FileError> {
        check_ttl(ttl)?;
        if !self.lock().contains_key(key) {
            return Err(FileError::NotFound(key.to_owned()));
        }
        let expires_at = expires_at(ttl);
        Ok(FileLink {
            url: format!("memory://files/{key}?expires={}", expires_at.timestamp()),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn chunks(parts: Vec<Result<Vec<u8>, FileError>>) -> Chunks<'static> {
        Box::pin(stream::iter(parts))
    }

    #[tokio::test]
    async fn memory_files_are_cut_into_parts_and_linked() {
        let store = MemoryFileStore::new().with_part_size(4);
        let written = store
            .write(
                "a/b.csv",
                "text/csv",
                chunks(vec![
                    Ok(b"abc".to_vec()),
                    Ok(b"defgh".to_vec()),
                    Ok(b"ij".to_vec()),
                ]),
            )
            .await
            .unwrap();
        assert_eq!((written.bytes, written.parts), (10, 2));
        let file = store.get("a/b.csv").unwrap();
        assert_eq!(file.content, b"abcdefghij");
        assert_eq!(file.part_sizes, vec![8, 2]);
        let link = store
            .presign_get("a/b.csv", Duration::from_secs(900))
            .await
            .unwrap();
        assert!(link.url.starts_with("memory://files/a/b.csv?expires="));
        let ahead = link.expires_at - Utc::now();
        assert!((890..=900).contains(&ahead.num_seconds()), "{ahead}");
        for ttl in [Duration::ZERO, MAX_LINK_TTL + Duration::from_secs(1)] {
            let e = store.presign_get("a/b.csv", ttl).await.unwrap_err();
            assert!(matches!(e, FileError::Invalid(_)), "{e}");
        }
        let e = store
            .presign_get("nope", Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(matches!(e, FileError::NotFound(_)), "{e}");
    }

    #[tokio::test]
    async fn a_failing_stream_leaves_no_file() {
        let store = MemoryFileStore::new();
        let e = store
            .write(
                "k",
                "text/csv",
                chunks(vec![
                    Ok(b"x".to_vec()),
                    Err(FileError::Source("boom".into())),
                ]),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, FileError::Source(_)), "{e}");
        assert!(store.keys().is_empty());
        // An empty file is one empty part.
        let w = store.write("e", "text/csv", chunks(vec![])).await.unwrap();
        assert_eq!((w.bytes, w.parts), (0, 1));
    }
}
