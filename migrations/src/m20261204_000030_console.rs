//! An index for the artifact list the console pages through: a repository's manifests by push
//! time (newest first), so a page is read from the index instead of sorting every row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Manifests {
    Table,
    RepositoryId,
    CreatedAt,
    Id,
}

const INDEX: &str = "idx_manifests_repository_created";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Manifests::Table)
                    .col(Manifests::RepositoryId)
                    .col(Manifests::CreatedAt)
                    .col(Manifests::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Manifests::Table).to_owned())
            .await
    }
}
