//! Pulls by tag are answered from remembered resolutions (`registry/resolutions.rs`); these
//! tests hold them to what the database says: at once for changes made by the serving process,
//! within the window for changes made by anyone else.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};

use crate::support::*;

/// What `GET /v2/<repo>/manifests/<reference>` answers on `app`: the status and the digest.
async fn pull(app: &TestApp, repo: &str, reference: &str) -> (StatusCode, String) {
    let res = app
        .admin(Method::GET, &format!("/v2/{repo}/manifests/{reference}"))
        .header("Accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    let digest = res
        .headers()
        .get("docker-content-digest")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status(), digest.unwrap_or_default())
}

/// Pulls until the answer is `expected`, for at most `within`; returns the last answer.
async fn pull_until(
    app: &TestApp,
    repo: &str,
    reference: &str,
    expected: &(StatusCode, String),
    within: Duration,
) -> (StatusCode, String) {
    let deadline = Instant::now() + within;
    loop {
        let got = pull(app, repo, reference).await;
        if &got == expected || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn window(ms: u64) -> impl FnOnce(&mut berth::config::Config) {
    move |c| c.registry.resolution_window_ms = ms
}

async fn versions(app: &TestApp) -> Vec<(i64, i64)> {
    let db = &app.state.db;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT slot, version FROM registry_changes ORDER BY slot",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get("", "slot").unwrap(),
                r.try_get("", "version").unwrap(),
            )
        })
        .collect()
}

/// The slots whose version differs between two readings of [`versions`].
fn raised(before: &[(i64, i64)], after: &[(i64, i64)]) -> Vec<i64> {
    before
        .iter()
        .zip(after)
        .filter(|(b, a)| b.1 != a.1)
        .map(|(b, _)| b.0)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_or_delete_is_pulled_at_once_from_the_same_server() {
    // A window far longer than the test: only the server's own expiry can make it pass.
    let app = TestApp::start_with(window(600_000)).await;
    app.create_project("p1", false).await;
    let first = app.push_m1("p1/app", "v1").await;
    assert_eq!(
        pull(&app, "p1/app", "v1").await,
        (StatusCode::OK, first.clone())
    );
    assert_eq!(pull(&app, "p1/app", &first).await.0, StatusCode::OK);

    let second = app
        .put_manifest("p1/app", "v1", OCI_MANIFEST, m2().into_bytes())
        .await;
    assert_ne!(first, second);
    assert_eq!(
        pull(&app, "p1/app", "v1").await,
        (StatusCode::OK, second.clone())
    );

    let res = app
        .admin(
            Method::DELETE,
            "/api/v2.0/projects/p1/repositories/app/artifacts/v1/tags/v1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(pull(&app, "p1/app", "v1").await.0, StatusCode::NOT_FOUND);

    let res = app
        .admin(Method::DELETE, &format!("/v2/p1/app/manifests/{first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(pull(&app, "p1/app", &first).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_replica_sees_a_moved_or_deleted_tag_within_its_window() {
    let a = TestApp::start().await;
    let b = a.replica_with(window(200)).await;
    a.create_project("p1", false).await;
    let first = a.push_m1("p1/app", "v1").await;
    assert_eq!(
        pull(&b, "p1/app", "v1").await,
        (StatusCode::OK, first.clone())
    );

    let second = a
        .put_manifest("p1/app", "v1", OCI_MANIFEST, m2().into_bytes())
        .await;
    let moved = (StatusCode::OK, second);
    let within = Duration::from_secs(5);
    assert_eq!(pull_until(&b, "p1/app", "v1", &moved, within).await, moved);

    let res = a
        .admin(Method::DELETE, "/api/v2.0/projects/p1/repositories/app")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let gone = (StatusCode::NOT_FOUND, String::new());
    assert_eq!(pull_until(&b, "p1/app", "v1", &gone, within).await, gone);
    assert_eq!(pull_until(&b, "p1/app", &first, &gone, within).await, gone);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_outside_berth_are_seen_through_the_triggers() {
    let app = TestApp::start_with(window(100)).await;
    app.create_project("p1", false).await;
    let first = app.push_m1("p1/app", "v1").await;
    let second = app
        .put_manifest("p1/app", "v2", OCI_MANIFEST, m2().into_bytes())
        .await;
    assert_eq!(pull(&app, "p1/app", "v1").await, (StatusCode::OK, first));

    // An operator moves the tag by hand, in SQL.
    let db = &app.state.db;
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "UPDATE tags SET manifest_id = (SELECT manifest_id FROM tags WHERE name = 'v2') \
         WHERE name = 'v1'",
    ))
    .await
    .unwrap();
    let moved = (StatusCode::OK, second);
    let within = Duration::from_secs(5);
    assert_eq!(
        pull_until(&app, "p1/app", "v1", &moved, within).await,
        moved
    );

    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "DELETE FROM tags WHERE name = 'v1'",
    ))
    .await
    .unwrap();
    let gone = (StatusCode::NOT_FOUND, String::new());
    assert_eq!(pull_until(&app, "p1/app", "v1", &gone, within).await, gone);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_changes_to_resolutions_raise_the_versions() {
    let app = TestApp::start().await;
    app.create_project("p1", false).await;
    let start = versions(&app).await;
    assert_eq!(start.len(), 64, "one row per slot");
    assert!(
        start
            .iter()
            .enumerate()
            .all(|(i, &(slot, _))| slot == i as i64)
    );

    app.push_m1("p1/app", "v1").await;
    let pushed = versions(&app).await;
    let raised = raised(&start, &pushed);
    assert_eq!(
        raised.len(),
        1,
        "a tag push raises its repository's slot only: {raised:?}"
    );

    // Pulls update pull counts and times; they must not expire what they resolved.
    for _ in 0..3 {
        assert_eq!(pull(&app, "p1/app", "v1").await.0, StatusCode::OK);
    }
    app.state.pulls.flush().await;
    let res = app
        .admin(Method::PUT, "/api/v2.0/projects/p1/repositories/app")
        .json(&serde_json::json!({"description": "changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(versions(&app).await, pushed);
}

/// A tag moved to another repository (by an operator's SQL: Berth never does it) raises the
/// slots of both repositories, so neither keeps a stale resolution.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_moved_between_repositories_raises_both_slots() {
    let app = TestApp::start().await;
    app.create_project("p1", false).await;
    app.push_m1("p1/app", "v1").await;
    app.push_m1("p1/other", "w1").await;
    let db = &app.state.db;
    let ids: Vec<i64> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM repositories WHERE name IN ('p1/app', 'p1/other') ORDER BY name",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("", "id").unwrap())
        .collect();
    let [from, to] = ids[..] else {
        panic!("two repositories: {ids:?}")
    };
    assert_ne!(from % 64, to % 64, "the two repositories share no slot");
    let before = versions(&app).await;
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "UPDATE tags SET repository_id = {to} WHERE repository_id = {from} AND name = 'v1'"
        ),
    ))
    .await
    .unwrap();
    let after = versions(&app).await;
    let raised = raised(&before, &after);
    assert_eq!(raised, vec![from % 64, to % 64]);
}
