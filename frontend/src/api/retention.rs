//! A project's tag retention policy and its runs (`/retentions`).

use berth_api_types::{
    RetentionExecution, RetentionMetadata, RetentionPolicy, RetentionRun, RetentionTask,
};
use gloo_net::http::Request;

use super::{ApiError, BASE, json, send, send_json};

/// `GET /retentions/metadatas`: the rule templates.
pub async fn metadata() -> Result<RetentionMetadata, ApiError> {
    json(send(Request::get(&format!("{BASE}/retentions/metadatas"))).await?).await
}

/// `GET /retentions/{id}`.
pub async fn policy(id: i64) -> Result<RetentionPolicy, ApiError> {
    json(send(Request::get(&format!("{BASE}/retentions/{id}"))).await?).await
}

/// `POST /retentions`; the new policy's id, from `Location`.
pub async fn create(policy: &RetentionPolicy) -> Result<i64, ApiError> {
    let response = send_json(Request::post(&format!("{BASE}/retentions")), policy).await?;
    response
        .headers()
        .get("Location")
        .and_then(|l| l.rsplit('/').next().and_then(|id| id.parse().ok()))
        .ok_or_else(|| ApiError::Decode("the new policy's Location is missing".into()))
}

/// `PUT /retentions/{id}`.
pub async fn update(policy: &RetentionPolicy) -> Result<(), ApiError> {
    let url = format!("{BASE}/retentions/{}", policy.id);
    send_json(Request::put(&url), policy).await.map(drop)
}

/// `POST /retentions/{id}/executions`: runs the policy now.
pub async fn run(id: i64, dry_run: bool) -> Result<(), ApiError> {
    let url = format!("{BASE}/retentions/{id}/executions");
    send_json(Request::post(&url), &RetentionRun { dry_run })
        .await
        .map(drop)
}

/// `GET /retentions/{id}/executions`, newest first.
pub async fn executions(id: i64) -> Result<Vec<RetentionExecution>, ApiError> {
    let url = format!("{BASE}/retentions/{id}/executions?page_size=20");
    json(send(Request::get(&url)).await?).await
}

/// `GET /retentions/{id}/executions/{eid}/tasks`: one per repository.
pub async fn tasks(id: i64, execution: i64) -> Result<Vec<RetentionTask>, ApiError> {
    let url = format!("{BASE}/retentions/{id}/executions/{execution}/tasks?page_size=100");
    json(send(Request::get(&url)).await?).await
}

/// `GET /retentions/{id}/executions/{eid}/tasks/{tid}` (plain text).
pub async fn task_log(id: i64, execution: i64, task: i64) -> Result<String, ApiError> {
    let url = format!("{BASE}/retentions/{id}/executions/{execution}/tasks/{task}");
    send(Request::get(&url))
        .await?
        .text()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}
