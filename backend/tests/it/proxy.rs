//! Proxy-cache projects against a real upstream (a second Berth server): case B29 and the
//! registry endpoint API.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// Creates a registry endpoint for `upstream` (private projects, so the token flow with the
/// administrator's credentials is exercised) and returns its id.
async fn endpoint(proxy: &TestApp, upstream_url: &str) -> i64 {
    let res = proxy
        .admin(Method::POST, "/api/v2.0/registries")
        .json(&json!({
            "name": "upstream",
            "type": "berth",
            "url": upstream_url,
            "credential": {"type": "basic", "access_key": "admin", "access_secret": ADMIN_PASSWORD}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    header(&res, "location")
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn pull(proxy: &TestApp, method: Method, path: &str) -> reqwest::Response {
    proxy.admin(method, path).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b29_proxy_cache_revalidates_tags_and_serves_stale_only_when_upstream_is_down() {
    let upstream = TestApp::start().await;
    upstream.create_project("lib", false).await;
    let d1 = upstream.push_m1("lib/app", "latest").await;

    let proxy = TestApp::start().await;
    let registry_id = endpoint(&proxy, &upstream.base).await;
    let res = proxy
        .admin(Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "px", "registry_id": registry_id, "metadata": {"public": "false"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let project: Value = pull(&proxy, Method::GET, "/api/v2.0/projects/px")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(project["registry_id"], json!(registry_id));

    // 2. The first pull by tag fetches from the upstream.
    let res = pull(&proxy, Method::GET, "/v2/px/lib/app/manifests/latest").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "docker-content-digest"), d1);
    assert_eq!(header(&res, "content-type"), OCI_MANIFEST);
    assert_eq!(res.text().await.unwrap(), m1());

    // Blobs stream through and are kept.
    let layer = format!("/v2/px/lib/app/blobs/{}", digest(L1));
    let res = pull(&proxy, Method::HEAD, &layer).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-length"), L1.len().to_string());
    let res = pull(&proxy, Method::GET, &layer).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "docker-content-digest"), digest(L1));
    assert_eq!(res.bytes().await.unwrap().as_ref(), L1);
    let config = format!("/v2/px/lib/app/blobs/{}", digest(CFG));
    assert_eq!(
        pull(&proxy, Method::GET, &config)
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        CFG
    );

    // 3-4. The upstream tag moves: the next pull sees it at once.
    let d2 = upstream
        .put_manifest("lib/app", "latest", OCI_MANIFEST, m2().into_bytes())
        .await;
    assert_ne!(d1, d2);
    let res = pull(&proxy, Method::GET, "/v2/px/lib/app/manifests/latest").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "docker-content-digest"), d2);
    assert_eq!(res.text().await.unwrap(), m2());

    // 5. The old content stays available by digest.
    let res = pull(
        &proxy,
        Method::GET,
        &format!("/v2/px/lib/app/manifests/{d1}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "docker-content-digest"), d1);

    // 8. HEAD carries GET's headers (B07) with the upstream's media type.
    let get = pull(&proxy, Method::GET, "/v2/px/lib/app/manifests/latest").await;
    let head = pull(&proxy, Method::HEAD, "/v2/px/lib/app/manifests/latest").await;
    assert_eq!(head.status(), StatusCode::OK);
    for name in [
        "content-type",
        "docker-content-digest",
        "content-length",
        "etag",
    ] {
        assert_eq!(header(&head, name), header(&get, name), "{name}");
    }

    // Nothing is pushed or deleted through a cache.
    let res = proxy
        .admin(Method::POST, "/v2/px/lib/app/blobs/uploads/")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(res).await, "DENIED");
    let res = pull(
        &proxy,
        Method::DELETE,
        &format!("/v2/px/lib/app/manifests/{d1}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // 6. Upstream gone: the cached tag and blobs are served, never a 5xx.
    let upstream_dir = upstream.stop().await;
    let res = pull(&proxy, Method::GET, "/v2/px/lib/app/manifests/latest").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "docker-content-digest"), d2);
    assert_eq!(
        pull(&proxy, Method::GET, &layer)
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        L1
    );
    let res = pull(&proxy, Method::GET, "/v2/px/lib/app/manifests/other").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "MANIFEST_UNKNOWN");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("unavailable"), "{message}");
    let res = pull(
        &proxy,
        Method::GET,
        &format!("/v2/px/lib/app/blobs/{}", digest(b"x")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(res).await, "BLOB_UNKNOWN");

    // 7. The cached artifact is deleted; with the upstream back (at a new address, so the
    // endpoint is updated) the tag is fetched afresh.
    let res = proxy
        .admin(
            Method::DELETE,
            &format!("/api/v2.0/projects/px/repositories/lib%2Fapp/artifacts/{d2}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let upstream = TestApp::start_in(upstream_dir, |_| {}).await;
    let res = proxy
        .admin(Method::PUT, &format!("/api/v2.0/registries/{registry_id}"))
        .json(&json!({"url": upstream.base}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = pull(&proxy, Method::GET, "/v2/px/lib/app/manifests/latest").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "docker-content-digest"), d2);
    let res = pull(
        &proxy,
        Method::GET,
        "/api/v2.0/projects/px/repositories/lib%2Fapp/artifacts?with_tag=true",
    )
    .await;
    let artifacts: Value = res.json().await.unwrap();
    let listed: Vec<&str> = artifacts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["digest"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&d2.as_str()), "{artifacts}");

    // An upstream tag that disappears is gone from the cache's answers too.
    let res = upstream
        .admin(Method::DELETE, "/v2/lib/app/manifests/latest")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = pull(&proxy, Method::GET, "/v2/px/lib/app/manifests/latest").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(res).await, "MANIFEST_UNKNOWN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_endpoints_keep_secrets_and_report_what_fails() {
    let upstream = TestApp::start().await;
    let proxy = TestApp::start().await;
    let id = endpoint(&proxy, &upstream.base).await;

    // The secret is write-only.
    let res = pull(&proxy, Method::GET, &format!("/api/v2.0/registries/{id}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["credential"]["access_secret"], "*****");
    assert_eq!(view["credential"]["access_key"], "admin");
    assert_eq!(view["type"], "berth");
    let list = pull(&proxy, Method::GET, "/api/v2.0/registries?q=name%3D~up").await;
    assert_eq!(header(&list, "x-total-count"), "1");
    assert!(!list.text().await.unwrap().contains(ADMIN_PASSWORD));

    // Ping: a stored endpoint, a wrong secret, an address with no registry.
    let ping = |body: Value| {
        proxy
            .admin(Method::POST, "/api/v2.0/registries/ping")
            .json(&body)
            .send()
    };
    assert_eq!(
        ping(json!({"id": id})).await.unwrap().status(),
        StatusCode::OK
    );
    let res = ping(json!({"id": id, "access_secret": "wrong-secret"}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("refused"), "{message}");
    let res = ping(json!({"type": "docker-registry", "url": "http://127.0.0.1:9"}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("unavailable"), "{message}");

    // Bad input.
    let res = proxy
        .admin(Method::POST, "/api/v2.0/registries")
        .json(&json!({"name": "x", "type": "aws-ecr", "url": "https://example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = proxy
        .admin(Method::POST, "/api/v2.0/registries")
        .json(&json!({"name": "y", "type": "harbor", "url": "ftp://example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = proxy
        .admin(Method::POST, "/api/v2.0/registries")
        .json(&json!({"name": "upstream", "type": "harbor", "url": "https://example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = proxy
        .admin(Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "nope", "registry_id": 999}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Only administrators create proxy projects or see endpoints.
    proxy.create_user("dev").await;
    let res = proxy
        .as_user("dev", Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "mine", "registry_id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = proxy
        .as_user("dev", Method::GET, "/api/v2.0/registries")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // An endpoint in use is not deleted.
    let res = proxy
        .admin(Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "px", "registry_id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = pull(
        &proxy,
        Method::DELETE,
        &format!("/api/v2.0/registries/{id}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    let res = pull(&proxy, Method::DELETE, "/api/v2.0/projects/px").await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = pull(
        &proxy,
        Method::DELETE,
        &format!("/api/v2.0/registries/{id}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}
