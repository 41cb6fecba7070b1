//! Artifacts of a repository: list, read, delete, copy between repositories, and their tags,
//! accessories and additions.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Order;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::labels::{LabelView, labels_of};
use super::projects::authorize;
use super::query::{self, Field, Kind, Matcher};
use super::repositories;
use super::{Paging, paged};
use crate::app::AppState;
use crate::auth::{Action, Resource};
use crate::db::entities::{manifest, project, repository, tag};
use crate::error::ApiError;
use crate::registry::TagFilter;

const ARTIFACTS: &str = "/projects/{project_name}/repositories/{repository_name}/artifacts";
const ARTIFACT: &str =
    "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(ARTIFACTS, web::get().to(list))
        .route(ARTIFACTS, web::post().to(copy))
        .route(ARTIFACT, web::get().to(get))
        .route(ARTIFACT, web::delete().to(delete))
        .route(&format!("{ARTIFACT}/tags"), web::get().to(list_tags))
        .route(&format!("{ARTIFACT}/tags"), web::post().to(create_tag))
        .route(
            &format!("{ARTIFACT}/tags/{{tag_name}}"),
            web::delete().to(delete_tag),
        )
        .route(
            &format!("{ARTIFACT}/accessories"),
            web::get().to(accessories),
        )
        .route(
            &format!("{ARTIFACT}/additions/{{addition}}"),
            web::get().to(addition),
        );
}

/// A tag as Harbor shows it.
#[derive(Serialize, ToSchema)]
pub struct TagView {
    id: i64,
    repository_id: i64,
    artifact_id: i64,
    name: String,
    push_time: DateTime<Utc>,
    pull_time: Option<DateTime<Utc>>,
    immutable: bool,
}

fn tag_view(row: tag::Model, pulled: Option<DateTime<Utc>>) -> TagView {
    TagView {
        id: row.id,
        repository_id: row.repository_id,
        artifact_id: row.manifest_id,
        name: row.name,
        push_time: row.updated_at,
        pull_time: pulled,
        immutable: false,
    }
}

/// A child of an index.
#[derive(Serialize, ToSchema)]
pub struct ReferenceView {
    parent_id: i64,
    child_digest: String,
    #[schema(value_type = Option<Object>)]
    platform: Option<Value>,
    #[schema(value_type = Option<Object>)]
    annotations: Option<Map<String, Value>>,
    urls: Vec<String>,
}

/// An accessory (signature, SBOM, ...) of an artifact.
#[derive(Serialize, ToSchema)]
pub struct AccessoryView {
    id: i64,
    artifact_id: i64,
    subject_artifact_id: i64,
    subject_artifact_digest: String,
    digest: String,
    size: i64,
    /// `signature.cosign`, `signature.notation`, `sbom.harbor`, `subject.accessory`, ...
    #[serde(rename = "type")]
    kind: &'static str,
    creation_time: DateTime<Utc>,
}

/// A link to an addition.
#[derive(Serialize, ToSchema)]
pub struct AdditionLink {
    href: String,
    absolute: bool,
}

/// An artifact as Harbor shows it.
#[derive(Serialize, ToSchema)]
pub struct ArtifactView {
    id: i64,
    /// `IMAGE`, `CHART`, `CNAB`, `WASM` or `UNKNOWN`.
    #[serde(rename = "type")]
    kind: &'static str,
    media_type: String,
    manifest_media_type: String,
    artifact_type: Option<String>,
    project_id: i64,
    repository_id: i64,
    repository_name: String,
    digest: String,
    size: i64,
    push_time: DateTime<Utc>,
    pull_time: Option<DateTime<Utc>>,
    #[schema(value_type = Option<Object>)]
    annotations: Option<Map<String, Value>>,
    references: Vec<ReferenceView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<TagView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Vec<LabelView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accessories: Option<Vec<AccessoryView>>,
    addition_links: std::collections::BTreeMap<&'static str, AdditionLink>,
}

/// Harbor's artifact type, from the config media type (or the index media type).
fn artifact_kind(row: &manifest::Model) -> &'static str {
    let config = row.artifact_type.as_deref().unwrap_or("");
    if config.contains("helm") {
        "CHART"
    } else if config.contains("cnab") {
        "CNAB"
    } else if config.contains("wasm") {
        "WASM"
    } else if config.contains("image.config")
        || config.contains("container.image")
        || row.media_type.contains("index")
        || row.media_type.contains("manifest.list")
    {
        "IMAGE"
    } else {
        "UNKNOWN"
    }
}

/// Which optional parts a view includes.
#[derive(Clone, Copy)]
struct Detail {
    tags: bool,
    labels: bool,
    accessories: bool,
}

async fn view(
    state: &AppState,
    repo: &repository::Model,
    row: manifest::Model,
    tags: Vec<tag::Model>,
    detail: Detail,
) -> Result<ArtifactView, ApiError> {
    let registry = &state.registry;
    let references = registry
        .index_children(&row)
        .await?
        .into_iter()
        .map(|c| ReferenceView {
            parent_id: row.id,
            child_digest: c.digest,
            platform: c.platform,
            annotations: c.annotations,
            urls: c.urls,
        })
        .collect();
    let accessories = if detail.accessories {
        Some(accessory_views(state, repo, &row).await?)
    } else {
        None
    };
    let labels = if detail.labels {
        Some(labels_of(state, row.id).await?)
    } else {
        None
    };
    let tags = detail.tags.then(|| {
        tags.into_iter()
            .map(|t| tag_view(t, row.pulled_at))
            .collect()
    });
    let project_name = crate::names::project_of(&repo.name);
    let short = repo
        .name
        .split_once('/')
        .map_or("", |(_, r)| r)
        .replace('/', "%252F");
    let mut addition_links = std::collections::BTreeMap::new();
    if artifact_kind(&row) == "IMAGE" && references_none(&row) {
        for addition in ["build_history", "layers"] {
            addition_links.insert(
                addition,
                AdditionLink {
                    href: format!(
                        "/api/v2.0/projects/{project_name}/repositories/{short}/artifacts/{}/additions/{addition}",
                        row.digest
                    ),
                    absolute: false,
                },
            );
        }
    }
    let annotations = row
        .annotations
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok());
    Ok(ArtifactView {
        id: row.id,
        kind: artifact_kind(&row),
        manifest_media_type: row.media_type.clone(),
        media_type: row
            .artifact_type
            .clone()
            .unwrap_or_else(|| row.media_type.clone()),
        artifact_type: row.artifact_type,
        project_id: repo.project_id,
        repository_id: repo.id,
        repository_name: repo.name.clone(),
        digest: row.digest,
        size: row.size,
        push_time: row.created_at,
        pull_time: row.pulled_at,
        annotations,
        references,
        tags,
        labels,
        accessories,
        addition_links,
    })
}

fn references_none(row: &manifest::Model) -> bool {
    !(row.media_type.contains("index") || row.media_type.contains("manifest.list"))
}

async fn accessory_views(
    state: &AppState,
    repo: &repository::Model,
    subject: &manifest::Model,
) -> Result<Vec<AccessoryView>, ApiError> {
    let found = state.registry.accessories(repo.id, &subject.digest).await?;
    Ok(found
        .into_iter()
        .map(|a| AccessoryView {
            id: a.manifest.id,
            artifact_id: a.manifest.id,
            subject_artifact_id: subject.id,
            subject_artifact_digest: subject.digest.clone(),
            digest: a.manifest.digest,
            size: a.manifest.size,
            kind: a.kind,
            creation_time: a.manifest.created_at,
        })
        .collect())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArtifactListQuery {
    /// Filters: `tags` (`*` tagged, `nil` untagged, or names), `digest`, `media_type`,
    /// `artifact_type`, `push_time` (range `[a~b]`), `size`, `labels` (label ids, `(1 2)` for all).
    q: Option<String>,
    /// Sort fields: `push_time`, `size`, `digest`; `-` for descending. Default `-push_time`.
    sort: Option<String>,
    #[serde(default = "yes")]
    with_tag: bool,
    #[serde(default)]
    with_label: bool,
    #[serde(default)]
    with_accessory: bool,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

fn yes() -> bool {
    true
}

fn fields() -> [Field; 6] {
    [
        Field::new("digest", manifest::Column::Digest, Kind::Text),
        Field::new("media_type", manifest::Column::MediaType, Kind::Text),
        Field::new("artifact_type", manifest::Column::ArtifactType, Kind::Text),
        Field::new("push_time", manifest::Column::CreatedAt, Kind::Time),
        Field::new("pull_time", manifest::Column::PulledAt, Kind::Time),
        Field::new("size", manifest::Column::Size, Kind::Int),
    ]
}

fn tag_filter(matcher: Option<&Matcher>) -> TagFilter {
    match matcher {
        None => TagFilter::Any,
        Some(Matcher::Exact(v)) if v == "*" => TagFilter::Tagged,
        Some(Matcher::Exact(v)) if v == "nil" => TagFilter::Untagged,
        Some(Matcher::Exact(v) | Matcher::Fuzzy(v)) => TagFilter::Named(vec![v.clone()]),
        Some(Matcher::AnyOf(v) | Matcher::AllOf(v)) => TagFilter::Named(v.clone()),
        Some(Matcher::Range(..)) => TagFilter::Any,
    }
}

async fn target(
    state: &AppState,
    req: &HttpRequest,
    project_name: &str,
    repo: &str,
    resource: Resource,
    action: Action,
) -> Result<(project::Model, repository::Model), ApiError> {
    let (_, project, _) = authorize(state, req, project_name, resource, action).await?;
    let repo = repositories::find(state, &project, repo).await?;
    Ok((project, repo))
}

/// Lists the artifacts of a repository.
///
/// Accessories and untagged index children are not listed on their own; they appear under
/// their subject (`with_accessory`) or index (`references`).
#[utoipa::path(
    get,
    operation_id = "artifacts_list",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        ArtifactListQuery
    ),
    responses(
        (status = 200, description = "One page of artifacts; `X-Total-Count` and `Link` headers", body = Vec<ArtifactView>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project or repository", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: web::Query<ArtifactListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment) = path.into_inner();
    let (_, repo) = target(
        &state,
        &req,
        &project_name,
        &repo_segment,
        Resource::Artifact,
        Action::List,
    )
    .await?;
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let fields = fields();
    let terms = query::parse(params.q.as_deref().unwrap_or(""))?;
    let tags = tag_filter(query::term(&terms, "tags"));
    let labels = super::labels::label_condition(query::term(&terms, "labels"))?;
    let select = manifest::Entity::find()
        .filter(state.registry.listed_artifacts(repo.id))
        .filter(state.registry.tag_condition(&tags))
        .filter(labels)
        .filter(query::condition(&terms, &fields, &["tags", "labels"])?);
    let total = select.clone().count(&state.db).await?;
    let mut select = select;
    let sort = params.sort.as_deref();
    for (column, direction) in query::order(sort, &fields, ("push_time", Order::Desc))? {
        select = select.order_by(column, direction);
    }
    let rows = select
        .order_by_desc(manifest::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tags = state.registry.tags_of(&ids).await?;
    let detail = Detail {
        tags: params.with_tag,
        labels: params.with_label,
        accessories: params.with_accessory,
    };
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        let row_tags = tags.remove(&row.id).unwrap_or_default();
        views.push(view(&state, &repo, row, row_tags, detail).await?);
    }
    let mut response = HttpResponse::Ok();
    let link = format!(
        "/api/v2.0/projects/{project_name}/repositories/{}/artifacts",
        repo_segment.replace('/', "%252F")
    );
    paged(&mut response, &link, &paging, total);
    Ok(response.json(views))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArtifactGetQuery {
    #[serde(default = "yes")]
    with_tag: bool,
    #[serde(default)]
    with_label: bool,
    #[serde(default = "yes")]
    with_accessory: bool,
}

/// Reads one artifact by tag or digest, with its tags, index children, accessories and
/// addition links.
///
/// `with_tag` and `with_accessory` default to true, `with_label` to false.
#[utoipa::path(
    get,
    operation_id = "artifacts_get",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        ("reference" = String, Path, description = "Tag or digest"),
        ArtifactGetQuery
    ),
    responses(
        (status = 200, description = "The artifact", body = ArtifactView),
        (status = 400, description = "Invalid reference", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project, repository or artifact", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    params: web::Query<ArtifactGetQuery>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment, reference) = path.into_inner();
    let (_, repo) = target(
        &state,
        &req,
        &project_name,
        &repo_segment,
        Resource::Artifact,
        Action::Read,
    )
    .await?;
    let row = state.registry.resolve(&repo.name, &reference).await?;
    let tags = state
        .registry
        .tags_of(&[row.id])
        .await?
        .remove(&row.id)
        .unwrap_or_default();
    let detail = Detail {
        tags: params.with_tag,
        labels: params.with_label,
        accessories: params.with_accessory,
    };
    Ok(HttpResponse::Ok().json(view(&state, &repo, row, tags, detail).await?))
}

/// Deletes an artifact with all its tags; blobs are reclaimed by garbage collection.
///
/// Needs the project's `artifact:delete` permission (maintainers and project administrators).
#[utoipa::path(
    delete,
    operation_id = "artifacts_delete",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        ("reference" = String, Path, description = "Tag or digest"),
    ),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project, repository or artifact", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment, reference) = path.into_inner();
    let (project, repo) = target(
        &state,
        &req,
        &project_name,
        &repo_segment,
        Resource::Artifact,
        Action::Delete,
    )
    .await?;
    let row = state.registry.resolve(&repo.name, &reference).await?;
    state
        .registry
        .delete_manifest(&repo.name, &row.digest)
        .await?;
    if crate::webhooks::wanted(&state.db, project.id, "DELETE_ARTIFACT").await {
        let operator = super::caller(&state, &req).await?.name().to_owned();
        let host = crate::oci::public_host(&state, &req);
        let event = crate::webhooks::Event {
            kind: "DELETE_ARTIFACT",
            project_id: project.id,
            project_name: project.name,
            public: project.public,
            operator,
            resources: vec![crate::webhooks::Resource {
                resource_url: format!("{host}/{}@{}", repo.name, row.digest),
                digest: row.digest,
                tag: None,
            }],
            repository: Some(repo.name),
            custom_attributes: None,
        };
        crate::webhooks::emit(&state.db, &state.jobs, event).await;
    }
    Ok(HttpResponse::Ok().finish())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CopyQuery {
    /// The source: `<project>/<repository>:<tag>` or `<project>/<repository>@<digest>`.
    from: String,
}

/// Copies an artifact from another repository into this one, on the server.
///
/// Needs `artifact:create` in the target project and `repository:pull` on the source. Blobs are
/// linked, not copied; index children come along.
#[utoipa::path(
    post,
    operation_id = "artifacts_copy",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        CopyQuery
    ),
    responses(
        (status = 201, description = "Copied; `Location` names the new artifact"),
        (status = 400, description = "Invalid `from`", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such source or target", body = super::docs::Errors),
    )
)]
pub async fn copy(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: web::Query<CopyQuery>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment) = path.into_inner();
    let (principal, project, _) = authorize(
        &state,
        &req,
        &project_name,
        Resource::Artifact,
        Action::Create,
    )
    .await?;
    let to = format!(
        "{}/{}",
        project.name,
        repositories::decode_name(&repo_segment)
    );
    let (from, reference) = match params.from.split_once('@') {
        Some((repo, digest)) => (repo, digest),
        None => params.from.rsplit_once(':').ok_or_else(|| {
            ApiError::bad_request("from must be <repository>:<tag> or <repository>@<digest>")
        })?,
    };
    if !crate::names::is_valid_repository(from) || !crate::names::is_valid_repository(&to) {
        return Err(ApiError::bad_request(
            "invalid source or target repository name",
        ));
    }
    let pullable = state
        .rbac
        .project_access(&state.db, &principal, crate::names::project_of(from))
        .await?
        .is_some_and(|a| state.rbac.allows(&a, Resource::Repository, Action::Pull));
    if !pullable {
        return Err(ApiError::not_found(format!("repository {from} not found")));
    }
    let digest = state.registry.copy_artifact(from, reference, &to).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!(
                "/api/v2.0/projects/{}/repositories/{}/artifacts/{digest}",
                project.name,
                repositories::decode_name(&repo_segment).replace('/', "%252F")
            ),
        ))
        .finish())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TagListQuery {
    /// Filters: `name` (e.g. `name=~v1`).
    q: Option<String>,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

/// Lists the tags of an artifact.
///
/// Ordered by name; `q=name=~v1` filters.
#[utoipa::path(
    get,
    operation_id = "artifacts_list_tags",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        ("reference" = String, Path, description = "Tag or digest"),
        TagListQuery
    ),
    responses(
        (status = 200, description = "One page of tags; `X-Total-Count` header", body = Vec<TagView>),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such artifact", body = super::docs::Errors),
    )
)]
pub async fn list_tags(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    params: web::Query<TagListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment, reference) = path.into_inner();
    let (_, repo) = target(
        &state,
        &req,
        &project_name,
        &repo_segment,
        Resource::Tag,
        Action::List,
    )
    .await?;
    let row = state.registry.resolve(&repo.name, &reference).await?;
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let fields = [Field::new("name", tag::Column::Name, Kind::Text)];
    let terms = query::parse(params.q.as_deref().unwrap_or(""))?;
    let select = tag::Entity::find()
        .filter(tag::Column::ManifestId.eq(row.id))
        .filter(query::condition(&terms, &fields, &[])?);
    let total = select.clone().count(&state.db).await?;
    let tags = select
        .order_by_asc(tag::Column::Name)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    let mut response = HttpResponse::Ok();
    paged(&mut response, req.path(), &paging, total);
    Ok(response.json(
        tags.into_iter()
            .map(|t| tag_view(t, row.pulled_at))
            .collect::<Vec<_>>(),
    ))
}

/// A new tag.
#[derive(Deserialize, ToSchema)]
pub struct NewTag {
    name: String,
}

/// Adds a tag to an artifact; a tag of that name elsewhere in the repository is refused.
///
/// Tags follow the OCI grammar `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`; the tag serves pulls at once.
#[utoipa::path(
    post,
    operation_id = "artifacts_create_tag",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        ("reference" = String, Path, description = "Tag or digest"),
    ),
    request_body = NewTag,
    responses(
        (status = 201, description = "Created"),
        (status = 400, description = "Invalid tag name", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such artifact", body = super::docs::Errors),
        (status = 409, description = "The tag exists", body = super::docs::Errors),
    )
)]
pub async fn create_tag(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    body: web::Json<NewTag>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment, reference) = path.into_inner();
    let (_, repo) = target(
        &state,
        &req,
        &project_name,
        &repo_segment,
        Resource::Tag,
        Action::Create,
    )
    .await?;
    let row = state.registry.resolve(&repo.name, &reference).await?;
    if !crate::names::is_valid_tag(&body.name) {
        return Err(ApiError::bad_request(format!(
            "tag {:?} is invalid",
            body.name
        )));
    }
    let taken = tag::Entity::find()
        .filter(tag::Column::RepositoryId.eq(repo.id))
        .filter(tag::Column::Name.eq(&body.name))
        .count(&state.db)
        .await?;
    if taken > 0 {
        return Err(ApiError::conflict(format!(
            "tag {} already exists in {}",
            body.name, repo.name
        )));
    }
    let now = Utc::now();
    let inserted = tag::Entity::insert(tag::ActiveModel {
        repository_id: sea_orm::ActiveValue::Set(repo.id),
        name: sea_orm::ActiveValue::Set(body.name.clone()),
        manifest_id: sea_orm::ActiveValue::Set(row.id),
        created_at: sea_orm::ActiveValue::Set(now),
        updated_at: sea_orm::ActiveValue::Set(now),
        ..Default::default()
    })
    .exec(&state.db)
    .await;
    match inserted {
        Ok(_) => Ok(HttpResponse::Created()
            .insert_header(("Location", format!("{}/{}", req.path(), body.name)))
            .finish()),
        Err(e) if crate::db::is_unique_violation(&e) => Err(ApiError::conflict(format!(
            "tag {} already exists in {}",
            body.name, repo.name
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Removes one tag; the artifact stays.
///
/// Needs the project's `tag:delete` permission; a tag protected by an immutability rule is
/// refused with 412.
#[utoipa::path(
    delete,
    operation_id = "artifacts_delete_tag",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        ("reference" = String, Path, description = "Tag or digest"),
        ("tag_name" = String, Path, description = "The tag to remove"),
    ),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such artifact or tag", body = super::docs::Errors),
        (status = 412, description = "An immutability rule protects the tag", body = super::docs::Errors),
    )
)]
pub async fn delete_tag(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment, reference, tag_name) = path.into_inner();
    let (_, repo) = target(
        &state,
        &req,
        &project_name,
        &repo_segment,
        Resource::Tag,
        Action::Delete,
    )
    .await?;
    let row = state.registry.resolve(&repo.name, &reference).await?;
    state
        .registry
        .refuse_immutable(&state.db, &repo, std::slice::from_ref(&tag_name))
        .await?;
    let deleted = tag::Entity::delete_many()
        .filter(tag::Column::ManifestId.eq(row.id))
        .filter(tag::Column::Name.eq(&tag_name))
        .exec(&state.db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::not_found(format!(
            "tag {tag_name} not found on {}",
            row.digest
        )));
    }
    Ok(HttpResponse::Ok().finish())
}

/// Lists an artifact's accessories: manifests naming it as subject, and cosign tag-schema
/// signatures, attestations and SBOMs.
///
/// Each accessory names its type, digest and size.
#[utoipa::path(
    get,
    operation_id = "artifacts_accessories",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/accessories",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        ("reference" = String, Path, description = "Tag or digest"),
    ),
    responses(
        (status = 200, description = "The accessories; `X-Total-Count` header", body = Vec<AccessoryView>),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such artifact", body = super::docs::Errors),
    )
)]
pub async fn accessories(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment, reference) = path.into_inner();
    let (_, repo) = target(
        &state,
        &req,
        &project_name,
        &repo_segment,
        Resource::Accessory,
        Action::List,
    )
    .await?;
    let row = state.registry.resolve(&repo.name, &reference).await?;
    let views = accessory_views(&state, &repo, &row).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", views.len().to_string()))
        .json(views))
}

/// Reads an addition of an artifact: `build_history` is the history of an image's config,
/// `layers` (a Berth addition) the manifest's layers with media type, digest and size.
///
/// Other additions (vulnerabilities, values.yaml, readme) belong to features not in Berth yet and
/// answer 404.
#[utoipa::path(
    get,
    operation_id = "artifacts_addition",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/{addition}",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        ("reference" = String, Path, description = "Tag or digest"),
        ("addition" = String, Path, description = "`build_history` or `layers`"),
    ),
    responses(
        (status = 200, description = "The addition: for `build_history` the config's history array, for `layers` an array of `{media_type, digest, size}`", body = Value),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such artifact or addition", body = super::docs::Errors),
    )
)]
pub async fn addition(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment, reference, addition) = path.into_inner();
    let (_, repo) = target(
        &state,
        &req,
        &project_name,
        &repo_segment,
        Resource::ArtifactAddition,
        Action::Read,
    )
    .await?;
    let row = state.registry.resolve(&repo.name, &reference).await?;
    let found = match addition.as_str() {
        "build_history" => state.registry.build_history(&row).await?,
        "layers" => state.registry.layers(&row).await?,
        _ => None,
    };
    found
        .map(|value| HttpResponse::Ok().json(value))
        .ok_or_else(|| ApiError::not_found(format!("artifact {} has no {addition}", row.digest)))
}
