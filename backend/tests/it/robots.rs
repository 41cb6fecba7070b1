//! Robot accounts, console sessions and login lockout.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

fn pull_push(project: &str, actions: &[&str]) -> Value {
    json!([{
        "kind": "project",
        "namespace": project,
        "access": actions.iter().map(|a| json!({"resource": "repository", "action": a})).collect::<Vec<_>>()
    }])
}

async fn create_robot(app: &TestApp, body: Value) -> Value {
    let res = app
        .admin(Method::POST, "/api/v2.0/robots")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "create robot");
    assert!(header(&res, "location").starts_with("/api/v2.0/robots/"));
    res.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_robot_pulls_within_its_permissions() {
    let app = TestApp::start().await;
    app.create_project("p1", false).await;
    let digest = app.push_m1("p1/app", "v1").await;
    let created = create_robot(
        &app,
        json!({"name": "ci", "level": "project", "duration": -1, "permissions": pull_push("p1", &["pull"])}),
    )
    .await;
    assert_eq!(created["name"], "robot$p1+ci");
    assert_eq!(created["expires_at"], -1);
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();
    let robot = ("robot$p1+ci", secret.as_str());

    let token = app
        .token_string(Some(robot), &["repository:p1/app:pull,push"])
        .await;
    assert_eq!(
        access_claim(&token),
        json!([{"type": "repository", "name": "p1/app", "actions": ["pull"]}])
    );
    let res = app
        .request(Method::GET, &format!("/v2/p1/app/manifests/{digest}"))
        .basic_auth(robot.0, Some(robot.1))
        .header("Accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .request(Method::PUT, "/v2/p1/app/manifests/v2")
        .basic_auth(robot.0, Some(robot.1))
        .header("Content-Type", OCI_MANIFEST)
        .body(m1())
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "pull-only robot cannot push"
    );

    let res = app
        .admin(Method::GET, &format!("/api/v2.0/robots/{id}"))
        .send()
        .await
        .unwrap();
    let shown: Value = res.json().await.unwrap();
    assert!(
        shown.get("secret").is_none(),
        "the secret is shown only once"
    );
    assert_eq!(shown["level"], "project");
    assert_eq!(shown["permissions"][0]["access"][0]["action"], "pull");
    let res = app
        .admin(Method::GET, "/api/v2.0/robots?q=Level=project,name=~ci")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-total-count"), "1");

    let res = app
        .admin(Method::PATCH, &format!("/api/v2.0/robots/{id}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let refreshed: Value = res.json().await.unwrap();
    let new_secret = refreshed["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(
        app.token(Some(robot), &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.token(Some((robot.0, &new_secret)), &[]).await.status(),
        StatusCode::OK
    );

    let res = app
        .admin(Method::PUT, &format!("/api/v2.0/robots/{id}"))
        .json(&json!({"disable": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.token(Some((robot.0, &new_secret)), &[]).await.status(),
        StatusCode::UNAUTHORIZED,
        "disabled robots cannot log in"
    );
    let res = app
        .admin(Method::PUT, &format!("/api/v2.0/robots/{id}"))
        .json(&json!({"level": "system"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "the level cannot change"
    );

    let res = app
        .admin(Method::DELETE, &format!("/api/v2.0/robots/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .admin(Method::GET, &format!("/api/v2.0/robots/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_requests_are_validated() {
    let app = TestApp::start().await;
    app.create_project("p1", false).await;
    let cases = [
        (
            json!({"name": "Bad Name", "level": "project", "permissions": pull_push("p1", &["pull"])}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"name": "x", "level": "project", "permissions": pull_push("p1", &["fly"])}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"name": "x", "level": "project", "permissions": pull_push("nope", &["pull"])}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"name": "x", "level": "project", "duration": -5, "permissions": pull_push("p1", &["pull"])}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"name": "x", "level": "project", "secret": "weak", "permissions": pull_push("p1", &["pull"])}),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, status) in cases {
        let res = app
            .admin(Method::POST, "/api/v2.0/robots")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{body}");
    }
    let ok = json!({"name": "x", "level": "project", "duration": 2, "permissions": pull_push("p1", &["pull"])});
    let created = create_robot(&app, ok.clone()).await;
    let in_two_days = chrono::Utc::now().timestamp() + 2 * 86_400;
    assert!((created["expires_at"].as_i64().unwrap() - in_two_days).abs() < 60);
    let res = app
        .admin(Method::POST, "/api/v2.0/robots")
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);

    app.create_user("dev").await;
    app.add_member("p1", "dev", 2).await;
    let res = app
        .as_user("dev", Method::POST, "/api/v2.0/robots")
        .json(&json!({"name": "y", "level": "project", "permissions": pull_push("p1", &["pull"])}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "developers cannot create robots"
    );
    let res = app
        .as_user("dev", Method::GET, "/api/v2.0/robots")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "only admins list every robot"
    );
    let res = app
        .as_user("dev", Method::GET, "/api/v2.0/robots?q=ProjectID=1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "developers list their project's robots"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_robot_creates_projects_and_robots_within_its_rights() {
    let app = TestApp::start().await;
    let created = create_robot(
        &app,
        json!({
            "name": "deployer",
            "level": "system",
            "permissions": [
                {"kind": "system", "namespace": "/", "access": [
                    {"resource": "project", "action": "create"},
                    {"resource": "robot", "action": "create"}
                ]},
                {"kind": "project", "namespace": "*", "access": [
                    {"resource": "repository", "action": "pull"},
                    {"resource": "robot", "action": "create"}
                ]}
            ]
        }),
    )
    .await;
    assert_eq!(created["name"], "robot$deployer");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let as_robot = |method: Method, path: &str| {
        app.request(method, path)
            .basic_auth("robot$deployer", Some(&secret))
    };

    let res = as_robot(Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "made-by-robot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = app
        .token_string(
            Some(("robot$deployer", &secret)),
            &["repository:made-by-robot/app:push,pull"],
        )
        .await;
    assert_eq!(
        access_claim(&token)[0]["actions"],
        json!(["pull", "push"]),
        "a robot that creates a project administers it"
    );
    let res = as_robot(Method::GET, "/api/v2.0/projects/made-by-robot/members")
        .send()
        .await
        .unwrap();
    let members: Value = res.json().await.unwrap();
    assert_eq!(members[0]["entity_name"], "robot$deployer");
    assert_eq!(members[0]["entity_type"], "r");

    app.create_project("other", false).await;
    let narrower = json!({"name": "puller", "level": "project",
        "permissions": pull_push("other", &["pull"])});
    let res = as_robot(Method::POST, "/api/v2.0/robots")
        .json(&narrower)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let wider = json!({"name": "pusher", "level": "project",
        "permissions": pull_push("other", &["pull", "push"])});
    let res = as_robot(Method::POST, "/api/v2.0/robots")
        .json(&wider)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "robots cannot grant beyond their rights"
    );
    let res = as_robot(Method::GET, "/api/v2.0/users")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sessions_need_csrf_tokens_for_changes() {
    let app = TestApp::start().await;
    let res = app
        .request(Method::POST, "/c/login")
        .form(&[("principal", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let sid = cookies
        .iter()
        .find(|c| c.starts_with("sid="))
        .expect("sid cookie");
    assert!(sid.contains("HttpOnly"));
    let csrf = header(&res, "x-harbor-csrf-token");
    let sid_pair = sid.split(';').next().unwrap().to_owned();

    let res = app
        .request(Method::GET, "/api/v2.0/users/current")
        .header("Cookie", &sid_pair)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["username"], "admin");
    let res = app
        .request(Method::POST, "/api/v2.0/projects")
        .header("Cookie", &sid_pair)
        .json(&json!({"project_name": "viaweb"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let res = app
        .request(Method::POST, "/api/v2.0/projects")
        .header("Cookie", &sid_pair)
        .header("X-Harbor-CSRF-Token", &csrf)
        .json(&json!({"project_name": "viaweb"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let res = app
        .request(Method::GET, "/c/log_out")
        .header("Cookie", &sid_pair)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .request(Method::GET, "/api/v2.0/users/current")
        .header("Cookie", &sid_pair)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the session ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_lock_the_account() {
    let app = TestApp::start_with(|c| {
        c.auth.login_max_failures = 3;
        c.auth.login_lockout_seconds = 60;
    })
    .await;
    app.create_user("u1").await;
    for _ in 0..3 {
        let res = app
            .request(Method::POST, "/c/login")
            .form(&[("principal", "u1"), ("password", "Wrong12345")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .request(Method::POST, "/c/login")
        .form(&[("principal", "u1"), ("password", USER_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked even with the right password"
    );
    assert_retry_after(&res, 60);
    assert_eq!(error_code(res).await, "TOO_MANY_REQUESTS");
    let res = app.token(Some(("u1", USER_PASSWORD)), &[]).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the lock holds on every login path"
    );
    assert_retry_after(&res, 60);
    let res = app
        .as_user("u1", Method::GET, "/api/v2.0/users/current")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "Basic on the REST API"
    );
    assert_retry_after(&res, 60);
    let res = app.as_user("u1", Method::GET, "/v2/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "Basic on /v2");
    assert_retry_after(&res, 60);
    assert_eq!(error_code(res).await, "TOOMANYREQUESTS");
    let res = app.token(Some(("admin", ADMIN_PASSWORD)), &[]).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "other accounts are unaffected"
    );
}

/// A 429 says in whole seconds, at most the lockout, when to come back.
fn assert_retry_after(res: &reqwest::Response, lockout_seconds: u64) {
    let seconds: u64 = header(res, "retry-after")
        .parse()
        .expect("Retry-After is delay-seconds");
    assert!(
        (1..=lockout_seconds).contains(&seconds),
        "Retry-After {seconds} within the lockout of {lockout_seconds}s"
    );
}
