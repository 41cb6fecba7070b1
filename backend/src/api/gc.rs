//! `/system/gc`: garbage collection runs, their logs, and the schedule, in Harbor's shapes.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::jobservice::{find_job, log_response, sysadmin};
use super::{Paging, paged};
use crate::app::AppState;
use crate::db::entities::job;
use crate::error::ApiError;
use crate::jobs::{NewJob, ScheduleUpdateError, kinds};
use crate::policy::Schedule;

/// The schedule row of garbage collection.
const SCHEDULE: &str = "system:gc";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/system/gc", web::get().to(list))
        .route("/system/gc/schedule", web::get().to(get_schedule))
        .route("/system/gc/schedule", web::post().to(create_schedule))
        .route("/system/gc/schedule", web::put().to(update_schedule))
        .route("/system/gc/{id}", web::get().to(get))
        .route("/system/gc/{id}", web::put().to(stop))
        .route("/system/gc/{id}/log", web::get().to(log));
}

/// One garbage collection run (Harbor's `GCHistory`).
#[derive(Serialize, ToSchema)]
pub struct GcHistory {
    id: i64,
    #[schema(value_type = String)]
    job_name: &'static str,
    job_kind: String,
    job_parameters: String,
    #[schema(value_type = Object)]
    schedule: Schedule,
    job_status: String,
    deleted: bool,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
    /// Berth: counters and checkpoint of the run.
    #[schema(value_type = Object)]
    progress: serde_json::Value,
    /// Berth: the summary or last error.
    message: Option<String>,
}

fn history(row: job::Model) -> GcHistory {
    let kind = if row.trigger == "SCHEDULE" {
        "Schedule"
    } else {
        "Manual"
    };
    GcHistory {
        progress: crate::jobs::progress(&row),
        id: row.id,
        job_name: kinds::GC,
        job_kind: row.trigger,
        job_parameters: row.params,
        schedule: Schedule::from_stored(kind, ""),
        job_status: row.status,
        deleted: false,
        creation_time: row.created_at,
        update_time: row.updated_at,
        message: row.message,
    }
}

/// Lists garbage collection runs, newest first.
///
/// Manual and scheduled runs alike, with their status, parameters and progress. System
/// administrators only.
#[utoipa::path(
    get,
    operation_id = "gc_list",
    path = "/api/v2.0/system/gc",
    tag = "gc",
    params(
        ("page" = Option<u64>, Query, description = "Page number, from 1"),
        ("page_size" = Option<u64>, Query, description = "Rows per page, 1 to 100 (default 10)"),
    ),
    responses(
        (status = 200, description = "One page of runs; `X-Total-Count` and `Link` headers", body = Vec<GcHistory>),
        (status = 400, description = "Invalid paging", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let (offset, limit) = paging.window()?;
    let (rows, total) = state.jobs.list(Some(kinds::GC), offset, limit).await?;
    let mut response = HttpResponse::Ok();
    paged(&mut response, req.path(), &paging, total);
    Ok(response.json(rows.into_iter().map(history).collect::<Vec<_>>()))
}

/// Reads one garbage collection run.
///
/// Its status, parameters, progress counters and summary. System administrators only.
#[utoipa::path(
    get,
    operation_id = "gc_get",
    path = "/api/v2.0/system/gc/{id}",
    tag = "gc",
    params(("id" = i64, Path, description = "Run (job) id")),
    responses(
        (status = 200, description = "The run", body = GcHistory),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 404, description = "No such garbage collection run", body = super::docs::Errors),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let row = find_job(&state, *id, Some(kinds::GC)).await?;
    Ok(HttpResponse::Ok().json(history(row)))
}

/// Stops a garbage collection run.
///
/// Asks the running (or queued) job to stop at its next checkpoint. System administrators only.
#[utoipa::path(
    put,
    operation_id = "gc_stop",
    path = "/api/v2.0/system/gc/{id}",
    tag = "gc",
    params(("id" = i64, Path, description = "Run (job) id")),
    responses(
        (status = 200, description = "Stop requested"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 404, description = "No such garbage collection run", body = super::docs::Errors),
    )
)]
pub async fn stop(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    find_job(&state, *id, Some(kinds::GC)).await?;
    state.jobs.request_stop(*id).await?;
    Ok(HttpResponse::Ok().finish())
}

/// Reads a garbage collection run's log.
///
/// Plain text; every deletion is listed. System administrators only.
#[utoipa::path(
    get,
    operation_id = "gc_log",
    path = "/api/v2.0/system/gc/{id}/log",
    tag = "gc",
    params(("id" = i64, Path, description = "Run (job) id")),
    responses(
        (status = 200, description = "The log as text/plain", body = String, content_type = "text/plain"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 404, description = "No such garbage collection run", body = super::docs::Errors),
    )
)]
pub async fn log(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    find_job(&state, *id, Some(kinds::GC)).await?;
    log_response(&state, *id).await
}

/// A garbage collection schedule, or a request to run now (Harbor's `Schedule`).
#[derive(Deserialize, Serialize, ToSchema)]
pub struct ScheduleBody {
    /// `{"type": "None" | "Manual" | "Hourly" | "Daily" | "Weekly" | "Custom", "cron": "..."}`.
    #[schema(value_type = Object)]
    schedule: Schedule,
    /// `dry_run`, `delete_untagged` (booleans), `workers`, `grace_seconds`, `batch_size`.
    #[serde(default)]
    #[schema(value_type = Object)]
    parameters: serde_json::Map<String, serde_json::Value>,
}

/// Checks GC parameters: only Harbor's and Berth's known ones, with the right types.
fn check_parameters(
    parameters: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), ApiError> {
    for (key, value) in parameters {
        let ok = match key.as_str() {
            "dry_run" | "delete_untagged" => value.is_boolean(),
            "workers" | "grace_seconds" | "batch_size" => value.is_u64(),
            _ => false,
        };
        if !ok {
            return Err(ApiError::bad_request(format!(
                "unknown or mistyped GC parameter {key:?}: use dry_run and delete_untagged \
                 (booleans), workers, grace_seconds, batch_size (integers)"
            )));
        }
    }
    Ok(())
}

fn schedule_error(e: ScheduleUpdateError) -> ApiError {
    match e {
        ScheduleUpdateError::Schedule(e) => ApiError::bad_request(e.to_string()),
        ScheduleUpdateError::Database(e) => e.into(),
    }
}

/// Reads the garbage collection schedule.
///
/// The schedule and its parameters; `{"type": "None"}` when none is set. System
/// administrators only.
#[utoipa::path(
    get,
    operation_id = "gc_get_schedule",
    path = "/api/v2.0/system/gc/schedule",
    tag = "gc",
    responses(
        (status = 200, description = "The schedule with `parameters`, `creation_time` and `update_time`", body = Object),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
    )
)]
pub async fn get_schedule(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let body = match state.jobs.schedule(SCHEDULE).await? {
        Some(row) => serde_json::json!({
            "schedule": Schedule::from_stored(&row.schedule_type, &row.cron),
            "parameters": serde_json::from_str::<serde_json::Value>(&row.params)
                .unwrap_or_else(|_| serde_json::json!({})),
            "creation_time": row.created_at,
            "update_time": row.updated_at,
        }),
        None => serde_json::json!({"schedule": Schedule::none(), "parameters": {}}),
    };
    Ok(HttpResponse::Ok().json(body))
}

/// Runs garbage collection now (`Manual`) or sets its schedule.
///
/// A `Manual` schedule queues a run at once and names it in `Location`; any other type stores
/// the schedule. Parameters are checked. System administrators only.
#[utoipa::path(
    post,
    operation_id = "gc_create_schedule",
    path = "/api/v2.0/system/gc/schedule",
    tag = "gc",
    request_body = ScheduleBody,
    responses(
        (status = 201, description = "Queued (`Location` names the run) or scheduled"),
        (status = 400, description = "Invalid schedule or parameters", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 409, description = "A garbage collection run is already queued", body = super::docs::Errors),
    )
)]
pub async fn create_schedule(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ScheduleBody>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    check_parameters(&body.parameters)?;
    if body.schedule.kind == "Manual" {
        let job = NewJob::manual(
            kinds::GC,
            serde_json::Value::Object(body.parameters.clone()),
        );
        let row = state
            .jobs
            .enqueue(job)
            .await?
            .ok_or_else(|| ApiError::conflict("garbage collection is already queued"))?;
        return Ok(HttpResponse::Created()
            .insert_header(("Location", format!("/api/v2.0/system/gc/{}", row.id)))
            .finish());
    }
    set_schedule(&state, &body).await?;
    Ok(HttpResponse::Created().finish())
}

/// Changes the garbage collection schedule.
///
/// A `None` schedule removes it. Parameters are checked. System administrators only.
#[utoipa::path(
    put,
    operation_id = "gc_update_schedule",
    path = "/api/v2.0/system/gc/schedule",
    tag = "gc",
    request_body = ScheduleBody,
    responses(
        (status = 200, description = "Changed"),
        (status = 400, description = "Invalid schedule or parameters", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
    )
)]
pub async fn update_schedule(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ScheduleBody>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    check_parameters(&body.parameters)?;
    set_schedule(&state, &body).await?;
    Ok(HttpResponse::Ok().finish())
}

async fn set_schedule(state: &AppState, body: &ScheduleBody) -> Result<(), ApiError> {
    let params = serde_json::Value::Object(body.parameters.clone());
    state
        .jobs
        .set_schedule(SCHEDULE, kinds::GC, &body.schedule, &params)
        .await
        .map_err(schedule_error)
}
