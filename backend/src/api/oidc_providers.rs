//! OpenID Connect providers managed by administrators (`/oidc/providers`, a Berth addition;
//! Harbor allows one provider, set through `/configurations`). Providers of the configuration
//! file are listed too but read-only. Client secrets are write-only: the API accepts them and
//! answers only whether one is set. `/oidc/ping` tries settings before they are saved.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::signed_in;
use crate::app::AppState;
use crate::auth::oidc::{OidcError, OidcProvider};
use crate::config::{OidcConfig, OidcProviderConfig};
use crate::error::ApiError;
use crate::oidc::{ProviderSource, providers};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/oidc/providers", web::get().to(list))
        .route("/oidc/providers", web::post().to(create))
        .route("/oidc/providers/{name}", web::get().to(get))
        .route("/oidc/providers/{name}", web::put().to(update))
        .route("/oidc/providers/{name}", web::delete().to(delete))
        .route("/oidc/ping", web::post().to(ping));
}

async fn require_admin(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    let principal = signed_in(state, req).await?;
    if principal.is_sysadmin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "OIDC providers are managed by system administrators",
        ))
    }
}

/// A provider's settings as the API shows them (never the client secret).
#[derive(Serialize, ToSchema)]
pub struct ProviderView {
    name: String,
    display_name: Option<String>,
    issuer: String,
    client_id: String,
    /// Whether a client secret is stored (the secret itself is never returned).
    client_secret_set: bool,
    scopes: Vec<String>,
    username_claim: String,
    groups_claim: String,
    admin_group: Option<String>,
    group_filter: Option<String>,
    verify_certificate: bool,
    auto_onboard: bool,
    /// `config` (read-only, from the configuration file) or `api`.
    source: ProviderSource,
}

fn view(config: OidcProviderConfig, source: ProviderSource) -> ProviderView {
    ProviderView {
        client_secret_set: !config.client_secret.expose_secret().is_empty(),
        name: config.name,
        display_name: config.display_name,
        issuer: config.issuer,
        client_id: config.client_id,
        scopes: config.scopes,
        username_claim: config.username_claim,
        groups_claim: config.groups_claim,
        admin_group: config.admin_group,
        group_filter: config.group_filter,
        verify_certificate: config.verify_certificate,
        auto_onboard: config.auto_onboard,
        source,
    }
}

/// A provider's settings as written to the API. Omitted fields take the defaults of
/// `[[oidc.providers]]`; an omitted `client_secret` keeps the stored one on update.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct ProviderBody {
    /// 1-32 lower-case letters, digits or `-`; the path's name on update.
    #[serde(default)]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    issuer: String,
    client_id: String,
    /// Write-only.
    #[serde(default, skip_serializing)]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username_claim: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups_claim: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admin_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verify_certificate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auto_onboard: Option<bool>,
}

impl ProviderBody {
    /// The settings, with `name` and a secret (the body's, else `stored_secret`).
    fn into_config(
        self,
        name: &str,
        stored_secret: Option<String>,
    ) -> Result<OidcProviderConfig, ApiError> {
        let secret = self
            .client_secret
            .clone()
            .filter(|s| !s.is_empty())
            .or(stored_secret)
            .ok_or_else(|| ApiError::bad_request("client_secret is required"))?;
        let mut value = serde_json::to_value(&self).map_err(|e| ApiError::internal(&e))?;
        if let Some(object) = value.as_object_mut() {
            object.insert("name".into(), name.into());
            object.insert("client_secret".into(), secret.into());
        }
        let config: OidcProviderConfig = serde_json::from_value(value)
            .map_err(|e| ApiError::bad_request(format!("invalid provider settings: {e}")))?;
        OidcConfig {
            providers: vec![config.clone()],
        }
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(config)
    }
}

/// Lists every OIDC provider: the configuration file's (read-only) and the API's.
///
/// Client secrets are never returned; `client_secret_set` tells whether one is stored.
#[utoipa::path(
    get,
    operation_id = "oidc_providers_list",
    path = "/api/v2.0/oidc/providers",
    tag = "oidc",
    responses(
        (status = 200, description = "The providers, without client secrets", body = [ProviderView]),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
    )
)]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &req).await?;
    let all = state.oidc.all(&state.db).await?;
    let views: Vec<ProviderView> = all.into_iter().map(|(c, s)| view(c, s)).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Reads one OIDC provider's settings (without the client secret).
///
/// `source` tells whether it comes from the configuration file (read-only) or the API.
#[utoipa::path(
    get,
    operation_id = "oidc_providers_get",
    path = "/api/v2.0/oidc/providers/{name}",
    tag = "oidc",
    params(("name" = String, Path, description = "Provider name")),
    responses(
        (status = 200, description = "The provider", body = ProviderView),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 404, description = "No such provider", body = super::docs::Errors),
    )
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &req).await?;
    let (config, source) = state
        .oidc
        .find(&state.db, &path)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("OIDC provider {path} not found")))?;
    Ok(HttpResponse::Ok().json(view(config, source)))
}

/// Adds an OIDC provider.
///
/// It is offered on the sign-in page at once. Try the settings with `/oidc/ping` first.
#[utoipa::path(
    post,
    operation_id = "oidc_providers_create",
    path = "/api/v2.0/oidc/providers",
    tag = "oidc",
    request_body = ProviderBody,
    responses(
        (status = 201, description = "Added; `Location` names it"),
        (status = 400, description = "Invalid settings or no client secret", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
        (status = 409, description = "A provider of that name exists", body = super::docs::Errors),
    )
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: super::ObjectJson<ProviderBody>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &req).await?;
    let body = body.into_inner();
    let name = body
        .name
        .clone()
        .ok_or_else(|| ApiError::bad_request("name is required"))?;
    if state.oidc.find(&state.db, &name).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "an OIDC provider named {name} exists"
        )));
    }
    let config = body.into_config(&name, None)?;
    providers::store(&state.db, &config).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v2.0/oidc/providers/{name}")))
        .finish())
}

/// Replaces an OIDC provider's settings (those of the configuration file are read-only).
///
/// Omit `client_secret` to keep the stored one.
#[utoipa::path(
    put,
    operation_id = "oidc_providers_update",
    path = "/api/v2.0/oidc/providers/{name}",
    tag = "oidc",
    params(("name" = String, Path, description = "Provider name")),
    request_body = ProviderBody,
    responses(
        (status = 200, description = "Replaced"),
        (status = 400, description = "Invalid settings", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only; configuration-file providers are read-only", body = super::docs::Errors),
        (status = 404, description = "No such provider", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: super::ObjectJson<ProviderBody>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &req).await?;
    let stored = stored_api_provider(&state, &path).await?;
    let config = body
        .into_inner()
        .into_config(&path, Some(stored.client_secret.expose_secret().to_owned()))?;
    providers::store(&state.db, &config).await?;
    state.oidc.forget(&path);
    Ok(HttpResponse::Ok().finish())
}

async fn stored_api_provider(state: &AppState, name: &str) -> Result<OidcProviderConfig, ApiError> {
    match state.oidc.find(&state.db, name).await? {
        Some((_, ProviderSource::Config)) => Err(ApiError::forbidden(format!(
            "OIDC provider {name} comes from the configuration file and cannot be changed here"
        ))),
        Some((config, ProviderSource::Api)) => Ok(config),
        None => Err(ApiError::not_found(format!(
            "OIDC provider {name} not found"
        ))),
    }
}

/// Removes an OIDC provider added through the API.
///
/// Users who signed in through it keep their accounts, CLI secrets and tokens.
#[utoipa::path(
    delete,
    operation_id = "oidc_providers_delete",
    path = "/api/v2.0/oidc/providers/{name}",
    tag = "oidc",
    params(("name" = String, Path, description = "Provider name")),
    responses(
        (status = 200, description = "Removed"),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only; configuration-file providers are read-only", body = super::docs::Errors),
        (status = 404, description = "No such provider", body = super::docs::Errors),
    )
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &req).await?;
    stored_api_provider(&state, &path).await?;
    providers::remove(&state.db, &path).await?;
    state.oidc.forget(&path);
    Ok(HttpResponse::Ok().finish())
}

/// One check of a ping.
#[derive(Serialize, ToSchema)]
pub struct PingCheck {
    /// `settings`, `discovery` or `client_credentials`.
    check: &'static str,
    ok: bool,
    message: String,
}

/// The verdict on a provider configuration.
#[derive(Serialize, ToSchema)]
pub struct PingVerdict {
    /// Whether every check passed.
    ok: bool,
    checks: Vec<PingCheck>,
}

/// Tries provider settings without saving them.
///
/// Checks that the settings are valid, that discovery answers and names the configured issuer,
/// and that the provider's token endpoint accepts the client id and secret (by exchanging a
/// made-up code: a provider answers `invalid_grant` to an authenticated client and
/// `invalid_client` otherwise). Without `client_secret`, the stored secret of the provider of
/// that name is used. Answers 200 with the verdict whatever it is.
#[utoipa::path(
    post,
    operation_id = "oidc_ping",
    path = "/api/v2.0/oidc/ping",
    tag = "oidc",
    request_body = ProviderBody,
    responses(
        (status = 200, description = "The verdict, check by check", body = PingVerdict),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
    )
)]
pub async fn ping(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: super::ObjectJson<ProviderBody>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &req).await?;
    let body = body.into_inner();
    let name = body.name.clone().unwrap_or_else(|| "ping".to_owned());
    let stored = state
        .oidc
        .find(&state.db, &name)
        .await?
        .map(|(c, _)| c.client_secret.expose_secret().to_owned());
    let mut checks = Vec::new();
    let config = match body.into_config(&name, stored) {
        Ok(config) => config,
        Err(e) => {
            checks.push(PingCheck {
                check: "settings",
                ok: false,
                message: e.message,
            });
            return Ok(verdict(checks));
        }
    };
    checks.push(PingCheck {
        check: "settings",
        ok: true,
        message: "the settings are valid".into(),
    });
    let redirect_url = state.oidc.redirect_url(Some(&super::oidc::origin(&req)));
    let provider = match OidcProvider::discover(config, &redirect_url).await {
        Ok(provider) => provider,
        Err(e) => {
            checks.push(failed("discovery", &e));
            return Ok(verdict(checks));
        }
    };
    checks.push(PingCheck {
        check: "discovery",
        ok: true,
        message: "the discovery document answers and names the configured issuer".into(),
    });
    checks.push(match provider.check_client().await {
        Ok(()) => PingCheck {
            check: "client_credentials",
            ok: true,
            message: "the token endpoint accepts the client id and secret".into(),
        },
        Err(e) => failed("client_credentials", &e),
    });
    Ok(verdict(checks))
}

fn failed(check: &'static str, err: &OidcError) -> PingCheck {
    PingCheck {
        check,
        ok: false,
        message: err.to_string(),
    }
}

fn verdict(checks: Vec<PingCheck>) -> HttpResponse {
    HttpResponse::Ok().json(PingVerdict {
        ok: checks.iter().all(|c| c.ok),
        checks,
    })
}
