//! User accounts: creation by an administrator (or self-registration when enabled), listing,
//! and the signed-in user's own record.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use super::{Paging, caller, paged, signed_in};
use crate::app::AppState;
use crate::auth::{Principal, password};
use crate::db::entities::user;
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::post().to(create))
        .route("/users", web::get().to(list))
        .route("/users/current", web::get().to(current));
}

/// A user as the API shows it (never with a password hash).
#[derive(Serialize)]
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

#[derive(Deserialize)]
struct NewUser {
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
fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || ",\"~#$%:/".contains(c))
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let allowed = principal.is_sysadmin()
        || (principal == Principal::Anonymous && state.config.auth.self_registration);
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

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    if !signed_in(&state, &req).await?.is_sysadmin() {
        return Err(ApiError::forbidden(
            "only system administrators can list users",
        ));
    }
    let (offset, limit) = paging.window()?;
    let total = user::Entity::find().count(&state.db).await?;
    let rows = user::Entity::find()
        .order_by_asc(user::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    let mut response = HttpResponse::Ok();
    paged(&mut response, "/api/v2.0/users", &paging, total);
    Ok(response.json(rows.into_iter().map(UserView::from).collect::<Vec<_>>()))
}

async fn current(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    let id = principal.user_id().unwrap_or_default();
    let found = user::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("the signed-in user no longer exists"))?;
    Ok(HttpResponse::Ok().json(UserView::from(found)))
}
