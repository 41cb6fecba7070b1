//! What can go wrong in the registry service, in the registry's own terms.

use sea_orm::DbErr;

use crate::digest::{Digest, DigestError};
use crate::error::{ApiError, ApiErrorCode, OciError, OciErrorCode};
use crate::storage::StorageError;

/// A failure of a registry operation.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("repository name {0:?} is invalid: use <project>/<path> in lower case")]
    NameInvalid(String),
    #[error("repository {0} is not known")]
    NameUnknown(String),
    #[error("project {0} does not exist; create it before pushing")]
    ProjectUnknown(String),
    #[error("tag {0:?} is invalid")]
    TagInvalid(String),
    #[error(transparent)]
    DigestMalformed(#[from] DigestError),
    #[error("content does not match digest {expected}")]
    DigestMismatch { expected: Digest },
    #[error("blob {0} is not known in this repository")]
    BlobUnknown(Digest),
    #[error("upload session {0} is not known")]
    UploadUnknown(String),
    #[error("upload invalid: {0}")]
    UploadInvalid(String),
    #[error("chunk must start at offset {offset}")]
    RangeNotSatisfiable { offset: u64, location: String },
    #[error("requested range is not satisfiable for a blob of {size} bytes")]
    BlobRangeNotSatisfiable { size: u64 },
    #[error("manifest {0} is not known")]
    ManifestUnknown(String),
    #[error("manifest invalid: {0}")]
    ManifestInvalid(String),
    #[error("manifest references blob {0}, which is not in this repository")]
    ManifestBlobUnknown(Digest),
    #[error("manifest references manifest {0}, which is not in this repository")]
    ManifestChildUnknown(Digest),
    #[error("manifest of {size} bytes exceeds the limit of {limit} bytes")]
    ManifestTooLarge { size: usize, limit: usize },
    #[error(
        "tag {tag} of repository {repository} is immutable: a rule of its project forbids \
         moving or deleting it"
    )]
    TagImmutable { repository: String, tag: String },
    #[error(
        "quota exceeded: project {project} uses {used} of its {limit} bytes and this push \
         needs {needed} more"
    )]
    QuotaExceeded {
        project: String,
        limit: i64,
        used: i64,
        needed: i64,
    },
    #[error("invalid pagination parameter: {0}")]
    PaginationInvalid(String),
    #[error("{reference} is not in the cache and the upstream cannot serve it: {source}")]
    ProxyUnavailable {
        reference: String,
        /// A blob (else a manifest) was asked for.
        blob: bool,
        source: super::proxy::upstream::UpstreamError,
    },
    #[error(
        "project {project} is a proxy cache of {url}: pushing and deleting through /v2 are not \
         allowed"
    )]
    ProxyReadOnly { project: String, url: String },
    #[error("storage failed: {0}")]
    Storage(#[from] StorageError),
    #[error("database failed: {0}")]
    Database(#[from] DbErr),
}

impl From<RegistryError> for OciError {
    fn from(err: RegistryError) -> Self {
        use OciErrorCode as C;
        use actix_web::http::StatusCode;
        let message = err.to_string();
        match err {
            RegistryError::NameInvalid(_) => OciError::new(C::NameInvalid, message),
            RegistryError::NameUnknown(_) | RegistryError::ProjectUnknown(_) => {
                OciError::new(C::NameUnknown, message)
            }
            RegistryError::TagInvalid(_) => OciError::new(C::ManifestInvalid, message),
            RegistryError::DigestMalformed(_) | RegistryError::DigestMismatch { .. } => {
                OciError::new(C::DigestInvalid, message)
            }
            RegistryError::BlobUnknown(_) => OciError::new(C::BlobUnknown, message),
            RegistryError::UploadUnknown(_) => OciError::new(C::BlobUploadUnknown, message),
            RegistryError::UploadInvalid(_) => OciError::new(C::BlobUploadInvalid, message),
            RegistryError::RangeNotSatisfiable { offset, location } => {
                OciError::new(C::BlobUploadInvalid, message)
                    .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .with_header("Location", location)
                    .with_header("Range", upload_range(offset))
            }
            RegistryError::BlobRangeNotSatisfiable { size } => {
                OciError::new(C::BlobUnknown, message)
                    .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .with_header("Content-Range", format!("bytes */{size}"))
            }
            RegistryError::ManifestUnknown(_) => OciError::new(C::ManifestUnknown, message),
            RegistryError::ManifestInvalid(_) => OciError::new(C::ManifestInvalid, message),
            RegistryError::ManifestBlobUnknown(_) | RegistryError::ManifestChildUnknown(_) => {
                OciError::new(C::ManifestBlobUnknown, message)
            }
            RegistryError::ManifestTooLarge { .. } => {
                OciError::new(C::SizeInvalid, message).with_status(StatusCode::PAYLOAD_TOO_LARGE)
            }
            RegistryError::TagImmutable { .. } | RegistryError::QuotaExceeded { .. } => {
                OciError::new(C::Denied, message)
            }
            RegistryError::PaginationInvalid(_) => {
                OciError::new(C::Unsupported, message).with_status(StatusCode::BAD_REQUEST)
            }
            // Content the cache lacks and the upstream cannot give is absent, for the client.
            RegistryError::ProxyUnavailable {
                source: super::proxy::upstream::UpstreamError::Denied { .. },
                ..
            }
            | RegistryError::ProxyReadOnly { .. } => OciError::new(C::Denied, message),
            RegistryError::ProxyUnavailable { blob: true, .. } => {
                OciError::new(C::BlobUnknown, message)
            }
            RegistryError::ProxyUnavailable { blob: false, .. } => {
                OciError::new(C::ManifestUnknown, message)
            }
            RegistryError::Storage(StorageError::BlobNotFound(digest)) => OciError::new(
                C::BlobUnknown,
                format!("blob {digest} is missing from storage"),
            ),
            RegistryError::Storage(StorageError::UploadNotFound(id)) => OciError::new(
                C::BlobUploadUnknown,
                format!("upload session {id} is not known"),
            ),
            RegistryError::Storage(ref e @ StorageError::Unavailable(_)) => {
                OciError::unavailable(e)
            }
            RegistryError::Storage(
                ref e @ (StorageError::Io(_) | StorageError::UploadOffsetMismatch { .. }),
            ) => OciError::internal(e),
            RegistryError::Database(ref e) if crate::db::is_unavailable(e) => {
                OciError::unavailable(e)
            }
            RegistryError::Database(ref e) => OciError::internal(e),
        }
    }
}

/// The `Range` header value of an upload that holds `size` bytes (inclusive end).
pub fn upload_range(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

impl From<RegistryError> for ApiError {
    fn from(err: RegistryError) -> Self {
        use ApiErrorCode as C;
        let message = err.to_string();
        match err {
            RegistryError::NameInvalid(_)
            | RegistryError::TagInvalid(_)
            | RegistryError::DigestMalformed(_)
            | RegistryError::DigestMismatch { .. }
            | RegistryError::UploadInvalid(_)
            | RegistryError::ManifestInvalid(_)
            | RegistryError::ManifestBlobUnknown(_)
            | RegistryError::ManifestChildUnknown(_)
            | RegistryError::PaginationInvalid(_) => ApiError::new(C::BadRequest, message),
            RegistryError::NameUnknown(_)
            | RegistryError::ProjectUnknown(_)
            | RegistryError::BlobUnknown(_)
            | RegistryError::UploadUnknown(_)
            | RegistryError::ManifestUnknown(_) => ApiError::new(C::NotFound, message),
            RegistryError::RangeNotSatisfiable { .. }
            | RegistryError::BlobRangeNotSatisfiable { .. } => {
                ApiError::new(C::BadRequest, message)
            }
            RegistryError::ManifestTooLarge { .. } => ApiError::new(C::PayloadTooLarge, message),
            // Harbor answers a protected tag with 412 and a full quota with 403.
            RegistryError::TagImmutable { .. } => ApiError::new(C::Precondition, message),
            RegistryError::QuotaExceeded { .. } | RegistryError::ProxyReadOnly { .. } => {
                ApiError::new(C::Forbidden, message)
            }
            RegistryError::ProxyUnavailable { .. } => ApiError::new(C::NotFound, message),
            RegistryError::Storage(e) => ApiError::internal(&e),
            RegistryError::Database(e) => e.into(),
        }
    }
}
