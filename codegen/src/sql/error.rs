//! Why the generator refused a migration, with the file and statement it refers to.

use std::fmt;

/// A migration the generator refuses to model. `Display` gives
/// `<file>:<line>: <reason>` followed by the statement's first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    /// Migration file name as passed in.
    pub file: String,
    /// 1-based line of the statement's first token (0 when unknown).
    pub line: u64,
    /// First line of the offending statement, shortened.
    pub statement: String,
    pub kind: Box<SqlErrorKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlErrorKind {
    /// sqlparser could not tokenize or parse the statement.
    Parse(String),
    /// A statement kind the IR does not model (INSERT, CREATE VIEW, DROP TABLE, …).
    UnsupportedStatement(String),
    /// A table-level or column-level feature the IR does not model.
    Unsupported(String),
    UnsupportedType {
        table: String,
        column: String,
        sql_type: String,
    },
    UnknownTable(String),
    UnknownColumn {
        table: String,
        column: String,
    },
    DuplicateTable(String),
    DuplicateColumn {
        table: String,
        column: String,
    },
    DuplicateIndex(String),
    /// Would make every query on it fail in the host's SQL guard.
    ForbiddenIdentifier {
        ident: String,
        prefix: &'static str,
    },
    /// Not a lower-case `[a-z_][a-z0-9_]*` name, or schema-qualified.
    InvalidIdentifier(String),
    /// Two SQL names map to the same Rust item, or a name clashes with a fixed item.
    NameClash(String),
}

impl fmt::Display for SqlErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlErrorKind::Parse(msg) => write!(f, "cannot parse SQL: {msg}"),
            SqlErrorKind::UnsupportedStatement(what) => write!(
                f,
                "unsupported statement {what}: the table IR cannot model it (extend codegen::sql first)"
            ),
            SqlErrorKind::Unsupported(what) => write!(f, "unsupported: {what}"),
            SqlErrorKind::UnsupportedType {
                table,
                column,
                sql_type,
            } => write!(
                f,
                "column `{table}.{column}` has type `{sql_type}`, which has no Rust mapping \
                 (supported: UUID, TEXT, VARCHAR, BIGINT, INT, SMALLINT, BOOLEAN, TIMESTAMPTZ, \
                 JSON, JSONB, DOUBLE PRECISION, REAL)"
            ),
            SqlErrorKind::UnknownTable(t) => write!(f, "unknown table `{t}`"),
            SqlErrorKind::UnknownColumn { table, column } => {
                write!(f, "unknown column `{column}` in table `{table}`")
            }
            SqlErrorKind::DuplicateTable(t) => write!(f, "table `{t}` is created twice"),
            SqlErrorKind::DuplicateColumn { table, column } => {
                write!(f, "column `{column}` is defined twice in table `{table}`")
            }
            SqlErrorKind::DuplicateIndex(i) => write!(f, "index `{i}` is created twice"),
            SqlErrorKind::ForbiddenIdentifier { ident, prefix } => write!(
                f,
                "identifier `{ident}` starts with `{prefix}`, which the host's SQL guard rejects \
                 in every query"
            ),
            SqlErrorKind::InvalidIdentifier(i) => write!(
                f,
                "identifier `{i}` must be an unqualified lower-case name matching [a-z_][a-z0-9_]*"
            ),
            SqlErrorKind::NameClash(msg) => write!(f, "name clash: {msg}"),
        }
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}\n  in statement: {}",
            self.file, self.line, self.kind, self.statement
        )
    }
}

impl std::error::Error for SqlError {}
