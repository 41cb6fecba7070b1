//! `/v2/<name>/manifests/<reference>` and `/v2/<name>/referrers/<digest>`.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::BytesMut;
use futures_util::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
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
    // One query serves a pull from a project that is not a proxy cache; the binding is looked
    // up only when the project is one, or when nothing is stored here.
    let manifest = match state.registry.get_manifest(name, reference).await {
        Ok(manifest) if !manifest.proxied => manifest,
        local => match state.registry.proxy_of(name).await? {
            Some(proxy) => {
                state
                    .registry
                    .proxied_manifest(&proxy, name, reference)
                    .await?
            }
            None => local?,
        },
    };
    let digest = manifest.digest.to_string();
    if req.method() == actix_web::http::Method::GET {
        let pull = super::pulls::Pull {
            operator: operator(&caller).to_owned(),
            project_id: manifest.project_id,
            repository: name.to_owned(),
            reference: reference.to_owned(),
            digest: digest.clone(),
            host: super::public_host(state, req),
        };
        state.pulls.record(pull).await;
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
        .await;
    let stored = match stored {
        Ok(stored) => stored,
        Err(err @ RegistryError::QuotaExceeded { .. }) => {
            quota_exceeded(state, &caller, name, &err.to_string()).await;
            return Err(err.into());
        }
        Err(err) => return Err(err.into()),
    };
    let digest = stored.digest.to_string();
    let project_id = project_of(state, name).await;
    audit(state, &caller, name, reference, "push", project_id).await;
    notify(
        state,
        req,
        &caller,
        project_id,
        name,
        reference,
        &digest,
        "PUSH_ARTIFACT",
    )
    .await;
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
    notify(
        state,
        req,
        &caller,
        project_id,
        name,
        reference,
        reference,
        "DELETE_ARTIFACT",
    )
    .await;
    Ok(HttpResponse::Accepted().finish())
}

fn operator(caller: &auth::Caller) -> &str {
    match caller {
        auth::Caller::Token(claims) => claims.sub.as_str(),
        auth::Caller::User(principal) => principal.name(),
    }
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
    let operator = operator(caller);
    let resource = super::pulls::artifact(name, reference);
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

/// Queues the `QUOTA_EXCEED` deliveries of a push to `name` that the quota refused.
async fn quota_exceeded(state: &AppState, caller: &auth::Caller, name: &str, details: &str) {
    let project_name = crate::names::project_of(name);
    let Ok(Some(project)) = crate::db::entities::project::Entity::find()
        .filter(crate::db::entities::project::Column::Name.eq(project_name))
        .one(&state.db)
        .await
    else {
        return;
    };
    if !crate::webhooks::wanted(&state.db, project.id, "QUOTA_EXCEED").await {
        return;
    }
    let event = crate::webhooks::Event {
        kind: "QUOTA_EXCEED",
        project_id: project.id,
        project_name: project.name,
        public: project.public,
        operator: operator(caller).to_owned(),
        repository: Some(name.to_owned()),
        resources: Vec::new(),
        custom_attributes: Some(serde_json::json!({ "Details": details })),
    };
    crate::webhooks::emit(&state.db, &state.jobs, event).await;
}

/// Queues the webhook deliveries of an artifact event on `name`.
#[expect(
    clippy::too_many_arguments,
    reason = "one event's facts, each from the handler"
)]
async fn notify(
    state: &AppState,
    req: &HttpRequest,
    caller: &auth::Caller,
    project_id: Option<i64>,
    name: &str,
    reference: &str,
    digest: &str,
    kind: &'static str,
) {
    let Some(project_id) = project_id else {
        return;
    };
    if !crate::webhooks::wanted(&state.db, project_id, kind).await {
        return;
    }
    let public = crate::db::entities::project::Entity::find_by_id(project_id)
        .one(&state.db)
        .await
        .ok()
        .flatten()
        .is_some_and(|p| p.public);
    let host = super::public_host(state, req);
    let tag = (!reference.contains(':')).then(|| reference.to_owned());
    let event = crate::webhooks::Event {
        kind,
        project_id,
        project_name: crate::names::project_of(name).to_owned(),
        public,
        operator: operator(caller).to_owned(),
        repository: Some(name.to_owned()),
        resources: vec![crate::webhooks::Resource {
            digest: digest.to_owned(),
            resource_url: format!("{host}/{}", super::pulls::artifact(name, reference)),
            tag,
        }],
        custom_attributes: None,
    };
    crate::webhooks::emit(&state.db, &state.jobs, event).await;
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
