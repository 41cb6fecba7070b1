//! Token flow and challenges: cases B16, B18 and B19, and the request id.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b18_challenges_name_the_realm_and_the_scope() {
    let app = TestApp::start().await;
    app.create_project("proj", false).await;
    let res = app.request(Method::GET, "/v2/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&res, "docker-distribution-api-version"),
        "registry/2.0"
    );
    assert_eq!(
        header(&res, "www-authenticate"),
        format!(
            "Bearer realm=\"{}/service/token\",service=\"berth\"",
            app.base
        )
    );
    assert_eq!(error_code(res).await, "UNAUTHORIZED");

    let res = app
        .request(Method::GET, "/v2/proj/app/manifests/v1")
        .send()
        .await
        .unwrap();
    assert!(header(&res, "www-authenticate").ends_with(",scope=\"repository:proj/app:pull\""));

    // Behind a proxy, the forwarded scheme and host make the realm.
    let res = app
        .request(Method::GET, "/v2/")
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "registry.example.test")
        .send()
        .await
        .unwrap();
    assert!(
        header(&res, "www-authenticate")
            .starts_with("Bearer realm=\"https://registry.example.test/service/token\"")
    );

    // A configured external URL wins over any Host header.
    let app = TestApp::start_with(|c| {
        c.server.external_url = Some("https://registry.example.test".into())
    })
    .await;
    let res = app
        .request(Method::GET, "/v2/")
        .header("Host", "internal-core:8080")
        .send()
        .await
        .unwrap();
    assert!(
        header(&res, "www-authenticate")
            .starts_with("Bearer realm=\"https://registry.example.test/service/token\"")
    );
    app.create_project("proj", false).await;
    let token = app
        .token_string(
            Some(("admin", ADMIN_PASSWORD)),
            &["repository:proj/app:pull"],
        )
        .await;
    let res = app
        .request(Method::POST, "/v2/proj/app/blobs/uploads/")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&res, "www-authenticate"),
        "Bearer realm=\"https://registry.example.test/service/token\",service=\"berth\",\
         scope=\"repository:proj/app:pull,push\",error=\"insufficient_scope\""
    );
    let res = app
        .request(Method::GET, "/service/token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b16_several_scopes_in_one_token() {
    let app = TestApp::start().await;
    for p in ["proja", "projb", "projc"] {
        app.create_project(p, false).await;
    }
    app.create_user("u1").await;
    app.add_member("projb", "u1", 2).await;
    app.add_member("proja", "u1", 3).await;
    let d = app.upload("proja/src", L1).await;

    let scopes = ["repository:projb/x:pull,push", "repository:proja/src:pull"];
    let token = app.token_string(Some(("u1", USER_PASSWORD)), &scopes).await;
    let access = access_claim(&token);
    assert!(
        access
            .as_array()
            .unwrap()
            .contains(&json!({"type":"repository","name":"projb/x","actions":["pull","push"]}))
    );
    assert!(
        access
            .as_array()
            .unwrap()
            .contains(&json!({"type":"repository","name":"proja/src","actions":["pull"]}))
    );
    let res = app
        .request(
            Method::POST,
            &format!("/v2/projb/x/blobs/uploads/?mount={d}&from=proja/src"),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let joined = app
        .token_string(Some(("u1", USER_PASSWORD)), &[&scopes.join(" ")])
        .await;
    assert_eq!(access_claim(&joined), access);

    let union = app
        .token_string(
            Some(("u1", USER_PASSWORD)),
            &["repository:projb/x:pull", "repository:projb/x:pull,push"],
        )
        .await;
    assert_eq!(
        access_claim(&union),
        json!([{"type":"repository","name":"projb/x","actions":["pull","push"]}])
    );

    let denied = app
        .token_string(Some(("u1", USER_PASSWORD)), &["repository:projc/y:push"])
        .await;
    assert_eq!(access_claim(&denied), json!([]));
    let res = app
        .request(Method::POST, "/v2/projc/y/blobs/uploads/")
        .bearer_auth(&denied)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&res, "www-authenticate").contains("error=\"insufficient_scope\""));

    let res = app
        .request(Method::POST, "/service/token")
        .form(&[
            ("grant_type", "password"),
            ("service", "berth"),
            ("client_id", "test"),
            ("username", "u1"),
            ("password", USER_PASSWORD),
            ("scope", &scopes.join(" ")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(access_claim(body["access_token"].as_str().unwrap()), access);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b19_anonymous_pull_of_public_projects_only() {
    let app = TestApp::start().await;
    app.create_project("pub", true).await;
    app.create_project("priv", false).await;
    let d = app.push_m1("pub/app", "v1").await;
    app.push_m1("priv/app", "v1").await;

    let res = app
        .request(Method::GET, "/v2/pub/app/manifests/v1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&res, "www-authenticate").contains("scope=\"repository:pub/app:pull\""));

    let token = app
        .token_string(None, &["repository:pub/app:pull,push"])
        .await;
    assert_eq!(
        access_claim(&token),
        json!([{"type":"repository","name":"pub/app","actions":["pull"]}])
    );
    for path in [
        "/v2/pub/app/manifests/v1".to_owned(),
        format!("/v2/pub/app/blobs/{}", digest(L1)),
        "/v2/pub/app/tags/list".to_owned(),
        format!("/v2/pub/app/referrers/{d}"),
    ] {
        let res = app
            .request(Method::GET, &path)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let res = app
        .request(Method::POST, "/v2/pub/app/blobs/uploads/")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&res, "www-authenticate").contains("insufficient_scope"));

    let token = app.token_string(None, &["repository:priv/app:pull"]).await;
    assert_eq!(access_claim(&token), json!([]));
    let res = app
        .request(Method::GET, "/v2/priv/app/manifests/v1")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    app.create_user("u1").await;
    let res = app
        .token(Some(("u1", "Wrong12345")), &["repository:pub/app:pull"])
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(res).await, "UNAUTHORIZED");

    let res = app
        .admin(Method::PUT, "/api/v2.0/projects/pub")
        .header("X-Is-Resource-Name", "true")
        .json(&json!({"metadata": {"public": "false"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let token = app.token_string(None, &["repository:pub/app:pull"]).await;
    assert_eq!(access_claim(&token), json!([]));

    // Signing keys survive a restart: tokens issued before still verify.
    let admin_token = app
        .token_string(
            Some(("admin", ADMIN_PASSWORD)),
            &["repository:pub/app:pull"],
        )
        .await;
    let dir = app.stop().await;
    let app = TestApp::start_in(dir, |_| {}).await;
    let res = app
        .request(Method::GET, "/v2/pub/app/manifests/v1")
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_credentials_are_checked_against_roles() {
    let app = TestApp::start().await;
    app.create_project("proj", false).await;
    app.create_user("guest").await;
    app.create_user("dev").await;
    app.create_user("stranger").await;
    app.add_member("proj", "guest", 3).await;
    app.add_member("proj", "dev", 2).await;
    app.push_m1("proj/app", "v1").await;
    let status = |user: &'static str, method: Method, path: &'static str| {
        let req = app.as_user(user, method, path);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(
        status("guest", Method::GET, "/v2/proj/app/manifests/v1").await,
        StatusCode::OK
    );
    assert_eq!(
        status("guest", Method::POST, "/v2/proj/app/blobs/uploads/").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status("dev", Method::POST, "/v2/proj/app/blobs/uploads/").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        status("dev", Method::DELETE, "/v2/proj/app/manifests/v1").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status("stranger", Method::GET, "/v2/proj/app/manifests/v1").await,
        StatusCode::FORBIDDEN
    );
    let res = app
        .request(Method::GET, "/v2/")
        .basic_auth("dev", Some("Wrong12345"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(status("dev", Method::GET, "/v2/").await, StatusCode::OK);

    // The catalog lists only what the caller may read.
    let res = app
        .as_user("stranger", Method::GET, "/v2/_catalog")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["repositories"], json!([]));
    let res = app
        .as_user("guest", Method::GET, "/v2/_catalog")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["repositories"], json!(["proj/app"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id() {
    let app = TestApp::start().await;
    let res = app
        .request(Method::GET, "/v2/")
        .header("X-Request-Id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-request-id"), "trace-me-42");
    let res = app
        .request(Method::GET, "/api/v2.0/nothing")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!header(&res, "x-request-id").is_empty());
    assert_eq!(error_code(res).await, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mount_follows_the_identity_when_the_token_lacks_the_source_scope() {
    let app = TestApp::start().await;
    for p in ["proja", "projb", "projc"] {
        app.create_project(p, false).await;
    }
    app.create_user("u1").await;
    app.add_member("projb", "u1", 2).await;
    app.add_member("proja", "u1", 3).await;
    let d = app.upload("proja/src", L1).await;
    app.upload("projc/secret", L1).await;

    let res = app
        .request(
            Method::POST,
            &format!("/v2/projb/x/blobs/uploads/?mount={d}&from=proja/src"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        header(&res, "www-authenticate")
            .contains("scope=\"repository:projb/x:pull,push repository:proja/src:pull\""),
        "the challenge names the mount source so clients ask for it"
    );

    let token = app
        .token_string(
            Some(("u1", USER_PASSWORD)),
            &["repository:projb/x:pull,push"],
        )
        .await;
    let mount = |from: &'static str| {
        app.request(
            Method::POST,
            &format!("/v2/projb/x/blobs/uploads/?mount={d}&from={from}"),
        )
        .bearer_auth(&token)
        .send()
    };
    let res = mount("proja/src").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "u1 may pull proja/src");
    let res = mount("projc/secret").await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::ACCEPTED,
        "no right on projc: a plain upload session, nothing revealed"
    );
}
