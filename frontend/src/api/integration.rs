//! Registry endpoints and webhook policies.

use berth_api_types::{
    NewRegistry, Registry, RegistryPing, WebhookEvents, WebhookExecution, WebhookPolicy,
    WebhookPolicyReq,
};
use gloo_net::http::Request;

use super::{ApiError, BASE, Page, encode, json, page, send, send_json};

/// `GET /registries?page=&page_size=` (system administrators).
pub async fn list_registries(page_no: u64, page_size: u64) -> Result<Page<Registry>, ApiError> {
    let url = format!("{BASE}/registries?page={page_no}&page_size={page_size}");
    page(send(Request::get(&url)).await?).await
}

/// `GET /replication/adapters`: the provider types an endpoint may have.
pub async fn registry_types() -> Result<Vec<String>, ApiError> {
    json(send(Request::get(&format!("{BASE}/replication/adapters"))).await?).await
}

/// `POST /registries`.
pub async fn create_registry(body: &NewRegistry) -> Result<(), ApiError> {
    send_json(Request::post(&format!("{BASE}/registries")), body)
        .await
        .map(drop)
}

/// `POST /registries/ping`: succeeds when the upstream answered and took the credentials.
pub async fn ping_registry(body: &RegistryPing) -> Result<(), ApiError> {
    send_json(Request::post(&format!("{BASE}/registries/ping")), body)
        .await
        .map(drop)
}

/// `DELETE /registries/{id}`.
pub async fn delete_registry(id: i64) -> Result<(), ApiError> {
    send(Request::delete(&format!("{BASE}/registries/{id}")))
        .await
        .map(drop)
}

fn policies_url(project: &str) -> String {
    format!("{BASE}/projects/{}/webhook/policies", encode(project))
}

/// `GET /projects/{p}/webhook/policies`.
pub async fn list_webhooks(project: &str) -> Result<Page<WebhookPolicy>, ApiError> {
    let request = Request::get(&format!("{}?page_size=100", policies_url(project)))
        .header("X-Is-Resource-Name", "true");
    page(send(request).await?).await
}

/// `GET /projects/{p}/webhook/events`.
pub async fn webhook_events(project: &str) -> Result<WebhookEvents, ApiError> {
    let request = Request::get(&format!(
        "{BASE}/projects/{}/webhook/events",
        encode(project)
    ))
    .header("X-Is-Resource-Name", "true");
    json(send(request).await?).await
}

/// `POST /projects/{p}/webhook/policies`.
pub async fn create_webhook(project: &str, body: &WebhookPolicyReq) -> Result<(), ApiError> {
    let request = Request::post(&policies_url(project)).header("X-Is-Resource-Name", "true");
    send_json(request, body).await.map(drop)
}

/// `PUT /projects/{p}/webhook/policies/{id}`.
pub async fn update_webhook(
    project: &str,
    id: i64,
    body: &WebhookPolicyReq,
) -> Result<(), ApiError> {
    let request = Request::put(&format!("{}/{id}", policies_url(project)))
        .header("X-Is-Resource-Name", "true");
    send_json(request, body).await.map(drop)
}

/// `DELETE /projects/{p}/webhook/policies/{id}`.
pub async fn delete_webhook(project: &str, id: i64) -> Result<(), ApiError> {
    let request = Request::delete(&format!("{}/{id}", policies_url(project)))
        .header("X-Is-Resource-Name", "true");
    send(request).await.map(drop)
}

/// `GET /projects/{p}/webhook/policies/{id}/executions`, newest first.
pub async fn webhook_executions(
    project: &str,
    id: i64,
) -> Result<Page<WebhookExecution>, ApiError> {
    let request = Request::get(&format!(
        "{}/{id}/executions?page_size=20",
        policies_url(project)
    ))
    .header("X-Is-Resource-Name", "true");
    page(send(request).await?).await
}

/// `GET .../executions/{eid}/log` as text.
pub async fn webhook_execution_log(project: &str, id: i64, eid: i64) -> Result<String, ApiError> {
    let request = Request::get(&format!(
        "{}/{id}/executions/{eid}/log",
        policies_url(project)
    ))
    .header("X-Is-Resource-Name", "true");
    send(request)
        .await?
        .text()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}
