//! Manifests and tags: push with validation, pull by tag or digest, delete, referrers.

use std::collections::HashSet;

use bytes::Bytes;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, FromQueryResult, JoinType,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationDef,
};
use serde_json::{Map, Value};

use super::media::{ParsedManifest, Reference, parse_manifest};
use super::resolutions::Resolution;
use super::{Registry, RegistryError, quota};
use crate::db::entities::{
    blob, manifest, manifest_reference, project, proxy_project, repository, repository_blob, tag,
};
use crate::digest::{Algorithm, Digest};
use crate::names;

/// How many digests one `IN (...)` query checks at a time.
const IN_BATCH: usize = 500;

/// A manifest push.
#[derive(Debug)]
pub struct ManifestPut<'a> {
    pub repository: &'a str,
    /// The tag or digest in the URL.
    pub reference: &'a str,
    /// Extra tags from `?tag=` parameters.
    pub tags: Vec<String>,
    pub content_type: Option<&'a str>,
    pub body: Bytes,
}

/// The result of a manifest push.
#[derive(Debug)]
pub struct ManifestStored {
    pub digest: Digest,
    pub subject: Option<Digest>,
}

/// A manifest read back for a pull.
#[derive(Debug)]
pub struct StoredManifest {
    pub digest: Digest,
    pub media_type: String,
    pub content: Bytes,
    /// The project of the manifest's repository.
    pub project_id: i64,
    /// Whether that project is a pull-through cache, whose tags are revalidated upstream.
    pub proxied: bool,
}

/// A manifest found in its repository.
struct Resolved {
    manifest: manifest::Model,
    repository: repository::Model,
    /// Whether the repository's project is a pull-through cache.
    proxied: bool,
}

/// The column of [`Resolved::proxied`].
const PROXIED: &str = "proxied";

/// One entry of a referrers response.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Referrer {
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String, Value>>,
}

/// A validated manifest on its way into the database.
#[derive(Clone, Copy)]
struct Commit<'a> {
    digest: &'a Digest,
    parsed: &'a ParsedManifest,
    size: usize,
    tags: &'a [String],
    /// Blobs and children need not be in the repository.
    sparse: bool,
    /// The manifest's row, if the repository held it when the push began.
    known: Option<i64>,
}

/// A reference in a URL: a tag or a digest.
enum Target {
    Tag(String),
    Digest(Digest),
}

fn target(reference: &str) -> Result<Target, RegistryError> {
    if reference.contains(':') {
        Ok(Target::Digest(reference.parse()?))
    } else if names::is_valid_tag(reference) {
        Ok(Target::Tag(reference.to_owned()))
    } else {
        Err(RegistryError::TagInvalid(reference.to_owned()))
    }
}

impl Registry {
    /// Validates and stores a manifest, then points its tags at it.
    ///
    /// # Errors
    /// Invalid name, tag, digest or manifest; referenced blobs or children missing from the
    /// repository; storage or database failures. Nothing is stored when validation fails.
    pub async fn put_manifest(
        &self,
        put: ManifestPut<'_>,
    ) -> Result<ManifestStored, RegistryError> {
        self.put_manifest_with(put, self.allow_sparse_manifests)
            .await
    }

    /// [`Registry::put_manifest`]; with `sparse`, the manifest may name blobs and children the
    /// repository does not hold (a proxy cache records manifests before their blobs).
    pub(crate) async fn put_manifest_with(
        &self,
        put: ManifestPut<'_>,
        sparse: bool,
    ) -> Result<ManifestStored, RegistryError> {
        if put.body.len() > self.max_manifest_bytes {
            return Err(RegistryError::ManifestTooLarge {
                size: put.body.len(),
                limit: self.max_manifest_bytes,
            });
        }
        let mut tags = put.tags.clone();
        let digest = match target(put.reference)? {
            Target::Digest(expected) => {
                let computed = Digest::of(expected.algorithm(), &put.body);
                if computed != expected {
                    return Err(RegistryError::DigestMismatch { expected });
                }
                computed
            }
            Target::Tag(tag) => {
                tags.push(tag);
                Digest::of(Algorithm::Sha256, &put.body)
            }
        };
        if let Some(bad) = tags.iter().find(|t| !names::is_valid_tag(t)) {
            return Err(RegistryError::TagInvalid(bad.clone()));
        }
        let parsed = parse_manifest(&put.body, put.content_type)?;
        let repository = self.ensure_repository(put.repository).await?;
        if !sparse {
            self.check_references(repository.id, &parsed).await?;
        }
        let known = self
            .manifest_row(repository.id, &digest)
            .await?
            .map(|m| m.id);
        let moved = self.tags_moving_away(repository.id, &tags, known).await?;
        self.refuse_immutable(&self.db, &repository, &moved).await?;

        // A manifest the repository already holds (a push that only tags it) is stored already.
        // Otherwise the content's blob row is touched before the file is written: garbage
        // collection spares recently touched rows, so it cannot remove the file between this
        // write and the commit. Either way the commit touches the row again and fails if
        // garbage collection removed it meanwhile.
        if known.is_none() {
            self.touch_blob(&digest, put.body.len() as u64).await?;
            self.store.put(&digest, put.body.clone()).await?;
        }
        let commit = Commit {
            digest: &digest,
            parsed: &parsed,
            size: put.body.len(),
            tags: &tags,
            sparse,
            known,
        };
        self.record_manifest(&repository, &commit).await?;
        Ok(ManifestStored {
            digest,
            subject: parsed.subject,
        })
    }

    /// Of `tags`, those that exist in the repository and point at another manifest than
    /// `same` (the pushed manifest's row, if the repository holds it).
    async fn tags_moving_away(
        &self,
        repository_id: i64,
        tags: &[String],
        same: Option<i64>,
    ) -> Result<Vec<String>, RegistryError> {
        if tags.is_empty() {
            return Ok(Vec::new());
        }
        let existing = tag::Entity::find()
            .filter(tag::Column::RepositoryId.eq(repository_id))
            .filter(tag::Column::Name.is_in(tags.iter().cloned()))
            .all(&self.db)
            .await?;
        Ok(existing
            .into_iter()
            .filter(|t| Some(t.manifest_id) != same)
            .map(|t| t.name)
            .collect())
    }

    async fn check_references(
        &self,
        repository_id: i64,
        parsed: &ParsedManifest,
    ) -> Result<(), RegistryError> {
        let required: Vec<&Reference> = parsed.blobs.iter().filter(|r| r.must_exist).collect();
        for batch in required.chunks(IN_BATCH) {
            let wanted: Vec<String> = batch.iter().map(|r| r.digest.to_string()).collect();
            let query = Query::select()
                .column((blob::Entity, blob::Column::Digest))
                .from(blob::Entity)
                .inner_join(
                    repository_blob::Entity,
                    Expr::col((repository_blob::Entity, repository_blob::Column::BlobId))
                        .equals((blob::Entity, blob::Column::Id)),
                )
                .and_where(
                    Expr::col((
                        repository_blob::Entity,
                        repository_blob::Column::RepositoryId,
                    ))
                    .eq(repository_id),
                )
                .and_where(Expr::col((blob::Entity, blob::Column::Digest)).is_in(wanted))
                .to_owned();
            let found: HashSet<String> = self
                .db
                .query_all(&query)
                .await?
                .iter()
                .filter_map(|row| row.try_get::<String>("", "digest").ok())
                .collect();
            if let Some(missing) = batch
                .iter()
                .find(|r| !found.contains(&r.digest.to_string()))
            {
                return Err(RegistryError::ManifestBlobUnknown(missing.digest.clone()));
            }
        }
        for batch in parsed.children.chunks(IN_BATCH) {
            let wanted: Vec<String> = batch.iter().map(|r| r.digest.to_string()).collect();
            let found: HashSet<String> = manifest::Entity::find()
                .filter(manifest::Column::RepositoryId.eq(repository_id))
                .filter(manifest::Column::Digest.is_in(wanted))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|m| m.digest)
                .collect();
            if let Some(missing) = batch
                .iter()
                .find(|r| !found.contains(&r.digest.to_string()))
            {
                return Err(RegistryError::ManifestChildUnknown(missing.digest.clone()));
            }
        }
        Ok(())
    }

    /// Commits a manifest in one transaction: its row and references (once), the touch of
    /// every blob and child it uses (failing if garbage collection removed one meanwhile), the
    /// project's quota charge, and the tag moves. Returns the manifest's id.
    async fn record_manifest(
        &self,
        repository: &repository::Model,
        commit: &Commit<'_>,
    ) -> Result<i64, RegistryError> {
        let project = project::Entity::find_by_id(repository.project_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| RegistryError::NameUnknown(repository.name.clone()))?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self
                .record_manifest_once(repository, &project, commit)
                .await
            {
                Ok((id, charge)) => {
                    if let Some(charge) = charge {
                        self.warn_if_near_limit(&project, charge).await;
                    }
                    return Ok(id);
                }
                // A concurrent push of the same manifest inserted the row first: use it.
                Err(RegistryError::Database(err))
                    if attempts < 3 && crate::db::is_unique_violation(&err) => {}
                Err(err @ RegistryError::QuotaExceeded { .. }) => {
                    if let RegistryError::QuotaExceeded { used, limit, .. } = &err {
                        let recorded = quota::record_event(
                            &self.db,
                            project.id,
                            "exceeded",
                            *used,
                            *limit,
                            err.to_string(),
                        )
                        .await;
                        if let Err(e) = recorded {
                            tracing::warn!(error = %e, "recording a quota event failed");
                        }
                    }
                    return Err(err);
                }
                Err(err) => return Err(err),
            }
        }
    }

    async fn record_manifest_once(
        &self,
        repository: &repository::Model,
        project: &project::Model,
        commit: &Commit<'_>,
    ) -> Result<(i64, Option<quota::Charge>), RegistryError> {
        let Commit {
            digest,
            parsed,
            size,
            tags,
            sparse,
            known,
        } = *commit;
        let now = Utc::now();
        let txn = crate::db::begin_write(&self.db).await?;
        let touch = |id: i64| {
            manifest::Entity::update_many()
                .col_expr(manifest::Column::TouchedAt, Expr::value(now))
                .filter(manifest::Column::Id.eq(id))
                .filter(manifest::Column::RepositoryId.eq(repository.id))
                .filter(manifest::Column::Digest.eq(digest.to_string()))
                .exec(&txn)
        };
        // The row read before the transaction, if it is still there (one statement, where
        // finding it again and touching it would be two, both under the write lock).
        let still_known = match known {
            Some(id) if touch(id).await?.rows_affected == 1 => Some(id),
            _ => None,
        };
        let manifest_id = if let Some(id) = still_known {
            id
        } else if let Some(row) = manifest_row(&txn, repository.id, digest).await? {
            touch(row.id).await?;
            row.id
        } else {
            self.insert_manifest(&txn, repository.id, digest, parsed, size)
                .await?
        };

        let mut blobs: Vec<String> = parsed
            .blobs
            .iter()
            .filter(|r| r.must_exist)
            .map(|r| r.digest.to_string())
            .collect();
        blobs.push(digest.to_string());
        blobs.sort();
        blobs.dedup();
        for batch in blobs.chunks(IN_BATCH) {
            let touched = blob::Entity::update_many()
                .col_expr(blob::Column::TouchedAt, Expr::value(now))
                .filter(blob::Column::Digest.is_in(batch.iter().cloned()))
                .exec(&txn)
                .await?;
            // Sparse manifests may name content that was never pushed here.
            if !sparse && touched.rows_affected < batch.len() as u64 {
                let present: HashSet<String> = blob::Entity::find()
                    .select_only()
                    .column(blob::Column::Digest)
                    .filter(blob::Column::Digest.is_in(batch.iter().cloned()))
                    .into_tuple::<String>()
                    .all(&txn)
                    .await?
                    .into_iter()
                    .collect();
                let missing = batch.iter().find(|d| !present.contains(*d)).cloned();
                // Removed by garbage collection after the push checked it.
                let missing = missing.unwrap_or_default();
                return Err(RegistryError::ManifestBlobUnknown(missing.parse()?));
            }
        }
        let mut children: Vec<String> = parsed
            .children
            .iter()
            .map(|r| r.digest.to_string())
            .collect();
        children.sort();
        children.dedup();
        for batch in children.chunks(IN_BATCH) {
            let touched = manifest::Entity::update_many()
                .col_expr(manifest::Column::TouchedAt, Expr::value(now))
                .filter(manifest::Column::RepositoryId.eq(repository.id))
                .filter(manifest::Column::Digest.is_in(batch.iter().cloned()))
                .exec(&txn)
                .await?;
            // Sparse manifests may name content that was never pushed here.
            if !sparse && touched.rows_affected < batch.len() as u64 {
                let present: HashSet<String> = manifest::Entity::find()
                    .select_only()
                    .column(manifest::Column::Digest)
                    .filter(manifest::Column::RepositoryId.eq(repository.id))
                    .filter(manifest::Column::Digest.is_in(batch.iter().cloned()))
                    .into_tuple::<String>()
                    .all(&txn)
                    .await?
                    .into_iter()
                    .collect();
                let missing = batch.iter().find(|d| !present.contains(*d)).cloned();
                let missing = missing.unwrap_or_default();
                return Err(RegistryError::ManifestChildUnknown(missing.parse()?));
            }
        }

        let charge = quota::charge(&txn, project, &blobs).await?;
        for name in tags {
            point_tag(&txn, repository.id, name, manifest_id).await?;
        }
        txn.commit().await?;
        Ok((manifest_id, charge))
    }

    async fn insert_manifest(
        &self,
        txn: &DatabaseTransaction,
        repository_id: i64,
        digest: &Digest,
        parsed: &ParsedManifest,
        size: usize,
    ) -> Result<i64, RegistryError> {
        let now = Utc::now();
        let manifest_id = manifest::Entity::insert(manifest::ActiveModel {
            repository_id: Set(repository_id),
            digest: Set(digest.to_string()),
            media_type: Set(parsed.media_type.as_str().to_owned()),
            artifact_type: Set(parsed.artifact_type.clone()),
            size: Set(size as i64),
            subject_digest: Set(parsed.subject.as_ref().map(Digest::to_string)),
            annotations: Set(parsed
                .annotations
                .as_ref()
                .map(|a| Value::Object(a.clone()).to_string())),
            created_at: Set(now),
            pulled_at: Set(None),
            touched_at: Set(Some(now)),
            ..Default::default()
        })
        .exec(txn)
        .await?
        .last_insert_id;
        let mut seen = HashSet::new();
        let references: Vec<manifest_reference::ActiveModel> = parsed
            .blobs
            .iter()
            .map(|r| (r, "blob"))
            .chain(parsed.children.iter().map(|r| (r, "manifest")))
            .filter(|(r, _)| seen.insert(r.digest.to_string()))
            .map(|(r, kind)| manifest_reference::ActiveModel {
                manifest_id: Set(manifest_id),
                digest: Set(r.digest.to_string()),
                kind: Set(kind.to_owned()),
            })
            .collect();
        for batch in references.chunks(IN_BATCH) {
            manifest_reference::Entity::insert_many(batch.to_vec())
                .exec(txn)
                .await?;
        }
        Ok(manifest_id)
    }

    async fn manifest_row(
        &self,
        repository_id: i64,
        digest: &Digest,
    ) -> Result<Option<manifest::Model>, RegistryError> {
        manifest_row(&self.db, repository_id, digest).await
    }

    /// Resolves a tag or digest in repository `name` to its manifest row.
    pub(crate) async fn resolve(
        &self,
        name: &str,
        reference: &str,
    ) -> Result<manifest::Model, RegistryError> {
        Ok(self.resolve_in_repository(name, reference).await?.manifest)
    }

    /// Resolves a tag or digest in repository `name` to its manifest row and the repository's
    /// row, in one query (a pull by tag is the registry's most frequent request).
    async fn resolve_in_repository(
        &self,
        name: &str,
        reference: &str,
    ) -> Result<Resolved, RegistryError> {
        let target = match target(reference) {
            Ok(target) => target,
            Err(err) => {
                // An unknown repository is reported before a malformed reference.
                self.repository(name).await?;
                return Err(err);
            }
        };
        let in_repository: RelationDef = manifest::Entity::belongs_to(repository::Entity)
            .from(manifest::Column::RepositoryId)
            .to(repository::Column::Id)
            .into();
        let query = manifest::Entity::find()
            .join(JoinType::InnerJoin, in_repository)
            .filter(repository::Column::Name.eq(name));
        let query = match target {
            Target::Digest(digest) => query.filter(manifest::Column::Digest.eq(digest.to_string())),
            Target::Tag(tag_name) => {
                let tagged: RelationDef = tag::Entity::belongs_to(manifest::Entity)
                    .from(tag::Column::ManifestId)
                    .to(manifest::Column::Id)
                    .into();
                query
                    .join_rev(JoinType::InnerJoin, tagged)
                    .filter(
                        Expr::col((tag::Entity, tag::Column::RepositoryId))
                            .equals((repository::Entity, repository::Column::Id)),
                    )
                    .filter(tag::Column::Name.eq(tag_name))
            }
        };
        // Whether the project is a pull-through cache rides along, so that a pull from any
        // other project costs this one query.
        let proxied = Query::select()
            .expr(Expr::val(1))
            .from(proxy_project::Entity)
            .and_where(
                Expr::col((proxy_project::Entity, proxy_project::Column::ProjectId))
                    .equals((repository::Entity, repository::Column::ProjectId)),
            )
            .to_owned();
        let mut statement = query.select_also(repository::Entity).into_query();
        statement.expr_as(Expr::exists(proxied), PROXIED);
        let found = match self.db.query_one(&statement).await? {
            Some(row) => Some(Resolved {
                manifest: manifest::Model::from_query_result(&row, "A_")?,
                repository: repository::Model::from_query_result(&row, "B_")?,
                proxied: row.try_get::<bool>("", PROXIED)?,
            }),
            None => None,
        };
        match found {
            Some(resolved) => Ok(resolved),
            None => {
                self.repository(name).await?;
                Err(RegistryError::ManifestUnknown(reference.to_owned()))
            }
        }
    }

    /// Reads a manifest by tag or digest.
    ///
    /// # Errors
    /// Unknown repository or manifest, invalid reference, storage or database failures.
    pub async fn get_manifest(
        &self,
        name: &str,
        reference: &str,
    ) -> Result<StoredManifest, RegistryError> {
        let versions = self.resolutions.versions(&self.db).await?;
        let remembered = versions
            .as_ref()
            .and_then(|v| self.resolutions.get(v, name, reference));
        let (resolution, proxied) = match remembered {
            Some(resolution) => (resolution, false),
            None => {
                let Resolved {
                    manifest: row,
                    repository,
                    proxied,
                } = self.resolve_in_repository(name, reference).await?;
                let resolution = Resolution {
                    digest: row.digest.parse()?,
                    media_type: row.media_type,
                    project_id: repository.project_id,
                };
                if let Some(versions) = versions.as_ref().filter(|_| !proxied) {
                    self.resolutions.insert(
                        versions,
                        name,
                        reference,
                        repository.id,
                        resolution.clone(),
                    );
                }
                (resolution, proxied)
            }
        };
        let content = match self.manifests.get(&resolution.digest) {
            Some(content) => content,
            None => {
                let content = self.store.get(&resolution.digest).await?;
                self.manifests.insert(&resolution.digest, &content);
                content
            }
        };
        Ok(StoredManifest {
            digest: resolution.digest,
            media_type: resolution.media_type,
            content,
            project_id: resolution.project_id,
            proxied,
        })
    }

    /// Deletes a manifest by digest (with every tag pointing at it), or only the tag when
    /// `reference` is a tag. Tags protected by an immutability rule refuse both.
    ///
    /// # Errors
    /// Unknown repository, manifest or tag; an immutable tag; database failures.
    pub async fn delete_manifest(&self, name: &str, reference: &str) -> Result<(), RegistryError> {
        let repository = self.repository(name).await?;
        match target(reference)? {
            Target::Digest(digest) => {
                let row = self
                    .manifest_row(repository.id, &digest)
                    .await?
                    .ok_or_else(|| RegistryError::ManifestUnknown(reference.to_owned()))?;
                let tags: Vec<String> = tag::Entity::find()
                    .select_only()
                    .column(tag::Column::Name)
                    .filter(tag::Column::ManifestId.eq(row.id))
                    .into_tuple()
                    .all(&self.db)
                    .await?;
                self.refuse_immutable(&self.db, &repository, &tags).await?;
                self.delete_manifest_row(&repository, &row).await?;
            }
            Target::Tag(tag_name) => {
                self.refuse_immutable(&self.db, &repository, std::slice::from_ref(&tag_name))
                    .await?;
                let deleted = tag::Entity::delete_many()
                    .filter(tag::Column::RepositoryId.eq(repository.id))
                    .filter(tag::Column::Name.eq(&tag_name))
                    .exec(&self.db)
                    .await?;
                if deleted.rows_affected == 0 {
                    return Err(RegistryError::ManifestUnknown(tag_name));
                }
            }
        }
        Ok(())
    }

    async fn delete_manifest_row(
        &self,
        repository: &repository::Model,
        row: &manifest::Model,
    ) -> Result<(), RegistryError> {
        let txn = crate::db::begin_write(&self.db).await?;
        delete_manifest_row(&txn, repository, row).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The manifests of repository `name` whose subject is `subject`, optionally only those of
    /// one artifact type. An unknown repository has no referrers.
    ///
    /// # Errors
    /// Database failures.
    pub async fn referrers(
        &self,
        name: &str,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Referrer>, RegistryError> {
        let Some(repository) = self.find_repository(name).await? else {
            return Ok(Vec::new());
        };
        let mut query = manifest::Entity::find()
            .filter(manifest::Column::RepositoryId.eq(repository.id))
            .filter(manifest::Column::SubjectDigest.eq(subject.to_string()))
            .order_by_asc(manifest::Column::Id);
        if let Some(artifact_type) = artifact_type {
            query = query.filter(manifest::Column::ArtifactType.eq(artifact_type));
        }
        Ok(query
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| Referrer {
                media_type: m.media_type,
                digest: m.digest,
                size: m.size,
                artifact_type: m.artifact_type,
                annotations: m
                    .annotations
                    .and_then(|a| serde_json::from_str::<Map<String, Value>>(&a).ok()),
            })
            .collect())
    }
}

/// Points tag `name` at a manifest, creating or moving it.
/// The row of manifest `digest` in repository `repository_id`, if it holds it.
async fn manifest_row(
    db: &impl ConnectionTrait,
    repository_id: i64,
    digest: &Digest,
) -> Result<Option<manifest::Model>, RegistryError> {
    Ok(manifest::Entity::find()
        .filter(manifest::Column::RepositoryId.eq(repository_id))
        .filter(manifest::Column::Digest.eq(digest.to_string()))
        .one(db)
        .await?)
}

pub(super) async fn point_tag(
    db: &impl ConnectionTrait,
    repository_id: i64,
    name: &str,
    manifest_id: i64,
) -> Result<(), RegistryError> {
    let now = Utc::now();
    tag::Entity::insert(tag::ActiveModel {
        repository_id: Set(repository_id),
        name: Set(name.to_owned()),
        manifest_id: Set(manifest_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([tag::Column::RepositoryId, tag::Column::Name])
            .update_columns([tag::Column::ManifestId, tag::Column::UpdatedAt])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Deletes a manifest row (its tags and references go with it) and releases the project's
/// charges for content no other manifest of the project uses.
///
/// # Errors
/// Database failures.
pub(crate) async fn delete_manifest_row(
    txn: &DatabaseTransaction,
    repository: &repository::Model,
    row: &manifest::Model,
) -> Result<(), RegistryError> {
    let mut digests: Vec<String> = manifest_reference::Entity::find()
        .select_only()
        .column(manifest_reference::Column::Digest)
        .filter(manifest_reference::Column::ManifestId.eq(row.id))
        .filter(manifest_reference::Column::Kind.eq("blob"))
        .into_tuple()
        .all(txn)
        .await?;
    digests.push(row.digest.clone());
    // Tags and references go with the row (ON DELETE CASCADE).
    manifest::Entity::delete_by_id(row.id).exec(txn).await?;
    quota::release(txn, repository.project_id, &digests).await
}
