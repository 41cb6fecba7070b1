//! Berth's background workers: runners that claim jobs from the durable queue, the schedules
//! that enqueue them, and the jobs themselves (one file per job under `jobs/`).
//!
//! Workers run embedded in `berth serve` or alone in `berth worker` processes; any number of
//! processes share the queue in the database. Wake-ups travel through an in-process signal,
//! and through Redis pub/sub when `[workers] redis_url` is set; locks for jobs that must run
//! alone live in Redis then, in the database otherwise.

use std::sync::Arc;

use berth::app::AppState;
use berth::config::WorkersConfig;
use tokio::sync::watch;
use tokio::task::JoinSet;

mod job;
pub mod jobs;
mod locks;
mod runner;
mod schedule;
mod wake;

pub use job::{Job, JobContext, JobError};
pub use locks::{DbLocks, Locks, RedisLocks};
pub use runner::Runner;

/// Why the workers could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("scheduler: {0}")]
    Scheduler(#[from] tokio_cron_scheduler::JobSchedulerError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Running workers of one process.
pub struct Workers {
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
    scheduler: schedule::Scheduler,
}

impl Workers {
    /// Starts `config.concurrency` runners for Berth's jobs, the schedule loop and, with Redis,
    /// the wake-up subscriber.
    ///
    /// # Errors
    /// Redis cannot be reached, or the scheduler cannot start.
    pub async fn start(state: Arc<AppState>, config: &WorkersConfig) -> Result<Self, WorkerError> {
        Self::start_with(state, config, jobs::all()).await
    }

    /// Starts workers for the given jobs only (tests use their own).
    ///
    /// # Errors
    /// As [`Workers::start`].
    pub async fn start_with(
        state: Arc<AppState>,
        config: &WorkersConfig,
        jobs: Vec<Arc<dyn Job>>,
    ) -> Result<Self, WorkerError> {
        let (shutdown, watching) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let locks: Arc<dyn Locks> = match &config.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str())?;
                let waker = wake::RedisWaker::connect(client.clone()).await?;
                state.jobs.set_remote_waker(Arc::new(waker));
                tasks.spawn(wake::subscribe(
                    client.clone(),
                    state.clone(),
                    watching.clone(),
                ));
                Arc::new(RedisLocks::connect(client).await?)
            }
            None => Arc::new(DbLocks::new(state.db.clone())),
        };
        schedule::ensure_system_schedules(&state).await?;
        let owner_prefix = format!("{}-{}", hostname(), uuid::Uuid::new_v4().simple());
        for index in 0..config.concurrency {
            let runner = Runner::new(
                state.clone(),
                config.clone(),
                jobs.clone(),
                locks.clone(),
                format!("{owner_prefix}-{index}"),
            );
            tasks.spawn(runner.run(watching.clone()));
        }
        let scheduler = schedule::Scheduler::start(state.clone(), config, watching).await?;
        tracing::info!(
            concurrency = config.concurrency,
            redis = config.redis_url.is_some(),
            "workers started"
        );
        Ok(Self {
            shutdown,
            tasks,
            scheduler,
        })
    }

    /// Stops claiming jobs and waits for running ones to reach a stopping point. A job that
    /// does not finish keeps its lease until it expires, and is then claimed again.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        self.scheduler.shutdown().await;
        while self.tasks.join_next().await.is_some() {}
        tracing::info!("workers stopped");
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into())
}
