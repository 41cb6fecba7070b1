//! `/retentions`: tag retention policies, their runs (executions), per-repository tasks and
//! result logs, in Harbor's shapes. A project has at most one policy.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::projects::authorize;
use super::{Paging, paged, signed_in};
use crate::app::AppState;
use crate::auth::{Action, Resource};
use crate::db::entities::{job, retention_policy, retention_record, retention_task};
use crate::error::ApiError;
use crate::jobs::{self, NewJob, ScheduleUpdateError, kinds};
use crate::policy::retention::TEMPLATES;
use crate::policy::{RetentionPolicy, Schedule};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/retentions/metadatas", web::get().to(metadatas))
        .route("/retentions/metadatas", web::route().to(super::unrouted))
        .route("/retentions", web::post().to(create))
        .route("/retentions/{id}", web::get().to(get))
        .route("/retentions/{id}", web::put().to(update))
        .route("/retentions/{id}", web::delete().to(delete))
        .route("/retentions/{id}/executions", web::post().to(execute))
        .route("/retentions/{id}/executions", web::get().to(executions))
        .route("/retentions/{id}/executions/{eid}", web::patch().to(stop))
        .route(
            "/retentions/{id}/executions/{eid}/tasks",
            web::get().to(tasks),
        )
        .route(
            "/retentions/{id}/executions/{eid}/tasks/{tid}",
            web::get().to(task_log),
        );
}

fn schedule_name(policy_id: i64) -> String {
    format!("retention:{policy_id}")
}

/// Lists the rule templates and selectors a retention policy may use.
///
/// The same for every project; any signed-in caller may read it.
#[utoipa::path(
    get,
    operation_id = "retentions_metadatas",
    path = "/api/v2.0/retentions/metadatas",
    tag = "retention",
    responses(
        (status = 200, description = "`templates`, `scope_selectors` and `tag_selectors`", body = Object),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
    )
)]
pub async fn metadatas(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    signed_in(&state, &req).await?;
    let templates: Vec<serde_json::Value> = TEMPLATES
        .iter()
        .map(|(rule, param, display)| {
            let params = param.map_or_else(Vec::new, |p| {
                vec![serde_json::json!({"type": "int", "unit": "COUNT", "required": true, "name": p})]
            });
            serde_json::json!({"rule_template": rule, "display_text": display, "action": "retain", "params": params})
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "templates": templates,
        "scope_selectors": [{"display_text": "Repositories", "kind": "doublestar",
                             "decorations": ["repoMatches", "repoExcludes"]}],
        "tag_selectors": [{"display_text": "Tags", "kind": "doublestar",
                           "decorations": ["matches", "excludes"]}],
    })))
}

/// Loads policy `id` and checks the caller may do `action` on retention in its project.
async fn load(
    state: &AppState,
    req: &HttpRequest,
    id: i64,
    action: Action,
) -> Result<(retention_policy::Model, RetentionPolicy), ApiError> {
    let row = retention_policy::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("retention policy {id} not found")))?;
    authorize(
        state,
        req,
        &row.project_id.to_string(),
        Resource::TagRetention,
        action,
    )
    .await?;
    let mut policy: RetentionPolicy =
        serde_json::from_str(&row.policy).map_err(|e| ApiError::internal(&e))?;
    policy.id = row.id;
    Ok((row, policy))
}

fn validated(policy: &RetentionPolicy) -> Result<String, ApiError> {
    policy
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(cron) = policy.cron() {
        crate::policy::schedule::validate_cron(&cron)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    serde_json::to_string(policy).map_err(|e| ApiError::internal(&e))
}

async fn sync_schedule(
    state: &AppState,
    id: i64,
    policy: &RetentionPolicy,
) -> Result<(), ApiError> {
    let schedule = match policy.cron() {
        Some(cron) => Schedule {
            kind: "Custom".into(),
            cron,
        },
        None => Schedule::none(),
    };
    let params = serde_json::json!({"policy_id": id, "dry_run": false});
    state
        .jobs
        .set_schedule(&schedule_name(id), kinds::RETENTION, &schedule, &params)
        .await
        .map_err(|e| match e {
            ScheduleUpdateError::Schedule(e) => ApiError::bad_request(e.to_string()),
            ScheduleUpdateError::Database(e) => e.into(),
        })
}

/// Creates a project's tag retention policy.
///
/// The project is the policy's `scope.ref`; a project has at most one policy. A `Schedule`
/// trigger with a cron schedules runs. Needs the project's `tag-retention:create` permission.
#[utoipa::path(
    post,
    operation_id = "retentions_create",
    path = "/api/v2.0/retentions",
    tag = "retention",
    request_body(content = Object, description = "Harbor's `RetentionPolicy`: `algorithm`, `rules`, `trigger`, `scope`"),
    responses(
        (status = 201, description = "Created; `Location` names the policy"),
        (status = 400, description = "Invalid policy or schedule", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
        (status = 409, description = "The project already has a policy", body = super::docs::Errors),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RetentionPolicy>,
) -> Result<HttpResponse, ApiError> {
    let project_ref = body.scope.reference.to_string();
    let (_, project, _) = authorize(
        &state,
        &req,
        &project_ref,
        Resource::TagRetention,
        Action::Create,
    )
    .await?;
    let stored = validated(&body)?;
    let existing = retention_policy::Entity::find()
        .filter(retention_policy::Column::ProjectId.eq(project.id))
        .one(&state.db)
        .await?;
    if let Some(existing) = existing {
        return Err(ApiError::conflict(format!(
            "project {} already has retention policy {}",
            project.name, existing.id
        )));
    }
    let now = Utc::now();
    let id = retention_policy::Entity::insert(retention_policy::ActiveModel {
        project_id: Set(project.id),
        policy: Set(stored),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&state.db)
    .await?
    .last_insert_id;
    sync_schedule(&state, id, &body).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v2.0/retentions/{id}")))
        .finish())
}

/// Reads a tag retention policy.
///
/// Its rules, trigger and scope. Needs the project's `tag-retention:read` permission.
#[utoipa::path(
    get,
    operation_id = "retentions_get",
    path = "/api/v2.0/retentions/{id}",
    tag = "retention",
    params(("id" = i64, Path, description = "Retention policy id")),
    responses(
        (status = 200, description = "Harbor's `RetentionPolicy`", body = Object),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such policy", body = super::docs::Errors),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (_, policy) = load(&state, &req, *id, Action::Read).await?;
    Ok(HttpResponse::Ok().json(policy))
}

/// Replaces a tag retention policy.
///
/// Its scope must stay the same project; the schedule follows the new trigger. Needs the
/// project's `tag-retention:update` permission.
#[utoipa::path(
    put,
    operation_id = "retentions_update",
    path = "/api/v2.0/retentions/{id}",
    tag = "retention",
    params(("id" = i64, Path, description = "Retention policy id")),
    request_body(content = Object, description = "Harbor's `RetentionPolicy`: `algorithm`, `rules`, `trigger`, `scope`"),
    responses(
        (status = 200, description = "Replaced"),
        (status = 400, description = "Invalid policy or schedule, or another project", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such policy", body = super::docs::Errors),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<RetentionPolicy>,
) -> Result<HttpResponse, ApiError> {
    let (row, _) = load(&state, &req, *id, Action::Update).await?;
    if body.scope.reference != row.project_id {
        return Err(ApiError::bad_request(
            "a policy's scope cannot move to another project",
        ));
    }
    let stored = validated(&body)?;
    let mut active: retention_policy::ActiveModel = row.into();
    active.policy = Set(stored);
    active.updated_at = Set(Utc::now());
    active.update(&state.db).await?;
    sync_schedule(&state, *id, &body).await?;
    Ok(HttpResponse::Ok().finish())
}

/// Deletes a tag retention policy and its schedule.
///
/// Past runs stay listed as jobs. Needs the project's `tag-retention:delete` permission.
#[utoipa::path(
    delete,
    operation_id = "retentions_delete",
    path = "/api/v2.0/retentions/{id}",
    tag = "retention",
    params(("id" = i64, Path, description = "Retention policy id")),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such policy", body = super::docs::Errors),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    load(&state, &req, *id, Action::Delete).await?;
    sync_schedule_off(&state, *id).await?;
    retention_policy::Entity::delete_by_id(*id)
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::Ok().finish())
}

async fn sync_schedule_off(state: &AppState, id: i64) -> Result<(), ApiError> {
    state
        .jobs
        .set_schedule(
            &schedule_name(id),
            kinds::RETENTION,
            &Schedule::none(),
            &serde_json::json!({}),
        )
        .await
        .map_err(|e| match e {
            ScheduleUpdateError::Schedule(e) => ApiError::bad_request(e.to_string()),
            ScheduleUpdateError::Database(e) => e.into(),
        })
}

/// How to run a policy now.
#[derive(Deserialize, Default, ToSchema)]
pub struct ExecuteBody {
    /// Only log what would be deleted.
    #[serde(default)]
    dry_run: bool,
}

/// Runs a tag retention policy now, optionally as a dry run.
///
/// Queues a run and names it in `Location`. Needs the project's `tag-retention:operate`
/// permission.
#[utoipa::path(
    post,
    operation_id = "retentions_execute",
    path = "/api/v2.0/retentions/{id}/executions",
    tag = "retention",
    params(("id" = i64, Path, description = "Retention policy id")),
    request_body = ExecuteBody,
    responses(
        (status = 201, description = "Queued; `Location` names the execution"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such policy", body = super::docs::Errors),
        (status = 409, description = "This run is already queued", body = super::docs::Errors),
    )
)]
pub async fn execute(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Option<web::Json<ExecuteBody>>,
) -> Result<HttpResponse, ApiError> {
    load(&state, &req, *id, Action::Operate).await?;
    let dry_run = body.is_some_and(|b| b.dry_run);
    let params = serde_json::json!({"policy_id": *id, "dry_run": dry_run});
    let row = state
        .jobs
        .enqueue(NewJob::manual(kinds::RETENTION, params))
        .await?
        .ok_or_else(|| ApiError::conflict("this retention run is already queued"))?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v2.0/retentions/{id}/executions/{}", row.id),
        ))
        .finish())
}

/// One run of a retention policy (Harbor's `RetentionExecution`).
#[derive(Serialize, ToSchema)]
pub struct ExecutionView {
    id: i64,
    policy_id: i64,
    status: String,
    trigger: String,
    dry_run: bool,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
    /// Berth: the summary or last error.
    message: Option<String>,
}

fn is_run_of(row: &job::Model, policy_id: i64) -> bool {
    jobs::params(row)
        .get("policy_id")
        .and_then(serde_json::Value::as_i64)
        == Some(policy_id)
}

fn execution(row: job::Model, policy_id: i64) -> ExecutionView {
    let dry_run = jobs::params(&row)
        .get("dry_run")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    ExecutionView {
        id: row.id,
        policy_id,
        status: row.status,
        trigger: row.trigger,
        dry_run,
        start_time: row.started_at,
        end_time: row.finished_at,
        message: row.message,
    }
}

/// Lists a tag retention policy's runs, newest first.
///
/// Manual and scheduled runs with their status. Needs the project's `tag-retention:list`
/// permission.
#[utoipa::path(
    get,
    operation_id = "retentions_executions",
    path = "/api/v2.0/retentions/{id}/executions",
    tag = "retention",
    params(
        ("id" = i64, Path, description = "Retention policy id"),
        ("page" = Option<u64>, Query, description = "Page number, from 1"),
        ("page_size" = Option<u64>, Query, description = "Rows per page, 1 to 100 (default 10)"),
    ),
    responses(
        (status = 200, description = "One page of runs; `X-Total-Count` and `Link` headers", body = Vec<ExecutionView>),
        (status = 400, description = "Invalid paging", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such policy", body = super::docs::Errors),
    )
)]
pub async fn executions(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    load(&state, &req, *id, Action::List).await?;
    let (offset, limit) = paging.window()?;
    // The parameters are stored as compact JSON: matching their text narrows the rows to this
    // policy's (and, say, policy 50's for policy 5), and `is_run_of` then decides exactly.
    let runs: Vec<job::Model> = job::Entity::find()
        .filter(job::Column::Kind.eq(kinds::RETENTION))
        .filter(job::Column::Params.contains(format!("\"policy_id\":{}", *id)))
        .order_by_desc(job::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|j| is_run_of(j, *id))
        .collect();
    let total = runs.len() as u64;
    let page: Vec<ExecutionView> = runs
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|j| execution(j, *id))
        .collect();
    let mut response = HttpResponse::Ok();
    paged(&mut response, req.path(), &paging, total);
    Ok(response.json(page))
}

async fn find_run(state: &AppState, policy_id: i64, eid: i64) -> Result<job::Model, ApiError> {
    state
        .jobs
        .get(eid)
        .await?
        .filter(|j| j.kind == kinds::RETENTION && is_run_of(j, policy_id))
        .ok_or_else(|| ApiError::not_found(format!("retention execution {eid} not found")))
}

/// The action on a run.
#[derive(Deserialize, ToSchema)]
pub struct StopBody {
    /// Only `stop`.
    action: String,
}

/// Stops a tag retention run: `{"action": "stop"}`.
///
/// The run stops at its next checkpoint. Needs the project's `tag-retention:operate`
/// permission.
#[utoipa::path(
    patch,
    operation_id = "retentions_stop",
    path = "/api/v2.0/retentions/{id}/executions/{eid}",
    tag = "retention",
    params(("id" = i64, Path, description = "Retention policy id"), ("eid" = i64, Path, description = "Execution id")),
    request_body = StopBody,
    responses(
        (status = 200, description = "Stop requested"),
        (status = 400, description = "The action is not `stop`", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such policy or execution", body = super::docs::Errors),
    )
)]
pub async fn stop(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: web::Json<StopBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, eid) = path.into_inner();
    load(&state, &req, id, Action::Operate).await?;
    find_run(&state, id, eid).await?;
    if body.action != "stop" {
        return Err(ApiError::bad_request("action must be \"stop\""));
    }
    state.jobs.request_stop(eid).await?;
    Ok(HttpResponse::Ok().finish())
}

/// One repository's task within a retention run (Harbor's `RetentionExecutionTask`).
#[derive(Serialize, ToSchema)]
pub struct TaskView {
    id: i64,
    execution_id: i64,
    repository: String,
    status: String,
    total: i32,
    retained: i32,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
}

/// Lists a tag retention run's per-repository tasks.
///
/// With how many artifacts each repository held and retained. Needs the project's
/// `tag-retention:list` permission.
#[utoipa::path(
    get,
    operation_id = "retentions_tasks",
    path = "/api/v2.0/retentions/{id}/executions/{eid}/tasks",
    tag = "retention",
    params(("id" = i64, Path, description = "Retention policy id"), ("eid" = i64, Path, description = "Execution id")),
    responses(
        (status = 200, description = "The tasks; `X-Total-Count` header", body = Vec<TaskView>),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such policy or execution", body = super::docs::Errors),
    )
)]
pub async fn tasks(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, eid) = path.into_inner();
    load(&state, &req, id, Action::List).await?;
    find_run(&state, id, eid).await?;
    let rows = retention_task::Entity::find()
        .filter(retention_task::Column::JobId.eq(eid))
        .order_by_asc(retention_task::Column::Id)
        .all(&state.db)
        .await?;
    let views: Vec<TaskView> = rows
        .into_iter()
        .map(|t| TaskView {
            id: t.id,
            execution_id: t.job_id,
            repository: t.repository,
            status: t.status,
            total: t.total,
            retained: t.retained,
            start_time: t.created_at,
            end_time: t.updated_at,
        })
        .collect();
    let mut response = HttpResponse::Ok();
    response.insert_header(("X-Total-Count", views.len().to_string()));
    Ok(response.json(views))
}

/// Reads a tag retention task's result log.
///
/// Plain text: one line per tag or untagged artifact with its decision. Needs the project's
/// `tag-retention:list` permission.
#[utoipa::path(
    get,
    operation_id = "retentions_task_log",
    path = "/api/v2.0/retentions/{id}/executions/{eid}/tasks/{tid}",
    tag = "retention",
    params(("id" = i64, Path, description = "Retention policy id"), ("eid" = i64, Path, description = "Execution id"), ("tid" = i64, Path, description = "Task id")),
    responses(
        (status = 200, description = "The log as text/plain", body = String, content_type = "text/plain"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such policy, execution or task", body = super::docs::Errors),
    )
)]
pub async fn task_log(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, eid, tid) = path.into_inner();
    load(&state, &req, id, Action::List).await?;
    find_run(&state, id, eid).await?;
    let task = retention_task::Entity::find_by_id(tid)
        .one(&state.db)
        .await?
        .filter(|t| t.job_id == eid)
        .ok_or_else(|| ApiError::not_found(format!("retention task {tid} not found")))?;
    let records = retention_record::Entity::find()
        .filter(retention_record::Column::TaskId.eq(task.id))
        .order_by_asc(retention_record::Column::Id)
        .all(&state.db)
        .await?;
    let mut text = format!(
        "{:<72} {:<30} {:<25} {:<25} Retention\n",
        "Digest", "Tag", "PushedTime", "PulledTime"
    );
    for r in records {
        let time = |t: Option<DateTime<Utc>>| t.map_or_else(|| "-".into(), |t| t.to_rfc3339());
        let tag = if r.tags.is_empty() {
            "<none>".to_owned()
        } else {
            r.tags
        };
        text.push_str(&format!(
            "{:<72} {:<30} {:<25} {:<25} {}\n",
            r.digest,
            tag,
            time(r.pushed_at),
            time(r.pulled_at),
            r.action
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(text))
}
