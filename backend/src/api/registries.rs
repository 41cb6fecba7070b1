//! Registry endpoints: the upstream registries proxy-cache projects pull through.
//!
//! System administrators (and system robots with the `registry` permissions) manage them. The
//! access secret is write-only: responses show `*****` when one is set.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Order;
use sea_orm::{
    ActiveModelTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::query::{self, Field, Kind};
use super::{Paging, paged, signed_in};
use crate::app::AppState;
use crate::auth::{Action, Principal};
use crate::db::entities::{proxy_project, registry};
use crate::error::{ApiError, ApiErrorCode};
use crate::registry::proxy::{self, upstream::Upstream};

const MASK: &str = "*****";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/registries", web::get().to(list))
        .route("/registries", web::post().to(create))
        .route("/registries/ping", web::post().to(ping))
        // Other methods get 405 here rather than falling through to `/registries/{id}`.
        .route("/registries/ping", web::route().to(super::unrouted))
        .route("/registries/{id}", web::get().to(get))
        .route("/registries/{id}", web::put().to(update))
        .route("/registries/{id}", web::delete().to(delete))
        .route("/replication/adapters", web::get().to(adapters));
}

fn require(state: &AppState, principal: &Principal, action: Action) -> Result<(), ApiError> {
    if state.rbac.system_allows(principal, "registry", action) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only system administrators manage registry endpoints",
        ))
    }
}

/// How Berth signs in to a registry endpoint.
#[derive(Serialize, Deserialize, ToSchema, Default)]
pub struct Credential {
    /// `basic` (the only type; the token flow is followed when the upstream asks for it).
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    access_key: Option<String>,
    /// Write-only: `*****` in responses when set.
    #[serde(default)]
    access_secret: Option<String>,
}

/// A registry endpoint as Harbor shows it.
#[derive(Serialize, ToSchema)]
pub struct RegistryView {
    id: i64,
    name: String,
    description: String,
    /// Provider type: `docker-hub`, `docker-registry`, `harbor`, `berth`, `github-ghcr`, ...
    #[serde(rename = "type")]
    kind: String,
    url: String,
    insecure: bool,
    credential: Credential,
    creation_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

impl From<registry::Model> for RegistryView {
    fn from(r: registry::Model) -> Self {
        let has_key = r.access_key.as_ref().is_some_and(|k| !k.is_empty());
        Self {
            id: r.id,
            name: r.name,
            description: r.description,
            kind: r.kind,
            url: r.url,
            insecure: r.insecure,
            credential: Credential {
                kind: Some("basic".into()),
                access_key: r.access_key,
                access_secret: (has_key && r.access_secret.is_some()).then(|| MASK.into()),
            },
            creation_time: r.created_at,
            update_time: r.updated_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistryListQuery {
    /// Filters: `name`, `type`, `url` (exact, `~` for contains).
    q: Option<String>,
    /// Only endpoints whose name contains this.
    name: Option<String>,
    /// `name`, `creation_time`, `-` in front for descending.
    sort: Option<String>,
    #[serde(default = "super::first_page")]
    page: u64,
    #[serde(default = "super::default_page_size")]
    page_size: u64,
}

/// Lists registry endpoints.
///
/// System administrators only; access secrets are never shown.
#[utoipa::path(
    get,
    operation_id = "registries_list",
    path = "/api/v2.0/registries",
    tag = "registry",
    params(RegistryListQuery),
    responses(
        (status = 200, description = "One page of endpoints; `X-Total-Count` and `Link` headers", body = Vec<RegistryView>),
        (status = 400, description = "Invalid query", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
    )
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<RegistryListQuery>,
) -> Result<HttpResponse, ApiError> {
    require(&state, &signed_in(&state, &req).await?, Action::List)?;
    let paging = Paging {
        page: params.page,
        page_size: params.page_size,
    };
    let (offset, limit) = paging.window()?;
    let fields = [
        Field::new("name", registry::Column::Name, Kind::Text),
        Field::new("type", registry::Column::Kind, Kind::Text),
        Field::new("url", registry::Column::Url, Kind::Text),
        Field::new("creation_time", registry::Column::CreatedAt, Kind::Time),
        Field::new("id", registry::Column::Id, Kind::Int),
    ];
    let terms = query::parse(params.q.as_deref().unwrap_or(""))?;
    let mut select = registry::Entity::find().filter(query::condition(&terms, &fields, &[])?);
    if let Some(name) = params.name.as_deref().filter(|n| !n.is_empty()) {
        use sea_orm::ColumnTrait as _;
        select = select.filter(registry::Column::Name.contains(name));
    }
    let total = select.clone().count(&state.db).await?;
    for (column, direction) in query::order(params.sort.as_deref(), &fields, ("id", Order::Asc))? {
        select = select.order_by(column, direction);
    }
    let rows = select.offset(offset).limit(limit).all(&state.db).await?;
    let mut response = HttpResponse::Ok();
    paged(&mut response, "/api/v2.0/registries", &paging, total);
    Ok(response.json(rows.into_iter().map(RegistryView::from).collect::<Vec<_>>()))
}

/// A new registry endpoint.
#[derive(Deserialize, ToSchema)]
pub struct NewRegistry {
    name: String,
    #[serde(default)]
    description: String,
    /// Provider type (see `GET /replication/adapters`).
    #[serde(rename = "type")]
    kind: String,
    /// Base URL, e.g. `https://registry-1.docker.io` or `https://ghcr.io`.
    url: String,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    credential: Option<Credential>,
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 255 {
        return Err(ApiError::bad_request(
            "registry name must be 1-255 characters",
        ));
    }
    Ok(())
}

fn check_kind(kind: &str) -> Result<(), ApiError> {
    if proxy::KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "registry type {kind:?} is not supported; use one of: {}",
            proxy::KINDS.join(", ")
        )))
    }
}

fn check_url(url: &str) -> Result<String, ApiError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| ApiError::bad_request(format!("registry url {url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ApiError::bad_request(format!(
            "registry url {url:?} must be an http(s) URL with a host"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ApiError::bad_request(format!(
            "registry url {url:?} must not carry a query or fragment"
        )));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn check_credential(credential: &Credential) -> Result<(), ApiError> {
    match credential.kind.as_deref() {
        None | Some("" | "basic") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "credential type {other:?} is not supported; use basic"
        ))),
    }
}

/// Creates a registry endpoint.
///
/// The access secret is stored for calls to the upstream and never returned.
#[utoipa::path(
    post,
    operation_id = "registries_create",
    path = "/api/v2.0/registries",
    tag = "registry",
    request_body = NewRegistry,
    responses(
        (status = 201, description = "Created; `Location` names the endpoint"),
        (status = 400, description = "Invalid name, type, URL or credential", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 409, description = "The name is taken", body = super::docs::Errors),
    )
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewRegistry>,
) -> Result<HttpResponse, ApiError> {
    require(&state, &signed_in(&state, &req).await?, Action::Create)?;
    let body = body.into_inner();
    check_name(&body.name)?;
    check_kind(&body.kind)?;
    let url = check_url(&body.url)?;
    let credential = body.credential.unwrap_or_default();
    check_credential(&credential)?;
    let now = Utc::now();
    let inserted = registry::Entity::insert(registry::ActiveModel {
        name: Set(body.name.clone()),
        description: Set(body.description),
        kind: Set(body.kind),
        url: Set(url),
        insecure: Set(body.insecure),
        access_key: Set(credential.access_key.filter(|k| !k.is_empty())),
        access_secret: Set(credential.access_secret),
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
                format!("/api/v2.0/registries/{}", row.last_insert_id),
            ))
            .finish()),
        Err(e) if crate::db::is_unique_violation(&e) => Err(ApiError::conflict(format!(
            "registry {} already exists",
            body.name
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn find(state: &AppState, id: i64) -> Result<registry::Model, ApiError> {
    registry::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("registry {id} not found")))
}

/// Reads one registry endpoint.
///
/// System administrators only; the access secret shows as `*****` when one is set.
#[utoipa::path(
    get,
    operation_id = "registries_get",
    path = "/api/v2.0/registries/{id}",
    tag = "registry",
    params(("id" = i64, Path, description = "Registry id")),
    responses(
        (status = 200, description = "The endpoint", body = RegistryView),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 404, description = "No such endpoint", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    require(&state, &signed_in(&state, &req).await?, Action::Read)?;
    Ok(HttpResponse::Ok().json(RegistryView::from(find(&state, *id).await?)))
}

/// Changes to a registry endpoint; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
pub struct RegistryUpdate {
    name: Option<String>,
    description: Option<String>,
    url: Option<String>,
    insecure: Option<bool>,
    /// `basic`.
    credential_type: Option<String>,
    access_key: Option<String>,
    /// Write-only; `*****` (what GET shows) keeps the stored secret.
    access_secret: Option<String>,
}

/// How to reach an endpoint, as an update or a ping may change it (absent fields are kept).
struct Connection {
    url: Option<String>,
    insecure: Option<bool>,
    credential_type: Option<String>,
    access_key: Option<String>,
    /// `*****` (what GET shows) keeps the stored secret.
    access_secret: Option<String>,
}

impl Connection {
    /// Checks the fields given and writes them into `row`.
    fn apply(self, row: &mut registry::Model) -> Result<(), ApiError> {
        check_credential(&Credential {
            kind: self.credential_type,
            ..Credential::default()
        })?;
        if let Some(url) = self.url {
            row.url = check_url(&url)?;
        }
        if let Some(insecure) = self.insecure {
            row.insecure = insecure;
        }
        if let Some(key) = self.access_key {
            row.access_key = Some(key).filter(|k| !k.is_empty());
        }
        if let Some(secret) = self.access_secret.filter(|s| s != MASK) {
            row.access_secret = Some(secret);
        }
        Ok(())
    }
}

/// Updates a registry endpoint.
///
/// Proxy-cache projects bound to it use the new address and credentials from their next pull.
#[utoipa::path(
    put,
    operation_id = "registries_update",
    path = "/api/v2.0/registries/{id}",
    tag = "registry",
    params(("id" = i64, Path, description = "Registry id")),
    request_body = RegistryUpdate,
    responses(
        (status = 200, description = "Updated"),
        (status = 400, description = "Invalid name, URL or credential", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 404, description = "No such endpoint", body = super::docs::Errors),
        (status = 409, description = "The name is taken", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<RegistryUpdate>,
) -> Result<HttpResponse, ApiError> {
    require(&state, &signed_in(&state, &req).await?, Action::Update)?;
    let mut row = find(&state, *id).await?;
    let body = body.into_inner();
    if let Some(name) = body.name {
        check_name(&name)?;
        row.name = name;
    }
    if let Some(description) = body.description {
        row.description = description;
    }
    Connection {
        url: body.url,
        insecure: body.insecure,
        credential_type: body.credential_type,
        access_key: body.access_key,
        access_secret: body.access_secret,
    }
    .apply(&mut row)?;
    row.updated_at = Utc::now();
    let active = registry::ActiveModel::from(row).reset_all();
    match active.update(&state.db).await {
        Ok(_) => Ok(HttpResponse::Ok().finish()),
        Err(e) if crate::db::is_unique_violation(&e) => {
            Err(ApiError::conflict("another registry has that name"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes a registry endpoint.
///
/// Refused with 412 while a proxy-cache project pulls through it.
#[utoipa::path(
    delete,
    operation_id = "registries_delete",
    path = "/api/v2.0/registries/{id}",
    tag = "registry",
    params(("id" = i64, Path, description = "Registry id")),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 404, description = "No such endpoint", body = super::docs::Errors),
        (status = 412, description = "A proxy-cache project uses it", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    use sea_orm::ColumnTrait as _;
    require(&state, &signed_in(&state, &req).await?, Action::Delete)?;
    let row = find(&state, *id).await?;
    let users = proxy_project::Entity::find()
        .filter(proxy_project::Column::RegistryId.eq(row.id))
        .count(&state.db)
        .await?;
    if users > 0 {
        return Err(ApiError::new(
            ApiErrorCode::Precondition,
            format!(
                "registry {} is used by {users} proxy-cache project(s); delete them first",
                row.name
            ),
        ));
    }
    registry::Entity::delete_by_id(row.id)
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// A registry endpoint to test: a stored one by `id` (other fields override it), or a new one.
#[derive(Deserialize, ToSchema)]
pub struct RegistryPing {
    id: Option<i64>,
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    insecure: Option<bool>,
    credential_type: Option<String>,
    access_key: Option<String>,
    access_secret: Option<String>,
}

/// Tests a registry endpoint before it is saved or used.
///
/// Calls the upstream's `/v2/` with the credentials (following its token flow) and answers 200
/// when it accepts them, else 400 with what went wrong.
#[utoipa::path(
    post,
    operation_id = "registries_ping",
    path = "/api/v2.0/registries/ping",
    tag = "registry",
    request_body = RegistryPing,
    responses(
        (status = 200, description = "The upstream answered and accepted the credentials"),
        (status = 400, description = "Unreachable, refused credentials, or not a registry; the message says which", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 404, description = "No endpoint with that id", body = super::docs::Errors),
    )
)]
pub async fn ping(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<RegistryPing>,
) -> Result<HttpResponse, ApiError> {
    require(&state, &signed_in(&state, &req).await?, Action::Read)?;
    let body = body.into_inner();
    let now = Utc::now();
    let mut row = match body.id {
        Some(id) => find(&state, id).await?,
        None => registry::Model {
            id: 0,
            name: String::new(),
            description: String::new(),
            kind: body
                .kind
                .clone()
                .unwrap_or_else(|| "docker-registry".into()),
            url: String::new(),
            insecure: false,
            access_key: None,
            access_secret: None,
            created_at: now,
            updated_at: now,
        },
    };
    if let Some(kind) = body.kind {
        check_kind(&kind)?;
        row.kind = kind;
    }
    Connection {
        url: body.url,
        insecure: body.insecure,
        credential_type: body.credential_type,
        access_key: body.access_key,
        access_secret: body.access_secret,
    }
    .apply(&mut row)?;
    if row.url.is_empty() && row.kind != "docker-hub" {
        return Err(ApiError::bad_request(
            "give the id of an endpoint or its url",
        ));
    }
    let upstream =
        Upstream::new(proxy::endpoint(&row)).map_err(|e| ApiError::bad_request(e.to_string()))?;
    upstream
        .ping()
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(HttpResponse::Ok().finish())
}

/// Lists the registry provider types endpoints may have.
///
/// Each speaks the distribution API; the type decides the default address and Docker Hub's
/// `library/` prefix for official images.
#[utoipa::path(
    get,
    operation_id = "replication_adapters",
    path = "/api/v2.0/replication/adapters",
    tag = "registry",
    responses(
        (status = 200, description = "Provider type names", body = Vec<String>),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
    )
)]
pub async fn adapters(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require(&state, &signed_in(&state, &req).await?, Action::List)?;
    Ok(HttpResponse::Ok().json(proxy::KINDS))
}
