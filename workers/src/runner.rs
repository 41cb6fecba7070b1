//! A runner claims one job at a time and runs it under a lease.
//!
//! Claiming is one conditional `UPDATE ... WHERE id = ? AND <still claimable>`: of several
//! runners (in any number of processes) racing for a row, exactly one sees a changed row. A
//! claim holds a lease the runner renews while the job runs; when a runner dies, its lease
//! expires and another runner claims the job again, so no job stays "running" or "queued"
//! forever. Failures retry with exponential back-off until `max_attempts` is reached.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use berth::app::AppState;
use berth::config::WorkersConfig;
use berth::db::entities::job;
use berth::jobs::JobStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::watch;
use tracing::Instrument;

use crate::job::{Job, JobContext, JobError};
use crate::locks::Locks;

/// Extra time a job gets after its timeout to stop on its own before it is abandoned.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// One claim-and-run loop.
pub struct Runner {
    state: Arc<AppState>,
    config: WorkersConfig,
    jobs: Vec<Arc<dyn Job>>,
    locks: Arc<dyn Locks>,
    owner: String,
}

fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(job::Column::Status.eq(JobStatus::Pending.as_str()))
                .add(job::Column::RunAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(job::Column::Status.eq(JobStatus::Running.as_str()))
                .add(job::Column::LeaseUntil.lt(now)),
        )
}

impl Runner {
    pub fn new(
        state: Arc<AppState>,
        config: WorkersConfig,
        jobs: Vec<Arc<dyn Job>>,
        locks: Arc<dyn Locks>,
        owner: String,
    ) -> Self {
        Self {
            state,
            config,
            jobs,
            locks,
            owner,
        }
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.config.lease_seconds as i64)
    }

    /// Claims and runs jobs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let signal = self.state.jobs.local_signal();
        let poll = Duration::from_secs(self.config.poll_seconds);
        while !*shutdown.borrow() {
            let notified = signal.notified();
            match self.claim().await {
                Ok(Some((row, job))) => {
                    self.execute(row, job, shutdown.clone()).await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "looking for jobs failed"),
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Claims the oldest claimable job of a kind this runner knows and that is not paused.
    async fn claim(&self) -> Result<Option<(job::Model, Arc<dyn Job>)>, JobError> {
        let now = Utc::now();
        let paused = self.state.jobs.paused_kinds().await?;
        let kinds: Vec<&str> = self
            .jobs
            .iter()
            .map(|j| j.kind())
            .filter(|k| !paused.iter().any(|p| p == k))
            .collect();
        if kinds.is_empty() {
            return Ok(None);
        }
        let candidates = job::Entity::find()
            .filter(job::Column::Kind.is_in(kinds))
            .filter(claimable(now))
            .order_by_asc(job::Column::Id)
            .limit(8)
            .all(&self.state.db)
            .await?;
        for candidate in candidates {
            let Some(job) = self
                .jobs
                .iter()
                .find(|j| j.kind() == candidate.kind)
                .cloned()
            else {
                continue;
            };
            if self.retire(&candidate, now).await? {
                continue;
            }
            if job.exclusive() && !self.lock(&candidate.kind).await {
                continue;
            }
            let claimed = job::Entity::update_many()
                .col_expr(
                    job::Column::Status,
                    Expr::value(JobStatus::Running.as_str()),
                )
                .col_expr(job::Column::LeaseOwner, Expr::value(self.owner.clone()))
                .col_expr(job::Column::LeaseUntil, Expr::value(now + self.lease()))
                .col_expr(
                    job::Column::Attempt,
                    sea_orm::sea_query::ExprTrait::add(Expr::col(job::Column::Attempt), 1),
                )
                .col_expr(job::Column::StartedAt, Expr::value(now))
                .col_expr(job::Column::UpdatedAt, Expr::value(now))
                .filter(job::Column::Id.eq(candidate.id))
                .filter(job::Column::Attempt.eq(candidate.attempt))
                .filter(claimable(now))
                .exec(&self.state.db)
                .await?;
            if claimed.rows_affected == 1
                && let Some(row) = self.state.jobs.get(candidate.id).await?
            {
                return Ok(Some((row, job)));
            }
            if job.exclusive() {
                self.unlock(&candidate.kind).await;
            }
        }
        Ok(None)
    }

    /// Finishes a job whose worker died after its last attempt, or that was asked to stop
    /// while its worker was gone, instead of running it again. Returns whether it did.
    async fn retire(&self, candidate: &job::Model, now: DateTime<Utc>) -> Result<bool, JobError> {
        let interrupted = candidate.status == JobStatus::Running.as_str();
        let (status, message) = if interrupted && candidate.stop_requested {
            (
                JobStatus::Stopped,
                "stopped while its worker was gone".to_owned(),
            )
        } else if interrupted && candidate.attempt >= candidate.max_attempts {
            (
                JobStatus::Error,
                format!("interrupted on its last attempt ({})", candidate.attempt),
            )
        } else {
            return Ok(false);
        };
        let done = job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(status.as_str()))
            .col_expr(job::Column::Message, Expr::value(message.clone()))
            .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(job::Column::FinishedAt, Expr::value(now))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(candidate.id))
            .filter(job::Column::Attempt.eq(candidate.attempt))
            .filter(claimable(now))
            .exec(&self.state.db)
            .await?;
        if done.rows_affected == 1 {
            let _ = self.state.jobs.log(candidate.id, "ERROR", message).await;
        }
        Ok(true)
    }

    fn lock_name(kind: &str) -> String {
        format!("job-kind:{kind}")
    }

    async fn lock(&self, kind: &str) -> bool {
        let ttl = Duration::from_secs(self.config.lease_seconds);
        match self
            .locks
            .acquire(&Self::lock_name(kind), &self.owner, ttl)
            .await
        {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, job.kind = kind, "taking a job lock failed");
                false
            }
        }
    }

    async fn unlock(&self, kind: &str) {
        if let Err(e) = self
            .locks
            .release(&Self::lock_name(kind), &self.owner)
            .await
        {
            tracing::warn!(error = %e, job.kind = kind, "releasing a job lock failed");
        }
    }

    async fn execute(&self, row: job::Model, job: Arc<dyn Job>, shutdown: watch::Receiver<bool>) {
        let span = tracing::info_span!(
            "job",
            job.kind = %row.kind,
            job.id = row.id,
            job.attempt = row.attempt
        );
        async {
            let ctx = Arc::new(JobContext::new(
                self.state.clone(),
                row.clone(),
                self.owner.clone(),
            ));
            ctx.info(format!(
                "attempt {} of {} started by {}",
                row.attempt, row.max_attempts, self.owner
            ))
            .await;
            let started = std::time::Instant::now();
            let timeout = Duration::from_secs(row.timeout_seconds.max(1) as u64);
            let result = {
                let keeper = self.keep_lease(ctx.clone(), &job, timeout, shutdown);
                let work = job.run(&ctx);
                tokio::pin!(keeper);
                tokio::select! {
                    result = work => result,
                    () = &mut keeper => Err(JobError::Other(format!(
                        "did not stop within {} s after its timeout of {} s",
                        STOP_GRACE.as_secs(),
                        timeout.as_secs()
                    ))),
                }
            };
            let elapsed_ms = started.elapsed().as_millis() as u64;
            // Whatever the job changed in tags or manifests is seen by this process's next pull.
            self.state.registry.changed();
            self.finish(&ctx, result, elapsed_ms).await;
            if job.exclusive() {
                self.unlock(&row.kind).await;
            }
        }
        .instrument(span)
        .await;
    }

    /// Renews the lease until the job ends; flags the job to stop when asked, when the lease
    /// is lost, at shutdown or at its timeout. Returns only when the job overran its timeout
    /// and the stop grace.
    async fn keep_lease(
        &self,
        ctx: Arc<JobContext>,
        job: &Arc<dyn Job>,
        timeout: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let started = tokio::time::Instant::now();
        let every = Duration::from_millis((self.config.lease_seconds * 1000 / 3).max(200));
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => ctx.stopping.store(true, Ordering::SeqCst),
            }
            let elapsed = started.elapsed();
            if elapsed >= timeout && !ctx.should_stop() {
                ctx.warn(format!("timed out after {} s; stopping", timeout.as_secs()))
                    .await;
                ctx.stopping.store(true, Ordering::SeqCst);
            }
            if elapsed >= timeout + STOP_GRACE {
                return;
            }
            let now = Utc::now();
            let renewed = job::Entity::update_many()
                .col_expr(job::Column::LeaseUntil, Expr::value(now + self.lease()))
                .filter(job::Column::Id.eq(ctx.job.id))
                .filter(job::Column::LeaseOwner.eq(&self.owner))
                .filter(job::Column::Status.eq(JobStatus::Running.as_str()))
                .exec(&self.state.db)
                .await;
            match renewed {
                Ok(r) if r.rows_affected == 0 => {
                    ctx.lease_lost.store(true, Ordering::SeqCst);
                    ctx.stopping.store(true, Ordering::SeqCst);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "renewing a job lease failed"),
            }
            if job.exclusive() {
                let _ = self.lock(job.kind()).await;
            }
            if let Ok(Some(current)) = self.state.jobs.get(ctx.job.id).await
                && current.stop_requested
            {
                ctx.stopping.store(true, Ordering::SeqCst);
            }
        }
    }

    async fn finish(&self, ctx: &JobContext, result: Result<String, JobError>, elapsed_ms: u64) {
        if ctx.lease_lost.load(Ordering::SeqCst) {
            tracing::warn!("the job's lease was lost; leaving it to its new owner");
            return;
        }
        let row = &ctx.job;
        let now = Utc::now();
        let stop_requested = self
            .state
            .jobs
            .get(row.id)
            .await
            .ok()
            .flatten()
            .is_some_and(|j| j.stop_requested);
        let (status, message, run_at) = match result {
            Ok(summary) => (JobStatus::Success, summary, None),
            Err(e) if stop_requested => (JobStatus::Stopped, format!("stopped: {e}"), None),
            // Parameters that do not hold will not hold on a retry either.
            Err(e @ JobError::Params(_)) => (JobStatus::Error, e.to_string(), None),
            // Interrupted by a timeout or shutdown, or failed: the checkpoint lets a retry resume.
            Err(e) => self.retry_or_fail(row, e.to_string(), now),
        };
        let level = match status {
            JobStatus::Success | JobStatus::Stopped => "INFO",
            JobStatus::Pending => "WARNING",
            JobStatus::Running | JobStatus::Error => "ERROR",
        };
        let _ = self
            .state
            .jobs
            .log(
                row.id,
                level,
                format!("{} after {elapsed_ms} ms: {message}", status.as_str()),
            )
            .await;
        let finished = (status != JobStatus::Pending).then_some(now);
        let update = job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(status.as_str()))
            .col_expr(job::Column::Message, Expr::value(message))
            .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(job::Column::RunAt, Expr::value(run_at.unwrap_or(now)))
            .col_expr(job::Column::FinishedAt, Expr::value(finished))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(row.id))
            .filter(job::Column::LeaseOwner.eq(&self.owner))
            .exec(&self.state.db)
            .await;
        match update {
            Ok(_) => tracing::info!(
                status = status.as_str(),
                duration_ms = elapsed_ms,
                "job finished"
            ),
            Err(e) => {
                tracing::error!(error = %e, "recording a job's outcome failed; its lease will expire")
            }
        }
        if status == JobStatus::Pending {
            let signal = self.state.jobs.local_signal();
            let delay = run_at.map_or(Duration::ZERO, |at| (at - now).to_std().unwrap_or_default());
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                signal.notify_one();
            });
        }
    }

    fn retry_or_fail(
        &self,
        row: &job::Model,
        message: String,
        now: DateTime<Utc>,
    ) -> (JobStatus, String, Option<DateTime<Utc>>) {
        if row.attempt >= row.max_attempts {
            return (JobStatus::Error, message, None);
        }
        let factor = 1u64 << (row.attempt.clamp(1, 10) - 1);
        let delay = self.config.retry_backoff_seconds.saturating_mul(factor);
        let at = now + chrono::Duration::seconds(delay as i64);
        (
            JobStatus::Pending,
            format!("{message}; retrying in {delay} s"),
            Some(at),
        )
    }
}
