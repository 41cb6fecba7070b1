//! Blob content storage: one [`BlobStore`] trait and its backends.
//!
//! The store only knows content addressed by digest and upload sessions addressed by id. Which
//! repository may see a blob, and whether a digest was verified, is decided above it, in the
//! registry service and the database.

use std::io;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

use crate::digest::Digest;

mod fs;
mod s3;

pub use fs::FsBlobStore;
pub use s3::S3BlobStore;

/// Content streamed out of the store.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// An inclusive byte range `start..=end` within a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    #[expect(
        clippy::len_without_is_empty,
        reason = "an inclusive range is never empty"
    )]
    pub fn len(self) -> u64 {
        self.end - self.start + 1
    }
}

/// What went wrong in a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("blob {0} not found in storage")]
    BlobNotFound(Digest),
    #[error("upload {0} not found in storage")]
    UploadNotFound(String),
    #[error("upload {id} holds {actual} bytes, expected {expected}")]
    UploadOffsetMismatch {
        id: String,
        expected: u64,
        actual: u64,
    },
    #[error("storage I/O failed: {0}")]
    Io(#[from] io::Error),
    #[error("storage backend unavailable: {0}")]
    Unavailable(String),
}

/// A content-addressed blob store with resumable upload sessions.
///
/// Contract for implementors:
/// - A committed blob is immutable and complete: readers never see a partial blob, and a crash
///   at any point leaves either the old state or the whole new blob.
/// - Committing a digest that already exists keeps the existing content and discards the upload.
/// - Upload sessions persist across restarts until committed or aborted. Appended bytes become
///   durable when the session is committed; after a power failure an uncommitted session may
///   hold fewer bytes than were appended, and its size then tells the client where to resume.
/// - Methods never hash: digests are computed and verified by the caller.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// The size of a committed blob, or `None` when it is absent.
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, StorageError>;

    /// Streams a committed blob, or the inclusive `range` of it. The range must lie inside the
    /// blob; callers check it against [`BlobStore::stat`] first.
    async fn read(
        &self,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> Result<ByteStream, StorageError>;

    /// Reads a small committed blob (a manifest) whole into memory.
    async fn get(&self, digest: &Digest) -> Result<Bytes, StorageError>;

    /// Stores small content held in memory (a manifest) under its already verified digest.
    async fn put(&self, digest: &Digest, content: Bytes) -> Result<(), StorageError>;

    /// Removes a committed blob. Removing an absent blob is not an error.
    async fn delete(&self, digest: &Digest) -> Result<(), StorageError>;

    /// Creates an empty upload session.
    async fn create_upload(&self, id: &str) -> Result<(), StorageError>;

    /// Opens the session for appending at `offset`, which must equal its current size.
    async fn append_upload(
        &self,
        id: &str,
        offset: u64,
    ) -> Result<Box<dyn UploadWriter>, StorageError>;

    /// The number of bytes an upload session holds.
    async fn upload_size(&self, id: &str) -> Result<u64, StorageError>;

    /// Streams what an upload session holds so far (used to rebuild a hasher after a restart).
    async fn read_upload(&self, id: &str) -> Result<ByteStream, StorageError>;

    /// Turns a complete, verified upload session into the blob `digest`.
    async fn commit_upload(&self, id: &str, digest: &Digest) -> Result<(), StorageError>;

    /// Discards an upload session. Aborting an absent session is not an error.
    async fn abort_upload(&self, id: &str) -> Result<(), StorageError>;

    /// Lists the ids of upload sessions present in the store (for the stale-upload purge).
    async fn list_uploads(&self) -> Result<Vec<String>, StorageError>;

    /// Lists every committed blob with its size (for `berth fsck`).
    async fn list_blobs(&self) -> Result<Vec<(Digest, u64)>, StorageError>;

    /// A URL the client may download blob `digest` from directly, when the backend offers
    /// one and it is enabled. The URL is a credential: never log it.
    async fn redirect_url(&self, _digest: &Digest) -> Result<Option<String>, StorageError> {
        Ok(None)
    }

    /// Removes what interrupted writes left behind that no upload session owns (temporary
    /// files, multipart uploads), when older than `older_than`. Returns how many were removed.
    async fn purge_abandoned(&self, older_than: Duration) -> Result<usize, StorageError>;
}

/// Appends bytes to an upload session.
#[async_trait]
pub trait UploadWriter: Send {
    /// Appends one chunk.
    async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError>;

    /// Makes everything written durable and returns the session's new size.
    async fn finish(self: Box<Self>) -> Result<u64, StorageError>;
}

#[cfg(test)]
pub(crate) mod contract;
