//! Database access: connecting, migrating, and the sea-orm entities.
//!
//! Every query goes through sea-orm so SQLite (the embedded default) and PostgreSQL run the same
//! code.

use std::time::Duration;

use berth_migrations::Migrator;
use berth_migrations::sea_orm_migration::MigratorTrait;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::Config;

pub mod entities;
pub mod properties;
mod sqlite_busy;

/// Connects to the configured database and applies pending migrations.
///
/// # Errors
/// The database cannot be reached or a migration fails (the failed migration is rolled back).
pub async fn connect_and_migrate(config: &Config) -> Result<DatabaseConnection, DbErr> {
    let db = connect(config).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// Connects to the configured database without migrating.
///
/// # Errors
/// The database cannot be reached.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    let url = config.database_url();
    let sqlite = url.starts_with("sqlite:");
    if sqlite {
        std::fs::create_dir_all(&config.server.data_dir)
            .map_err(|e| DbErr::Custom(format!("cannot create data directory: {e}")))?;
    }
    let mut options = ConnectOptions::new(url);
    let database = &config.database;
    options
        .max_connections(database.max_connections)
        .min_connections(database.min_connections)
        .acquire_timeout(Duration::from_secs(database.acquire_timeout_seconds))
        .connect_timeout(Duration::from_secs(database.acquire_timeout_seconds))
        .sqlx_logging(false);
    if sqlite {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(sqlite_busy::TIMEOUT)
                .foreign_keys(true)
        });
        options.map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| Box::pin(sqlite_busy::install(conn)))
        });
    }
    Database::connect(options).await
}

/// Starts a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), waiting for it through the busy timeout like any other writer. A transaction
/// begun plainly reads first and asks for the lock only at its first write, and if another
/// connection has written in between, SQLite refuses at once (`SQLITE_BUSY`): the busy handler
/// cannot help a reader that must become a writer, so the request failed with a 500 whenever a
/// background job or another request happened to write at the same moment. PostgreSQL ignores
/// the mode.
///
/// # Errors
/// The transaction cannot be started.
pub async fn begin_write(
    db: &impl sea_orm::TransactionTrait<Transaction = sea_orm::DatabaseTransaction>,
) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// True when a database error means "the database is unreachable right now" rather than a bug or
/// a constraint, so callers answer 503 and let the client retry. Besides pool timeouts this
/// covers a connection that died mid-query (I/O, TLS or protocol errors) and PostgreSQL's
/// "shutting down / starting up" (class 57P) and connection exception (class 08) codes.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            sqlx_unavailable(e)
        }
        _ => false,
    }
}

fn sqlx_unavailable(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match err {
        E::Io(_) | E::Tls(_) | E::Protocol(_) | E::PoolTimedOut | E::PoolClosed => true,
        E::WorkerCrashed | E::BeginFailed => true,
        E::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    }
}

/// True when a database error is a uniqueness violation (a concurrent insert won the race).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// True when the database refused a text value as not valid in its encoding (PostgreSQL's
/// SQLSTATE 22021, e.g. a NUL character), which is the client's mistake, not the server's.
pub fn is_invalid_text(err: &DbErr) -> bool {
    let (DbErr::Query(runtime) | DbErr::Exec(runtime)) = err else {
        return false;
    };
    match runtime {
        sea_orm::RuntimeErr::SqlxError(sqlx) => match sqlx.as_ref() {
            sea_orm::SqlxError::Database(db) => db.code().as_deref() == Some("22021"),
            _ => false,
        },
        sea_orm::RuntimeErr::Internal(_) => false,
    }
}
