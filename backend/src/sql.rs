//! Every SQL statement the backend issues, rendered at build time from `paca-github-sql`
//! (`backend/sql/`) by `build.rs`: per statement a unit struct implementing [`Statement`]
//! (its SQL text), a typed `params(…)` function and a row struct. Handlers run them through
//! `Plugin::rows::<S>` / `row::<S>` / `exec::<S>`; no SQL text is written anywhere else in
//! `backend/src`.

use crate::generated::tables::{DecodeError, FromRow, RowRef};

/// A statement of the catalogue.
pub trait Statement {
    /// The SQL, parameters `$1…$n` each with an explicit cast.
    const SQL: &'static str;
    /// What one result row decodes into (`()` when only the row count matters).
    type Row: FromRow;
}

/// Parameter values as the host binds them (paca-host-contract §2.2): strings for uuid,
/// text and timestamps, JSON numbers and booleans as they are.
mod bind {
    use serde_json::Value;

    pub fn uuid(v: uuid::Uuid) -> Value {
        Value::String(v.to_string())
    }
    pub fn text(v: &str) -> Value {
        Value::String(v.to_string())
    }
    pub fn bigint(v: i64) -> Value {
        Value::from(v)
    }
    #[allow(dead_code)]
    pub fn int(v: i32) -> Value {
        Value::from(v)
    }
    pub fn boolean(v: bool) -> Value {
        Value::Bool(v)
    }
    #[allow(dead_code)]
    pub fn json(v: &Value) -> Value {
        Value::String(v.to_string())
    }
    #[allow(dead_code)]
    pub fn double(v: f64) -> Value {
        Value::from(v)
    }
}

include!(concat!(env!("OUT_DIR"), "/statements.rs"));
