//! Every HTTP call the console makes. Pages call these functions and never build requests
//! themselves; how a request is authenticated is decided in [`session`] alone.

pub mod account;
pub mod admin;
pub mod groups;
pub mod integration;
pub mod project_config;
pub mod repositories;
pub mod retention;
pub mod robots;
pub mod session;

use berth_api_types::{
    ErrorBody, GeneralInfo, Health, Project, ProjectMember, ProjectMemberReq, ProjectReq,
    ProjectSummary, RoleReq, User, UserCreationReq,
};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;

const BASE: &str = "/api/v2.0";

/// What went wrong talking to the server, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("cannot reach the Berth server: {0}")]
    Network(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the server failed ({status}): {message}")]
    Server { status: u16, message: String },
    #[error("the server sent a response the console does not understand: {0}")]
    Decode(String),
}

impl ApiError {
    /// Reads Harbor's error envelope from a failed response.
    async fn from_response(response: Response) -> Self {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|body| body.summary())
            .ok()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| format!("HTTP {status} {}", response.status_text()));
        match status {
            400 | 412 | 422 => Self::Invalid(message),
            401 => Self::Unauthorized(message),
            403 => Self::Forbidden(message),
            404 => Self::NotFound(message),
            409 => Self::Conflict(message),
            _ => Self::Server { status, message },
        }
    }
}

/// One page of a list and the total the server reported in `X-Total-Count`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

async fn send(request: RequestBuilder) -> Result<Response, ApiError> {
    let response = session::authorize(request)
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if response.ok() {
        Ok(response)
    } else {
        Err(ApiError::from_response(response).await)
    }
}

async fn send_json(
    request: RequestBuilder,
    body: &impl serde::Serialize,
) -> Result<Response, ApiError> {
    let request = session::authorize(request)
        .json(body)
        .map_err(|e| ApiError::Decode(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if response.ok() {
        Ok(response)
    } else {
        Err(ApiError::from_response(response).await)
    }
}

async fn json<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    response
        .json()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

async fn page<T: DeserializeOwned>(response: Response) -> Result<Page<T>, ApiError> {
    let total = response
        .headers()
        .get("X-Total-Count")
        .and_then(|v| v.parse().ok());
    let items: Vec<T> = json(response).await?;
    Ok(Page {
        total: total.unwrap_or(items.len() as u64),
        items,
    })
}

fn encode(segment: &str) -> String {
    js_sys::encode_uri_component(segment).into()
}

/// `GET /users/current`.
pub async fn current_user() -> Result<User, ApiError> {
    json(send(Request::get(&format!("{BASE}/users/current"))).await?).await
}

/// `GET /systeminfo`.
pub async fn system_info() -> Result<GeneralInfo, ApiError> {
    json(send(Request::get(&format!("{BASE}/systeminfo"))).await?).await
}

/// `GET /health`; an unhealthy server answers 503 with the same body, which is still shown.
pub async fn health() -> Result<Health, ApiError> {
    let response = session::authorize(Request::get(&format!("{BASE}/health")))
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    json(response).await
}

/// `GET /projects?name=&page=&page_size=`.
pub async fn list_projects(
    name: &str,
    page_no: u64,
    page_size: u64,
) -> Result<Page<Project>, ApiError> {
    let url = format!(
        "{BASE}/projects?name={}&page={page_no}&page_size={page_size}",
        encode(name)
    );
    page(send(Request::get(&url)).await?).await
}

/// `POST /projects`.
pub async fn create_project(req: &ProjectReq) -> Result<(), ApiError> {
    send_json(Request::post(&format!("{BASE}/projects")), req)
        .await
        .map(drop)
}

/// `GET /projects/{name}` (by name, never by id).
pub async fn get_project(name: &str) -> Result<Project, ApiError> {
    let request = Request::get(&format!("{BASE}/projects/{}", encode(name)))
        .header("X-Is-Resource-Name", "true");
    json(send(request).await?).await
}

/// `GET /projects/{name}/summary`.
pub async fn project_summary(name: &str) -> Result<ProjectSummary, ApiError> {
    let request = Request::get(&format!("{BASE}/projects/{}/summary", encode(name)))
        .header("X-Is-Resource-Name", "true");
    json(send(request).await?).await
}

/// `GET /projects/{name}/members`.
pub async fn list_members(project: &str) -> Result<Vec<ProjectMember>, ApiError> {
    let request = Request::get(&format!("{BASE}/projects/{}/members", encode(project)))
        .header("X-Is-Resource-Name", "true");
    json(send(request).await?).await
}

/// `POST /projects/{name}/members`.
pub async fn add_member(project: &str, req: &ProjectMemberReq) -> Result<(), ApiError> {
    let request = Request::post(&format!("{BASE}/projects/{}/members", encode(project)))
        .header("X-Is-Resource-Name", "true");
    send_json(request, req).await.map(drop)
}

/// `PUT /projects/{name}/members/{id}`.
pub async fn change_member_role(project: &str, id: i64, role_id: i32) -> Result<(), ApiError> {
    let request = Request::put(&format!("{BASE}/projects/{}/members/{id}", encode(project)))
        .header("X-Is-Resource-Name", "true");
    send_json(request, &RoleReq { role_id }).await.map(drop)
}

/// `DELETE /projects/{name}/members/{id}`.
pub async fn remove_member(project: &str, id: i64) -> Result<(), ApiError> {
    let request = Request::delete(&format!("{BASE}/projects/{}/members/{id}", encode(project)))
        .header("X-Is-Resource-Name", "true");
    send(request).await.map(drop)
}

/// `GET /users?page=&page_size=` (system administrators only).
pub async fn list_users(page_no: u64, page_size: u64) -> Result<Page<User>, ApiError> {
    page(
        send(Request::get(&format!(
            "{BASE}/users?page={page_no}&page_size={page_size}"
        )))
        .await?,
    )
    .await
}

/// `POST /users`.
pub async fn create_user(req: &UserCreationReq) -> Result<(), ApiError> {
    send_json(Request::post(&format!("{BASE}/users")), req)
        .await
        .map(drop)
}
