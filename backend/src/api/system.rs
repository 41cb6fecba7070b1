//! Liveness and health.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ping", web::get().to(ping))
        .route("/health", web::get().to(health));
}

/// Answers `Pong`.
///
/// A liveness probe that touches nothing behind the process.
#[utoipa::path(
    get,
    operation_id = "system_ping",
    path = "/api/v2.0/ping",
    tag = "ping",
    responses((status = 200, description = "`Pong` as text/plain", body = String, content_type = "text/plain"))
)]
pub async fn ping() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("Pong")
}

/// The health of one component.
#[derive(Serialize, ToSchema)]
pub struct Component {
    name: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Overall health and each component's.
#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    components: Vec<Component>,
}

/// Checks the database and the blob store.
///
/// A readiness probe: 503 when either component fails, with the failure named.
#[utoipa::path(
    get,
    operation_id = "system_health",
    path = "/api/v2.0/health",
    tag = "health",
    responses(
        (status = 200, description = "Every component is healthy", body = Health),
        (status = 503, description = "A component is unhealthy", body = Health),
    )
)]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let database = state.db.ping().await.map_err(|e| e.to_string());
    let storage = state
        .registry
        .store()
        .list_uploads()
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    let component = |name, result: Result<(), String>| Component {
        name,
        status: if result.is_ok() {
            "healthy"
        } else {
            "unhealthy"
        },
        error: result.err(),
    };
    let components = vec![
        component("database", database),
        component("storage", storage),
    ];
    let healthy = components.iter().all(|c| c.error.is_none());
    let body = Health {
        status: if healthy { "healthy" } else { "unhealthy" },
        components,
    };
    if healthy {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
