//! Projects (tenants): create, list, read, change visibility, delete.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Paging, caller, paged, signed_in};
use crate::app::AppState;
use crate::auth::{Action, Principal, ProjectAccess, ProjectRole, Resource};
use crate::config::ProjectCreation;
use crate::db::entities::{
    manifest, project, project_member, proxy_project, registry, repository, retention_policy, user,
    user_group_member,
};
use crate::error::ApiError;
use crate::names;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/projects", web::post().to(create))
        .route("/projects", web::get().to(list))
        .route("/projects", web::head().to(exists))
        .route("/projects/{project_name}", web::get().to(get))
        .route("/projects/{project_name}", web::put().to(update))
        .route("/projects/{project_name}", web::delete().to(delete));
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
    let access = authorize_in(state, req, &principal, &project, resource, action).await?;
    Ok((principal, project, access))
}

/// [`authorize`] for a project already loaded.
pub(crate) async fn authorize_in(
    state: &AppState,
    req: &HttpRequest,
    principal: &Principal,
    project: &project::Model,
    resource: Resource,
    action: Action,
) -> Result<ProjectAccess, ApiError> {
    super::audit::note_project(req, project.id);
    let access = state.rbac.access_to(&state.db, principal, project).await?;
    if state.rbac.allows(&access, resource, action) {
        return Ok(access);
    }
    let readable = state.rbac.allows(&access, Resource::Project, Action::Read);
    Err(match (principal, readable) {
        (Principal::Anonymous, _) => ApiError::unauthorized("authentication required"),
        (_, false) => ApiError::not_found(format!("project {} not found", project.name)),
        (_, true) => ApiError::forbidden(format!(
            "{} on {} is not allowed in project {}",
            action.name(),
            resource.name(),
            project.name
        )),
    })
}

/// A project as Harbor shows it.
#[derive(Serialize, ToSchema)]
pub struct ProjectView {
    project_id: i64,
    name: String,
    owner_id: i64,
    owner_name: String,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
    deleted: bool,
    repo_count: u64,
    metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_user_role_id: Option<i32>,
    current_user_role_ids: Vec<i32>,
    /// The registry endpoint a proxy-cache project pulls through.
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_id: Option<i64>,
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
    let mut metadata = crate::metadata::load(&state.db, project.id).await?;
    metadata.insert("public".into(), project.public.to_string());
    // As in Harbor, the project's retention policy is found through its metadata.
    let retention: Option<i64> = retention_policy::Entity::find()
        .select_only()
        .column(retention_policy::Column::Id)
        .filter(retention_policy::Column::ProjectId.eq(project.id))
        .into_tuple()
        .one(&state.db)
        .await?;
    if let Some(id) = retention {
        metadata.insert("retention_id".into(), id.to_string());
    }
    let registry_id = proxy_project::Entity::find_by_id(project.id)
        .one(&state.db)
        .await?
        .map(|p| p.registry_id);
    Ok(ProjectView {
        project_id: project.id,
        name: project.name,
        owner_id: project.owner_id,
        owner_name,
        creation_time: project.created_at,
        update_time: project.updated_at,
        deleted: false,
        repo_count,
        metadata,
        current_user_role_id: role_ids.iter().min().copied(),
        current_user_role_ids: role_ids,
        registry_id,
    })
}

/// A project's metadata map as sent and shown: string keys and values.
type Metadata = BTreeMap<String, String>;

/// A new project.
#[derive(Deserialize, ToSchema)]
pub struct NewProject {
    project_name: String,
    /// Harbor's deprecated top-level flag, still sent by older tools.
    public: Option<bool>,
    #[serde(default)]
    metadata: Option<Metadata>,
    storage_limit: Option<i64>,
    /// A registry endpoint's id: the project becomes a read-only pull-through cache of it.
    registry_id: Option<i64>,
}

fn parse_public(
    metadata: Option<&Metadata>,
    legacy: Option<bool>,
) -> Result<Option<bool>, ApiError> {
    if let Some(metadata) = metadata {
        crate::metadata::check_all(metadata).map_err(ApiError::bad_request)?;
    }
    match metadata.and_then(|m| m.get("public")).map(String::as_str) {
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::bad_request(format!(
            "metadata.public must be \"true\" or \"false\", got {other:?}"
        ))),
        None => Ok(legacy),
    }
}

/// Creates a project; the creator becomes its project administrator.
///
/// Names are lower case letters, digits and `._-`. `metadata` holds `public` and the policy
/// switches; `storage_limit` is in bytes, -1 (or 0, or absent) for unlimited. Who may create projects follows the
/// `project_creation_restriction` setting; robots need the system `project:create` permission
/// and administer the projects they create. With `registry_id` (administrators only) the project
/// is a read-only pull-through cache of that registry endpoint.
#[utoipa::path(
    post,
    operation_id = "projects_create",
    path = "/api/v2.0/projects",
    tag = "project",
    request_body = NewProject,
    responses(
        (status = 201, description = "Created; `Location` names the project"),
        (status = 400, description = "Invalid name, metadata or limit", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed to create projects", body = super::docs::Errors),
        (status = 409, description = "The name is taken", body = super::docs::Errors),
    )
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewProject>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    let may_create = match &principal {
        Principal::Robot(_) => state
            .rbac
            .system_allows(&principal, "project", Action::Create),
        _ => {
            principal.is_sysadmin()
                || crate::settings::project_creation(&state.db, &state.config).await?
                    == ProjectCreation::Everyone
        }
    };
    if !may_create {
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
    // As in Harbor, an absent or zero limit means the default, unlimited: Harbor's SDK sends
    // `0` when its caller gives no limit.
    let storage_limit = body.storage_limit.filter(|l| *l != 0).unwrap_or(-1);
    if storage_limit < -1 {
        return Err(ApiError::bad_request(
            "storage_limit must be -1 (unlimited) or a size in bytes",
        ));
    }
    if body.registry_id.is_some()
        && !state
            .rbac
            .system_allows(&principal, "registry", Action::Read)
    {
        return Err(ApiError::forbidden(
            "only system administrators create proxy-cache projects",
        ));
    }
    if let Some(id) = body.registry_id
        && registry::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .is_none()
    {
        return Err(ApiError::bad_request(format!(
            "registry {id} does not exist: create the endpoint first"
        )));
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    // A robot owns nothing itself: the first administrator is recorded as owner, and the robot
    // becomes the project's administrator through a membership.
    let (owner_id, member) = match &principal {
        Principal::Robot(robot) => (first_admin(&txn).await?, ("r", robot.id)),
        _ => {
            let id = principal.user_id().unwrap_or_default();
            (id, ("u", id))
        }
    };
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
        entity_id: Set(member.1),
        entity_type: Set(member.0.into()),
        role_id: Set(ProjectRole::ProjectAdmin.id().unwrap_or(1)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    if let Some(metadata) = &body.metadata {
        crate::metadata::store(&txn, project_id, metadata).await?;
    }
    if let Some(registry_id) = body.registry_id {
        proxy_project::Entity::insert(proxy_project::ActiveModel {
            project_id: Set(project_id),
            registry_id: Set(registry_id),
        })
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v2.0/projects/{project_id}")))
        .finish())
}

async fn first_admin(db: &impl sea_orm::ConnectionTrait) -> Result<i64, ApiError> {
    user::Entity::find()
        .filter(user::Column::Sysadmin.eq(true))
        .order_by_asc(user::Column::Id)
        .one(db)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| {
            ApiError::new(
                crate::error::ApiErrorCode::Conflict,
                "no administrator exists",
            )
        })
}

/// The projects `principal` may see: all for administrators, else public ones and those it
/// is a member of (directly or through a group), plus for robots those its permissions name.
pub(crate) fn visible_to(principal: &Principal) -> Option<Condition> {
    if principal.is_sysadmin() {
        return None;
    }
    let mut visible = Condition::any().add(project::Column::Public.eq(true));
    let membership = |kind: &str, id: i64| {
        Query::select()
            .column(project_member::Column::ProjectId)
            .from(project_member::Entity)
            .and_where(Expr::col(project_member::Column::EntityType).eq(kind))
            .and_where(Expr::col(project_member::Column::EntityId).eq(id))
            .to_owned()
    };
    match principal {
        Principal::User { id, .. } => {
            let groups = Query::select()
                .column(user_group_member::Column::GroupId)
                .from(user_group_member::Entity)
                .and_where(Expr::col(user_group_member::Column::UserId).eq(*id))
                .to_owned();
            let via_group = Query::select()
                .column(project_member::Column::ProjectId)
                .from(project_member::Entity)
                .and_where(Expr::col(project_member::Column::EntityType).eq("g"))
                .and_where(Expr::col(project_member::Column::EntityId).in_subquery(groups))
                .to_owned();
            visible = visible
                .add(project::Column::Id.in_subquery(membership("u", *id)))
                .add(project::Column::Id.in_subquery(via_group));
        }
        Principal::Robot(robot) => {
            let namespaces: Vec<&str> = robot
                .permissions
                .iter()
                .filter(|p| p.kind == "project")
                .map(|p| p.namespace.as_str())
                .collect();
            if namespaces.contains(&"*") {
                return None;
            }
            visible = visible
                .add(project::Column::Id.in_subquery(membership("r", robot.id)))
                .add(project::Column::Name.is_in(namespaces));
        }
        Principal::Anonymous => {}
    }
    Some(visible)
}

#[derive(Deserialize)]
pub struct ListQuery {
    name: Option<String>,
    #[serde(default, deserialize_with = "super::query_value::optional_bool")]
    public: Option<bool>,
    #[serde(flatten)]
    paging: Paging,
}

/// Lists the projects the caller can see.
///
/// Administrators see every project; others see public projects and those they are members
/// of (directly or through a group). Ordered by name.
#[utoipa::path(
    get,
    operation_id = "projects_list",
    path = "/api/v2.0/projects",
    tag = "project",
    params(
        ("name" = Option<String>, Query, description = "Only projects whose name contains this"),
        ("public" = Option<bool>, Query, description = "Only public or only private projects"),
        ("page" = Option<u64>, Query, description = "Page number, from 1"),
        ("page_size" = Option<u64>, Query, description = "Items per page, 1-100 (default 10)"),
    ),
    responses(
        (status = 200, description = "One page of projects; `X-Total-Count` and `Link` headers", body = Vec<ProjectView>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Wrong credentials", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let (offset, limit) = query.paging.window()?;
    let mut select = project::Entity::find();
    if let Some(visible) = visible_to(&principal) {
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExistsQuery {
    /// The name to check.
    project_name: String,
}

/// Checks whether a project name is taken.
///
/// Answers 200 when a project of that name exists and 404 when it does not, without a body.
#[utoipa::path(
    head,
    operation_id = "projects_exists",
    path = "/api/v2.0/projects",
    tag = "project",
    params(ExistsQuery),
    responses(
        (status = 200, description = "The name is taken"),
        (status = 400, description = "Missing project_name"),
        (status = 401, description = "Authentication required"),
        (status = 404, description = "The name is free"),
    )
)]
pub async fn exists(
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

/// Reads a project with the caller's roles in it.
///
/// Private projects the caller cannot read answer 404 (401 to anonymous callers), so their
/// names do not leak.
#[utoipa::path(
    get,
    operation_id = "projects_get",
    path = "/api/v2.0/projects/{project_name}",
    tag = "project",
    params(("project_name" = String, Path, description = "Project name, or id unless `X-Is-Resource-Name: true`")),
    responses(
        (status = 200, description = "The project", body = ProjectView),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, access) =
        authorize(&state, &req, &path, Resource::Project, Action::Read).await?;
    Ok(HttpResponse::Ok().json(view(&state, project, &access).await?))
}

/// The changeable part of a project.
#[derive(Deserialize, ToSchema)]
pub struct ProjectUpdate {
    public: Option<bool>,
    metadata: Option<Metadata>,
}

/// Changes a project's visibility and metadata switches.
///
/// Everything is validated first and stored in one transaction.
#[utoipa::path(
    put,
    operation_id = "projects_update",
    path = "/api/v2.0/projects/{project_name}",
    tag = "project",
    params(("project_name" = String, Path, description = "Project name, or id unless `X-Is-Resource-Name: true`")),
    request_body = ProjectUpdate,
    responses(
        (status = 200, description = "Updated"),
        (status = 400, description = "Invalid metadata", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: super::ObjectJson<ProjectUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Project, Action::Update).await?;
    let public = parse_public(body.metadata.as_ref(), body.public)?;
    let txn = crate::db::begin_write(&state.db).await?;
    if let Some(public) = public {
        project::Entity::update_many()
            .col_expr(project::Column::Public, Expr::value(public))
            .col_expr(project::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(project::Column::Id.eq(project.id))
            .exec(&txn)
            .await?;
    }
    if let Some(metadata) = &body.metadata {
        crate::metadata::store(&txn, project.id, metadata).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::Ok().finish())
}

/// Deletes an empty project.
///
/// A project still holding artifacts is refused with 412, like Harbor; `_deletable` tells in
/// advance.
#[utoipa::path(
    delete,
    operation_id = "projects_delete",
    path = "/api/v2.0/projects/{project_name}",
    tag = "project",
    params(("project_name" = String, Path, description = "Project name, or id unless `X-Is-Resource-Name: true`")),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
        (status = 412, description = "The project still holds artifacts", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Project, Action::Delete).await?;
    let txn = crate::db::begin_write(&state.db).await?;
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
    // Its proxy binding, webhook policies and other owned rows go by ON DELETE CASCADE.
    project::Entity::delete_by_id(project.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().finish())
}
