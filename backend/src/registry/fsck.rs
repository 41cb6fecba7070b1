//! Consistency between the database and the blob store: `berth fsck`, and the recovery of upload
//! sessions a crash left half-finished.
//!
//! The registry writes in an order that keeps every crash harmless: a session row before its
//! storage session, content before the row that makes it visible, a storage session removed
//! before its row. So a crash can leave only two traces: a session row whose storage session is
//! gone (the commit or abort had happened), and committed content that no row names yet (the
//! push was never acknowledged). The first is a disagreement that recovery removes; the second
//! is unreferenced content, garbage for collection, which `fsck --repair` also deletes.

use std::collections::HashSet;
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::{Registry, RegistryError};
use crate::db::entities::{blob, manifest, repository_blob, upload_session};
use crate::digest::Digest;
use crate::storage::StorageError;

/// Rows read per query while scanning.
const PAGE: u64 = 500;

/// How long a session row may lack its storage session before it counts as left over: the row
/// is written just before the storage session, so a live one gets it within this time.
const SESSION_GRACE: Duration = Duration::from_secs(2);

/// What a check found, and what a repair changed.
#[derive(Debug, Default)]
pub struct FsckReport {
    /// Disagreements: recorded content that is missing or wrong, sessions on one side only.
    pub problems: Vec<String>,
    /// Committed content no blob or manifest row names (left by pushes never acknowledged).
    pub unreferenced: Vec<Digest>,
    /// Blob rows a push touched before committing content that never arrived (the process died
    /// in between). No repository links them, so no client sees them; a repair removes them.
    pub pending: usize,
    /// How many rows, sessions and objects a repair removed.
    pub repaired: usize,
    pub blobs_checked: usize,
    pub manifests_checked: usize,
}

impl Registry {
    /// Removes session rows whose storage session is gone (a commit or abort finished in
    /// storage, then the process died before deleting the row), and storage sessions that have
    /// no row (a crash in the middle of removing a finished session's objects). Rows are always
    /// written before storage, so a storage session without a row is never a live one. Returns
    /// how many were removed.
    ///
    /// # Errors
    /// Storage or database failures.
    pub async fn recover_upload_sessions(&self) -> Result<usize, RegistryError> {
        let orphans = self.session_rows_without_storage().await?;
        for id in &orphans {
            upload_session::Entity::delete_by_id(id.clone())
                .exec(&self.db)
                .await?;
            self.uploads.forget(id);
        }
        let mut removed = orphans.len();
        for id in self.storage_sessions_without_row().await? {
            self.store.abort_upload(&id).await?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Session rows without a storage session, checked twice [`SESSION_GRACE`] apart.
    /// Storage upload sessions that no session row names.
    async fn storage_sessions_without_row(&self) -> Result<Vec<String>, RegistryError> {
        let mut orphans = Vec::new();
        for id in self.store.list_uploads().await? {
            if uuid::Uuid::parse_str(&id).is_err() {
                continue;
            }
            let recorded = upload_session::Entity::find_by_id(id.clone())
                .count(&self.db)
                .await?
                > 0;
            if !recorded {
                orphans.push(id);
            }
        }
        Ok(orphans)
    }

    async fn session_rows_without_storage(&self) -> Result<Vec<String>, RegistryError> {
        let mut candidates = Vec::new();
        for row in upload_session::Entity::find().all(&self.db).await? {
            if self.storage_session_missing(&row.id).await? {
                candidates.push(row.id);
            }
        }
        if candidates.is_empty() {
            return Ok(candidates);
        }
        tokio::time::sleep(SESSION_GRACE).await;
        let mut confirmed = Vec::new();
        for id in candidates {
            let still_there = upload_session::Entity::find_by_id(id.clone())
                .one(&self.db)
                .await?
                .is_some();
            if still_there && self.storage_session_missing(&id).await? {
                confirmed.push(id);
            }
        }
        Ok(confirmed)
    }

    async fn storage_session_missing(&self, id: &str) -> Result<bool, RegistryError> {
        match self.store.upload_size(id).await {
            Ok(_) => Ok(false),
            Err(StorageError::UploadNotFound(_)) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    /// Compares the database with the blob store: every blob row's content exists with its
    /// size, every manifest's content exists and hashes to its digest, upload sessions exist on
    /// both sides, and no committed content is unreferenced. With `repair`, rows whose content
    /// is lost are deleted (with what cascades from them), one-sided sessions are removed and
    /// unreferenced content is deleted.
    ///
    /// # Errors
    /// Storage or database failures.
    pub async fn fsck(&self, repair: bool) -> Result<FsckReport, RegistryError> {
        let mut report = FsckReport::default();
        let mut known = HashSet::new();
        self.check_blob_rows(repair, &mut report, &mut known)
            .await?;
        self.check_manifest_rows(repair, &mut report, &mut known)
            .await?;
        self.check_sessions(repair, &mut report).await?;
        for (digest, _) in self.store.list_blobs().await? {
            if !known.contains(&digest.to_string()) {
                if repair {
                    self.store.delete(&digest).await?;
                    report.repaired += 1;
                }
                report.unreferenced.push(digest);
            }
        }
        Ok(report)
    }

    /// Whether any repository links blob `blob_id`.
    async fn blob_is_linked(&self, blob_id: i64) -> Result<bool, RegistryError> {
        Ok(repository_blob::Entity::find()
            .filter(repository_blob::Column::BlobId.eq(blob_id))
            .one(&self.db)
            .await?
            .is_some())
    }

    async fn check_blob_rows(
        &self,
        repair: bool,
        report: &mut FsckReport,
        known: &mut HashSet<String>,
    ) -> Result<(), RegistryError> {
        let mut pages = blob::Entity::find()
            .order_by_asc(blob::Column::Id)
            .paginate(&self.db, PAGE);
        let mut lost = Vec::new();
        while let Some(rows) = pages.fetch_and_next().await? {
            for row in rows {
                report.blobs_checked += 1;
                known.insert(row.digest.clone());
                let digest: Digest = row.digest.parse()?;
                let problem = match self.store.stat(&digest).await? {
                    None if !self.blob_is_linked(row.id).await? => {
                        report.pending += 1;
                        lost.push(row.id);
                        None
                    }
                    None => Some(format!(
                        "blob {digest}: recorded, but its content is missing"
                    )),
                    Some(size) if size != row.size as u64 => Some(format!(
                        "blob {digest}: recorded with {} bytes, storage holds {size}",
                        row.size
                    )),
                    Some(_) => None,
                };
                if let Some(problem) = problem {
                    report.problems.push(problem);
                    lost.push(row.id);
                }
            }
        }
        if repair && !lost.is_empty() {
            // Links first: repository_blobs refers to blobs without cascading.
            let txn = crate::db::begin_write(&self.db).await?;
            repository_blob::Entity::delete_many()
                .filter(repository_blob::Column::BlobId.is_in(lost.clone()))
                .exec(&txn)
                .await?;
            let deleted = blob::Entity::delete_many()
                .filter(blob::Column::Id.is_in(lost))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            report.repaired += deleted.rows_affected as usize;
        }
        Ok(())
    }

    async fn check_manifest_rows(
        &self,
        repair: bool,
        report: &mut FsckReport,
        known: &mut HashSet<String>,
    ) -> Result<(), RegistryError> {
        let mut pages = manifest::Entity::find()
            .order_by_asc(manifest::Column::Id)
            .paginate(&self.db, PAGE);
        let mut verified: HashSet<String> = HashSet::new();
        let mut broken: HashSet<String> = HashSet::new();
        while let Some(rows) = pages.fetch_and_next().await? {
            for row in rows {
                report.manifests_checked += 1;
                if verified.contains(&row.digest) || broken.contains(&row.digest) {
                    continue;
                }
                known.insert(row.digest.clone());
                let digest: Digest = row.digest.parse()?;
                let problem = match self.store.get(&digest).await {
                    Ok(content) if Digest::of(digest.algorithm(), &content) == digest => None,
                    Ok(_) => Some(format!("manifest {digest}: stored content does not match")),
                    Err(StorageError::BlobNotFound(_)) => Some(format!(
                        "manifest {digest}: recorded, but its content is missing"
                    )),
                    Err(e) => return Err(e.into()),
                };
                match problem {
                    None => verified.insert(row.digest),
                    Some(problem) => {
                        report.problems.push(problem);
                        broken.insert(row.digest)
                    }
                };
            }
        }
        if repair && !broken.is_empty() {
            let deleted = manifest::Entity::delete_many()
                .filter(manifest::Column::Digest.is_in(broken))
                .exec(&self.db)
                .await?;
            report.repaired += deleted.rows_affected as usize;
        }
        Ok(())
    }

    async fn check_sessions(
        &self,
        repair: bool,
        report: &mut FsckReport,
    ) -> Result<(), RegistryError> {
        for id in self.session_rows_without_storage().await? {
            report.problems.push(format!(
                "upload session {id}: recorded, but missing from storage"
            ));
            if repair {
                upload_session::Entity::delete_by_id(id.clone())
                    .exec(&self.db)
                    .await?;
                report.repaired += 1;
            }
        }
        for id in self.storage_sessions_without_row().await? {
            report
                .problems
                .push(format!("upload session {id}: in storage, but not recorded"));
            if repair {
                self.store.abort_upload(&id).await?;
                report.repaired += 1;
            }
        }
        Ok(())
    }
}
