//! The REST API: projects, users and members, in Harbor's shapes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_are_created_listed_and_guarded() {
    let app = TestApp::start().await;
    app.create_project("team", false).await;
    let res = app
        .admin(Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "team"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(res).await, "CONFLICT");
    for bad in ["Team", "my team", "-x", ""] {
        let res = app
            .admin(Method::POST, "/api/v2.0/projects")
            .json(&json!({"project_name": bad}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(error_code(res).await, "BAD_REQUEST");
    }
    let res = app
        .admin(Method::POST, "/api/v2.0/projects")
        .body("{not json")
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "BAD_REQUEST");

    app.create_user("u1").await;
    let res = app
        .as_user("u1", Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "mine", "metadata": {"public": "true"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .as_user("u1", Method::GET, "/api/v2.0/projects")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-total-count"), "1");
    let list: Value = res.json().await.unwrap();
    assert_eq!(list[0]["name"], "mine");
    assert_eq!(list[0]["metadata"]["public"], "true");
    assert_eq!(list[0]["current_user_role_id"], 1);
    assert_eq!(list[0]["owner_name"], "u1");

    let res = app
        .as_user("u1", Method::GET, "/api/v2.0/projects/team")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "private projects stay hidden from non-members"
    );
    let res = app
        .request(Method::GET, "/api/v2.0/projects/team")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .request(Method::GET, "/api/v2.0/projects/mine")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "public projects are readable anonymously"
    );

    let res = app
        .admin(Method::GET, "/api/v2.0/projects?page_size=1")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-total-count"), "2");
    assert!(header(&res, "link").contains("page=2"));
    let res = app
        .admin(
            Method::GET,
            "/api/v2.0/projects?public=true&page=1&page_size=5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "typed filters beside paging");
    let list: Value = res.json().await.unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["name"], "mine");
    let res = app
        .admin(Method::GET, "/api/v2.0/projects?page_size=many")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "BAD_REQUEST");

    app.push_m1("team/app", "v1").await;
    let res = app
        .admin(Method::DELETE, "/api/v2.0/projects/team")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    let res = app
        .admin(Method::GET, "/api/v2.0/projects/team")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["repo_count"], 1);
    let res = app
        .as_user("u1", Method::DELETE, "/api/v2.0/projects/mine")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .admin(Method::HEAD, "/api/v2.0/projects?project_name=mine")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_members() {
    let app = TestApp::start().await;
    let res = app
        .admin(Method::POST, "/api/v2.0/users")
        .json(&json!({"username": "weak", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    app.create_user("u1").await;
    app.create_user("u2").await;
    let res = app
        .as_user("u1", Method::POST, "/api/v2.0/users")
        .json(&json!({"username": "u3", "password": USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let me: Value = app
        .as_user("u1", Method::GET, "/api/v2.0/users/current")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "u1");
    assert_eq!(me["sysadmin_flag"], false);
    assert!(me.get("password_hash").is_none());

    app.create_project("proj", false).await;
    app.add_member("proj", "u1", 1).await;
    // A project admin manages members; a guest does not.
    let res = app
        .as_user("u1", Method::POST, "/api/v2.0/projects/proj/members")
        .json(&json!({"role_id": 3, "member_user": {"username": "u2"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let members: Value = app
        .as_user("u2", Method::GET, "/api/v2.0/projects/proj/members")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let u2 = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["entity_name"] == "u2")
        .unwrap()
        .clone();
    assert_eq!(u2["role_name"], "guest");
    let res = app
        .as_user("u2", Method::POST, "/api/v2.0/projects/proj/members")
        .json(&json!({"role_id": 1, "member_user": {"username": "u2"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .admin(
            Method::PUT,
            &format!("/api/v2.0/projects/proj/members/{}", u2["id"]),
        )
        .json(&json!({"role_id": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .as_user("u2", Method::POST, "/v2/proj/app/blobs/uploads/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::ACCEPTED,
        "developer may push after the role change"
    );
    let res = app
        .admin(Method::POST, "/api/v2.0/projects/proj/members")
        .json(&json!({"role_id": 9, "member_user": {"username": "u2"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_ping() {
    let app = TestApp::start().await;
    let res = app
        .request(Method::GET, "/api/v2.0/ping")
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "Pong");
    let body: Value = app
        .request(Method::GET, "/api/v2.0/health")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["components"].as_array().unwrap().len(), 2);
}
