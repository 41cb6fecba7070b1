//! `/quotas`: per-project storage quotas in Harbor's shape (`hard`/`used` with `storage` in
//! bytes, -1 for unlimited). A quota's id is its project's id.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::jobservice::sysadmin;
use super::{Paging, paged};
use crate::app::AppState;
use crate::db::entities::{project, user};
use crate::error::ApiError;
use crate::jobs::{NewJob, kinds};
use crate::registry::quota;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/quotas", web::get().to(list))
        .route("/quotas/recalculate", web::post().to(recalculate))
        .route("/quotas/{id}", web::get().to(get))
        .route("/quotas/{id}", web::put().to(update));
}

#[derive(Serialize)]
struct Storage {
    storage: i64,
}

#[derive(Serialize)]
struct QuotaRef {
    id: i64,
    name: String,
    owner_name: String,
}

#[derive(Serialize)]
struct QuotaView {
    id: i64,
    #[serde(rename = "ref")]
    reference: QuotaRef,
    hard: Storage,
    used: Storage,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

async fn view(state: &AppState, row: project::Model) -> Result<QuotaView, ApiError> {
    let used = quota::usage(&state.db, row.id)
        .await
        .map_err(registry_error)?;
    let owner_name = user::Entity::find_by_id(row.owner_id)
        .one(&state.db)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    Ok(QuotaView {
        id: row.id,
        reference: QuotaRef {
            id: row.id,
            name: row.name,
            owner_name,
        },
        hard: Storage {
            storage: row.storage_limit,
        },
        used: Storage { storage: used },
        creation_time: row.created_at,
        update_time: row.updated_at,
    })
}

fn registry_error(e: crate::registry::RegistryError) -> ApiError {
    match e {
        crate::registry::RegistryError::Database(e) => e.into(),
        other => ApiError::internal(&other),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    reference: Option<String>,
    reference_id: Option<i64>,
}

/// List quotas, optionally of one project (`reference=project&reference_id=<id>`).
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    if query.reference.as_deref().is_some_and(|r| r != "project") {
        return Err(ApiError::bad_request("reference must be \"project\""));
    }
    let (offset, limit) = paging.window()?;
    let mut select = project::Entity::find().order_by_asc(project::Column::Id);
    if let Some(id) = query.reference_id {
        select = select.filter(project::Column::Id.eq(id));
    }
    let total = select.clone().count(&state.db).await?;
    let rows = select.offset(offset).limit(limit).all(&state.db).await?;
    let mut views = Vec::new();
    for row in rows {
        views.push(view(&state, row).await?);
    }
    let mut response = HttpResponse::Ok();
    paged(&mut response, req.path(), &paging, total);
    Ok(response.json(views))
}

async fn find(state: &AppState, id: i64) -> Result<project::Model, ApiError> {
    project::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("quota {id} not found")))
}

/// Read one quota.
async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let row = find(&state, *id).await?;
    Ok(HttpResponse::Ok().json(view(&state, row).await?))
}

#[derive(Deserialize)]
struct Hard {
    storage: i64,
}

#[derive(Deserialize)]
struct UpdateBody {
    hard: Hard,
}

/// Change a quota's limit: `{"hard": {"storage": <bytes or -1>}}`.
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    if body.hard.storage < -1 {
        return Err(ApiError::bad_request(
            "hard.storage must be -1 (unlimited) or a byte count",
        ));
    }
    let row = find(&state, *id).await?;
    let mut active: project::ActiveModel = row.into();
    active.storage_limit = Set(body.hard.storage);
    active.updated_at = Set(Utc::now());
    active.update(&state.db).await?;
    Ok(HttpResponse::Ok().finish())
}

#[derive(Deserialize)]
struct RecalculateQuery {
    project_id: Option<i64>,
}

/// Berth extension: queue a recalculation of every project's usage (or one project's) from
/// its manifests. Answers with the job in `Location`.
async fn recalculate(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<RecalculateQuery>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let params = match query.project_id {
        Some(id) => serde_json::json!({"project_id": id}),
        None => serde_json::json!({}),
    };
    let row = state
        .jobs
        .enqueue(NewJob::manual(kinds::QUOTA_RECALCULATION, params))
        .await?
        .ok_or_else(|| ApiError::conflict("a recalculation is already queued"))?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v2.0/jobservice/jobs/{}", row.id)))
        .finish())
}
