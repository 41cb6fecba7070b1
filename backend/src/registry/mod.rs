//! The registry service: repositories, blobs, upload sessions, manifests, tags and referrers.
//!
//! Handlers in `oci` only parse requests and shape responses; the rules live here so workers and
//! tests can use them without HTTP. Content goes to the [`BlobStore`]; what exists where is
//! recorded in the database, and a blob is linked to a repository only after its digest was
//! verified.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::storage::BlobStore;

mod artifacts;
mod blobs;
mod error;
mod fsck;
pub mod gc;
pub mod immutable;
mod manifest_cache;
mod manifests;
mod media;
pub mod proxy;
pub mod quota;
mod repositories;
pub mod resolutions;
mod uploads;

pub use artifacts::{Accessory, IndexChild, TagFilter, accessory_kind, tag_schema_subject};
pub use blobs::BlobInfo;
pub use error::{RegistryError, upload_range};
pub use fsck::FsckReport;
pub use manifests::{ManifestPut, ManifestStored, Referrer, StoredManifest};
pub use media::MediaType;
pub use uploads::{UploadPurge, UploadStates, UploadStatus};

/// How long remembered resolutions are trusted by default (see [`resolutions`]).
pub const DEFAULT_RESOLUTION_WINDOW: std::time::Duration = std::time::Duration::from_millis(20);

/// Shared handle on the registry's state.
pub struct Registry {
    pub(crate) db: DatabaseConnection,
    pub(crate) store: Arc<dyn BlobStore>,
    pub(crate) uploads: UploadStates,
    /// Manifest bytes by digest (content-addressed, so never stale).
    pub(crate) manifests: manifest_cache::ManifestCache,
    /// What tags and digests resolved to, while no change says otherwise.
    pub(crate) resolutions: resolutions::Resolutions,
    pub(crate) max_manifest_bytes: usize,
    pub(crate) allow_sparse_manifests: bool,
    /// Clients of the upstream registries that proxy-cache projects pull through.
    pub(crate) upstreams: proxy::Upstreams,
}

impl Registry {
    pub fn new(
        db: DatabaseConnection,
        store: Arc<dyn BlobStore>,
        max_manifest_bytes: usize,
    ) -> Self {
        Self {
            db,
            store,
            uploads: UploadStates::default(),
            manifests: manifest_cache::ManifestCache::default(),
            resolutions: resolutions::Resolutions::new(DEFAULT_RESOLUTION_WINDOW),
            max_manifest_bytes,
            allow_sparse_manifests: false,
            upstreams: proxy::Upstreams::default(),
        }
    }

    /// Trusts remembered resolutions for `window` after each look at `registry_changes`: the
    /// longest a change made by another process goes unseen here. Zero remembers none.
    #[must_use]
    pub fn with_resolution_window(mut self, window: std::time::Duration) -> Self {
        self.resolutions = resolutions::Resolutions::new(window);
        self
    }

    /// Makes the next pull look for changes again; called when this process has changed tags,
    /// manifests or repositories.
    pub fn changed(&self) {
        self.resolutions.expire();
    }

    /// Lets manifests name blobs and children the repository does not hold (mirrors of a subset
    /// of an index's platforms).
    #[must_use]
    pub fn with_sparse_manifests(mut self, allow: bool) -> Self {
        self.allow_sparse_manifests = allow;
        self
    }

    pub fn store(&self) -> &dyn BlobStore {
        self.store.as_ref()
    }

    pub fn max_manifest_bytes(&self) -> usize {
        self.max_manifest_bytes
    }
}
