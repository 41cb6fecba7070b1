//! System configuration: `GET/PUT /configurations` (administrators only).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::signed_in;
use crate::app::AppState;
use crate::auth::Action;
use crate::error::ApiError;
use crate::settings::{self, SETTINGS, SettingsError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/configurations", web::get().to(get))
        .route("/configurations", web::put().to(update));
}

impl From<SettingsError> for ApiError {
    fn from(err: SettingsError) -> Self {
        let message = err.to_string();
        match err {
            SettingsError::Unknown(_)
            | SettingsError::ReadOnly(_)
            | SettingsError::Invalid { .. } => ApiError::bad_request(message),
            SettingsError::Database(e) => e.into(),
        }
    }
}

/// One setting: its value and whether it can be changed here. A write-only (secret) setting
/// has no `value`, only `is_set`.
#[derive(Serialize, ToSchema)]
pub struct ConfigItem {
    /// A string, number or boolean, by setting; absent for a secret setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    editable: bool,
    /// Secret settings only: whether a value is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    is_set: Option<bool>,
}

async fn require_admin(
    state: &AppState,
    req: &HttpRequest,
    action: Action,
) -> Result<(), ApiError> {
    let principal = signed_in(state, req).await?;
    if principal.is_sysadmin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{} of the configuration needs system administrator rights",
            action.name()
        )))
    }
}

/// Reads every setting with its `editable` flag; write-only secrets show only `is_set`.
///
/// Each item carries `value` and `editable`; values change with `PUT` and apply on every replica at
/// the next request. A secret setting never shows its value, only whether one is stored.
#[utoipa::path(
    get,
    operation_id = "configurations_get",
    path = "/api/v2.0/configurations",
    tag = "configure",
    responses(
        (status = 200, description = "Every setting by key", body = BTreeMap<String, ConfigItem>),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
    )
)]
pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &req, Action::Read).await?;
    let shown = settings::shown(&state.db, &state.config, SETTINGS).await?;
    let items: BTreeMap<&str, ConfigItem> = shown
        .into_iter()
        .map(|(key, s)| {
            let item = ConfigItem {
                value: s.value,
                editable: s.editable,
                is_set: s.is_set,
            };
            (key, item)
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// Changes settings given as `{"key": value, ...}`; all are checked before any is stored.
///
/// Only editable keys are accepted. A secret setting takes a string; an empty string or `null`
/// clears it. Either every change is stored or none is.
#[utoipa::path(
    put,
    operation_id = "configurations_update",
    path = "/api/v2.0/configurations",
    tag = "configure",
    request_body(content = Object, description = "Settings to change, by key"),
    responses(
        (status = 200, description = "Changed"),
        (status = 400, description = "Unknown or read-only key, or a value of the wrong type", body = super::docs::Errors),
        (status = 401, description = "Authentication required", body = super::docs::Errors),
        (status = 403, description = "Administrators only", body = super::docs::Errors),
    )
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state, &req, Action::Update).await?;
    settings::update(&state.db, SETTINGS, &body).await?;
    Ok(HttpResponse::Ok().finish())
}
