//! Project members: users holding one of the five project roles.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use super::projects::authorize;
use crate::app::AppState;
use crate::auth::{Action, ProjectRole, Resource};
use crate::db::entities::{project_member, user};
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/projects/{project}/members", web::get().to(list))
        .route("/projects/{project}/members", web::post().to(create))
        .route("/projects/{project}/members/{mid}", web::get().to(get))
        .route("/projects/{project}/members/{mid}", web::put().to(update))
        .route(
            "/projects/{project}/members/{mid}",
            web::delete().to(delete),
        );
}

#[derive(Serialize)]
struct MemberView {
    id: i64,
    project_id: i64,
    entity_name: String,
    entity_type: String,
    entity_id: i64,
    role_id: i32,
    role_name: &'static str,
}

async fn view(state: &AppState, member: project_member::Model) -> Result<MemberView, ApiError> {
    let entity_name = user::Entity::find_by_id(member.entity_id)
        .one(&state.db)
        .await?
        .map(|u| u.username)
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

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Member, Action::List).await?;
    let rows = project_member::Entity::find()
        .filter(project_member::Column::ProjectId.eq(project.id))
        .order_by_asc(project_member::Column::Id)
        .all(&state.db)
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        views.push(view(&state, row).await?);
    }
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", views.len().to_string()))
        .json(views))
}

#[derive(Deserialize)]
struct MemberUser {
    user_id: Option<i64>,
    username: Option<String>,
}

#[derive(Deserialize)]
struct NewMember {
    role_id: i32,
    member_user: MemberUser,
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<NewMember>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Member, Action::Create).await?;
    let role = role(body.role_id)?;
    let target = match (&body.member_user.user_id, &body.member_user.username) {
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
    let now = Utc::now();
    let inserted = project_member::Entity::insert(project_member::ActiveModel {
        project_id: Set(project.id),
        entity_id: Set(target.id),
        entity_type: Set("u".into()),
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
            "{} is already a member of project {}",
            target.username, project.name
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

async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (name, mid) = path.into_inner();
    let (_, project, _) = authorize(&state, &req, &name, Resource::Member, Action::Read).await?;
    let found = member(&state, project.id, mid).await?;
    Ok(HttpResponse::Ok().json(view(&state, found).await?))
}

#[derive(Deserialize)]
struct RoleUpdate {
    role_id: i32,
}

async fn update(
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

async fn delete(
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
