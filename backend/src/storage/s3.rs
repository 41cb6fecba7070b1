//! The S3 backend, for AWS S3 and S3-compatible servers (MinIO, Ceph, s3s, moto...).
//!
//! Key layout under the configured prefix:
//! - `blobs/<algorithm>/<first two hex>/<hex>`: committed content. A key appears only once
//!   its content is complete (a `PutObject`, `CopyObject` or `CompleteMultipartUpload`, each
//!   atomic in S3), so a reader never sees part of a blob.
//! - `uploads/<id>/state`: the upload session, a small JSON document naming the session's part
//!   objects in order. It is rewritten, whole, at the end of every append: it is the session's
//!   commit point, so a crash mid-append leaves the previous state.
//! - `uploads/<id>/p-*`: the session's content, in parts of exactly `part_size_bytes`, written
//!   while the request body streams in (and the caller hashes it); the bytes after the last
//!   whole part are the tail object `uploads/<id>/t-*`, rewritten together with the next chunk.
//!   Small `PATCH` chunks so accumulate until they fill a part: S3 refuses parts under 5 MiB.
//!
//! Committing a verified upload builds the blob from its part objects server-side: one
//! `CopyObject`, or a multipart upload of `UploadPartCopy` parts, whose id is recorded in the
//! session state first so a crash mid-commit leaves no multipart upload nobody can abort.

use std::io;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream as S3Body;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use secrecy::ExposeSecret;

use super::{BlobStore, ByteRange, ByteStream, StorageError, UploadWriter};
use crate::config::S3Config;
use crate::digest::Digest;

mod session;

use session::{PendingCommit, S3UploadWriter, SessionState};

/// Blob storage in an S3 bucket.
#[derive(Clone, Debug)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
    prefix: String,
    part_size: u64,
    redirect_expiry: Option<Duration>,
}

impl S3BlobStore {
    /// Builds a client from `config` and checks that the bucket is reachable, creating it when
    /// `create_bucket` is set.
    ///
    /// # Errors
    /// The bucket does not exist (and may not be created) or cannot be reached.
    pub async fn open(config: &S3Config) -> Result<Self, StorageError> {
        use aws_config::retry::RetryConfig;
        use aws_config::timeout::TimeoutConfig;
        use aws_config::{BehaviorVersion, Region};

        let retry = RetryConfig::standard()
            .with_max_attempts(config.max_attempts)
            .with_initial_backoff(Duration::from_millis(config.initial_backoff_ms));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(endpoint) = &config.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            let credentials = aws_sdk_s3::config::Credentials::new(
                id,
                secret.expose_secret(),
                None,
                None,
                "berth-config",
            );
            loader = loader.credentials_provider(credentials);
        }
        let shared = loader.load().await;
        // Berth hashes every byte itself; S3's own checksums are only sent when an operation
        // requires them, which also keeps older S3-compatible servers working.
        let s3_config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(config.path_style)
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .response_checksum_validation(
                aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired,
            )
            .build();
        let store = Self {
            client: Client::from_conf(s3_config),
            bucket: config.bucket.clone(),
            prefix: config.prefix.clone(),
            part_size: config.part_size_bytes,
            redirect_expiry: config
                .redirect
                .then(|| Duration::from_secs(config.redirect_expiry_seconds)),
        };
        store.check_bucket(config.create_bucket).await?;
        Ok(store)
    }

    async fn check_bucket(&self, create: bool) -> Result<(), StorageError> {
        let head = self.client.head_bucket().bucket(&self.bucket).send().await;
        match head {
            Ok(_) => Ok(()),
            Err(err) if create && status_of(&err) == Some(404) => {
                self.client
                    .create_bucket()
                    .bucket(&self.bucket)
                    .send()
                    .await
                    .map_err(|e| sdk_error("CreateBucket", e))?;
                Ok(())
            }
            Err(err) => Err(sdk_error("HeadBucket", err)),
        }
    }

    fn blob_key(&self, digest: &Digest) -> String {
        let hex = digest.hex();
        format!(
            "{}blobs/{}/{}/{hex}",
            self.prefix,
            digest.algorithm().name(),
            &hex[..2]
        )
    }

    fn uploads_prefix(&self) -> String {
        format!("{}uploads/", self.prefix)
    }

    fn session_prefix(&self, id: &str) -> String {
        format!("{}uploads/{id}/", self.prefix)
    }

    fn state_key(&self, id: &str) -> String {
        format!("{}state", self.session_prefix(id))
    }

    /// The key of the session object `name` (a part or the tail).
    fn object_key(&self, id: &str, name: &str) -> String {
        format!("{}{name}", self.session_prefix(id))
    }

    async fn put_object(&self, key: &str, content: Bytes) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_length(content.len() as i64)
            .body(S3Body::from(content))
            .send()
            .await
            .map_err(|e| sdk_error("PutObject", e))?;
        Ok(())
    }

    /// Reads a whole object, `None` when it does not exist.
    async fn get_object(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(err) if is_missing(&err) => return Ok(None),
            Err(err) => return Err(sdk_error("GetObject", err)),
        };
        let content = output
            .body
            .collect()
            .await
            .map_err(|e| StorageError::Io(io::Error::other(e)))?;
        Ok(Some(content.into_bytes()))
    }

    async fn open_object(
        &self,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<S3Body, StorageError> {
        let mut request = self.client.get_object().bucket(&self.bucket).key(key);
        if let Some(range) = range {
            request = request.range(format!("bytes={}-{}", range.start, range.end));
        }
        Ok(request
            .send()
            .await
            .map_err(|e| sdk_error("GetObject", e))?
            .body)
    }

    async fn delete_object(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteObject", e))?;
        Ok(())
    }

    async fn head_size(&self, key: &str) -> Result<Option<u64>, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(head.content_length().unwrap_or(0).max(0) as u64)),
            Err(err) if status_of(&err) == Some(404) => Ok(None),
            Err(err) => Err(sdk_error("HeadObject", err)),
        }
    }

    /// Every key under `prefix`, with its size, following continuation tokens.
    async fn list_keys(&self, prefix: &str) -> Result<Vec<(String, u64)>, StorageError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("ListObjectsV2", e))?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    keys.push((key.to_owned(), object.size().unwrap_or(0).max(0) as u64));
                }
            }
        }
        Ok(keys)
    }

    async fn load_state(&self, id: &str) -> Result<SessionState, StorageError> {
        let content = self
            .get_object(&self.state_key(id))
            .await?
            .ok_or_else(|| StorageError::UploadNotFound(id.to_owned()))?;
        SessionState::decode(&content).map_err(|e| {
            StorageError::Io(io::Error::other(format!(
                "upload {id} has a corrupt state: {e}"
            )))
        })
    }

    async fn save_state(&self, id: &str, state: &SessionState) -> Result<(), StorageError> {
        self.put_object(&self.state_key(id), state.encode()).await
    }

    /// Deletes every object of session `id`, the state first so the session is gone at once.
    async fn delete_session(&self, id: &str) -> Result<(), StorageError> {
        self.delete_object(&self.state_key(id)).await?;
        for (key, _) in self.list_keys(&self.session_prefix(id)).await? {
            self.delete_object(&key).await?;
        }
        Ok(())
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StorageError> {
        let result = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if status_of(&err) == Some(404) => Ok(()),
            Err(err) => Err(sdk_error("AbortMultipartUpload", err)),
        }
    }

    /// Builds `target` from the session's objects by a multipart upload of copied parts.
    async fn copy_parts(
        &self,
        id: &str,
        state: &mut SessionState,
        target: &str,
    ) -> Result<(), StorageError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(target)
            .send()
            .await
            .map_err(|e| sdk_error("CreateMultipartUpload", e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| StorageError::Io(io::Error::other("S3 returned no upload id")))?
            .to_owned();
        state.commit = Some(PendingCommit {
            key: target.to_owned(),
            upload_id: upload_id.clone(),
        });
        self.save_state(id, state).await?;
        let result = self.copy_parts_into(id, state, target, &upload_id).await;
        if result.is_err() {
            let _ = self.abort_multipart(target, &upload_id).await;
        }
        result
    }

    async fn copy_parts_into(
        &self,
        id: &str,
        state: &SessionState,
        target: &str,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        let mut completed = Vec::new();
        for (index, object) in state.objects().enumerate() {
            let number = index as i32 + 1;
            let copied = self
                .client
                .upload_part_copy()
                .bucket(&self.bucket)
                .key(target)
                .upload_id(upload_id)
                .part_number(number)
                .copy_source(format!(
                    "{}/{}",
                    self.bucket,
                    self.object_key(id, &object.name)
                ))
                .send()
                .await
                .map_err(|e| sdk_error("UploadPartCopy", e))?;
            let etag = copied
                .copy_part_result()
                .and_then(|r| r.e_tag())
                .ok_or_else(|| StorageError::Io(io::Error::other("S3 returned no part ETag")))?;
            completed.push(
                CompletedPart::builder()
                    .part_number(number)
                    .e_tag(etag)
                    .build(),
            );
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(target)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("CompleteMultipartUpload", e))?;
        Ok(())
    }
}

/// Streams an S3 response body as [`ByteStream`].
fn body_stream(body: S3Body) -> ByteStream {
    futures_util::stream::try_unfold(body, |mut body| async move {
        match body.try_next().await {
            Ok(Some(chunk)) => Ok(Some((chunk, body))),
            Ok(None) => Ok(None),
            Err(e) => Err(io::Error::other(e)),
        }
    })
    .boxed()
}

fn status_of<E, R: HttpStatus>(err: &SdkError<E, R>) -> Option<u16> {
    err.raw_response().map(HttpStatus::status_code)
}

/// The HTTP status of a raw S3 response.
trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

fn is_missing<E: ProvideErrorMetadata, R: HttpStatus>(err: &SdkError<E, R>) -> bool {
    status_of(err) == Some(404)
        || err
            .as_service_error()
            .and_then(ProvideErrorMetadata::code)
            .is_some_and(|code| code == "NoSuchKey")
}

/// Maps an SDK error (after the SDK's own retries) to a storage error: unreachable servers,
/// time-outs, throttling and 5xx answers become [`StorageError::Unavailable`] (503 to clients).
fn sdk_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> StorageError
where
    E: std::error::Error + Send + Sync + 'static,
    R: HttpStatus + std::fmt::Debug,
{
    let status = status_of(&err);
    let transient = matches!(
        err,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    ) || status.is_some_and(|s| s >= 500 || s == 429);
    let text = format!("S3 {operation} failed: {}", DisplayErrorContext(&err));
    if transient {
        StorageError::Unavailable(text)
    } else {
        StorageError::Io(io::Error::other(text))
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, StorageError> {
        self.head_size(&self.blob_key(digest)).await
    }

    async fn read(
        &self,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> Result<ByteStream, StorageError> {
        let key = self.blob_key(digest);
        let mut request = self.client.get_object().bucket(&self.bucket).key(&key);
        if let Some(range) = range {
            request = request.range(format!("bytes={}-{}", range.start, range.end));
        }
        match request.send().await {
            Ok(output) => Ok(body_stream(output.body)),
            Err(err) if is_missing(&err) => Err(StorageError::BlobNotFound(digest.clone())),
            Err(err) => Err(sdk_error("GetObject", err)),
        }
    }

    async fn get(&self, digest: &Digest) -> Result<Bytes, StorageError> {
        self.get_object(&self.blob_key(digest))
            .await?
            .ok_or_else(|| StorageError::BlobNotFound(digest.clone()))
    }

    async fn put(&self, digest: &Digest, content: Bytes) -> Result<(), StorageError> {
        self.put_object(&self.blob_key(digest), content).await
    }

    async fn delete(&self, digest: &Digest) -> Result<(), StorageError> {
        // S3 answers a delete of an absent key with success.
        self.delete_object(&self.blob_key(digest)).await
    }

    async fn create_upload(&self, id: &str) -> Result<(), StorageError> {
        self.save_state(id, &SessionState::default()).await
    }

    async fn append_upload(
        &self,
        id: &str,
        offset: u64,
    ) -> Result<Box<dyn UploadWriter>, StorageError> {
        let state = self.load_state(id).await?;
        let actual = state.size();
        if actual != offset {
            return Err(StorageError::UploadOffsetMismatch {
                id: id.to_owned(),
                expected: offset,
                actual,
            });
        }
        let tail = match &state.tail {
            Some(tail) => self
                .get_object(&self.object_key(id, &tail.name))
                .await?
                .ok_or_else(|| {
                    StorageError::Io(io::Error::other(format!("upload {id} lost its tail")))
                })?,
            None => Bytes::new(),
        };
        Ok(Box::new(S3UploadWriter::new(
            self.clone(),
            id.to_owned(),
            state,
            tail,
        )))
    }

    async fn upload_size(&self, id: &str) -> Result<u64, StorageError> {
        Ok(self.load_state(id).await?.size())
    }

    async fn read_upload(&self, id: &str) -> Result<ByteStream, StorageError> {
        let state = self.load_state(id).await?;
        let keys: Vec<String> = state
            .objects()
            .map(|o| self.object_key(id, &o.name))
            .collect();
        let store = self.clone();
        let stream = futures_util::stream::iter(keys)
            .then(move |key| {
                let store = store.clone();
                async move {
                    let body = store.open_object(&key, None).await;
                    body.map(body_stream)
                        .map_err(|e| io::Error::other(e.to_string()))
                }
            })
            .try_flatten();
        Ok(stream.boxed())
    }

    async fn commit_upload(&self, id: &str, digest: &Digest) -> Result<(), StorageError> {
        let mut state = self.load_state(id).await?;
        let target = self.blob_key(digest);
        if self.head_size(&target).await?.is_none() {
            let objects: Vec<_> = state.objects().cloned().collect();
            match objects.as_slice() {
                [] => self.put_object(&target, Bytes::new()).await?,
                [only] => {
                    self.client
                        .copy_object()
                        .bucket(&self.bucket)
                        .key(&target)
                        .copy_source(format!(
                            "{}/{}",
                            self.bucket,
                            self.object_key(id, &only.name)
                        ))
                        .send()
                        .await
                        .map_err(|e| sdk_error("CopyObject", e))?;
                }
                _ => self.copy_parts(id, &mut state, &target).await?,
            }
        }
        self.delete_session(id).await
    }

    async fn abort_upload(&self, id: &str) -> Result<(), StorageError> {
        // A commit interrupted between CreateMultipartUpload and its completion left an upload
        // on a blob key; its id is in the state.
        if let Ok(state) = self.load_state(id).await
            && let Some(commit) = &state.commit
        {
            self.abort_multipart(&commit.key, &commit.upload_id).await?;
        }
        self.delete_session(id).await
    }

    async fn list_uploads(&self) -> Result<Vec<String>, StorageError> {
        let prefix = self.uploads_prefix();
        let mut ids = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("ListObjectsV2", e))?;
            for common in page.common_prefixes() {
                if let Some(id) = common
                    .prefix()
                    .and_then(|p| p.strip_prefix(&prefix))
                    .and_then(|p| p.strip_suffix('/'))
                {
                    ids.push(id.to_owned());
                }
            }
        }
        Ok(ids)
    }

    async fn list_blobs(&self) -> Result<Vec<(Digest, u64)>, StorageError> {
        let prefix = format!("{}blobs/", self.prefix);
        Ok(self
            .list_keys(&prefix)
            .await?
            .into_iter()
            .filter_map(|(key, size)| {
                let rest = key.strip_prefix(&prefix)?;
                let mut parts = rest.split('/');
                let (algorithm, _, hex) = (parts.next()?, parts.next()?, parts.next()?);
                let digest = format!("{algorithm}:{hex}").parse().ok()?;
                Some((digest, size))
            })
            .collect())
    }

    async fn redirect_url(&self, digest: &Digest) -> Result<Option<String>, StorageError> {
        let Some(expiry) = self.redirect_expiry else {
            return Ok(None);
        };
        let presigning = PresigningConfig::expires_in(expiry)
            .map_err(|e| StorageError::Io(io::Error::other(e)))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.blob_key(digest))
            .presigned(presigning)
            .await
            .map_err(|e| sdk_error("presign GetObject", e))?;
        Ok(Some(request.uri().to_owned()))
    }

    async fn purge_abandoned(&self, older_than: Duration) -> Result<usize, StorageError> {
        let cutoff = std::time::SystemTime::now() - older_than;
        let mut aborted = 0;
        let mut markers: (Option<String>, Option<String>) = (None, None);
        loop {
            let listed = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(format!("{}blobs/", self.prefix))
                .set_key_marker(markers.0.take())
                .set_upload_id_marker(markers.1.take())
                .send()
                .await;
            let page = match listed {
                Ok(page) => page,
                // Some S3-compatible servers do not list multipart uploads; sessions still
                // record theirs, so abort_upload cleans up what a crash left.
                Err(err) if status_of(&err) == Some(501) => {
                    tracing::warn!(
                        "the S3 server cannot list multipart uploads: dangling ones are not swept"
                    );
                    return Ok(aborted);
                }
                Err(err) => return Err(sdk_error("ListMultipartUploads", err)),
            };
            for upload in page.uploads() {
                let started = upload
                    .initiated()
                    .and_then(|t| std::time::SystemTime::try_from(*t).ok());
                if let (Some(key), Some(upload_id)) = (upload.key(), upload.upload_id())
                    && started_before(started, cutoff)
                {
                    self.abort_multipart(key, upload_id).await?;
                    aborted += 1;
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            markers = (
                page.next_key_marker().map(str::to_owned),
                page.next_upload_id_marker().map(str::to_owned),
            );
        }
        Ok(aborted)
    }
}

/// Whether a multipart upload started at `started` is old enough to abort. One without a start
/// time is left alone: it cannot be told from an upload in flight.
fn started_before(started: Option<std::time::SystemTime>, cutoff: std::time::SystemTime) -> bool {
    started.is_some_and(|s| s < cutoff)
}

#[cfg(test)]
mod tests;
