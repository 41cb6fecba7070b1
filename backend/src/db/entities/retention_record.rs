//! The `retention_records` table: what a retention run decided for one artifact.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub digest: String,
    /// Comma-separated tags the decision applies to; empty for an untagged artifact.
    pub tags: String,
    pub pushed_at: Option<DateTimeUtc>,
    pub pulled_at: Option<DateTimeUtc>,
    /// `RETAIN` or `DEL`.
    pub action: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
