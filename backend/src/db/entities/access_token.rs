//! The `access_tokens` table: personal access tokens, each narrowing its user's rights.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// SHA-256 (hex) of the token; the token itself is shown once.
    pub token_hash: String,
    /// The granted scopes as a JSON list (`registry:pull`, `registry:push`, `api:read`,
    /// `api:write`).
    pub scopes: String,
    /// The project names it is limited to, as a JSON list; `None` for every project.
    pub projects: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
