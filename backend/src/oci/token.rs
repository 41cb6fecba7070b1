//! The token service of the Docker registry auth flow (`/service/token`).
//!
//! `GET` with Basic credentials (or none, for an anonymous token) and repeated `scope`
//! parameters; `POST` with the OAuth2 password form. The token grants the intersection of what
//! was asked and what RBAC allows; wrong credentials are refused with 401 so logins fail loudly.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::auth::db_error;
use super::query;
use crate::app::AppState;
use crate::auth::{Access, AuthError, Credentials, Principal};
use crate::error::{OciError, OciErrorCode};
use crate::names;

fn bad_credentials() -> OciError {
    OciError::new(OciErrorCode::Unauthorized, "invalid username or password")
        .with_header("WWW-Authenticate", "Basic realm=\"Berth\"")
}

async fn login(state: &AppState, username: &str, password: &str) -> Result<Principal, OciError> {
    state
        .authenticator
        .authenticate(&state.db, username, password)
        .await
        .map_err(|e| match e {
            AuthError::Database(e) => db_error(&e),
            AuthError::RobotCorrupt(e) => OciError::internal(&e),
            e @ AuthError::Locked {
                retry_after_seconds,
            } => OciError::too_many_requests(e.to_string(), retry_after_seconds),
            AuthError::BadCredentials | AuthError::Malformed => bad_credentials(),
        })
}

/// Works out the `access` claim for `scopes` (each `type:name:actions`, possibly several per
/// string separated by spaces). Unknown types and invalid names are skipped, as is any entry
/// for which nothing is granted.
async fn grant<'s>(
    state: &AppState,
    principal: &Principal,
    scopes: impl Iterator<Item = &'s str>,
) -> Result<Vec<Access>, OciError> {
    // Requested actions per repository, merged across repeated scopes.
    let mut requested: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut catalog = false;
    for scope in scopes.flat_map(str::split_whitespace) {
        let Some((kind, rest)) = scope.split_once(':') else {
            continue;
        };
        let Some((name, actions)) = rest.rsplit_once(':') else {
            continue;
        };
        // `repository(plugin)` and similar typed forms name the same resource.
        let kind = kind.split_once('(').map_or(kind, |(k, _)| k);
        match kind {
            "repository" if names::is_valid_repository(name) => {
                let entry = requested.entry(name.to_owned()).or_default();
                entry.extend(actions.split(',').map(str::to_owned));
            }
            "registry" if name == "catalog" => catalog = true,
            _ => {}
        }
    }
    let mut access = Vec::new();
    for (name, actions) in requested {
        let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
        let granted = state
            .rbac
            .repository_actions(&state.db, principal, &name, &actions)
            .await
            .map_err(|e| db_error(&e))?;
        if !granted.is_empty() {
            access.push(Access {
                kind: "repository".into(),
                name,
                actions: granted.into_iter().map(str::to_owned).collect(),
            });
        }
    }
    if catalog && principal != &Principal::Anonymous {
        access.push(Access {
            kind: "registry".into(),
            name: "catalog".into(),
            actions: vec!["*".into()],
        });
    }
    Ok(access)
}

fn issue(
    state: &AppState,
    principal: &Principal,
    access: Vec<Access>,
) -> Result<HttpResponse, OciError> {
    let issued = state
        .tokens
        .issue(principal.name(), access)
        .map_err(|e| OciError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(issued))
}

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, OciError> {
    let principal = match Credentials::from_request(&req) {
        Ok(Credentials::None) => Principal::Anonymous,
        Ok(Credentials::Basic { username, password }) => {
            login(&state, &username, &password).await?
        }
        Ok(Credentials::Bearer(_)) | Err(_) => return Err(bad_credentials()),
    };
    let query = query(&req);
    let scopes = query
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str());
    let access = grant(&state, &principal, scopes).await?;
    issue(&state, &principal, access)
}

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: String,
    username: Option<String>,
    password: Option<String>,
    scope: Option<String>,
}

pub async fn post(
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, OciError> {
    if form.grant_type != "password" {
        return Err(OciError::new(
            OciErrorCode::Unsupported,
            format!(
                "grant_type {:?} is not supported; use \"password\" or GET with Basic auth",
                form.grant_type
            ),
        )
        .with_status(actix_web::http::StatusCode::BAD_REQUEST));
    }
    let (Some(username), Some(password)) = (&form.username, &form.password) else {
        return Err(bad_credentials());
    };
    let principal = login(&state, username, password).await?;
    let access = grant(&state, &principal, form.scope.as_deref().into_iter()).await?;
    issue(&state, &principal, access)
}
