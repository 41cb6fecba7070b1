//! The signed-in user's own credentials: password, CLI secret and personal access tokens
//! (`/users/{id}/password`, `/users/{id}/cli_secret`, `/users/{id}/tokens`).

use gloo_net::http::Request;
use serde::{Deserialize, Serialize};

use super::{ApiError, BASE, json, send, send_json};

#[derive(Serialize)]
struct PasswordChange<'a> {
    old_password: &'a str,
    new_password: &'a str,
}

/// `PUT /users/{id}/password` with the old password (local accounts).
pub async fn change_password(user_id: i64, old: &str, new: &str) -> Result<(), ApiError> {
    let body = PasswordChange {
        old_password: old,
        new_password: new,
    };
    send_json(
        Request::put(&format!("{BASE}/users/{user_id}/password")),
        &body,
    )
    .await
    .map(drop)
}

/// Whether the user has a CLI secret.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct CliSecretStatus {
    pub has_secret: bool,
    pub created_at: Option<String>,
}

/// `GET /users/{id}/cli_secret`.
pub async fn cli_secret_status(user_id: i64) -> Result<CliSecretStatus, ApiError> {
    json(send(Request::get(&format!("{BASE}/users/{user_id}/cli_secret"))).await?).await
}

#[derive(Deserialize)]
struct SecretValue {
    secret: String,
}

/// `PUT /users/{id}/cli_secret` without a chosen secret: returns the generated one.
pub async fn regenerate_cli_secret(user_id: i64) -> Result<String, ApiError> {
    let request = Request::put(&format!("{BASE}/users/{user_id}/cli_secret"));
    let value: SecretValue = json(send_json(request, &serde_json::json!({})).await?).await?;
    Ok(value.secret)
}

/// `DELETE /users/{id}/cli_secret`.
pub async fn revoke_cli_secret(user_id: i64) -> Result<(), ApiError> {
    send(Request::delete(&format!(
        "{BASE}/users/{user_id}/cli_secret"
    )))
    .await
    .map(drop)
}

/// A personal access token as listed.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct AccessToken {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
    pub projects: Option<Vec<String>>,
    pub expires_at: Option<String>,
    pub expired: bool,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// `GET /users/{id}/tokens`.
pub async fn list_tokens(user_id: i64) -> Result<Vec<AccessToken>, ApiError> {
    json(send(Request::get(&format!("{BASE}/users/{user_id}/tokens"))).await?).await
}

/// A token to create.
#[derive(Clone, Debug, Serialize)]
pub struct NewToken {
    pub name: String,
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projects: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Deserialize)]
struct CreatedToken {
    token: String,
}

/// `POST /users/{id}/tokens`: returns the token, shown once.
pub async fn create_token(user_id: i64, new: &NewToken) -> Result<String, ApiError> {
    let request = Request::post(&format!("{BASE}/users/{user_id}/tokens"));
    let created: CreatedToken = json(send_json(request, new).await?).await?;
    Ok(created.token)
}

/// `DELETE /users/{id}/tokens/{token_id}`.
pub async fn revoke_token(user_id: i64, token_id: i64) -> Result<(), ApiError> {
    send(Request::delete(&format!(
        "{BASE}/users/{user_id}/tokens/{token_id}"
    )))
    .await
    .map(drop)
}
