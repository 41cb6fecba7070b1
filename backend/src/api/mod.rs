//! The REST API under `/api/v2.0`, shaped like Harbor's so Harbor tooling works against it.
//!
//! Errors leave in Harbor's envelope through [`ApiError`]; list endpoints page with `page` and
//! `page_size` and report `X-Total-Count` and a `Link` header.

use actix_web::{HttpRequest, web};
use sea_orm::DbErr;

use crate::app::AppState;
use crate::auth::{AuthError, Credentials, Principal};
use crate::error::ApiError;

mod gc;
mod immutable;
mod jobservice;
mod members;
mod projects;
mod quotas;
mod retentions;
mod system;
mod users;

/// Mounts `/api/v2.0`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v2.0")
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
            .configure(projects::configure)
            .configure(members::configure)
            .configure(gc::configure)
            .configure(quotas::configure)
            .configure(retentions::configure)
            .configure(immutable::configure)
            .configure(jobservice::configure)
            .default_service(web::to(|req: HttpRequest| async move {
                Err::<actix_web::HttpResponse, _>(ApiError::not_found(format!(
                    "no API endpoint {} {}",
                    req.method(),
                    req.path()
                )))
            })),
    );
}

/// Who is calling the REST API: Basic credentials, or anonymous without them.
///
/// # Errors
/// 401 for malformed or wrong credentials.
pub(crate) async fn caller(state: &AppState, req: &HttpRequest) -> Result<Principal, ApiError> {
    match Credentials::from_request(req) {
        Ok(Credentials::None) => Ok(Principal::Anonymous),
        Ok(Credentials::Basic { username, password }) => state
            .authenticator
            .authenticate(&state.db, &username, &password)
            .await
            .map_err(|e| match e {
                AuthError::Database(e) => db_error(e),
                _ => ApiError::unauthorized("invalid username or password"),
            }),
        Ok(Credentials::Bearer(_)) | Err(_) => Err(ApiError::unauthorized(
            "use HTTP Basic credentials of a user or robot account",
        )),
    }
}

/// The caller, who must be signed in.
pub(crate) async fn signed_in(state: &AppState, req: &HttpRequest) -> Result<Principal, ApiError> {
    match caller(state, req).await? {
        Principal::Anonymous => Err(ApiError::unauthorized("authentication required")),
        principal => Ok(principal),
    }
}

pub(crate) fn db_error(err: DbErr) -> ApiError {
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

fn first_page() -> u64 {
    1
}

fn default_page_size() -> u64 {
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
        Ok(((self.page - 1) * self.page_size, self.page_size))
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
    if paging.page * paging.page_size < total {
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
