//! Repositories: list (per project and across projects), read, change the description, delete.
//!
//! Repository names in paths omit the project and encode `/` as `%2F` (Harbor clients send it
//! encoded twice, `%252F`); both forms are accepted.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;
use sea_orm::sea_query::{Expr, Order, Query};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::projects::{authorize, visible_to};
use super::query::{self, Field, Kind};
use super::{Paging, caller, paged};
use crate::app::AppState;
use crate::auth::{Action, Resource};
use crate::db::entities::{manifest, project, repository};
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/repositories", web::get().to(list_all))
        .route("/projects/{project_name}/repositories", web::get().to(list))
        .route(
            "/projects/{project_name}/repositories/{repository_name}",
            web::get().to(get),
        )
        .route(
            "/projects/{project_name}/repositories/{repository_name}",
            web::put().to(update),
        )
        .route(
            "/projects/{project_name}/repositories/{repository_name}",
            web::delete().to(delete),
        );
}

/// Decodes a repository path segment until no escape is left (`%252F` → `%2F` → `/`).
pub(crate) fn decode_name(segment: &str) -> String {
    let mut name = segment.to_owned();
    for _ in 0..2 {
        if !name.contains('%') {
            break;
        }
        name = percent_decode_str(&name).decode_utf8_lossy().into_owned();
    }
    name
}

/// A repository as Harbor shows it.
#[derive(Serialize, ToSchema)]
pub struct RepositoryView {
    id: i64,
    project_id: i64,
    /// Full name, `<project>/<path>`.
    name: String,
    description: String,
    artifact_count: u64,
    pull_count: i64,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

async fn view(state: &AppState, row: repository::Model) -> Result<RepositoryView, ApiError> {
    let artifact_count = manifest::Entity::find()
        .filter(manifest::Column::RepositoryId.eq(row.id))
        .filter(manifest::Column::SubjectDigest.is_null())
        .count(&state.db)
        .await?;
    Ok(RepositoryView {
        id: row.id,
        project_id: row.project_id,
        name: row.name,
        description: row.description,
        artifact_count,
        pull_count: row.pull_count,
        creation_time: row.created_at,
        update_time: row.updated_at,
    })
}

fn fields() -> [Field; 4] {
    [
        Field::new("name", repository::Column::Name, Kind::Text),
        Field::new("creation_time", repository::Column::CreatedAt, Kind::Time),
        Field::new("update_time", repository::Column::UpdatedAt, Kind::Time),
        Field::new("pull_count", repository::Column::PullCount, Kind::Int),
    ]
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepositoryListQuery {
    /// Filters: `name` (e.g. `name=~app`), `creation_time`, `update_time`, `pull_count`.
    q: Option<String>,
    /// Sort fields: `name`, `creation_time`, `update_time`, `pull_count`; `-` for descending.
    sort: Option<String>,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

/// Repositories that hold at least one artifact (a repository exists from its first push).
fn with_artifacts() -> sea_orm::Condition {
    let holding = Query::select()
        .column(manifest::Column::RepositoryId)
        .from(manifest::Entity)
        .to_owned();
    sea_orm::Condition::all().add(repository::Column::Id.in_subquery(holding))
}

async fn page(
    state: &AppState,
    params: &RepositoryListQuery,
    scope: sea_orm::Condition,
    link: &str,
) -> Result<HttpResponse, ApiError> {
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let fields = fields();
    let terms = query::parse(params.q.as_deref().unwrap_or(""))?;
    let select = repository::Entity::find()
        .filter(scope)
        .filter(with_artifacts())
        .filter(query::condition(&terms, &fields, &[])?);
    let total = select.clone().count(&state.db).await?;
    let mut select = select;
    for (column, direction) in query::order(params.sort.as_deref(), &fields, ("name", Order::Asc))?
    {
        select = select.order_by(column, direction);
    }
    let rows = select.offset(offset).limit(limit).all(&state.db).await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        views.push(view(state, row).await?);
    }
    let mut response = HttpResponse::Ok();
    paged(&mut response, link, &paging, total);
    Ok(response.json(views))
}

/// Lists the repositories of every project the caller can see.
///
/// Administrators see every project's repositories; others those of public projects and of projects
/// they belong to.
#[utoipa::path(
    get,
    operation_id = "repositories_list_all",
    path = "/api/v2.0/repositories",
    tag = "repository",
    params(RepositoryListQuery),
    responses(
        (status = 200, description = "One page of repositories; `X-Total-Count` and `Link` headers", body = Vec<RepositoryView>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Wrong credentials", body = super::docs::Errors),
    )
)]
pub async fn list_all(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<RepositoryListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let mut scope = sea_orm::Condition::all();
    if let Some(visible) = visible_to(&principal) {
        let projects = Query::select()
            .column(project::Column::Id)
            .from(project::Entity)
            .cond_where(visible)
            .to_owned();
        scope = scope.add(repository::Column::ProjectId.in_subquery(projects));
    }
    page(&state, &params, scope, "/api/v2.0/repositories").await
}

/// Lists the repositories of a project.
///
/// Repositories appear with their first artifact. Ordered by name unless `sort` says otherwise.
#[utoipa::path(
    get,
    operation_id = "repositories_list",
    path = "/api/v2.0/projects/{project_name}/repositories",
    tag = "repository",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        RepositoryListQuery
    ),
    responses(
        (status = 200, description = "One page of repositories; `X-Total-Count` and `Link` headers", body = Vec<RepositoryView>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<RepositoryListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) =
        authorize(&state, &req, &path, Resource::Repository, Action::List).await?;
    let scope = sea_orm::Condition::all().add(repository::Column::ProjectId.eq(project.id));
    let link = format!("/api/v2.0/projects/{}/repositories", project.name);
    page(&state, &params, scope, &link).await
}

/// Loads a repository of an authorized project.
pub(crate) async fn find(
    state: &AppState,
    project: &project::Model,
    segment: &str,
) -> Result<repository::Model, ApiError> {
    let name = format!("{}/{}", project.name, decode_name(segment));
    repository::Entity::find()
        .filter(repository::Column::Name.eq(&name))
        .filter(repository::Column::ProjectId.eq(project.id))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("repository {name} not found")))
}

/// Reads one repository.
///
/// `artifact_count` counts the artifacts listed in the repository (accessories excluded).
#[utoipa::path(
    get,
    operation_id = "repositories_get",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}",
    tag = "repository",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
    ),
    responses(
        (status = 200, description = "The repository", body = RepositoryView),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project or repository", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo) = path.into_inner();
    let (_, project, _) = authorize(
        &state,
        &req,
        &project_name,
        Resource::Repository,
        Action::Read,
    )
    .await?;
    let row = find(&state, &project, &repo).await?;
    Ok(HttpResponse::Ok().json(view(&state, row).await?))
}

/// The editable part of a repository.
#[derive(Deserialize, ToSchema)]
pub struct RepositoryChange {
    description: String,
}

/// Changes a repository's description.
///
/// Needs the project's `repository:update` permission.
#[utoipa::path(
    put,
    operation_id = "repositories_update",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}",
    tag = "repository",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
    ),
    request_body = RepositoryChange,
    responses(
        (status = 200, description = "Updated"),
        (status = 400, description = "Invalid body", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project or repository", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<RepositoryChange>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo) = path.into_inner();
    let (_, project, _) = authorize(
        &state,
        &req,
        &project_name,
        Resource::Repository,
        Action::Update,
    )
    .await?;
    let row = find(&state, &project, &repo).await?;
    repository::Entity::update_many()
        .col_expr(
            repository::Column::Description,
            Expr::value(body.description.clone()),
        )
        .col_expr(repository::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(repository::Column::Id.eq(row.id))
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// Deletes a repository with every artifact and tag in it; blobs are reclaimed by garbage
/// collection.
///
/// Needs the project's `repository:delete` permission; everything is removed in one transaction.
#[utoipa::path(
    delete,
    operation_id = "repositories_delete",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}",
    tag = "repository",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
    ),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project or repository", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo) = path.into_inner();
    let (_, project, _) = authorize(
        &state,
        &req,
        &project_name,
        Resource::Repository,
        Action::Delete,
    )
    .await?;
    let row = find(&state, &project, &repo).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    // Tags, references and labels go with the manifests (ON DELETE CASCADE).
    manifest::Entity::delete_many()
        .filter(manifest::Column::RepositoryId.eq(row.id))
        .exec(&txn)
        .await?;
    repository::Entity::delete_by_id(row.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().finish())
}
