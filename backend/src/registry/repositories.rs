//! Repository rows: found by name, created on first content, listed for tags and the catalog.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Registry, RegistryError};
use crate::db::entities::{manifest, project, repository, tag};
use crate::names;

impl Registry {
    /// The repository named `name`, if it exists.
    ///
    /// # Errors
    /// Database failures.
    pub async fn find_repository(
        &self,
        name: &str,
    ) -> Result<Option<repository::Model>, RegistryError> {
        Ok(repository::Entity::find()
            .filter(repository::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    /// The repository named `name`, or [`RegistryError::NameUnknown`].
    ///
    /// # Errors
    /// Unknown repository or database failures.
    pub async fn repository(&self, name: &str) -> Result<repository::Model, RegistryError> {
        self.find_repository(name)
            .await?
            .ok_or_else(|| RegistryError::NameUnknown(name.to_owned()))
    }

    /// The repository named `name`, created in its project if needed.
    ///
    /// # Errors
    /// [`RegistryError::ProjectUnknown`] when the project does not exist; database failures.
    pub async fn ensure_repository(&self, name: &str) -> Result<repository::Model, RegistryError> {
        if let Some(found) = self.find_repository(name).await? {
            return Ok(found);
        }
        let project_name = names::project_of(name);
        let project = project::Entity::find()
            .filter(project::Column::Name.eq(project_name))
            .one(&self.db)
            .await?
            .ok_or_else(|| RegistryError::ProjectUnknown(project_name.to_owned()))?;
        let now = Utc::now();
        let row = repository::ActiveModel {
            project_id: Set(project.id),
            name: Set(name.to_owned()),
            description: Set(String::new()),
            pull_count: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        // A concurrent push may create the same repository: ignore the conflict and re-read.
        repository::Entity::insert(row)
            .on_conflict_do_nothing_on([repository::Column::Name])
            .exec(&self.db)
            .await?;
        self.repository(name).await
    }

    /// Up to `limit` tag names of a repository after `last`, in byte order.
    ///
    /// # Errors
    /// Database failures.
    pub async fn list_tags(
        &self,
        repository_id: i64,
        last: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<String>, RegistryError> {
        let mut query = tag::Entity::find()
            .select_only()
            .column(tag::Column::Name)
            .filter(tag::Column::RepositoryId.eq(repository_id))
            .order_by_asc(tag::Column::Name);
        if let Some(last) = last {
            query = query.filter(tag::Column::Name.gt(last));
        }
        if let Some(limit) = limit {
            query = query.limit(limit);
        }
        Ok(query.into_tuple::<String>().all(&self.db).await?)
    }

    /// Up to `limit` repository names after `last` in byte order, within `projects` (all
    /// projects when `None`).
    ///
    /// # Errors
    /// Database failures.
    pub async fn list_repositories(
        &self,
        projects: Option<&[i64]>,
        last: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<String>, RegistryError> {
        // Only repositories holding at least one manifest are listed: blobs of an unfinished
        // push do not make a repository appear.
        let with_manifests = Query::select()
            .column(manifest::Column::RepositoryId)
            .from(manifest::Entity)
            .to_owned();
        let mut query = repository::Entity::find()
            .select_only()
            .column(repository::Column::Name)
            .filter(repository::Column::Id.in_subquery(with_manifests))
            .order_by_asc(repository::Column::Name);
        if let Some(projects) = projects {
            query = query.filter(repository::Column::ProjectId.is_in(projects.iter().copied()));
        }
        if let Some(last) = last {
            query = query.filter(repository::Column::Name.gt(last));
        }
        if let Some(limit) = limit {
            query = query.limit(limit);
        }
        Ok(query.into_tuple::<String>().all(&self.db).await?)
    }
}
