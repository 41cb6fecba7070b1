//! The `webhook_policies` table: which events are sent where.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project whose events are sent (nullable so that system-wide policies can be added
    /// without a schema change; none exist yet).
    pub project_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    /// JSON array of event type names (`PUSH_ARTIFACT`, ...).
    pub event_types: String,
    /// JSON array of targets (`type`, `address`, `auth_header`, `skip_cert_verify`,
    /// `payload_format`, `secret`).
    pub targets: String,
    pub creator: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
