//! Repositories, artifacts, tags, labels and the artifacts' additions.

use berth_api_types::{
    Artifact, HistoryEntry, Label, LabelRef, Layer, NewTag, Repository, RepositoryChange,
};
use gloo_net::http::Request;

use super::{ApiError, BASE, Page, encode, json, page, send, send_json};

/// A repository path segment: the name without the project, its `/` sent as `%252F`.
fn repo_segment(repository: &str) -> String {
    encode(repository).replace("%2F", "%252F")
}

fn repo_url(project: &str, repository: &str) -> String {
    format!(
        "{BASE}/projects/{}/repositories/{}",
        encode(project),
        repo_segment(repository)
    )
}

fn artifact_url(project: &str, repository: &str, reference: &str) -> String {
    format!(
        "{}/artifacts/{}",
        repo_url(project, repository),
        encode(reference)
    )
}

/// `GET /projects/{project}/repositories?q=name=~{search}&page=&page_size=`.
pub async fn list_repositories(
    project: &str,
    search: &str,
    page_no: u64,
    page_size: u64,
) -> Result<Page<Repository>, ApiError> {
    let filter = if search.is_empty() {
        String::new()
    } else {
        format!("&q={}", encode(&format!("name=~{search}")))
    };
    let url = format!(
        "{BASE}/projects/{}/repositories?page={page_no}&page_size={page_size}{filter}",
        encode(project)
    );
    page(send(Request::get(&url)).await?).await
}

/// `GET /projects/{project}/repositories/{repository}`.
pub async fn get_repository(project: &str, repository: &str) -> Result<Repository, ApiError> {
    json(send(Request::get(&repo_url(project, repository))).await?).await
}

/// `PUT /projects/{project}/repositories/{repository}` with a new description.
pub async fn update_description(
    project: &str,
    repository: &str,
    description: String,
) -> Result<(), ApiError> {
    let body = RepositoryChange { description };
    send_json(Request::put(&repo_url(project, repository)), &body)
        .await
        .map(drop)
}

/// `GET .../artifacts?page=&page_size=&with_tag=true`, newest push first.
pub async fn list_artifacts(
    project: &str,
    repository: &str,
    page_no: u64,
    page_size: u64,
) -> Result<Page<Artifact>, ApiError> {
    let url = format!(
        "{}/artifacts?page={page_no}&page_size={page_size}&with_tag=true",
        repo_url(project, repository)
    );
    page(send(Request::get(&url)).await?).await
}

/// `GET .../artifacts/{reference}` with tags, labels and accessories.
pub async fn get_artifact(
    project: &str,
    repository: &str,
    reference: &str,
) -> Result<Artifact, ApiError> {
    let url = format!(
        "{}?with_tag=true&with_label=true&with_accessory=true",
        artifact_url(project, repository, reference)
    );
    json(send(Request::get(&url)).await?).await
}

/// `POST .../artifacts/{reference}/tags`.
pub async fn add_tag(
    project: &str,
    repository: &str,
    reference: &str,
    name: String,
) -> Result<(), ApiError> {
    let url = format!("{}/tags", artifact_url(project, repository, reference));
    send_json(Request::post(&url), &NewTag { name })
        .await
        .map(drop)
}

/// `DELETE .../artifacts/{reference}/tags/{tag}`.
pub async fn delete_tag(
    project: &str,
    repository: &str,
    reference: &str,
    tag: &str,
) -> Result<(), ApiError> {
    let url = format!(
        "{}/tags/{}",
        artifact_url(project, repository, reference),
        encode(tag)
    );
    send(Request::delete(&url)).await.map(drop)
}

/// `GET .../additions/layers`.
pub async fn layers(project: &str, repository: &str, digest: &str) -> Result<Vec<Layer>, ApiError> {
    let url = format!(
        "{}/additions/layers",
        artifact_url(project, repository, digest)
    );
    json(send(Request::get(&url)).await?).await
}

/// `GET .../additions/build_history`.
pub async fn build_history(
    project: &str,
    repository: &str,
    digest: &str,
) -> Result<Vec<HistoryEntry>, ApiError> {
    let url = format!(
        "{}/additions/build_history",
        artifact_url(project, repository, digest)
    );
    json(send(Request::get(&url)).await?).await
}

/// The labels an artifact of the project may carry: global ones and the project's own.
pub async fn labels_for(project_id: i64) -> Result<Vec<Label>, ApiError> {
    let global = format!("{BASE}/labels?scope=g&page_size=100");
    let own = format!("{BASE}/labels?scope=p&project_id={project_id}&page_size=100");
    let mut labels: Vec<Label> = json(send(Request::get(&global)).await?).await?;
    labels.extend(json::<Vec<Label>>(send(Request::get(&own)).await?).await?);
    Ok(labels)
}

/// `POST .../artifacts/{reference}/labels`.
pub async fn attach_label(
    project: &str,
    repository: &str,
    digest: &str,
    label_id: i64,
) -> Result<(), ApiError> {
    let url = format!("{}/labels", artifact_url(project, repository, digest));
    send_json(Request::post(&url), &LabelRef { id: label_id })
        .await
        .map(drop)
}

/// `DELETE .../artifacts/{reference}/labels/{id}`.
pub async fn detach_label(
    project: &str,
    repository: &str,
    digest: &str,
    label_id: i64,
) -> Result<(), ApiError> {
    let url = format!(
        "{}/labels/{label_id}",
        artifact_url(project, repository, digest)
    );
    send(Request::delete(&url)).await.map(drop)
}
