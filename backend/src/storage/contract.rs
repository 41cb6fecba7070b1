//! The behaviour every [`BlobStore`] backend must show, run against each backend.

use bytes::Bytes;
use futures_util::TryStreamExt;

use super::{BlobStore, ByteRange, StorageError};
use crate::digest::{Algorithm, Digest};

async fn collect(stream: super::ByteStream) -> Vec<u8> {
    let chunks: Vec<Bytes> = stream.try_collect().await.expect("stream reads");
    chunks.concat()
}

/// Runs every contract check against `store`.
pub async fn run_all(store: &dyn BlobStore) {
    absent_blobs_are_reported_absent(store).await;
    put_then_read(store).await;
    upload_in_parts_then_commit(store).await;
    append_at_wrong_offset_is_refused(store).await;
    commit_of_existing_digest_keeps_content(store).await;
    abort_removes_session(store).await;
    empty_blob(store).await;
    large_upload_in_small_chunks(store).await;
    listing_and_purging(store).await;
}

/// A blob of several S3 parts (at a 5 MiB part size) sent in chunks smaller than a part, across
/// several appends, as a client's `PATCH` requests would.
async fn large_upload_in_small_chunks(store: &dyn BlobStore) {
    let content: Vec<u8> = (0..(12 * 1024 * 1024 + 12345))
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let id = uuid::Uuid::new_v4().to_string();
    store.create_upload(&id).await.expect("create");
    let mut offset = 0;
    for request in content.chunks(3 * 1024 * 1024 + 7) {
        let mut writer = store
            .append_upload(&id, offset as u64)
            .await
            .expect("append");
        for chunk in request.chunks(64 * 1024) {
            writer
                .write(Bytes::copy_from_slice(chunk))
                .await
                .expect("write");
        }
        offset += request.len();
        assert_eq!(writer.finish().await.expect("finish"), offset as u64);
    }
    assert_eq!(
        store.upload_size(&id).await.expect("size"),
        content.len() as u64
    );
    let so_far = collect(store.read_upload(&id).await.expect("read upload")).await;
    assert!(so_far == content, "read_upload returns what was appended");

    let digest = Digest::of(Algorithm::Sha256, &content);
    store.commit_upload(&id, &digest).await.expect("commit");
    assert_eq!(
        store.stat(&digest).await.expect("stat"),
        Some(content.len() as u64)
    );
    let whole = collect(store.read(&digest, None).await.expect("read")).await;
    assert!(whole == content, "committed blob equals the upload");
    let range = ByteRange {
        start: 5 * 1024 * 1024 - 10,
        end: 5 * 1024 * 1024 + 9,
    };
    let part = collect(store.read(&digest, Some(range)).await.expect("range")).await;
    assert_eq!(part, &content[range.start as usize..=range.end as usize]);
    assert!(!store.list_uploads().await.expect("list").contains(&id));
    store.delete(&digest).await.expect("delete");
}

async fn listing_and_purging(store: &dyn BlobStore) {
    let content = Bytes::from_static(b"listed blob");
    let digest = Digest::of(Algorithm::Sha256, &content);
    store.put(&digest, content).await.expect("put");
    let blobs = store.list_blobs().await.expect("list blobs");
    assert!(blobs.contains(&(digest.clone(), 11)), "{blobs:?}");
    assert_eq!(
        store
            .purge_abandoned(std::time::Duration::from_secs(3600))
            .await
            .expect("purge"),
        0,
        "nothing recent is purged"
    );
    assert_eq!(store.get(&digest).await.expect("still there").len(), 11);
    store.delete(&digest).await.expect("delete");
    let blobs = store.list_blobs().await.expect("list blobs");
    assert!(!blobs.iter().any(|(d, _)| d == &digest));
}

async fn absent_blobs_are_reported_absent(store: &dyn BlobStore) {
    let digest = Digest::of(Algorithm::Sha256, b"never stored");
    assert_eq!(store.stat(&digest).await.expect("stat"), None);
    assert!(matches!(
        store.read(&digest, None).await,
        Err(StorageError::BlobNotFound(_))
    ));
    store
        .delete(&digest)
        .await
        .expect("deleting an absent blob is fine");
}

async fn put_then_read(store: &dyn BlobStore) {
    let content = Bytes::from_static(b"0123456789abcdef");
    let digest = Digest::of(Algorithm::Sha512, &content);
    store.put(&digest, content.clone()).await.expect("put");
    assert_eq!(store.stat(&digest).await.expect("stat"), Some(16));
    assert_eq!(store.get(&digest).await.expect("get"), content);
    let range = ByteRange { start: 4, end: 9 };
    let part = collect(store.read(&digest, Some(range)).await.expect("read range")).await;
    assert_eq!(part, b"456789");
    store.delete(&digest).await.expect("delete");
    assert_eq!(store.stat(&digest).await.expect("stat"), None);
}

async fn upload_in_parts_then_commit(store: &dyn BlobStore) {
    let id = uuid::Uuid::new_v4().to_string();
    store.create_upload(&id).await.expect("create");
    let mut writer = store.append_upload(&id, 0).await.expect("append");
    writer
        .write(Bytes::from_static(b"chunk-one-"))
        .await
        .expect("write");
    assert_eq!(writer.finish().await.expect("finish"), 10);
    let mut writer = store.append_upload(&id, 10).await.expect("append again");
    writer
        .write(Bytes::from_static(b"chunk-"))
        .await
        .expect("write");
    writer
        .write(Bytes::from_static(b"two"))
        .await
        .expect("write");
    assert_eq!(writer.finish().await.expect("finish"), 19);
    assert_eq!(store.upload_size(&id).await.expect("size"), 19);
    let so_far = collect(store.read_upload(&id).await.expect("read upload")).await;
    assert_eq!(so_far, b"chunk-one-chunk-two");

    let digest = Digest::of(Algorithm::Sha256, b"chunk-one-chunk-two");
    store.commit_upload(&id, &digest).await.expect("commit");
    assert_eq!(store.stat(&digest).await.expect("stat"), Some(19));
    let whole = collect(store.read(&digest, None).await.expect("read")).await;
    assert_eq!(whole, b"chunk-one-chunk-two");
    assert!(matches!(
        store.upload_size(&id).await,
        Err(StorageError::UploadNotFound(_))
    ));
    assert!(!store.list_uploads().await.expect("list").contains(&id));
}

async fn append_at_wrong_offset_is_refused(store: &dyn BlobStore) {
    let id = uuid::Uuid::new_v4().to_string();
    store.create_upload(&id).await.expect("create");
    let mut writer = store.append_upload(&id, 0).await.expect("append");
    writer
        .write(Bytes::from_static(b"abc"))
        .await
        .expect("write");
    writer.finish().await.expect("finish");
    assert!(matches!(
        store.append_upload(&id, 1).await,
        Err(StorageError::UploadOffsetMismatch { actual: 3, .. })
    ));
    assert!(matches!(
        store.append_upload("no-such-upload", 0).await,
        Err(StorageError::UploadNotFound(_))
    ));
    store.abort_upload(&id).await.expect("abort");
}

async fn commit_of_existing_digest_keeps_content(store: &dyn BlobStore) {
    let content = Bytes::from_static(b"dedup me");
    let digest = Digest::of(Algorithm::Sha256, &content);
    store.put(&digest, content.clone()).await.expect("put");
    let id = uuid::Uuid::new_v4().to_string();
    store.create_upload(&id).await.expect("create");
    let mut writer = store.append_upload(&id, 0).await.expect("append");
    writer.write(content.clone()).await.expect("write");
    writer.finish().await.expect("finish");
    store
        .commit_upload(&id, &digest)
        .await
        .expect("commit duplicate");
    assert_eq!(store.get(&digest).await.expect("get"), content);
    assert!(!store.list_uploads().await.expect("list").contains(&id));
    store.delete(&digest).await.expect("delete");
}

async fn abort_removes_session(store: &dyn BlobStore) {
    let id = uuid::Uuid::new_v4().to_string();
    store.create_upload(&id).await.expect("create");
    assert!(store.list_uploads().await.expect("list").contains(&id));
    store.abort_upload(&id).await.expect("abort");
    store
        .abort_upload(&id)
        .await
        .expect("aborting twice is fine");
    assert!(!store.list_uploads().await.expect("list").contains(&id));
}

async fn empty_blob(store: &dyn BlobStore) {
    let id = uuid::Uuid::new_v4().to_string();
    store.create_upload(&id).await.expect("create");
    let digest = Digest::of(Algorithm::Sha256, b"");
    store
        .commit_upload(&id, &digest)
        .await
        .expect("commit empty");
    assert_eq!(store.stat(&digest).await.expect("stat"), Some(0));
    assert!(
        collect(store.read(&digest, None).await.expect("read"))
            .await
            .is_empty()
    );
}
