//! The `oidc_logins` table: sign-ins in progress, so whichever replica receives the provider's
//! redirect can finish them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_logins")]
pub struct Model {
    /// SHA-256 (hex) of the `state` sent to the provider, or of the onboarding ticket.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub provider: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The console path to return to after signing in.
    pub redirect: String,
    /// The verified identity (JSON) waiting for the user to choose a user name.
    pub identity: Option<String>,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
