//! The `robots` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "robots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The full account name, `robot$<name>` or `robot$<project>+<name>`.
    pub name: String,
    pub description: String,
    /// argon2id PHC string of the secret; the secret itself is shown once.
    pub secret_hash: String,
    /// `system` or `project`.
    pub level: String,
    pub project_id: Option<i64>,
    pub disabled: bool,
    /// Lifetime in days, -1 for never expiring.
    pub duration: i64,
    pub expires_at: Option<DateTimeUtc>,
    /// The granted permissions as JSON (`[{"kind","namespace","access":[...]}]`).
    pub permissions: String,
    /// `local` (a user) or `robot`.
    pub creator_type: String,
    pub creator_ref: String,
    /// Incremented by every change that must end remembered logins of this account.
    pub credential_version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
