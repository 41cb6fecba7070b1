//! Migrations: idempotent, and a failing one leaves the schema as it was.

use berth::config::{Config, Overrides};
use berth_migrations::Migrator;
use berth_migrations::sea_orm_migration::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::support::test_database_url;

async fn fresh_database(dir: &tempfile::TempDir) -> (Config, DatabaseConnection) {
    let overrides = Overrides {
        listen: None,
        data_dir: Some(dir.path().to_owned()),
    };
    let mut config = Config::load(None, &overrides).expect("config");
    config.database.url = test_database_url(dir.path()).await;
    let db = berth::db::connect(&config).await.expect("connect");
    (config, db)
}

async fn applied(db: &DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await
        .expect("read migration table");
    rows.iter()
        .map(|r| r.try_get::<String>("", "version").expect("version"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_to_an_empty_database_and_again_as_a_no_op() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, db) = fresh_database(&dir).await;
    Migrator::up(&db, None).await.expect("first run");
    let first = applied(&db).await;
    assert_eq!(first.len(), Migrator::migrations().len());
    berth::db::connect_and_migrate(&config)
        .await
        .expect("second run on an up-to-date database");
    assert_eq!(applied(&db).await, first);
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("pending")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_migration_is_undone_and_applied_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_config, db) = fresh_database(&dir).await;
    Migrator::up(&db, None).await.expect("up");
    let all = applied(&db).await;
    Migrator::down(&db, Some(1)).await.expect("down");
    assert_eq!(applied(&db).await, all[..all.len() - 1]);
    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(applied(&db).await, all);
}

#[test]
fn every_migration_runs_in_a_transaction() {
    for migration in Migrator::migrations() {
        assert_eq!(
            migration.use_transaction(),
            Some(true),
            "{} must run in a transaction on every backend",
            migration.name()
        );
    }
}

/// Creates a table, then fails: the table must not survive.
struct Failing;

impl MigrationName for Failing {
    fn name(&self) -> &str {
        "m29991231_000001_failing_probe"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Failing {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("failing_probe"))
                    .col(
                        ColumnDef::new(Alias::new("id"))
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO no_such_table VALUES (1)")
            .await?;
        Ok(())
    }
}

struct WithFailing;

#[async_trait::async_trait]
impl MigratorTrait for WithFailing {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = Migrator::migrations();
        all.push(Box::new(Failing));
        all
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_migration_leaves_no_trace_and_start_up_still_works() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, db) = fresh_database(&dir).await;
    WithFailing::up(&db, None)
        .await
        .expect_err("the probe migration fails");
    let manager = SchemaManager::new(&db);
    assert!(
        !manager.has_table("failing_probe").await.expect("has_table"),
        "the failed migration's table was rolled back"
    );
    assert!(
        !applied(&db)
            .await
            .iter()
            .any(|v| v == "m29991231_000001_failing_probe"),
        "the failed migration is not recorded"
    );
    assert_eq!(applied(&db).await.len(), Migrator::migrations().len());
    berth::db::connect_and_migrate(&config)
        .await
        .expect("the server's migrations still run");
}
