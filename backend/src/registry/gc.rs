//! The rules of online garbage collection, with the database as the only index of content.
//!
//! A blob row (layer, config or manifest content) is garbage when no manifest references it, no
//! manifest has it as content, and nothing touched it since the grace cutoff. Pushes touch rows
//! *before* they write content and again inside the transaction that commits a manifest, so a
//! deletion that re-checks those conditions under the row's lock can never remove content a
//! push is about to use: either the push touched first (the row is spared) or the deletion
//! committed first (the push's touch finds no row and the push fails cleanly, never leaving a
//! manifest whose blob is gone). The file is deleted while that transaction still holds the
//! row, so a push of the same digest waits and writes its content after the deletion.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Registry, RegistryError};
use crate::db::entities::{blob, manifest, manifest_reference, repository, repository_blob, tag};
use crate::digest::Digest;

/// Blobs deleted per transaction: enough to spare most commits, few enough that a push
/// touching one of them waits only briefly.
const DELETE_CHUNK: usize = 64;

/// A blob that garbage collection may remove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobCandidate {
    pub id: i64,
    pub digest: String,
    pub size: i64,
}

/// An untagged manifest that garbage collection may remove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestCandidate {
    pub id: i64,
    pub repository_id: i64,
    pub digest: String,
    pub size: i64,
}

/// Rows not touched since `cutoff` (rows written before touch times existed use creation).
fn stale<C: ColumnTrait>(touched: C, created: C, cutoff: DateTime<Utc>) -> Condition {
    Condition::any().add(touched.lt(cutoff)).add(
        Condition::all()
            .add(touched.is_null())
            .add(created.lt(cutoff)),
    )
}

/// Blobs that no manifest references or holds as content.
///
/// Correlated `NOT EXISTS` anti-joins, each an index lookup per blob
/// (`idx_manifest_references_digest`, `idx_manifests_digest`): a `NOT IN (subquery)` made
/// SQLite rebuild a temporary set of every manifest digest for each page of candidates, and
/// PostgreSQL falls back to rescanning the subquery per row once its set outgrows `work_mem`.
fn unreferenced_blob() -> Condition {
    let referenced = Query::select()
        .expr(Expr::val(1))
        .from(manifest_reference::Entity)
        .and_where(
            Expr::col((
                manifest_reference::Entity,
                manifest_reference::Column::Digest,
            ))
            .equals((blob::Entity, blob::Column::Digest)),
        )
        .to_owned();
    let contents = Query::select()
        .expr(Expr::val(1))
        .from(manifest::Entity)
        .and_where(
            Expr::col((manifest::Entity, manifest::Column::Digest))
                .equals((blob::Entity, blob::Column::Digest)),
        )
        .to_owned();
    Condition::all()
        .add(Expr::exists(referenced).not())
        .add(Expr::exists(contents).not())
}

/// Manifests with no tag, that no index in their repository lists, and that are not a
/// referrer of a manifest still present in their repository.
fn untagged_manifest() -> Condition {
    let tagged = Query::select()
        .column(tag::Column::ManifestId)
        .from(tag::Entity)
        .to_owned();
    let child = Query::select()
        .expr(Expr::val(1))
        .from_as(manifest_reference::Entity, "mr")
        .join_as(
            JoinType::InnerJoin,
            manifest::Entity,
            "parent",
            Expr::col(("parent", manifest::Column::Id))
                .equals(("mr", manifest_reference::Column::ManifestId)),
        )
        .and_where(Expr::col(("mr", manifest_reference::Column::Kind)).eq("manifest"))
        .and_where(
            Expr::col(("mr", manifest_reference::Column::Digest))
                .equals((manifest::Entity, manifest::Column::Digest)),
        )
        .and_where(
            Expr::col(("parent", manifest::Column::RepositoryId))
                .equals((manifest::Entity, manifest::Column::RepositoryId)),
        )
        .to_owned();
    let subject_present = Query::select()
        .expr(Expr::val(1))
        .from_as(manifest::Entity, "subject")
        .and_where(
            Expr::col(("subject", manifest::Column::Digest))
                .equals((manifest::Entity, manifest::Column::SubjectDigest)),
        )
        .and_where(
            Expr::col(("subject", manifest::Column::RepositoryId))
                .equals((manifest::Entity, manifest::Column::RepositoryId)),
        )
        .to_owned();
    Condition::all()
        .add(manifest::Column::Id.not_in_subquery(tagged))
        .add(Expr::exists(child).not())
        .add(Expr::exists(subject_present).not())
}

impl Registry {
    /// Up to `limit` garbage blobs with ids above `after`, in id order.
    ///
    /// # Errors
    /// Database failures.
    pub async fn gc_blob_candidates(
        &self,
        after: i64,
        cutoff: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<BlobCandidate>, RegistryError> {
        let rows: Vec<(i64, String, i64)> = blob::Entity::find()
            .select_only()
            .column(blob::Column::Id)
            .column(blob::Column::Digest)
            .column(blob::Column::Size)
            .filter(blob::Column::Id.gt(after))
            .filter(stale(
                blob::Column::TouchedAt,
                blob::Column::CreatedAt,
                cutoff,
            ))
            .filter(unreferenced_blob())
            .order_by_asc(blob::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, digest, size)| BlobCandidate { id, digest, size })
            .collect())
    }

    /// Deletes blob `id` (row, repository links, project charges and content) if it is still
    /// garbage. Returns whether it was deleted.
    ///
    /// # Errors
    /// Storage or database failures; nothing is deleted then.
    pub async fn gc_delete_blob(
        &self,
        candidate: &BlobCandidate,
        cutoff: DateTime<Utc>,
    ) -> Result<bool, RegistryError> {
        let deleted = self
            .gc_delete_blobs(std::slice::from_ref(candidate), cutoff)
            .await?;
        Ok(!deleted.is_empty())
    }

    /// Deletes every blob of `candidates` that is still garbage, [`DELETE_CHUNK`] blobs per
    /// transaction: the same re-check under the rows' locks as [`Registry::gc_delete_blob`],
    /// with one commit per chunk instead of one per blob. Returns the ids deleted.
    ///
    /// # Errors
    /// Storage or database failures; the chunk being deleted is then left as it was.
    pub async fn gc_delete_blobs(
        &self,
        candidates: &[BlobCandidate],
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<i64>, RegistryError> {
        let db = self.db.clone();
        let store = self.store.clone();
        let candidates = candidates.to_vec();
        // The deletion runs in its own task: a caller that gives up (a job abandoned at its
        // timeout) must not cut it between a file's removal and the commit.
        let task = tokio::spawn(async move {
            let mut deleted = Vec::new();
            for chunk in candidates.chunks(DELETE_CHUNK) {
                deleted.extend(delete_blobs(&db, store.as_ref(), chunk, cutoff).await?);
            }
            Ok(deleted)
        });
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only a runtime shutting down cancels the task, like a crash (see the crash window
            // in docs/ARCHITECTURE.md); the next run looks at the rows again.
            Err(_) => Ok(Vec::new()),
        }
    }

    /// Up to `limit` untagged manifests with ids above `after` not touched since `cutoff`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn gc_untagged_candidates(
        &self,
        after: i64,
        cutoff: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<ManifestCandidate>, RegistryError> {
        let rows: Vec<(i64, i64, String, i64)> = manifest::Entity::find()
            .select_only()
            .column(manifest::Column::Id)
            .column(manifest::Column::RepositoryId)
            .column(manifest::Column::Digest)
            .column(manifest::Column::Size)
            .filter(manifest::Column::Id.gt(after))
            .filter(stale(
                manifest::Column::TouchedAt,
                manifest::Column::CreatedAt,
                cutoff,
            ))
            .filter(untagged_manifest())
            .order_by_asc(manifest::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, repository_id, digest, size)| ManifestCandidate {
                id,
                repository_id,
                digest,
                size,
            })
            .collect())
    }

    /// Deletes an untagged manifest if it still is one and was not touched since `cutoff`,
    /// releasing its project's charges. Returns whether it was deleted.
    ///
    /// # Errors
    /// Database failures; nothing is deleted then.
    pub async fn gc_delete_manifest(
        &self,
        candidate: &ManifestCandidate,
        cutoff: DateTime<Utc>,
    ) -> Result<bool, RegistryError> {
        let txn = crate::db::begin_write(&self.db).await?;
        let locked = manifest::Entity::update_many()
            .col_expr(manifest::Column::Size, Expr::col(manifest::Column::Size))
            .filter(manifest::Column::Id.eq(candidate.id))
            .filter(stale(
                manifest::Column::TouchedAt,
                manifest::Column::CreatedAt,
                cutoff,
            ))
            .filter(untagged_manifest())
            .exec(&txn)
            .await?;
        if locked.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(false);
        }
        let Some(row) = manifest::Entity::find_by_id(candidate.id).one(&txn).await? else {
            txn.rollback().await?;
            return Ok(false);
        };
        let Some(repo) = repository::Entity::find_by_id(row.repository_id)
            .one(&txn)
            .await?
        else {
            txn.rollback().await?;
            return Ok(false);
        };
        super::manifests::delete_manifest_row(&txn, &repo, &row).await?;
        txn.commit().await?;
        Ok(true)
    }
}

async fn delete_blobs(
    db: &sea_orm::DatabaseConnection,
    store: &dyn crate::storage::BlobStore,
    candidates: &[BlobCandidate],
    cutoff: DateTime<Utc>,
) -> Result<Vec<i64>, RegistryError> {
    let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
    let still_garbage = || {
        Condition::all()
            .add(blob::Column::Id.is_in(ids.iter().copied()))
            .add(stale(
                blob::Column::TouchedAt,
                blob::Column::CreatedAt,
                cutoff,
            ))
            .add(unreferenced_blob())
    };
    let txn = crate::db::begin_write(db).await?;
    // The conditional update takes the locks (PostgreSQL: the rows'; SQLite: the write lock)
    // before the survivors are read, so nothing can reference or touch them until commit.
    let locked = blob::Entity::update_many()
        .col_expr(blob::Column::Size, Expr::col(blob::Column::Size))
        .filter(still_garbage())
        .exec(&txn)
        .await?;
    if locked.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(Vec::new());
    }
    lock_against_new_links(&txn, &ids).await?;
    let doomed: Vec<i64> = blob::Entity::find()
        .select_only()
        .column(blob::Column::Id)
        .filter(still_garbage())
        .into_tuple()
        .all(&txn)
        .await?;
    repository_blob::Entity::delete_many()
        .filter(repository_blob::Column::BlobId.is_in(doomed.iter().copied()))
        .exec(&txn)
        .await?;
    blob::Entity::delete_many()
        .filter(blob::Column::Id.is_in(doomed.iter().copied()))
        .exec(&txn)
        .await?;
    let doomed_set: std::collections::HashSet<i64> = doomed.iter().copied().collect();
    for candidate in candidates.iter().filter(|c| doomed_set.contains(&c.id)) {
        store.delete(&candidate.digest.parse::<Digest>()?).await?;
    }
    txn.commit().await?;
    Ok(doomed)
}

/// On PostgreSQL, the conditional update's row lock (`FOR NO KEY UPDATE`) does not stop a
/// concurrent push from inserting a repository link to the row (the link's foreign-key check
/// takes only `KEY SHARE`), so the deletion's link cleanup could miss it and the row's deletion
/// then fail on the foreign key. `FOR UPDATE` conflicts with that check: it waits for such a
/// push to commit, and the statements after it see its link. SQLite's write lock already
/// excludes every other writer.
async fn lock_against_new_links(
    txn: &sea_orm::DatabaseTransaction,
    ids: &[i64],
) -> Result<(), RegistryError> {
    use sea_orm::ConnectionTrait;
    if txn.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    let _: Vec<i64> = blob::Entity::find()
        .select_only()
        .column(blob::Column::Id)
        .filter(blob::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(blob::Column::Id)
        .lock_exclusive()
        .into_tuple()
        .all(txn)
        .await?;
    Ok(())
}
