//! The management API's tables: robot accounts, browser sessions, failed-login tracking, the
//! audit log, labels, user groups and project metadata.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Manifests {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Robots {
    Table,
    Id,
    Name,
    Description,
    SecretHash,
    Level,
    ProjectId,
    Disabled,
    Duration,
    ExpiresAt,
    Permissions,
    CreatorType,
    CreatorRef,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CsrfToken,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Username,
    Failures,
    LockedUntil,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditLogs {
    Table,
    Id,
    ProjectId,
    Operator,
    Operation,
    ResourceType,
    Resource,
    Success,
    OpTime,
}

#[derive(DeriveIden)]
enum Labels {
    Table,
    Id,
    Name,
    Description,
    Color,
    Scope,
    ProjectId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ArtifactLabels {
    Table,
    ManifestId,
    LabelId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserGroups {
    Table,
    Id,
    GroupName,
    GroupType,
    LdapGroupDn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProjectMetadata {
    Table,
    ProjectId,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum UserGroupMembers {
    Table,
    GroupId,
    UserId,
}

fn string(name: impl IntoIden, len: u32) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.string_len(len).not_null();
    column
}

fn name_column(backend: DatabaseBackend, name: impl IntoIden) -> ColumnDef {
    let mut column = string(name, 255);
    if backend == DatabaseBackend::Postgres {
        column.extra("COLLATE \"C\"");
    }
    column
}

fn timestamp(name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.timestamp_with_time_zone().not_null();
    column
}

fn id(name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key();
    column
}

fn fk(name: impl IntoIden) -> ColumnDef {
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
                    .table(Robots::Table)
                    .col(id(Robots::Id))
                    .col(name_column(backend, Robots::Name).unique_key())
                    .col(
                        ColumnDef::new(Robots::Description)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(string(Robots::SecretHash, 255))
                    .col(string(Robots::Level, 16))
                    .col(ColumnDef::new(Robots::ProjectId).big_integer().null())
                    .col(
                        ColumnDef::new(Robots::Disabled)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Robots::Duration)
                            .big_integer()
                            .not_null()
                            .default(-1),
                    )
                    .col(
                        ColumnDef::new(Robots::ExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Robots::Permissions).text().not_null())
                    .col(string(Robots::CreatorType, 16))
                    .col(string(Robots::CreatorRef, 255))
                    .col(timestamp(Robots::CreatedAt))
                    .col(timestamp(Robots::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Robots::Table, Robots::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string(Sessions::Id, 64).primary_key())
                    .col(fk(Sessions::UserId))
                    .col(string(Sessions::CsrfToken, 64))
                    .col(timestamp(Sessions::ExpiresAt))
                    .col(timestamp(Sessions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(name_column(backend, LoginFailures::Username).primary_key())
                    .col(
                        ColumnDef::new(LoginFailures::Failures)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(LoginFailures::LockedUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(timestamp(LoginFailures::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLogs::Table)
                    .col(id(AuditLogs::Id))
                    .col(ColumnDef::new(AuditLogs::ProjectId).big_integer().null())
                    .col(string(AuditLogs::Operator, 255))
                    .col(string(AuditLogs::Operation, 32))
                    .col(string(AuditLogs::ResourceType, 64))
                    .col(ColumnDef::new(AuditLogs::Resource).text().not_null())
                    .col(ColumnDef::new(AuditLogs::Success).boolean().not_null())
                    .col(timestamp(AuditLogs::OpTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_logs_project_time")
                    .table(AuditLogs::Table)
                    .col(AuditLogs::ProjectId)
                    .col(AuditLogs::OpTime)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Labels::Table)
                    .col(id(Labels::Id))
                    .col(name_column(backend, Labels::Name))
                    .col(
                        ColumnDef::new(Labels::Description)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(string(Labels::Color, 16).default(""))
                    .col(string(Labels::Scope, 1))
                    .col(
                        ColumnDef::new(Labels::ProjectId)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(timestamp(Labels::CreatedAt))
                    .col(timestamp(Labels::UpdatedAt))
                    .index(
                        Index::create()
                            .unique()
                            .col(Labels::Scope)
                            .col(Labels::ProjectId)
                            .col(Labels::Name),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ArtifactLabels::Table)
                    .col(fk(ArtifactLabels::ManifestId))
                    .col(fk(ArtifactLabels::LabelId))
                    .col(timestamp(ArtifactLabels::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ArtifactLabels::ManifestId)
                            .col(ArtifactLabels::LabelId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ArtifactLabels::Table, ArtifactLabels::ManifestId)
                            .to(Manifests::Table, Manifests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ArtifactLabels::Table, ArtifactLabels::LabelId)
                            .to(Labels::Table, Labels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserGroups::Table)
                    .col(id(UserGroups::Id))
                    .col(name_column(backend, UserGroups::GroupName))
                    .col(ColumnDef::new(UserGroups::GroupType).integer().not_null())
                    .col(string(UserGroups::LdapGroupDn, 512).default(""))
                    .col(timestamp(UserGroups::CreatedAt))
                    .col(timestamp(UserGroups::UpdatedAt))
                    .index(
                        Index::create()
                            .unique()
                            .col(UserGroups::GroupType)
                            .col(UserGroups::GroupName),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserGroupMembers::Table)
                    .col(fk(UserGroupMembers::GroupId))
                    .col(fk(UserGroupMembers::UserId))
                    .primary_key(
                        Index::create()
                            .col(UserGroupMembers::GroupId)
                            .col(UserGroupMembers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserGroupMembers::Table, UserGroupMembers::GroupId)
                            .to(UserGroups::Table, UserGroups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserGroupMembers::Table, UserGroupMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectMetadata::Table)
                    .col(fk(ProjectMetadata::ProjectId))
                    .col(string(ProjectMetadata::Name, 128))
                    .col(ColumnDef::new(ProjectMetadata::Value).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(ProjectMetadata::ProjectId)
                            .col(ProjectMetadata::Name),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectMetadata::Table, ProjectMetadata::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        Ok(())
    }
}
