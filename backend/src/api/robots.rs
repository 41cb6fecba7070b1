//! Robot accounts: `/robots` (system and project level), Harbor's v2 robot API.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Order;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::query::{self, Field, Kind};
use super::{Paging, caller, paged, projects};
use crate::accounts::robots::{self, NewRobot, RobotError, RobotUpdate};
use crate::app::AppState;
use crate::auth::robot::ROBOT_PREFIX;
use crate::auth::{Action, Principal, Resource, RobotLevel, RobotPermission};
use crate::db::entities::{project, robot};
use crate::error::{ApiError, ApiErrorCode};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/robots", web::get().to(list))
        .route("/robots", web::post().to(create))
        .route("/robots/{robot_id}", web::get().to(get))
        .route("/robots/{robot_id}", web::put().to(update))
        .route("/robots/{robot_id}", web::patch().to(refresh))
        .route("/robots/{robot_id}", web::delete().to(delete))
        .route("/permissions", web::get().to(catalogue));
}

/// One `(resource, action)` a robot may be granted.
#[derive(Serialize, ToSchema)]
pub struct Grantable {
    resource: &'static str,
    action: &'static str,
}

/// What robots may be granted, by permission kind (Harbor's `Permissions`).
#[derive(Serialize, ToSchema)]
pub struct PermissionCatalogue {
    system: Vec<Grantable>,
    project: Vec<Grantable>,
}

fn grantable(catalogue: &'static [(&'static str, &'static [&'static str])]) -> Vec<Grantable> {
    catalogue
        .iter()
        .flat_map(|(resource, actions)| actions.iter().map(|action| Grantable { resource, action }))
        .collect()
}

/// Lists the permissions robot accounts may be granted, system-wide and per project.
///
/// Consoles build their permission pickers from this; any signed-in account may read it.
#[utoipa::path(
    get,
    operation_id = "permissions_catalogue",
    path = "/api/v2.0/permissions",
    tag = "robot",
    responses(
        (status = 200, description = "The catalogue", body = PermissionCatalogue),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
    )
)]
pub async fn catalogue(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    super::signed_in(&state, &req).await?;
    Ok(HttpResponse::Ok().json(PermissionCatalogue {
        system: grantable(crate::auth::robot::SYSTEM_CATALOGUE),
        project: grantable(crate::auth::robot::PROJECT_CATALOGUE),
    }))
}

impl From<RobotError> for ApiError {
    fn from(err: RobotError) -> Self {
        let message = err.to_string();
        match err {
            RobotError::NameInvalid(_)
            | RobotError::DurationInvalid
            | RobotError::SecretWeak(_)
            | RobotError::Permission(_)
            | RobotError::Immutable => ApiError::bad_request(message),
            RobotError::ProjectUnknown(_) | RobotError::NotFound(_) => ApiError::not_found(message),
            RobotError::Exists(_) => ApiError::conflict(message),
            RobotError::BeyondCreator => ApiError::forbidden(message),
            RobotError::Corrupt(e) => ApiError::internal(&e),
            RobotError::Hash(_) => ApiError::new(ApiErrorCode::InternalServerError, message),
            RobotError::Database(e) => e.into(),
        }
    }
}

/// A robot account as the API shows it; the secret is never included.
#[derive(Serialize, ToSchema)]
pub struct RobotView {
    id: i64,
    name: String,
    description: String,
    level: RobotLevel,
    duration: i64,
    editable: bool,
    disable: bool,
    /// Expiry as seconds since the epoch; -1 when the robot never expires.
    expires_at: i64,
    permissions: Vec<RobotPermission>,
    creator_type: String,
    creator_ref: String,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

fn view(row: robot::Model) -> Result<RobotView, ApiError> {
    let permissions =
        crate::auth::robot::stored_permissions(&row).map_err(|e| ApiError::internal(&e))?;
    Ok(RobotView {
        id: row.id,
        level: RobotLevel::parse(&row.level).unwrap_or(RobotLevel::Project),
        name: row.name,
        description: row.description,
        duration: row.duration,
        editable: true,
        disable: row.disabled,
        expires_at: row.expires_at.map_or(-1, |t| t.timestamp()),
        permissions,
        creator_type: row.creator_type,
        creator_ref: row.creator_ref,
        creation_time: row.created_at,
        update_time: row.updated_at,
    })
}

/// Checks `principal` may do `action` on robots of the level and project of a robot: project
/// robots by the project's robot permission, system robots by the system's.
async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    principal: &Principal,
    project_id: Option<i64>,
    action: Action,
) -> Result<(), ApiError> {
    if *principal == Principal::Anonymous {
        return Err(ApiError::unauthorized("authentication required"));
    }
    match project_id {
        Some(id) => {
            let project = project::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("project {id} not found")))?;
            projects::authorize_in(state, req, principal, &project, Resource::Robot, action)
                .await?;
            Ok(())
        }
        None if state.rbac.system_allows(principal, "robot", action) => Ok(()),
        None => Err(ApiError::forbidden(format!(
            "{} on system robot accounts needs system administrator rights",
            action.name()
        ))),
    }
}

/// The request to create a robot account (Harbor's `RobotCreate`).
#[derive(Deserialize, ToSchema)]
pub struct RobotCreate {
    /// Short name; the account is named `robot$<name>` (system) or `robot$<project>+<name>`.
    name: String,
    #[serde(default)]
    description: String,
    level: RobotLevel,
    /// Lifetime in days, -1 for never; 0 or absent for the configured default.
    duration: Option<i64>,
    #[serde(default)]
    disable: bool,
    /// A chosen secret (must pass the password policy); generated when absent.
    secret: Option<String>,
    permissions: Vec<RobotPermission>,
}

/// A created robot with its secret, shown this once (Harbor's `RobotCreated`).
#[derive(Serialize, ToSchema)]
pub struct RobotCreated {
    id: i64,
    name: String,
    secret: String,
    creation_time: DateTime<Utc>,
    expires_at: i64,
}

/// Creates a robot account.
///
/// Project-level robots need the robot-create permission in their project; system-level robots
/// need system administrator rights (or a system robot allowed to create robots). A robot may
/// only create robots whose permissions it holds itself. The secret is returned only here.
#[utoipa::path(
    post,
    operation_id = "robots_create",
    path = "/api/v2.0/robots",
    tag = "robot",
    request_body = RobotCreate,
    responses(
        (status = 201, description = "Created; `Location` names the robot", body = RobotCreated),
        (status = 400, description = "Invalid name, duration, secret or permissions", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed to create this robot", body = super::docs::Errors),
        (status = 404, description = "A named project does not exist", body = super::docs::Errors),
        (status = 409, description = "The name is taken", body = super::docs::Errors),
    )
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<RobotCreate>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let body = body.into_inner();
    let project_id = match body.level {
        RobotLevel::System => None,
        RobotLevel::Project => Some(project_of(&state, &body.permissions).await?),
    };
    authorize(&state, &req, &principal, project_id, Action::Create).await?;
    let new = NewRobot {
        name: body.name,
        description: body.description,
        level: body.level,
        duration: body.duration,
        disabled: body.disable,
        secret: body.secret,
        permissions: body.permissions,
    };
    let default_duration = crate::settings::robot_duration_days(&state.db, &state.config).await?;
    let created = robots::create(&state.db, &principal, new, default_duration).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v2.0/robots/{}", created.row.id)))
        .json(RobotCreated {
            id: created.row.id,
            name: created.row.name,
            secret: created.secret,
            creation_time: created.row.created_at,
            expires_at: created.row.expires_at.map_or(-1, |t| t.timestamp()),
        }))
}

/// The project id of a project-level robot's permissions.
async fn project_of(state: &AppState, permissions: &[RobotPermission]) -> Result<i64, ApiError> {
    let namespace = permissions
        .iter()
        .find(|p| p.kind == "project")
        .map(|p| p.namespace.clone())
        .ok_or_else(|| ApiError::bad_request("a project-level robot needs a project permission"))?;
    project::Entity::find()
        .filter(project::Column::Name.eq(&namespace))
        .one(&state.db)
        .await?
        .map(|p| p.id)
        .ok_or_else(|| ApiError::not_found(format!("project {namespace} not found")))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RobotListQuery {
    /// Filters: `Level` (system or project), `ProjectID`, `name` (e.g. `name=~ci`).
    q: Option<String>,
    /// Sort fields: `name`, `creation_time`, `-` for descending.
    sort: Option<String>,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

/// Lists robot accounts.
///
/// Administrators see every robot; others must filter by `ProjectID` of a project where they
/// may list robots.
#[utoipa::path(
    get,
    operation_id = "robots_list",
    path = "/api/v2.0/robots",
    tag = "robot",
    params(RobotListQuery),
    responses(
        (status = 200, description = "One page of robots; `X-Total-Count` and `Link` headers", body = Vec<RobotView>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed to list these robots", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<RobotListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let terms = with_prefixed_names(query::parse(params.q.as_deref().unwrap_or(""))?);
    let fields = [
        Field::new("Level", robot::Column::Level, Kind::Text),
        Field::new("ProjectID", robot::Column::ProjectId, Kind::Int),
        Field::new("name", robot::Column::Name, Kind::Text),
        Field::new("creation_time", robot::Column::CreatedAt, Kind::Time),
        Field::new("id", robot::Column::Id, Kind::Int),
    ];
    let project_id = match query::term(&terms, "ProjectID") {
        Some(query::Matcher::Exact(id)) => id.parse::<i64>().ok(),
        _ => None,
    };
    authorize(&state, &req, &principal, project_id, Action::List).await?;
    let select = robot::Entity::find().filter(query::condition(&terms, &fields, &[])?);
    let total = select.clone().count(&state.db).await?;
    let mut select = select;
    for (column, direction) in query::order(params.sort.as_deref(), &fields, ("id", Order::Asc))? {
        select = select.order_by(column, direction);
    }
    let rows = select.offset(offset).limit(limit).all(&state.db).await?;
    let views = rows.into_iter().map(view).collect::<Result<Vec<_>, _>>()?;
    let mut response = HttpResponse::Ok();
    paged(&mut response, "/api/v2.0/robots", &paging, total);
    Ok(response.json(views))
}

/// Harbor stores robot names without `robot$` and its clients filter on that (`name=p+ci`);
/// Berth stores the full name, so exact names given without the prefix get it.
fn with_prefixed_names(terms: Vec<query::Term>) -> Vec<query::Term> {
    let full = |name: String| {
        if name.starts_with(ROBOT_PREFIX) {
            name
        } else {
            format!("{ROBOT_PREFIX}{name}")
        }
    };
    terms
        .into_iter()
        .map(|mut term| {
            if term.key.eq_ignore_ascii_case("name") {
                term.matcher = match term.matcher {
                    query::Matcher::Exact(name) => query::Matcher::Exact(full(name)),
                    query::Matcher::AnyOf(names) => {
                        query::Matcher::AnyOf(names.into_iter().map(full).collect())
                    }
                    other => other,
                };
            }
            term
        })
        .collect()
}

/// Reads one robot account (without its secret).
///
/// Readable by holders of the project's `robot:read` permission (project robots) or administrators
/// (system robots).
#[utoipa::path(
    get,
    operation_id = "robots_get",
    path = "/api/v2.0/robots/{robot_id}",
    tag = "robot",
    params(("robot_id" = i64, Path, description = "Robot id")),
    responses(
        (status = 200, description = "The robot", body = RobotView),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such robot", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let row = robots::find(&state.db, *path).await?;
    authorize(&state, &req, &principal, row.project_id, Action::Read).await?;
    Ok(HttpResponse::Ok().json(view(row)?))
}

/// The update of a robot account (Harbor sends the whole robot back).
#[derive(Deserialize, ToSchema)]
pub struct RobotChange {
    name: Option<String>,
    level: Option<RobotLevel>,
    description: Option<String>,
    duration: Option<i64>,
    disable: Option<bool>,
    permissions: Option<Vec<RobotPermission>>,
}

/// Updates a robot's description, lifetime, disabled flag and permissions.
///
/// The name and level cannot change. Expiry is recomputed from the creation time.
#[utoipa::path(
    put,
    operation_id = "robots_update",
    path = "/api/v2.0/robots/{robot_id}",
    tag = "robot",
    params(("robot_id" = i64, Path, description = "Robot id")),
    request_body = RobotChange,
    responses(
        (status = 200, description = "Updated"),
        (status = 400, description = "Invalid change", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such robot", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: super::ObjectJson<RobotChange>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let row = robots::find(&state.db, *path).await?;
    authorize(&state, &req, &principal, row.project_id, Action::Update).await?;
    let body = body.into_inner();
    let change = RobotUpdate {
        name: body.name,
        level: body.level,
        description: body.description,
        duration: body.duration,
        disabled: body.disable,
        permissions: body.permissions,
    };
    robots::update(&state.db, &principal, &row, change).await?;
    state.authenticator.forget_all();
    Ok(HttpResponse::Ok().finish())
}

/// A new secret, chosen or (when absent) generated.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct RobotSecret {
    secret: Option<String>,
}

/// Refreshes a robot's secret: sets the given one, or generates one and returns it.
///
/// The old secret stops working at once. A chosen secret must pass the password policy.
#[utoipa::path(
    patch,
    operation_id = "robots_refresh",
    path = "/api/v2.0/robots/{robot_id}",
    tag = "robot",
    params(("robot_id" = i64, Path, description = "Robot id")),
    request_body = RobotSecret,
    responses(
        (status = 200, description = "The new secret, shown this once", body = RobotSecret),
        (status = 400, description = "The chosen secret fails the password policy", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such robot", body = super::docs::Errors),
    )
)]
pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Option<super::ObjectJson<RobotSecret>>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let row = robots::find(&state.db, *path).await?;
    authorize(&state, &req, &principal, row.project_id, Action::Update).await?;
    let chosen = body.and_then(|b| b.0.secret);
    let secret = robots::refresh_secret(&state.db, &row, chosen).await?;
    state.authenticator.forget_all();
    Ok(HttpResponse::Ok().json(RobotSecret {
        secret: Some(secret),
    }))
}

/// Deletes a robot account; its credentials stop working at once.
///
/// Any membership the robot holds goes with it.
#[utoipa::path(
    delete,
    operation_id = "robots_delete",
    path = "/api/v2.0/robots/{robot_id}",
    tag = "robot",
    params(("robot_id" = i64, Path, description = "Robot id")),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such robot", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let row = robots::find(&state.db, *path).await?;
    authorize(&state, &req, &principal, row.project_id, Action::Delete).await?;
    robots::delete(&state.db, &row).await?;
    state.authenticator.forget_all();
    Ok(HttpResponse::Ok().finish())
}
