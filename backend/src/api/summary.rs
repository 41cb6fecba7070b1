//! `GET /projects/{project}/summary`: member counts by role, repositories and storage quota.

use actix_web::{HttpRequest, HttpResponse, web};
use berth_api_types::{ProjectRole, ProjectSummary, Quota, StorageAmount};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use super::projects::authorize;
use crate::app::AppState;
use crate::auth::{Action, Resource};
use crate::db::entities::{blob, manifest, project_member, repository, repository_blob};
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/projects/{project}/summary", web::get().to(get));
}

async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, project, access) =
        authorize(&state, &req, &path, Resource::Project, Action::Read).await?;
    let mut summary = ProjectSummary {
        repo_count: repo_count(&state, project.id).await?,
        ..ProjectSummary::default()
    };
    if state.rbac.allows(&access, Resource::Member, Action::List) {
        count_members(&state, project.id, &mut summary).await?;
    }
    if state.rbac.allows(&access, Resource::Quota, Action::Read) {
        summary.quota = Some(Quota {
            hard: StorageAmount {
                storage: project.storage_limit,
            },
            used: StorageAmount {
                storage: storage_used(&state, project.id).await?,
            },
        });
    }
    Ok(HttpResponse::Ok().json(summary))
}

/// Repositories holding at least one artifact, as the project list counts them.
async fn repo_count(state: &AppState, project_id: i64) -> Result<u64, ApiError> {
    let with_manifests = Query::select()
        .column(manifest::Column::RepositoryId)
        .from(manifest::Entity)
        .to_owned();
    Ok(repository::Entity::find()
        .filter(repository::Column::ProjectId.eq(project_id))
        .filter(repository::Column::Id.in_subquery(with_manifests))
        .count(&state.db)
        .await?)
}

async fn count_members(
    state: &AppState,
    project_id: i64,
    summary: &mut ProjectSummary,
) -> Result<(), ApiError> {
    let counts: Vec<(i32, i64)> = project_member::Entity::find()
        .select_only()
        .column(project_member::Column::RoleId)
        .column_as(project_member::Column::Id.count(), "members")
        .filter(project_member::Column::ProjectId.eq(project_id))
        .group_by(project_member::Column::RoleId)
        .into_tuple()
        .all(&state.db)
        .await?;
    for (role_id, count) in counts {
        let count = u64::try_from(count).unwrap_or_default();
        match ProjectRole::from_id(role_id) {
            Some(ProjectRole::ProjectAdmin) => summary.project_admin_count = count,
            Some(ProjectRole::Maintainer) => summary.maintainer_count = count,
            Some(ProjectRole::Developer) => summary.developer_count = count,
            Some(ProjectRole::Guest) => summary.guest_count = count,
            Some(ProjectRole::LimitedGuest) => summary.limited_guest_count = count,
            None => {}
        }
    }
    Ok(())
}

/// Bytes of the distinct blobs linked to the project's repositories; a blob shared by two
/// repositories of the project counts once.
async fn storage_used(state: &AppState, project_id: i64) -> Result<i64, ApiError> {
    let repositories = Query::select()
        .column(repository::Column::Id)
        .from(repository::Entity)
        .and_where(Expr::col(repository::Column::ProjectId).eq(project_id))
        .to_owned();
    let linked = Query::select()
        .column(repository_blob::Column::BlobId)
        .from(repository_blob::Entity)
        .and_where(Expr::col(repository_blob::Column::RepositoryId).in_subquery(repositories))
        .to_owned();
    // SUM of a BIGINT is NUMERIC on PostgreSQL; cast back so both databases return an integer.
    let total = Expr::from(Func::cast_as(
        Func::sum(Expr::col(blob::Column::Size)),
        Alias::new("BIGINT"),
    ));
    let used: Option<Option<i64>> = blob::Entity::find()
        .select_only()
        .column_as(total, "used")
        .filter(blob::Column::Id.in_subquery(linked))
        .into_tuple()
        .one(&state.db)
        .await?;
    Ok(used.flatten().unwrap_or(0))
}
