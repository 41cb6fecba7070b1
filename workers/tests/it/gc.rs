//! Online garbage collection with real pushes through `/v2`.

use std::sync::Arc;
use std::time::Duration;

use berth::db::entities::{blob, manifest, manifest_reference, upload_session};
use berth::digest::Digest;
use chrono::Utc;
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::support::{TestApp, digest, fast, header, manifest};

async fn blob_status(app: &TestApp, repo: &str, bytes: &[u8]) -> (StatusCode, StatusCode) {
    let path = format!("/v2/{repo}/blobs/{}", digest(bytes));
    (
        app.status(Method::HEAD, &path).await,
        app.status(Method::GET, &path).await,
    )
}

async fn in_storage(app: &TestApp, bytes: &[u8]) -> bool {
    let d: Digest = digest(bytes).parse().expect("digest");
    app.state
        .registry
        .store()
        .stat(&d)
        .await
        .expect("stat")
        .is_some()
}

#[tokio::test]
async fn gc_deletes_unreferenced_blobs_and_keeps_referenced_ones() {
    let app = TestApp::start().await;
    app.create_project("gc").await;
    let kept = app
        .push(
            "gc/app",
            "v1",
            b"{\"kept\":1}",
            &[b"shared layer", b"kept layer"],
        )
        .await;
    let gone = app
        .push(
            "gc/app",
            "v2",
            b"{\"gone\":1}",
            &[b"shared layer", b"gone layer"],
        )
        .await;
    let res = app
        .admin(Method::DELETE, &format!("/v2/gc/app/manifests/{gone}"))
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // Until GC runs, the unreferenced blob is still served.
    assert_eq!(
        blob_status(&app, "gc/app", b"gone layer").await.0,
        StatusCode::OK
    );

    let dry = app
        .run_gc(serde_json::json!({"dry_run": true, "grace_seconds": 0}))
        .await;
    assert_eq!(dry.status, "Success", "{dry:?}");
    let message = dry.message.clone().unwrap_or_default();
    assert!(
        message.contains("would delete 0 untagged manifests and 3 blobs"),
        "{message}"
    );
    assert_eq!(
        blob_status(&app, "gc/app", b"gone layer").await.0,
        StatusCode::OK
    );

    let run = app.run_gc(serde_json::json!({"grace_seconds": 0})).await;
    assert_eq!(run.status, "Success", "{run:?}");
    // The deleted manifest's config, its own layer and its content are gone.
    assert_eq!(
        blob_status(&app, "gc/app", b"gone layer").await,
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(
        blob_status(&app, "gc/app", b"{\"gone\":1}").await.0,
        StatusCode::NOT_FOUND
    );
    assert!(!in_storage(&app, b"gone layer").await);
    let gone_digest: Digest = gone.parse().expect("digest");
    assert!(
        app.state
            .registry
            .store()
            .stat(&gone_digest)
            .await
            .expect("stat")
            .is_none()
    );
    for bytes in [&b"shared layer"[..], b"kept layer", b"{\"kept\":1}"] {
        assert_eq!(
            blob_status(&app, "gc/app", bytes).await,
            (StatusCode::OK, StatusCode::OK)
        );
    }
    assert_eq!(
        app.status(Method::GET, &format!("/v2/gc/app/manifests/{kept}"))
            .await,
        StatusCode::OK
    );

    // The API shows the run, its counters and an audit log naming each deletion.
    let res = app
        .admin(Method::GET, &format!("/api/v2.0/system/gc/{}", run.id))
        .send()
        .await
        .expect("get");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["job_status"], "Success");
    assert_eq!(body["job_name"], "GARBAGE_COLLECTION");
    assert_eq!(body["progress"]["blobs_deleted"], 3);
    let log = app
        .admin(Method::GET, &format!("/api/v2.0/system/gc/{}/log", run.id))
        .send()
        .await
        .expect("log")
        .text()
        .await
        .expect("text");
    assert!(log.contains(&digest(b"gone layer")), "{log}");
    let list = app
        .admin(Method::GET, "/api/v2.0/system/gc")
        .send()
        .await
        .expect("list");
    assert_eq!(header(&list, "x-total-count"), "2");
    app.stop().await;
}

#[tokio::test]
async fn the_grace_window_spares_recent_uploads() {
    let app = TestApp::start().await;
    app.create_project("grace").await;
    app.upload("grace/app", b"uploaded, manifest still to come")
        .await;
    let run = app.run_gc(serde_json::json!({})).await;
    assert_eq!(run.status, "Success");
    let (head, _) = blob_status(&app, "grace/app", b"uploaded, manifest still to come").await;
    assert_eq!(
        head,
        StatusCode::OK,
        "a blob inside the grace window survives"
    );
    app.stop().await;
}

#[tokio::test]
async fn delete_untagged_removes_untagged_artifacts_only() {
    let app = TestApp::start().await;
    app.create_project("untag").await;
    let tagged = app
        .push("untag/app", "v1", b"{\"t\":1}", &[b"tagged layer"])
        .await;
    let untagged = app
        .push("untag/app", "v2", b"{\"u\":1}", &[b"untagged layer"])
        .await;
    // Moving v2 away leaves the first v2 untagged.
    app.push("untag/app", "v2", b"{\"u\":2}", &[b"tagged layer"])
        .await;
    let keep_untagged = app.run_gc(serde_json::json!({"grace_seconds": 0})).await;
    assert_eq!(keep_untagged.status, "Success");
    assert_eq!(
        app.status(Method::GET, &format!("/v2/untag/app/manifests/{untagged}"))
            .await,
        StatusCode::OK
    );

    let run = app
        .run_gc(serde_json::json!({"grace_seconds": 0, "delete_untagged": true}))
        .await;
    assert_eq!(run.status, "Success", "{run:?}");
    assert_eq!(
        app.status(Method::GET, &format!("/v2/untag/app/manifests/{untagged}"))
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        blob_status(&app, "untag/app", b"untagged layer").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.status(Method::GET, &format!("/v2/untag/app/manifests/{tagged}"))
            .await,
        StatusCode::OK
    );
    assert_eq!(
        app.status(Method::GET, "/v2/untag/app/manifests/v2").await,
        StatusCode::OK
    );
    assert_eq!(
        blob_status(&app, "untag/app", b"tagged layer").await.0,
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn gc_removes_stale_upload_sessions() {
    let app = TestApp::start_with(|c| {
        fast(c);
        c.registry.upload_max_age_seconds = 1;
    })
    .await;
    app.create_project("uploads").await;
    let res = app
        .admin(Method::POST, "/v2/uploads/app/blobs/uploads/")
        .send()
        .await
        .expect("start");
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let location = header(&res, "location");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let run = app.run_gc(serde_json::json!({})).await;
    assert!(
        run.message
            .unwrap_or_default()
            .contains("removed 1 stale upload sessions")
    );
    assert_eq!(
        app.status(Method::GET, &location).await,
        StatusCode::NOT_FOUND
    );
    let sessions = upload_session::Entity::find()
        .all(&app.state.db)
        .await
        .expect("sessions");
    assert!(sessions.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_interrupted_gc_resumes_from_its_checkpoint() {
    let app = TestApp::start_with(|c| {
        fast(c);
        c.workers.embedded = false;
    })
    .await;
    app.create_project("resume").await;
    for i in 0..4u8 {
        app.upload("resume/app", &[b'x', i]).await;
    }
    let rows = blob::Entity::find()
        .all(&app.state.db)
        .await
        .expect("blobs");
    // Ids may have gaps (an upsert that finds its row can still use up an id).
    let mut ids: Vec<i64> = rows.iter().map(|b| b.id).collect();
    ids.sort_unstable();
    let second = ids[1];
    // A run that finished the first two blobs before its worker died.
    let job = app
        .state
        .jobs
        .enqueue(berth::jobs::NewJob::manual(
            berth::jobs::kinds::GC,
            serde_json::json!({"grace_seconds": 0}),
        ))
        .await
        .expect("enqueue")
        .expect("new");
    use sea_orm::sea_query::Expr;
    berth::db::entities::job::Entity::update_many()
        .col_expr(
            berth::db::entities::job::Column::Status,
            Expr::value("Running"),
        )
        .col_expr(berth::db::entities::job::Column::Attempt, Expr::value(1))
        .col_expr(
            berth::db::entities::job::Column::LeaseOwner,
            Expr::value("gone"),
        )
        .col_expr(
            berth::db::entities::job::Column::LeaseUntil,
            Expr::value(Utc::now() - chrono::Duration::seconds(1)),
        )
        .col_expr(
            berth::db::entities::job::Column::Progress,
            Expr::value(
                serde_json::json!({"phase": "blobs", "cursor": second, "manifests_deleted": 0,
                "blobs_deleted": 2, "bytes_freed": 4, "uploads_removed": 0})
                .to_string(),
            ),
        )
        .filter(berth::db::entities::job::Column::Id.eq(job.id))
        .exec(&app.state.db)
        .await
        .expect("fake interrupted run");
    let dir = app.stop().await;
    let app = TestApp::start_in(dir, fast, None).await;
    let row = app.wait_job(job.id).await;
    assert_eq!(row.status, "Success", "{row:?}");
    let message = row.message.clone().unwrap_or_default();
    assert!(message.contains("4 blobs, 8 bytes"), "{message}");
    // Blobs up to the checkpoint were not looked at again; the rest are gone.
    assert_eq!(
        blob_status(&app, "resume/app", &[b'x', 0]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        blob_status(&app, "resume/app", &[b'x', 1]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        blob_status(&app, "resume/app", &[b'x', 2]).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        blob_status(&app, "resume/app", &[b'x', 3]).await.0,
        StatusCode::NOT_FOUND
    );
    let log = app.state.jobs.log_text(job.id).await.expect("log");
    assert!(log.contains("resuming in phase blobs"), "{log}");
    app.stop().await;
}

/// Every manifest in the database can be pulled whole: its content and every blob it names.
async fn assert_nothing_lost(app: &TestApp) {
    let manifests = manifest::Entity::find()
        .all(&app.state.db)
        .await
        .expect("manifests");
    for m in manifests {
        let content: Digest = m.digest.parse().expect("digest");
        assert!(
            app.state
                .registry
                .store()
                .stat(&content)
                .await
                .expect("stat")
                .is_some(),
            "content of {} lost",
            m.digest
        );
        let refs = manifest_reference::Entity::find()
            .filter(manifest_reference::Column::ManifestId.eq(m.id))
            .all(&app.state.db)
            .await
            .expect("refs");
        for r in refs {
            let d: Digest = r.digest.parse().expect("digest");
            assert!(
                app.state
                    .registry
                    .store()
                    .stat(&d)
                    .await
                    .expect("stat")
                    .is_some(),
                "blob {} of {} lost",
                r.digest,
                m.digest
            );
            let row = blob::Entity::find()
                .filter(blob::Column::Digest.eq(&r.digest))
                .one(&app.state.db)
                .await
                .expect("blob");
            assert!(row.is_some(), "blob row {} of {} lost", r.digest, m.digest);
            let path = format!("/v2/race/app/blobs/{}", r.digest);
            assert_eq!(
                app.status(Method::GET, &path).await,
                StatusCode::OK,
                "pull {} of {}",
                r.digest,
                m.digest
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gc_racing_concurrent_pushes_never_loses_a_blob() {
    let app = Arc::new(
        TestApp::start_with(|c| {
            fast(c);
            c.workers.embedded = false;
        })
        .await,
    );
    app.create_project("race").await;
    let (mut pushed, mut refused, mut collected) = (0, 0, 0);
    for round in 0..25u32 {
        let mut pushers = Vec::new();
        for i in 0..4u32 {
            let app = app.clone();
            pushers.push(tokio::spawn(async move {
                let config = format!("{{\"round\":{round},\"i\":{i}}}").into_bytes();
                let own = format!("layer {round}/{i} {}", rand::random::<u64>()).into_bytes();
                let shared = format!("shared layer {}", round % 3).into_bytes();
                let layers: Vec<&[u8]> = vec![&shared, &own];
                for bytes in [&config, &own, &shared] {
                    if app.try_upload("race/app", bytes).await.status() != StatusCode::CREATED {
                        return false;
                    }
                }
                let tag = format!("t{}", (round + i) % 5);
                let res = app
                    .try_put_manifest("race/app", &tag, &manifest(&config, &layers))
                    .await;
                if res.status() == StatusCode::CREATED && rand::random::<bool>() {
                    // Untag some again so their blobs become garbage while others push.
                    let d = digest(&manifest(&config, &layers));
                    let _ = app
                        .admin(Method::DELETE, &format!("/v2/race/app/manifests/{d}"))
                        .send()
                        .await;
                }
                res.status() == StatusCode::CREATED
            }));
        }
        let collector = {
            let app = app.clone();
            tokio::spawn(async move {
                let mut deleted = 0;
                for pass in 0..4 {
                    let cutoff = Utc::now();
                    let registry = &app.state.registry;
                    for c in registry
                        .gc_untagged_candidates(0, cutoff, 1000)
                        .await
                        .expect("untagged")
                    {
                        registry
                            .gc_delete_manifest(&c, cutoff)
                            .await
                            .expect("delete manifest");
                    }
                    let candidates = registry
                        .gc_blob_candidates(0, cutoff, 1000)
                        .await
                        .expect("candidates");
                    // A slow collector: pushes commit between the listing and the deletions,
                    // which only the re-check under the row's lock protects.
                    tokio::time::sleep(Duration::from_millis(15)).await;
                    // Both deletion paths: one blob per transaction, and the GC job's batches.
                    if pass % 2 == 0 {
                        for c in candidates {
                            let gone = registry
                                .gc_delete_blob(&c, cutoff)
                                .await
                                .expect("delete blob");
                            deleted += u32::from(gone);
                        }
                    } else {
                        let gone = registry
                            .gc_delete_blobs(&candidates, cutoff)
                            .await
                            .expect("delete blobs");
                        deleted += u32::try_from(gone.len()).unwrap_or(u32::MAX);
                    }
                    tokio::task::yield_now().await;
                }
                deleted
            })
        };
        for p in pushers {
            if p.await.expect("pusher") {
                pushed += 1;
            } else {
                refused += 1;
            }
        }
        collected += collector.await.expect("collector");
        assert_nothing_lost(&app).await;
    }
    eprintln!(
        "pushes committed: {pushed}, refused while racing GC: {refused}, blobs collected: {collected}"
    );
    assert!(pushed > 0, "some pushes must have committed");
    assert!(
        collected > 0,
        "collections must have deleted blobs while pushes ran"
    );
}

/// GC aborts S3 multipart uploads nothing will complete (what a crash mid-commit leaves) and
/// reports them. Runs against moto's S3 server, which lists multipart uploads (s3s-fs does
/// not); scripts/test.sh sets `BERTH_TEST_S3_MULTIPART_ENDPOINT`.
#[tokio::test]
async fn gc_aborts_dangling_s3_multipart_uploads() {
    let Ok(endpoint) = std::env::var("BERTH_TEST_S3_MULTIPART_ENDPOINT") else {
        eprintln!("BERTH_TEST_S3_MULTIPART_ENDPOINT is not set: the multipart sweep is skipped");
        return;
    };
    berth::install_crypto_provider();
    let bucket = format!("gc-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let s3 = berth::config::S3Config {
        bucket: bucket.clone(),
        endpoint: Some(endpoint.clone()),
        path_style: true,
        access_key_id: Some("berth".into()),
        secret_access_key: Some("berth-secret".to_owned().into()),
        create_bucket: true,
        ..berth::config::S3Config::default()
    };
    let app = TestApp::start_with(move |c| {
        fast(c);
        c.storage.backend = berth::config::StorageBackend::S3;
        c.storage.s3 = Some(s3);
    })
    .await;
    let credentials =
        aws_sdk_s3::config::Credentials::new("berth", "berth-secret", None, None, "test");
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .credentials_provider(credentials)
            .build(),
    );
    let key = format!("blobs/sha256/ab/{}", "ab".repeat(32));
    client
        .create_multipart_upload()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .expect("create multipart upload");

    let run = app.run_gc(serde_json::json!({})).await;
    assert_eq!(run.status, "Success", "{run:?}");
    assert!(
        run.message
            .as_deref()
            .unwrap_or_default()
            .contains("and 1 dangling storage uploads"),
        "{run:?}"
    );
    let listed = client
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .expect("list");
    assert!(listed.uploads().is_empty(), "aborted: {listed:?}");
    let log = app
        .admin(Method::GET, &format!("/api/v2.0/system/gc/{}/log", run.id))
        .send()
        .await
        .expect("gc log")
        .text()
        .await
        .expect("log text");
    assert!(log.contains("aborted 1 dangling storage uploads"), "{log}");
    app.stop().await;
}
