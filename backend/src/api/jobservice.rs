//! `/jobservice`: the durable job queue as administrators see it (jobs, logs, queues).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::signed_in;
use crate::app::AppState;
use crate::db::entities::job;
use crate::error::ApiError;
use crate::jobs::{self, kinds};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/jobservice/jobs/{id}", web::get().to(get_job))
        .route("/jobservice/jobs/{id}", web::put().to(act_on_job))
        .route("/jobservice/jobs/{id}/log", web::get().to(job_log))
        .route("/jobservice/queues", web::get().to(list_queues))
        .route("/jobservice/queues/{job_type}", web::put().to(act_on_queue));
}

/// Fails unless the caller is a system administrator.
pub(crate) async fn sysadmin(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    if signed_in(state, req).await?.is_sysadmin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only system administrators may do this",
        ))
    }
}

/// A job as the job service API shows it.
#[derive(Serialize)]
pub(crate) struct JobView {
    id: i64,
    job_type: String,
    status: String,
    trigger: String,
    parameters: serde_json::Value,
    attempt: i32,
    max_attempts: i32,
    progress: serde_json::Value,
    message: Option<String>,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
}

impl From<job::Model> for JobView {
    fn from(row: job::Model) -> Self {
        Self {
            parameters: jobs::params(&row),
            progress: jobs::progress(&row),
            id: row.id,
            job_type: row.kind,
            status: row.status,
            trigger: row.trigger,
            attempt: row.attempt,
            max_attempts: row.max_attempts,
            message: row.message,
            creation_time: row.created_at,
            update_time: row.updated_at,
            start_time: row.started_at,
            end_time: row.finished_at,
        }
    }
}

pub(crate) async fn find_job(
    state: &AppState,
    id: i64,
    kind: Option<&str>,
) -> Result<job::Model, ApiError> {
    state
        .jobs
        .get(id)
        .await?
        .filter(|j| kind.is_none_or(|k| j.kind == k))
        .ok_or_else(|| ApiError::not_found(format!("job {id} not found")))
}

/// The job's log as plain text.
pub(crate) async fn log_response(state: &AppState, id: i64) -> Result<HttpResponse, ApiError> {
    let text = state.jobs.log_text(id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(text))
}

/// Read one job.
async fn get_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let row = find_job(&state, *id, None).await?;
    Ok(HttpResponse::Ok().json(JobView::from(row)))
}

#[derive(Deserialize)]
struct ActionBody {
    action: String,
}

/// Stop one job: `{"action": "stop"}`.
async fn act_on_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<ActionBody>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    find_job(&state, *id, None).await?;
    if body.action != "stop" {
        return Err(ApiError::bad_request("action must be \"stop\""));
    }
    state.jobs.request_stop(*id).await?;
    Ok(HttpResponse::Ok().finish())
}

/// Read one job's log.
async fn job_log(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    find_job(&state, *id, None).await?;
    log_response(&state, *id).await
}

#[derive(Serialize)]
struct QueueView {
    job_type: &'static str,
    count: u64,
    paused: bool,
}

/// List the job queues with their pending counts and pause state.
async fn list_queues(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let paused = state.jobs.paused_kinds().await?;
    let mut queues = Vec::new();
    for kind in kinds::ALL {
        queues.push(QueueView {
            job_type: kind,
            count: state.jobs.pending_count(kind).await?,
            paused: paused.iter().any(|p| p == kind),
        });
    }
    Ok(HttpResponse::Ok().json(queues))
}

/// Pause, resume or stop a queue: `{"action": "pause" | "resume" | "stop"}`.
async fn act_on_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    job_type: web::Path<String>,
    body: web::Json<ActionBody>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let Some(kind) = kinds::ALL.into_iter().find(|k| *k == job_type.as_str()) else {
        return Err(ApiError::not_found(format!(
            "job type {job_type} not found"
        )));
    };
    match body.action.as_str() {
        "pause" => state.jobs.set_paused(kind, true).await?,
        "resume" => state.jobs.set_paused(kind, false).await?,
        "stop" => {
            state.jobs.stop_kind(kind).await?;
        }
        _ => {
            return Err(ApiError::bad_request(
                "action must be pause, resume or stop",
            ));
        }
    }
    Ok(HttpResponse::Ok().finish())
}
