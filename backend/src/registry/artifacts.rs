//! Artifacts as the management API sees them: a manifest with its tags, index children,
//! accessories (signatures, SBOMs and other manifests attached through `subject` or the
//! `sha256-<hex>.sig` tag schema), additions derived from its config, and server-side copies.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ManifestPut, Registry, RegistryError};
use crate::db::entities::{manifest, manifest_reference, tag};
use crate::digest::Digest;

/// Which artifacts a listing includes by tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagFilter {
    Any,
    Tagged,
    Untagged,
    Named(Vec<String>),
}

/// A child of an index, with its platform.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct IndexChild {
    pub digest: String,
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    #[serde(default)]
    pub size: i64,
    pub platform: Option<Value>,
    pub annotations: Option<Map<String, Value>>,
    #[serde(default)]
    pub urls: Vec<String>,
}

/// An accessory of an artifact.
#[derive(Clone, Debug)]
pub struct Accessory {
    pub manifest: manifest::Model,
    /// Harbor's accessory type: `signature.cosign`, `signature.notation`, `sbom.harbor`, ...
    pub kind: &'static str,
}

/// The accessory type of an attached manifest, from its artifact type or tag suffix.
pub fn accessory_kind(artifact_type: Option<&str>, tag: Option<&str>) -> &'static str {
    match (
        artifact_type.unwrap_or(""),
        tag.and_then(|t| t.rsplit_once('.')).map(|(_, s)| s),
    ) {
        (t, _) if t.starts_with("application/vnd.dev.cosign") => "signature.cosign",
        (_, Some("sig")) => "signature.cosign",
        ("application/vnd.cncf.notary.signature", _) => "signature.notation",
        (t, _) if t.contains("sbom") || t.contains("spdx") || t.contains("cyclonedx") => {
            "sbom.harbor"
        }
        (_, Some("sbom")) => "sbom.harbor",
        (_, Some("att")) => "attestation.cosign",
        ("application/vnd.cncf.nydus.image.config.v1+json", _) => "accelerator.nydus",
        _ => "subject.accessory",
    }
}

/// The cosign tag schema: `sha256-<hex>.<suffix>` names an accessory of `sha256:<hex>`.
pub fn tag_schema_subject(tag: &str) -> Option<String> {
    let (stem, suffix) = tag.rsplit_once('.')?;
    if !matches!(suffix, "sig" | "att" | "sbom") {
        return None;
    }
    let (algorithm, hex) = stem.split_once('-')?;
    Some(format!("{algorithm}:{hex}"))
}

impl Registry {
    /// The condition selecting the artifacts listed in repository `repository_id`: manifests
    /// that are neither accessories nor untagged children of an index there.
    pub fn listed_artifacts(&self, repository_id: i64) -> Condition {
        let in_repository = Query::select()
            .column(manifest::Column::Id)
            .from(manifest::Entity)
            .and_where(manifest::Column::RepositoryId.eq(repository_id))
            .to_owned();
        let children = Query::select()
            .column(manifest_reference::Column::Digest)
            .from(manifest_reference::Entity)
            .and_where(manifest_reference::Column::Kind.eq("manifest"))
            .and_where(manifest_reference::Column::ManifestId.in_subquery(in_repository))
            .to_owned();
        let tagged = Query::select()
            .column(tag::Column::ManifestId)
            .from(tag::Entity)
            .to_owned();
        Condition::all()
            .add(manifest::Column::RepositoryId.eq(repository_id))
            .add(manifest::Column::SubjectDigest.is_null())
            .add(
                Condition::any()
                    .add(manifest::Column::Digest.not_in_subquery(children))
                    .add(manifest::Column::Id.in_subquery(tagged)),
            )
            .add(
                Expr::col(manifest::Column::Id)
                    .not_in_subquery(tag_schema_accessories(repository_id)),
            )
    }

    /// The condition of a tag filter on artifacts.
    pub fn tag_condition(&self, filter: &TagFilter) -> Condition {
        let tagged = |names: Option<&[String]>| {
            let mut q = Query::select()
                .column(tag::Column::ManifestId)
                .from(tag::Entity)
                .to_owned();
            if let Some(names) = names {
                q.and_where(tag::Column::Name.is_in(names.iter().cloned()));
            }
            q
        };
        match filter {
            TagFilter::Any => Condition::all(),
            TagFilter::Tagged => {
                Condition::all().add(manifest::Column::Id.in_subquery(tagged(None)))
            }
            TagFilter::Untagged => {
                Condition::all().add(manifest::Column::Id.not_in_subquery(tagged(None)))
            }
            TagFilter::Named(names) => {
                Condition::all().add(manifest::Column::Id.in_subquery(tagged(Some(names))))
            }
        }
    }

    /// The tags of each of `manifest_ids`, by manifest id, in name order.
    ///
    /// # Errors
    /// Database failures.
    pub async fn tags_of(
        &self,
        manifest_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<tag::Model>>, RegistryError> {
        let rows = tag::Entity::find()
            .filter(tag::Column::ManifestId.is_in(manifest_ids.iter().copied()))
            .order_by_asc(tag::Column::Name)
            .all(&self.db)
            .await?;
        let mut by_manifest: HashMap<i64, Vec<tag::Model>> = HashMap::new();
        for row in rows {
            by_manifest.entry(row.manifest_id).or_default().push(row);
        }
        Ok(by_manifest)
    }

    /// The stored content of a manifest row.
    ///
    /// # Errors
    /// A corrupt digest or a storage failure.
    pub async fn manifest_content(&self, row: &manifest::Model) -> Result<Bytes, RegistryError> {
        let digest: Digest = row.digest.parse()?;
        Ok(self.store.get(&digest).await?)
    }

    /// The children of an index, with platforms, as the index lists them.
    ///
    /// # Errors
    /// Storage failures; an index whose stored content is not JSON has no children.
    pub async fn index_children(
        &self,
        row: &manifest::Model,
    ) -> Result<Vec<IndexChild>, RegistryError> {
        if !row.media_type.contains("index") && !row.media_type.contains("manifest.list") {
            return Ok(Vec::new());
        }
        #[derive(Deserialize)]
        struct Index {
            #[serde(default)]
            manifests: Vec<IndexChild>,
        }
        let content = self.manifest_content(row).await?;
        Ok(serde_json::from_slice::<Index>(&content).map_or_else(|_| Vec::new(), |i| i.manifests))
    }

    /// The accessories of an artifact: manifests naming it as `subject`, and manifests tagged
    /// by the cosign tag schema after its digest.
    ///
    /// # Errors
    /// Database failures.
    pub async fn accessories(
        &self,
        repository_id: i64,
        digest: &str,
    ) -> Result<Vec<Accessory>, RegistryError> {
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        let by_subject = manifest::Entity::find()
            .filter(manifest::Column::RepositoryId.eq(repository_id))
            .filter(manifest::Column::SubjectDigest.eq(digest))
            .order_by_asc(manifest::Column::Id)
            .all(&self.db)
            .await?;
        for row in by_subject {
            seen.insert(row.id);
            let kind = accessory_kind(row.artifact_type.as_deref(), None);
            found.push(Accessory {
                manifest: row,
                kind,
            });
        }
        let prefix = digest.replacen(':', "-", 1);
        let schema_tags = tag::Entity::find()
            .filter(tag::Column::RepositoryId.eq(repository_id))
            .filter(tag::Column::Name.starts_with(format!("{prefix}.")))
            .all(&self.db)
            .await?;
        for schema_tag in schema_tags {
            if !seen.insert(schema_tag.manifest_id) {
                continue;
            }
            if let Some(row) = manifest::Entity::find_by_id(schema_tag.manifest_id)
                .one(&self.db)
                .await?
            {
                let kind = accessory_kind(row.artifact_type.as_deref(), Some(&schema_tag.name));
                found.push(Accessory {
                    manifest: row,
                    kind,
                });
            }
        }
        Ok(found)
    }

    /// The layers an image manifest lists, in order, with media type and size; `None` for
    /// manifests without layers (indexes, Docker schema 1).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn layers(&self, row: &manifest::Model) -> Result<Option<Value>, RegistryError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Layer {
            media_type: String,
            digest: String,
            size: i64,
        }
        #[derive(Deserialize)]
        struct Image {
            layers: Option<Vec<Layer>>,
        }
        let content = self.manifest_content(row).await?;
        let layers = serde_json::from_slice::<Image>(&content)
            .ok()
            .and_then(|i| i.layers);
        Ok(layers.map(|list| {
            Value::Array(
                list.into_iter()
                    .map(|l| {
                        serde_json::json!({
                            "media_type": l.media_type,
                            "digest": l.digest,
                            "size": l.size,
                        })
                    })
                    .collect(),
            )
        }))
    }

    /// The `history` of an image's config (Harbor's `build_history` addition); `None` for
    /// artifacts without an image config.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn build_history(
        &self,
        row: &manifest::Model,
    ) -> Result<Option<Value>, RegistryError> {
        #[derive(Deserialize)]
        struct Descriptor {
            digest: String,
        }
        #[derive(Deserialize)]
        struct Image {
            config: Option<Descriptor>,
        }
        let content = self.manifest_content(row).await?;
        let Some(config) = serde_json::from_slice::<Image>(&content)
            .ok()
            .and_then(|i| i.config)
        else {
            return Ok(None);
        };
        let Ok(digest) = config.digest.parse::<Digest>() else {
            return Ok(None);
        };
        let blob = self.store.get(&digest).await?;
        let config: Value = serde_json::from_slice(&blob).unwrap_or(Value::Null);
        Ok(Some(
            config
                .get("history")
                .cloned()
                .unwrap_or(Value::Array(Vec::new())),
        ))
    }

    /// Copies artifact `reference` of repository `from` into repository `to` on the server:
    /// blobs are linked, index children copied first, then the manifest stored under its
    /// digest and, when `reference` is a tag, under that tag too. Returns the digest.
    ///
    /// # Errors
    /// Unknown source repository or artifact, an unknown target project, storage or database
    /// failures.
    pub async fn copy_artifact(
        &self,
        from: &str,
        reference: &str,
        to: &str,
    ) -> Result<Digest, RegistryError> {
        let row = self.resolve(from, reference).await?;
        Box::pin(self.copy_row(from, &row, to)).await?;
        let digest: Digest = row.digest.parse()?;
        if !reference.contains(':') {
            let content = self.manifest_content(&row).await?;
            self.put_manifest(ManifestPut {
                repository: to,
                reference,
                tags: Vec::new(),
                content_type: Some(&row.media_type),
                body: content,
            })
            .await?;
        }
        Ok(digest)
    }

    async fn copy_row(
        &self,
        from: &str,
        row: &manifest::Model,
        to: &str,
    ) -> Result<(), RegistryError> {
        let references = manifest_reference::Entity::find()
            .filter(manifest_reference::Column::ManifestId.eq(row.id))
            .all(&self.db)
            .await?;
        for reference in references {
            let digest: Digest = reference.digest.parse()?;
            if reference.kind == "manifest" {
                let child = self.resolve(from, &reference.digest).await?;
                Box::pin(self.copy_row(from, &child, to)).await?;
            } else if !self.mount_blob(from, to, &digest).await? {
                return Err(RegistryError::BlobUnknown(digest));
            }
        }
        let content = self.manifest_content(row).await?;
        self.put_manifest(ManifestPut {
            repository: to,
            reference: &row.digest,
            tags: Vec::new(),
            content_type: Some(&row.media_type),
            body: content,
        })
        .await?;
        Ok(())
    }
}

/// Manifests tagged by the cosign tag schema in a repository (accessories, not listed).
fn tag_schema_accessories(repository_id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(tag::Column::ManifestId)
        .from(tag::Entity)
        .and_where(tag::Column::RepositoryId.eq(repository_id))
        .and_where(
            Expr::col(tag::Column::Name)
                .like("sha256-%.sig")
                .or(Expr::col(tag::Column::Name).like("sha256-%.att"))
                .or(Expr::col(tag::Column::Name).like("sha256-%.sbom")),
        )
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessory_types_follow_harbor() {
        assert_eq!(
            accessory_kind(
                Some("application/vnd.dev.cosign.artifact.sig.v1+json"),
                None
            ),
            "signature.cosign"
        );
        assert_eq!(
            accessory_kind(None, Some("sha256-ab.sig")),
            "signature.cosign"
        );
        assert_eq!(
            accessory_kind(Some("application/vnd.cncf.notary.signature"), None),
            "signature.notation"
        );
        assert_eq!(
            accessory_kind(Some("application/spdx+json"), None),
            "sbom.harbor"
        );
        assert_eq!(
            accessory_kind(Some("application/x-thing"), None),
            "subject.accessory"
        );
        assert_eq!(
            tag_schema_subject("sha256-abc.sig").as_deref(),
            Some("sha256:abc")
        );
        assert_eq!(tag_schema_subject("v1.0"), None);
    }
}
