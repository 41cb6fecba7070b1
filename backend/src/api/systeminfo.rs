//! `GET /systeminfo`: what the console needs to know about this server before and after sign-in.

use actix_web::{HttpRequest, HttpResponse, web};
use berth_api_types::GeneralInfo;

use super::caller;
use crate::app::AppState;
use crate::auth::Principal;
use crate::config::ProjectCreation;
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/systeminfo", web::get().to(get));
}

/// Anonymous callers learn only how to sign in; signed-in callers also get the server's
/// addresses and policies.
async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let principal = caller(&state, &req).await?;
    let config = &state.config;
    let mut info = GeneralInfo {
        harbor_version: format!("berth-{}", env!("CARGO_PKG_VERSION")),
        auth_mode: "db_auth".into(),
        primary_auth_mode: false,
        self_registration: config.auth.self_registration,
        banner_message: String::new(),
        current_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ..GeneralInfo::default()
    };
    if principal != Principal::Anonymous {
        let restriction = match config.auth.project_creation {
            ProjectCreation::Everyone => "everyone",
            ProjectCreation::Adminonly => "adminonly",
        };
        info.project_creation_restriction = Some(restriction.into());
        info.external_url = config.server.external_url.clone();
        info.registry_url = config.server.external_url.as_deref().map(|url| {
            url.split_once("://")
                .map_or(url, |(_, host)| host)
                .to_owned()
        });
        info.registry_storage_provider_name = Some("filesystem".into());
        info.read_only = Some(false);
        info.has_ca_root = Some(false);
    }
    Ok(HttpResponse::Ok().json(info))
}
