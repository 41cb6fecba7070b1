//! Webhook deliveries to a receiving HTTP server: payload formats, signatures, auth header,
//! retries of failed deliveries, and the executions API.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, header};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    content_type: String,
    authorization: String,
    signature: String,
    raw: Vec<u8>,
    body: Value,
}

/// An HTTP server that records what it receives; it answers 500 to the first `fail_first`
/// requests, then 200.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    fn start(fail_first: usize) -> Self {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = Arc::new(Mutex::new(0usize));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let record = got.clone();
        let server = actix_web::HttpServer::new(move || {
            let record = record.clone();
            let seen = seen.clone();
            actix_web::App::new().default_service(web::to(
                move |req: HttpRequest, body: web::Bytes| {
                    let record = record.clone();
                    let seen = seen.clone();
                    async move {
                        let text = |name: &str| {
                            req.headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        let n = {
                            let mut seen = seen.lock().expect("lock");
                            *seen += 1;
                            *seen
                        };
                        if n <= fail_first {
                            return HttpResponse::InternalServerError().finish();
                        }
                        record.lock().expect("lock").push(Received {
                            path: req.path().to_owned(),
                            content_type: text("content-type"),
                            authorization: text("authorization"),
                            signature: text("x-berth-signature-256"),
                            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                            raw: body.to_vec(),
                        });
                        HttpResponse::Ok().finish()
                    }
                },
            ))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            got,
            handle,
        }
    }

    /// Waits until `n` requests arrived and returns them.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.got.lock().expect("lock").clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "expected {n} deliveries, got {:?}",
            self.got.lock().expect("lock")
        );
    }
}

async fn create_policy(app: &TestApp, project: &str, body: Value) -> i64 {
    let res = app
        .admin(
            Method::POST,
            &format!("/api/v2.0/projects/{project}/webhook/policies"),
        )
        .json(&body)
        .send()
        .await
        .expect("create policy");
    assert_eq!(res.status(), StatusCode::CREATED, "{:?}", res.text().await);
    header(&res, "location")
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("policy id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_pulls_and_deletes_are_delivered_in_both_formats_and_signed() {
    let app = TestApp::start().await;
    app.create_project("hooks").await;
    let receiver = Receiver::start(0);
    let policy = create_policy(
        &app,
        "hooks",
        json!({
            "name": "ci",
            "event_types": ["PUSH_ARTIFACT", "PULL_ARTIFACT", "DELETE_ARTIFACT"],
            "targets": [
                {"type": "http", "address": format!("{}/default", receiver.url),
                 "auth_header": "Bearer hook-token", "secret": "s3cret"},
                {"type": "http", "address": format!("{}/cloud", receiver.url),
                 "payload_format": "CloudEvents"}
            ]
        }),
    )
    .await;

    // Write-only fields are masked.
    let view: Value = app
        .admin(
            Method::GET,
            &format!("/api/v2.0/projects/hooks/webhook/policies/{policy}"),
        )
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(view["targets"][0]["auth_header"], "*****");
    assert_eq!(view["targets"][0]["secret"], "*****");
    assert!(view["targets"][1].get("secret").is_none());

    let digest = app.push("hooks/app", "v1", b"{}", &[b"layer one"]).await;
    let got = receiver.wait_for(2).await;
    let default = got
        .iter()
        .find(|r| r.path == "/default")
        .expect("default delivery");
    assert_eq!(default.content_type, "application/json");
    assert_eq!(default.authorization, "Bearer hook-token");
    assert!(default.signature.starts_with("sha256="), "{default:?}");
    assert_eq!(default.body["type"], "PUSH_ARTIFACT");
    assert_eq!(default.body["operator"], "admin");
    let data = &default.body["event_data"];
    assert_eq!(data["resources"][0]["digest"], digest);
    assert_eq!(data["resources"][0]["tag"], "v1");
    assert!(
        data["resources"][0]["resource_url"]
            .as_str()
            .expect("url")
            .ends_with("/hooks/app:v1")
    );
    assert_eq!(data["repository"]["repo_full_name"], "hooks/app");
    assert_eq!(data["repository"]["namespace"], "hooks");
    assert_eq!(data["repository"]["repo_type"], "private");
    // The signature covers the exact bytes sent.
    assert_eq!(
        default.signature,
        berth::webhooks::signature("s3cret", &default.raw)
    );
    let cloud = got
        .iter()
        .find(|r| r.path == "/cloud")
        .expect("cloud delivery");
    assert_eq!(cloud.content_type, "application/cloudevents+json");
    assert_eq!(cloud.body["specversion"], "1.0");
    assert_eq!(cloud.body["type"], "harbor.artifact.pushed");
    assert_eq!(
        cloud.body["source"],
        format!("/projects/{}/webhook/policies/{policy}", view["project_id"])
    );
    assert_eq!(cloud.body["data"]["resources"][0]["digest"], digest);
    assert!(cloud.signature.is_empty());

    // A pull (GET, not HEAD) and a delete through the API.
    let res = app
        .admin(Method::HEAD, "/v2/hooks/app/manifests/v1")
        .send()
        .await
        .expect("head");
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .admin(Method::GET, "/v2/hooks/app/manifests/v1")
        .send()
        .await
        .expect("pull");
    assert_eq!(res.status(), StatusCode::OK);
    let got = receiver.wait_for(4).await;
    let pulls: Vec<_> = got
        .iter()
        .filter(|r| r.body["type"] == "PULL_ARTIFACT" || r.body["type"] == "harbor.artifact.pulled")
        .collect();
    assert_eq!(pulls.len(), 2, "one pull, two targets: {got:?}");
    let res = app
        .admin(
            Method::DELETE,
            &format!("/api/v2.0/projects/hooks/repositories/app/artifacts/{digest}"),
        )
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), StatusCode::OK);
    let got = receiver.wait_for(6).await;
    assert!(
        got.iter().any(|r| r.body["type"] == "DELETE_ARTIFACT"
            && r.body["event_data"]["resources"][0]["digest"] == digest),
        "{got:?}"
    );

    // Every delivery is listed with its outcome, and its log is readable.
    let executions: Value = app
        .admin(
            Method::GET,
            &format!("/api/v2.0/projects/hooks/webhook/policies/{policy}/executions?page_size=50"),
        )
        .send()
        .await
        .expect("executions")
        .json()
        .await
        .expect("json");
    let executions = executions.as_array().expect("array");
    assert_eq!(executions.len(), 6, "{executions:?}");
    for _ in 0..100 {
        let done = app
            .admin(
                Method::GET,
                &format!(
                    "/api/v2.0/projects/hooks/webhook/policies/{policy}/executions?page_size=50"
                ),
            )
            .send()
            .await
            .expect("executions")
            .json::<Value>()
            .await
            .expect("json")
            .as_array()
            .expect("array")
            .iter()
            .all(|e| e["status"] == "Success");
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = executions[0]["id"].as_i64().expect("id");
    let log = app
        .admin(
            Method::GET,
            &format!("/api/v2.0/projects/hooks/webhook/policies/{policy}/executions/{first}/log"),
        )
        .send()
        .await
        .expect("log")
        .text()
        .await
        .expect("text");
    assert!(log.contains("delivered to"), "{log}");
    let triggers: Value = app
        .admin(Method::GET, "/api/v2.0/projects/hooks/webhook/lasttrigger")
        .send()
        .await
        .expect("lasttrigger")
        .json()
        .await
        .expect("json");
    let push = triggers
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["event_type"] == "PUSH_ARTIFACT")
        .expect("push trigger");
    assert!(push["last_trigger_time"].is_string(), "{triggers}");
    receiver.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_endpoint_is_retried_and_disabled_policies_send_nothing() {
    let app = TestApp::start().await;
    let project_id = app.create_project("retry").await;
    let receiver = Receiver::start(1);
    let policy = create_policy(
        &app,
        "retry",
        json!({"name": "flaky", "event_types": ["PUSH_ARTIFACT", "QUOTA_EXCEED"],
               "targets": [{"address": receiver.url}]}),
    )
    .await;
    app.push("retry/app", "v1", b"{}", &[b"layer"]).await;
    // The first attempt got 500; the retry delivers.
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].body["type"], "PUSH_ARTIFACT");
    let executions: Value = app
        .admin(
            Method::GET,
            &format!("/api/v2.0/projects/retry/webhook/policies/{policy}/executions"),
        )
        .send()
        .await
        .expect("executions")
        .json()
        .await
        .expect("json");
    let mut attempts = 0;
    for _ in 0..50 {
        let now: Value = app
            .admin(
                Method::GET,
                &format!("/api/v2.0/projects/retry/webhook/policies/{policy}/executions"),
            )
            .send()
            .await
            .expect("executions")
            .json()
            .await
            .expect("json");
        if now[0]["status"] == "Success" {
            attempts = now[0]["attempts"].as_i64().expect("attempts");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(executions.as_array().expect("array").len(), 1);
    assert_eq!(attempts, 2, "one failed attempt, one delivery");

    // A push refused by the quota is a QUOTA_EXCEED event.
    let res = app
        .admin(Method::PUT, &format!("/api/v2.0/quotas/{project_id}"))
        .json(&json!({"hard": {"storage": 1}}))
        .send()
        .await
        .expect("quota");
    assert_eq!(res.status(), StatusCode::OK);
    app.upload("retry/app", b"another layer").await;
    let res = app
        .try_put_manifest(
            "retry/app",
            "v2",
            &crate::support::manifest(b"{}", &[b"another layer"]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let got = receiver.wait_for(2).await;
    let exceeded = got
        .iter()
        .find(|r| r.body["type"] == "QUOTA_EXCEED")
        .expect("quota event");
    let details = exceeded.body["event_data"]["custom_attributes"]["Details"]
        .as_str()
        .expect("details");
    assert!(details.contains("quota exceeded"), "{details}");

    // Disabled: nothing more is sent.
    let res = app
        .admin(
            Method::PUT,
            &format!("/api/v2.0/projects/retry/webhook/policies/{policy}"),
        )
        .json(&json!({"enabled": false}))
        .send()
        .await
        .expect("disable");
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .admin(Method::PUT, &format!("/api/v2.0/quotas/{project_id}"))
        .json(&json!({"hard": {"storage": -1}}))
        .send()
        .await
        .expect("quota");
    assert_eq!(res.status(), StatusCode::OK);
    app.push("retry/app", "v3", b"{}", &[b"layer three"]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.got.lock().expect("lock").len(), 2);

    // Bad policies are refused with a reason.
    for (body, why) in [
        (
            json!({"name": "x", "event_types": ["BOGUS"], "targets": [{"address": receiver.url}]}),
            "BOGUS",
        ),
        (
            json!({"name": "x", "event_types": ["PUSH_ARTIFACT"], "targets": []}),
            "target",
        ),
        (
            json!({"name": "x", "event_types": ["PUSH_ARTIFACT"], "targets": [{"address": "ftp://h"}]}),
            "http",
        ),
        (
            json!({"name": "flaky", "event_types": ["PUSH_ARTIFACT"], "targets": [{"address": receiver.url}]}),
            "exists",
        ),
    ] {
        let res = app
            .admin(Method::POST, "/api/v2.0/projects/retry/webhook/policies")
            .json(&body)
            .send()
            .await
            .expect("create");
        assert!(res.status().is_client_error(), "{body}");
        let text = res.text().await.expect("text");
        assert!(text.contains(why), "{text}");
    }
    receiver.handle.stop(true).await;
}
