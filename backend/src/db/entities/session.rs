//! The `sessions` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// SHA-256 (hex) of the session cookie value; the value itself is never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    /// The OpenID Connect provider the session was opened through, if any.
    pub oidc_provider: Option<String>,
    /// The ID token of that sign-in, sent back as `id_token_hint` at logout.
    pub id_token: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
