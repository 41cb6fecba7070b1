//! The durable job queue: wake-ups, retries, timeouts, stop, pause, many workers, restarts,
//! schedules, locks; in-process and through a real Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use berth::db::entities::{job, job_schedule};
use berth::jobs::NewJob;
use berth_workers::{DbLocks, Job, JobContext, JobError, Locks, RedisLocks};
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::support::{TestApp, fast, redis_url, wait_job};

const KIND: &str = "TEST_JOB";

/// A job that records its runs; parameters choose its behaviour: `sleep_ms` (checking for a
/// stop every 20 ms), `fail_before_attempt` (fails while the attempt is lower).
#[derive(Default)]
struct Recorder {
    starts: Mutex<HashMap<i64, u32>>,
    completions: Mutex<HashMap<i64, u32>>,
    running: Mutex<u32>,
}

struct TestJob(Arc<Recorder>);

#[async_trait]
impl Job for TestJob {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, ctx: &JobContext) -> Result<String, JobError> {
        let id = ctx.job.id;
        *self.0.starts.lock().expect("lock").entry(id).or_default() += 1;
        {
            let mut running = self.0.running.lock().expect("lock");
            *running += 1;
        }
        let result = self.work(ctx).await;
        *self.0.running.lock().expect("lock") -= 1;
        if result.is_ok() {
            *self
                .0
                .completions
                .lock()
                .expect("lock")
                .entry(id)
                .or_default() += 1;
        }
        result
    }
}

impl TestJob {
    async fn work(&self, ctx: &JobContext) -> Result<String, JobError> {
        let fail_before = ctx.params["fail_before_attempt"].as_i64().unwrap_or(0) as i32;
        if ctx.job.attempt < fail_before {
            return Err(JobError::Other(format!(
                "planned failure at attempt {}",
                ctx.job.attempt
            )));
        }
        let sleep_ms = ctx.params["sleep_ms"].as_u64().unwrap_or(0);
        let until = Instant::now() + Duration::from_millis(sleep_ms);
        while Instant::now() < until {
            if ctx.should_stop() {
                return Err(JobError::Interrupted("sleeping".into()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ctx.checkpoint(serde_json::json!({"done": true})).await?;
        Ok("done".into())
    }
}

fn jobs(recorder: &Arc<Recorder>) -> Option<Vec<Arc<dyn Job>>> {
    Some(vec![Arc::new(TestJob(recorder.clone())) as Arc<dyn Job>])
}

fn test_job(params: serde_json::Value) -> NewJob {
    NewJob::manual(KIND, params)
}

async fn start(
    recorder: &Arc<Recorder>,
    tweak: impl FnOnce(&mut berth::config::Config),
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    TestApp::start_in(
        dir,
        |c| {
            fast(c);
            tweak(c);
        },
        jobs(recorder),
    )
    .await
}

async fn enqueue(app: &TestApp, params: serde_json::Value) -> i64 {
    app.state
        .jobs
        .enqueue(test_job(params))
        .await
        .expect("enqueue")
        .expect("not deduped")
        .id
}

#[tokio::test]
async fn enqueue_wakes_the_in_process_runner_at_once() {
    let recorder = Arc::new(Recorder::default());
    let app = start(&recorder, |c| c.workers.poll_seconds = 60).await;
    // Let the runners reach their wait.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let id = enqueue(&app, serde_json::json!({})).await;
    let row = wait_job(&app.state, id, Duration::from_secs(10)).await;
    assert_eq!(row.status, "Success", "{row:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken without polling"
    );
    assert_eq!(row.progress.as_deref(), Some("{\"done\":true}"));
    let log = app.state.jobs.log_text(id).await.expect("log");
    assert!(log.contains("attempt 1 of 3"), "{log}");
    app.stop().await;
}

#[tokio::test]
async fn failures_retry_with_back_off_then_succeed_or_give_up() {
    let recorder = Arc::new(Recorder::default());
    let app = start(&recorder, |_| {}).await;
    let recovers = enqueue(&app, serde_json::json!({"fail_before_attempt": 3})).await;
    let row = app.wait_job(recovers).await;
    assert_eq!(row.status, "Success");
    assert_eq!(row.attempt, 3);
    // Back-off: 1 s after the first failure, 2 s after the second.
    let took = row.finished_at.expect("finished") - row.created_at;
    assert!(took >= chrono::Duration::milliseconds(2900), "took {took}");

    let gives_up = enqueue(&app, serde_json::json!({"fail_before_attempt": 99})).await;
    let row = app.wait_job(gives_up).await;
    assert_eq!(row.status, "Error");
    assert_eq!(row.attempt, 3);
    assert!(
        row.message
            .as_deref()
            .unwrap_or_default()
            .contains("planned failure"),
        "{row:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_job_past_its_timeout_is_stopped_and_retried() {
    let recorder = Arc::new(Recorder::default());
    let app = start(&recorder, |_| {}).await;
    let mut new = test_job(serde_json::json!({"sleep_ms": 60_000}));
    new.timeout = Duration::from_secs(1);
    new.max_attempts = 2;
    let id = app
        .state
        .jobs
        .enqueue(new)
        .await
        .expect("enqueue")
        .expect("new")
        .id;
    let row = app.wait_job(id).await;
    assert_eq!(row.status, "Error", "{row:?}");
    assert_eq!(row.attempt, 2);
    assert_eq!(recorder.starts.lock().expect("lock")[&id], 2);
    let log = app.state.jobs.log_text(id).await.expect("log");
    assert!(log.contains("timed out after 1 s"), "{log}");
    app.stop().await;
}

#[tokio::test]
async fn stop_ends_pending_and_running_jobs() {
    let recorder = Arc::new(Recorder::default());
    let app = start(&recorder, |c| c.workers.concurrency = 1).await;
    let running = enqueue(&app, serde_json::json!({"sleep_ms": 60_000})).await;
    let pending = enqueue(&app, serde_json::json!({})).await;
    let started = Instant::now();
    while recorder
        .starts
        .lock()
        .expect("lock")
        .get(&running)
        .is_none()
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "job never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stopped = app
        .state
        .jobs
        .request_stop(pending)
        .await
        .expect("stop")
        .expect("job");
    assert_eq!(stopped.status, "Stopped");
    app.state.jobs.request_stop(running).await.expect("stop");
    let row = app.wait_job(running).await;
    assert_eq!(row.status, "Stopped", "{row:?}");
    assert!(
        recorder
            .starts
            .lock()
            .expect("lock")
            .get(&pending)
            .is_none()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_paused_kind_waits_until_resumed() {
    let recorder = Arc::new(Recorder::default());
    let app = start(&recorder, |_| {}).await;
    app.state.jobs.set_paused(KIND, true).await.expect("pause");
    let id = enqueue(&app, serde_json::json!({})).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let row = app.state.jobs.get(id).await.expect("get").expect("job");
    assert_eq!(row.status, "Pending");
    app.state
        .jobs
        .set_paused(KIND, false)
        .await
        .expect("resume");
    assert_eq!(app.wait_job(id).await.status, "Success");
    app.stop().await;
}

/// Two "processes" (servers with their own workers) share one database: every job runs once.
async fn many_workers_share_the_queue(redis: Option<String>) {
    let recorder = Arc::new(Recorder::default());
    let first = start(&recorder, |c| {
        c.workers.concurrency = 3;
        c.workers.redis_url = redis.clone();
    })
    .await;
    let url = first.state.config.database_url();
    let second = start(&recorder, |c| {
        c.workers.concurrency = 3;
        c.workers.redis_url = redis.clone();
        c.database.url = Some(url);
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let app = if i % 2 == 0 { &first } else { &second };
        ids.push(enqueue(app, serde_json::json!({"sleep_ms": 50})).await);
    }
    for id in &ids {
        assert_eq!(
            wait_job(&first.state, *id, Duration::from_secs(60))
                .await
                .status,
            "Success"
        );
    }
    let starts = recorder.starts.lock().expect("lock").clone();
    for id in &ids {
        assert_eq!(
            starts.get(id),
            Some(&1),
            "job {id} started {:?} times",
            starts.get(id)
        );
    }
    second.stop().await;
    first.stop().await;
}

#[tokio::test]
async fn many_workers_share_the_queue_in_process() {
    many_workers_share_the_queue(None).await;
}

#[tokio::test]
async fn many_workers_share_the_queue_through_redis() {
    let Some(url) = redis_url() else {
        eprintln!("BERTH_TEST_REDIS_URL is unset: skipping the Redis case");
        return;
    };
    many_workers_share_the_queue(Some(url)).await;
}

#[tokio::test]
async fn redis_carries_wake_ups_between_processes() {
    let Some(url) = redis_url() else {
        eprintln!("BERTH_TEST_REDIS_URL is unset: skipping the Redis case");
        return;
    };
    let recorder = Arc::new(Recorder::default());
    // The enqueuing process runs no jobs; the other polls only every minute.
    let dir = tempfile::tempdir().expect("tempdir");
    let producer_url = url.clone();
    let producer = TestApp::start_in(
        dir,
        |c| {
            fast(c);
            c.workers.redis_url = Some(producer_url);
        },
        Some(Vec::new()),
    )
    .await;
    let db_url = producer.state.config.database_url();
    let consumer = start(&recorder, |c| {
        c.workers.redis_url = Some(url);
        c.workers.poll_seconds = 60;
        c.database.url = Some(db_url);
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let id = enqueue(&producer, serde_json::json!({})).await;
    let row = wait_job(&producer.state, id, Duration::from_secs(10)).await;
    assert_eq!(row.status, "Success");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken through Redis, not by polling"
    );
    consumer.stop().await;
    producer.stop().await;
}

async fn exclusive_locks(locks: &dyn Locks) {
    let ttl = Duration::from_secs(1);
    let name = format!("test-{}", uuid::Uuid::new_v4());
    assert!(locks.acquire(&name, "a", ttl).await.expect("acquire"));
    assert!(
        !locks.acquire(&name, "b", ttl).await.expect("acquire"),
        "held by a"
    );
    assert!(
        locks.acquire(&name, "a", ttl).await.expect("renew"),
        "a renews"
    );
    locks
        .release(&name, "b")
        .await
        .expect("release by a non-owner is a no-op");
    assert!(
        !locks.acquire(&name, "b", ttl).await.expect("acquire"),
        "still held by a"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        locks.acquire(&name, "b", ttl).await.expect("acquire"),
        "expired, b takes it"
    );
    locks.release(&name, "b").await.expect("release");
    assert!(
        locks.acquire(&name, "c", ttl).await.expect("acquire"),
        "released"
    );
}

#[tokio::test]
async fn database_and_redis_locks_are_exclusive_and_expire() {
    let recorder = Arc::new(Recorder::default());
    let app = start(&recorder, |_| {}).await;
    exclusive_locks(&DbLocks::new(app.state.db.clone())).await;
    if let Some(url) = redis_url() {
        let client = redis::Client::open(url).expect("redis url");
        exclusive_locks(&RedisLocks::connect(client).await.expect("redis")).await;
    } else {
        eprintln!("BERTH_TEST_REDIS_URL is unset: skipping the Redis locks");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_job_whose_worker_died_is_claimed_again_when_its_lease_expires() {
    let recorder = Arc::new(Recorder::default());
    let app = start(&recorder, |c| c.workers.embedded = false).await;
    let id = enqueue(&app, serde_json::json!({})).await;
    // A worker that claimed it, then vanished.
    let past = Utc::now() - chrono::Duration::seconds(5);
    job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value("Running"))
        .col_expr(job::Column::LeaseOwner, Expr::value("dead-worker"))
        .col_expr(job::Column::LeaseUntil, Expr::value(past))
        .col_expr(job::Column::Attempt, Expr::value(1))
        .filter(job::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .expect("fake claim");
    let dir = app.stop().await;
    let app = TestApp::start_in(dir, fast, jobs(&recorder)).await;
    let row = app.wait_job(id).await;
    assert_eq!(row.status, "Success", "{row:?}");
    assert_eq!(row.attempt, 2);
    assert_eq!(recorder.completions.lock().expect("lock")[&id], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_server_restart_in_the_middle_of_a_job_completes_it_once() {
    let recorder = Arc::new(Recorder::default());
    let app = start(&recorder, |_| {}).await;
    let id = enqueue(&app, serde_json::json!({"sleep_ms": 1500})).await;
    let started = Instant::now();
    while recorder.starts.lock().expect("lock").get(&id).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "job never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dir = app.stop().await;
    let interrupted = {
        let app = TestApp::start_in(
            dir,
            |c| {
                fast(c);
                c.workers.embedded = false;
            },
            None,
        )
        .await;
        let row = app.state.jobs.get(id).await.expect("get").expect("job");
        (row, app.stop().await)
    };
    assert_eq!(
        interrupted.0.status, "Pending",
        "shutdown hands the job back: {:?}",
        interrupted.0
    );
    let app = TestApp::start_in(interrupted.1, fast, jobs(&recorder)).await;
    let row = app.wait_job(id).await;
    assert_eq!(row.status, "Success", "{row:?}");
    assert_eq!(recorder.completions.lock().expect("lock")[&id], 1);
    assert_eq!(recorder.starts.lock().expect("lock")[&id], 2);
    app.stop().await;
}

#[tokio::test]
async fn a_schedule_enqueues_one_job_per_tick_across_processes() {
    let recorder = Arc::new(Recorder::default());
    let first = start(&recorder, |_| {}).await;
    let url = first.state.config.database_url();
    let second = start(&recorder, |c| c.database.url = Some(url)).await;
    let now = Utc::now();
    job_schedule::Entity::insert(job_schedule::ActiveModel {
        name: Set("test:every-second".into()),
        kind: Set(KIND.into()),
        schedule_type: Set("Custom".into()),
        cron: Set("* * * * * *".into()),
        params: Set("{}".into()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(&first.state.db)
    .await
    .expect("schedule");
    let started = Instant::now();
    let fired = loop {
        let rows = job::Entity::find()
            .filter(job::Column::Kind.eq(KIND))
            .all(&first.state.db)
            .await
            .expect("jobs");
        if !rows.is_empty() {
            break rows;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "schedule never fired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Both processes fire every second, but one minute holds one job.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rows = job::Entity::find()
        .filter(job::Column::Kind.eq(KIND))
        .all(&first.state.db)
        .await
        .expect("jobs");
    assert!(rows.len() <= 2, "one job per minute, got {}", rows.len());
    assert_eq!(fired[0].trigger, "SCHEDULE");
    assert!(
        fired[0]
            .dedupe_key
            .as_deref()
            .unwrap_or_default()
            .starts_with("schedule:test:every-second:")
    );
    second.stop().await;
    first.stop().await;
}
