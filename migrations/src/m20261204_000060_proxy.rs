//! Registry endpoints (upstream registries) and the proxy-cache projects bound to them.

use sea_orm_migration::prelude::*;

use crate::columns::{fk, id, name_column, string, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Registries {
    Table,
    Id,
    Name,
    Description,
    Kind,
    Url,
    Insecure,
    AccessKey,
    AccessSecret,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProxyProjects {
    Table,
    ProjectId,
    RegistryId,
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
                    .table(Registries::Table)
                    .col(id(Registries::Id))
                    .col(name_column(backend, Registries::Name).unique_key())
                    .col(
                        ColumnDef::new(Registries::Description)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(string(Registries::Kind, 32))
                    .col(string(Registries::Url, 2048))
                    .col(
                        ColumnDef::new(Registries::Insecure)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Registries::AccessKey).string_len(255).null())
                    .col(ColumnDef::new(Registries::AccessSecret).text().null())
                    .col(timestamp(Registries::CreatedAt))
                    .col(timestamp(Registries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProxyProjects::Table)
                    .col(fk(ProxyProjects::ProjectId).primary_key())
                    .col(fk(ProxyProjects::RegistryId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProxyProjects::Table, ProxyProjects::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProxyProjects::Table, ProxyProjects::RegistryId)
                            .to(Registries::Table, Registries::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_proxy_projects_registry")
                    .table(ProxyProjects::Table)
                    .col(ProxyProjects::RegistryId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProxyProjects::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Registries::Table).to_owned())
            .await
    }
}
