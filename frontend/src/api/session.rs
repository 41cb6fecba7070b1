//! How the console proves who it is: the server's cookie session. `POST /c/login` (or an OpenID
//! Connect sign-in through `/c/oidc/login`) sets the HttpOnly `sid` cookie, which the browser
//! sends by itself, and the readable `__csrf` cookie, whose value every request echoes in
//! `X-Harbor-CSRF-Token` (the server requires it on calls that change something). Nothing
//! secret is kept by the console's scripts.

use gloo_net::http::{Request, RequestBuilder};
use leptos::task::spawn_local;
use serde::Deserialize;
use wasm_bindgen::JsValue;

use super::ApiError;
use berth_api_types::User;

const CSRF_COOKIE: &str = "__csrf";
const CSRF_HEADER: &str = "X-Harbor-CSRF-Token";

/// The value of a readable cookie of this page.
fn cookie(name: &str) -> Option<String> {
    let document = web_sys::window()?.document()?;
    let all = js_sys::Reflect::get(&document, &JsValue::from_str("cookie"))
        .ok()?
        .as_string()?;
    all.split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// Adds the session's CSRF token, if any, to a request (the cookie itself travels alone).
pub(super) fn authorize(request: RequestBuilder) -> RequestBuilder {
    match cookie(CSRF_COOKIE) {
        Some(token) => request.header(CSRF_HEADER, &token),
        None => request,
    }
}

/// Whether an earlier sign-in may still be open (its CSRF cookie is present); the server
/// decides whether the session itself is still alive.
pub fn has_credentials() -> bool {
    cookie(CSRF_COOKIE).is_some()
}

/// Signs in with a local account and opens a session.
///
/// # Errors
/// Wrong credentials ([`ApiError::Unauthorized`]), a locked account, or an unreachable server.
pub async fn sign_in(username: &str, password: &str) -> Result<User, ApiError> {
    let form = form_body(&[("principal", username), ("password", password)]);
    let response = Request::post("/c/login")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .map_err(|e| ApiError::Decode(e.to_string()))?
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if !response.ok() {
        return Err(match ApiError::from_response(response).await {
            ApiError::Unauthorized(_) => {
                ApiError::Unauthorized("wrong username or password".into())
            }
            other => other,
        });
    }
    super::current_user().await
}

/// `application/x-www-form-urlencoded` text of some pairs.
fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let v: String = js_sys::encode_uri_component(v).into();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Deserialize)]
struct LoggedOut {
    end_session_url: Option<String>,
}

/// Ends the session on the server. When it was opened through an identity provider that
/// supports RP-initiated logout, the browser goes on to the provider to end that session too.
pub fn sign_out() {
    spawn_local(async {
        let Ok(response) = Request::get("/c/log_out").send().await else {
            return;
        };
        let next = response
            .json::<LoggedOut>()
            .await
            .ok()
            .and_then(|out| out.end_session_url);
        if let (Some(url), Some(window)) = (next, web_sys::window()) {
            let _ = window.location().assign(&url);
        }
    });
}

/// An identity provider offered on the sign-in page.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    pub display_name: String,
}

/// `GET /c/oidc/providers`.
///
/// # Errors
/// An unreachable server.
pub async fn providers() -> Result<Vec<Provider>, ApiError> {
    let response = Request::get("/c/oidc/providers")
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if !response.ok() {
        return Err(ApiError::from_response(response).await);
    }
    response
        .json()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// Where a provider's button leads: Berth's OIDC sign-in, back to the page asked for.
pub fn provider_login_url(provider: &str) -> String {
    let here = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into());
    let name: String = js_sys::encode_uri_component(provider).into();
    let back: String = js_sys::encode_uri_component(&here).into();
    format!("/c/oidc/login?provider={name}&redirect={back}")
}
