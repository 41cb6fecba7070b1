//! The OCI distribution API on `/v2` and the token service on `/service/token`.
//!
//! Paths are dispatched by hand ([`route::Route`]) because repository names contain slashes.
//! Handlers check access, call the [`crate::registry::Registry`] and shape headers; every
//! error leaves as the spec's `errors` array through [`OciError`].

use actix_web::http::Method;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, web};
use percent_encoding::percent_decode_str;

use crate::app::AppState;
use crate::error::{OciError, OciErrorCode};
use crate::names;

mod auth;
mod blobs;
mod manifests;
mod proxy;
pub mod pulls;
mod repositories;
pub mod route;
mod token;
mod uploads;

use route::Route;

/// The header that tells Docker clients this is a v2 registry.
pub const API_VERSION: (&str, &str) = ("Docker-Distribution-API-Version", "registry/2.0");

/// Mounts `/v2` and `/service/token`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/service/token")
            .route(web::get().to(token::get))
            .route(web::post().to(token::post)),
    )
    .service(
        web::scope("/v2")
            .wrap(DefaultHeaders::new().add(API_VERSION))
            .default_service(web::to(dispatch)),
    );
}

async fn dispatch(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OciError> {
    let raw = req.path().strip_prefix("/v2").unwrap_or_default();
    let raw = raw.strip_prefix('/').unwrap_or(raw);
    let path = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| OciError::new(OciErrorCode::NameInvalid, "path is not valid UTF-8"))?;
    let Some(route) = Route::parse(&path) else {
        return Err(OciError::new(
            OciErrorCode::NameUnknown,
            format!("no registry endpoint at /v2/{path}"),
        )
        .with_status(actix_web::http::StatusCode::NOT_FOUND));
    };
    if let Some(name) = route.name()
        && !names::is_valid_repository(name)
    {
        return Err(OciError::new(
            OciErrorCode::NameInvalid,
            format!(
                "repository name {name:?} is invalid: use <project>/<path> of lower case \
                 letters, digits and separators, at most {} characters",
                names::MAX_NAME_LEN
            ),
        ));
    }
    let data = state.clone();
    let state = state.get_ref();
    let method = req.method().clone();
    let head = method == Method::HEAD;
    // An upload session exists only once its POST passed this check, and a project's proxy
    // binding is fixed when it is created, so the chunks and the final PUT need not ask again.
    if !matches!(method, Method::GET | Method::HEAD)
        && !matches!(route, Route::Upload { .. })
        && let Some(name) = route.name()
        && let Some(proxy) = state.registry.proxy_of(name).await?
    {
        return Err(crate::registry::RegistryError::ProxyReadOnly {
            project: names::project_of(name).to_owned(),
            url: proxy.upstream().url().to_owned(),
        }
        .into());
    }
    match (route, method) {
        (Route::Base, Method::GET | Method::HEAD) => repositories::base(state, &req).await,
        (Route::Catalog, Method::GET) => repositories::catalog(state, &req).await,
        (Route::Tags { name }, Method::GET) => repositories::tags(state, &req, name).await,
        (Route::Manifest { name, reference }, Method::GET | Method::HEAD) => {
            manifests::get(state, &req, name, reference).await
        }
        (Route::Manifest { name, reference }, Method::PUT) => {
            manifests::put(state, &req, name, reference, body).await
        }
        (Route::Manifest { name, reference }, Method::DELETE) => {
            manifests::delete(state, &req, name, reference).await
        }
        (Route::Referrers { name, digest }, Method::GET) => {
            manifests::referrers(state, &req, name, digest).await
        }
        (Route::Blob { name, digest }, Method::GET | Method::HEAD) => {
            blobs::get(&data, &req, name, digest, head).await
        }
        (Route::Blob { name, digest }, Method::DELETE) => {
            blobs::delete(state, &req, name, digest).await
        }
        (Route::Uploads { name }, Method::POST) => uploads::start(state, &req, name, body).await,
        (Route::Upload { name, id }, Method::GET) => uploads::status(state, &req, name, id).await,
        (Route::Upload { name, id }, Method::PATCH) => {
            uploads::patch(state, &req, name, id, body).await
        }
        (Route::Upload { name, id }, Method::PUT) => {
            uploads::finish(state, &req, name, id, body).await
        }
        (Route::Upload { name, id }, Method::DELETE) => {
            uploads::cancel(state, &req, name, id).await
        }
        (_, method) => Err(OciError::new(
            OciErrorCode::Unsupported,
            format!("method {method} is not supported on this endpoint"),
        )),
    }
}

/// The `host[:port]` clients reach the registry at: from the configured external URL, or the
/// host the request came through.
pub fn public_host(state: &AppState, req: &HttpRequest) -> String {
    match &state.config.server.external_url {
        Some(url) => {
            let url = url.trim_end_matches('/');
            url.split_once("://").map_or(url, |(_, h)| h).to_owned()
        }
        None => req.connection_info().host().to_owned(),
    }
}

/// The decoded query parameters of a request, in order (a parameter may repeat).
fn query(req: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

fn query_value<'q>(query: &'q [(String, String)], key: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Percent-encodes a value for use inside a query string.
fn encode_query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
