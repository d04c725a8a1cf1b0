//! The S3 file store on moto: small files in one write, large ones in 5 MiB parts, encrypted at
//! rest, downloaded through the presigned link; a failing content stream leaves no object and
//! no pending upload.

mod common;

use std::time::Duration;

use aws_adapters::S3FileStore;
use aws_sdk_s3::types::ServerSideEncryption;
use futures::stream;
use ports::{Chunks, FileError, FileStore, MIN_PART_SIZE};

fn chunks(items: Vec<Result<Vec<u8>, FileError>>) -> Chunks<'static> {
    Box::pin(stream::iter(items))
}

/// A bucket on a moto server of the test's own ([`PrivateMoto`]; skipped, or failed under
/// `make test`, like the other tests when no moto is configured).
async fn bucket(test: &str) -> Option<(PrivateMoto, aws_sdk_s3::Client, String)> {
    common::moto(test).await?;
    let (moto, endpoint) = PrivateMoto::start("zts-moto-files");
    let config = aws_adapters::AwsConfig {
        endpoint_url: Some(endpoint),
        ..aws_adapters::AwsConfig::from_env()
    };
    let s3 = aws_adapters::AwsClients::new(&config).await.s3;
    let bucket = common::unique("zts-files").to_lowercase();
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    Some((moto, s3, bucket))
}

/// A moto server of the test's own, stopped when dropped. moto 5.2.5 keeps the parts of a
/// multipart upload (completed or aborted) as objects without a bucket, and from then on its
/// `/moto-api/data.json` (where the SES tests read the e-mails sent) fails for every test on
/// that server: multipart uploads run on servers of their own.
struct PrivateMoto {
    state: std::path::PathBuf,
}

impl PrivateMoto {
    const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/local/moto.sh");

    fn start(test: &str) -> (Self, String) {
        let state = std::env::temp_dir().join(common::unique(test));
        let out = std::process::Command::new(Self::SCRIPT)
            .arg("start")
            .env("ZTS_MOTO_STATE", &state)
            .output()
            .expect("tools/local/moto.sh start");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let endpoint = std::fs::read_to_string(state.join("endpoint")).expect("moto endpoint");
        (Self { state }, endpoint.trim().to_owned())
    }
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        let _ = std::process::Command::new(Self::SCRIPT)
            .arg("stop")
            .env("ZTS_MOTO_STATE", &self.state)
            .output();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

async fn download(url: &str) -> (u16, Vec<u8>) {
    let r = reqwest::get(url).await.expect("GET the link");
    let status = r.status().as_u16();
    (status, r.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn small_and_multipart_files_download_through_their_links() {
    let Some((_moto, s3, bucket)) =
        bucket("small_and_multipart_files_download_through_their_links").await
    else {
        return;
    };
    let store = S3FileStore::new(s3.clone(), &bucket);

    let small = store
        .write(
            "connections/c1/report/a.csv",
            "text/csv; charset=utf-8",
            chunks(vec![Ok(b"a,b\r\n".to_vec()), Ok(b"1,2\r\n".to_vec())]),
        )
        .await
        .unwrap();
    assert_eq!((small.bytes, small.parts), (10, 1));
    let link = store
        .presign_get(&small.key, Duration::from_secs(900))
        .await
        .unwrap();
    assert!(link.url.contains("X-Amz-Signature="), "a signed link");
    assert!(
        link.url
            .contains(&format!("/{bucket}/connections/c1/report/a.csv?")),
        "path style"
    );
    assert_eq!(download(&link.url).await, (200, b"a,b\r\n1,2\r\n".to_vec()));

    // 2.5 parts in 100 KiB chunks, each chunk a different byte.
    let chunk = 100 * 1024;
    let total = MIN_PART_SIZE * 5 / 2;
    let content: Vec<u8> = (0..total).map(|i| (i / chunk % 251) as u8).collect();
    let pieces: Vec<Result<Vec<u8>, FileError>> =
        content.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
    let big = store
        .write(
            "connections/c1/all_users/b.jsonl",
            "application/x-ndjson",
            chunks(pieces),
        )
        .await
        .unwrap();
    assert_eq!(big.bytes, total as u64);
    assert_eq!(big.parts, 3, "5 MiB, 5 MiB and the rest");
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key(&big.key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert_eq!(head.content_type(), Some("application/x-ndjson"));
    let link = store
        .presign_get(&big.key, Duration::from_secs(60))
        .await
        .unwrap();
    let (status, body) = download(&link.url).await;
    assert_eq!(status, 200);
    assert!(body == content, "the downloaded file is the written one");
}

#[tokio::test]
async fn a_failing_stream_leaves_no_object_and_no_upload() {
    let Some((_moto, s3, bucket)) = bucket("a_failing_stream_leaves_no_object_and_no_upload").await
    else {
        return;
    };
    let store = S3FileStore::new(s3.clone(), &bucket);
    let mut items: Vec<Result<Vec<u8>, FileError>> =
        (0..7).map(|_| Ok(vec![b'x'; 1024 * 1024])).collect();
    items.push(Err(FileError::Source(
        "the records could not be read".into(),
    )));
    let e = store
        .write(
            "connections/c1/all_users/broken.csv",
            "text/csv",
            chunks(items),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, FileError::Source(_)), "{e}");
    let objects = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert_eq!(objects.key_count(), Some(0), "no object");
    let uploads = s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(
        uploads.uploads().is_empty(),
        "the multipart upload was aborted"
    );
}
