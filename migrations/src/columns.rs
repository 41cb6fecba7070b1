//! Column definitions the migrations share, so each table states only what is particular to it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// A required string of at most `len` characters.
pub fn string(name: impl IntoIden, len: u32) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.string_len(len).not_null();
    column
}

/// A required name compared byte by byte on every backend (PostgreSQL's `C` collation), so
/// uniqueness and ordering agree with SQLite.
pub fn name_column(backend: DatabaseBackend, name: impl IntoIden) -> ColumnDef {
    let mut column = string(name, 255);
    if backend == DatabaseBackend::Postgres {
        column.extra("COLLATE \"C\"");
    }
    column
}

/// A required timestamp with time zone.
pub fn timestamp(name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.timestamp_with_time_zone().not_null();
    column
}

/// A 64-bit auto-increment primary key.
pub fn id(name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key();
    column
}

/// A required reference to another table's 64-bit id.
pub fn fk(name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.big_integer().not_null();
    column
}
