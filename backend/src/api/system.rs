//! Liveness and health.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::app::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ping", web::get().to(ping))
        .route("/health", web::get().to(health));
}

async fn ping() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("Pong")
}

#[derive(Serialize)]
struct Component {
    name: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    components: Vec<Component>,
}

/// Checks the database and the blob store; 503 when either fails.
async fn health(state: web::Data<AppState>) -> HttpResponse {
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
