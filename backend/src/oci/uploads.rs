//! `/v2/<name>/blobs/uploads/`: upload sessions (monolithic, chunked and streamed) and
//! cross-repository mounts.

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};

use super::auth;
use super::{query, query_value};
use crate::app::AppState;
use crate::digest::Digest;
use crate::error::{OciError, OciErrorCode};
use crate::names;
use crate::registry::{RegistryError, UploadStatus, upload_range};

fn session_location(name: &str, id: &str) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

/// The headers every answer about a live session carries.
fn session_headers(
    mut response: HttpResponseBuilder,
    name: &str,
    status: &UploadStatus,
) -> HttpResponse {
    response
        .insert_header(("Location", session_location(name, &status.id)))
        .insert_header(("Range", upload_range(status.size)))
        .insert_header(("Docker-Upload-UUID", status.id.as_str()))
        .insert_header((CONTENT_LENGTH, "0"))
        .finish()
}

fn blob_created(name: &str, digest: &Digest) -> HttpResponse {
    HttpResponse::Created()
        .insert_header(("Location", format!("/v2/{name}/blobs/{digest}")))
        .insert_header(("Docker-Content-Digest", digest.to_string()))
        .insert_header((CONTENT_LENGTH, "0"))
        .finish()
}

fn required_digest(value: Option<&str>) -> Result<Digest, OciError> {
    let value = value.ok_or_else(|| {
        OciError::new(
            OciErrorCode::DigestInvalid,
            "the digest query parameter is required",
        )
    })?;
    Ok(value.parse().map_err(RegistryError::from)?)
}

/// `POST /v2/<name>/blobs/uploads/`: mount from another repository (`?mount=&from=`), upload in
/// one request (`?digest=` with a body), or open a session.
pub async fn start(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    body: web::Payload,
) -> Result<HttpResponse, OciError> {
    let query = query(req);
    let from = query_value(&query, "from").filter(|from| names::is_valid_repository(from));
    let source_scope = from.map(|from| format!("repository:{from}:pull"));
    let caller = auth::authorize_with(state, req, name, &["pull", "push"], source_scope).await?;
    if let Some(mount) = query_value(&query, "mount") {
        // A mount that cannot be done is not an error: the client gets a session and uploads.
        if let Ok(digest) = mount.parse::<Digest>() {
            let mounted = match from {
                Some(from) => {
                    auth::identity_holds(state, &caller, from, &["pull"]).await?
                        && state.registry.mount_blob(from, name, &digest).await?
                }
                // Without `from`, only the project's own repositories are searched: the caller
                // may pull from all of them (roles are per project) and learns nothing about
                // other tenants.
                None => {
                    state
                        .registry
                        .mount_blob_from_project(name, &digest)
                        .await?
                }
            };
            if mounted {
                return Ok(blob_created(name, &digest));
            }
        }
    } else if let Some(digest) = query_value(&query, "digest") {
        let digest = required_digest(Some(digest))?;
        let status = state.registry.start_upload(name).await?;
        state
            .registry
            .finish_upload(name, &status.id, None, &digest, body)
            .await?;
        return Ok(blob_created(name, &digest));
    }
    let status = state.registry.start_upload(name).await?;
    Ok(session_headers(HttpResponse::Accepted(), name, &status))
}

pub async fn status(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    id: &str,
) -> Result<HttpResponse, OciError> {
    auth::authorize(state, req, name, &["pull", "push"]).await?;
    let status = state.registry.upload_status(name, id).await?;
    Ok(session_headers(HttpResponse::NoContent(), name, &status))
}

/// Reads `Content-Range: <start>-<end>` (inclusive). `Ok(None)` when absent (a streamed
/// PATCH); an error for any other form, checked against `Content-Length` when both are sent.
fn content_range(req: &HttpRequest) -> Result<Option<(u64, u64)>, ()> {
    let Some(value) = req.headers().get("Content-Range") else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ())?;
    let (start, end) = value.split_once('-').ok_or(())?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(start) || !digits(end) {
        return Err(());
    }
    let (start, end) = (
        start.parse::<u64>().map_err(|_| ())?,
        end.parse::<u64>().map_err(|_| ())?,
    );
    if end < start {
        return Err(());
    }
    let length = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = length
        && length != end - start + 1
    {
        return Err(());
    }
    Ok(Some((start, end)))
}

/// Where the chunk of a PATCH or closing PUT claims to start (`None`: append where the session
/// ends). A malformed `Content-Range` answers 416 with the session's current range.
async fn chunk_start(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    id: &str,
) -> Result<Option<u64>, OciError> {
    match content_range(req) {
        Ok(range) => Ok(range.map(|(start, _)| start)),
        Err(()) => {
            let status = state.registry.upload_status(name, id).await?;
            Err(RegistryError::RangeNotSatisfiable {
                offset: status.size,
                location: session_location(name, id),
            }
            .into())
        }
    }
}

pub async fn patch(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    id: &str,
    body: web::Payload,
) -> Result<HttpResponse, OciError> {
    auth::authorize(state, req, name, &["pull", "push"]).await?;
    let start = chunk_start(state, req, name, id).await?;
    let status = state
        .registry
        .append_upload(name, id, start, None, body)
        .await?;
    Ok(session_headers(HttpResponse::Accepted(), name, &status))
}

pub async fn finish(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    id: &str,
    body: web::Payload,
) -> Result<HttpResponse, OciError> {
    auth::authorize(state, req, name, &["pull", "push"]).await?;
    let query = query(req);
    let digest = required_digest(query_value(&query, "digest"))?;
    let start = chunk_start(state, req, name, id).await?;
    state
        .registry
        .finish_upload(name, id, start, &digest, body)
        .await?;
    Ok(blob_created(name, &digest))
}

pub async fn cancel(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    id: &str,
) -> Result<HttpResponse, OciError> {
    auth::authorize(state, req, name, &["pull", "push"]).await?;
    state.registry.cancel_upload(name, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
