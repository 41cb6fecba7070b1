//! The S3 backend against a real S3-compatible server: the contract, session cleanup,
//! presigned redirects and retries under throttling.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;

use super::*;

/// The S3-compatible server the contract runs against, e.g. `http://127.0.0.1:8014`, with
/// its keys in `BERTH_TEST_S3_ACCESS_KEY` and `BERTH_TEST_S3_SECRET_KEY`. scripts/test.sh
/// starts one (s3s-fs) and sets them.
pub(crate) fn test_config() -> Option<S3Config> {
    let endpoint = std::env::var("BERTH_TEST_S3_ENDPOINT").ok()?;
    let key = |name: &str| std::env::var(name).unwrap_or_else(|_| "berth".into());
    Some(S3Config {
        bucket: format!("bc-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        endpoint: Some(endpoint),
        path_style: true,
        access_key_id: Some(key("BERTH_TEST_S3_ACCESS_KEY")),
        secret_access_key: Some(key("BERTH_TEST_S3_SECRET_KEY").into()),
        part_size_bytes: crate::config::S3_MIN_PART_BYTES,
        create_bucket: true,
        max_attempts: 3,
        ..S3Config::default()
    })
}

/// An S3 server that lists multipart uploads, which s3s-fs does not: scripts/test.sh starts
/// moto's server for this and sets `BERTH_TEST_S3_MULTIPART_ENDPOINT`.
pub(crate) fn multipart_test_config() -> Option<S3Config> {
    let endpoint = std::env::var("BERTH_TEST_S3_MULTIPART_ENDPOINT").ok()?;
    Some(S3Config {
        endpoint: Some(endpoint),
        ..fresh_bucket_config()
    })
}

fn fresh_bucket_config() -> S3Config {
    S3Config {
        bucket: format!("bm-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        path_style: true,
        access_key_id: Some("berth".into()),
        secret_access_key: Some("berth-secret".to_owned().into()),
        part_size_bytes: crate::config::S3_MIN_PART_BYTES,
        create_bucket: true,
        max_attempts: 3,
        ..S3Config::default()
    }
}

#[tokio::test]
async fn dangling_multipart_uploads_are_aborted_once_old_enough() {
    crate::install_crypto_provider();
    let Some(config) = multipart_test_config() else {
        eprintln!("BERTH_TEST_S3_MULTIPART_ENDPOINT is not set: the multipart sweep is skipped");
        return;
    };
    let store = S3BlobStore::open(&config).await.expect("open S3 store");
    // What a crash between CreateMultipartUpload and CompleteMultipartUpload leaves.
    let key = store.blob_key(&Digest::of(crate::digest::Algorithm::Sha256, b"dangling"));
    store
        .client
        .create_multipart_upload()
        .bucket(&store.bucket)
        .key(&key)
        .send()
        .await
        .expect("create multipart upload");
    let listed = |store: &S3BlobStore| {
        let request = store
            .client
            .list_multipart_uploads()
            .bucket(&store.bucket)
            .send();
        async move { request.await.expect("list").uploads().len() }
    };
    assert_eq!(listed(&store).await, 1);
    // moto reports every upload as initiated in 2010, so only the old case can be shown on
    // the server; `only_uploads_older_than_the_cutoff_are_aborted` covers the young one.
    assert_eq!(
        store
            .purge_abandoned(Duration::from_secs(3600))
            .await
            .expect("purge"),
        1
    );
    assert_eq!(listed(&store).await, 0, "aborted on the server");
}

#[test]
fn only_uploads_older_than_the_cutoff_are_aborted() {
    let now = std::time::SystemTime::now();
    let cutoff = now - Duration::from_secs(3600);
    assert!(started_before(
        Some(cutoff - Duration::from_secs(1)),
        cutoff
    ));
    assert!(
        !started_before(Some(now), cutoff),
        "a young upload may still complete"
    );
    assert!(!started_before(None, cutoff), "no start time: left alone");
}

#[tokio::test]
async fn s3_store_meets_the_contract() {
    crate::install_crypto_provider();
    let Some(config) = test_config() else {
        eprintln!("BERTH_TEST_S3_ENDPOINT is not set: the S3 contract run is skipped");
        return;
    };
    let store = S3BlobStore::open(&config).await.expect("open S3 store");
    crate::storage::contract::run_all(&store).await;
}

#[tokio::test]
async fn s3_abort_removes_every_object_of_a_session() {
    crate::install_crypto_provider();
    let Some(config) = test_config() else {
        eprintln!("BERTH_TEST_S3_ENDPOINT is not set: the S3 session test is skipped");
        return;
    };
    let store = S3BlobStore::open(&config).await.expect("open S3 store");
    let id = uuid::Uuid::new_v4().to_string();
    store.create_upload(&id).await.expect("create");
    let mut writer = store.append_upload(&id, 0).await.expect("append");
    writer
        .write(Bytes::from(vec![7u8; 6 * 1024 * 1024]))
        .await
        .expect("write");
    writer.finish().await.expect("finish");
    let objects = store
        .list_keys(&store.session_prefix(&id))
        .await
        .expect("list");
    assert_eq!(
        objects.len(),
        3,
        "state, one part and the tail: {objects:?}"
    );
    store.abort_upload(&id).await.expect("abort");
    let objects = store
        .list_keys(&store.session_prefix(&id))
        .await
        .expect("list");
    assert!(objects.is_empty(), "{objects:?}");
}

/// Forwards to `upstream`, but answers the next `throttle` requests with S3's
/// `503 SlowDown` (closing the connection), as a throttling S3 does.
async fn throttling_proxy(upstream: String) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let throttle = Arc::new(AtomicUsize::new(0));
    let throttled = Arc::new(AtomicUsize::new(0));
    let (budget, count) = (throttle.clone(), throttled.clone());
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let take = budget
                .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if take {
                count.fetch_add(1, SeqCst);
                let mut head = [0u8; 4096];
                let _ = client.read(&mut head).await;
                let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>\
                            <Code>SlowDown</Code><Message>Please reduce your request rate.\
                            </Message></Error>";
                let response = format!(
                    "HTTP/1.1 503 Slow Down\r\ncontent-type: application/xml\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = client.write_all(response.as_bytes()).await;
                continue;
            }
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (endpoint, throttle, throttled)
}

#[tokio::test]
async fn throttling_is_retried_with_back_off_then_reported_unavailable() {
    crate::install_crypto_provider();
    let Some(mut config) = test_config() else {
        eprintln!("BERTH_TEST_S3_ENDPOINT is not set: the throttling test is skipped");
        return;
    };
    let direct = S3BlobStore::open(&config).await.expect("open S3 store");
    let content = Bytes::from_static(b"throttled read");
    let digest = Digest::of(crate::digest::Algorithm::Sha256, &content);
    direct.put(&digest, content.clone()).await.expect("put");

    let upstream = config
        .endpoint
        .as_deref()
        .and_then(|e| e.strip_prefix("http://"))
        .expect("http endpoint")
        .to_owned();
    let (endpoint, throttle, throttled) = throttling_proxy(upstream).await;
    config.endpoint = Some(endpoint);
    config.create_bucket = false;
    config.bucket.clone_from(&direct.bucket);
    config.max_attempts = 4;
    config.initial_backoff_ms = 20;
    // Each store opens its own connections, so its first request meets the throttle.
    throttle.store(2, SeqCst);
    let store = S3BlobStore::open(&config)
        .await
        .expect("open through proxy");
    assert_eq!(
        throttled.load(SeqCst),
        2,
        "two SlowDown answers were retried"
    );
    assert_eq!(store.get(&digest).await.expect("read"), content);

    throttle.store(10, SeqCst);
    let err = S3BlobStore::open(&config)
        .await
        .expect_err("throttled past the attempts");
    assert!(matches!(err, StorageError::Unavailable(_)), "{err:?}");
    assert_eq!(
        throttled.load(SeqCst),
        2 + 4,
        "one try per configured attempt"
    );
}

#[tokio::test]
async fn presigned_redirects_are_off_by_default() {
    crate::install_crypto_provider();
    let Some(mut config) = test_config() else {
        eprintln!("BERTH_TEST_S3_ENDPOINT is not set: the redirect test is skipped");
        return;
    };
    let store = S3BlobStore::open(&config).await.expect("open S3 store");
    let content = Bytes::from_static(b"redirected");
    let digest = Digest::of(crate::digest::Algorithm::Sha256, &content);
    store.put(&digest, content.clone()).await.expect("put");
    assert_eq!(store.redirect_url(&digest).await.expect("no url"), None);

    config.redirect = true;
    config.create_bucket = false;
    config.bucket.clone_from(&store.bucket);
    let redirecting = S3BlobStore::open(&config).await.expect("open S3 store");
    let url = redirecting
        .redirect_url(&digest)
        .await
        .expect("presign")
        .expect("a url");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let fetched = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(&url)
        .send()
        .await
        .expect("fetch presigned url");
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.expect("body"), content);
}
