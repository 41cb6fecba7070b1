//! The REST API under `/api/v2.0`, shaped like Harbor's so Harbor tooling works against it.
//!
//! Errors leave in Harbor's envelope through [`ApiError`]; list endpoints page with `page` and
//! `page_size` and report `X-Total-Count` and a `Link` header.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::DbErr;
use utoipa::OpenApi;

use crate::app::AppState;
use crate::auth::{AuthError, Credentials, Principal, session};
use crate::error::{ApiError, ApiErrorCode};

pub(crate) use users::valid_username;

mod artifacts;
pub mod audit;
mod audit_logs;
mod configurations;
mod credentials;
pub mod docs;
mod gc;
mod immutable;
mod jobservice;
mod labels;
mod login;
mod members;
mod oidc;
mod oidc_providers;
mod project_meta;
mod projects;
pub mod query;
mod quotas;
mod registries;
mod repositories;
mod retentions;
mod robots;
mod search;
mod system;
mod usergroups;
mod users;
mod webhooks;

/// Where the OpenAPI document is served.
const OPENAPI_PATH: &str = "/api/v2.0/openapi.json";

/// The OpenAPI document, built and serialized once per process: it is large (hundreds of
/// kilobytes as JSON, megabytes as a value), and every HTTP worker builds its own app.
async fn openapi_document() -> HttpResponse {
    static DOCUMENT: std::sync::LazyLock<bytes::Bytes> = std::sync::LazyLock::new(|| {
        serde_json::to_vec(&docs::ApiDoc::openapi())
            .expect("an OpenAPI document always serializes")
            .into()
    });
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(DOCUMENT.clone())
}

/// Mounts `/api/v2.0` and the console's `/c/login` and `/c/log_out`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(login::configure)
        .configure(oidc::configure)
        .route(OPENAPI_PATH, web::get().to(openapi_document))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/api/v2.0/swagger/{_:.*}")
                .config(utoipa_swagger_ui::Config::new([OPENAPI_PATH])),
        )
        .service(
            web::scope("/api/v2.0")
                .wrap(actix_web::middleware::from_fn(audit::record_mutations))
                .app_data(web::JsonConfig::default().error_handler(|err, _| {
                    ApiError::bad_request(format!("invalid JSON body: {err}")).into()
                }))
                .app_data(web::QueryConfig::default().error_handler(|err, _| {
                    ApiError::bad_request(format!("invalid query parameters: {err}")).into()
                }))
                .app_data(web::PathConfig::default().error_handler(|err, _| {
                    ApiError::bad_request(format!("invalid path: {err}")).into()
                }))
                .configure(system::configure)
                .configure(users::configure)
                .configure(credentials::configure)
                .configure(oidc_providers::configure)
                .configure(projects::configure)
                .configure(members::configure)
                .configure(robots::configure)
                .configure(repositories::configure)
                .configure(artifacts::configure)
                .configure(labels::configure)
                .configure(audit_logs::configure)
                .configure(configurations::configure)
                .configure(search::configure)
                .configure(project_meta::configure)
                .configure(usergroups::configure)
                .configure(gc::configure)
                .configure(quotas::configure)
                .configure(retentions::configure)
                .configure(immutable::configure)
                .configure(jobservice::configure)
                .configure(registries::configure)
                .configure(webhooks::configure)
                .default_service(web::to(unrouted)),
        );
}

/// Answers a request no route took: 405 with `Allow` when the path exists for other methods
/// (per the API description), 404 otherwise.
pub(crate) async fn unrouted(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    let allowed = docs::methods_of(req.path());
    if allowed.is_empty() {
        return Err(ApiError::not_found(format!(
            "no API endpoint {} {}",
            req.method(),
            req.path()
        )));
    }
    let mut response = actix_web::ResponseError::error_response(&ApiError::new(
        ApiErrorCode::MethodNotAllowed,
        format!(
            "{} is not allowed on {}; use {}",
            req.method(),
            req.path(),
            allowed.join(", ")
        ),
    ));
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed.join(", ")) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    Ok(response)
}

/// Who is calling the REST API: Basic credentials of a user or robot, a console session
/// cookie, or anonymous without either. The caller's name is kept in the request for the
/// audit log.
///
/// # Errors
/// 401 for malformed or wrong credentials, 429 while the account is locked, 403 for a session
/// call that changes something without the CSRF token.
pub(crate) async fn caller(state: &AppState, req: &HttpRequest) -> Result<Principal, ApiError> {
    let principal = match Credentials::from_request(req) {
        Ok(Credentials::None) => session_caller(state, req).await?,
        Ok(Credentials::Basic { username, password }) => state
            .authenticator
            .authenticate(&state.db, &username, &password)
            .await
            .map_err(auth_error)?,
        Ok(Credentials::Bearer(token)) => crate::oidc::bearer_user(state, &token).await?,
        Err(_) => {
            return Err(ApiError::unauthorized(
                "use HTTP Basic credentials of a user or robot account, or an OIDC ID token",
            ));
        }
    };
    if let Some(scope) = principal.token_scope() {
        let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if !scope.allows_api(safe) {
            return Err(ApiError::forbidden(if safe {
                "this personal access token has no api:read or api:write scope"
            } else {
                "this personal access token has no api:write scope"
            }));
        }
    }
    audit::note_operator(req, &principal);
    Ok(principal)
}

/// The REST answer to refused credentials.
pub(crate) fn auth_error(err: AuthError) -> ApiError {
    match err {
        AuthError::Database(e) => db_error(e),
        AuthError::RobotCorrupt(e) => ApiError::internal(&e),
        AuthError::Locked {
            retry_after_seconds,
        } => ApiError::new(ApiErrorCode::TooManyRequests, err.to_string())
            .with_retry_after(retry_after_seconds),
        AuthError::BadCredentials | AuthError::Malformed => {
            ApiError::unauthorized("invalid username or password")
        }
    }
}

/// The user of a console session cookie; anonymous without one. Calls that change something
/// must carry the session's CSRF token in `X-Harbor-CSRF-Token`.
async fn session_caller(state: &AppState, req: &HttpRequest) -> Result<Principal, ApiError> {
    let Some(cookie) = req.cookie(session::SESSION_COOKIE) else {
        return Ok(Principal::Anonymous);
    };
    let ttl = state.config.auth.session_ttl_seconds;
    let Some(live) = session::resume(&state.db, cookie.value(), ttl).await? else {
        return Ok(Principal::Anonymous);
    };
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let echoed = req
        .headers()
        .get(session::CSRF_HEADER)
        .and_then(|v| v.to_str().ok());
    if !safe && !echoed.is_some_and(|t| session::tokens_match(t, &live.csrf_token)) {
        return Err(ApiError::forbidden(format!(
            "CSRF token missing or invalid: send the {} cookie's value in {}",
            session::CSRF_COOKIE,
            session::CSRF_HEADER
        )));
    }
    Ok(live.principal)
}

/// The caller, who must be signed in.
pub(crate) async fn signed_in(state: &AppState, req: &HttpRequest) -> Result<Principal, ApiError> {
    match caller(state, req).await? {
        Principal::Anonymous => Err(ApiError::unauthorized("authentication required")),
        principal => Ok(principal),
    }
}

pub(crate) fn db_error(err: DbErr) -> ApiError {
    if crate::db::is_invalid_text(&err) {
        return ApiError::bad_request("text values must be valid UTF-8 without NUL characters");
    }
    if crate::db::is_unavailable(&err) {
        ApiError::unavailable(&err)
    } else {
        ApiError::internal(&err)
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        db_error(err)
    }
}

/// `page` and `page_size` of a list request, Harbor's defaults and limits.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Paging {
    #[serde(default = "first_page", deserialize_with = "query_value::number")]
    pub page: u64,
    #[serde(
        default = "default_page_size",
        deserialize_with = "query_value::number"
    )]
    pub page_size: u64,
}

/// Deserializers for query-string values that also work inside `#[serde(flatten)]`, where
/// serde_urlencoded hands every value over as a string.
pub(crate) mod query_value {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw<T> {
        Typed(T),
        Text(String),
    }

    fn parse<'de, T, D>(raw: Raw<T>) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        match raw {
            Raw::Typed(value) => Ok(value),
            Raw::Text(text) => text
                .parse()
                .map_err(|e| D::Error::custom(format!("invalid value {text:?}: {e}"))),
        }
    }

    /// A number given as a number or as its decimal text.
    pub fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        parse::<u64, D>(Raw::deserialize(deserializer)?)
    }

    /// An optional `true`/`false` given as a boolean or as text.
    pub fn optional_bool<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<bool>, D::Error> {
        Option::<Raw<bool>>::deserialize(deserializer)?
            .map(parse::<bool, D>)
            .transpose()
    }
}

pub(crate) fn first_page() -> u64 {
    1
}

pub(crate) fn default_page_size() -> u64 {
    10
}

impl Paging {
    /// Rows to skip and to take.
    ///
    /// # Errors
    /// `page` is 0 or `page_size` is outside 1..=100.
    pub fn window(&self) -> Result<(u64, u64), ApiError> {
        if self.page == 0 || self.page_size == 0 || self.page_size > 100 {
            return Err(ApiError::bad_request(
                "page must be at least 1 and page_size between 1 and 100",
            ));
        }
        let offset = (self.page - 1)
            .checked_mul(self.page_size)
            .filter(|o| i64::try_from(*o).is_ok())
            .ok_or_else(|| ApiError::bad_request("page is too large"))?;
        Ok((offset, self.page_size))
    }
}

/// A JSON body that must be an object: serde would also build a struct whose fields are all
/// optional from an array, which the API description does not allow.
pub(crate) struct ObjectJson<T>(pub T);

impl<T> ObjectJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ObjectJson<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned> actix_web::FromRequest for ObjectJson<T> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let object =
            web::Json::<serde_json::Map<String, serde_json::Value>>::from_request(req, payload);
        Box::pin(async move {
            let object = object.await?.into_inner();
            serde_json::from_value(serde_json::Value::Object(object))
                .map(ObjectJson)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")).into())
        })
    }
}

/// Adds `X-Total-Count` and a `Link` to the next page when there is one.
pub(crate) fn paged(
    response: &mut actix_web::HttpResponseBuilder,
    path: &str,
    paging: &Paging,
    total: u64,
) {
    response.insert_header(("X-Total-Count", total.to_string()));
    if paging.page.saturating_mul(paging.page_size) < total {
        response.insert_header((
            "Link",
            format!(
                "<{path}?page={}&page_size={}>; rel=\"next\"",
                paging.page + 1,
                paging.page_size
            ),
        ));
    }
}
