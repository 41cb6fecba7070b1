//! What a job is and what it receives while it runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use berth::app::AppState;
use berth::db::entities::job;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::Mutex;

/// A kind of background work. Jobs run at least once: a job may be run again after a crash or
/// a lost lease, so `run` must be idempotent, and long jobs save checkpoints to resume from.
#[async_trait]
pub trait Job: Send + Sync {
    /// The kind this job runs (a `berth::jobs::kinds` name).
    fn kind(&self) -> &'static str;

    /// Whether at most one job of this kind may run at a time across all workers.
    fn exclusive(&self) -> bool {
        false
    }

    /// Does the work; returns a one-line summary for the job's record.
    ///
    /// # Errors
    /// Any failure; the runner retries with back-off until the job's attempts are used up.
    async fn run(&self, ctx: &JobContext) -> Result<String, JobError>;
}

/// Why a job run failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("invalid parameters: {0}")]
    Params(String),
    #[error("interrupted (stop, timeout or shutdown) after: {0}")]
    Interrupted(String),
    #[error("the job's lease was lost; another worker may run it")]
    LeaseLost,
    #[error(transparent)]
    Registry(#[from] berth::registry::RegistryError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Other(String),
}

/// A running job's view of itself: parameters, checkpoint, log and stop signal.
pub struct JobContext {
    pub state: Arc<AppState>,
    pub job: job::Model,
    pub params: serde_json::Value,
    pub(crate) owner: String,
    pub(crate) stopping: AtomicBool,
    pub(crate) lease_lost: AtomicBool,
    progress: Mutex<serde_json::Value>,
}

impl JobContext {
    pub(crate) fn new(state: Arc<AppState>, job: job::Model, owner: String) -> Self {
        Self {
            params: berth::jobs::params(&job),
            progress: Mutex::new(berth::jobs::progress(&job)),
            state,
            job,
            owner,
            stopping: AtomicBool::new(false),
            lease_lost: AtomicBool::new(false),
        }
    }

    /// True once the job should wind down: a stop was requested, its timeout passed, its
    /// lease was lost, or the process is shutting down. Jobs check it between steps.
    pub fn should_stop(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The last checkpoint saved by this job (from an earlier attempt too).
    pub async fn progress(&self) -> serde_json::Value {
        self.progress.lock().await.clone()
    }

    /// Saves a checkpoint and counters, visible in the API as the job's progress.
    ///
    /// # Errors
    /// [`JobError::LeaseLost`] when another worker now owns the job; database failures.
    pub async fn checkpoint(&self, progress: serde_json::Value) -> Result<(), JobError> {
        let saved = job::Entity::update_many()
            .col_expr(job::Column::Progress, Expr::value(progress.to_string()))
            .col_expr(job::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(job::Column::Id.eq(self.job.id))
            .filter(job::Column::LeaseOwner.eq(&self.owner))
            .exec(&self.state.db)
            .await?;
        if saved.rows_affected == 0 {
            self.lease_lost.store(true, Ordering::SeqCst);
            self.stopping.store(true, Ordering::SeqCst);
            return Err(JobError::LeaseLost);
        }
        *self.progress.lock().await = progress;
        Ok(())
    }

    /// Appends an informational line to the job's log.
    pub async fn info(&self, message: impl Into<String>) {
        self.log("INFO", message.into()).await;
    }

    /// Appends a warning to the job's log.
    pub async fn warn(&self, message: impl Into<String>) {
        self.log("WARNING", message.into()).await;
    }

    async fn log(&self, level: &str, message: String) {
        if let Err(e) = self.state.jobs.log(self.job.id, level, message).await {
            tracing::warn!(error = %e, job.id = self.job.id, "writing a job log line failed");
        }
    }
}
