//! The `manifests` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "manifests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub repository_id: i64,
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub size: i64,
    pub subject_digest: Option<String>,
    /// The manifest's annotations as a JSON object, kept for the referrers API.
    pub annotations: Option<String>,
    pub created_at: DateTimeUtc,
    pub pulled_at: Option<DateTimeUtc>,
    /// Last time a push used this row; garbage collection spares rows touched recently.
    pub touched_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
