//! How the console proves who it is. Until the session login (`POST /c/login` with a cookie
//! and a CSRF token) exists, the console sends the user's Basic credentials with each request
//! and keeps them in `sessionStorage`, which the browser clears when the tab closes. Switching
//! to the cookie login changes this file only.

use base64::Engine;
use gloo_net::http::RequestBuilder;
use gloo_storage::{SessionStorage, Storage};

use super::ApiError;
use berth_api_types::User;

const KEY: &str = "berth.credentials";

/// Adds the stored credentials, if any, to a request.
pub(super) fn authorize(request: RequestBuilder) -> RequestBuilder {
    match SessionStorage::get::<String>(KEY) {
        Ok(credentials) => request.header("Authorization", &format!("Basic {credentials}")),
        Err(_) => request,
    }
}

/// Whether credentials from an earlier sign-in are stored.
pub fn has_credentials() -> bool {
    SessionStorage::get::<String>(KEY).is_ok()
}

/// Checks the credentials against the server and keeps them when they are right.
///
/// # Errors
/// Wrong credentials ([`ApiError::Unauthorized`]) or an unreachable server.
pub async fn sign_in(username: &str, password: &str) -> Result<User, ApiError> {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    SessionStorage::set(KEY, &encoded).map_err(|e| ApiError::Network(e.to_string()))?;
    match super::current_user().await {
        Ok(user) => Ok(user),
        Err(e) => {
            sign_out();
            Err(match e {
                ApiError::Unauthorized(_) => {
                    ApiError::Unauthorized("wrong username or password".into())
                }
                other => other,
            })
        }
    }
}

/// Forgets the credentials.
pub fn sign_out() {
    SessionStorage::delete(KEY);
}
