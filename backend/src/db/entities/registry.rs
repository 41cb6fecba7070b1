//! The `registries` table: upstream registries that proxy-cache projects pull through.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The provider type, as Harbor names it (`docker-hub`, `docker-registry`, `harbor`, ...).
    pub kind: String,
    /// The registry's base URL, without `/v2`.
    pub url: String,
    /// Accept any TLS certificate from the upstream.
    pub insecure: bool,
    pub access_key: Option<String>,
    /// Never returned by the API.
    pub access_secret: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
