//! Indexes garbage collection needs at scale:
//!
//! - manifest digests alone, for the "is this blob some manifest's content" anti-join (the
//!   unique index on repository and digest cannot serve a lookup by digest across
//!   repositories);
//! - repository links by blob, for deleting a blob's links and for the foreign-key check each
//!   deleted blob row triggers (the primary key starts with the repository, so without this
//!   every deleted blob scanned the whole link table).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Manifests {
    Table,
    Digest,
}

#[derive(DeriveIden)]
enum RepositoryBlobs {
    Table,
    BlobId,
}

const MANIFESTS_DIGEST: &str = "idx_manifests_digest";
const REPOSITORY_BLOBS_BLOB: &str = "idx_repository_blobs_blob";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(MANIFESTS_DIGEST)
                    .table(Manifests::Table)
                    .col(Manifests::Digest)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(REPOSITORY_BLOBS_BLOB)
                    .table(RepositoryBlobs::Table)
                    .col(RepositoryBlobs::BlobId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(REPOSITORY_BLOBS_BLOB)
                    .table(RepositoryBlobs::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(MANIFESTS_DIGEST)
                    .table(Manifests::Table)
                    .to_owned(),
            )
            .await
    }
}
