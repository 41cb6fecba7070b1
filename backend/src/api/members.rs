//! Project members: users and user groups holding one of the five project roles (a user's
//! effective role is the union of their own and their groups').

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::projects::authorize;
use super::{Paging, paged};
use crate::app::AppState;
use crate::auth::{Action, ProjectRole, Resource};
use crate::db::entities::{project_member, robot, user, user_group};
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/projects/{project_name}/members", web::get().to(list))
        .route("/projects/{project_name}/members", web::post().to(create))
        .route("/projects/{project_name}/members/{mid}", web::get().to(get))
        .route(
            "/projects/{project_name}/members/{mid}",
            web::put().to(update),
        )
        .route(
            "/projects/{project_name}/members/{mid}",
            web::delete().to(delete),
        );
}

/// A project member: a user, group or robot holding a role.
#[derive(Serialize, ToSchema)]
pub struct MemberView {
    id: i64,
    project_id: i64,
    entity_name: String,
    entity_type: String,
    entity_id: i64,
    role_id: i32,
    role_name: &'static str,
}

async fn view(state: &AppState, member: project_member::Model) -> Result<MemberView, ApiError> {
    let entity_name = match member.entity_type.as_str() {
        "r" => robot::Entity::find_by_id(member.entity_id)
            .one(&state.db)
            .await?
            .map(|r| r.name),
        "g" => user_group::Entity::find_by_id(member.entity_id)
            .one(&state.db)
            .await?
            .map(|g| g.group_name),
        _ => user::Entity::find_by_id(member.entity_id)
            .one(&state.db)
            .await?
            .map(|u| u.username),
    }
    .unwrap_or_default();
    Ok(MemberView {
        id: member.id,
        project_id: member.project_id,
        entity_name,
        entity_type: member.entity_type,
        entity_id: member.entity_id,
        role_id: member.role_id,
        role_name: ProjectRole::from_id(member.role_id).map_or("", ProjectRole::name),
    })
}

fn role(role_id: i32) -> Result<ProjectRole, ApiError> {
    ProjectRole::from_id(role_id).ok_or_else(|| {
        ApiError::bad_request(format!(
            "role_id {role_id} is not a role: 1 projectAdmin, 2 developer, 3 guest, \
             4 maintainer, 5 limitedGuest"
        ))
    })
}

/// Lists a project's members.
///
/// Members are users (`entity_type` `u`), groups (`g`) and robots that created the project
/// (`r`), each with one role: 1 projectAdmin, 2 developer, 3 guest, 4 maintainer,
/// 5 limitedGuest.
#[utoipa::path(
    get,
    operation_id = "members_list",
    path = "/api/v2.0/projects/{project_name}/members",
    tag = "member",
    params(("project_name" = String, Path, description = "Project name or id"), MemberListQuery),
    responses(
        (status = 200, description = "One page of members; `X-Total-Count` and `Link` headers", body = Vec<MemberView>),
        (status = 400, description = "Invalid paging", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<MemberListQuery>,
) -> Result<HttpResponse, ApiError> {
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let (_, project, _) = authorize(&state, &req, &path, Resource::Member, Action::List).await?;
    let rows = project_member::Entity::find()
        .filter(project_member::Column::ProjectId.eq(project.id))
        .order_by_asc(project_member::Column::Id)
        .all(&state.db)
        .await?;
    // A project has few members; names live in three tables, so the filter runs here.
    let wanted = params.entityname.as_deref().unwrap_or("");
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        let member = view(&state, row).await?;
        if member.entity_name.contains(wanted) {
            views.push(member);
        }
    }
    let total = views.len() as u64;
    let page: Vec<MemberView> = views
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let mut response = HttpResponse::Ok();
    paged(
        &mut response,
        &format!("/api/v2.0/projects/{}/members", project.name),
        &paging,
        total,
    );
    Ok(response.json(page))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberListQuery {
    /// Only members whose name contains this text (Harbor's `entityname`).
    entityname: Option<String>,
    #[serde(default = "super::first_page")]
    page: u64,
    /// Default 100 (Harbor's is 10): callers that predate paging here get every member.
    #[serde(default = "all_members")]
    page_size: u64,
}

fn all_members() -> u64 {
    100
}

/// The user to add, by id or name.
#[derive(Deserialize, ToSchema)]
pub struct MemberUser {
    user_id: Option<i64>,
    username: Option<String>,
}

/// The group to add, by id or name.
#[derive(Deserialize, ToSchema)]
pub struct MemberGroup {
    id: Option<i64>,
    group_name: Option<String>,
}

/// A new membership: `member_user` or `member_group`.
#[derive(Deserialize, ToSchema)]
pub struct NewMember {
    role_id: i32,
    member_user: Option<MemberUser>,
    member_group: Option<MemberGroup>,
}

/// The entity a new membership is for: its type letter, id and name.
async fn entity_of(
    state: &AppState,
    body: &NewMember,
) -> Result<(&'static str, i64, String), ApiError> {
    match (&body.member_user, &body.member_group) {
        (Some(member), None) => {
            let found = match (&member.user_id, &member.username) {
                (Some(id), _) => user::Entity::find_by_id(*id).one(&state.db).await?,
                (None, Some(name)) => {
                    user::Entity::find()
                        .filter(user::Column::Username.eq(name))
                        .one(&state.db)
                        .await?
                }
                (None, None) => {
                    return Err(ApiError::bad_request(
                        "member_user needs user_id or username",
                    ));
                }
            }
            .ok_or_else(|| ApiError::not_found("no such user"))?;
            Ok(("u", found.id, found.username))
        }
        (None, Some(group)) => {
            let found = match (&group.id, &group.group_name) {
                (Some(id), _) => user_group::Entity::find_by_id(*id).one(&state.db).await?,
                (None, Some(name)) => {
                    user_group::Entity::find()
                        .filter(user_group::Column::GroupName.eq(name))
                        .one(&state.db)
                        .await?
                }
                (None, None) => {
                    return Err(ApiError::bad_request("member_group needs id or group_name"));
                }
            }
            .ok_or_else(|| ApiError::not_found("no such user group"))?;
            Ok(("g", found.id, found.group_name))
        }
        _ => Err(ApiError::bad_request(
            "give exactly one of member_user and member_group",
        )),
    }
}

/// Adds a user or group to a project with a role.
///
/// `member_user` names a user by `user_id` or `username`; `member_group` names a user group
/// by `id` or `group_name`.
#[utoipa::path(
    post,
    operation_id = "members_create",
    path = "/api/v2.0/projects/{project_name}/members",
    tag = "member",
    params(("project_name" = String, Path, description = "Project name or id")),
    request_body = NewMember,
    responses(
        (status = 201, description = "Added; `Location` names the membership"),
        (status = 400, description = "Invalid role or body", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project, user or group", body = super::docs::Errors),
        (status = 409, description = "Already a member", body = super::docs::Errors),
    )
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<NewMember>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Member, Action::Create).await?;
    let role = role(body.role_id)?;
    let (entity_type, entity_id, entity_name) = entity_of(&state, &body).await?;
    let now = Utc::now();
    let inserted = project_member::Entity::insert(project_member::ActiveModel {
        project_id: Set(project.id),
        entity_id: Set(entity_id),
        entity_type: Set(entity_type.into()),
        role_id: Set(role.id().unwrap_or_default()),
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
                format!(
                    "/api/v2.0/projects/{}/members/{}",
                    project.id, row.last_insert_id
                ),
            ))
            .finish()),
        Err(e) if crate::db::is_unique_violation(&e) => Err(ApiError::conflict(format!(
            "{entity_name} is already a member of project {}",
            project.name
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn member(
    state: &AppState,
    project_id: i64,
    mid: i64,
) -> Result<project_member::Model, ApiError> {
    project_member::Entity::find_by_id(mid)
        .filter(project_member::Column::ProjectId.eq(project_id))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("member {mid} not found")))
}

/// Reads one membership.
///
/// The member id is the one `Location` and the list return, not the user id.
#[utoipa::path(
    get,
    operation_id = "members_get",
    path = "/api/v2.0/projects/{project_name}/members/{mid}",
    tag = "member",
    params(("project_name" = String, Path, description = "Project name or id"), ("mid" = i64, Path, description = "Member id")),
    responses(
        (status = 200, description = "The member", body = MemberView),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project or member", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (name, mid) = path.into_inner();
    let (_, project, _) = authorize(&state, &req, &name, Resource::Member, Action::Read).await?;
    let found = member(&state, project.id, mid).await?;
    Ok(HttpResponse::Ok().json(view(&state, found).await?))
}

/// A new role.
#[derive(Deserialize, ToSchema)]
pub struct RoleUpdate {
    role_id: i32,
}

/// Changes a member's role.
///
/// The change applies to the member's next request on every replica.
#[utoipa::path(
    put,
    operation_id = "members_update",
    path = "/api/v2.0/projects/{project_name}/members/{mid}",
    tag = "member",
    params(("project_name" = String, Path, description = "Project name or id"), ("mid" = i64, Path, description = "Member id")),
    request_body = RoleUpdate,
    responses(
        (status = 200, description = "Changed"),
        (status = 400, description = "Invalid role", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project or member", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    body: web::Json<RoleUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (name, mid) = path.into_inner();
    let (_, project, _) = authorize(&state, &req, &name, Resource::Member, Action::Update).await?;
    let role = role(body.role_id)?;
    let found = member(&state, project.id, mid).await?;
    project_member::Entity::update_many()
        .col_expr(
            project_member::Column::RoleId,
            Expr::value(role.id().unwrap_or_default()),
        )
        .col_expr(project_member::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(project_member::Column::Id.eq(found.id))
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// Removes a member from a project.
///
/// The member loses the role's rights at once.
#[utoipa::path(
    delete,
    operation_id = "members_delete",
    path = "/api/v2.0/projects/{project_name}/members/{mid}",
    tag = "member",
    params(("project_name" = String, Path, description = "Project name or id"), ("mid" = i64, Path, description = "Member id")),
    responses(
        (status = 200, description = "Removed"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project or member", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (name, mid) = path.into_inner();
    let (_, project, _) = authorize(&state, &req, &name, Resource::Member, Action::Delete).await?;
    let found = member(&state, project.id, mid).await?;
    project_member::Entity::delete_by_id(found.id)
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::Ok().finish())
}
