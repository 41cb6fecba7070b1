//! The OpenAPI description: served from the binary, committed in `docs/openapi.json`, and
//! covering every route with a summary, a description and error responses.

use std::collections::BTreeSet;

use berth::api::docs::ApiDoc;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use utoipa::OpenApi;

use crate::support::*;

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

/// Regenerate with `BERTH_UPDATE_OPENAPI=1 cargo test -p berth --test it openapi`.
#[test]
fn committed_spec_matches_the_generated_one() {
    let generated = ApiDoc::openapi().to_pretty_json().expect("spec serializes") + "\n";
    let path = committed_path();
    if std::env::var_os("BERTH_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run BERTH_UPDATE_OPENAPI=1 cargo test -p berth --test it openapi"
    );
}

/// `(method, path)` of every route registered in `backend/src/api`, with parameters as `{}`.
fn registered_routes() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("src/api") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("source");
        let compact: String = source.split_whitespace().collect();
        for piece in compact.split(".route(\"").skip(1) {
            let Some((route, rest)) = piece.split_once("\",web::") else {
                continue;
            };
            let method = rest.split('(').next().unwrap_or_default().to_owned();
            if method == "route" {
                // A catch-all answering 405 for the methods a path does not have.
                continue;
            }
            let full = if route.starts_with("/c/") {
                route.to_owned()
            } else {
                format!("/api/v2.0{route}")
            };
            routes.insert((method, normalize(&full)));
        }
    }
    routes
}

fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.trim_end_matches('/').chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn every_route_is_documented_with_summary_description_and_errors() {
    let spec: Value =
        serde_json::from_str(&ApiDoc::openapi().to_json().expect("json")).expect("spec");
    let mut documented = BTreeSet::new();
    let mut operation_ids = BTreeSet::new();
    let mut missing = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            documented.insert((method.clone(), normalize(path)));
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if !operation_ids.insert(id.clone()) {
                missing.push(format!("{method} {path}: operationId {id:?} is not unique"));
            }
            let text = |key: &str| {
                operation[key]
                    .as_str()
                    .is_some_and(|t| !t.trim().is_empty())
            };
            if !text("summary") || !text("description") {
                missing.push(format!("{method} {path}: summary and description"));
            }
            let responses = operation["responses"].as_object().expect("responses");
            let has_error = responses
                .keys()
                .any(|code| code.starts_with('4') || code.starts_with('5'));
            let public = path.ends_with("/ping") || path.ends_with("/log_out");
            if !has_error && !public {
                missing.push(format!("{method} {path}: error responses"));
            }
        }
    }
    for (method, path) in registered_routes() {
        if !documented.contains(&(method.clone(), path.clone())) {
            missing.push(format!("{method} {path}: not in the OpenAPI description"));
        }
    }
    assert!(missing.is_empty(), "undocumented:\n{}", missing.join("\n"));
    assert!(
        documented.len() >= 70,
        "only {} operations documented",
        documented.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_and_explorer_are_served_offline() {
    let app = TestApp::start().await;
    let res = app
        .request(Method::GET, "/api/v2.0/openapi.json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let served: Value = res.json().await.unwrap();
    let generated: Value = serde_json::from_str(&ApiDoc::openapi().to_json().unwrap()).unwrap();
    assert_eq!(served, generated);
    let res = app
        .request(Method::GET, "/api/v2.0/swagger/")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("swagger"), "the explorer page is served");
    for script in page.split("src=\"").skip(1) {
        assert!(
            !script.starts_with("http"),
            "the explorer loads nothing from outside: {script}"
        );
    }
    let res = app
        .request(Method::GET, "/api/v2.0/swagger/swagger-ui-bundle.js")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "assets come from the binary");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_methods_get_405_with_allow() {
    let app = TestApp::start().await;
    let res = app
        .admin(Method::PATCH, "/api/v2.0/ping")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&res, "allow"), "GET");
    assert_eq!(error_code(res).await, "METHOD_NOT_ALLOWED");
    let res = app
        .admin(Method::PATCH, "/api/v2.0/projects/p1/members/3")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "allow"), "GET, PUT, DELETE");
    let res = app
        .admin(Method::GET, "/api/v2.0/nothing/here")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literal_paths_beside_ids_and_login_forms_answer_precisely() {
    let app = TestApp::start().await;
    let res = app
        .admin(Method::PUT, "/api/v2.0/users/current")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "not read as /users/{{user_id}}"
    );
    let res = app
        .request(Method::DELETE, "/c/log_out")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let res = app
        .request(Method::POST, "/c/login")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(res).await, "UNSUPPORTED_MEDIA_TYPE");
}
