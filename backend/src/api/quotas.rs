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
use utoipa::{IntoParams, ToSchema};

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
        .route("/quotas/recalculate", web::route().to(super::unrouted))
        .route("/quotas/{id}", web::get().to(get))
        .route("/quotas/{id}", web::put().to(update));
}

/// Storage in bytes, -1 for unlimited.
#[derive(Serialize, ToSchema)]
pub struct Storage {
    storage: i64,
}

/// The project a quota belongs to.
#[derive(Serialize, ToSchema)]
pub struct QuotaRef {
    id: i64,
    name: String,
    owner_name: String,
}

/// A project's quota (Harbor's `Quota`).
#[derive(Serialize, ToSchema)]
pub struct QuotaView {
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The kind of quota owner; only `project`.
    reference: Option<String>,
    /// Only the quota of this project id.
    reference_id: Option<i64>,
}

/// Lists quotas, optionally of one project (`reference=project&reference_id=<id>`).
///
/// Each with its hard limit and current usage. System administrators only.
#[utoipa::path(
    get,
    operation_id = "quotas_list",
    path = "/api/v2.0/quotas",
    tag = "quota",
    params(
        ListQuery,
        ("page" = Option<u64>, Query, description = "Page number, from 1"),
        ("page_size" = Option<u64>, Query, description = "Rows per page, 1 to 100 (default 10)"),
    ),
    responses(
        (status = 200, description = "One page of quotas; `X-Total-Count` and `Link` headers", body = Vec<QuotaView>),
        (status = 400, description = "Invalid reference or paging", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
    )
)]
pub async fn list(
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

/// Reads one quota.
///
/// Its hard limit and current usage. System administrators only.
#[utoipa::path(
    get,
    operation_id = "quotas_get",
    path = "/api/v2.0/quotas/{id}",
    tag = "quota",
    params(("id" = i64, Path, description = "Quota id (the project id)")),
    responses(
        (status = 200, description = "The quota", body = QuotaView),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 404, description = "No such quota", body = super::docs::Errors),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let row = find(&state, *id).await?;
    Ok(HttpResponse::Ok().json(view(&state, row).await?))
}

/// A hard limit.
#[derive(Deserialize, ToSchema)]
pub struct Hard {
    /// Bytes, or -1 for unlimited.
    storage: i64,
}

/// The change of a quota (Harbor's `QuotaUpdateReq`).
#[derive(Deserialize, ToSchema)]
pub struct UpdateBody {
    hard: Hard,
}

/// Changes a quota's limit: `{"hard": {"storage": <bytes or -1>}}`.
///
/// Usage above a lowered limit is kept, but further pushes are refused. System administrators
/// only.
#[utoipa::path(
    put,
    operation_id = "quotas_update",
    path = "/api/v2.0/quotas/{id}",
    tag = "quota",
    params(("id" = i64, Path, description = "Quota id (the project id)")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "Changed"),
        (status = 400, description = "The limit is below -1", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 404, description = "No such quota", body = super::docs::Errors),
    )
)]
pub async fn update(
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecalculateQuery {
    /// Only this project; every project when absent.
    project_id: Option<i64>,
}

/// Berth extension: queues a recalculation of project usage from the manifests.
///
/// Every project's usage, or one project's; answers with the job in `Location`. System
/// administrators only.
#[utoipa::path(
    post,
    operation_id = "quotas_recalculate",
    path = "/api/v2.0/quotas/recalculate",
    tag = "quota",
    params(RecalculateQuery),
    responses(
        (status = 201, description = "Queued; `Location` names the job"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 409, description = "A recalculation is already queued", body = super::docs::Errors),
    )
)]
pub async fn recalculate(
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
