//! Cron schedules: rows of `job_schedules` registered with tokio-cron-scheduler.
//!
//! Every worker process registers every schedule; a tick enqueues its job with a dedupe key
//! naming the schedule and the minute (Harbor's crons fire at second 0), so however many
//! processes fire, the database keeps one job per tick. Schedules are re-read periodically, so
//! an API change reaches every process without a restart.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use berth::app::AppState;
use berth::config::WorkersConfig;
use berth::db::entities::job_schedule;
use berth::jobs::{NewJob, Trigger, kinds};
use berth::policy::Schedule;
use chrono::{DateTime, Timelike, Utc};
use sea_orm::EntityTrait;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_cron_scheduler::{Job as CronJob, JobScheduler};
use uuid::Uuid;

use crate::WorkerError;

/// The schedule of the stale upload purge, created on first start.
pub const PURGE_UPLOADS_SCHEDULE: &str = "system:purge_uploads";

/// Creates the built-in schedules that do not exist yet.
///
/// # Errors
/// Database failures.
pub async fn ensure_system_schedules(state: &AppState) -> Result<(), WorkerError> {
    if state.jobs.schedule(PURGE_UPLOADS_SCHEDULE).await?.is_none() {
        let every_ten_minutes = Schedule {
            kind: "Custom".into(),
            cron: "0 */10 * * * *".into(),
        };
        state
            .jobs
            .set_schedule(
                PURGE_UPLOADS_SCHEDULE,
                kinds::PURGE_UPLOADS,
                &every_ten_minutes,
                &serde_json::json!({}),
            )
            .await
            .map_err(|e| match e {
                berth::jobs::ScheduleUpdateError::Database(e) => WorkerError::Database(e),
                berth::jobs::ScheduleUpdateError::Schedule(e) => {
                    WorkerError::Database(sea_orm::DbErr::Custom(e.to_string()))
                }
            })?;
    }
    Ok(())
}

/// The dedupe key of schedule `name`'s tick at `at`.
pub fn tick_key(name: &str, at: DateTime<Utc>) -> String {
    let minute = at
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(at);
    format!("schedule:{name}:{}", minute.format("%Y%m%dT%H%M"))
}

/// Enqueues the job of schedule `row` for the tick at `at` (once across all processes).
async fn fire(state: &AppState, row: &job_schedule::Model, at: DateTime<Utc>) {
    let params = serde_json::from_str(&row.params).unwrap_or_else(|_| serde_json::json!({}));
    let job = NewJob {
        trigger: Trigger::Schedule,
        dedupe_key: Some(tick_key(&row.name, at)),
        ..NewJob::manual(&row.kind, params)
    };
    match state.jobs.enqueue(job).await {
        Ok(Some(job)) => tracing::info!(schedule = %row.name, job.id = job.id, "schedule fired"),
        Ok(None) => tracing::debug!(schedule = %row.name, "another worker fired this tick"),
        Err(e) => tracing::warn!(error = %e, schedule = %row.name, "firing a schedule failed"),
    }
}

pub struct Scheduler {
    inner: JobScheduler,
    sync: JoinHandle<()>,
}

impl Scheduler {
    /// Starts the cron scheduler and the loop that keeps it in line with the database.
    pub async fn start(
        state: Arc<AppState>,
        config: &WorkersConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self, WorkerError> {
        let inner = JobScheduler::new().await?;
        inner.start().await?;
        let every = Duration::from_secs(config.schedule_sync_seconds.max(1));
        let sync = tokio::spawn(sync_loop(state, inner.clone(), every, shutdown));
        Ok(Self { inner, sync })
    }

    pub async fn shutdown(mut self) {
        self.sync.abort();
        if let Err(e) = self.inner.shutdown().await {
            tracing::warn!(error = %e, "stopping the cron scheduler failed");
        }
    }
}

async fn sync_loop(
    state: Arc<AppState>,
    scheduler: JobScheduler,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut registered: HashMap<String, (job_schedule::Model, Uuid)> = HashMap::new();
    loop {
        if let Err(e) = sync_once(&state, &scheduler, &mut registered).await {
            tracing::warn!(error = %e, "reading schedules failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn sync_once(
    state: &Arc<AppState>,
    scheduler: &JobScheduler,
    registered: &mut HashMap<String, (job_schedule::Model, Uuid)>,
) -> Result<(), WorkerError> {
    let rows = job_schedule::Entity::find().all(&state.db).await?;
    let wanted: HashMap<String, job_schedule::Model> =
        rows.into_iter().map(|r| (r.name.clone(), r)).collect();
    let gone: Vec<String> = registered
        .iter()
        .filter(|(name, (row, _))| wanted.get(*name) != Some(row))
        .map(|(name, _)| name.clone())
        .collect();
    for name in gone {
        if let Some((_, id)) = registered.remove(&name) {
            scheduler.remove(&id).await?;
        }
    }
    for (name, row) in wanted {
        if registered.contains_key(&name) {
            continue;
        }
        let fired_state = state.clone();
        let fired_row = row.clone();
        let job = CronJob::new_async(row.cron.as_str(), move |_, _| {
            let state = fired_state.clone();
            let row = fired_row.clone();
            Box::pin(async move { fire(&state, &row, Utc::now()).await })
        });
        match job {
            Ok(job) => {
                let id = scheduler.add(job).await?;
                registered.insert(name, (row, id));
            }
            Err(e) => {
                tracing::warn!(error = %e, schedule = %name, cron = %row.cron, "schedule has an unusable cron")
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_of_one_minute_share_a_key() {
        let a: DateTime<Utc> = "2026-12-04T00:00:00.010Z".parse().expect("time");
        let b: DateTime<Utc> = "2026-12-04T00:00:59.900Z".parse().expect("time");
        let c: DateTime<Utc> = "2026-12-04T00:01:00.000Z".parse().expect("time");
        assert_eq!(tick_key("gc", a), tick_key("gc", b));
        assert_ne!(tick_key("gc", a), tick_key("gc", c));
    }
}
