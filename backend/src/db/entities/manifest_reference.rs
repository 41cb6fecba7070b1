//! The `manifest_references` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "manifest_references")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub manifest_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub digest: String,
    /// `blob` for a config or layer, `manifest` for a child of an index.
    pub kind: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
