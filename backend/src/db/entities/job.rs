//! The `jobs` table: one row per job execution, the queue's only source of truth.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    /// `Pending`, `Running`, `Success`, `Error` or `Stopped` (Harbor's words).
    pub status: String,
    /// The job's parameters as a JSON object.
    pub params: String,
    /// `MANUAL` or `SCHEDULE`.
    pub trigger: String,
    /// Unique when set: a schedule tick enqueues its job once however many workers see it.
    pub dedupe_key: Option<String>,
    pub attempt: i32,
    pub max_attempts: i32,
    pub timeout_seconds: i64,
    /// Not claimed before this time (retries wait here).
    pub run_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub stop_requested: bool,
    /// The job's checkpoint and counters as a JSON object, so a re-run resumes.
    pub progress: Option<String>,
    /// The last error, or a summary when finished.
    pub message: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
