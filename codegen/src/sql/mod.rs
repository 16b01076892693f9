//! `migrations/*.sql` → table IR → `backend/src/generated/tables.rs`.
//!
//! Three stages, each usable on its own:
//! 1. [`split`]: a migration file becomes statements (tokenised with sqlparser's PostgreSQL
//!    tokenizer, so `;` inside strings, comments and `$$…$$` bodies never splits).
//! 2. [`parse_migrations`]: the statements are applied, in file order, to a [`Schema`]. Anything
//!    the IR cannot model (DROP TABLE, RENAME, unknown types, forbidden identifiers, …) fails
//!    with a [`SqlError`] naming the file, the line, the statement and the reason.
//! 3. [`generate_tables`]: the schema becomes the Rust source of `tables.rs`;
//!    [`generate_schema`] the Idens and column types of `backend/sql/src/schema.rs`.

mod emit;
mod error;
mod ir;
mod parse;
mod schema;

pub use emit::{TABLES_HEADER, emit_tables};
pub use error::{SqlError, SqlErrorKind};
pub use ir::{Column, ColumnType, ForeignKey, Index, Schema, Table};
pub use parse::parse_migrations;
pub use schema::{SCHEMA_HEADER, emit_schema};

/// Parses `migrations` (`(file_name, sql_text)` pairs, already in name order) and returns the
/// full text of `backend/src/generated/tables.rs`.
pub fn generate_tables(migrations: &[(String, String)]) -> Result<String, SqlError> {
    let schema = parse_migrations(migrations)?;
    emit_tables(&schema)
}

/// Like [`generate_tables`], for `backend/sql/src/schema.rs` (the Idens and column types the
/// statement definitions are written over).
pub fn generate_schema(migrations: &[(String, String)]) -> Result<String, SqlError> {
    let schema = parse_migrations(migrations)?;
    emit_tables(&schema)?;
    emit_schema(&schema)
}
