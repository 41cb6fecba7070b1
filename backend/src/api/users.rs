//! User accounts: creation by an administrator (or self-registration when enabled), listing
//! and search, reading and editing, password changes under the password policy, granting
//! system administrator rights, deletion, and the signed-in user's record and permissions.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, Order};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::query::{self, Field, Kind};
use super::{Paging, caller, paged, signed_in};
use crate::app::AppState;
use crate::auth::robot::SYSTEM_CATALOGUE;
use crate::auth::{Action, Principal, Resource, next_credential_version, password, session};
use crate::db::entities::{project, project_member, user};
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::post().to(create))
        .route("/users", web::get().to(list))
        .route("/users/current", web::get().to(current))
        .route("/users/current", web::route().to(super::unrouted))
        .route("/users/current/permissions", web::get().to(permissions))
        .route("/users/search", web::get().to(search))
        .route("/users/search", web::route().to(super::unrouted))
        .route("/users/{user_id}", web::get().to(get))
        .route("/users/{user_id}", web::put().to(update))
        .route("/users/{user_id}", web::delete().to(delete))
        .route("/users/{user_id}/password", web::put().to(change_password))
        .route("/users/{user_id}/sysadmin", web::put().to(set_sysadmin));
}

/// A user as the API shows it (never with a password hash).
#[derive(Serialize, ToSchema)]
pub struct UserView {
    user_id: i64,
    username: String,
    email: String,
    realname: String,
    comment: String,
    sysadmin_flag: bool,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

impl From<user::Model> for UserView {
    fn from(u: user::Model) -> Self {
        Self {
            user_id: u.id,
            username: u.username,
            email: u.email,
            realname: u.realname,
            comment: u.comment,
            sysadmin_flag: u.sysadmin,
            creation_time: u.created_at,
            update_time: u.updated_at,
        }
    }
}

/// A new user account.
#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    username: String,
    password: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    realname: String,
    #[serde(default)]
    comment: String,
}

/// Harbor's rule: 1-255 characters, none of `,"~#$%` and no control characters or spaces.
/// `$` is kept for robot accounts, whose names can then never collide with a user's.
pub(crate) fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || ",\"~#$%:/".contains(c))
}

/// Creates a user: administrators always, anyone when self-registration is enabled.
///
/// User names are 1-255 characters without spaces or `,"~#$%:/` (`$` is reserved for robots);
/// passwords follow the policy: 8-128 characters with upper case, lower case and a digit.
#[utoipa::path(
    post,
    operation_id = "users_create",
    path = "/api/v2.0/users",
    tag = "user",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created; `Location` names the user"),
        (status = 400, description = "Invalid name or a password failing the policy", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Only administrators create users", body = super::docs::Errors),
        (status = 409, description = "The name is taken", body = super::docs::Errors),
    )
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let allowed = state.rbac.system_allows(&principal, "user", Action::Create)
        || (principal == Principal::Anonymous
            && crate::settings::self_registration(&state.db, &state.config).await?);
    if !allowed {
        return Err(if principal == Principal::Anonymous {
            ApiError::unauthorized("authentication required")
        } else {
            ApiError::forbidden("only system administrators can create users")
        });
    }
    let body = body.into_inner();
    if !valid_username(&body.username) {
        return Err(ApiError::bad_request(
            "username must be 1-255 characters without spaces or any of , \" ~ # $ % : /",
        ));
    }
    password::check_policy(&body.password).map_err(ApiError::bad_request)?;
    let hash = password::hash(&body.password).map_err(|e| ApiError::internal(&e))?;
    let now = Utc::now();
    let inserted = user::Entity::insert(user::ActiveModel {
        username: Set(body.username.clone()),
        email: Set(body.email),
        realname: Set(body.realname),
        comment: Set(body.comment),
        password_hash: Set(hash),
        sysadmin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&state.db)
    .await;
    match inserted {
        Ok(row) => Ok(HttpResponse::Created()
            .insert_header((
                "Location",
                format!("/api/v2.0/users/{}", row.last_insert_id),
            ))
            .finish()),
        Err(e) if crate::db::is_unique_violation(&e) => Err(ApiError::conflict(format!(
            "user {} already exists",
            body.username
        ))),
        Err(e) => Err(e.into()),
    }
}

fn require_admin(state: &AppState, principal: &Principal, action: Action) -> Result<(), ApiError> {
    match principal {
        Principal::Anonymous => Err(ApiError::unauthorized("authentication required")),
        _ if state.rbac.system_allows(principal, "user", action) => Ok(()),
        _ => Err(ApiError::forbidden(format!(
            "{} on users needs system administrator rights",
            action.name()
        ))),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Filters: `username`, `email` (e.g. `username=~dev`), `sysadmin_flag`.
    q: Option<String>,
    /// Sort fields: `username`, `creation_time`; `-` for descending.
    sort: Option<String>,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

/// Lists users (administrators only).
///
/// Ordered by id unless `sort` says otherwise; `q` filters by `username`, `email`, `sysadmin_flag`.
#[utoipa::path(
    get,
    operation_id = "users_list",
    path = "/api/v2.0/users",
    tag = "user",
    params(UserListQuery),
    responses(
        (status = 200, description = "One page of users; `X-Total-Count` and `Link` headers", body = Vec<UserView>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<UserListQuery>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &signed_in(&state, &req).await?, Action::List)?;
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let fields = [
        Field::new("username", user::Column::Username, Kind::Text),
        Field::new("email", user::Column::Email, Kind::Text),
        Field::new("sysadmin_flag", user::Column::Sysadmin, Kind::Bool),
        Field::new("creation_time", user::Column::CreatedAt, Kind::Time),
        Field::new("user_id", user::Column::Id, Kind::Int),
    ];
    let terms = query::parse(params.q.as_deref().unwrap_or(""))?;
    let select = user::Entity::find().filter(query::condition(&terms, &fields, &[])?);
    let total = select.clone().count(&state.db).await?;
    let mut select = select;
    for (column, direction) in
        query::order(params.sort.as_deref(), &fields, ("user_id", Order::Asc))?
    {
        select = select.order_by(column, direction);
    }
    let rows = select.offset(offset).limit(limit).all(&state.db).await?;
    let mut response = HttpResponse::Ok();
    paged(&mut response, "/api/v2.0/users", &paging, total);
    Ok(response.json(rows.into_iter().map(UserView::from).collect::<Vec<_>>()))
}

/// Reads the signed-in user.
///
/// Robot accounts have no user record and get 401.
#[utoipa::path(
    get,
    operation_id = "users_current",
    path = "/api/v2.0/users/current",
    tag = "user",
    responses(
        (status = 200, description = "The signed-in user", body = UserView),
        (status = 401, description = "Authentication required (robots have no user record)", body = super::docs::Errors),
    )
)]
pub async fn current(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    let id = principal
        .user_id()
        .ok_or_else(|| ApiError::unauthorized("robot accounts have no user record"))?;
    Ok(HttpResponse::Ok().json(UserView::from(find(&state, id).await?)))
}

/// One permission the caller holds.
#[derive(Serialize, ToSchema)]
pub struct PermissionView {
    resource: String,
    action: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PermissionQuery {
    /// `/project/<id or name>` for a project's permissions; system permissions otherwise.
    scope: Option<String>,
}

/// Lists what the caller may do, in a project (`scope=/project/<id>`) or at system level, so a
/// console can hide what the user cannot use.
///
/// Project permissions come from the caller's roles (direct and through groups), robot permissions
/// and the public-project rule.
#[utoipa::path(
    get,
    operation_id = "users_permissions",
    path = "/api/v2.0/users/current/permissions",
    tag = "user",
    params(PermissionQuery),
    responses(
        (status = 200, description = "The permissions held", body = Vec<PermissionView>),
        (status = 400, description = "Invalid scope", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn permissions(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<PermissionQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    let mut held = Vec::new();
    match params
        .scope
        .as_deref()
        .filter(|s| !s.is_empty() && *s != "/")
    {
        Some(scope) => {
            let target = scope
                .strip_prefix("/project/")
                .ok_or_else(|| ApiError::bad_request("scope must be /project/<id>"))?;
            let (_, _, access) =
                super::projects::authorize(&state, &req, target, Resource::Project, Action::Read)
                    .await?;
            for resource in Resource::ALL {
                for action in Action::ALL {
                    if state.rbac.allows(&access, resource, action) {
                        held.push(PermissionView {
                            resource: resource.name().into(),
                            action: action.name().into(),
                        });
                    }
                }
            }
        }
        None => {
            let everyone_creates = crate::settings::project_creation(&state.db, &state.config)
                .await?
                == crate::config::ProjectCreation::Everyone;
            for (resource, actions) in SYSTEM_CATALOGUE {
                for action in actions.iter().filter_map(|a| Action::parse(a)) {
                    let creates_projects = *resource == "project"
                        && action == Action::Create
                        && !matches!(principal, Principal::Robot(_))
                        && everyone_creates;
                    if creates_projects || state.rbac.system_allows(&principal, resource, action) {
                        held.push(PermissionView {
                            resource: (*resource).into(),
                            action: action.name().into(),
                        });
                    }
                }
            }
        }
    }
    Ok(HttpResponse::Ok().json(held))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The start of the user name.
    username: String,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

/// A search hit: just the name and id, for member pickers.
#[derive(Serialize, ToSchema)]
pub struct UserHit {
    user_id: i64,
    username: String,
}

/// Finds users whose name starts with `username` (any signed-in user).
///
/// Any signed-in user may search, for member pickers; only ids and names are returned.
#[utoipa::path(
    get,
    operation_id = "users_search",
    path = "/api/v2.0/users/search",
    tag = "user",
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching users; `X-Total-Count` header", body = Vec<UserHit>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
    )
)]
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    signed_in(&state, &req).await?;
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let select = user::Entity::find().filter(user::Column::Username.starts_with(&params.username));
    let total = select.clone().count(&state.db).await?;
    let rows = select
        .order_by_asc(user::Column::Username)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    let hits: Vec<UserHit> = rows
        .into_iter()
        .map(|u| UserHit {
            user_id: u.id,
            username: u.username,
        })
        .collect();
    let mut response = HttpResponse::Ok();
    paged(&mut response, "/api/v2.0/users/search", &paging, total);
    Ok(response.json(hits))
}

async fn find(state: &AppState, id: i64) -> Result<user::Model, ApiError> {
    user::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user {id} not found")))
}

/// The caller is `id` themselves, or may `action` users.
fn self_or_admin(
    state: &AppState,
    principal: &Principal,
    id: i64,
    action: Action,
) -> Result<(), ApiError> {
    if principal.user_id() == Some(id) {
        return Ok(());
    }
    require_admin(state, principal, action)
}

/// Reads a user (administrators, or the user themselves).
///
/// Password hashes are never returned.
#[utoipa::path(
    get,
    operation_id = "users_get",
    path = "/api/v2.0/users/{user_id}",
    tag = "user",
    params(("user_id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such user", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    self_or_admin(&state, &principal, *path, Action::Read)?;
    Ok(HttpResponse::Ok().json(UserView::from(find(&state, *path).await?)))
}

/// The editable profile of a user.
#[derive(Deserialize, ToSchema)]
pub struct UserProfile {
    email: Option<String>,
    realname: Option<String>,
    comment: Option<String>,
}

/// Changes a user's e-mail, real name and comment.
///
/// User names cannot change.
#[utoipa::path(
    put,
    operation_id = "users_update",
    path = "/api/v2.0/users/{user_id}",
    tag = "user",
    params(("user_id" = i64, Path, description = "User id")),
    request_body = UserProfile,
    responses(
        (status = 200, description = "Updated"),
        (status = 400, description = "Invalid body", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such user", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: super::ObjectJson<UserProfile>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    self_or_admin(&state, &principal, *path, Action::Update)?;
    let found = find(&state, *path).await?;
    let body = body.into_inner();
    user::Entity::update_many()
        .col_expr(
            user::Column::Email,
            Expr::value(body.email.unwrap_or(found.email)),
        )
        .col_expr(
            user::Column::Realname,
            Expr::value(body.realname.unwrap_or(found.realname)),
        )
        .col_expr(
            user::Column::Comment,
            Expr::value(body.comment.unwrap_or(found.comment)),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(found.id))
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// Deletes a user with their memberships and sessions. Projects they own pass to the
/// administrator who deletes them. Nobody can delete themselves.
///
/// Everything is done in one transaction.
#[utoipa::path(
    delete,
    operation_id = "users_delete",
    path = "/api/v2.0/users/{user_id}",
    tag = "user",
    params(("user_id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only; not oneself", body = super::docs::Errors),
        (status = 404, description = "No such user", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    require_admin(&state, &principal, Action::Delete)?;
    let found = find(&state, *path).await?;
    let Some(heir) = principal.user_id() else {
        return Err(ApiError::forbidden(
            "only a user account can take over the projects",
        ));
    };
    if heir == found.id {
        return Err(ApiError::forbidden("you cannot delete your own account"));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    project::Entity::update_many()
        .col_expr(project::Column::OwnerId, Expr::value(heir))
        .filter(project::Column::OwnerId.eq(found.id))
        .exec(&txn)
        .await?;
    project_member::Entity::delete_many()
        .filter(project_member::Column::EntityType.eq("u"))
        .filter(project_member::Column::EntityId.eq(found.id))
        .exec(&txn)
        .await?;
    user::Entity::delete_by_id(found.id).exec(&txn).await?;
    txn.commit().await?;
    state.authenticator.forget_all();
    Ok(HttpResponse::Ok().finish())
}

/// A password change; `old_password` is required when changing one's own.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    old_password: Option<String>,
    new_password: String,
}

/// Changes a password under the policy (8-128 characters with upper case, lower case and a
/// digit). Users give their old password; administrators may reset anyone's. Every session of
/// the user ends.
///
/// Remembered credentials are forgotten at once.
#[utoipa::path(
    put,
    operation_id = "users_change_password",
    path = "/api/v2.0/users/{user_id}/password",
    tag = "user",
    params(("user_id" = i64, Path, description = "User id")),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed"),
        (status = 400, description = "The new password fails the policy, or the old one is missing", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Wrong old password, or not allowed", body = super::docs::Errors),
        (status = 404, description = "No such user", body = super::docs::Errors),
    )
)]
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    self_or_admin(&state, &principal, *path, Action::Update)?;
    let found = find(&state, *path).await?;
    if principal.user_id() == Some(found.id) {
        let old = body
            .old_password
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("old_password is required"))?;
        if !password::verify(old, &found.password_hash) {
            return Err(ApiError::forbidden("the old password is wrong"));
        }
    }
    password::check_policy(&body.new_password).map_err(ApiError::bad_request)?;
    let hash = password::hash(&body.new_password).map_err(|e| ApiError::internal(&e))?;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            user::Column::CredentialVersion,
            next_credential_version(user::Column::CredentialVersion),
        )
        .filter(user::Column::Id.eq(found.id))
        .exec(&state.db)
        .await?;
    session::close_all(&state.db, found.id).await?;
    state.authenticator.forget_all();
    Ok(HttpResponse::Ok().finish())
}

/// Grants or revokes system administrator rights.
#[derive(Deserialize, ToSchema)]
pub struct SysadminFlag {
    sysadmin_flag: bool,
}

/// Grants or revokes system administrator rights (administrators only, not on themselves).
///
/// The change applies at the user's next request.
#[utoipa::path(
    put,
    operation_id = "users_set_sysadmin",
    path = "/api/v2.0/users/{user_id}/sysadmin",
    tag = "user",
    params(("user_id" = i64, Path, description = "User id")),
    request_body = SysadminFlag,
    responses(
        (status = 200, description = "Changed"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only; not oneself", body = super::docs::Errors),
        (status = 404, description = "No such user", body = super::docs::Errors),
    )
)]
pub async fn set_sysadmin(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Json<SysadminFlag>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    if !principal.is_sysadmin() {
        return Err(ApiError::forbidden(
            "only system administrators grant administrator rights",
        ));
    }
    let found = find(&state, *path).await?;
    if principal.user_id() == Some(found.id) {
        return Err(ApiError::forbidden(
            "you cannot change your own administrator rights",
        ));
    }
    user::Entity::update_many()
        .col_expr(user::Column::Sysadmin, Expr::value(body.sysadmin_flag))
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            user::Column::CredentialVersion,
            next_credential_version(user::Column::CredentialVersion),
        )
        .filter(user::Column::Id.eq(found.id))
        .exec(&state.db)
        .await?;
    state.authenticator.forget_all();
    Ok(HttpResponse::Ok().finish())
}
