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

/// Lists a project's tag immutability rules.
///
/// Ordered by priority; `X-Total-Count` gives their number. Needs the project's
/// `immutable-tag:list` permission.
#[utoipa::path(
    get,
    operation_id = "immutable_list",
    path = "/api/v2.0/projects/{project}/immutabletagrules",
    tag = "immutable",
    params(("project" = String, Path, description = "Project name or id")),
    responses(
        (status = 200, description = "The rules; `X-Total-Count` header", body = Vec<Object>),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn list(
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

/// Adds a tag immutability rule to a project.
///
/// The rule needs at least one tag selector; a project holds at most 15 rules. Needs the
/// project's `immutable-tag:create` permission.
#[utoipa::path(
    post,
    operation_id = "immutable_create",
    path = "/api/v2.0/projects/{project}/immutabletagrules",
    tag = "immutable",
    params(("project" = String, Path, description = "Project name or id")),
    request_body(content = Object, description = "Harbor's `ImmutableRule`: `tag_selectors`, `scope_selectors`, `priority`, `disabled`"),
    responses(
        (status = 201, description = "Created; `Location` names the rule"),
        (status = 400, description = "Invalid selectors, or the project already holds 15 rules", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn create(
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

/// Changes a tag immutability rule.
///
/// Its selectors, priority or `disabled` flag. Needs the project's `immutable-tag:update`
/// permission.
#[utoipa::path(
    put,
    operation_id = "immutable_update",
    path = "/api/v2.0/projects/{project}/immutabletagrules/{id}",
    tag = "immutable",
    params(("project" = String, Path, description = "Project name or id"), ("id" = i64, Path, description = "Rule id")),
    request_body(content = Object, description = "Harbor's `ImmutableRule`"),
    responses(
        (status = 200, description = "Changed"),
        (status = 400, description = "Invalid selectors", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project or rule", body = super::docs::Errors),
    )
)]
pub async fn update(
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

/// Removes a tag immutability rule.
///
/// Tags it protected can be overwritten and deleted again. Needs the project's
/// `immutable-tag:delete` permission.
#[utoipa::path(
    delete,
    operation_id = "immutable_delete",
    path = "/api/v2.0/projects/{project}/immutabletagrules/{id}",
    tag = "immutable",
    params(("project" = String, Path, description = "Project name or id"), ("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, description = "Removed"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project or rule", body = super::docs::Errors),
    )
)]
pub async fn delete(
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
