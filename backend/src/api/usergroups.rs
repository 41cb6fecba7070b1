//! User groups (`/usergroups`): named sets of users that can be project members, so a user's
//! effective role in a project is the union of their own and their groups' roles.
//!
//! Harbor fills groups from LDAP or OIDC; with local accounts Berth lets administrators manage
//! membership through `/usergroups/{group_id}/members` (a Berth addition).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::users::UserView;
use super::{Paging, paged, signed_in};
use crate::app::AppState;
use crate::auth::{Action, Principal};
use crate::db::entities::{project_member, user, user_group, user_group_member};
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/usergroups", web::get().to(list))
        .route("/usergroups", web::post().to(create))
        .route("/usergroups/search", web::get().to(search))
        .route("/usergroups/search", web::route().to(super::unrouted))
        .route("/usergroups/{group_id}", web::get().to(get))
        .route("/usergroups/{group_id}", web::put().to(update))
        .route("/usergroups/{group_id}", web::delete().to(delete))
        .route(
            "/usergroups/{group_id}/members",
            web::get().to(list_members),
        )
        .route("/usergroups/{group_id}/members", web::post().to(add_member))
        .route(
            "/usergroups/{group_id}/members/{user_id}",
            web::delete().to(remove_member),
        );
}

/// A user group as Harbor shows it.
#[derive(Serialize, ToSchema)]
pub struct UserGroupView {
    id: i64,
    group_name: String,
    /// 1 LDAP, 2 HTTP, 3 OIDC (Berth's local groups use 2).
    group_type: i32,
    ldap_group_dn: String,
}

impl From<user_group::Model> for UserGroupView {
    fn from(g: user_group::Model) -> Self {
        Self {
            id: g.id,
            group_name: g.group_name,
            group_type: g.group_type,
            ldap_group_dn: g.ldap_group_dn,
        }
    }
}

fn require_admin(state: &AppState, principal: &Principal, action: Action) -> Result<(), ApiError> {
    if state.rbac.system_allows(principal, "user-group", action) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "user groups are managed by system administrators",
        ))
    }
}

async fn find(state: &AppState, id: i64) -> Result<user_group::Model, ApiError> {
    user_group::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user group {id} not found")))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupListQuery {
    /// Only groups whose name contains this.
    group_name: Option<String>,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

async fn page(
    state: &AppState,
    params: &GroupListQuery,
    link: &str,
) -> Result<HttpResponse, ApiError> {
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let mut select = user_group::Entity::find();
    if let Some(name) = params.group_name.as_deref().filter(|n| !n.is_empty()) {
        select = select.filter(user_group::Column::GroupName.contains(name));
    }
    let total = select.clone().count(&state.db).await?;
    let rows = select
        .order_by_asc(user_group::Column::GroupName)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    let mut response = HttpResponse::Ok();
    paged(&mut response, link, &paging, total);
    Ok(response.json(
        rows.into_iter()
            .map(UserGroupView::from)
            .collect::<Vec<_>>(),
    ))
}

/// Lists user groups (administrators only).
///
/// Ordered by name; `group_name` filters by a part of the name.
#[utoipa::path(
    get,
    operation_id = "usergroups_list",
    path = "/api/v2.0/usergroups",
    tag = "usergroup",
    params(GroupListQuery),
    responses(
        (status = 200, description = "One page of groups; `X-Total-Count` and `Link` headers", body = Vec<UserGroupView>),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<GroupListQuery>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &signed_in(&state, &req).await?, Action::List)?;
    page(&state, &params, "/api/v2.0/usergroups").await
}

/// Finds user groups by name, for member pickers (any signed-in user).
///
/// Same filters and paging as the list.
#[utoipa::path(
    get,
    operation_id = "usergroups_search",
    path = "/api/v2.0/usergroups/search",
    tag = "usergroup",
    params(GroupListQuery),
    responses(
        (status = 200, description = "Matching groups; `X-Total-Count` header", body = Vec<UserGroupView>),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
    )
)]
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<GroupListQuery>,
) -> Result<HttpResponse, ApiError> {
    signed_in(&state, &req).await?;
    page(&state, &params, "/api/v2.0/usergroups/search").await
}

/// A new or renamed user group.
#[derive(Deserialize, ToSchema)]
pub struct GroupBody {
    group_name: String,
    /// Defaults to 2 (HTTP), the type of locally managed groups.
    group_type: Option<i32>,
    #[serde(default)]
    ldap_group_dn: String,
}

fn check_group(body: &GroupBody) -> Result<i32, ApiError> {
    let name = body.group_name.trim();
    if name.is_empty() || name.len() > 255 {
        return Err(ApiError::bad_request("group_name must be 1-255 characters"));
    }
    match body.group_type.unwrap_or(2) {
        kind @ 1..=3 => Ok(kind),
        other => Err(ApiError::bad_request(format!(
            "group_type {other} is not 1 (LDAP), 2 (HTTP) or 3 (OIDC)"
        ))),
    }
}

/// Creates a user group (administrators only).
///
/// Names are unique per group type.
#[utoipa::path(
    post,
    operation_id = "usergroups_create",
    path = "/api/v2.0/usergroups",
    tag = "usergroup",
    request_body = GroupBody,
    responses(
        (status = 201, description = "Created; `Location` names the group"),
        (status = 400, description = "Invalid name or type", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 409, description = "The name is taken", body = super::docs::Errors),
    )
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<GroupBody>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &signed_in(&state, &req).await?, Action::Create)?;
    let group_type = check_group(&body)?;
    let now = Utc::now();
    let inserted = user_group::Entity::insert(user_group::ActiveModel {
        group_name: Set(body.group_name.trim().to_owned()),
        group_type: Set(group_type),
        ldap_group_dn: Set(body.ldap_group_dn.clone()),
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
                format!("/api/v2.0/usergroups/{}", row.last_insert_id),
            ))
            .finish()),
        Err(e) if crate::db::is_unique_violation(&e) => Err(ApiError::conflict(format!(
            "user group {} already exists",
            body.group_name
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Reads a user group.
///
/// Any signed-in user may read groups, as member pickers show them.
#[utoipa::path(
    get,
    operation_id = "usergroups_get",
    path = "/api/v2.0/usergroups/{group_id}",
    tag = "usergroup",
    params(("group_id" = i64, Path, description = "Group id")),
    responses(
        (status = 200, description = "The group", body = UserGroupView),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 404, description = "No such group", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    signed_in(&state, &req).await?;
    Ok(HttpResponse::Ok().json(UserGroupView::from(find(&state, *path).await?)))
}

/// Renames a user group (administrators only).
///
/// The type and DN may change too.
#[utoipa::path(
    put,
    operation_id = "usergroups_update",
    path = "/api/v2.0/usergroups/{group_id}",
    tag = "usergroup",
    params(("group_id" = i64, Path, description = "Group id")),
    request_body = GroupBody,
    responses(
        (status = 200, description = "Updated"),
        (status = 400, description = "Invalid name or type", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 404, description = "No such group", body = super::docs::Errors),
        (status = 409, description = "The name is taken", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Json<GroupBody>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &signed_in(&state, &req).await?, Action::Update)?;
    let found = find(&state, *path).await?;
    let group_type = check_group(&body)?;
    let updated = user_group::Entity::update_many()
        .col_expr(
            user_group::Column::GroupName,
            Expr::value(body.group_name.trim().to_owned()),
        )
        .col_expr(user_group::Column::GroupType, Expr::value(group_type))
        .col_expr(
            user_group::Column::LdapGroupDn,
            Expr::value(body.ldap_group_dn.clone()),
        )
        .col_expr(user_group::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user_group::Column::Id.eq(found.id))
        .exec(&state.db)
        .await;
    match updated {
        Ok(_) => Ok(HttpResponse::Ok().finish()),
        Err(e) if crate::db::is_unique_violation(&e) => Err(ApiError::conflict(format!(
            "user group {} already exists",
            body.group_name
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a user group with its project memberships (administrators only).
///
/// Its users keep their own memberships.
#[utoipa::path(
    delete,
    operation_id = "usergroups_delete",
    path = "/api/v2.0/usergroups/{group_id}",
    tag = "usergroup",
    params(("group_id" = i64, Path, description = "Group id")),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 404, description = "No such group", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &signed_in(&state, &req).await?, Action::Delete)?;
    let found = find(&state, *path).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    project_member::Entity::delete_many()
        .filter(project_member::Column::EntityType.eq("g"))
        .filter(project_member::Column::EntityId.eq(found.id))
        .exec(&txn)
        .await?;
    user_group::Entity::delete_by_id(found.id)
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().finish())
}

/// Lists the users of a group (administrators only; a Berth addition).
///
/// Ordered by user name.
#[utoipa::path(
    get,
    operation_id = "usergroups_list_members",
    path = "/api/v2.0/usergroups/{group_id}/members",
    tag = "usergroup",
    params(("group_id" = i64, Path, description = "Group id")),
    responses(
        (status = 200, description = "The group's users; `X-Total-Count` header", body = Vec<UserView>),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 404, description = "No such group", body = super::docs::Errors),
    )
)]
pub async fn list_members(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &signed_in(&state, &req).await?, Action::Read)?;
    let found = find(&state, *path).await?;
    let ids = Query::select()
        .column(user_group_member::Column::UserId)
        .from(user_group_member::Entity)
        .and_where(user_group_member::Column::GroupId.eq(found.id))
        .to_owned();
    let users = user::Entity::find()
        .filter(user::Column::Id.in_subquery(ids))
        .order_by_asc(user::Column::Username)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", users.len().to_string()))
        .json(users.into_iter().map(UserView::from).collect::<Vec<_>>()))
}

/// The user to put in a group.
#[derive(Deserialize, ToSchema)]
pub struct GroupMember {
    user_id: i64,
}

/// Puts a user in a group (administrators only; a Berth addition).
///
/// The user gains the group's project roles on their next request.
#[utoipa::path(
    post,
    operation_id = "usergroups_add_member",
    path = "/api/v2.0/usergroups/{group_id}/members",
    tag = "usergroup",
    params(("group_id" = i64, Path, description = "Group id")),
    request_body = GroupMember,
    responses(
        (status = 201, description = "Added"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 404, description = "No such group or user", body = super::docs::Errors),
        (status = 409, description = "Already in the group", body = super::docs::Errors),
    )
)]
pub async fn add_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Json<GroupMember>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &signed_in(&state, &req).await?, Action::Update)?;
    let group = find(&state, *path).await?;
    let found = user::Entity::find_by_id(body.user_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user {} not found", body.user_id)))?;
    let inserted = user_group_member::Entity::insert(user_group_member::ActiveModel {
        group_id: Set(group.id),
        user_id: Set(found.id),
    })
    .exec(&state.db)
    .await;
    match inserted {
        Ok(_) => Ok(HttpResponse::Created().finish()),
        Err(e) if crate::db::is_unique_violation(&e) => Err(ApiError::conflict(format!(
            "{} is already in {}",
            found.username, group.group_name
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Takes a user out of a group (administrators only; a Berth addition).
///
/// The user loses the group's project roles on their next request.
#[utoipa::path(
    delete,
    operation_id = "usergroups_remove_member",
    path = "/api/v2.0/usergroups/{group_id}/members/{user_id}",
    tag = "usergroup",
    params(
        ("group_id" = i64, Path, description = "Group id"),
        ("user_id" = i64, Path, description = "User id"),
    ),
    responses(
        (status = 200, description = "Removed"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 404, description = "The user is not in the group", body = super::docs::Errors),
    )
)]
pub async fn remove_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &signed_in(&state, &req).await?, Action::Update)?;
    let (group_id, user_id) = path.into_inner();
    let deleted = user_group_member::Entity::delete_many()
        .filter(user_group_member::Column::GroupId.eq(group_id))
        .filter(user_group_member::Column::UserId.eq(user_id))
        .exec(&state.db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::not_found(format!(
            "user {user_id} is not in group {group_id}"
        )));
    }
    Ok(HttpResponse::Ok().finish())
}
