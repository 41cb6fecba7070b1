//! `/v2/<name>/manifests/<reference>` and `/v2/<name>/referrers/<digest>`.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::BytesMut;
use futures_util::StreamExt;
use serde::Serialize;

use super::auth;
use super::{query, query_value};
use crate::app::AppState;
use crate::digest::Digest;
use crate::error::{OciError, OciErrorCode};
use crate::registry::{ManifestPut, MediaType, Referrer, RegistryError};

pub async fn get(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    reference: &str,
) -> Result<HttpResponse, OciError> {
    let caller = auth::authorize(state, req, name, &["pull"]).await?;
    let manifest = state.registry.get_manifest(name, reference).await?;
    let digest = manifest.digest.to_string();
    if req.method() == actix_web::http::Method::GET {
        let project_id = Some(manifest.project_id);
        audit(state, &caller, name, reference, "pull", project_id).await;
    }
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, manifest.media_type))
        .insert_header(("Docker-Content-Digest", digest.as_str()))
        .insert_header(("ETag", format!("\"{digest}\"")))
        .body(manifest.content))
}

/// Reads a manifest body, refusing it as soon as it grows past the configured limit.
async fn read_limited(mut body: web::Payload, limit: usize) -> Result<bytes::Bytes, OciError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            OciError::new(
                OciErrorCode::ManifestInvalid,
                format!("reading the body failed: {e}"),
            )
        })?;
        if buf.len() + chunk.len() > limit {
            return Err(RegistryError::ManifestTooLarge {
                size: buf.len() + chunk.len(),
                limit,
            }
            .into());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

pub async fn put(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    reference: &str,
    body: web::Payload,
) -> Result<HttpResponse, OciError> {
    let caller = auth::authorize(state, req, name, &["pull", "push"]).await?;
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let limit = state.registry.max_manifest_bytes();
    if let Some(size) = declared
        && size > limit
    {
        return Err(RegistryError::ManifestTooLarge { size, limit }.into());
    }
    let body = read_limited(body, limit).await?;
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let tags = query(req)
        .into_iter()
        .filter(|(k, _)| k == "tag")
        .map(|(_, v)| v)
        .collect();
    let stored = state
        .registry
        .put_manifest(ManifestPut {
            repository: name,
            reference,
            tags,
            content_type,
            body,
        })
        .await?;
    let digest = stored.digest.to_string();
    let project_id = project_of(state, name).await;
    audit(state, &caller, name, reference, "push", project_id).await;
    let mut response = HttpResponse::Created();
    response
        .insert_header(("Location", format!("/v2/{name}/manifests/{digest}")))
        .insert_header(("Docker-Content-Digest", digest));
    if let Some(subject) = stored.subject {
        response.insert_header(("OCI-Subject", subject.to_string()));
    }
    Ok(response.finish())
}

pub async fn delete(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    reference: &str,
) -> Result<HttpResponse, OciError> {
    let caller = auth::authorize(state, req, name, &["delete"]).await?;
    state.registry.delete_manifest(name, reference).await?;
    let project_id = project_of(state, name).await;
    audit(state, &caller, name, reference, "delete", project_id).await;
    Ok(HttpResponse::Accepted().finish())
}

/// The project of repository `name`, for an audit entry (`None` when it cannot be read).
async fn project_of(state: &AppState, name: &str) -> Option<i64> {
    state
        .registry
        .find_repository(name)
        .await
        .ok()
        .flatten()
        .map(|r| r.project_id)
}

/// Records a pull, push or delete of `name:reference` in project `project_id`'s audit log.
async fn audit(
    state: &AppState,
    caller: &auth::Caller,
    name: &str,
    reference: &str,
    operation: &str,
    project_id: Option<i64>,
) {
    let operator = match caller {
        auth::Caller::Token(claims) => claims.sub.as_str(),
        auth::Caller::User(principal) => principal.name(),
    };
    let separator = if reference.contains(':') { '@' } else { ':' };
    let resource = format!("{name}{separator}{reference}");
    let entry = crate::api::audit::Entry {
        operator,
        project_id,
        operation,
        resource_type: "artifact",
        resource: &resource,
        success: true,
    };
    crate::api::audit::record_quietly(&state.db, entry).await;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReferrersIndex {
    schema_version: u32,
    media_type: &'static str,
    manifests: Vec<Referrer>,
}

pub async fn referrers(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    digest: &str,
) -> Result<HttpResponse, OciError> {
    auth::authorize(state, req, name, &["pull"]).await?;
    let subject: Digest = digest.parse().map_err(RegistryError::from)?;
    let query = query(req);
    let artifact_type = query_value(&query, "artifactType").filter(|v| !v.is_empty());
    let manifests = state
        .registry
        .referrers(name, &subject, artifact_type)
        .await?;
    let mut response = HttpResponse::build(StatusCode::OK);
    response.insert_header((CONTENT_TYPE, MediaType::OCI_INDEX));
    if artifact_type.is_some() {
        response.insert_header(("OCI-Filters-Applied", "artifactType"));
    }
    let body = serde_json::to_vec(&ReferrersIndex {
        schema_version: 2,
        media_type: MediaType::OCI_INDEX,
        manifests,
    })
    .map_err(|e| OciError::internal(&e))?;
    Ok(response.body(body))
}
