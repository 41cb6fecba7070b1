//! The durable job queue as the rest of Berth sees it: enqueue, read, stop, pause, schedule.
//!
//! The `jobs` table is the only record of a job's state, so nothing is ever stuck "queued" after
//! a restart: the runners in the `berth-workers` crate claim rows with conditional updates and
//! hold them by a lease. Enqueueing wakes runners through a [`JobWaker`]: an in-process signal
//! always, and Redis pub/sub when the workers configure it.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tokio::sync::Notify;

use crate::db::entities::{job, job_kind, job_log, job_schedule};
use crate::policy::Schedule;

/// Job kinds, named as Harbor names its job types.
pub mod kinds {
    pub const GC: &str = "GARBAGE_COLLECTION";
    pub const RETENTION: &str = "RETENTION";
    pub const QUOTA_RECALCULATION: &str = "QUOTA_RECALCULATION";
    pub const PURGE_UPLOADS: &str = "PURGE_UPLOADS";
    pub const WEBHOOK: &str = "WEBHOOK";

    /// Every kind the workers run.
    pub const ALL: [&str; 5] = [GC, RETENTION, QUOTA_RECALCULATION, PURGE_UPLOADS, WEBHOOK];
}

/// A job's status, in Harbor's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    Pending,
    Running,
    Success,
    Error,
    Stopped,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Success => "Success",
            Self::Error => "Error",
            Self::Stopped => "Stopped",
        }
    }

    pub fn is_final(status: &str) -> bool {
        matches!(status, "Success" | "Error" | "Stopped")
    }
}

/// What started a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Manual,
    Schedule,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "MANUAL",
            Self::Schedule => "SCHEDULE",
        }
    }
}

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: String,
    pub params: serde_json::Value,
    pub trigger: Trigger,
    /// When set, a second job with the same key is not enqueued.
    pub dedupe_key: Option<String>,
    pub max_attempts: i32,
    pub timeout: Duration,
}

impl NewJob {
    /// A manual job with three attempts and a one-hour timeout.
    pub fn manual(kind: &str, params: serde_json::Value) -> Self {
        Self {
            kind: kind.to_owned(),
            params,
            trigger: Trigger::Manual,
            dedupe_key: None,
            max_attempts: 3,
            timeout: Duration::from_secs(3600),
        }
    }
}

/// Tells runners, possibly in other processes, that jobs are waiting.
pub trait JobWaker: Send + Sync {
    fn wake(&self, kind: &str);
}

/// Handle on the queue, shared by the API and the workers.
pub struct JobQueue {
    db: DatabaseConnection,
    local: Arc<Notify>,
    remote: OnceLock<Arc<dyn JobWaker>>,
}

impl JobQueue {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            local: Arc::new(Notify::new()),
            remote: OnceLock::new(),
        }
    }

    /// The in-process signal runners of this process wait on.
    pub fn local_signal(&self) -> Arc<Notify> {
        self.local.clone()
    }

    /// Adds a waker that reaches other processes (set once, by the workers).
    pub fn set_remote_waker(&self, waker: Arc<dyn JobWaker>) {
        let _ = self.remote.set(waker);
    }

    /// Wakes runners here and, when configured, elsewhere.
    pub fn wake(&self, kind: &str) {
        self.local.notify_waiters();
        self.local.notify_one();
        if let Some(remote) = self.remote.get() {
            remote.wake(kind);
        }
    }

    /// Enqueues a job; `None` when its dedupe key was already used.
    ///
    /// # Errors
    /// Database failures.
    pub async fn enqueue(&self, new: NewJob) -> Result<Option<job::Model>, DbErr> {
        let now = Utc::now();
        let row = job::ActiveModel {
            kind: Set(new.kind.clone()),
            status: Set(JobStatus::Pending.as_str().to_owned()),
            params: Set(new.params.to_string()),
            trigger: Set(new.trigger.as_str().to_owned()),
            dedupe_key: Set(new.dedupe_key.clone()),
            attempt: Set(0),
            max_attempts: Set(new.max_attempts.max(1)),
            timeout_seconds: Set(new.timeout.as_secs().max(1) as i64),
            run_at: Set(now),
            lease_owner: Set(None),
            lease_until: Set(None),
            stop_requested: Set(false),
            progress: Set(None),
            message: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            started_at: Set(None),
            finished_at: Set(None),
            ..Default::default()
        };
        let inserted = job::Entity::insert(row).exec(&self.db).await;
        let id = match inserted {
            Ok(result) => result.last_insert_id,
            Err(err) if new.dedupe_key.is_some() && crate::db::is_unique_violation(&err) => {
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        self.wake(&new.kind);
        self.get(id).await
    }

    /// # Errors
    /// Database failures.
    pub async fn get(&self, id: i64) -> Result<Option<job::Model>, DbErr> {
        job::Entity::find_by_id(id).one(&self.db).await
    }

    /// Jobs of `kind` (all kinds when `None`), newest first, with the total count.
    ///
    /// # Errors
    /// Database failures.
    pub async fn list(
        &self,
        kind: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<job::Model>, u64), DbErr> {
        let mut query = job::Entity::find();
        if let Some(kind) = kind {
            query = query.filter(job::Column::Kind.eq(kind));
        }
        let total = query.clone().count(&self.db).await?;
        let rows = query
            .order_by_desc(job::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// The log lines of job `id`, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn logs(&self, id: i64) -> Result<Vec<job_log::Model>, DbErr> {
        job_log::Entity::find()
            .filter(job_log::Column::JobId.eq(id))
            .order_by_asc(job_log::Column::Id)
            .all(&self.db)
            .await
    }

    /// The log of job `id` as text, one line per entry.
    ///
    /// # Errors
    /// Database failures.
    pub async fn log_text(&self, id: i64) -> Result<String, DbErr> {
        let mut text = String::new();
        for line in self.logs(id).await? {
            text.push_str(&format!(
                "{} [{}] {}\n",
                line.created_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                line.level,
                line.message
            ));
        }
        Ok(text)
    }

    /// Appends a line to job `id`'s log.
    ///
    /// # Errors
    /// Database failures.
    pub async fn log(&self, id: i64, level: &str, message: impl Into<String>) -> Result<(), DbErr> {
        job_log::Entity::insert(job_log::ActiveModel {
            job_id: Set(id),
            level: Set(level.to_owned()),
            message: Set(message.into()),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// Asks job `id` to stop: a pending job stops at once, a running one at its next lease
    /// renewal. Returns the job as it is now, or `None` when it does not exist.
    ///
    /// # Errors
    /// Database failures.
    pub async fn request_stop(&self, id: i64) -> Result<Option<job::Model>, DbErr> {
        let now = Utc::now();
        job::Entity::update_many()
            .col_expr(
                job::Column::Status,
                Expr::value(JobStatus::Stopped.as_str()),
            )
            .col_expr(job::Column::StopRequested, Expr::value(true))
            .col_expr(job::Column::FinishedAt, Expr::value(now))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(id))
            .filter(job::Column::Status.eq(JobStatus::Pending.as_str()))
            .exec(&self.db)
            .await?;
        job::Entity::update_many()
            .col_expr(job::Column::StopRequested, Expr::value(true))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(id))
            .filter(job::Column::Status.eq(JobStatus::Running.as_str()))
            .exec(&self.db)
            .await?;
        self.get(id).await
    }

    /// Stops every pending and running job of `kind`; returns how many were asked.
    ///
    /// # Errors
    /// Database failures.
    pub async fn stop_kind(&self, kind: &str) -> Result<u64, DbErr> {
        let ids: Vec<i64> = job::Entity::find()
            .select_only()
            .column(job::Column::Id)
            .filter(job::Column::Kind.eq(kind))
            .filter(
                job::Column::Status
                    .is_in([JobStatus::Pending.as_str(), JobStatus::Running.as_str()]),
            )
            .into_tuple()
            .all(&self.db)
            .await?;
        for id in &ids {
            self.request_stop(*id).await?;
        }
        Ok(ids.len() as u64)
    }

    /// Pauses or resumes claiming jobs of `kind` (running jobs finish).
    ///
    /// # Errors
    /// Database failures.
    pub async fn set_paused(&self, kind: &str, paused: bool) -> Result<(), DbErr> {
        job_kind::Entity::insert(job_kind::ActiveModel {
            kind: Set(kind.to_owned()),
            paused: Set(paused),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(job_kind::Column::Kind)
                .update_columns([job_kind::Column::Paused, job_kind::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(&self.db)
        .await?;
        if !paused {
            self.wake(kind);
        }
        Ok(())
    }

    /// Kinds currently paused.
    ///
    /// # Errors
    /// Database failures.
    pub async fn paused_kinds(&self) -> Result<Vec<String>, DbErr> {
        job_kind::Entity::find()
            .select_only()
            .column(job_kind::Column::Kind)
            .filter(job_kind::Column::Paused.eq(true))
            .into_tuple()
            .all(&self.db)
            .await
    }

    /// Number of pending jobs of `kind`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn pending_count(&self, kind: &str) -> Result<u64, DbErr> {
        job::Entity::find()
            .filter(job::Column::Kind.eq(kind))
            .filter(job::Column::Status.eq(JobStatus::Pending.as_str()))
            .count(&self.db)
            .await
    }

    /// Creates, replaces or (for `None`/`Manual`) removes the schedule `name`.
    ///
    /// # Errors
    /// An invalid schedule ([`ScheduleUpdateError::Schedule`]) or database failures.
    pub async fn set_schedule(
        &self,
        name: &str,
        kind: &str,
        schedule: &Schedule,
        params: &serde_json::Value,
    ) -> Result<(), ScheduleUpdateError> {
        let Some(cron) = schedule.cron_expression()? else {
            job_schedule::Entity::delete_by_id(name.to_owned())
                .exec(&self.db)
                .await?;
            return Ok(());
        };
        let now = Utc::now();
        job_schedule::Entity::insert(job_schedule::ActiveModel {
            name: Set(name.to_owned()),
            kind: Set(kind.to_owned()),
            schedule_type: Set(schedule.kind.clone()),
            cron: Set(cron),
            params: Set(params.to_string()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(job_schedule::Column::Name)
                .update_columns([
                    job_schedule::Column::Kind,
                    job_schedule::Column::ScheduleType,
                    job_schedule::Column::Cron,
                    job_schedule::Column::Params,
                    job_schedule::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// The schedule `name`, if set.
    ///
    /// # Errors
    /// Database failures.
    pub async fn schedule(&self, name: &str) -> Result<Option<job_schedule::Model>, DbErr> {
        job_schedule::Entity::find_by_id(name.to_owned())
            .one(&self.db)
            .await
    }
}

/// Why a schedule could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleUpdateError {
    #[error(transparent)]
    Schedule(#[from] crate::policy::ScheduleError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// Job `row`'s parameters as JSON (an empty object when unreadable).
pub fn params(row: &job::Model) -> serde_json::Value {
    serde_json::from_str(&row.params).unwrap_or_else(|_| serde_json::json!({}))
}

/// Job `row`'s progress as JSON (an empty object when none).
pub fn progress(row: &job::Model) -> serde_json::Value {
    row.progress
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_else(|| serde_json::json!({}))
}
