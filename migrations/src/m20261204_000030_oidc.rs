//! OpenID Connect sign-in and credentials that outlive it: the link from an identity provider's
//! (issuer, subject) to a Berth user, sign-ins in progress, providers managed through the API,
//! per-user CLI secrets and personal access tokens, and the provider a console session came from
//! (for RP-initiated logout).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    OidcProvider,
    IdToken,
}

#[derive(DeriveIden)]
enum OidcIdentities {
    Table,
    Id,
    UserId,
    Provider,
    Issuer,
    Subject,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum OidcLogins {
    Table,
    Id,
    Provider,
    Nonce,
    PkceVerifier,
    Redirect,
    Identity,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OidcProviders {
    Table,
    Name,
    Settings,
    ClientSecret,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CliSecrets {
    Table,
    UserId,
    SecretHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccessTokens {
    Table,
    Id,
    UserId,
    Name,
    TokenHash,
    Scopes,
    Projects,
    ExpiresAt,
    CreatedAt,
    LastUsedAt,
}

fn string(name: impl IntoIden, len: u32) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.string_len(len).not_null();
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

fn owner(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
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
                    .table(OidcIdentities::Table)
                    .col(id(OidcIdentities::Id))
                    .col(
                        ColumnDef::new(OidcIdentities::UserId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(string(OidcIdentities::Provider, 32))
                    .col(string(OidcIdentities::Issuer, 512))
                    .col(string(OidcIdentities::Subject, 255))
                    .col(timestamp(OidcIdentities::CreatedAt))
                    .col(timestamp(OidcIdentities::LastLoginAt))
                    .index(
                        Index::create()
                            .unique()
                            .col(OidcIdentities::Issuer)
                            .col(OidcIdentities::Subject),
                    )
                    .foreign_key(&mut owner(OidcIdentities::Table, OidcIdentities::UserId))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OidcLogins::Table)
                    .col(string(OidcLogins::Id, 64).primary_key())
                    .col(string(OidcLogins::Provider, 32))
                    .col(string(OidcLogins::Nonce, 128))
                    .col(string(OidcLogins::PkceVerifier, 128))
                    .col(ColumnDef::new(OidcLogins::Redirect).text().not_null())
                    .col(ColumnDef::new(OidcLogins::Identity).text().null())
                    .col(timestamp(OidcLogins::ExpiresAt))
                    .col(timestamp(OidcLogins::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OidcProviders::Table)
                    .col(string(OidcProviders::Name, 32).primary_key())
                    .col(ColumnDef::new(OidcProviders::Settings).text().not_null())
                    .col(
                        ColumnDef::new(OidcProviders::ClientSecret)
                            .text()
                            .not_null(),
                    )
                    .col(timestamp(OidcProviders::CreatedAt))
                    .col(timestamp(OidcProviders::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CliSecrets::Table)
                    .col(
                        ColumnDef::new(CliSecrets::UserId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(string(CliSecrets::SecretHash, 64))
                    .col(timestamp(CliSecrets::CreatedAt))
                    .foreign_key(&mut owner(CliSecrets::Table, CliSecrets::UserId))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AccessTokens::Table)
                    .col(id(AccessTokens::Id))
                    .col(
                        ColumnDef::new(AccessTokens::UserId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(string(AccessTokens::Name, 255))
                    .col(string(AccessTokens::TokenHash, 64).unique_key())
                    .col(ColumnDef::new(AccessTokens::Scopes).text().not_null())
                    .col(ColumnDef::new(AccessTokens::Projects).text().null())
                    .col(
                        ColumnDef::new(AccessTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(timestamp(AccessTokens::CreatedAt))
                    .col(
                        ColumnDef::new(AccessTokens::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .index(
                        Index::create()
                            .unique()
                            .col(AccessTokens::UserId)
                            .col(AccessTokens::Name),
                    )
                    .foreign_key(&mut owner(AccessTokens::Table, AccessTokens::UserId))
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::OidcProvider).string_len(32).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::IdToken).text().null())
                    .to_owned(),
            )
            .await?;

        Ok(())
    }
}
