//! The management API beyond projects: repositories, artifacts, tags, accessories, labels,
//! users, configuration, search, statistics, project metadata and the audit log.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.expect("JSON body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repositories_and_artifacts() {
    let app = TestApp::start().await;
    app.create_project("p1", false).await;
    app.create_project("p2", false).await;
    let digest = app.push_m1("p1/app", "v1").await;
    app.push_m1("p1/team/web", "v2").await;

    let res = app
        .admin(
            Method::GET,
            "/api/v2.0/projects/p1/repositories?page_size=1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-total-count"), "2");
    assert!(header(&res, "link").contains("page=2"));
    let res = app
        .admin(Method::GET, "/api/v2.0/repositories?q=name=~web")
        .send()
        .await
        .unwrap();
    let found = json_of(res).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["name"], "p1/team/web");
    let res = app
        .admin(
            Method::GET,
            "/api/v2.0/projects/p1/repositories/team%252Fweb",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["artifact_count"], 1);
    let res = app
        .admin(Method::PUT, "/api/v2.0/projects/p1/repositories/app")
        .json(&json!({"description": "the app"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let repo = json_of(
        app.admin(Method::GET, "/api/v2.0/projects/p1/repositories/app")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(repo["description"], "the app");
    let res = app
        .admin(Method::GET, "/api/v2.0/projects/p1/repositories?sort=bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let base = "/api/v2.0/projects/p1/repositories/app/artifacts";
    let list = json_of(
        app.admin(Method::GET, &format!("{base}?q=tags=v1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["digest"], digest);
    assert_eq!(list[0]["type"], "IMAGE");
    assert_eq!(list[0]["tags"][0]["name"], "v1");
    let none = json_of(
        app.admin(Method::GET, &format!("{base}?q=tags=nil"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(none.as_array().unwrap().len(), 0);
    let one = json_of(
        app.admin(Method::GET, &format!("{base}/v1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(one["digest"], digest);
    assert_eq!(one["size"], 393);
    assert!(
        one["addition_links"]["build_history"]["href"]
            .as_str()
            .unwrap()
            .ends_with("build_history")
    );
    let history = app
        .admin(Method::GET, &format!("{base}/v1/additions/build_history"))
        .send()
        .await
        .unwrap();
    assert_eq!(history.status(), StatusCode::OK);
    assert_eq!(json_of(history).await, json!([]));
    let layers = app
        .admin(Method::GET, &format!("{base}/v1/additions/layers"))
        .send()
        .await
        .unwrap();
    assert_eq!(layers.status(), StatusCode::OK);
    assert_eq!(
        json_of(layers).await,
        json!([{"media_type": "application/vnd.oci.image.layer.v1.tar", "digest": crate::support::digest(L1), "size": 12}])
    );
    let catalogue = json_of(
        app.admin(Method::GET, "/api/v2.0/permissions")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        catalogue["project"]
            .as_array()
            .unwrap()
            .contains(&json!({"resource": "repository", "action": "pull"}))
    );
    assert!(
        catalogue["system"]
            .as_array()
            .unwrap()
            .contains(&json!({"resource": "project", "action": "create"}))
    );
    let res = app
        .admin(Method::GET, &format!("{base}/v1/additions/readme"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = app
        .admin(Method::POST, &format!("{base}/{digest}/tags"))
        .json(&json!({"name": "stable"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .admin(Method::POST, &format!("{base}/{digest}/tags"))
        .json(&json!({"name": "stable"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app
        .admin(Method::POST, &format!("{base}/{digest}/tags"))
        .json(&json!({"name": "-bad"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let tags = app
        .admin(Method::GET, &format!("{base}/{digest}/tags"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&tags, "x-total-count"), "2");
    let res = app
        .admin(Method::GET, "/v2/p1/app/manifests/stable")
        .header("Accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "a tag made by the API serves pulls"
    );
    let res = app
        .admin(Method::DELETE, &format!("{base}/{digest}/tags/stable"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .admin(Method::DELETE, &format!("{base}/{digest}/tags/stable"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = app
        .admin(
            Method::POST,
            "/api/v2.0/projects/p2/repositories/copy/artifacts?from=p1/app:v1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(header(&res, "location").ends_with(&digest));
    let res = app
        .admin(Method::GET, "/v2/p2/copy/manifests/v1")
        .header("Accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the copy carries the tag");
    let res = app
        .admin(
            Method::POST,
            "/api/v2.0/projects/p2/repositories/copy/artifacts?from=p1/nothing:v1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = app
        .admin(Method::DELETE, &format!("{base}/v1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .admin(Method::GET, &format!("{base}/{digest}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .admin(
            Method::DELETE,
            "/api/v2.0/projects/p1/repositories/team%252Fweb",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .admin(Method::GET, "/v2/p1/team/web/manifests/v2")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accessories_and_labels() {
    let app = TestApp::start().await;
    app.create_project("p1", false).await;
    let subject = app.push_m1("p1/app", "v1").await;
    let signature = manifest_with(
        ",\"layers\":[]",
        "application/vnd.dev.cosign.artifact.sig.v1+json",
        &format!(
            ",\"artifactType\":\"application/vnd.dev.cosign.artifact.sig.v1+json\",\"subject\":{{\"mediaType\":\"{OCI_MANIFEST}\",\"digest\":\"{subject}\",\"size\":393}}"
        ),
    );
    let signature_digest = app
        .put_manifest(
            "p1/app",
            &digest(signature.as_bytes()),
            OCI_MANIFEST,
            signature.into_bytes(),
        )
        .await;
    let base = "/api/v2.0/projects/p1/repositories/app/artifacts";
    let list = json_of(
        app.admin(Method::GET, &format!("{base}?with_accessory=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "accessories are not listed on their own"
    );
    assert_eq!(list[0]["accessories"][0]["digest"], signature_digest);
    assert_eq!(list[0]["accessories"][0]["type"], "signature.cosign");
    let res = app
        .admin(Method::GET, &format!("{base}/v1/accessories"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-total-count"), "1");

    let res = app
        .admin(Method::POST, "/api/v2.0/labels")
        .json(&json!({"name": "prod", "color": "#00AA00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let label_id: i64 = header(&res, "location")
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let res = app
        .admin(Method::POST, "/api/v2.0/labels")
        .json(&json!({"name": "prod"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app
        .admin(Method::POST, "/api/v2.0/labels")
        .json(&json!({"name": "x", "color": "green"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .admin(Method::POST, &format!("{base}/v1/labels"))
        .json(&json!({"id": label_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .admin(Method::POST, &format!("{base}/v1/labels"))
        .json(&json!({"id": label_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let labelled = json_of(
        app.admin(
            Method::GET,
            &format!("{base}?with_label=true&q=labels={label_id}"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(labelled[0]["labels"][0]["name"], "prod");
    let res = app
        .admin(Method::DELETE, &format!("{base}/v1/labels/{label_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let unlabelled = json_of(
        app.admin(Method::GET, &format!("{base}?q=labels={label_id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(unlabelled.as_array().unwrap().len(), 0);

    app.create_user("u1").await;
    let res = app
        .as_user("u1", Method::POST, "/api/v2.0/labels")
        .json(&json!({"name": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "global labels are for administrators"
    );
    let res = app
        .as_user("u1", Method::GET, "/api/v2.0/labels")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-total-count"), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_managed_by_administrators_and_themselves() {
    let app = TestApp::start().await;
    app.create_user("u1").await;
    app.create_user("u2").await;
    let hits = json_of(
        app.as_user("u1", Method::GET, "/api/v2.0/users/search?username=u")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(hits.as_array().unwrap().len(), 2);
    let users = json_of(
        app.admin(Method::GET, "/api/v2.0/users?q=username=~u&sort=-username")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(users[0]["username"], "u2");
    let u1 = users[1]["user_id"].as_i64().unwrap();
    let u2 = users[0]["user_id"].as_i64().unwrap();

    let res = app
        .as_user("u1", Method::GET, &format!("/api/v2.0/users/{u2}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .as_user("u1", Method::PUT, &format!("/api/v2.0/users/{u1}"))
        .json(&json!({"realname": "User One"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let me = json_of(
        app.as_user("u1", Method::GET, &format!("/api/v2.0/users/{u1}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["realname"], "User One");

    let path = format!("/api/v2.0/users/{u1}/password");
    let res = app
        .as_user("u1", Method::PUT, &path)
        .json(&json!({"new_password": "Another123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "the old password is required"
    );
    let res = app
        .as_user("u1", Method::PUT, &path)
        .json(&json!({"old_password": "Wrong1234", "new_password": "Another123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .as_user("u1", Method::PUT, &path)
        .json(&json!({"old_password": USER_PASSWORD, "new_password": "weak"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .as_user("u1", Method::PUT, &path)
        .json(&json!({"old_password": USER_PASSWORD, "new_password": "Another123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .as_user("u1", Method::GET, "/api/v2.0/users/current")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the old password stops working"
    );

    let res = app
        .admin(Method::PUT, &format!("/api/v2.0/users/{u2}/sysadmin"))
        .json(&json!({"sysadmin_flag": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let perms = json_of(
        app.as_user("u2", Method::GET, "/api/v2.0/users/current/permissions")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        perms
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["resource"] == "user" && p["action"] == "delete")
    );
    let res = app
        .as_user("u2", Method::DELETE, &format!("/api/v2.0/users/{u2}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "nobody deletes themselves"
    );
    let res = app
        .as_user("u2", Method::DELETE, &format!("/api/v2.0/users/{u1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .admin(Method::GET, &format!("/api/v2.0/users/{u1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    app.create_user("dev").await;
    app.create_project("p1", false).await;
    app.add_member("p1", "dev", 2).await;
    let perms = json_of(
        app.as_user(
            "dev",
            Method::GET,
            "/api/v2.0/users/current/permissions?scope=/project/p1",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let has = |resource: &str, action: &str| {
        perms
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["resource"] == resource && p["action"] == action)
    };
    assert!(has("repository", "push"));
    assert!(!has("repository", "delete"));
    assert!(!has("member", "create"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_search_statistics_and_metadata() {
    let app = TestApp::start().await;
    let config = json_of(
        app.admin(Method::GET, "/api/v2.0/configurations")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        config["auth_mode"],
        json!({"value": "db_auth", "editable": false})
    );
    assert_eq!(config["project_creation_restriction"]["editable"], true);
    for (key, item) in config.as_object().unwrap() {
        assert!(
            item["editable"].is_boolean(),
            "{key} says whether it is editable"
        );
        assert!(
            item.get("value").is_some() != item["is_set"].is_boolean(),
            "{key}: a value, or (write-only) only whether it is set"
        );
    }
    let res = app
        .admin(Method::PUT, "/api/v2.0/configurations")
        .json(&json!({"auth_mode": "ldap_auth"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .admin(Method::PUT, "/api/v2.0/configurations")
        .json(&json!({"project_creation_restriction": "adminonly", "self_registration": "maybe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "nothing is stored when one value is wrong"
    );
    let config = json_of(
        app.admin(Method::GET, "/api/v2.0/configurations")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(config["project_creation_restriction"]["value"], "everyone");
    let res = app
        .admin(Method::PUT, "/api/v2.0/configurations")
        .json(&json!({"project_creation_restriction": "adminonly"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.create_user("u1").await;
    let res = app
        .as_user("u1", Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the stored restriction applies at once"
    );
    let res = app
        .as_user("u1", Method::GET, "/api/v2.0/configurations")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = app
        .admin(Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "shop", "metadata": {"public": "true", "auto_scan": "true"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .admin(Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "bad", "metadata": {"severity": "extreme"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    app.push_m1("shop/app", "v1").await;
    let meta = json_of(
        app.admin(Method::GET, "/api/v2.0/projects/shop/metadatas/")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(meta, json!({"auto_scan": "true", "public": "true"}));
    let res = app
        .admin(Method::PUT, "/api/v2.0/projects/shop/metadatas/severity")
        .json(&json!({"severity": "high"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let one = json_of(
        app.admin(Method::GET, "/api/v2.0/projects/shop/metadatas/severity")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(one, json!({"severity": "high"}));
    let res = app
        .admin(
            Method::DELETE,
            "/api/v2.0/projects/shop/metadatas/auto_scan",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let project = json_of(
        app.admin(Method::GET, "/api/v2.0/projects/shop")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        project["metadata"],
        json!({"public": "true", "severity": "high"})
    );

    let summary = json_of(
        app.admin(Method::GET, "/api/v2.0/projects/shop/summary")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(summary["repo_count"], 1);
    assert_eq!(summary["project_admin_count"], 1);
    let deletable = json_of(
        app.admin(Method::GET, "/api/v2.0/projects/shop/_deletable")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(deletable["deletable"], false);

    let found = json_of(
        app.as_user("u1", Method::GET, "/api/v2.0/search?q=sho")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(found["project"][0]["name"], "shop");
    assert_eq!(found["repository"][0]["repository_name"], "shop/app");
    let stats = json_of(
        app.admin(Method::GET, "/api/v2.0/statistics")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stats["public_project_count"], 1);
    assert_eq!(stats["total_repo_count"], 1);
    assert!(stats["total_storage_consumption"].as_i64().unwrap() > 0);
    let stats = json_of(
        app.as_user("u1", Method::GET, "/api/v2.0/statistics")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(stats.get("total_storage_consumption").is_none());
    let info = json_of(
        app.request(Method::GET, "/api/v2.0/systeminfo")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(info["auth_mode"], "db_auth");
    assert!(
        info.get("registry_url").is_none(),
        "anonymous callers get the public part"
    );
    let info = json_of(
        app.as_user("u1", Method::GET, "/api/v2.0/systeminfo")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(info["project_creation_restriction"], "adminonly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_records_changes_logins_and_registry_operations() {
    let app = TestApp::start().await;
    app.create_project("p1", false).await;
    let digest = app.push_m1("p1/app", "v1").await;
    let res = app
        .admin(Method::GET, &format!("/v2/p1/app/manifests/{digest}"))
        .header("Accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Pulls are recorded off the request path; wait for this one.
    app.state.pulls.flush().await;
    let res = app
        .admin(Method::POST, "/api/v2.0/projects")
        .json(&json!({"project_name": "p1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app
        .request(Method::POST, "/c/login")
        .form(&[("principal", "admin"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let all = json_of(
        app.admin(Method::GET, "/api/v2.0/audit-logs?page_size=100")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let entries = all.as_array().unwrap();
    let find = |operation: &str, resource_type: &str| {
        entries
            .iter()
            .find(|e| e["operation"] == operation && e["resource_type"] == resource_type)
            .unwrap_or_else(|| panic!("no {operation} {resource_type} entry in {all}"))
            .clone()
    };
    let push = find("push", "artifact");
    assert_eq!(push["username"], "admin");
    assert_eq!(push["resource"], "p1/app:v1");
    assert_eq!(
        find("pull", "artifact")["resource"],
        format!("p1/app@{digest}")
    );
    let creates: Vec<&Value> = entries
        .iter()
        .filter(|e| e["operation"] == "create" && e["resource_type"] == "project")
        .collect();
    assert_eq!(creates.len(), 2);
    assert_eq!(
        creates[0]["success"], false,
        "failed changes are recorded too, newest first"
    );
    assert_eq!(creates[1]["success"], true);
    assert_eq!(creates[1]["resource"], "/api/v2.0/projects");
    assert_eq!(find("login", "user")["success"], false);

    let pushes = app
        .admin(
            Method::GET,
            "/api/v2.0/audit-logs?q=operation=push,resource=~app",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(header(&pushes, "x-total-count"), "1");
    let project_logs = json_of(
        app.admin(Method::GET, "/api/v2.0/projects/p1/logs")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        project_logs
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["operation"] == "push")
    );
    app.create_user("u1").await;
    let res = app
        .as_user("u1", Method::GET, "/api/v2.0/audit-logs")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_members_inherit_the_group_role() {
    let app = TestApp::start().await;
    app.create_project("p1", false).await;
    app.create_user("u1").await;
    let res = app
        .admin(Method::POST, "/api/v2.0/usergroups")
        .json(&json!({"group_name": "devs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let group_id: i64 = header(&res, "location")
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let res = app
        .admin(Method::POST, "/api/v2.0/usergroups")
        .json(&json!({"group_name": "devs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app
        .as_user("u1", Method::POST, "/api/v2.0/usergroups")
        .json(&json!({"group_name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let u1 = json_of(
        app.as_user("u1", Method::GET, "/api/v2.0/users/current")
            .send()
            .await
            .unwrap(),
    )
    .await["user_id"]
        .clone();
    let res = app
        .admin(
            Method::POST,
            &format!("/api/v2.0/usergroups/{group_id}/members"),
        )
        .json(&json!({"user_id": u1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .admin(Method::POST, "/api/v2.0/projects/p1/members")
        .json(&json!({"role_id": 2, "member_group": {"group_name": "devs"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let members = json_of(
        app.admin(Method::GET, "/api/v2.0/projects/p1/members")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["entity_type"] == "g" && m["entity_name"] == "devs")
    );

    let token = app
        .token_string(
            Some(("u1", USER_PASSWORD)),
            &["repository:p1/app:pull,push,delete"],
        )
        .await;
    assert_eq!(
        access_claim(&token)[0]["actions"],
        json!(["pull", "push"]),
        "developer through the group"
    );
    let projects = json_of(
        app.as_user("u1", Method::GET, "/api/v2.0/projects")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(projects[0]["name"], "p1");
    assert_eq!(projects[0]["current_user_role_id"], 2);

    let res = app
        .admin(
            Method::DELETE,
            &format!("/api/v2.0/usergroups/{group_id}/members/{u1}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .as_user("u1", Method::GET, "/api/v2.0/projects/p1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "the group role is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_paging_and_bodies_get_400() {
    let app = TestApp::start().await;
    app.create_project("p1", false).await;
    for path in [
        "/api/v2.0/users?page=9223372036854775808",
        "/api/v2.0/projects?page=18446744073709551615&page_size=100",
        "/api/v2.0/robots?page=0",
    ] {
        let res = app.admin(Method::GET, path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    let res = app
        .admin(Method::PUT, "/api/v2.0/projects/p1")
        .json(&json!([null, null]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "an array is not a project update"
    );
    assert_eq!(error_code(res).await, "BAD_REQUEST");
}
