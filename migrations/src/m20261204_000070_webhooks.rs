//! Webhook policies (per project) and their deliveries.

use sea_orm_migration::prelude::*;

use crate::columns::{fk, id, string, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WebhookPolicies {
    Table,
    Id,
    ProjectId,
    Name,
    Description,
    Enabled,
    EventTypes,
    Targets,
    Creator,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    PolicyId,
    JobId,
    EventType,
    Address,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookPolicies::Table)
                    .col(id(WebhookPolicies::Id))
                    .col(
                        ColumnDef::new(WebhookPolicies::ProjectId)
                            .big_integer()
                            .null(),
                    )
                    .col(string(WebhookPolicies::Name, 255))
                    .col(
                        ColumnDef::new(WebhookPolicies::Description)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(WebhookPolicies::Enabled)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(WebhookPolicies::EventTypes)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebhookPolicies::Targets).text().not_null())
                    .col(string(WebhookPolicies::Creator, 255))
                    .col(timestamp(WebhookPolicies::CreatedAt))
                    .col(timestamp(WebhookPolicies::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookPolicies::Table, WebhookPolicies::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_policies_project")
                    .table(WebhookPolicies::Table)
                    .col(WebhookPolicies::ProjectId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(id(WebhookDeliveries::Id))
                    .col(fk(WebhookDeliveries::PolicyId))
                    .col(
                        ColumnDef::new(WebhookDeliveries::JobId)
                            .big_integer()
                            .null(),
                    )
                    .col(string(WebhookDeliveries::EventType, 64))
                    .col(string(WebhookDeliveries::Address, 2048))
                    .col(timestamp(WebhookDeliveries::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::PolicyId)
                            .to(WebhookPolicies::Table, WebhookPolicies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_policy")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::PolicyId)
                    .col(WebhookDeliveries::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookPolicies::Table).to_owned())
            .await
    }
}
