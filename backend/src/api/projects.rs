//! Projects (tenants): create, list, read, change visibility, delete.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::{Paging, caller, paged, signed_in};
use crate::app::AppState;
use crate::auth::{Action, Principal, ProjectAccess, ProjectRole, Resource};
use crate::config::ProjectCreation;
use crate::db::entities::{manifest, project, project_member, repository, user};
use crate::error::ApiError;
use crate::names;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/projects", web::post().to(create))
        .route("/projects", web::get().to(list))
        .route("/projects", web::head().to(exists))
        .route("/projects/{project}", web::get().to(get))
        .route("/projects/{project}", web::put().to(update))
        .route("/projects/{project}", web::delete().to(delete));
}

/// Finds a project by name, or by id when the path segment is numeric and the caller did not
/// send `X-Is-Resource-Name: true` (Harbor's convention).
pub(crate) async fn find(
    state: &AppState,
    req: &HttpRequest,
    name_or_id: &str,
) -> Result<project::Model, ApiError> {
    let by_name = req
        .headers()
        .get("X-Is-Resource-Name")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let query = match name_or_id.parse::<i64>() {
        Ok(id) if !by_name => project::Entity::find_by_id(id),
        _ => project::Entity::find().filter(project::Column::Name.eq(name_or_id)),
    };
    query
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("project {name_or_id} not found")))
}

/// Loads a project and checks the caller may do `action` on `resource` in it. Callers who may
/// not even read the project get 404 (or 401 when anonymous), so private names do not leak.
pub(crate) async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    name_or_id: &str,
    resource: Resource,
    action: Action,
) -> Result<(Principal, project::Model, ProjectAccess), ApiError> {
    let principal = caller(state, req).await?;
    let project = find(state, req, name_or_id).await?;
    let access = state
        .rbac
        .access_to(&state.db, &principal, &project)
        .await?;
    if state.rbac.allows(&access, resource, action) {
        return Ok((principal, project, access));
    }
    let readable = state.rbac.allows(&access, Resource::Project, Action::Read);
    Err(match (&principal, readable) {
        (Principal::Anonymous, _) => ApiError::unauthorized("authentication required"),
        (_, false) => ApiError::not_found(format!("project {name_or_id} not found")),
        (_, true) => ApiError::forbidden(format!(
            "{} on {} is not allowed in project {}",
            action.name(),
            resource.name(),
            project.name
        )),
    })
}

#[derive(Serialize)]
struct ProjectView {
    project_id: i64,
    name: String,
    owner_id: i64,
    owner_name: String,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
    deleted: bool,
    repo_count: u64,
    metadata: HashMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_user_role_id: Option<i32>,
    current_user_role_ids: Vec<i32>,
}

async fn view(
    state: &AppState,
    project: project::Model,
    access: &ProjectAccess,
) -> Result<ProjectView, ApiError> {
    let owner_name = user::Entity::find_by_id(project.owner_id)
        .one(&state.db)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    let with_manifests = Query::select()
        .column(manifest::Column::RepositoryId)
        .from(manifest::Entity)
        .to_owned();
    let repo_count = repository::Entity::find()
        .filter(repository::Column::ProjectId.eq(project.id))
        .filter(repository::Column::Id.in_subquery(with_manifests))
        .count(&state.db)
        .await?;
    let role_ids: Vec<i32> = access.roles.iter().filter_map(|r| r.id()).collect();
    Ok(ProjectView {
        project_id: project.id,
        name: project.name,
        owner_id: project.owner_id,
        owner_name,
        creation_time: project.created_at,
        update_time: project.updated_at,
        deleted: false,
        repo_count,
        metadata: HashMap::from([("public", project.public.to_string())]),
        current_user_role_id: role_ids.iter().min().copied(),
        current_user_role_ids: role_ids,
    })
}

#[derive(Deserialize, Default)]
struct Metadata {
    public: Option<String>,
}

#[derive(Deserialize)]
struct NewProject {
    project_name: String,
    /// Harbor's deprecated top-level flag, still sent by older tools.
    public: Option<bool>,
    #[serde(default)]
    metadata: Option<Metadata>,
    storage_limit: Option<i64>,
}

fn parse_public(
    metadata: Option<&Metadata>,
    legacy: Option<bool>,
) -> Result<Option<bool>, ApiError> {
    match metadata.and_then(|m| m.public.as_deref()) {
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::bad_request(format!(
            "metadata.public must be \"true\" or \"false\", got {other:?}"
        ))),
        None => Ok(legacy),
    }
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewProject>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    if state.config.auth.project_creation == ProjectCreation::Adminonly && !principal.is_sysadmin()
    {
        return Err(ApiError::forbidden(
            "only system administrators can create projects",
        ));
    }
    let body = body.into_inner();
    if !names::is_valid_project(&body.project_name) {
        return Err(ApiError::bad_request(format!(
            "project name {:?} is invalid: use lower case letters, digits and . _ -, starting \
             and ending with a letter or digit",
            body.project_name
        )));
    }
    let public = parse_public(body.metadata.as_ref(), body.public)?.unwrap_or(false);
    let storage_limit = body.storage_limit.unwrap_or(-1);
    if storage_limit < -1 {
        return Err(ApiError::bad_request(
            "storage_limit must be -1 (unlimited) or a size in bytes",
        ));
    }
    let owner_id = principal.user_id().unwrap_or_default();
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let inserted = project::Entity::insert(project::ActiveModel {
        name: Set(body.project_name.clone()),
        public: Set(public),
        owner_id: Set(owner_id),
        storage_limit: Set(storage_limit),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await;
    let project_id = match inserted {
        Ok(row) => row.last_insert_id,
        Err(e) if crate::db::is_unique_violation(&e) => {
            return Err(ApiError::conflict(format!(
                "project {} already exists",
                body.project_name
            )));
        }
        Err(e) => return Err(e.into()),
    };
    project_member::Entity::insert(project_member::ActiveModel {
        project_id: Set(project_id),
        entity_id: Set(owner_id),
        entity_type: Set("u".into()),
        role_id: Set(ProjectRole::ProjectAdmin.id().unwrap_or(1)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v2.0/projects/{project_id}")))
        .finish())
}

#[derive(Deserialize)]
struct ListQuery {
    name: Option<String>,
    #[serde(default, deserialize_with = "super::query_value::optional_bool")]
    public: Option<bool>,
    #[serde(flatten)]
    paging: Paging,
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let (offset, limit) = query.paging.window()?;
    let mut select = project::Entity::find();
    if !principal.is_sysadmin() {
        let mut visible = Condition::any().add(project::Column::Public.eq(true));
        if let Some(user_id) = principal.user_id() {
            let member_of = Query::select()
                .column(project_member::Column::ProjectId)
                .from(project_member::Entity)
                .and_where(Expr::col(project_member::Column::EntityType).eq("u"))
                .and_where(Expr::col(project_member::Column::EntityId).eq(user_id))
                .to_owned();
            visible = visible.add(project::Column::Id.in_subquery(member_of));
        }
        select = select.filter(visible);
    }
    if let Some(name) = query.name.as_deref().filter(|n| !n.is_empty()) {
        select = select.filter(project::Column::Name.contains(name));
    }
    if let Some(public) = query.public {
        select = select.filter(project::Column::Public.eq(public));
    }
    let total = select.clone().count(&state.db).await?;
    let rows = select
        .order_by_asc(project::Column::Name)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        let access = state.rbac.access_to(&state.db, &principal, &row).await?;
        views.push(view(&state, row, &access).await?);
    }
    let mut response = HttpResponse::Ok();
    paged(&mut response, "/api/v2.0/projects", &query.paging, total);
    Ok(response.json(views))
}

#[derive(Deserialize)]
struct ExistsQuery {
    project_name: String,
}

/// `HEAD /projects?project_name=`: 200 when the name is taken, 404 otherwise.
async fn exists(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ExistsQuery>,
) -> Result<HttpResponse, ApiError> {
    signed_in(&state, &req).await?;
    let found = project::Entity::find()
        .filter(project::Column::Name.eq(&query.project_name))
        .count(&state.db)
        .await?;
    Ok(if found > 0 {
        HttpResponse::Ok().finish()
    } else {
        HttpResponse::NotFound().finish()
    })
}

async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, access) =
        authorize(&state, &req, &path, Resource::Project, Action::Read).await?;
    Ok(HttpResponse::Ok().json(view(&state, project, &access).await?))
}

#[derive(Deserialize)]
struct ProjectUpdate {
    public: Option<bool>,
    metadata: Option<Metadata>,
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ProjectUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Project, Action::Update).await?;
    if let Some(public) = parse_public(body.metadata.as_ref(), body.public)? {
        project::Entity::update_many()
            .col_expr(project::Column::Public, Expr::value(public))
            .col_expr(project::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(project::Column::Id.eq(project.id))
            .exec(&state.db)
            .await?;
    }
    Ok(HttpResponse::Ok().finish())
}

/// Deletes an empty project. A project still holding artifacts is refused (412), like Harbor.
async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Project, Action::Delete).await?;
    let txn = state.db.begin().await?;
    let repositories: Vec<i64> = repository::Entity::find()
        .select_only()
        .column(repository::Column::Id)
        .filter(repository::Column::ProjectId.eq(project.id))
        .into_tuple()
        .all(&txn)
        .await?;
    let artifacts = manifest::Entity::find()
        .filter(manifest::Column::RepositoryId.is_in(repositories.iter().copied()))
        .count(&txn)
        .await?;
    if artifacts > 0 {
        return Err(ApiError::new(
            crate::error::ApiErrorCode::Precondition,
            format!(
                "project {} still holds {artifacts} artifact(s); delete its repositories first",
                project.name
            ),
        ));
    }
    // Repositories holding only blobs of unfinished pushes go with the project.
    repository::Entity::delete_many()
        .filter(repository::Column::ProjectId.eq(project.id))
        .exec(&txn)
        .await?;
    project::Entity::delete_by_id(project.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().finish())
}
