//! Pull-through caching: a project bound to an upstream registry serves what it holds and
//! fetches the rest from the upstream, storing it as ordinary content of the project.
//!
//! Digest-addressed content is immutable, so a cached manifest or blob is served without asking
//! the upstream. A tag is mutable: every pull by tag asks the upstream (a `HEAD`, which Docker
//! Hub does not count against its pull limit) which digest the tag names now, and moves the
//! cached tag when it changed. Only when the upstream cannot answer is the cached tag served as
//! it is. The digest compared is the upstream's `Docker-Content-Digest`, and fetched content is
//! verified against it before it is stored.
//!
//! Cached manifests are recorded before their blobs arrive (clients fetch those next), so they
//! are stored as sparse manifests; each blob is cached, verified and charged to the project's
//! quota as it is first pulled.

pub mod upstream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::SecretString;

use self::upstream::{Endpoint, RemoteManifest, Upstream, UpstreamError};
use super::manifests::{ManifestPut, StoredManifest};
use super::{Registry, RegistryError, quota};
use crate::db::entities::{project, proxy_project, registry};
use crate::digest::{Algorithm, Digest};
use crate::names;

/// The provider types a registry endpoint may have. Every one of them speaks the distribution
/// API with the token flow; they differ in default address and in Docker Hub's `library/`.
pub const KINDS: &[&str] = &[
    "docker-hub",
    "docker-registry",
    "harbor",
    "berth",
    "github-ghcr",
    "quay",
    "google-gcr",
    "azure-acr",
    "jfrog-artifactory",
    "gitlab",
];

/// Docker Hub's registry host; `hub.docker.com`, its web site, is accepted for it.
const DOCKER_HUB: &str = "https://registry-1.docker.io";

/// The registry endpoint that serves a repository's project as a pull-through cache.
pub struct Proxy {
    pub project_id: i64,
    pub registry: registry::Model,
    upstream: Arc<Upstream>,
}

impl Proxy {
    /// The upstream's name for local repository `name` (`<project>/<path>` → `<path>`; on
    /// Docker Hub a one-component path is an official image under `library/`).
    pub fn upstream_repository(&self, name: &str) -> String {
        upstream_repository(&self.registry.kind, name)
    }

    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }
}

fn upstream_repository(kind: &str, name: &str) -> String {
    let path = name.split_once('/').map_or(name, |(_, p)| p);
    if kind == "docker-hub" && !path.contains('/') {
        format!("library/{path}")
    } else {
        path.to_owned()
    }
}

/// The address requests for endpoint `row` go to.
pub fn endpoint(row: &registry::Model) -> Endpoint {
    let url = row.url.trim_end_matches('/');
    let url = if row.kind == "docker-hub"
        && (url.is_empty() || url.contains("hub.docker.com") || url.ends_with("docker.io"))
    {
        DOCKER_HUB.to_owned()
    } else {
        url.to_owned()
    };
    Endpoint {
        url,
        insecure: row.insecure,
        credentials: row.access_key.clone().filter(|k| !k.is_empty()).map(|key| {
            let secret = row.access_secret.clone().unwrap_or_default();
            (key, SecretString::from(secret))
        }),
    }
}

/// Upstream clients by endpoint id, rebuilt when the endpoint changes; they keep bearer tokens
/// between requests.
#[derive(Default)]
pub struct Upstreams {
    clients: Mutex<HashMap<i64, Versioned>>,
}

/// A client and the `updated_at` of the endpoint it was built from.
type Versioned = (DateTime<Utc>, Arc<Upstream>);

impl Upstreams {
    fn client(&self, row: &registry::Model) -> Result<Arc<Upstream>, UpstreamError> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((version, client)) = clients.get(&row.id)
            && *version == row.updated_at
        {
            return Ok(client.clone());
        }
        let client = Arc::new(Upstream::new(endpoint(row))?);
        clients.insert(row.id, (row.updated_at, client.clone()));
        Ok(client)
    }
}

/// What a pull by tag learned from the upstream.
enum Revalidation {
    /// The upstream names this digest now (when it said).
    Current(RemoteManifest),
    /// The upstream has no such tag.
    Gone,
    /// The upstream could not be asked.
    Failed(UpstreamError),
}

impl Registry {
    /// The pull-through binding of the project that holds repository `name`, if it has one.
    ///
    /// # Errors
    /// Database failures; an endpoint whose client cannot be built.
    pub async fn proxy_of(&self, name: &str) -> Result<Option<Proxy>, RegistryError> {
        let project_ids = Query::select()
            .column(project::Column::Id)
            .from(project::Entity)
            .and_where(project::Column::Name.eq(names::project_of(name)))
            .to_owned();
        let Some(binding) = proxy_project::Entity::find()
            .filter(proxy_project::Column::ProjectId.in_subquery(project_ids))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(row) = registry::Entity::find_by_id(binding.registry_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let upstream =
            self.upstreams
                .client(&row)
                .map_err(|source| RegistryError::ProxyUnavailable {
                    reference: name.to_owned(),
                    blob: false,
                    source,
                })?;
        Ok(Some(Proxy {
            project_id: binding.project_id,
            registry: row,
            upstream,
        }))
    }

    /// A manifest of proxy-cache repository `name`: by digest from the cache when held, else
    /// fetched; by tag as the upstream names it now, the cached tag standing in only when the
    /// upstream cannot answer.
    ///
    /// # Errors
    /// Content neither cached nor available upstream; invalid upstream content; storage or
    /// database failures.
    pub async fn proxied_manifest(
        &self,
        proxy: &Proxy,
        name: &str,
        reference: &str,
    ) -> Result<StoredManifest, RegistryError> {
        let remote_name = proxy.upstream_repository(name);
        if reference.contains(':') {
            let digest: Digest = reference.parse()?;
            if let Some(cached) = self.cached_manifest(name, reference).await? {
                return Ok(cached);
            }
            return self
                .fetch_manifest(proxy, name, &remote_name, &digest, None)
                .await;
        }
        if !names::is_valid_tag(reference) {
            return Err(RegistryError::TagInvalid(reference.to_owned()));
        }
        let revalidation = match proxy.upstream.head_manifest(&remote_name, reference).await {
            Ok(Some(remote)) => Revalidation::Current(remote),
            Ok(None) => Revalidation::Gone,
            Err(e) => Revalidation::Failed(e),
        };
        match revalidation {
            Revalidation::Current(RemoteManifest {
                digest: Some(digest),
                ..
            }) => {
                if let Some(cached) = self.cached_manifest(name, &digest.to_string()).await? {
                    self.retag(name, reference, &digest).await?;
                    return Ok(cached);
                }
                self.fetch_manifest(proxy, name, &remote_name, &digest, Some(reference))
                    .await
            }
            // An upstream that does not say the digest on HEAD: fetch by tag and hash it.
            Revalidation::Current(RemoteManifest { digest: None, .. }) => {
                self.fetch_tagged_manifest(proxy, name, &remote_name, reference)
                    .await
            }
            Revalidation::Gone => Err(RegistryError::ManifestUnknown(format!(
                "{reference} (the upstream {} no longer has it)",
                proxy.upstream.url()
            ))),
            Revalidation::Failed(source) => match self.cached_manifest(name, reference).await? {
                Some(cached) => {
                    tracing::warn!(
                        repository = name,
                        tag = reference,
                        error = %source,
                        "upstream unavailable: serving the cached tag"
                    );
                    Ok(cached)
                }
                None => Err(RegistryError::ProxyUnavailable {
                    reference: reference.to_owned(),
                    blob: false,
                    source,
                }),
            },
        }
    }

    /// The cached manifest `reference` of repository `name`, if the cache holds it.
    async fn cached_manifest(
        &self,
        name: &str,
        reference: &str,
    ) -> Result<Option<StoredManifest>, RegistryError> {
        match self.get_manifest(name, reference).await {
            Ok(found) => Ok(Some(found)),
            Err(RegistryError::NameUnknown(_) | RegistryError::ManifestUnknown(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn fetch_manifest(
        &self,
        proxy: &Proxy,
        name: &str,
        remote_name: &str,
        digest: &Digest,
        tag: Option<&str>,
    ) -> Result<StoredManifest, RegistryError> {
        let unavailable = |source| RegistryError::ProxyUnavailable {
            reference: digest.to_string(),
            blob: false,
            source,
        };
        let (remote, body) = proxy
            .upstream
            .get_manifest(remote_name, &digest.to_string(), self.max_manifest_bytes)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| RegistryError::ManifestUnknown(digest.to_string()))?;
        if Digest::of(digest.algorithm(), &body) != *digest {
            return Err(unavailable(UpstreamError::Invalid {
                url: proxy.upstream.url().to_owned(),
                reason: format!("the content it sent for {digest} has another digest"),
            }));
        }
        self.cache_manifest(name, digest, tag, remote.media_type.as_deref(), body)
            .await
    }

    async fn fetch_tagged_manifest(
        &self,
        proxy: &Proxy,
        name: &str,
        remote_name: &str,
        tag: &str,
    ) -> Result<StoredManifest, RegistryError> {
        let (remote, body) = proxy
            .upstream
            .get_manifest(remote_name, tag, self.max_manifest_bytes)
            .await
            .map_err(|source| RegistryError::ProxyUnavailable {
                reference: tag.to_owned(),
                blob: false,
                source,
            })?
            .ok_or_else(|| RegistryError::ManifestUnknown(tag.to_owned()))?;
        let digest = remote
            .digest
            .clone()
            .unwrap_or_else(|| Digest::of(Algorithm::Sha256, &body));
        if Digest::of(digest.algorithm(), &body) != digest {
            return Err(RegistryError::ProxyUnavailable {
                reference: tag.to_owned(),
                blob: false,
                source: UpstreamError::Invalid {
                    url: proxy.upstream.url().to_owned(),
                    reason: format!("the content it sent for {tag} does not match {digest}"),
                },
            });
        }
        self.cache_manifest(name, &digest, Some(tag), remote.media_type.as_deref(), body)
            .await
    }

    /// Stores fetched (and verified) manifest content, tagged when pulled by tag.
    async fn cache_manifest(
        &self,
        name: &str,
        digest: &Digest,
        tag: Option<&str>,
        media_type: Option<&str>,
        body: Bytes,
    ) -> Result<StoredManifest, RegistryError> {
        let reference = digest.to_string();
        self.put_manifest_with(
            ManifestPut {
                repository: name,
                reference: &reference,
                tags: tag.map(str::to_owned).into_iter().collect(),
                content_type: media_type,
                body,
            },
            true,
        )
        .await?;
        self.get_manifest(name, &reference).await
    }

    /// Points tag `tag` of repository `name` at cached manifest `digest`.
    async fn retag(&self, name: &str, tag: &str, digest: &Digest) -> Result<(), RegistryError> {
        let repository = self.repository(name).await?;
        let row = self.resolve(name, &digest.to_string()).await?;
        super::manifests::point_tag(&self.db, repository.id, tag, row.id).await
    }

    /// Keeps a blob just cached from the upstream (already linked to repository `name`) and
    /// charges it to the project's quota; over the quota, the link is dropped again so garbage
    /// collection reclaims the content.
    ///
    /// # Errors
    /// Database failures; [`RegistryError::QuotaExceeded`].
    pub async fn charge_proxied_blob(
        &self,
        proxy: &Proxy,
        name: &str,
        digest: &Digest,
    ) -> Result<(), RegistryError> {
        let project = project::Entity::find_by_id(proxy.project_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| RegistryError::ProjectUnknown(names::project_of(name).to_owned()))?;
        match quota::charge(&self.db, &project, &[digest.to_string()]).await {
            Ok(_) => Ok(()),
            Err(err @ RegistryError::QuotaExceeded { .. }) => {
                if let Some(info) = self.blob_in_repository(name, digest).await? {
                    let repository = self.repository(name).await?;
                    self.unlink(repository.id, info.blob_id).await?;
                }
                Err(err)
            }
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_names_official_images_under_library() {
        assert_eq!(
            upstream_repository("docker-hub", "hub/alpine"),
            "library/alpine"
        );
        assert_eq!(
            upstream_repository("docker-hub", "hub/bitnami/redis"),
            "bitnami/redis"
        );
        assert_eq!(upstream_repository("harbor", "px/lib/app"), "lib/app");
        assert_eq!(upstream_repository("docker-registry", "px/app"), "app");
    }
}
