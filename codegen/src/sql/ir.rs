//! The table IR: what the migrations leave behind once applied in order.

/// SQL types the generator maps to Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `UUID` → `uuid::Uuid`
    Uuid,
    /// `TEXT`, `VARCHAR[(n)]` → `String`
    Text,
    /// `BIGINT`, `INT8` → `i64`
    BigInt,
    /// `INT`, `INTEGER`, `INT4`, `SMALLINT`, `INT2` → `i32`
    Int,
    /// `BOOLEAN`, `BOOL` → `bool`
    Bool,
    /// `TIMESTAMPTZ`, `TIMESTAMP WITH TIME ZONE` → `String` (RFC 3339, as the host sends it)
    Timestamptz,
    /// `JSON`, `JSONB` → `serde_json::Value`
    Json,
    /// `DOUBLE PRECISION`, `FLOAT8`, `REAL`, `FLOAT4` → `f64`
    Double,
}

impl ColumnType {
    /// Canonical SQL spelling, used in doc comments.
    pub fn sql_name(self) -> &'static str {
        match self {
            ColumnType::Uuid => "UUID",
            ColumnType::Text => "TEXT",
            ColumnType::BigInt => "BIGINT",
            ColumnType::Int => "INT",
            ColumnType::Bool => "BOOLEAN",
            ColumnType::Timestamptz => "TIMESTAMPTZ",
            ColumnType::Json => "JSONB",
            ColumnType::Double => "DOUBLE PRECISION",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    /// The SQL type as written (e.g. `VARCHAR(40)`).
    pub sql_type: String,
    pub nullable: bool,
    /// The DEFAULT expression as sqlparser prints it.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    /// Referenced table: one of the schema's tables, or a core table such as `projects`.
    pub foreign_table: String,
    pub referred_columns: Vec<String>,
    /// `CASCADE`, `SET NULL`, … as written; `None` when absent.
    pub on_delete: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub table: String,
    /// Plain column names; expression entries are kept as their SQL text.
    pub columns: Vec<String>,
    pub unique: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub uniques: Vec<Vec<String>>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Number of CHECK constraints (their bodies are not modelled).
    pub checks: usize,
    /// File that created the table, and the line of its CREATE TABLE.
    pub created_in: String,
    pub created_line: u64,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }
}

/// Tables in creation order, indexes in creation order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: Vec<Table>,
    pub indexes: Vec<Index>,
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn table_mut(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.iter_mut().find(|t| t.name == name)
    }
}
