//! Reading the audit log: every entry (administrators), or one project's (`log` permission).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Order;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::projects::authorize;
use super::query::{self, Field, Kind};
use super::{Paging, paged, signed_in};
use crate::app::AppState;
use crate::auth::{Action, Resource};
use crate::db::entities::audit_log;
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit-logs", web::get().to(list))
        .route("/projects/{project_name}/logs", web::get().to(list_project));
}

/// An audit entry as Harbor shows it.
#[derive(Serialize, ToSchema)]
pub struct AuditLogView {
    id: i64,
    project_id: Option<i64>,
    username: String,
    operation: String,
    resource_type: String,
    resource: String,
    /// Whether the operation succeeded.
    success: bool,
    op_time: DateTime<Utc>,
}

impl From<audit_log::Model> for AuditLogView {
    fn from(row: audit_log::Model) -> Self {
        Self {
            id: row.id,
            project_id: row.project_id,
            username: row.operator,
            operation: row.operation,
            resource_type: row.resource_type,
            resource: row.resource,
            success: row.success,
            op_time: row.op_time,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditLogQuery {
    /// Filters: `username`, `operation`, `resource_type`, `resource` (e.g. `resource=~app`),
    /// `success`, `op_time` (range `[2024-01-01 00:00:00~2024-12-31 23:59:59]`).
    q: Option<String>,
    /// Sort fields: `op_time`, `username`, `operation`; `-` for descending. Default `-op_time`.
    sort: Option<String>,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

async fn page(
    state: &AppState,
    params: &AuditLogQuery,
    project_id: Option<i64>,
    link: &str,
) -> Result<HttpResponse, ApiError> {
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let fields = [
        Field::new("username", audit_log::Column::Operator, Kind::Text),
        Field::new("operation", audit_log::Column::Operation, Kind::Text),
        Field::new("resource_type", audit_log::Column::ResourceType, Kind::Text),
        Field::new("resource", audit_log::Column::Resource, Kind::Text),
        Field::new("success", audit_log::Column::Success, Kind::Bool),
        Field::new("op_time", audit_log::Column::OpTime, Kind::Time),
        Field::new("id", audit_log::Column::Id, Kind::Int),
    ];
    let terms = query::parse(params.q.as_deref().unwrap_or(""))?;
    let mut select = audit_log::Entity::find().filter(query::condition(&terms, &fields, &[])?);
    if let Some(project_id) = project_id {
        select = select.filter(audit_log::Column::ProjectId.eq(project_id));
    }
    let total = select.clone().count(&state.db).await?;
    for (column, direction) in
        query::order(params.sort.as_deref(), &fields, ("op_time", Order::Desc))?
    {
        select = select.order_by(column, direction);
    }
    let rows = select
        .order_by_desc(audit_log::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    let mut response = HttpResponse::Ok();
    paged(&mut response, link, &paging, total);
    Ok(response.json(rows.into_iter().map(AuditLogView::from).collect::<Vec<_>>()))
}

/// Lists every audit entry: REST changes, logins and logouts, and registry pushes, pulls and
/// deletes.
///
/// Requires system administrator rights (or a system robot with `audit-log:list`). Newest first
/// unless `sort` says otherwise.
#[utoipa::path(
    get,
    operation_id = "audit_logs_list",
    path = "/api/v2.0/audit-logs",
    tag = "auditlog",
    params(AuditLogQuery),
    responses(
        (status = 200, description = "One page of entries; `X-Total-Count` and `Link` headers", body = Vec<AuditLogView>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<AuditLogQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    if !state
        .rbac
        .system_allows(&principal, "audit-log", Action::List)
    {
        return Err(ApiError::forbidden(
            "the audit log is for system administrators",
        ));
    }
    page(&state, &params, None, "/api/v2.0/audit-logs").await
}

/// Lists the audit entries of one project.
///
/// Requires the project's `log:list` permission (project administrators). Newest first unless
/// `sort` says otherwise.
#[utoipa::path(
    get,
    operation_id = "audit_logs_list_project",
    path = "/api/v2.0/projects/{project_name}/logs",
    tag = "auditlog",
    params(("project_name" = String, Path, description = "Project name or id"), AuditLogQuery),
    responses(
        (status = 200, description = "One page of entries; `X-Total-Count` and `Link` headers", body = Vec<AuditLogView>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn list_project(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<AuditLogQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, _) = authorize(&state, &req, &path, Resource::Log, Action::List).await?;
    let link = format!("/api/v2.0/projects/{}/logs", project.name);
    page(&state, &params, Some(project.id), &link).await
}
