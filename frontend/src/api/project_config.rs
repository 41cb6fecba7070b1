//! Labels (global and per project), a project's metadata switches and its tag immutability
//! rules.

use std::collections::BTreeMap;

use berth_api_types::{ImmutableRule, Label, NewLabel};
use gloo_net::http::Request;
use serde::Serialize;

use super::{ApiError, BASE, Page, encode, json, page, send, send_json};

/// `GET /labels`: the global labels (`None`) or a project's (`Some(id)`).
pub async fn list_labels(
    project_id: Option<i64>,
    page_no: u64,
    page_size: u64,
) -> Result<Page<Label>, ApiError> {
    let scope = match project_id {
        Some(id) => format!("scope=p&project_id={id}"),
        None => "scope=g".to_owned(),
    };
    let url = format!("{BASE}/labels?{scope}&page={page_no}&page_size={page_size}");
    page(send(Request::get(&url)).await?).await
}

/// `POST /labels`.
pub async fn create_label(label: &NewLabel) -> Result<(), ApiError> {
    send_json(Request::post(&format!("{BASE}/labels")), label)
        .await
        .map(drop)
}

/// `DELETE /labels/{id}`.
pub async fn delete_label(id: i64) -> Result<(), ApiError> {
    send(Request::delete(&format!("{BASE}/labels/{id}")))
        .await
        .map(drop)
}

/// `GET /projects/{project}/metadatas`: every switch as a string.
pub async fn metadata(project: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let url = format!("{BASE}/projects/{}/metadatas", encode(project));
    let request = Request::get(&url).header("X-Is-Resource-Name", "true");
    json(send(request).await?).await
}

#[derive(Serialize)]
struct ProjectUpdate<'a> {
    metadata: &'a BTreeMap<String, String>,
}

/// `PUT /projects/{project}` with new metadata switches.
pub async fn update_metadata(
    project: &str,
    metadata: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let url = format!("{BASE}/projects/{}", encode(project));
    let request = Request::put(&url).header("X-Is-Resource-Name", "true");
    send_json(request, &ProjectUpdate { metadata })
        .await
        .map(drop)
}

fn rules_url(project: &str) -> String {
    format!("{BASE}/projects/{}/immutabletagrules", encode(project))
}

/// `GET /projects/{project}/immutabletagrules`.
pub async fn immutable_rules(project: &str) -> Result<Vec<ImmutableRule>, ApiError> {
    let request = Request::get(&rules_url(project)).header("X-Is-Resource-Name", "true");
    json(send(request).await?).await
}

/// `POST /projects/{project}/immutabletagrules`.
pub async fn create_immutable_rule(project: &str, rule: &ImmutableRule) -> Result<(), ApiError> {
    let request = Request::post(&rules_url(project)).header("X-Is-Resource-Name", "true");
    send_json(request, rule).await.map(drop)
}

/// `DELETE /projects/{project}/immutabletagrules/{id}`.
pub async fn delete_immutable_rule(project: &str, id: i64) -> Result<(), ApiError> {
    let url = format!("{}/{id}", rules_url(project));
    let request = Request::delete(&url).header("X-Is-Resource-Name", "true");
    send(request).await.map(drop)
}
