//! `/retentions`: tag retention policies, their runs (executions), per-repository tasks and
//! result logs, in Harbor's shapes. A project has at most one policy.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use super::projects::authorize;
use super::{Paging, paged};
use crate::app::AppState;
use crate::auth::{Action, Resource};
use crate::db::entities::{job, retention_policy, retention_record, retention_task};
use crate::error::ApiError;
use crate::jobs::{self, NewJob, ScheduleUpdateError, kinds};
use crate::policy::retention::TEMPLATES;
use crate::policy::{RetentionPolicy, Schedule};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/retentions/metadatas", web::get().to(metadatas))
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

/// The templates and selectors a policy may use.
async fn metadatas() -> HttpResponse {
    let templates: Vec<serde_json::Value> = TEMPLATES
        .iter()
        .map(|(rule, param, display)| {
            let params = param.map_or_else(Vec::new, |p| {
                vec![serde_json::json!({"type": "int", "unit": "COUNT", "required": true, "name": p})]
            });
            serde_json::json!({"rule_template": rule, "display_text": display, "action": "retain", "params": params})
        })
        .collect();
    HttpResponse::Ok().json(serde_json::json!({
        "templates": templates,
        "scope_selectors": [{"display_text": "Repositories", "kind": "doublestar",
                             "decorations": ["repoMatches", "repoExcludes"]}],
        "tag_selectors": [{"display_text": "Tags", "kind": "doublestar",
                           "decorations": ["matches", "excludes"]}],
    }))
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

/// Create a project's retention policy.
async fn create(
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

/// Read a retention policy.
async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (_, policy) = load(&state, &req, *id, Action::Read).await?;
    Ok(HttpResponse::Ok().json(policy))
}

/// Replace a retention policy (its scope must stay the same project).
async fn update(
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

/// Delete a retention policy and its schedule.
async fn delete(
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

#[derive(Deserialize, Default)]
struct ExecuteBody {
    #[serde(default)]
    dry_run: bool,
}

/// Run a retention policy now, optionally as a dry run.
async fn execute(
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

#[derive(Serialize)]
struct ExecutionView {
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

/// List a policy's runs, newest first.
async fn executions(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    load(&state, &req, *id, Action::List).await?;
    let (offset, limit) = paging.window()?;
    let runs: Vec<job::Model> = job::Entity::find()
        .filter(job::Column::Kind.eq(kinds::RETENTION))
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

#[derive(Deserialize)]
struct StopBody {
    action: String,
}

/// Stop a run: `{"action": "stop"}`.
async fn stop(
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

#[derive(Serialize)]
struct TaskView {
    id: i64,
    execution_id: i64,
    repository: String,
    status: String,
    total: i32,
    retained: i32,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
}

/// List a run's per-repository tasks.
async fn tasks(
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

/// A task's result log: one line per tag or untagged artifact with its decision.
async fn task_log(
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
