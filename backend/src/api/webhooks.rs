//! `/projects/{p}/webhook/...`: webhook policies, their deliveries and logs, in Harbor's shape.
//!
//! Project administrators manage a project's policies (maintainers read them). Targets'
//! `auth_header` and `secret` are write-only: responses show `*****` when set, and sending
//! `*****` back keeps the stored value.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::projects::authorize;
use super::{Paging, paged};
use crate::app::AppState;
use crate::auth::{Action, Resource};
use crate::db::entities::{job, project, webhook_delivery, webhook_policy};
use crate::error::ApiError;
use crate::webhooks::{self, EVENT_TYPES, Target};

const MASK: &str = "*****";
const POLICIES: &str = "/projects/{project}/webhook/policies";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(POLICIES, web::get().to(list))
        .route(POLICIES, web::post().to(create))
        .route(&format!("{POLICIES}/{{id}}"), web::get().to(get))
        .route(&format!("{POLICIES}/{{id}}"), web::put().to(update))
        .route(&format!("{POLICIES}/{{id}}"), web::delete().to(delete))
        .route(
            &format!("{POLICIES}/{{id}}/executions"),
            web::get().to(executions),
        )
        .route(
            &format!("{POLICIES}/{{id}}/executions/{{eid}}/log"),
            web::get().to(execution_log),
        )
        .route(
            "/projects/{project}/webhook/lasttrigger",
            web::get().to(last_trigger),
        )
        .route("/projects/{project}/webhook/events", web::get().to(events));
}

/// A webhook policy as Harbor shows it.
#[derive(Serialize, ToSchema)]
pub struct PolicyView {
    id: i64,
    project_id: i64,
    name: String,
    description: String,
    enabled: bool,
    event_types: Vec<String>,
    targets: Vec<Target>,
    creator: String,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

impl From<webhook_policy::Model> for PolicyView {
    fn from(p: webhook_policy::Model) -> Self {
        let masked = |v: Option<String>| v.filter(|s| !s.is_empty()).map(|_| MASK.to_owned());
        let targets = webhooks::targets(&p)
            .into_iter()
            .map(|t| Target {
                auth_header: masked(t.auth_header),
                secret: masked(t.secret),
                ..t
            })
            .collect();
        Self {
            id: p.id,
            project_id: p.project_id.unwrap_or_default(),
            name: p.name.clone(),
            description: p.description.clone(),
            enabled: p.enabled,
            event_types: webhooks::event_types(&p),
            targets,
            creator: p.creator,
            creation_time: p.created_at,
            update_time: p.updated_at,
        }
    }
}

/// A new or changed webhook policy.
#[derive(Deserialize, ToSchema)]
pub struct PolicyBody {
    name: Option<String>,
    description: Option<String>,
    enabled: Option<bool>,
    /// Of `GET .../webhook/events`.
    event_types: Option<Vec<String>>,
    targets: Option<Vec<Target>>,
}

fn check_events(events: &[String]) -> Result<(), ApiError> {
    if events.is_empty() {
        return Err(ApiError::bad_request(
            "a policy needs at least one event type",
        ));
    }
    if let Some(bad) = events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
        return Err(ApiError::bad_request(format!(
            "event type {bad:?} is not one of: {}",
            EVENT_TYPES.join(", ")
        )));
    }
    Ok(())
}

/// Checks `targets` and restores masked write-only values from `stored` (same position).
fn merge_targets(targets: Vec<Target>, stored: &[Target]) -> Result<String, ApiError> {
    if targets.is_empty() {
        return Err(ApiError::bad_request("a policy needs at least one target"));
    }
    let mut merged = Vec::with_capacity(targets.len());
    for (i, mut target) in targets.into_iter().enumerate() {
        target.check().map_err(ApiError::bad_request)?;
        let old = stored.get(i);
        if target.auth_header.as_deref() == Some(MASK) {
            target.auth_header = old.and_then(|o| o.auth_header.clone());
        }
        if target.secret.as_deref() == Some(MASK) {
            target.secret = old.and_then(|o| o.secret.clone());
        }
        merged.push(target);
    }
    serde_json::to_string(&merged).map_err(|e| ApiError::internal(&e))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 255 {
        return Err(ApiError::bad_request(
            "policy name must be 1-255 characters",
        ));
    }
    Ok(())
}

/// Checks `action` on webhook policies of project `name` and loads policy `id` of it.
async fn policy(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    id: i64,
    action: Action,
) -> Result<(project::Model, webhook_policy::Model), ApiError> {
    let (_, project, _) = authorize(state, req, name, Resource::NotificationPolicy, action).await?;
    let row = webhook_policy::Entity::find_by_id(id)
        .filter(webhook_policy::Column::ProjectId.eq(project.id))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("webhook policy {id} not found")))?;
    Ok((project, row))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

/// Lists a project's webhook policies.
///
/// Needs the project's `notification-policy:list` permission (project administrators and
/// maintainers).
#[utoipa::path(
    get,
    operation_id = "webhook_policies_list",
    path = "/api/v2.0/projects/{project}/webhook/policies",
    tag = "webhook",
    params(("project" = String, Path, description = "Project name or id"), PageQuery),
    responses(
        (status = 200, description = "One page of policies; `X-Total-Count` and `Link` headers", body = Vec<PolicyView>),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(
        &state,
        &req,
        &path,
        Resource::NotificationPolicy,
        Action::List,
    )
    .await?;
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let select =
        webhook_policy::Entity::find().filter(webhook_policy::Column::ProjectId.eq(project.id));
    let total = select.clone().count(&state.db).await?;
    let rows = select
        .order_by_asc(webhook_policy::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    let mut response = HttpResponse::Ok();
    paged(
        &mut response,
        &format!("/api/v2.0/projects/{}/webhook/policies", project.name),
        &paging,
        total,
    );
    Ok(response.json(rows.into_iter().map(PolicyView::from).collect::<Vec<_>>()))
}

/// Creates a webhook policy.
///
/// `event_types` of `GET .../webhook/events`; `targets` of type `http` (payload `Default` or
/// `CloudEvents`) or `slack`. A target's `secret` makes Berth sign each delivery with
/// HMAC-SHA256 in `X-Berth-Signature-256`. Needs `notification-policy:create`.
#[utoipa::path(
    post,
    operation_id = "webhook_policies_create",
    path = "/api/v2.0/projects/{project}/webhook/policies",
    tag = "webhook",
    params(("project" = String, Path, description = "Project name or id")),
    request_body = PolicyBody,
    responses(
        (status = 201, description = "Created; `Location` names the policy"),
        (status = 400, description = "Invalid name, events or targets", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
        (status = 409, description = "A policy of that name exists in the project", body = super::docs::Errors),
    )
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<PolicyBody>,
) -> Result<HttpResponse, ApiError> {
    let (principal, project, _) = authorize(
        &state,
        &req,
        &path,
        Resource::NotificationPolicy,
        Action::Create,
    )
    .await?;
    let body = body.into_inner();
    let name = body.name.unwrap_or_default();
    check_name(&name)?;
    let events = body.event_types.unwrap_or_default();
    check_events(&events)?;
    let targets = merge_targets(body.targets.unwrap_or_default(), &[])?;
    let taken = webhook_policy::Entity::find()
        .filter(webhook_policy::Column::ProjectId.eq(project.id))
        .filter(webhook_policy::Column::Name.eq(&name))
        .count(&state.db)
        .await?;
    if taken > 0 {
        return Err(ApiError::conflict(format!(
            "webhook policy {name} already exists in project {}",
            project.name
        )));
    }
    let now = Utc::now();
    let id = webhook_policy::Entity::insert(webhook_policy::ActiveModel {
        project_id: Set(Some(project.id)),
        name: Set(name),
        description: Set(body.description.unwrap_or_default()),
        enabled: Set(body.enabled.unwrap_or(true)),
        event_types: Set(serde_json::to_string(&events).map_err(|e| ApiError::internal(&e))?),
        targets: Set(targets),
        creator: Set(principal.name().to_owned()),
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
            format!("/api/v2.0/projects/{}/webhook/policies/{id}", project.name),
        ))
        .finish())
}

/// Reads one webhook policy.
///
/// Write-only target fields show as `*****`. Needs `notification-policy:read`.
#[utoipa::path(
    get,
    operation_id = "webhook_policies_get",
    path = "/api/v2.0/projects/{project}/webhook/policies/{id}",
    tag = "webhook",
    params(
        ("project" = String, Path, description = "Project name or id"),
        ("id" = i64, Path, description = "Policy id"),
    ),
    responses(
        (status = 200, description = "The policy", body = PolicyView),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project or policy", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let (_, row) = policy(&state, &req, &name, id, Action::Read).await?;
    Ok(HttpResponse::Ok().json(PolicyView::from(row)))
}

/// Updates a webhook policy.
///
/// Absent fields stay as they are; `*****` for a target's `auth_header` or `secret` keeps the
/// stored value. Needs `notification-policy:update`.
#[utoipa::path(
    put,
    operation_id = "webhook_policies_update",
    path = "/api/v2.0/projects/{project}/webhook/policies/{id}",
    tag = "webhook",
    params(
        ("project" = String, Path, description = "Project name or id"),
        ("id" = i64, Path, description = "Policy id"),
    ),
    request_body = PolicyBody,
    responses(
        (status = 200, description = "Updated"),
        (status = 400, description = "Invalid name, events or targets", body = super::docs::Errors),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project or policy", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    body: web::Json<PolicyBody>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let (_, row) = policy(&state, &req, &name, id, Action::Update).await?;
    let stored = webhooks::targets(&row);
    let body = body.into_inner();
    let mut active: webhook_policy::ActiveModel = row.into();
    if let Some(name) = body.name {
        check_name(&name)?;
        active.name = Set(name);
    }
    if let Some(description) = body.description {
        active.description = Set(description);
    }
    if let Some(enabled) = body.enabled {
        active.enabled = Set(enabled);
    }
    if let Some(events) = body.event_types {
        check_events(&events)?;
        active.event_types =
            Set(serde_json::to_string(&events).map_err(|e| ApiError::internal(&e))?);
    }
    if let Some(targets) = body.targets {
        active.targets = Set(merge_targets(targets, &stored)?);
    }
    active.updated_at = Set(Utc::now());
    active.update(&state.db).await?;
    Ok(HttpResponse::Ok().finish())
}

/// Deletes a webhook policy.
///
/// Deliveries still queued for it end without being sent. Needs `notification-policy:delete`.
#[utoipa::path(
    delete,
    operation_id = "webhook_policies_delete",
    path = "/api/v2.0/projects/{project}/webhook/policies/{id}",
    tag = "webhook",
    params(
        ("project" = String, Path, description = "Project name or id"),
        ("id" = i64, Path, description = "Policy id"),
    ),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project or policy", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let (_, row) = policy(&state, &req, &name, id, Action::Delete).await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::PolicyId.eq(row.id))
        .exec(&state.db)
        .await?;
    webhook_policy::Entity::delete_by_id(row.id)
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// One delivery of an event to a target.
#[derive(Serialize, ToSchema)]
pub struct ExecutionView {
    id: i64,
    policy_id: i64,
    event_type: String,
    address: String,
    /// `Pending`, `Running`, `Success`, `Error` or `Stopped`.
    status: String,
    /// The last attempt's outcome.
    status_text: String,
    attempts: i32,
    creation_time: DateTime<Utc>,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
}

/// Lists the deliveries of a webhook policy, newest first.
///
/// Each is one event sent to one target, with the delivering job's status, attempts and
/// times. Needs `notification-policy:read`.
#[utoipa::path(
    get,
    operation_id = "webhook_executions_list",
    path = "/api/v2.0/projects/{project}/webhook/policies/{id}/executions",
    tag = "webhook",
    params(
        ("project" = String, Path, description = "Project name or id"),
        ("id" = i64, Path, description = "Policy id"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "One page of deliveries; `X-Total-Count` and `Link` headers", body = Vec<ExecutionView>),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project or policy", body = super::docs::Errors),
    )
)]
pub async fn executions(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    params: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let (project, policy) = policy(&state, &req, &name, id, Action::Read).await?;
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let select =
        webhook_delivery::Entity::find().filter(webhook_delivery::Column::PolicyId.eq(policy.id));
    let total = select.clone().count(&state.db).await?;
    let rows = select
        .order_by_desc(webhook_delivery::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    let job_ids: Vec<i64> = rows.iter().filter_map(|r| r.job_id).collect();
    let jobs: std::collections::HashMap<i64, job::Model> = job::Entity::find()
        .filter(job::Column::Id.is_in(job_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|j| (j.id, j))
        .collect();
    let views: Vec<ExecutionView> = rows
        .into_iter()
        .map(|d| {
            let job = d.job_id.and_then(|id| jobs.get(&id));
            ExecutionView {
                id: d.id,
                policy_id: d.policy_id,
                event_type: d.event_type,
                address: d.address,
                status: job.map_or_else(|| "Error".to_owned(), |j| j.status.clone()),
                status_text: job.and_then(|j| j.message.clone()).unwrap_or_default(),
                attempts: job.map_or(0, |j| j.attempt),
                creation_time: d.created_at,
                start_time: job.and_then(|j| j.started_at),
                end_time: job.and_then(|j| j.finished_at),
            }
        })
        .collect();
    let mut response = HttpResponse::Ok();
    paged(
        &mut response,
        &format!(
            "/api/v2.0/projects/{}/webhook/policies/{}/executions",
            project.name, policy.id
        ),
        &paging,
        total,
    );
    Ok(response.json(views))
}

/// Reads the log of one delivery: every attempt, its answer or error.
///
/// Plain text. Needs `notification-policy:read`.
#[utoipa::path(
    get,
    operation_id = "webhook_execution_log",
    path = "/api/v2.0/projects/{project}/webhook/policies/{id}/executions/{eid}/log",
    tag = "webhook",
    params(
        ("project" = String, Path, description = "Project name or id"),
        ("id" = i64, Path, description = "Policy id"),
        ("eid" = i64, Path, description = "Delivery id"),
    ),
    responses(
        (status = 200, description = "The log", body = String, content_type = "text/plain"),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project, policy or delivery", body = super::docs::Errors),
    )
)]
pub async fn execution_log(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (name, id, eid) = path.into_inner();
    let (_, policy) = policy(&state, &req, &name, id, Action::Read).await?;
    let delivery = webhook_delivery::Entity::find_by_id(eid)
        .filter(webhook_delivery::Column::PolicyId.eq(policy.id))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("delivery {eid} not found")))?;
    let text = match delivery.job_id {
        Some(job) => state.jobs.log_text(job).await?,
        None => String::new(),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(text))
}

/// When each policy of the project last sent an event.
#[derive(Serialize, ToSchema)]
pub struct LastTrigger {
    policy_name: String,
    event_type: String,
    enabled: bool,
    creation_time: DateTime<Utc>,
    last_trigger_time: Option<DateTime<Utc>>,
}

/// Lists, per policy and event type, when the project's webhooks last fired.
///
/// Needs `notification-policy:read`.
#[utoipa::path(
    get,
    operation_id = "webhook_last_trigger",
    path = "/api/v2.0/projects/{project}/webhook/lasttrigger",
    tag = "webhook",
    params(("project" = String, Path, description = "Project name or id")),
    responses(
        (status = 200, description = "One entry per policy and subscribed event type", body = Vec<LastTrigger>),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn last_trigger(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(
        &state,
        &req,
        &path,
        Resource::NotificationPolicy,
        Action::Read,
    )
    .await?;
    let policies = webhook_policy::Entity::find()
        .filter(webhook_policy::Column::ProjectId.eq(project.id))
        .order_by_asc(webhook_policy::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for policy in policies {
        for event_type in webhooks::event_types(&policy) {
            let last = webhook_delivery::Entity::find()
                .select_only()
                .column_as(webhook_delivery::Column::CreatedAt.max(), "last")
                .filter(webhook_delivery::Column::PolicyId.eq(policy.id))
                .filter(webhook_delivery::Column::EventType.eq(&event_type))
                .into_tuple::<Option<DateTime<Utc>>>()
                .one(&state.db)
                .await?
                .flatten();
            out.push(LastTrigger {
                policy_name: policy.name.clone(),
                event_type,
                enabled: policy.enabled,
                creation_time: policy.created_at,
                last_trigger_time: last,
            });
        }
    }
    Ok(HttpResponse::Ok().json(out))
}

/// The event types, target types and payload formats policies may use.
#[derive(Serialize, ToSchema)]
pub struct EventsView {
    event_type: Vec<&'static str>,
    notify_type: Vec<&'static str>,
    payload_formats: Vec<PayloadFormats>,
}

#[derive(Serialize, ToSchema)]
pub struct PayloadFormats {
    notify_type: &'static str,
    formats: Vec<&'static str>,
}

/// Lists what a webhook policy may subscribe to and send.
///
/// Needs `notification-policy:read`.
#[utoipa::path(
    get,
    operation_id = "webhook_events",
    path = "/api/v2.0/projects/{project}/webhook/events",
    tag = "webhook",
    params(("project" = String, Path, description = "Project name or id")),
    responses(
        (status = 200, description = "Event types, target types and payload formats", body = EventsView),
        (status = 401, description = "Not signed in", body = super::docs::Errors),
        (status = 403, description = "Not allowed in this project", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn events(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    authorize(
        &state,
        &req,
        &path,
        Resource::NotificationPolicy,
        Action::Read,
    )
    .await?;
    Ok(HttpResponse::Ok().json(EventsView {
        event_type: EVENT_TYPES.to_vec(),
        notify_type: vec!["http", "slack"],
        payload_formats: vec![
            PayloadFormats {
                notify_type: "http",
                formats: vec!["Default", "CloudEvents"],
            },
            PayloadFormats {
                notify_type: "slack",
                formats: vec!["Default"],
            },
        ],
    }))
}
