//! `registry_changes`: a version per slot of repositories (a repository's slot is its id modulo
//! [`SLOTS`]), raised by triggers whenever what a tag or digest resolves to may have changed: a
//! tag written, moved or deleted, a manifest deleted, a repository renamed, moved or deleted, a
//! project bound to an upstream registry.
//!
//! Every server keeps resolutions in memory stamped with their slot's version, and checks the
//! versions often; triggers, rather than the code that writes, raise them so that no writer (a
//! replica, a worker, an operator's SQL) can be missed. Updates that do not change resolutions
//! (pull counts and times, descriptions) leave the versions alone, or every pull would expire
//! the resolutions it used.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// Slots of repositories; the backend's resolution cache uses the same number.
pub const SLOTS: i64 = 64;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RegistryChanges {
    Table,
    Slot,
    Version,
}

/// Stands in the trigger texts for [`SLOTS`], which [`Migration::up`] writes in.
const SLOTS_MARK: &str = "{slots}";

/// The triggers on SQLite, which has only row triggers. Foreign-key cascades fire them too.
const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER registry_changes_tag_insert AFTER INSERT ON tags BEGIN
       UPDATE registry_changes SET version = version + 1 WHERE slot = NEW.repository_id % {slots};
     END",
    "CREATE TRIGGER registry_changes_tag_update
       AFTER UPDATE OF manifest_id, name, repository_id ON tags BEGIN
       UPDATE registry_changes SET version = version + 1
         WHERE slot IN (OLD.repository_id % {slots}, NEW.repository_id % {slots});
     END",
    "CREATE TRIGGER registry_changes_tag_delete AFTER DELETE ON tags BEGIN
       UPDATE registry_changes SET version = version + 1 WHERE slot = OLD.repository_id % {slots};
     END",
    "CREATE TRIGGER registry_changes_manifest_update
       AFTER UPDATE OF digest, media_type, repository_id ON manifests BEGIN
       UPDATE registry_changes SET version = version + 1
         WHERE slot IN (OLD.repository_id % {slots}, NEW.repository_id % {slots});
     END",
    "CREATE TRIGGER registry_changes_manifest_delete AFTER DELETE ON manifests BEGIN
       UPDATE registry_changes SET version = version + 1 WHERE slot = OLD.repository_id % {slots};
     END",
    "CREATE TRIGGER registry_changes_repository_update
       AFTER UPDATE OF name, project_id ON repositories BEGIN
       UPDATE registry_changes SET version = version + 1 WHERE slot = OLD.id % {slots};
     END",
    "CREATE TRIGGER registry_changes_repository_delete AFTER DELETE ON repositories BEGIN
       UPDATE registry_changes SET version = version + 1 WHERE slot = OLD.id % {slots};
     END",
    "CREATE TRIGGER registry_changes_proxy_insert AFTER INSERT ON proxy_projects BEGIN
       UPDATE registry_changes SET version = version + 1
         WHERE slot IN (SELECT id % {slots} FROM repositories WHERE project_id = NEW.project_id);
     END",
];

/// The triggers on PostgreSQL: statement triggers with transition tables, so a bulk delete
/// raises each slot once, not once per row. Slots are locked in slot order, so two
/// transactions raising the same slots cannot deadlock on them.
const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION registry_changes_raise(repository_ids bigint[]) RETURNS void
     LANGUAGE sql AS $$
       UPDATE registry_changes SET version = version + 1 WHERE slot IN (
         SELECT slot FROM registry_changes
         WHERE slot IN (SELECT DISTINCT r % {slots} FROM unnest(repository_ids) AS r)
         ORDER BY slot FOR UPDATE)
     $$",
    "CREATE FUNCTION registry_changes_by_repository() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       PERFORM registry_changes_raise(ARRAY(SELECT repository_id FROM changed_rows));
       RETURN NULL;
     END $$",
    "CREATE FUNCTION registry_changes_by_repository_moved() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       PERFORM registry_changes_raise(ARRAY(
         SELECT repository_id FROM changed_rows UNION SELECT repository_id FROM moved_rows));
       RETURN NULL;
     END $$",
    "CREATE FUNCTION registry_changes_by_id() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       PERFORM registry_changes_raise(ARRAY(SELECT id FROM changed_rows));
       RETURN NULL;
     END $$",
    "CREATE FUNCTION registry_changes_by_project() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       PERFORM registry_changes_raise(ARRAY(
         SELECT r.id FROM repositories r JOIN changed_rows c ON r.project_id = c.project_id));
       RETURN NULL;
     END $$",
    "CREATE FUNCTION registry_changes_by_row() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_TABLE_NAME = 'repositories' THEN
         PERFORM registry_changes_raise(ARRAY[OLD.id]);
       ELSE
         PERFORM registry_changes_raise(ARRAY[OLD.repository_id, NEW.repository_id]);
       END IF;
       RETURN NULL;
     END $$",
    "CREATE TRIGGER registry_changes_tag_insert AFTER INSERT ON tags
     REFERENCING NEW TABLE AS changed_rows
     FOR EACH STATEMENT EXECUTE FUNCTION registry_changes_by_repository()",
    "CREATE TRIGGER registry_changes_tag_update AFTER UPDATE ON tags
     REFERENCING OLD TABLE AS changed_rows NEW TABLE AS moved_rows
     FOR EACH STATEMENT EXECUTE FUNCTION registry_changes_by_repository_moved()",
    "CREATE TRIGGER registry_changes_tag_delete AFTER DELETE ON tags
     REFERENCING OLD TABLE AS changed_rows
     FOR EACH STATEMENT EXECUTE FUNCTION registry_changes_by_repository()",
    "CREATE TRIGGER registry_changes_manifest_update AFTER UPDATE ON manifests
     FOR EACH ROW WHEN (OLD.digest IS DISTINCT FROM NEW.digest
       OR OLD.media_type IS DISTINCT FROM NEW.media_type
       OR OLD.repository_id IS DISTINCT FROM NEW.repository_id)
     EXECUTE FUNCTION registry_changes_by_row()",
    "CREATE TRIGGER registry_changes_manifest_delete AFTER DELETE ON manifests
     REFERENCING OLD TABLE AS changed_rows
     FOR EACH STATEMENT EXECUTE FUNCTION registry_changes_by_repository()",
    "CREATE TRIGGER registry_changes_repository_update AFTER UPDATE ON repositories
     FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name
       OR OLD.project_id IS DISTINCT FROM NEW.project_id)
     EXECUTE FUNCTION registry_changes_by_row()",
    "CREATE TRIGGER registry_changes_repository_delete AFTER DELETE ON repositories
     REFERENCING OLD TABLE AS changed_rows
     FOR EACH STATEMENT EXECUTE FUNCTION registry_changes_by_id()",
    "CREATE TRIGGER registry_changes_proxy_insert AFTER INSERT ON proxy_projects
     REFERENCING NEW TABLE AS changed_rows
     FOR EACH STATEMENT EXECUTE FUNCTION registry_changes_by_project()",
];

const POSTGRES_DROPS: &[&str] = &[
    "DROP TRIGGER registry_changes_tag_insert ON tags",
    "DROP TRIGGER registry_changes_tag_update ON tags",
    "DROP TRIGGER registry_changes_tag_delete ON tags",
    "DROP TRIGGER registry_changes_manifest_update ON manifests",
    "DROP TRIGGER registry_changes_manifest_delete ON manifests",
    "DROP TRIGGER registry_changes_repository_update ON repositories",
    "DROP TRIGGER registry_changes_repository_delete ON repositories",
    "DROP TRIGGER registry_changes_proxy_insert ON proxy_projects",
    "DROP FUNCTION registry_changes_by_row()",
    "DROP FUNCTION registry_changes_by_project()",
    "DROP FUNCTION registry_changes_by_id()",
    "DROP FUNCTION registry_changes_by_repository_moved()",
    "DROP FUNCTION registry_changes_by_repository()",
    "DROP FUNCTION registry_changes_raise(bigint[])",
];

const SQLITE_DROPS: &[&str] = &[
    "DROP TRIGGER registry_changes_tag_insert",
    "DROP TRIGGER registry_changes_tag_update",
    "DROP TRIGGER registry_changes_tag_delete",
    "DROP TRIGGER registry_changes_manifest_update",
    "DROP TRIGGER registry_changes_manifest_delete",
    "DROP TRIGGER registry_changes_repository_update",
    "DROP TRIGGER registry_changes_repository_delete",
    "DROP TRIGGER registry_changes_proxy_insert",
];

fn for_backend(
    backend: DatabaseBackend,
    sqlite: &'static [&'static str],
    postgres: &'static [&'static str],
) -> Result<&'static [&'static str], DbErr> {
    match backend {
        DatabaseBackend::Sqlite => Ok(sqlite),
        DatabaseBackend::Postgres => Ok(postgres),
        other => Err(DbErr::Migration(format!(
            "registry_changes has no triggers for {other:?}"
        ))),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let triggers = for_backend(
            manager.get_database_backend(),
            SQLITE_TRIGGERS,
            POSTGRES_TRIGGERS,
        )?;
        manager
            .create_table(
                Table::create()
                    .table(RegistryChanges::Table)
                    .col(
                        ColumnDef::new(RegistryChanges::Slot)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RegistryChanges::Version)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        let mut slots = Query::insert();
        slots
            .into_table(RegistryChanges::Table)
            .columns([RegistryChanges::Slot]);
        for slot in 0..SLOTS {
            slots.values_panic([slot.into()]);
        }
        manager.exec_stmt(slots).await?;
        let db = manager.get_connection();
        let slots = SLOTS.to_string();
        for statement in triggers {
            db.execute_unprepared(&statement.replace(SLOTS_MARK, &slots))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drops = for_backend(manager.get_database_backend(), SQLITE_DROPS, POSTGRES_DROPS)?;
        let db = manager.get_connection();
        for statement in drops {
            db.execute_unprepared(statement).await?;
        }
        manager
            .drop_table(Table::drop().table(RegistryChanges::Table).to_owned())
            .await
    }
}
