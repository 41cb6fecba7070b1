//! Issue 6: long lists stay fast with 100,000 artifacts in one project. The artifacts are
//! seeded straight into the metadata tables (100,000 pushes would take far too long); the API
//! then pages through them. Timings are printed (`--nocapture`), not asserted: they depend on the
//! machine.

use std::time::{Duration, Instant};

use berth::db::entities::{manifest, repository, tag};
use chrono::Utc;
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::support::*;

const ARTIFACTS: i64 = 100_000;
const BATCH: i64 = 1_000;

fn seeded_digest(i: i64) -> String {
    format!("sha256:{i:064x}")
}

/// Inserts `ARTIFACTS` image manifests, each tagged `t<i>`, pushed one second apart and all
/// older than anything pushed during the test.
async fn seed(db: &DatabaseConnection, repository_id: i64) {
    let oldest = Utc::now() - chrono::Duration::seconds(ARTIFACTS + 3_600);
    for start in (0..ARTIFACTS).step_by(BATCH as usize) {
        let rows = (start..start + BATCH).map(|i| manifest::ActiveModel {
            repository_id: Set(repository_id),
            digest: Set(seeded_digest(i)),
            media_type: Set(OCI_MANIFEST.into()),
            artifact_type: Set(Some("application/vnd.oci.image.config.v1+json".into())),
            size: Set(1_000 + i),
            created_at: Set(oldest + chrono::Duration::seconds(i)),
            ..Default::default()
        });
        manifest::Entity::insert_many(rows).exec(db).await.unwrap();
        let ids = manifest::Entity::find()
            .filter(manifest::Column::RepositoryId.eq(repository_id))
            .filter(manifest::Column::Digest.is_in((start..start + BATCH).map(seeded_digest)))
            .all(db)
            .await
            .unwrap();
        let tags = ids.into_iter().map(|m| {
            let i = i64::from_str_radix(&m.digest["sha256:".len()..], 16).unwrap();
            tag::ActiveModel {
                repository_id: Set(repository_id),
                name: Set(format!("t{i}")),
                manifest_id: Set(m.id),
                created_at: Set(m.created_at),
                updated_at: Set(m.created_at),
                ..Default::default()
            }
        });
        tag::Entity::insert_many(tags).exec(db).await.unwrap();
    }
}

/// The fastest of three requests (the first also warms caches), its total and its body.
async fn timed_get(app: &TestApp, path: &str) -> (Duration, u64, Value) {
    let mut best = Duration::MAX;
    let mut answer = (0, Value::Null);
    for _ in 0..3 {
        let started = Instant::now();
        let res = app.admin(Method::GET, path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let total = header(&res, "x-total-count").parse().unwrap();
        let body: Value = res.json().await.unwrap();
        best = best.min(started.elapsed());
        answer = (total, body);
    }
    (best, answer.0, answer.1)
}

fn digests(page: &Value) -> Vec<String> {
    page.as_array()
        .unwrap()
        .iter()
        .map(|a| a["digest"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifact_list_pages_through_100k_artifacts() {
    let app = TestApp::start().await;
    app.create_project("big", false).await;
    let pushed = app.push_m1("big/app", "latest").await;
    let repo = repository::Entity::find()
        .filter(repository::Column::Name.eq("big/app"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let started = Instant::now();
    seed(&app.state.db, repo.id).await;
    let seeding = started.elapsed();

    let base = "/api/v2.0/projects/big/repositories/app/artifacts";
    let (first_time, total, first) = timed_get(&app, &format!("{base}?page=1&page_size=15")).await;
    assert_eq!(total, ARTIFACTS as u64 + 1);
    let first = digests(&first);
    assert_eq!(first[0], pushed, "the pushed image is the newest");
    let newest_seeded: Vec<String> = (ARTIFACTS - 14..ARTIFACTS)
        .rev()
        .map(seeded_digest)
        .collect();
    assert_eq!(first[1..], newest_seeded[..]);

    // Page 6,000 starts at position 89,985: the pushed image, then seeded ones newest first.
    let (late_time, _, late) = timed_get(&app, &format!("{base}?page=6000&page_size=15")).await;
    let late_page = late.as_array().unwrap();
    let expected: Vec<String> = (ARTIFACTS - 89_999..=ARTIFACTS - 89_985)
        .rev()
        .map(seeded_digest)
        .collect();
    assert_eq!(digests(&late), expected);
    assert_eq!(
        late_page[0]["tags"][0]["name"],
        format!("t{}", ARTIFACTS - 89_985)
    );

    let (last_time, _, last) = timed_get(&app, &format!("{base}?page=6667&page_size=15")).await;
    // The last page holds positions 99,990 to 100,000: the eleven oldest.
    let oldest: Vec<String> = (0..=10).rev().map(seeded_digest).collect();
    assert_eq!(digests(&last), oldest);

    let (repos_time, repo_total, repos) = timed_get(
        &app,
        "/api/v2.0/projects/big/repositories?page=1&page_size=15",
    )
    .await;
    assert_eq!(repo_total, 1);
    assert_eq!(repos[0]["artifact_count"], ARTIFACTS + 1);

    println!(
        "100k artifacts ({}): seeded in {:.1} s; artifacts page 1 {} ms, page 6000 {} ms, \
         page 6667 {} ms; repositories page {} ms",
        if std::env::var_os("BERTH_TEST_DATABASE_URL").is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        seeding.as_secs_f64(),
        first_time.as_millis(),
        late_time.as_millis(),
        last_time.as_millis(),
        repos_time.as_millis(),
    );
}
