//! `/jobservice`: the durable job queue as administrators see it (jobs, logs, queues).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Paging, paged, signed_in};
use crate::app::AppState;
use crate::db::entities::job;
use crate::error::ApiError;
use crate::jobs::{self, kinds};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/jobservice/jobs", web::get().to(list_jobs))
        .route("/jobservice/jobs/{id}", web::get().to(get_job))
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
#[derive(Serialize, ToSchema)]
pub struct JobView {
    id: i64,
    job_type: String,
    status: String,
    trigger: String,
    #[schema(value_type = Object)]
    parameters: serde_json::Value,
    attempt: i32,
    max_attempts: i32,
    #[schema(value_type = Object)]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListQuery {
    /// Only jobs of this type (as the queues list them).
    job_type: Option<String>,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

/// Lists the jobs of the durable queue (executions), newest first, optionally of one type.
///
/// Each with its status, trigger, attempts, progress and timings; the console's job service
/// page reads this. System administrators only.
#[utoipa::path(
    get,
    operation_id = "jobservice_list_jobs",
    path = "/api/v2.0/jobservice/jobs",
    tag = "jobservice",
    params(JobListQuery),
    responses(
        (status = 200, description = "One page of jobs; `X-Total-Count` and `Link` headers", body = Vec<JobView>),
        (status = 400, description = "Invalid paging or job type", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
    )
)]
pub async fn list_jobs(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: web::Query<JobListQuery>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let kind = match params.job_type.as_deref().filter(|k| !k.is_empty()) {
        Some(kind) => Some(
            kinds::ALL
                .into_iter()
                .find(|k| *k == kind)
                .ok_or_else(|| ApiError::bad_request(format!("unknown job type {kind:?}")))?,
        ),
        None => None,
    };
    let (rows, total) = state.jobs.list(kind, offset, limit).await?;
    let mut response = HttpResponse::Ok();
    paged(&mut response, req.path(), &paging, total);
    Ok(response.json(rows.into_iter().map(JobView::from).collect::<Vec<_>>()))
}

/// Reads one job of the durable job queue.
///
/// Its kind, status, trigger, parameters, attempts and progress. System administrators only.
#[utoipa::path(
    get,
    operation_id = "jobservice_get_job",
    path = "/api/v2.0/jobservice/jobs/{id}",
    tag = "jobservice",
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 404, description = "No such job", body = super::docs::Errors),
    )
)]
pub async fn get_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    let row = find_job(&state, *id, None).await?;
    Ok(HttpResponse::Ok().json(JobView::from(row)))
}

/// An action on a job or a queue.
#[derive(Deserialize, ToSchema)]
pub struct ActionBody {
    /// `stop` for a job; `pause`, `resume` or `stop` for a queue.
    action: String,
}

/// Stops one job: `{"action": "stop"}`.
///
/// The job stops at its next checkpoint. System administrators only.
#[utoipa::path(
    put,
    operation_id = "jobservice_act_on_job",
    path = "/api/v2.0/jobservice/jobs/{id}",
    tag = "jobservice",
    params(("id" = i64, Path, description = "Job id")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "Stop requested"),
        (status = 400, description = "The action is not `stop`", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 404, description = "No such job", body = super::docs::Errors),
    )
)]
pub async fn act_on_job(
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

/// Reads one job's log.
///
/// Plain text, as the job wrote it. System administrators only.
#[utoipa::path(
    get,
    operation_id = "jobservice_job_log",
    path = "/api/v2.0/jobservice/jobs/{id}/log",
    tag = "jobservice",
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "The log as text/plain", body = String, content_type = "text/plain"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 404, description = "No such job", body = super::docs::Errors),
    )
)]
pub async fn job_log(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    sysadmin(&state, &req).await?;
    find_job(&state, *id, None).await?;
    log_response(&state, *id).await
}

/// One job queue: its job type, pending count and pause state.
#[derive(Serialize, ToSchema)]
pub struct QueueView {
    #[schema(value_type = String)]
    job_type: &'static str,
    count: u64,
    paused: bool,
}

/// Lists the job queues.
///
/// One per job type, with its pending count and pause state. System administrators only.
#[utoipa::path(
    get,
    operation_id = "jobservice_list_queues",
    path = "/api/v2.0/jobservice/queues",
    tag = "jobservice",
    responses(
        (status = 200, description = "Every queue", body = Vec<QueueView>),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
    )
)]
pub async fn list_queues(
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

/// Pauses, resumes or stops a queue: `{"action": "pause" | "resume" | "stop"}`.
///
/// A paused queue keeps its jobs but starts none; stop ends its pending and running jobs.
/// System administrators only.
#[utoipa::path(
    put,
    operation_id = "jobservice_act_on_queue",
    path = "/api/v2.0/jobservice/queues/{job_type}",
    tag = "jobservice",
    params(("job_type" = String, Path, description = "Job type, as listed by the queues")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "Done"),
        (status = 400, description = "Unknown action", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "System administrators only", body = super::docs::Errors),
        (status = 404, description = "No such job type", body = super::docs::Errors),
    )
)]
pub async fn act_on_queue(
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
