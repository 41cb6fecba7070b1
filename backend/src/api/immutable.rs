//! `/projects/{p}/immutabletagrules`: tag immutability rules in Harbor's shape.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::projects::authorize;
use crate::app::AppState;
use crate::auth::{Action, Resource};
use crate::db::entities::immutable_rule;
use crate::error::ApiError;
use crate::policy::ImmutableRule;
use crate::policy::immutable::StoredSelectors;
use crate::registry::immutable::rule_of;

/// Most rules a project may hold (Harbor's limit).
const MAX_RULES: usize = 15;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/projects/{project}/immutabletagrules", web::get().to(list))
        .route(
            "/projects/{project}/immutabletagrules",
            web::post().to(create),
        )
        .route(
            "/projects/{project}/immutabletagrules/{id}",
            web::put().to(update),
        )
        .route(
            "/projects/{project}/immutabletagrules/{id}",
            web::delete().to(delete),
        );
}

fn selectors(rule: &ImmutableRule) -> Result<String, ApiError> {
    rule.validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let stored = StoredSelectors {
        tag_selectors: rule.tag_selectors.clone(),
        scope_selectors: rule.scope_selectors.clone(),
    };
    serde_json::to_string(&stored).map_err(|e| ApiError::internal(&e))
}

/// List a project's immutability rules.
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) =
        authorize(&state, &req, &path, Resource::ImmutableTag, Action::List).await?;
    let rows = immutable_rule::Entity::find()
        .filter(immutable_rule::Column::ProjectId.eq(project.id))
        .order_by_asc(immutable_rule::Column::Priority)
        .order_by_asc(immutable_rule::Column::Id)
        .all(&state.db)
        .await?;
    let rules: Vec<ImmutableRule> = rows.into_iter().filter_map(rule_of).collect();
    let mut response = HttpResponse::Ok();
    response.insert_header(("X-Total-Count", rules.len().to_string()));
    Ok(response.json(rules))
}

/// Add an immutability rule to a project.
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ImmutableRule>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) =
        authorize(&state, &req, &path, Resource::ImmutableTag, Action::Create).await?;
    let stored = selectors(&body)?;
    let count = immutable_rule::Entity::find()
        .filter(immutable_rule::Column::ProjectId.eq(project.id))
        .all(&state.db)
        .await?
        .len();
    if count >= MAX_RULES {
        return Err(ApiError::bad_request(format!(
            "a project holds at most {MAX_RULES} immutability rules"
        )));
    }
    let now = Utc::now();
    let id = immutable_rule::Entity::insert(immutable_rule::ActiveModel {
        project_id: Set(project.id),
        priority: Set(body.priority),
        disabled: Set(body.disabled),
        selectors: Set(stored),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&state.db)
    .await?
    .last_insert_id;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v2.0/projects/{}/immutabletagrules/{id}", project.name),
        ))
        .finish())
}

async fn find(
    state: &AppState,
    project_id: i64,
    id: i64,
) -> Result<immutable_rule::Model, ApiError> {
    immutable_rule::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|r| r.project_id == project_id)
        .ok_or_else(|| ApiError::not_found(format!("immutability rule {id} not found")))
}

/// Change an immutability rule (its selectors, priority, or `disabled`).
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    body: web::Json<ImmutableRule>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let (_, project, _) =
        authorize(&state, &req, &name, Resource::ImmutableTag, Action::Update).await?;
    let row = find(&state, project.id, id).await?;
    let stored = selectors(&body)?;
    let mut active: immutable_rule::ActiveModel = row.into();
    active.priority = Set(body.priority);
    active.disabled = Set(body.disabled);
    active.selectors = Set(stored);
    active.updated_at = Set(Utc::now());
    active.update(&state.db).await?;
    Ok(HttpResponse::Ok().finish())
}

/// Remove an immutability rule.
async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let (_, project, _) =
        authorize(&state, &req, &name, Resource::ImmutableTag, Action::Delete).await?;
    find(&state, project.id, id).await?;
    immutable_rule::Entity::delete_by_id(id)
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::Ok().finish())
}
