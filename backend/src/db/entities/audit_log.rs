//! The `audit_logs` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_logs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: Option<i64>,
    pub operator: String,
    /// `create`, `update`, `delete`, `pull`, `push`, `login` or `logout`.
    pub operation: String,
    pub resource_type: String,
    pub resource: String,
    pub success: bool,
    pub op_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
