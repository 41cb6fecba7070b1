//! Robot accounts, the permission catalogue, and what the signed-in account may do.

use berth_api_types::{
    Permission, PermissionCatalogue, Permissions, Robot, RobotCreate, RobotCreated, RobotDisable,
    RobotSecret,
};
use gloo_net::http::Request;

use super::{ApiError, BASE, Page, encode, json, page, send, send_json};

/// `GET /robots` of one project (`project_id`) or the system robots (`None`).
pub async fn list_robots(
    project_id: Option<i64>,
    page_no: u64,
    page_size: u64,
) -> Result<Page<Robot>, ApiError> {
    let filter = match project_id {
        Some(id) => format!("Level=project,ProjectID={id}"),
        None => "Level=system".to_owned(),
    };
    let url = format!(
        "{BASE}/robots?q={}&page={page_no}&page_size={page_size}",
        encode(&filter)
    );
    page(send(Request::get(&url)).await?).await
}

/// `POST /robots`; the answer carries the secret, shown once.
pub async fn create_robot(req: &RobotCreate) -> Result<RobotCreated, ApiError> {
    json(send_json(Request::post(&format!("{BASE}/robots")), req).await?).await
}

/// `PATCH /robots/{id}` without a secret: the server generates a new one and returns it.
pub async fn refresh_secret(id: i64) -> Result<String, ApiError> {
    let url = format!("{BASE}/robots/{id}");
    let body: RobotSecret =
        json(send_json(Request::patch(&url), &RobotSecret { secret: None }).await?).await?;
    body.secret
        .ok_or_else(|| ApiError::Decode("the server sent no secret".into()))
}

/// `PUT /robots/{id}` switching the disabled flag.
pub async fn set_disabled(id: i64, disable: bool) -> Result<(), ApiError> {
    let url = format!("{BASE}/robots/{id}");
    send_json(Request::put(&url), &RobotDisable { disable })
        .await
        .map(drop)
}

/// `DELETE /robots/{id}`.
pub async fn delete_robot(id: i64) -> Result<(), ApiError> {
    send(Request::delete(&format!("{BASE}/robots/{id}")))
        .await
        .map(drop)
}

/// `GET /permissions`: what robots may be granted.
pub async fn permission_catalogue() -> Result<PermissionCatalogue, ApiError> {
    json(send(Request::get(&format!("{BASE}/permissions"))).await?).await
}

/// `GET /users/current/permissions?scope=/project/{name}`.
pub async fn project_permissions(project: &str) -> Result<Permissions, ApiError> {
    let scope = format!("/project/{project}");
    let url = format!("{BASE}/users/current/permissions?scope={}", encode(&scope));
    let held: Vec<Permission> = json(send(Request::get(&url)).await?).await?;
    Ok(Permissions(held))
}
