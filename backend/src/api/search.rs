//! Cross-cutting reads: global search, statistics and system information.

use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller;
use super::projects::visible_to;
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::entities::{blob, manifest, project, repository};
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/search", web::get().to(search))
        .route("/statistics", web::get().to(statistics))
        .route("/systeminfo", web::get().to(systeminfo));
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Text the project or repository name contains.
    q: String,
}

/// A project found by search.
#[derive(Serialize, ToSchema)]
pub struct ProjectHit {
    project_id: i64,
    name: String,
    public: bool,
}

/// A repository found by search.
#[derive(Serialize, ToSchema)]
pub struct RepositoryHit {
    project_id: i64,
    project_name: String,
    project_public: bool,
    repository_name: String,
    pull_count: i64,
    artifact_count: u64,
}

/// Search results.
#[derive(Serialize, ToSchema)]
pub struct SearchResult {
    project: Vec<ProjectHit>,
    repository: Vec<RepositoryHit>,
}

/// Searches the projects and repositories the caller can see by name (at most 100 of each).
///
/// Matches names containing `q`; only projects the caller can see, and their repositories, are
/// returned.
#[utoipa::path(
    get,
    operation_id = "search_search",
    path = "/api/v2.0/search",
    tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching projects and repositories", body = SearchResult),
        (status = 400, description = "Missing q", body = super::docs::Errors),
        (status = 401, description = "Wrong credentials", body = super::docs::Errors),
    )
)]
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let visible = visible_to(&principal).unwrap_or_else(Condition::all);
    let projects = project::Entity::find()
        .filter(visible.clone())
        .filter(project::Column::Name.contains(&params.q))
        .order_by_asc(project::Column::Name)
        .limit(100)
        .all(&state.db)
        .await?;
    let visible_ids = Query::select()
        .column(project::Column::Id)
        .from(project::Entity)
        .cond_where(visible)
        .to_owned();
    let repositories = repository::Entity::find()
        .filter(repository::Column::ProjectId.in_subquery(visible_ids))
        .filter(repository::Column::Name.contains(&params.q))
        .order_by_asc(repository::Column::Name)
        .limit(100)
        .all(&state.db)
        .await?;
    let mut hits = Vec::with_capacity(repositories.len());
    for repo in repositories {
        let Some(owner) = project::Entity::find_by_id(repo.project_id)
            .one(&state.db)
            .await?
        else {
            continue;
        };
        let artifact_count = manifest::Entity::find()
            .filter(manifest::Column::RepositoryId.eq(repo.id))
            .filter(manifest::Column::SubjectDigest.is_null())
            .count(&state.db)
            .await?;
        hits.push(RepositoryHit {
            project_id: owner.id,
            project_name: owner.name,
            project_public: owner.public,
            repository_name: repo.name,
            pull_count: repo.pull_count,
            artifact_count,
        });
    }
    Ok(HttpResponse::Ok().json(SearchResult {
        project: projects
            .into_iter()
            .map(|p| ProjectHit {
                project_id: p.id,
                name: p.name,
                public: p.public,
            })
            .collect(),
        repository: hits,
    }))
}

/// Project and repository counts, and for administrators the storage used.
#[derive(Serialize, ToSchema)]
pub struct Statistics {
    private_project_count: u64,
    private_repo_count: u64,
    public_project_count: u64,
    public_repo_count: u64,
    total_project_count: u64,
    total_repo_count: u64,
    /// Bytes of stored blobs (administrators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    total_storage_consumption: Option<i64>,
}

/// Counts the projects and repositories the caller can see.
///
/// Counts cover the projects the caller can see; `total_storage_consumption` is shown to
/// administrators only.
#[utoipa::path(
    get,
    operation_id = "search_statistics",
    path = "/api/v2.0/statistics",
    tag = "statistic",
    responses(
        (status = 200, description = "The counts", body = Statistics),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
    )
)]
pub async fn statistics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = super::signed_in(&state, &req).await?;
    let visible = visible_to(&principal).unwrap_or_else(Condition::all);
    let count_projects = |public: bool| {
        project::Entity::find()
            .filter(visible.clone())
            .filter(project::Column::Public.eq(public))
            .count(&state.db)
    };
    let public_projects = count_projects(true).await?;
    let private_projects = count_projects(false).await?;
    let repos_in = |public: bool| {
        let ids = Query::select()
            .column(project::Column::Id)
            .from(project::Entity)
            .cond_where(visible.clone())
            .and_where(project::Column::Public.eq(public))
            .to_owned();
        repository::Entity::find()
            .filter(repository::Column::ProjectId.in_subquery(ids))
            .count(&state.db)
    };
    let public_repos = repos_in(true).await?;
    let private_repos = repos_in(false).await?;
    let storage = if principal.is_sysadmin() {
        let sum: Option<Option<i64>> = blob::Entity::find()
            .select_only()
            // SUM of a BIGINT is NUMERIC on PostgreSQL: cast it back so both backends give i64.
            .column_as(
                Expr::from(Func::cast_as(
                    Func::sum(Expr::col(blob::Column::Size)),
                    "BIGINT",
                )),
                "total",
            )
            .into_tuple()
            .one(&state.db)
            .await?;
        Some(sum.flatten().unwrap_or(0))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(Statistics {
        private_project_count: private_projects,
        private_repo_count: private_repos,
        public_project_count: public_projects,
        public_repo_count: public_repos,
        total_project_count: public_projects + private_projects,
        total_repo_count: public_repos + private_repos,
        total_storage_consumption: storage,
    }))
}

/// What the console needs to know about this installation. Anonymous callers get the public
/// part only.
#[derive(Serialize, ToSchema)]
pub struct SystemInfo {
    auth_mode: &'static str,
    primary_auth_mode: bool,
    self_registration: bool,
    harbor_version: &'static str,
    banner_message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_creation_restriction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    has_ca_root: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    with_chartmuseum: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification_enable: Option<bool>,
}

/// Reads the system information.
///
/// Anonymous callers get the authentication mode, self-registration flag, version and banner;
/// signed-in callers also the registry address and project-creation restriction.
#[utoipa::path(
    get,
    operation_id = "search_systeminfo",
    path = "/api/v2.0/systeminfo",
    tag = "systeminfo",
    responses(
        (status = 200, description = "System information", body = SystemInfo),
        (status = 401, description = "Wrong credentials", body = super::docs::Errors),
    )
)]
pub async fn systeminfo(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let values = crate::settings::current(&state.db, &state.config).await?;
    let text = |key: &str| {
        values
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let signed_in = principal != Principal::Anonymous;
    let external = state.config.server.external_url.clone().unwrap_or_else(|| {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    });
    let registry_host = external
        .split_once("://")
        .map_or(external.as_str(), |(_, host)| host)
        .trim_end_matches('/')
        .to_owned();
    Ok(HttpResponse::Ok().json(SystemInfo {
        auth_mode: "db_auth",
        primary_auth_mode: false,
        self_registration: values
            .get("self_registration")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
        harbor_version: concat!("berth-", env!("CARGO_PKG_VERSION")),
        banner_message: text("banner_message"),
        registry_url: signed_in.then_some(registry_host),
        external_url: signed_in.then_some(external),
        project_creation_restriction: signed_in.then(|| text("project_creation_restriction")),
        has_ca_root: signed_in.then_some(false),
        read_only: signed_in.then_some(false),
        with_chartmuseum: signed_in.then_some(false),
        notification_enable: signed_in.then_some(false),
    }))
}
