//! Administration calls: garbage collection, the job service, audit logs and global search.

use std::collections::BTreeMap;

use berth_api_types::{
    AuditLog, ConfigItem, GcRun, GcSchedule, Job, JobAction, Queue, SearchResult,
};
use gloo_net::http::Request;

use super::{ApiError, BASE, Page, encode, json, page, send, send_json};

/// `GET /system/gc?page=&page_size=`: runs, newest first.
pub async fn gc_runs(page_no: u64, page_size: u64) -> Result<Page<GcRun>, ApiError> {
    let url = format!("{BASE}/system/gc?page={page_no}&page_size={page_size}");
    page(send(Request::get(&url)).await?).await
}

/// `GET /system/gc/{id}/log` (plain text).
pub async fn gc_log(id: i64) -> Result<String, ApiError> {
    let response = send(Request::get(&format!("{BASE}/system/gc/{id}/log"))).await?;
    response
        .text()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// `GET /system/gc/schedule`.
pub async fn gc_schedule() -> Result<GcSchedule, ApiError> {
    json(send(Request::get(&format!("{BASE}/system/gc/schedule"))).await?).await
}

/// `POST /system/gc/schedule`: a `Manual` schedule runs now, any other stores the schedule.
pub async fn set_gc_schedule(body: &GcSchedule) -> Result<(), ApiError> {
    send_json(Request::post(&format!("{BASE}/system/gc/schedule")), body)
        .await
        .map(drop)
}

/// `GET /jobservice/queues`.
pub async fn queues() -> Result<Vec<Queue>, ApiError> {
    json(send(Request::get(&format!("{BASE}/jobservice/queues"))).await?).await
}

/// `PUT /jobservice/queues/{type}` with `pause`, `resume` or `stop`.
pub async fn act_on_queue(job_type: &str, action: &str) -> Result<(), ApiError> {
    let url = format!("{BASE}/jobservice/queues/{}", encode(job_type));
    let body = JobAction {
        action: action.into(),
    };
    send_json(Request::put(&url), &body).await.map(drop)
}

/// `GET /jobservice/jobs?job_type=&page=&page_size=`: executions, newest first.
pub async fn jobs(job_type: &str, page_no: u64, page_size: u64) -> Result<Page<Job>, ApiError> {
    let url = format!(
        "{BASE}/jobservice/jobs?job_type={}&page={page_no}&page_size={page_size}",
        encode(job_type)
    );
    page(send(Request::get(&url)).await?).await
}

/// `PUT /jobservice/jobs/{id}` with `stop`.
pub async fn stop_job(id: i64) -> Result<(), ApiError> {
    let body = JobAction {
        action: "stop".into(),
    };
    send_json(Request::put(&format!("{BASE}/jobservice/jobs/{id}")), &body)
        .await
        .map(drop)
}

/// `GET /jobservice/jobs/{id}/log` (plain text).
pub async fn job_log(id: i64) -> Result<String, ApiError> {
    let response = send(Request::get(&format!("{BASE}/jobservice/jobs/{id}/log"))).await?;
    response
        .text()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// Audit logs of a project (`Some(name)`) or of the whole system, filtered by `q`.
pub async fn audit_logs(
    project: Option<&str>,
    q: &str,
    page_no: u64,
    page_size: u64,
) -> Result<Page<AuditLog>, ApiError> {
    let path = match project {
        Some(name) => format!("{BASE}/projects/{}/logs", encode(name)),
        None => format!("{BASE}/audit-logs"),
    };
    let url = format!(
        "{path}?q={}&page={page_no}&page_size={page_size}",
        encode(q)
    );
    let request = Request::get(&url).header("X-Is-Resource-Name", "true");
    page(send(request).await?).await
}

/// `GET /search?q=`: projects and repositories whose names contain `q`.
pub async fn search(q: &str) -> Result<SearchResult, ApiError> {
    json(send(Request::get(&format!("{BASE}/search?q={}", encode(q)))).await?).await
}

/// `GET /configurations`: every setting with its value and whether it can change.
pub async fn configurations() -> Result<BTreeMap<String, ConfigItem>, ApiError> {
    json(send(Request::get(&format!("{BASE}/configurations"))).await?).await
}

/// `PUT /configurations` with one setting.
pub async fn set_configuration(key: &str, value: serde_json::Value) -> Result<(), ApiError> {
    let mut body = serde_json::Map::new();
    body.insert(key.to_owned(), value);
    send_json(Request::put(&format!("{BASE}/configurations")), &body)
        .await
        .map(drop)
}
