//! The `job_schedules` table: cron schedules that enqueue jobs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_schedules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub kind: String,
    /// Harbor's schedule type: `Hourly`, `Daily`, `Weekly` or `Custom`.
    pub schedule_type: String,
    /// Six-field cron expression (seconds first).
    pub cron: String,
    pub params: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
