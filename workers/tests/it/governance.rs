//! Quotas, immutability rules and tag retention, with real pushes through `/v2`.

use berth::db::entities::{project_blob, quota_event};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::support::{TestApp, first_error, header, manifest};

async fn quota(app: &TestApp, project_id: i64) -> Value {
    let res = app
        .admin(Method::GET, &format!("/api/v2.0/quotas/{project_id}"))
        .send()
        .await
        .expect("quota");
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

async fn used(app: &TestApp, project_id: i64) -> i64 {
    quota(app, project_id).await["used"]["storage"]
        .as_i64()
        .expect("used")
}

async fn set_limit(app: &TestApp, project_id: i64, limit: i64) {
    let res = app
        .admin(Method::PUT, &format!("/api/v2.0/quotas/{project_id}"))
        .json(&json!({"hard": {"storage": limit}}))
        .send()
        .await
        .expect("set quota");
    assert_eq!(res.status(), StatusCode::OK);
}

fn size_of(config: &[u8], layers: &[&[u8]]) -> i64 {
    (config.len() + layers.iter().map(|l| l.len()).sum::<usize>() + manifest(config, layers).len())
        as i64
}

#[tokio::test]
async fn quota_counts_each_blob_once_at_commit_and_releases_on_delete() {
    let app = TestApp::start().await;
    let id = app.create_project("quota").await;
    // Orphan blobs of an unfinished push cost nothing.
    app.upload("quota/app", b"orphan layer").await;
    assert_eq!(used(&app, id).await, 0);

    let shared: &[u8] = b"a shared base layer";
    let first = app.push("quota/app", "v1", b"{\"a\":1}", &[shared]).await;
    let one = size_of(b"{\"a\":1}", &[shared]);
    assert_eq!(used(&app, id).await, one);
    // The second image shares the base layer: it is not charged twice.
    app.push("quota/other", "v1", b"{\"b\":1}", &[shared, b"own"])
        .await;
    let two =
        one + (b"{\"b\":1}".len() + 3 + manifest(b"{\"b\":1}", &[shared, b"own"]).len()) as i64;
    assert_eq!(used(&app, id).await, two);

    let res = app
        .admin(Method::DELETE, &format!("/v2/quota/app/manifests/{first}"))
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // The shared layer is still used by quota/other; the rest of the first image is released.
    let after = two - (b"{\"a\":1}".len() + manifest(b"{\"a\":1}", &[shared]).len()) as i64;
    assert_eq!(used(&app, id).await, after);
    app.stop().await;
}

#[tokio::test]
async fn exceeding_the_quota_is_denied_with_limit_and_usage() {
    let app = TestApp::start().await;
    let id = app.create_project("full").await;
    let config: &[u8] = b"{\"c\":1}";
    let layer = vec![b'l'; 1000];
    let needed = size_of(config, &[&layer]);
    set_limit(&app, id, needed + 50).await;
    app.push("full/app", "v1", config, &[&layer]).await;
    let warnings = quota_event::Entity::find()
        .filter(quota_event::Column::ProjectId.eq(id))
        .filter(quota_event::Column::Kind.eq("warning"))
        .all(&app.state.db)
        .await
        .expect("events");
    assert_eq!(warnings.len(), 1, "crossing 85% records a warning");

    let big = vec![b'm'; 2000];
    app.upload("full/app", &big).await;
    let res = app
        .try_put_manifest("full/app", "v2", &manifest(config, &[&big]))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (code, message) = first_error(res).await;
    assert_eq!(code, "DENIED");
    assert!(
        message.contains(&format!("uses {needed} of its {} bytes", needed + 50)),
        "{message}"
    );
    assert_eq!(
        used(&app, id).await,
        needed,
        "a refused push charges nothing"
    );
    assert_eq!(
        app.status(Method::GET, "/v2/full/app/manifests/v2").await,
        StatusCode::NOT_FOUND
    );
    let exceeded = quota_event::Entity::find()
        .filter(quota_event::Column::Kind.eq("exceeded"))
        .all(&app.state.db)
        .await
        .expect("events");
    assert_eq!(exceeded.len(), 1);
    assert_eq!(exceeded[0].limit_bytes, needed + 50);

    // Raising the limit lets the same push through.
    set_limit(&app, id, -1).await;
    assert_eq!(
        app.try_put_manifest("full/app", "v2", &manifest(config, &[&big]))
            .await
            .status(),
        StatusCode::CREATED
    );
    app.stop().await;
}

#[tokio::test]
async fn the_recalculation_job_repairs_usage() {
    let app = TestApp::start().await;
    let id = app.create_project("recalc").await;
    app.push(
        "recalc/app",
        "v1",
        b"{\"r\":1}",
        &[b"layer one", b"layer two"],
    )
    .await;
    let correct = used(&app, id).await;
    project_blob::Entity::delete_many()
        .filter(project_blob::Column::ProjectId.eq(id))
        .exec(&app.state.db)
        .await
        .expect("corrupt");
    assert_eq!(used(&app, id).await, 0);
    let res = app
        .admin(Method::POST, "/api/v2.0/quotas/recalculate")
        .send()
        .await
        .expect("recalculate");
    assert_eq!(res.status(), StatusCode::CREATED);
    let job_id: i64 = header(&res, "location")
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let row = app.wait_job(job_id).await;
    assert_eq!(row.status, "Success", "{row:?}");
    assert_eq!(used(&app, id).await, correct);
    let job = app
        .admin(Method::GET, &format!("/api/v2.0/jobservice/jobs/{job_id}"))
        .send()
        .await
        .expect("job");
    let body: Value = job.json().await.expect("json");
    assert_eq!(body["job_type"], "QUOTA_RECALCULATION");
    // Jobs run at least once: under load a lease can lapse and a second attempt find nothing
    // left to correct, so its summary says "0 corrected". The log keeps every attempt's lines.
    let log = app
        .admin(
            Method::GET,
            &format!("/api/v2.0/jobservice/jobs/{job_id}/log"),
        )
        .send()
        .await
        .expect("job log")
        .text()
        .await
        .expect("log text");
    assert!(
        log.contains(&format!(
            "project recalc: usage corrected from 0 to {correct} bytes"
        )),
        "{log}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("recalculated 1 projects"),
        "{body}"
    );
    let listed = app
        .admin(
            Method::GET,
            "/api/v2.0/jobservice/jobs?job_type=QUOTA_RECALCULATION&page_size=5",
        )
        .send()
        .await
        .expect("list jobs");
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(header(&listed, "x-total-count"), "1");
    let listed: Value = listed.json().await.expect("json");
    assert_eq!(listed[0]["id"], job_id);
    assert_eq!(listed[0]["status"], "Success");
    let res = app
        .admin(Method::GET, "/api/v2.0/jobservice/jobs?job_type=BOGUS")
        .send()
        .await
        .expect("bogus type");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

async fn add_rule(app: &TestApp, project: &str, repos: &str, tags: &str) -> String {
    let res = app
        .admin(
            Method::POST,
            &format!("/api/v2.0/projects/{project}/immutabletagrules"),
        )
        .header("X-Is-Resource-Name", "true")
        .json(&json!({
            "disabled": false,
            "action": "immutable",
            "template": "immutable_template",
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": tags}],
            "scope_selectors": {"repository": [
                {"kind": "doublestar", "decoration": "repoMatches", "pattern": repos}]}
        }))
        .send()
        .await
        .expect("add rule");
    assert_eq!(res.status(), StatusCode::CREATED);
    header(&res, "location")
}

#[tokio::test]
async fn immutable_tags_refuse_repush_and_delete() {
    let app = TestApp::start().await;
    app.create_project("frozen").await;
    let rule = add_rule(&app, "frozen", "app/**", "v*").await;
    let v1 = app
        .push("frozen/app/web", "v1", b"{\"v\":1}", &[b"one"])
        .await;

    // Pushing the same content again is fine; moving the tag is not.
    app.push("frozen/app/web", "v1", b"{\"v\":1}", &[b"one"])
        .await;
    app.upload("frozen/app/web", b"{\"v\":2}").await;
    let res = app
        .try_put_manifest("frozen/app/web", "v1", &manifest(b"{\"v\":2}", &[b"one"]))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (code, message) = first_error(res).await;
    assert_eq!(code, "DENIED");
    assert!(
        message.contains("tag v1 of repository frozen/app/web is immutable"),
        "{message}"
    );
    assert_eq!(
        app.status(Method::GET, "/v2/frozen/app/web/manifests/v1")
            .await,
        StatusCode::OK
    );

    for reference in ["v1".to_owned(), v1.clone()] {
        let res = app
            .admin(
                Method::DELETE,
                &format!("/v2/frozen/app/web/manifests/{reference}"),
            )
            .send()
            .await
            .expect("delete");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "delete {reference}");
        assert_eq!(first_error(res).await.0, "DENIED");
    }
    // The REST API refuses to delete the protected tag too (the console's "Delete tag").
    let res = app
        .admin(
            Method::DELETE,
            &format!("/api/v2.0/projects/frozen/repositories/app%252Fweb/artifacts/{v1}/tags/v1"),
        )
        .send()
        .await
        .expect("delete tag");
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = res.json().await.expect("json");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("immutable"),
        "{body}"
    );

    // Tags and repositories outside the rule move freely.
    app.push("frozen/app/web", "latest", b"{\"v\":1}", &[b"one"])
        .await;
    app.push("frozen/app/web", "latest", b"{\"v\":2}", &[b"one"])
        .await;
    app.push("frozen/other", "v1", b"{\"v\":1}", &[b"one"])
        .await;
    app.push("frozen/other", "v1", b"{\"v\":2}", &[b"one"])
        .await;

    let list = app
        .admin(Method::GET, "/api/v2.0/projects/frozen/immutabletagrules")
        .header("X-Is-Resource-Name", "true")
        .send()
        .await
        .expect("list");
    let rules: Value = list.json().await.expect("json");
    assert_eq!(rules[0]["tag_selectors"][0]["pattern"], "v*");

    // A disabled rule protects nothing.
    let res = app
        .admin(Method::PUT, &rule)
        .header("X-Is-Resource-Name", "true")
        .json(&json!({"disabled": true,
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "v*"}],
            "scope_selectors": {"repository": [
                {"kind": "doublestar", "decoration": "repoMatches", "pattern": "app/**"}]}}))
        .send()
        .await
        .expect("disable");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.try_put_manifest("frozen/app/web", "v1", &manifest(b"{\"v\":2}", &[b"one"]))
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = app
        .admin(Method::DELETE, &rule)
        .header("X-Is-Resource-Name", "true")
        .send()
        .await
        .expect("delete rule");
    assert_eq!(res.status(), StatusCode::OK);

    let bad = app
        .admin(Method::POST, "/api/v2.0/projects/frozen/immutabletagrules")
        .header("X-Is-Resource-Name", "true")
        .json(&json!({"tag_selectors": [{"kind": "regex", "decoration": "matches", "pattern": "v.*"}]}))
        .send()
        .await
        .expect("bad rule");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

async fn create_policy(app: &TestApp, project_id: i64, rules: Value) -> String {
    let res = app
        .admin(Method::POST, "/api/v2.0/retentions")
        .json(&json!({"algorithm": "or", "rules": rules,
                      "trigger": {"kind": "Schedule", "settings": {"cron": ""}},
                      "scope": {"level": "project", "ref": project_id}}))
        .send()
        .await
        .expect("create policy");
    assert_eq!(res.status(), StatusCode::CREATED, "{:?}", res.text().await);
    header(&res, "location")
}

async fn run_policy(
    app: &TestApp,
    policy: &str,
    dry_run: bool,
) -> (i64, berth::db::entities::job::Model) {
    let res = app
        .admin(Method::POST, &format!("{policy}/executions"))
        .json(&json!({"dry_run": dry_run}))
        .send()
        .await
        .expect("execute");
    assert_eq!(res.status(), StatusCode::CREATED);
    let id: i64 = header(&res, "location")
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("id");
    (id, app.wait_job(id).await)
}

#[tokio::test]
async fn retention_keeps_the_latest_tags_and_never_removes_immutable_ones() {
    let app = TestApp::start().await;
    let id = app.create_project("keep").await;
    add_rule(&app, "keep", "**", "release-*").await;
    let old = app
        .push("keep/app", "release-1", b"{\"n\":1}", &[b"l1"])
        .await;
    let middle = app.push("keep/app", "dev-2", b"{\"n\":2}", &[b"l2"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let newest = app.push("keep/app", "dev-3", b"{\"n\":3}", &[b"l3"]).await;
    let policy = create_policy(&app, id, json!([{
        "action": "retain", "template": "latestPushedK", "params": {"latestPushedK": 1},
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
        "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]}
    }]))
    .await;
    // Clients find the policy in the project's metadata, and may send it back unchanged.
    let project: Value = app
        .admin(Method::GET, "/api/v2.0/projects/keep")
        .send()
        .await
        .expect("project")
        .json()
        .await
        .expect("json");
    let retention_id = project["metadata"]["retention_id"]
        .as_str()
        .expect("retention_id");
    assert_eq!(format!("/api/v2.0/retentions/{retention_id}"), policy);
    let res = app
        .admin(Method::PUT, "/api/v2.0/projects/keep")
        .json(&json!({"metadata": project["metadata"]}))
        .send()
        .await
        .expect("update");
    assert_eq!(res.status(), StatusCode::OK);

    let (dry_id, dry) = run_policy(&app, &policy, true).await;
    assert_eq!(dry.status, "Success", "{dry:?}");
    assert!(dry.message.unwrap_or_default().contains("would delete 1"));
    assert_eq!(
        app.status(Method::GET, "/v2/keep/app/manifests/dev-2")
            .await,
        StatusCode::OK
    );
    let tasks: Value = app
        .admin(Method::GET, &format!("{policy}/executions/{dry_id}/tasks"))
        .send()
        .await
        .expect("tasks")
        .json()
        .await
        .expect("json");
    assert_eq!(tasks[0]["repository"], "keep/app");
    assert_eq!(tasks[0]["total"], 3);
    assert_eq!(tasks[0]["retained"], 2);
    let log = app
        .admin(
            Method::GET,
            &format!("{policy}/executions/{dry_id}/tasks/{}", tasks[0]["id"]),
        )
        .send()
        .await
        .expect("task log")
        .text()
        .await
        .expect("text");
    let line = log
        .lines()
        .find(|l| l.contains("dev-2"))
        .expect("dev-2 line");
    assert!(line.ends_with("DEL") && line.contains(&middle), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("release-1") && l.ends_with("RETAIN")),
        "{log}"
    );

    let (_, run) = run_policy(&app, &policy, false).await;
    assert_eq!(run.status, "Success", "{run:?}");
    assert_eq!(
        app.status(Method::GET, "/v2/keep/app/manifests/dev-2")
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.status(Method::GET, &format!("/v2/keep/app/manifests/{middle}"))
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.status(Method::GET, &format!("/v2/keep/app/manifests/{old}"))
            .await,
        StatusCode::OK
    );
    assert_eq!(
        app.status(Method::GET, &format!("/v2/keep/app/manifests/{newest}"))
            .await,
        StatusCode::OK
    );
    let runs: Value = app
        .admin(Method::GET, &format!("{policy}/executions"))
        .send()
        .await
        .expect("executions")
        .json()
        .await
        .expect("json");
    assert_eq!(runs.as_array().map(Vec::len), Some(2));
    assert_eq!(runs[1]["dry_run"], true);
    app.stop().await;
}
