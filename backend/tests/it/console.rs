//! What the console relies on: its files and client routes at `/`, the API prefixes never
//! shadowed, and the shared `berth-api-types` reading the server's real responses.

use berth_api_types::{GeneralInfo, Project, ProjectMember, ProjectSummary, User};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_routes_get_the_console_and_api_prefixes_do_not() {
    let app = TestApp::start().await;
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../frontend/dist/index.html")
        .exists();
    for route in [
        "/",
        "/projects",
        "/projects/my.project/members",
        "/admin/users",
    ] {
        let res = app.request(Method::GET, route).send().await.unwrap();
        if built {
            assert_eq!(res.status(), StatusCode::OK, "{route}");
            assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
            assert_eq!(res.headers()["cache-control"], "no-cache");
            assert!(
                res.text().await.unwrap().contains("berth_console-"),
                "{route}"
            );
        } else {
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{route}");
            assert!(
                res.text()
                    .await
                    .unwrap()
                    .contains("scripts/build-frontend.sh")
            );
        }
    }
    for reserved in [
        "/api/v2.0/nothing",
        "/api/other",
        "/c/no-such-page",
        "/service/other",
    ] {
        let res = app.request(Method::GET, reserved).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{reserved}");
        assert_eq!(error_code(res).await, "NOT_FOUND", "{reserved}");
    }
    let res = app
        .request(Method::GET, "/berth_console-0000_bg.wasm")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "a missing asset is not the index page"
    );
    let res = app.request(Method::POST, "/projects").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.request(Method::GET, "/v2/").send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "/v2/ still answers as the registry"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systeminfo_tells_anonymous_callers_only_how_to_sign_in() {
    let app = TestApp::start_with(|c| c.auth.self_registration = true).await;
    let res = app
        .request(Method::GET, "/api/v2.0/systeminfo")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let info: GeneralInfo = res.json().await.unwrap();
    assert_eq!(info.auth_mode, "db_auth");
    assert!(info.harbor_version.starts_with("berth-"));
    assert!(info.self_registration);
    assert_eq!(info.project_creation_restriction, None);

    let res = app
        .admin(Method::GET, "/api/v2.0/systeminfo")
        .send()
        .await
        .unwrap();
    let info: GeneralInfo = res.json().await.unwrap();
    assert_eq!(
        info.project_creation_restriction.as_deref(),
        Some("everyone")
    );
    assert_eq!(info.read_only, Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_counts_members_repositories_and_storage() {
    let app = TestApp::start().await;
    let res = app
        .admin(Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "sum", "storage_limit": 1_073_741_824_i64}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    app.create_user("dev1").await;
    app.add_member("sum", "dev1", 2).await;
    app.create_user("guest1").await;
    app.add_member("sum", "guest1", 3).await;

    let empty: ProjectSummary = app
        .admin(Method::GET, "/api/v2.0/projects/sum/summary")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(empty.repo_count, 0);
    assert_eq!(
        empty
            .quota
            .as_ref()
            .map(|q| (q.hard.storage, q.used.storage)),
        Some((1_073_741_824, 0))
    );

    app.push_m1("sum/app", "v1").await;
    let res = app
        .as_user("dev1", Method::GET, "/api/v2.0/projects/sum/summary")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let summary: ProjectSummary = res.json().await.unwrap();
    assert_eq!(summary.repo_count, 1);
    assert_eq!(
        (
            summary.project_admin_count,
            summary.developer_count,
            summary.guest_count
        ),
        (1, 1, 1)
    );
    assert_eq!(
        (summary.maintainer_count, summary.limited_guest_count),
        (0, 0)
    );
    let used = summary.quota.map(|q| q.used.storage);
    assert!(
        used.is_some_and(|u| u >= (CFG.len() + L1.len()) as i64),
        "{used:?}"
    );

    app.create_user("outsider").await;
    let res = app
        .as_user("outsider", Method::GET, "/api/v2.0/projects/sum/summary")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_types_read_the_servers_responses() {
    // Regression: `page` in the project list's flattened query was refused as a string.
    let app = TestApp::start().await;
    app.create_project("shapes", true).await;
    app.create_user("m1").await;
    app.add_member("shapes", "m1", 4).await;

    let me: User = app
        .admin(Method::GET, "/api/v2.0/users/current")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me.username, "admin");
    assert!(me.sysadmin_flag);
    assert!(me.creation_time.ends_with('Z'), "{}", me.creation_time);

    let projects: Vec<Project> = app
        .as_user(
            "m1",
            Method::GET,
            "/api/v2.0/projects?name=shapes&page=1&page_size=15",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(projects.len(), 1);
    assert!(projects[0].is_public());
    assert_eq!(projects[0].current_user_role_ids, vec![4]);

    let members: Vec<ProjectMember> = app
        .admin(Method::GET, "/api/v2.0/projects/shapes/members")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<_> = members
        .iter()
        .map(|m| (m.entity_name.as_str(), m.role_id))
        .collect();
    assert_eq!(names, vec![("admin", 1), ("m1", 4)]);
}
