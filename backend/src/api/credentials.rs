//! A user's credentials for docker, helm and scripts (`/users/{user_id}/cli_secret` in Harbor's
//! shape, `/users/{user_id}/tokens` as a Berth addition): the CLI secret and personal access
//! tokens. A user manages their own; administrators manage anyone's. A caller signed in with a
//! personal access token cannot manage credentials, so a token can never mint a wider one.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::signed_in;
use crate::app::AppState;
use crate::auth::personal::{self, CredentialError, NewToken, TokenPermission};
use crate::auth::{Action, Principal};
use crate::db::entities::{access_token, project, user};
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users/{user_id}/cli_secret", web::get().to(get_cli_secret))
        .route("/users/{user_id}/cli_secret", web::put().to(set_cli_secret))
        .route(
            "/users/{user_id}/cli_secret",
            web::delete().to(revoke_cli_secret),
        )
        .route("/users/{user_id}/tokens", web::get().to(list_tokens))
        .route("/users/{user_id}/tokens", web::post().to(create_token))
        .route(
            "/users/{user_id}/tokens/{token_id}",
            web::delete().to(revoke_token),
        );
}

impl From<CredentialError> for ApiError {
    fn from(err: CredentialError) -> Self {
        match err {
            CredentialError::Invalid(message) => ApiError::bad_request(message),
            CredentialError::NameTaken(_) => ApiError::conflict(err.to_string()),
            CredentialError::Database(e) => e.into(),
        }
    }
}

/// The caller, who must be the user `user_id` or an administrator, and not a token.
async fn owner_or_admin(
    state: &AppState,
    req: &HttpRequest,
    user_id: i64,
    action: Action,
) -> Result<Principal, ApiError> {
    use sea_orm::EntityTrait;
    let principal = signed_in(state, req).await?;
    if principal.token_scope().is_some() {
        return Err(ApiError::forbidden(
            "credentials cannot be managed with a personal access token; sign in or use the \
             CLI secret",
        ));
    }
    let allowed = principal.user_id() == Some(user_id)
        || state.rbac.system_allows(&principal, "user", action);
    if !allowed {
        return Err(ApiError::forbidden(
            "only the user themselves or an administrator manages these credentials",
        ));
    }
    user::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user {user_id} not found")))?;
    Ok(principal)
}

/// Whether a user has a CLI secret (the secret itself is shown only when set).
#[derive(Serialize, ToSchema)]
pub struct CliSecretStatus {
    has_secret: bool,
    /// When the secret was set.
    created_at: Option<DateTime<Utc>>,
}

/// Tells whether the user has a CLI secret and since when.
///
/// The secret is stored as a hash, so it cannot be shown again; regenerate it to see a new one.
#[utoipa::path(
    get,
    operation_id = "users_get_cli_secret",
    path = "/api/v2.0/users/{user_id}/cli_secret",
    tag = "user",
    params(("user_id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "Whether a secret is set", body = CliSecretStatus),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not the user or an administrator, or called with a token", body = super::docs::Errors),
        (status = 404, description = "No such user", body = super::docs::Errors),
    )
)]
pub async fn get_cli_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    owner_or_admin(&state, &req, *path, Action::Read).await?;
    let created_at = personal::cli_secret_created(&state.db, *path).await?;
    Ok(HttpResponse::Ok().json(CliSecretStatus {
        has_secret: created_at.is_some(),
        created_at,
    }))
}

/// A new CLI secret: Harbor's body with a chosen `secret`, or none to generate one.
#[derive(Deserialize, ToSchema, Default)]
pub struct CliSecretBody {
    /// The secret to set (8-128 characters with upper case, lower case and a digit); omit to
    /// have Berth generate a strong one.
    secret: Option<String>,
}

/// The secret just set, shown this once.
#[derive(Serialize, ToSchema)]
pub struct CliSecretValue {
    secret: String,
}

/// Sets or regenerates the user's CLI secret.
///
/// The secret is the password for `docker login`, `helm registry login`, the token service
/// and the REST API's Basic authentication, whatever the state of the user's identity provider
/// session. It replaces the previous secret at once on every replica.
#[utoipa::path(
    put,
    operation_id = "users_set_cli_secret",
    path = "/api/v2.0/users/{user_id}/cli_secret",
    tag = "user",
    params(("user_id" = i64, Path, description = "User id")),
    request_body = CliSecretBody,
    responses(
        (status = 200, description = "The new secret (shown once)", body = CliSecretValue),
        (status = 400, description = "The chosen secret fails the password policy", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not the user or an administrator, or called with a token", body = super::docs::Errors),
        (status = 404, description = "No such user", body = super::docs::Errors),
    )
)]
pub async fn set_cli_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    owner_or_admin(&state, &req, *path, Action::Update).await?;
    let body = cli_secret_body(&body)?;
    let chosen = body.secret.as_deref().filter(|s| !s.is_empty());
    let secret = personal::set_cli_secret(&state.db, *path, chosen).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(CliSecretValue { secret }))
}

/// Harbor's clients send a body; Berth's console may send none (generate a secret).
fn cli_secret_body(bytes: &[u8]) -> Result<CliSecretBody, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(CliSecretBody::default());
    }
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// Revokes the user's CLI secret.
///
/// It stops working at once on every replica.
#[utoipa::path(
    delete,
    operation_id = "users_revoke_cli_secret",
    path = "/api/v2.0/users/{user_id}/cli_secret",
    tag = "user",
    params(("user_id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "Revoked"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not the user or an administrator, or called with a token", body = super::docs::Errors),
        (status = 404, description = "No such user, or the user has no CLI secret", body = super::docs::Errors),
    )
)]
pub async fn revoke_cli_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    owner_or_admin(&state, &req, *path, Action::Update).await?;
    if !personal::revoke_cli_secret(&state.db, *path).await? {
        return Err(ApiError::not_found("the user has no CLI secret"));
    }
    Ok(HttpResponse::Ok().finish())
}

/// A personal access token as listed (never with its value).
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    id: i64,
    name: String,
    scopes: Vec<TokenPermission>,
    /// The project names it is limited to; `null` for every project the user can reach.
    projects: Option<Vec<String>>,
    expires_at: Option<DateTime<Utc>>,
    expired: bool,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

impl From<access_token::Model> for TokenView {
    fn from(row: access_token::Model) -> Self {
        let scope = personal::scope_of(&row);
        Self {
            id: row.id,
            name: row.name,
            scopes: scope.permissions,
            projects: scope.projects,
            expired: row.expires_at.is_some_and(|at| at <= Utc::now()),
            expires_at: row.expires_at,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        }
    }
}

/// Lists the user's personal access tokens, newest first.
///
/// Token values are never listed: they are shown once, when created.
#[utoipa::path(
    get,
    operation_id = "users_list_tokens",
    path = "/api/v2.0/users/{user_id}/tokens",
    tag = "user",
    params(("user_id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The tokens (without their values)", body = [TokenView]),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not the user or an administrator, or called with a token", body = super::docs::Errors),
        (status = 404, description = "No such user", body = super::docs::Errors),
    )
)]
pub async fn list_tokens(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    owner_or_admin(&state, &req, *path, Action::Read).await?;
    let tokens = personal::list_tokens(&state.db, *path).await?;
    let views: Vec<TokenView> = tokens.into_iter().map(TokenView::from).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// A new personal access token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// Unique among the user's tokens.
    name: String,
    /// At least one of `registry:pull`, `registry:push`, `api:read`, `api:write`.
    scopes: Vec<TokenPermission>,
    /// Limit the token to these projects (which must exist); omit for every project.
    projects: Option<Vec<String>>,
    /// When the token stops working; omit for never.
    expires_at: Option<DateTime<Utc>>,
}

/// A token just created, with its value shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    view: TokenView,
    /// The token: use it as the password with the user's name.
    token: String,
}

/// Creates a personal access token.
///
/// The token is used as a password together with the user's name, on the token service
/// (`docker login`) and the REST API. Its scopes and projects only narrow what the user may
/// do; they never add to it. A token limited to projects does not carry administrator rights.
#[utoipa::path(
    post,
    operation_id = "users_create_token",
    path = "/api/v2.0/users/{user_id}/tokens",
    tag = "user",
    params(("user_id" = i64, Path, description = "User id")),
    request_body = NewTokenBody,
    responses(
        (status = 201, description = "Created; the token is in the body, shown once", body = CreatedToken),
        (status = 400, description = "No scope, an empty name, an unknown project or a past expiry", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not the user or an administrator, or called with a token", body = super::docs::Errors),
        (status = 404, description = "No such user", body = super::docs::Errors),
        (status = 409, description = "The user has a token of that name", body = super::docs::Errors),
    )
)]
pub async fn create_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: super::ObjectJson<NewTokenBody>,
) -> Result<HttpResponse, ApiError> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    owner_or_admin(&state, &req, *path, Action::Update).await?;
    let body = body.into_inner();
    if let Some(names) = &body.projects {
        if names.is_empty() {
            return Err(ApiError::bad_request(
                "projects must name at least one project, or be omitted",
            ));
        }
        let found = project::Entity::find()
            .filter(project::Column::Name.is_in(names.clone()))
            .count(&state.db)
            .await?;
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        if found != unique.len() as u64 {
            return Err(ApiError::bad_request(
                "projects names a project that does not exist",
            ));
        }
    }
    let new = NewToken {
        name: body.name,
        permissions: body.scopes,
        projects: body.projects,
        expires_at: body.expires_at,
    };
    let (row, token) = personal::create_token(&state.db, *path, new).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedToken {
            view: row.into(),
            token,
        }))
}

/// Revokes one of the user's personal access tokens.
///
/// It stops working at once on every replica.
#[utoipa::path(
    delete,
    operation_id = "users_revoke_token",
    path = "/api/v2.0/users/{user_id}/tokens/{token_id}",
    tag = "user",
    params(
        ("user_id" = i64, Path, description = "User id"),
        ("token_id" = i64, Path, description = "Token id"),
    ),
    responses(
        (status = 200, description = "Revoked"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Not the user or an administrator, or called with a token", body = super::docs::Errors),
        (status = 404, description = "No such user or token", body = super::docs::Errors),
    )
)]
pub async fn revoke_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, token_id) = *path;
    owner_or_admin(&state, &req, user_id, Action::Update).await?;
    if !personal::revoke_token(&state.db, user_id, token_id).await? {
        return Err(ApiError::not_found(format!("token {token_id} not found")));
    }
    Ok(HttpResponse::Ok().finish())
}
