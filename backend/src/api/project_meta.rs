//! A project's metadata switches, summary and deletability check.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use super::projects::authorize;
use crate::app::AppState;
use crate::auth::{Action, ProjectRole, Resource};
use crate::db::entities::{manifest, project, project_member, repository};
use crate::error::ApiError;
use crate::metadata;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/projects/{project_name}/metadatas", web::get().to(list))
        .route("/projects/{project_name}/metadatas/", web::get().to(list))
        .route("/projects/{project_name}/metadatas", web::post().to(add))
        .route("/projects/{project_name}/metadatas/", web::post().to(add))
        .route(
            "/projects/{project_name}/metadatas/{meta_name}",
            web::get().to(get),
        )
        .route(
            "/projects/{project_name}/metadatas/{meta_name}",
            web::put().to(update),
        )
        .route(
            "/projects/{project_name}/metadatas/{meta_name}",
            web::delete().to(delete),
        )
        .route("/projects/{project_name}/summary", web::get().to(summary))
        .route(
            "/projects/{project_name}/_deletable",
            web::get().to(deletable),
        );
}

async fn all_metadata(
    state: &AppState,
    project: &project::Model,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut values = metadata::load(&state.db, project.id).await?;
    values.insert("public".into(), project.public.to_string());
    Ok(values)
}

/// Stores a metadata map in one transaction, `public` in the project row.
async fn save(
    state: &AppState,
    project: &project::Model,
    values: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    metadata::check_all(values).map_err(ApiError::bad_request)?;
    let txn = crate::db::begin_write(&state.db).await?;
    if let Some(public) = values.get("public") {
        project::Entity::update_many()
            .col_expr(project::Column::Public, Expr::value(public == "true"))
            .filter(project::Column::Id.eq(project.id))
            .exec(&txn)
            .await?;
    }
    metadata::store(&txn, project.id, values).await?;
    txn.commit().await?;
    Ok(())
}

/// Lists a project's metadata.
///
/// Includes `public` (from the project itself) and every stored switch.
#[utoipa::path(
    get,
    operation_id = "project_meta_list",
    path = "/api/v2.0/projects/{project_name}/metadatas",
    tag = "projectMetadata",
    params(("project_name" = String, Path, description = "Project name or id")),
    responses(
        (status = 200, description = "Every metadata entry", body = BTreeMap<String, String>),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Metadata, Action::Read).await?;
    Ok(HttpResponse::Ok().json(all_metadata(&state, &project).await?))
}

/// Adds metadata entries.
///
/// Keys: `public`, `enable_content_trust`, `enable_content_trust_cosign`, `prevent_vul`,
/// `severity`, `auto_scan`, `auto_sbom_generation`, `reuse_sys_cve_allowlist`; values
/// `"true"`/`"false"`, severities `none` to `critical`. Stored in one transaction.
#[utoipa::path(
    post,
    operation_id = "project_meta_add",
    path = "/api/v2.0/projects/{project_name}/metadatas",
    tag = "projectMetadata",
    params(("project_name" = String, Path, description = "Project name or id")),
    request_body = BTreeMap<String, String>,
    responses(
        (status = 200, description = "Added"),
        (status = 400, description = "Unknown key or invalid value", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) =
        authorize(&state, &req, &path, Resource::Metadata, Action::Create).await?;
    save(&state, &project, &body).await?;
    Ok(HttpResponse::Ok().finish())
}

/// Reads one metadata entry.
///
/// Answers 404 when the project has no such entry.
#[utoipa::path(
    get,
    operation_id = "project_meta_get",
    path = "/api/v2.0/projects/{project_name}/metadatas/{meta_name}",
    tag = "projectMetadata",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("meta_name" = String, Path, description = "Metadata key"),
    ),
    responses(
        (status = 200, description = "The entry as a one-key map", body = BTreeMap<String, String>),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project or entry", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, name) = path.into_inner();
    let (_, project, _) = authorize(
        &state,
        &req,
        &project_name,
        Resource::Metadata,
        Action::Read,
    )
    .await?;
    let values = all_metadata(&state, &project).await?;
    let value = values.get(&name).ok_or_else(|| {
        ApiError::not_found(format!("project {} has no metadata {name}", project.name))
    })?;
    Ok(HttpResponse::Ok().json(BTreeMap::from([(name.clone(), value.clone())])))
}

/// Changes one metadata entry (the body is a one-key map).
///
/// Values are checked as on creation.
#[utoipa::path(
    put,
    operation_id = "project_meta_update",
    path = "/api/v2.0/projects/{project_name}/metadatas/{meta_name}",
    tag = "projectMetadata",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("meta_name" = String, Path, description = "Metadata key"),
    ),
    request_body = BTreeMap<String, String>,
    responses(
        (status = 200, description = "Changed"),
        (status = 400, description = "Invalid value, or a body naming another key", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, name) = path.into_inner();
    let (_, project, _) = authorize(
        &state,
        &req,
        &project_name,
        Resource::Metadata,
        Action::Update,
    )
    .await?;
    if body.len() != 1 || !body.contains_key(&name) {
        return Err(ApiError::bad_request(format!(
            "the body must be {{\"{name}\": value}}"
        )));
    }
    save(&state, &project, &body).await?;
    Ok(HttpResponse::Ok().finish())
}

/// Removes one metadata entry (`public` cannot be removed).
///
/// Answers 404 when the entry does not exist.
#[utoipa::path(
    delete,
    operation_id = "project_meta_delete",
    path = "/api/v2.0/projects/{project_name}/metadatas/{meta_name}",
    tag = "projectMetadata",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("meta_name" = String, Path, description = "Metadata key"),
    ),
    responses(
        (status = 200, description = "Removed"),
        (status = 400, description = "`public` cannot be removed", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project or entry", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, name) = path.into_inner();
    let (_, project, _) = authorize(
        &state,
        &req,
        &project_name,
        Resource::Metadata,
        Action::Delete,
    )
    .await?;
    if name == "public" {
        return Err(ApiError::bad_request(
            "public cannot be removed; set it to false instead",
        ));
    }
    if !metadata::remove(&state.db, project.id, &name).await? {
        return Err(ApiError::not_found(format!(
            "project {} has no metadata {name}",
            project.name
        )));
    }
    Ok(HttpResponse::Ok().finish())
}

/// Counts of a project: repositories and members per role.
#[derive(Serialize, ToSchema)]
pub struct ProjectSummary {
    repo_count: u64,
    project_admin_count: u64,
    maintainer_count: u64,
    developer_count: u64,
    guest_count: u64,
    limited_guest_count: u64,
    /// The storage quota: `hard` is the limit (-1 unlimited), `used` what is charged now.
    quota: SummaryQuota,
}

/// Harbor's quota shape inside a project summary.
#[derive(Serialize, ToSchema)]
pub struct SummaryQuota {
    hard: StorageAmount,
    used: StorageAmount,
}

/// An amount of storage in bytes.
#[derive(Serialize, ToSchema)]
pub struct StorageAmount {
    storage: i64,
}

/// Summarises a project: repository count and member counts per role.
///
/// Readable by everyone who can read the project.
#[utoipa::path(
    get,
    operation_id = "project_meta_summary",
    path = "/api/v2.0/projects/{project_name}/summary",
    tag = "project",
    params(("project_name" = String, Path, description = "Project name or id")),
    responses(
        (status = 200, description = "The summary", body = ProjectSummary),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn summary(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Project, Action::Read).await?;
    let holding = Query::select()
        .column(manifest::Column::RepositoryId)
        .from(manifest::Entity)
        .to_owned();
    let repo_count = repository::Entity::find()
        .filter(repository::Column::ProjectId.eq(project.id))
        .filter(repository::Column::Id.in_subquery(holding))
        .count(&state.db)
        .await?;
    let mut counts = [0u64; 5];
    for (slot, role) in counts.iter_mut().zip(ProjectRole::MEMBER_ROLES) {
        *slot = project_member::Entity::find()
            .filter(project_member::Column::ProjectId.eq(project.id))
            .filter(project_member::Column::RoleId.eq(role.id().unwrap_or_default()))
            .count(&state.db)
            .await?;
    }
    let [
        project_admin_count,
        developer_count,
        guest_count,
        maintainer_count,
        limited_guest_count,
    ] = counts;
    let used = crate::registry::quota::usage(&state.db, project.id).await?;
    Ok(HttpResponse::Ok().json(ProjectSummary {
        repo_count,
        project_admin_count,
        maintainer_count,
        developer_count,
        guest_count,
        limited_guest_count,
        quota: SummaryQuota {
            hard: StorageAmount {
                storage: project.storage_limit,
            },
            used: StorageAmount { storage: used },
        },
    }))
}

/// Whether a project can be deleted now, and why not.
#[derive(Serialize, ToSchema)]
pub struct Deletable {
    deletable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// Tells whether a project can be deleted: only once no repository holds an artifact.
///
/// `deletable` is false while any repository of the project holds an artifact; `message` says why.
#[utoipa::path(
    get,
    operation_id = "project_meta_deletable",
    path = "/api/v2.0/projects/{project_name}/_deletable",
    tag = "project",
    params(("project_name" = String, Path, description = "Project name or id")),
    responses(
        (status = 200, description = "Deletability and the reason", body = Deletable),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn deletable(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Project, Action::Delete).await?;
    let repositories = Query::select()
        .column(repository::Column::Id)
        .from(repository::Entity)
        .and_where(repository::Column::ProjectId.eq(project.id))
        .to_owned();
    let artifacts = manifest::Entity::find()
        .filter(manifest::Column::RepositoryId.in_subquery(repositories))
        .count(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(if artifacts == 0 {
        Deletable {
            deletable: true,
            message: None,
        }
    } else {
        Deletable {
            deletable: false,
            message: Some(format!("the project still holds {artifacts} artifact(s)")),
        }
    }))
}
