//! Blobs as repositories see them: a blob is visible in a repository once linked to it.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{Registry, RegistryError};
use crate::db::entities::{blob, repository, repository_blob};
use crate::digest::Digest;

/// A blob visible in a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobInfo {
    pub blob_id: i64,
    pub size: u64,
}

/// Id and size of blob `digest` for each repository link it has; callers add which repositories.
fn linked_blob(digest: &Digest) -> SelectStatement {
    Query::select()
        .column((blob::Entity, blob::Column::Id))
        .column((blob::Entity, blob::Column::Size))
        .from(blob::Entity)
        .inner_join(
            repository_blob::Entity,
            Expr::col((repository_blob::Entity, repository_blob::Column::BlobId))
                .equals((blob::Entity, blob::Column::Id)),
        )
        .inner_join(
            repository::Entity,
            Expr::col((repository::Entity, repository::Column::Id)).equals((
                repository_blob::Entity,
                repository_blob::Column::RepositoryId,
            )),
        )
        .and_where(Expr::col((blob::Entity, blob::Column::Digest)).eq(digest.to_string()))
        .to_owned()
}

impl Registry {
    /// The blob `digest` as linked to repository `name`, if it is.
    ///
    /// # Errors
    /// Database failures.
    pub async fn blob_in_repository(
        &self,
        name: &str,
        digest: &Digest,
    ) -> Result<Option<BlobInfo>, RegistryError> {
        let query = linked_blob(digest)
            .and_where(Expr::col((repository::Entity, repository::Column::Name)).eq(name))
            .to_owned();
        let Some(row) = self.db.query_one(&query).await? else {
            return Ok(None);
        };
        let blob_id: i64 = row.try_get("", "id")?;
        let size: i64 = row.try_get("", "size")?;
        Ok(Some(BlobInfo {
            blob_id,
            size: u64::try_from(size).unwrap_or(0),
        }))
    }

    /// Records (or refreshes) the row of blob `digest`, marking it used now, without making it
    /// visible in any repository; returns its id. Pushes call it before writing content:
    /// garbage collection spares recently touched rows.
    ///
    /// # Errors
    /// Database failures.
    pub(crate) async fn touch_blob(
        &self,
        digest: &Digest,
        size: u64,
    ) -> Result<i64, RegistryError> {
        let now = Utc::now();
        // Touching an existing row tells garbage collection the blob is in use again; either
        // way the row's id comes back in the same statement.
        let upsert = Query::insert()
            .into_table(blob::Entity)
            .columns([
                blob::Column::Digest,
                blob::Column::Size,
                blob::Column::CreatedAt,
                blob::Column::TouchedAt,
            ])
            .values([
                digest.to_string().into(),
                (size as i64).into(),
                now.into(),
                Some(now).into(),
            ])
            .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?
            .on_conflict(
                OnConflict::column(blob::Column::Digest)
                    .update_column(blob::Column::TouchedAt)
                    .to_owned(),
            )
            .returning_col(blob::Column::Id)
            .to_owned();
        let row = self
            .db
            .query_one(&upsert)
            .await?
            .ok_or_else(|| RegistryError::BlobUnknown(digest.clone()))?;
        Ok(row.try_get("", "id")?)
    }

    /// Records a blob whose content is already stored and links it to `repository_id`, marking
    /// it used now. Idempotent.
    ///
    /// # Errors
    /// Database failures.
    pub async fn link_blob(
        &self,
        repository_id: i64,
        digest: &Digest,
        size: u64,
    ) -> Result<i64, RegistryError> {
        let blob_id = self.touch_blob(digest, size).await?;
        self.link_stored_blob(repository_id, blob_id).await?;
        Ok(blob_id)
    }

    /// Makes blob `blob_id`, whose content is stored, visible in repository `repository_id`.
    ///
    /// # Errors
    /// Database failures.
    pub(crate) async fn link_stored_blob(
        &self,
        repository_id: i64,
        blob_id: i64,
    ) -> Result<(), RegistryError> {
        repository_blob::Entity::insert(repository_blob::ActiveModel {
            repository_id: Set(repository_id),
            blob_id: Set(blob_id),
            created_at: Set(Utc::now()),
        })
        .on_conflict_do_nothing()
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// Links blob `digest` from repository `from` into repository `to`. Returns `false` (and
    /// changes nothing) when `from` does not hold the blob.
    ///
    /// # Errors
    /// [`RegistryError::ProjectUnknown`] when `to`'s project does not exist; database failures.
    pub async fn mount_blob(
        &self,
        from: &str,
        to: &str,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        let Some(info) = self.blob_in_repository(from, digest).await? else {
            return Ok(false);
        };
        if self.store.stat(digest).await?.is_none() {
            return Ok(false);
        }
        let target = self.ensure_repository(to).await?;
        self.link_blob(target.id, digest, info.size).await?;
        // Garbage collection may have removed the content between the check above and the
        // touch in `link_blob`; once touched it stays, so checking again is conclusive.
        if self.store.stat(digest).await?.is_none() {
            self.unlink(target.id, info.blob_id).await?;
            return Ok(false);
        }
        Ok(true)
    }

    /// Links blob `digest` into repository `to` from any repository of the same project that
    /// holds it. Returns `false` (and changes nothing) when none does.
    ///
    /// # Errors
    /// [`RegistryError::ProjectUnknown`] when `to`'s project does not exist; database failures.
    pub async fn mount_blob_from_project(
        &self,
        to: &str,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        let target = self.ensure_repository(to).await?;
        let query = linked_blob(digest)
            .and_where(
                Expr::col((repository::Entity, repository::Column::ProjectId))
                    .eq(target.project_id),
            )
            .limit(1)
            .to_owned();
        let Some(row) = self.db.query_one(&query).await? else {
            return Ok(false);
        };
        let size: i64 = row.try_get("", "size")?;
        if self.store.stat(digest).await?.is_none() {
            return Ok(false);
        }
        self.link_blob(target.id, digest, u64::try_from(size).unwrap_or(0))
            .await?;
        Ok(true)
    }

    /// Removes blob `digest` from repository `name`. The content itself stays until garbage
    /// collection finds it unreferenced.
    ///
    /// # Errors
    /// [`RegistryError::BlobUnknown`] when the repository does not hold it; database failures.
    pub async fn unlink_blob(&self, name: &str, digest: &Digest) -> Result<(), RegistryError> {
        let info = self
            .blob_in_repository(name, digest)
            .await?
            .ok_or_else(|| RegistryError::BlobUnknown(digest.clone()))?;
        let repository = self.repository(name).await?;
        self.unlink(repository.id, info.blob_id).await
    }

    pub(crate) async fn unlink(
        &self,
        repository_id: i64,
        blob_id: i64,
    ) -> Result<(), RegistryError> {
        repository_blob::Entity::delete_many()
            .filter(repository_blob::Column::RepositoryId.eq(repository_id))
            .filter(repository_blob::Column::BlobId.eq(blob_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
