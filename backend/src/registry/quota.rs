//! Per-project storage quotas.
//!
//! A project is charged once for each blob its manifests use (layers, configs and the manifest
//! content itself), when the manifest commits: blobs of failed or unfinished pushes never count.
//! Usage is the sum over the project's charge rows, so it cannot drift from them; deleting an
//! artifact releases the blobs no other manifest of the project uses, and the recalculation job
//! rebuilds the rows from the manifests.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{Registry, RegistryError};
use crate::db::entities::{
    blob, manifest, manifest_reference, project, project_blob, quota_event, repository,
};

/// Warn when usage crosses this share of the limit, in percent.
pub const WARNING_PERCENT: i64 = 85;

const IN_BATCH: usize = 500;

/// Usage before and after a charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    pub before: i64,
    pub after: i64,
    pub limit: i64,
}

/// Bytes charged to project `project_id`.
///
/// # Errors
/// Database failures.
pub async fn usage(db: &impl ConnectionTrait, project_id: i64) -> Result<i64, RegistryError> {
    let query = Query::select()
        .expr_as(Expr::col((blob::Entity, blob::Column::Size)).sum(), "used")
        .from(project_blob::Entity)
        .inner_join(
            blob::Entity,
            Expr::col((blob::Entity, blob::Column::Id))
                .equals((project_blob::Entity, project_blob::Column::BlobId)),
        )
        .and_where(
            Expr::col((project_blob::Entity, project_blob::Column::ProjectId)).eq(project_id),
        )
        .to_owned();
    let Some(row) = db.query_one(&query).await? else {
        return Ok(0);
    };
    // SUM is NULL without rows; PostgreSQL returns NUMERIC for a BIGINT sum, SQLite an integer.
    if let Ok(Some(v)) = row.try_get::<Option<i64>>("", "used") {
        return Ok(v);
    }
    if let Ok(Some(v)) = row.try_get::<Option<sea_orm::prelude::Decimal>>("", "used") {
        return Ok(i64::try_from(v).unwrap_or(i64::MAX));
    }
    Ok(0)
}

/// Records a quota event for webhooks.
///
/// # Errors
/// Database failures.
pub async fn record_event(
    db: &impl ConnectionTrait,
    project_id: i64,
    kind: &str,
    used: i64,
    limit: i64,
    message: String,
) -> Result<(), RegistryError> {
    quota_event::Entity::insert(quota_event::ActiveModel {
        project_id: Set(project_id),
        kind: Set(kind.to_owned()),
        used_bytes: Set(used),
        limit_bytes: Set(limit),
        message: Set(message),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Charges project `project_id` for the blobs `digests` it is not charged for yet, refusing
/// with [`RegistryError::QuotaExceeded`] when that would pass the limit. Returns the usage
/// before and after when it charged bytes under a limit; `None` when nothing was new or the
/// project has no limit, since the usage is then not read (a sum over the project's blobs, in
/// the transaction of every manifest push).
///
/// # Errors
/// The quota is exceeded; database failures.
pub async fn charge(
    db: &impl ConnectionTrait,
    project: &project::Model,
    digests: &[String],
) -> Result<Option<Charge>, RegistryError> {
    let mut sizes: HashMap<i64, i64> = HashMap::new();
    for batch in digests.chunks(IN_BATCH) {
        let rows: Vec<(i64, i64)> = blob::Entity::find()
            .select_only()
            .column(blob::Column::Id)
            .column(blob::Column::Size)
            .filter(blob::Column::Digest.is_in(batch.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        sizes.extend(rows);
    }
    let ids: Vec<i64> = sizes.keys().copied().collect();
    let mut charged: HashSet<i64> = HashSet::new();
    for batch in ids.chunks(IN_BATCH) {
        let rows: Vec<i64> = project_blob::Entity::find()
            .select_only()
            .column(project_blob::Column::BlobId)
            .filter(project_blob::Column::ProjectId.eq(project.id))
            .filter(project_blob::Column::BlobId.is_in(batch.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        charged.extend(rows);
    }
    let new: Vec<i64> = ids.into_iter().filter(|id| !charged.contains(id)).collect();
    let needed: i64 = new.iter().map(|id| sizes[id]).sum();
    let limit = project.storage_limit;
    let charge = if needed > 0 && limit >= 0 {
        let before = usage(db, project.id).await?;
        if before + needed > limit {
            return Err(RegistryError::QuotaExceeded {
                project: project.name.clone(),
                limit,
                used: before,
                needed,
            });
        }
        Some(Charge {
            before,
            after: before + needed,
            limit,
        })
    } else {
        None
    };
    let now = Utc::now();
    let rows: Vec<project_blob::ActiveModel> = new
        .into_iter()
        .map(|blob_id| project_blob::ActiveModel {
            project_id: Set(project.id),
            blob_id: Set(blob_id),
            created_at: Set(now),
        })
        .collect();
    for batch in rows.chunks(IN_BATCH) {
        project_blob::Entity::insert_many(batch.to_vec())
            .on_conflict_do_nothing()
            .exec(db)
            .await?;
    }
    Ok(charge)
}

/// Of `digests`, those still used by some manifest of project `project_id`.
async fn still_used(
    db: &impl ConnectionTrait,
    project_id: i64,
    digests: &[String],
) -> Result<HashSet<String>, RegistryError> {
    let mut used = HashSet::new();
    for batch in digests.chunks(IN_BATCH) {
        let referenced = Query::select()
            .column((
                manifest_reference::Entity,
                manifest_reference::Column::Digest,
            ))
            .from(manifest_reference::Entity)
            .inner_join(
                manifest::Entity,
                Expr::col((manifest::Entity, manifest::Column::Id)).equals((
                    manifest_reference::Entity,
                    manifest_reference::Column::ManifestId,
                )),
            )
            .inner_join(
                repository::Entity,
                Expr::col((repository::Entity, repository::Column::Id))
                    .equals((manifest::Entity, manifest::Column::RepositoryId)),
            )
            .and_where(
                Expr::col((repository::Entity, repository::Column::ProjectId)).eq(project_id),
            )
            .and_where(
                Expr::col((
                    manifest_reference::Entity,
                    manifest_reference::Column::Digest,
                ))
                .is_in(batch.iter().cloned()),
            )
            .to_owned();
        let contents = Query::select()
            .column((manifest::Entity, manifest::Column::Digest))
            .from(manifest::Entity)
            .inner_join(
                repository::Entity,
                Expr::col((repository::Entity, repository::Column::Id))
                    .equals((manifest::Entity, manifest::Column::RepositoryId)),
            )
            .and_where(
                Expr::col((repository::Entity, repository::Column::ProjectId)).eq(project_id),
            )
            .and_where(
                Expr::col((manifest::Entity, manifest::Column::Digest))
                    .is_in(batch.iter().cloned()),
            )
            .to_owned();
        for query in [referenced, contents] {
            for row in db.query_all(&query).await? {
                used.insert(row.try_get::<String>("", "digest")?);
            }
        }
    }
    Ok(used)
}

/// Releases the charges for `digests` that no manifest of project `project_id` uses anymore.
///
/// # Errors
/// Database failures.
pub async fn release(
    db: &impl ConnectionTrait,
    project_id: i64,
    digests: &[String],
) -> Result<(), RegistryError> {
    let used = still_used(db, project_id, digests).await?;
    let free: Vec<String> = digests
        .iter()
        .filter(|d| !used.contains(*d))
        .cloned()
        .collect();
    for batch in free.chunks(IN_BATCH) {
        let ids = Query::select()
            .column(blob::Column::Id)
            .from(blob::Entity)
            .and_where(blob::Column::Digest.is_in(batch.iter().cloned()))
            .to_owned();
        project_blob::Entity::delete_many()
            .filter(project_blob::Column::ProjectId.eq(project_id))
            .filter(project_blob::Column::BlobId.in_subquery(ids))
            .exec(db)
            .await?;
    }
    Ok(())
}

impl Registry {
    /// Records a warning when a charge moved usage across [`WARNING_PERCENT`] of the limit.
    pub(crate) async fn warn_if_near_limit(&self, project: &project::Model, charge: Charge) {
        let threshold = charge.limit.saturating_mul(WARNING_PERCENT) / 100;
        if charge.limit <= 0 || charge.before >= threshold || charge.after < threshold {
            return;
        }
        let message = format!(
            "project {} uses {} of its {} bytes quota ({}% or more)",
            project.name, charge.after, charge.limit, WARNING_PERCENT
        );
        if let Err(e) = record_event(
            &self.db,
            project.id,
            "warning",
            charge.after,
            charge.limit,
            message,
        )
        .await
        {
            tracing::warn!(error = %e, project.name = %project.name, "recording a quota warning failed");
        }
    }

    /// Rebuilds project `project_id`'s charge rows from its manifests; returns the usage before
    /// and after.
    ///
    /// # Errors
    /// Database failures.
    pub async fn recalculate_quota(&self, project_id: i64) -> Result<(i64, i64), RegistryError> {
        let txn = crate::db::begin_write(&self.db).await?;
        let before = usage(&txn, project_id).await?;
        let repositories = Query::select()
            .column(repository::Column::Id)
            .from(repository::Entity)
            .and_where(repository::Column::ProjectId.eq(project_id))
            .to_owned();
        let manifests = Query::select()
            .column(manifest::Column::Id)
            .from(manifest::Entity)
            .and_where(manifest::Column::RepositoryId.in_subquery(repositories.clone()))
            .to_owned();
        let referenced = Query::select()
            .column(manifest_reference::Column::Digest)
            .from(manifest_reference::Entity)
            .and_where(manifest_reference::Column::ManifestId.in_subquery(manifests))
            .to_owned();
        let contents = Query::select()
            .column(manifest::Column::Digest)
            .from(manifest::Entity)
            .and_where(manifest::Column::RepositoryId.in_subquery(repositories))
            .to_owned();
        let mut wanted: HashSet<i64> = HashSet::new();
        for sub in [referenced, contents] {
            let ids: Vec<i64> = blob::Entity::find()
                .select_only()
                .column(blob::Column::Id)
                .filter(blob::Column::Digest.in_subquery(sub))
                .into_tuple()
                .all(&txn)
                .await?;
            wanted.extend(ids);
        }
        let existing: HashSet<i64> = project_blob::Entity::find()
            .select_only()
            .column(project_blob::Column::BlobId)
            .filter(project_blob::Column::ProjectId.eq(project_id))
            .into_tuple::<i64>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let stale: Vec<i64> = existing.difference(&wanted).copied().collect();
        for batch in stale.chunks(IN_BATCH) {
            project_blob::Entity::delete_many()
                .filter(project_blob::Column::ProjectId.eq(project_id))
                .filter(project_blob::Column::BlobId.is_in(batch.iter().copied()))
                .exec(&txn)
                .await?;
        }
        let now = Utc::now();
        let missing: Vec<project_blob::ActiveModel> = wanted
            .difference(&existing)
            .map(|&blob_id| project_blob::ActiveModel {
                project_id: Set(project_id),
                blob_id: Set(blob_id),
                created_at: Set(now),
            })
            .collect();
        for batch in missing.chunks(IN_BATCH) {
            project_blob::Entity::insert_many(batch.to_vec())
                .on_conflict_do_nothing()
                .exec(&txn)
                .await?;
        }
        let after = usage(&txn, project_id).await?;
        txn.commit().await?;
        Ok((before, after))
    }
}
