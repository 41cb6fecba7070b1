//! `/v2/`, `/v2/_catalog` and `/v2/<name>/tags/list`.

use actix_web::{HttpRequest, HttpResponse};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use super::auth::{self, db_error};
use super::{encode_query_value, query, query_value};
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::entities::{project, project_member};
use crate::error::OciError;
use crate::registry::RegistryError;

pub async fn base(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, OciError> {
    auth::authenticate(state, req, &[]).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body("{}"))
}

/// `n` and `last` of a paginated listing.
struct Page {
    n: Option<u64>,
    last: Option<String>,
}

fn page(req: &HttpRequest) -> Result<Page, OciError> {
    let query = query(req);
    let n = match query_value(&query, "n") {
        None | Some("") => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            OciError::from(RegistryError::PaginationInvalid(format!(
                "n must be a non-negative integer, got {v:?}"
            )))
        })?),
    };
    let last = query_value(&query, "last")
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    Ok(Page { n, last })
}

/// Answers one page of `items` (fetched with one extra element to learn whether more exist),
/// with a `Link` to the next page when there is one.
fn paginated<T: Serialize>(
    path: &str,
    page: &Page,
    mut items: Vec<String>,
    body: impl FnOnce(Vec<String>) -> T,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(n) = page.n
        && items.len() as u64 > n
    {
        items.truncate(n as usize);
        if let Some(last) = items.last() {
            response.insert_header((
                "Link",
                format!(
                    "<{path}?n={n}&last={}>; rel=\"next\"",
                    encode_query_value(last)
                ),
            ));
        }
    }
    response.json(body(items))
}

#[derive(Serialize)]
struct TagList {
    name: String,
    tags: Vec<String>,
}

pub async fn tags(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
) -> Result<HttpResponse, OciError> {
    auth::authorize(state, req, name, &["pull"]).await?;
    let page = page(req)?;
    let repository = state.registry.repository(name).await?;
    let tags = match page.n {
        Some(0) => Vec::new(),
        n => {
            state
                .registry
                .list_tags(repository.id, page.last.as_deref(), n.map(|n| n + 1))
                .await?
        }
    };
    Ok(paginated(
        &format!("/v2/{name}/tags/list"),
        &page,
        tags,
        |tags| TagList {
            name: name.to_owned(),
            tags,
        },
    ))
}

#[derive(Serialize)]
struct Catalog {
    repositories: Vec<String>,
}

/// Lists the repositories the caller may read: all for a system administrator, otherwise those
/// of public projects and of projects the caller is a member of.
pub async fn catalog(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, OciError> {
    let scopes = ["registry:catalog:*".to_owned()];
    let caller = auth::authenticate(state, req, &scopes).await?;
    let principal = auth::principal_of(state, caller).await?;
    let page = page(req)?;
    let projects = visible_projects(state, &principal).await?;
    let repositories = match page.n {
        Some(0) => Vec::new(),
        n => {
            state
                .registry
                .list_repositories(projects.as_deref(), page.last.as_deref(), n.map(|n| n + 1))
                .await?
        }
    };
    Ok(paginated(
        "/v2/_catalog",
        &page,
        repositories,
        |repositories| Catalog { repositories },
    ))
}

/// The ids of the projects `principal` may read; `None` means every project.
async fn visible_projects(
    state: &AppState,
    principal: &Principal,
) -> Result<Option<Vec<i64>>, OciError> {
    if principal.is_sysadmin() {
        return Ok(None);
    }
    let mut ids: Vec<i64> = project::Entity::find()
        .select_only()
        .column(project::Column::Id)
        .filter(project::Column::Public.eq(true))
        .into_tuple()
        .all(&state.db)
        .await
        .map_err(|e| db_error(&e))?;
    if let Some(user_id) = principal.user_id() {
        let member_of: Vec<i64> = project_member::Entity::find()
            .select_only()
            .column(project_member::Column::ProjectId)
            .filter(project_member::Column::EntityType.eq("u"))
            .filter(project_member::Column::EntityId.eq(user_id))
            .into_tuple()
            .all(&state.db)
            .await
            .map_err(|e| db_error(&e))?;
        ids.extend(member_of);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}
