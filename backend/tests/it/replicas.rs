//! Several `serve` replicas on one database agree at once on which credentials still work.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// A Basic call to the REST API on `app`, as `user` with `password`.
async fn status_as(app: &TestApp, user: &str, password: &str) -> StatusCode {
    app.request(Method::GET, "/api/v2.0/users/current/permissions")
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
        .status()
}

/// A Basic pull on `/v2` (the path docker and CI clients take).
async fn pull_status(app: &TestApp, user: &str, password: &str, digest: &str) -> StatusCode {
    app.request(Method::GET, &format!("/v2/p1/app/manifests/{digest}"))
        .basic_auth(user, Some(password))
        .header("Accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap()
        .status()
}

async fn create_pull_robot(app: &TestApp, name: &str) -> (i64, String, String) {
    let res = app
        .admin(Method::POST, "/api/v2.0/robots")
        .json(&json!({
            "name": name, "level": "project", "duration": -1,
            "permissions": [{"kind": "project", "namespace": "p1",
                "access": [{"resource": "repository", "action": "pull"}]}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    (
        body["id"].as_i64().unwrap(),
        body["name"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_robot_is_refused_at_once_by_another_replica() {
    let a = TestApp::start().await;
    let b = a.replica().await;
    a.create_project("p1", false).await;
    let digest = a.push_m1("p1/app", "v1").await;

    let (id, name, secret) = create_pull_robot(&a, "ci").await;
    assert_eq!(
        pull_status(&b, &name, &secret, &digest).await,
        StatusCode::OK
    );
    assert_eq!(status_as(&b, &name, &secret).await, StatusCode::OK);
    let res = a
        .admin(Method::PUT, &format!("/api/v2.0/robots/{id}"))
        .json(&json!({"disable": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        pull_status(&b, &name, &secret, &digest).await,
        StatusCode::UNAUTHORIZED,
        "disabled on A, refused by B on its next request"
    );
    assert_eq!(
        status_as(&b, &name, &secret).await,
        StatusCode::UNAUTHORIZED
    );

    let res = a
        .admin(Method::PUT, &format!("/api/v2.0/robots/{id}"))
        .json(&json!({"disable": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        status_as(&b, &name, &secret).await,
        StatusCode::OK,
        "enabled again"
    );
    let res = a
        .admin(Method::PATCH, &format!("/api/v2.0/robots/{id}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let refreshed: Value = res.json().await.unwrap();
    let new_secret = refreshed["secret"].as_str().unwrap();
    assert_eq!(
        status_as(&b, &name, &secret).await,
        StatusCode::UNAUTHORIZED,
        "the old secret stops working on B"
    );
    assert_eq!(status_as(&b, &name, new_secret).await, StatusCode::OK);

    let res = a
        .admin(Method::DELETE, &format!("/api/v2.0/robots/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        status_as(&b, &name, new_secret).await,
        StatusCode::UNAUTHORIZED,
        "deleted on A, refused by B"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_user_is_refused_at_once_by_another_replica() {
    let a = TestApp::start().await;
    let b = a.replica().await;
    a.create_user("u1").await;
    a.create_user("u2").await;
    assert_eq!(status_as(&b, "u1", USER_PASSWORD).await, StatusCode::OK);
    assert_eq!(status_as(&b, "u2", USER_PASSWORD).await, StatusCode::OK);

    let users: Value = a
        .admin(Method::GET, "/api/v2.0/users?q=username%3Du1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let u1 = users[0]["user_id"].as_i64().unwrap();
    let res = a
        .admin(Method::PUT, &format!("/api/v2.0/users/{u1}/password"))
        .json(&json!({"new_password": "Changed12345"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        status_as(&b, "u1", USER_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "the old password stops working on B"
    );
    assert_eq!(status_as(&b, "u1", "Changed12345").await, StatusCode::OK);

    let res = a
        .admin(Method::PUT, &format!("/api/v2.0/users/{u1}/sysadmin"))
        .json(&json!({"sysadmin_flag": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = b
        .request(Method::GET, "/api/v2.0/users/current")
        .basic_auth("u1", Some("Changed12345"))
        .send()
        .await
        .unwrap();
    let current: Value = res.json().await.unwrap();
    assert_eq!(
        current["sysadmin_flag"], true,
        "B sees the new rights at once"
    );

    let users: Value = a
        .admin(Method::GET, "/api/v2.0/users?q=username%3Du2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let u2 = users[0]["user_id"].as_i64().unwrap();
    let res = a
        .admin(Method::DELETE, &format!("/api/v2.0/users/{u2}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        status_as(&b, "u2", USER_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "deleted on A, refused by B"
    );
}

/// On SQLite, a push waits for a write transaction another connection holds (another process on
/// the same file, say) and lands once it ends, rather than failing with "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_waits_for_a_write_lock_held_elsewhere() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::start().await;
    let url = app.state.config.database_url();
    if !url.starts_with("sqlite:") {
        return;
    }
    app.create_project("p1", false).await;
    let other = sea_orm::Database::connect(&url).await.unwrap();
    let held = berth::db::begin_write(&other).await.unwrap();
    held.execute_unprepared("UPDATE projects SET name = name")
        .await
        .unwrap();
    let push = tokio::spawn(async move {
        let digest = app.push_m1("p1/app", "v1").await;
        (app, digest)
    });
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(!push.is_finished(), "the push waited for the lock");
    held.commit().await.unwrap();
    let (app, digest) = push
        .await
        .expect("the push landed once the lock was released");
    let res = app
        .admin(Method::GET, "/v2/p1/app/manifests/v1")
        .header("Accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "Docker-Content-Digest"), digest);
}
