//! The admin console: the Leptos app built into `frontend/dist`, served at `/`.
//!
//! Release builds embed the files in the binary; debug builds read them from `frontend/dist`
//! at run time, so a rebuilt frontend shows up without relinking the backend. Any GET that no
//! other route answers gets `index.html` (the console routes in the browser), except under the
//! API prefixes, which answer 404 in Harbor's envelope rather than with a page.

use std::borrow::Cow;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "../frontend/dist"]
#[allow_missing = true]
struct Assets;

/// Paths that belong to the server, never to the console.
const RESERVED: [&str; 4] = ["/v2", "/api", "/service", "/c"];

/// Mounts the console as the app's fallback; call after every other `configure`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(serve));
}

async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    let reserved = RESERVED.iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    });
    if reserved || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(ApiError::not_found(format!(
            "no endpoint {} {path}",
            req.method()
        )));
    }
    let name = path.trim_start_matches('/');
    if !name.is_empty()
        && let Some(response) = asset(&req, name)
    {
        return Ok(response);
    }
    if looks_like_asset(name) {
        return Err(ApiError::not_found(format!("no console file {path}")));
    }
    Ok(asset(&req, "index.html").unwrap_or_else(not_built))
}

/// One file of the console, gzipped when the client accepts it and a `.gz` twin exists.
fn asset(req: &HttpRequest, name: &str) -> Option<HttpResponse> {
    let plain = Assets::get(name)?;
    let gzipped = accepts_gzip(req)
        .then(|| Assets::get(&format!("{name}.gz")))
        .flatten();
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, content_type(name)))
        .insert_header((header::CACHE_CONTROL, cache_control(name)))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    let body: Cow<'static, [u8]> = match gzipped {
        Some(file) => {
            response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
            file.data
        }
        None => plain.data,
    };
    Some(response.body(body.into_owned()))
}

fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| coding.split(';').next().is_some_and(|c| c.trim() == "gzip"))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// Built assets carry a content hash in their name and never change; `index.html` must be
/// checked on every load so a new release is picked up.
fn cache_control(name: &str) -> &'static str {
    if name == "index.html" {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    }
}

/// A request for a missing file, as opposed to a console route such as `/projects/demo`.
fn looks_like_asset(name: &str) -> bool {
    const EXTENSIONS: [&str; 7] = [".js", ".wasm", ".css", ".svg", ".png", ".ico", ".map"];
    EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// Only reached by a binary built without `frontend/dist` (a plain `cargo build` before the
/// frontend was built); `scripts/start.sh` always builds the console first.
fn not_built() -> HttpResponse {
    HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
        .content_type("text/plain; charset=utf-8")
        .body(
            "This berth binary was built without its console. Build it with \
             scripts/build-frontend.sh (scripts/start.sh does this), then rebuild berth.\n",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_assets_are_immutable_and_index_is_revalidated() {
        assert_eq!(cache_control("index.html"), "no-cache");
        assert!(cache_control("berth_console-0123abcd_bg.wasm").contains("immutable"));
    }

    #[test]
    fn console_routes_are_not_assets() {
        assert!(!looks_like_asset("projects/my.project/members"));
        assert!(looks_like_asset("berth_console-0123.js"));
    }

    #[test]
    fn wasm_is_served_as_wasm() {
        assert_eq!(content_type("x_bg.wasm"), "application/wasm");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
    }
}
