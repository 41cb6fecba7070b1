//! Users, projects and members; repositories, blobs, manifests, tags and upload sessions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    Email,
    Realname,
    Comment,
    PasswordHash,
    Sysadmin,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    Name,
    Public,
    OwnerId,
    StorageLimit,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProjectMembers {
    Table,
    Id,
    ProjectId,
    EntityId,
    EntityType,
    RoleId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Repositories {
    Table,
    Id,
    ProjectId,
    Name,
    Description,
    PullCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Id,
    Digest,
    Size,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RepositoryBlobs {
    Table,
    RepositoryId,
    BlobId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Manifests {
    Table,
    Id,
    RepositoryId,
    Digest,
    MediaType,
    ArtifactType,
    Size,
    SubjectDigest,
    Annotations,
    CreatedAt,
    PulledAt,
}

#[derive(DeriveIden)]
enum ManifestReferences {
    Table,
    ManifestId,
    Digest,
    Kind,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    RepositoryId,
    Name,
    ManifestId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UploadSessions {
    Table,
    Id,
    Repository,
    Offset,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SystemProperties {
    Table,
    Name,
    Value,
}

/// A name column compared byte by byte, so `ORDER BY` gives the lexical order the OCI spec asks
/// for on every backend (SQLite's default collation already is; PostgreSQL's is locale-aware).
fn name_column<T: IntoIden>(backend: DatabaseBackend, name: T) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.string_len(255).not_null();
    if backend == DatabaseBackend::Postgres {
        column.extra("COLLATE \"C\"");
    }
    column
}

fn timestamp<T: IntoIden>(name: T) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.timestamp_with_time_zone().not_null();
    column
}

fn id<T: IntoIden>(name: T) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key();
    column
}

fn fk<T: IntoIden>(name: T) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.big_integer().not_null();
    column
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(id(Users::Id))
                    .col(name_column(backend, Users::Username).unique_key())
                    .col(
                        ColumnDef::new(Users::Email)
                            .string_len(255)
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(Users::Realname)
                            .string_len(255)
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(Users::Comment)
                            .string_len(1024)
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(Users::PasswordHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::Sysadmin)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(timestamp(Users::CreatedAt))
                    .col(timestamp(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Projects::Table)
                    .col(id(Projects::Id))
                    .col(name_column(backend, Projects::Name).unique_key())
                    .col(
                        ColumnDef::new(Projects::Public)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(fk(Projects::OwnerId))
                    .col(
                        ColumnDef::new(Projects::StorageLimit)
                            .big_integer()
                            .not_null()
                            .default(-1),
                    )
                    .col(timestamp(Projects::CreatedAt))
                    .col(timestamp(Projects::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Projects::Table, Projects::OwnerId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectMembers::Table)
                    .col(id(ProjectMembers::Id))
                    .col(fk(ProjectMembers::ProjectId))
                    .col(fk(ProjectMembers::EntityId))
                    .col(
                        ColumnDef::new(ProjectMembers::EntityType)
                            .string_len(1)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProjectMembers::RoleId).integer().not_null())
                    .col(timestamp(ProjectMembers::CreatedAt))
                    .col(timestamp(ProjectMembers::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectMembers::Table, ProjectMembers::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .unique()
                            .col(ProjectMembers::ProjectId)
                            .col(ProjectMembers::EntityType)
                            .col(ProjectMembers::EntityId),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Repositories::Table)
                    .col(id(Repositories::Id))
                    .col(fk(Repositories::ProjectId))
                    .col(name_column(backend, Repositories::Name).unique_key())
                    .col(
                        ColumnDef::new(Repositories::Description)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(Repositories::PullCount)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(timestamp(Repositories::CreatedAt))
                    .col(timestamp(Repositories::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Repositories::Table, Repositories::ProjectId)
                            .to(Projects::Table, Projects::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_repositories_project")
                    .table(Repositories::Table)
                    .col(Repositories::ProjectId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Blobs::Table)
                    .col(id(Blobs::Id))
                    .col(
                        ColumnDef::new(Blobs::Digest)
                            .string_len(200)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Blobs::Size).big_integer().not_null())
                    .col(timestamp(Blobs::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RepositoryBlobs::Table)
                    .col(fk(RepositoryBlobs::RepositoryId))
                    .col(fk(RepositoryBlobs::BlobId))
                    .col(timestamp(RepositoryBlobs::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(RepositoryBlobs::RepositoryId)
                            .col(RepositoryBlobs::BlobId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RepositoryBlobs::Table, RepositoryBlobs::RepositoryId)
                            .to(Repositories::Table, Repositories::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RepositoryBlobs::Table, RepositoryBlobs::BlobId)
                            .to(Blobs::Table, Blobs::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Manifests::Table)
                    .col(id(Manifests::Id))
                    .col(fk(Manifests::RepositoryId))
                    .col(ColumnDef::new(Manifests::Digest).string_len(200).not_null())
                    .col(
                        ColumnDef::new(Manifests::MediaType)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Manifests::ArtifactType)
                            .string_len(255)
                            .null(),
                    )
                    .col(ColumnDef::new(Manifests::Size).big_integer().not_null())
                    .col(
                        ColumnDef::new(Manifests::SubjectDigest)
                            .string_len(200)
                            .null(),
                    )
                    .col(ColumnDef::new(Manifests::Annotations).text().null())
                    .col(timestamp(Manifests::CreatedAt))
                    .col(
                        ColumnDef::new(Manifests::PulledAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Manifests::Table, Manifests::RepositoryId)
                            .to(Repositories::Table, Repositories::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .unique()
                            .col(Manifests::RepositoryId)
                            .col(Manifests::Digest),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_manifests_subject")
                    .table(Manifests::Table)
                    .col(Manifests::RepositoryId)
                    .col(Manifests::SubjectDigest)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ManifestReferences::Table)
                    .col(fk(ManifestReferences::ManifestId))
                    .col(
                        ColumnDef::new(ManifestReferences::Digest)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ManifestReferences::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ManifestReferences::ManifestId)
                            .col(ManifestReferences::Digest),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ManifestReferences::Table, ManifestReferences::ManifestId)
                            .to(Manifests::Table, Manifests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_manifest_references_digest")
                    .table(ManifestReferences::Table)
                    .col(ManifestReferences::Digest)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .col(id(Tags::Id))
                    .col(fk(Tags::RepositoryId))
                    .col(name_column(backend, Tags::Name))
                    .col(fk(Tags::ManifestId))
                    .col(timestamp(Tags::CreatedAt))
                    .col(timestamp(Tags::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tags::Table, Tags::RepositoryId)
                            .to(Repositories::Table, Repositories::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tags::Table, Tags::ManifestId)
                            .to(Manifests::Table, Manifests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .unique()
                            .col(Tags::RepositoryId)
                            .col(Tags::Name),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tags_manifest")
                    .table(Tags::Table)
                    .col(Tags::ManifestId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UploadSessions::Table)
                    .col(
                        ColumnDef::new(UploadSessions::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(name_column(backend, UploadSessions::Repository))
                    .col(
                        ColumnDef::new(UploadSessions::Offset)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(timestamp(UploadSessions::CreatedAt))
                    .col(timestamp(UploadSessions::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SystemProperties::Table)
                    .col(
                        ColumnDef::new(SystemProperties::Name)
                            .string_len(128)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SystemProperties::Value).text().not_null())
                    .to_owned(),
            )
            .await?;

        Ok(())
    }
}
