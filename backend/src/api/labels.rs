//! Labels: global ones (managed by administrators) and project ones, attached to artifacts.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::projects::{authorize, authorize_in};
use super::query::Matcher;
use super::{Paging, paged, repositories, signed_in};
use crate::app::AppState;
use crate::auth::{Action, Principal, Resource};
use crate::db::entities::{artifact_label, label, manifest, project};
use crate::error::ApiError;

const ARTIFACT_LABELS: &str =
    "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/labels", web::get().to(list))
        .route("/labels", web::post().to(create))
        .route("/labels/{label_id}", web::get().to(get))
        .route("/labels/{label_id}", web::put().to(update))
        .route("/labels/{label_id}", web::delete().to(delete))
        .route(ARTIFACT_LABELS, web::post().to(attach))
        .route(
            &format!("{ARTIFACT_LABELS}/{{label_id}}"),
            web::delete().to(detach),
        );
}

/// A label as Harbor shows it.
#[derive(Serialize, ToSchema)]
pub struct LabelView {
    id: i64,
    name: String,
    description: String,
    color: String,
    /// `g` global, `p` project.
    scope: String,
    project_id: i64,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

impl From<label::Model> for LabelView {
    fn from(l: label::Model) -> Self {
        Self {
            id: l.id,
            name: l.name,
            description: l.description,
            color: l.color,
            scope: l.scope,
            project_id: l.project_id,
            creation_time: l.created_at,
            update_time: l.updated_at,
        }
    }
}

/// The labels attached to an artifact.
pub(crate) async fn labels_of(
    state: &AppState,
    manifest_id: i64,
) -> Result<Vec<LabelView>, ApiError> {
    let attached = Query::select()
        .column(artifact_label::Column::LabelId)
        .from(artifact_label::Entity)
        .and_where(artifact_label::Column::ManifestId.eq(manifest_id))
        .to_owned();
    let rows = label::Entity::find()
        .filter(label::Column::Id.in_subquery(attached))
        .order_by_asc(label::Column::Name)
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().map(LabelView::from).collect())
}

/// The artifact condition of a `labels` query term (label ids): any of `{a b}`, all of `(a b)`.
pub(crate) fn label_condition(matcher: Option<&Matcher>) -> Result<Condition, ApiError> {
    let ids = |values: &[String]| {
        values
            .iter()
            .map(|v| v.parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ApiError::bad_request("labels filters take label ids"))
    };
    let having = |id_list: Vec<i64>| {
        Query::select()
            .column(artifact_label::Column::ManifestId)
            .from(artifact_label::Entity)
            .and_where(artifact_label::Column::LabelId.is_in(id_list))
            .to_owned()
    };
    Ok(match matcher {
        None => Condition::all(),
        Some(Matcher::Exact(v)) => Condition::all()
            .add(manifest::Column::Id.in_subquery(having(ids(std::slice::from_ref(v))?))),
        Some(Matcher::AnyOf(v)) => {
            Condition::all().add(manifest::Column::Id.in_subquery(having(ids(v)?)))
        }
        Some(Matcher::AllOf(v)) => {
            let mut all = Condition::all();
            for id in ids(v)? {
                all = all.add(manifest::Column::Id.in_subquery(having(vec![id])));
            }
            all
        }
        Some(Matcher::Fuzzy(_) | Matcher::Range(..)) => {
            return Err(ApiError::bad_request("labels filters take label ids"));
        }
    })
}

/// Checks `action` on a label: project labels by the project's label permission, global ones
/// by administrator rights for changes and by signing in for reads.
async fn authorize_label(
    state: &AppState,
    req: &HttpRequest,
    principal: &Principal,
    scope: &str,
    project_id: i64,
    action: Action,
) -> Result<(), ApiError> {
    if scope == "p" {
        let project = project::Entity::find_by_id(project_id)
            .one(&state.db)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("project {project_id} not found")))?;
        authorize_in(state, req, principal, &project, Resource::Label, action).await?;
        return Ok(());
    }
    let reading = matches!(action, Action::Read | Action::List);
    match principal {
        Principal::Anonymous => Err(ApiError::unauthorized("authentication required")),
        _ if reading || state.rbac.system_allows(principal, "label", action) => Ok(()),
        _ => Err(ApiError::forbidden(
            "only system administrators manage global labels",
        )),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LabelListQuery {
    /// `g` for global labels (default), `p` for a project's labels.
    scope: Option<String>,
    /// The project of `scope=p`.
    project_id: Option<i64>,
    /// Only labels whose name contains this.
    name: Option<String>,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

/// Lists global labels, or with `scope=p&project_id=` a project's labels.
///
/// Global labels are readable by every signed-in user; a project's labels need its `label:list`
/// permission.
#[utoipa::path(
    get,
    operation_id = "labels_list",
    path = "/api/v2.0/labels",
    tag = "label",
    params(LabelListQuery),
    responses(
        (status = 200, description = "One page of labels; `X-Total-Count` and `Link` headers", body = Vec<LabelView>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 404, description = "No such project", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<LabelListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    let scope = params.scope.as_deref().unwrap_or("g");
    let project_id = match (scope, params.project_id) {
        ("g", _) => 0,
        ("p", Some(id)) => id,
        ("p", None) => return Err(ApiError::bad_request("scope=p needs project_id")),
        _ => return Err(ApiError::bad_request("scope must be g or p")),
    };
    authorize_label(&state, &req, &principal, scope, project_id, Action::List).await?;
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let mut select = label::Entity::find()
        .filter(label::Column::Scope.eq(scope))
        .filter(label::Column::ProjectId.eq(project_id));
    if let Some(name) = params.name.as_deref().filter(|n| !n.is_empty()) {
        select = select.filter(label::Column::Name.contains(name));
    }
    let total = select.clone().count(&state.db).await?;
    let rows = select
        .order_by_asc(label::Column::Name)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    let mut response = HttpResponse::Ok();
    paged(&mut response, "/api/v2.0/labels", &paging, total);
    Ok(response.json(rows.into_iter().map(LabelView::from).collect::<Vec<_>>()))
}

/// A new label.
#[derive(Deserialize, ToSchema)]
pub struct NewLabel {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    color: String,
    /// `g` (default) or `p`.
    scope: Option<String>,
    project_id: Option<i64>,
}

fn check_label(name: &str, color: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 128 {
        return Err(ApiError::bad_request("label name must be 1-128 characters"));
    }
    let hex = color.strip_prefix('#').unwrap_or("x");
    let valid_hex = hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !(color.is_empty() || valid_hex) {
        return Err(ApiError::bad_request("label color must look like #1A2B3C"));
    }
    Ok(())
}

/// Creates a global or project label.
///
/// Global labels (`scope` `g`) are created by administrators, project labels (`scope` `p`) by
/// holders of the project's `label:create` permission. Colors are `#RRGGBB`.
#[utoipa::path(
    post,
    operation_id = "labels_create",
    path = "/api/v2.0/labels",
    tag = "label",
    request_body = NewLabel,
    responses(
        (status = 201, description = "Created; `Location` names the label"),
        (status = 400, description = "Invalid label", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 409, description = "A label of that name exists in the scope", body = super::docs::Errors),
    )
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewLabel>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    let body = body.into_inner();
    let scope = body.scope.unwrap_or_else(|| "g".into());
    let project_id = match scope.as_str() {
        "g" => 0,
        "p" => body
            .project_id
            .ok_or_else(|| ApiError::bad_request("scope p needs project_id"))?,
        _ => return Err(ApiError::bad_request("scope must be g or p")),
    };
    authorize_label(&state, &req, &principal, &scope, project_id, Action::Create).await?;
    check_label(&body.name, &body.color)?;
    let now = Utc::now();
    let inserted = label::Entity::insert(label::ActiveModel {
        name: Set(body.name.clone()),
        description: Set(body.description),
        color: Set(body.color),
        scope: Set(scope),
        project_id: Set(project_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&state.db)
    .await;
    match inserted {
        Ok(row) => Ok(HttpResponse::Created()
            .insert_header((
                "Location",
                format!("/api/v2.0/labels/{}", row.last_insert_id),
            ))
            .finish()),
        Err(e) if crate::db::is_unique_violation(&e) => Err(ApiError::conflict(format!(
            "label {} already exists",
            body.name
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn find(state: &AppState, id: i64) -> Result<label::Model, ApiError> {
    label::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("label {id} not found")))
}

/// Reads one label.
///
/// Global labels are readable by every signed-in user; a project label needs its project's
/// `label:read` permission.
#[utoipa::path(
    get,
    operation_id = "labels_get",
    path = "/api/v2.0/labels/{label_id}",
    tag = "label",
    params(("label_id" = i64, Path, description = "Label id")),
    responses(
        (status = 200, description = "The label", body = LabelView),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 404, description = "No such label", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    let row = find(&state, *path).await?;
    authorize_label(
        &state,
        &req,
        &principal,
        &row.scope,
        row.project_id,
        Action::Read,
    )
    .await?;
    Ok(HttpResponse::Ok().json(LabelView::from(row)))
}

/// The editable part of a label.
#[derive(Deserialize, ToSchema)]
pub struct LabelChange {
    name: Option<String>,
    description: Option<String>,
    color: Option<String>,
}

/// Changes a label's name, description or color.
///
/// Changes are checked like creation; the name must stay unique in its scope.
#[utoipa::path(
    put,
    operation_id = "labels_update",
    path = "/api/v2.0/labels/{label_id}",
    tag = "label",
    params(("label_id" = i64, Path, description = "Label id")),
    request_body = LabelChange,
    responses(
        (status = 200, description = "Updated"),
        (status = 400, description = "Invalid change", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such label", body = super::docs::Errors),
        (status = 409, description = "The new name is taken", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: super::ObjectJson<LabelChange>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    let row = find(&state, *path).await?;
    authorize_label(
        &state,
        &req,
        &principal,
        &row.scope,
        row.project_id,
        Action::Update,
    )
    .await?;
    let body = body.into_inner();
    let name = body.name.unwrap_or(row.name);
    let color = body.color.unwrap_or(row.color);
    check_label(&name, &color)?;
    let updated = label::Entity::update_many()
        .col_expr(label::Column::Name, Expr::value(name.clone()))
        .col_expr(label::Column::Color, Expr::value(color))
        .col_expr(
            label::Column::Description,
            Expr::value(body.description.unwrap_or(row.description)),
        )
        .col_expr(label::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(label::Column::Id.eq(row.id))
        .exec(&state.db)
        .await;
    match updated {
        Ok(_) => Ok(HttpResponse::Ok().finish()),
        Err(e) if crate::db::is_unique_violation(&e) => {
            Err(ApiError::conflict(format!("label {name} already exists")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes a label and detaches it from every artifact.
///
/// The label disappears from every artifact it was attached to.
#[utoipa::path(
    delete,
    operation_id = "labels_delete",
    path = "/api/v2.0/labels/{label_id}",
    tag = "label",
    params(("label_id" = i64, Path, description = "Label id")),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such label", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let principal = signed_in(&state, &req).await?;
    let row = find(&state, *path).await?;
    authorize_label(
        &state,
        &req,
        &principal,
        &row.scope,
        row.project_id,
        Action::Delete,
    )
    .await?;
    label::Entity::delete_by_id(row.id).exec(&state.db).await?;
    Ok(HttpResponse::Ok().finish())
}

/// The label to attach.
#[derive(Deserialize, ToSchema)]
pub struct LabelRef {
    id: i64,
}

/// Attaches a global label, or a label of the artifact's project, to an artifact.
///
/// Needs the project's `artifact-label:create` permission; a label of another project is refused.
#[utoipa::path(
    post,
    operation_id = "labels_attach",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        ("reference" = String, Path, description = "Tag or digest"),
    ),
    request_body = LabelRef,
    responses(
        (status = 201, description = "Attached"),
        (status = 400, description = "A label of another project", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "No such artifact or label", body = super::docs::Errors),
        (status = 409, description = "Already attached", body = super::docs::Errors),
    )
)]
pub async fn attach(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    body: web::Json<LabelRef>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment, reference) = path.into_inner();
    let (_, project, _) = authorize(
        &state,
        &req,
        &project_name,
        Resource::ArtifactLabel,
        Action::Create,
    )
    .await?;
    let repo = repositories::find(&state, &project, &repo_segment).await?;
    let artifact = state.registry.resolve(&repo.name, &reference).await?;
    let found = find(&state, body.id).await?;
    if found.scope == "p" && found.project_id != project.id {
        return Err(ApiError::bad_request(format!(
            "label {} belongs to another project",
            found.id
        )));
    }
    let inserted = artifact_label::Entity::insert(artifact_label::ActiveModel {
        manifest_id: Set(artifact.id),
        label_id: Set(found.id),
        created_at: Set(Utc::now()),
    })
    .exec(&state.db)
    .await;
    match inserted {
        Ok(_) => Ok(HttpResponse::Created().finish()),
        Err(e) if crate::db::is_unique_violation(&e) => Err(ApiError::conflict(format!(
            "label {} is already attached",
            found.name
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Detaches a label from an artifact.
///
/// Needs the project's `artifact-label:delete` permission.
#[utoipa::path(
    delete,
    operation_id = "labels_detach",
    path = "/api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels/{label_id}",
    tag = "artifact",
    params(
        ("project_name" = String, Path, description = "Project name or id"),
        ("repository_name" = String, Path, description = "Repository name without the project, `/` encoded as `%252F`"),
        ("reference" = String, Path, description = "Tag or digest"),
        ("label_id" = i64, Path, description = "Label id"),
    ),
    responses(
        (status = 200, description = "Detached"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not allowed", body = super::docs::Errors),
        (status = 404, description = "The label is not attached", body = super::docs::Errors),
    )
)]
pub async fn detach(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (project_name, repo_segment, reference, label_id) = path.into_inner();
    let (_, project, _) = authorize(
        &state,
        &req,
        &project_name,
        Resource::ArtifactLabel,
        Action::Delete,
    )
    .await?;
    let repo = repositories::find(&state, &project, &repo_segment).await?;
    let artifact = state.registry.resolve(&repo.name, &reference).await?;
    let deleted = artifact_label::Entity::delete_many()
        .filter(artifact_label::Column::ManifestId.eq(artifact.id))
        .filter(artifact_label::Column::LabelId.eq(label_id))
        .exec(&state.db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::not_found(format!(
            "label {label_id} is not attached"
        )));
    }
    Ok(HttpResponse::Ok().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_and_names_are_checked() {
        assert!(check_label("prod", "#00FF7a").is_ok());
        assert!(check_label("prod", "").is_ok());
        assert!(check_label("", "").is_err());
        assert!(check_label("prod", "red").is_err());
    }
}
