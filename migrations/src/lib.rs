//! Berth's database schema as an ordered list of sea-orm migrations.
//!
//! Migrations are append-only: a migration that has shipped is never edited. Each runs in a
//! transaction on every backend, so a failed one leaves the schema as it was.

pub use sea_orm_migration;
use sea_orm_migration::prelude::*;

mod columns;
mod m20261203_000001_initial;
mod m20261204_000010_workers;
mod m20261204_000020_api;
mod m20261204_000030_console;
mod m20261204_000030_oidc;
mod m20261204_000050_credential_version;
mod m20261204_000060_gc_indexes;
mod m20261204_000060_proxy;
mod m20261204_000070_webhooks;
mod m20261204_000080_registry_changes;

pub use m20261204_000080_registry_changes::SLOTS as REGISTRY_CHANGE_SLOTS;

/// Applies Berth's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261203_000001_initial::Migration),
            Box::new(m20261204_000010_workers::Migration),
            Box::new(m20261204_000020_api::Migration),
            Box::new(m20261204_000030_console::Migration),
            Box::new(m20261204_000030_oidc::Migration),
            Box::new(m20261204_000050_credential_version::Migration),
            Box::new(m20261204_000060_gc_indexes::Migration),
            Box::new(m20261204_000060_proxy::Migration),
            Box::new(m20261204_000070_webhooks::Migration),
            Box::new(m20261204_000080_registry_changes::Migration),
        ]
    }
}
