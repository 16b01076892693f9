//! Database rows and parameters as the host encodes them (paca-host-contract §3.3, §4).
//!
//! - Decoding: [`FromValue`] for one JSON cell, [`RowRef`] for one row addressed by column
//!   name, [`FromRow`] for a whole row type, and [`QueryResult::decode`] /
//!   [`QueryResult::decode_one`] over a `db_query2` result. Failures are typed
//!   ([`DecodeError`]).
//! - Parameters: [`to_host_params`] turns a built sea-query statement's values into the plain
//!   JSON array `db_query2` / `db_exec` take.
//!
//! ```
//! use paca_plugin_sdk::db::{DecodeError, FromRow, RowRef};
//! use paca_plugin_sdk::host::QueryResult;
//!
//! struct Note { id: uuid::Uuid, body: Option<String> }
//!
//! impl FromRow for Note {
//!     fn from_row(row: &RowRef<'_>) -> Result<Self, DecodeError> {
//!         Ok(Note { id: row.get("id")?, body: row.get("body")? })
//!     }
//! }
//!
//! let result: QueryResult = serde_json::from_str(
//!     r#"{"columns":["id","body"],"rows":[["6f1c1a4e-4c53-4bd6-9b5d-9a0c1b2c3d4e",null]]}"#,
//! ).unwrap();
//! let note: Note = result.decode_one().unwrap().unwrap();
//! assert_eq!(note.body, None);
//! ```

use crate::host::QueryResult;

/// Why a host query result could not be decoded into a Rust value.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeError {
    /// The result has no column of this name (or the row is shorter than `columns`).
    MissingColumn { column: String },
    /// The JSON value has the wrong type for the Rust target.
    UnexpectedType {
        column: String,
        expected: &'static str,
        found: &'static str,
    },
    /// SQL NULL in a column decoded into a non-`Option` type.
    UnexpectedNull { column: String },
    /// A string that is not a UUID.
    InvalidUuid { column: String, value: String },
    /// A json/jsonb column whose text is not valid JSON.
    InvalidJson { column: String, message: String },
    /// A number (or numeric string) that does not parse or does not fit the target.
    InvalidNumber {
        column: String,
        value: String,
        target: &'static str,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::MissingColumn { column } => {
                write!(f, "column `{column}` is missing from the result")
            }
            DecodeError::UnexpectedType {
                column,
                expected,
                found,
            } => {
                write!(f, "column `{column}`: expected {expected}, found {found}")
            }
            DecodeError::UnexpectedNull { column } => {
                write!(f, "column `{column}`: unexpected NULL")
            }
            DecodeError::InvalidUuid { column, value } => {
                write!(f, "column `{column}`: `{value}` is not a UUID")
            }
            DecodeError::InvalidJson { column, message } => {
                write!(f, "column `{column}`: invalid JSON text: {message}")
            }
            DecodeError::InvalidNumber {
                column,
                value,
                target,
            } => {
                write!(f, "column `{column}`: `{value}` is not a valid {target}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}
fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_f64() => "float",
        serde_json::Value::Number(_) => "integer",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn unexpected(column: &str, expected: &'static str, value: &serde_json::Value) -> DecodeError {
    if value.is_null() {
        DecodeError::UnexpectedNull {
            column: column.to_string(),
        }
    } else {
        DecodeError::UnexpectedType {
            column: column.to_string(),
            expected,
            found: json_type_name(value),
        }
    }
}

fn invalid_number(column: &str, value: impl ToString, target: &'static str) -> DecodeError {
    DecodeError::InvalidNumber {
        column: column.to_string(),
        value: value.to_string(),
        target,
    }
}

/// Decoding of one JSON cell as the host encodes it (paca-host-contract §3.3).
pub trait FromValue: Sized {
    fn from_value(column: &str, value: &serde_json::Value) -> Result<Self, DecodeError>;
}

/// TEXT, VARCHAR and TIMESTAMPTZ (RFC 3339 text): a JSON string.
impl FromValue for String {
    #[inline]
    fn from_value(column: &str, value: &serde_json::Value) -> Result<Self, DecodeError> {
        match value {
            serde_json::Value::String(s) => Ok(s.clone()),
            other => Err(unexpected(column, "string", other)),
        }
    }
}

/// BIGINT: a JSON integer, or a string holding one (numbers beyond 2^53 may be sent as text).
impl FromValue for i64 {
    #[inline]
    fn from_value(column: &str, value: &serde_json::Value) -> Result<Self, DecodeError> {
        match value {
            serde_json::Value::Number(n) if !n.is_f64() => {
                n.as_i64().ok_or_else(|| invalid_number(column, n, "i64"))
            }
            serde_json::Value::String(s) => s
                .parse::<i64>()
                .map_err(|_| invalid_number(column, s, "i64")),
            other => Err(unexpected(column, "integer", other)),
        }
    }
}

/// INT / SMALLINT: as `i64`, then range-checked.
impl FromValue for i32 {
    #[inline]
    fn from_value(column: &str, value: &serde_json::Value) -> Result<Self, DecodeError> {
        let wide = i64::from_value(column, value)?;
        i32::try_from(wide).map_err(|_| invalid_number(column, wide, "i32"))
    }
}

/// BOOLEAN: a JSON boolean.
impl FromValue for bool {
    #[inline]
    fn from_value(column: &str, value: &serde_json::Value) -> Result<Self, DecodeError> {
        match value {
            serde_json::Value::Bool(b) => Ok(*b),
            other => Err(unexpected(column, "boolean", other)),
        }
    }
}

/// UUID: the canonical hyphenated string.
impl FromValue for uuid::Uuid {
    #[inline]
    fn from_value(column: &str, value: &serde_json::Value) -> Result<Self, DecodeError> {
        match value {
            serde_json::Value::String(s) => {
                uuid::Uuid::parse_str(s).map_err(|_| DecodeError::InvalidUuid {
                    column: column.to_string(),
                    value: s.clone(),
                })
            }
            other => Err(unexpected(column, "uuid string", other)),
        }
    }
}

/// JSON/JSONB: the host sends the JSON *text* as a string, which is parsed here. Any
/// other non-null JSON value is taken as it is (a host that nests JSON values).
impl FromValue for serde_json::Value {
    #[inline]
    fn from_value(column: &str, value: &serde_json::Value) -> Result<Self, DecodeError> {
        match value {
            serde_json::Value::String(s) => {
                serde_json::from_slice(s.as_bytes()).map_err(|e| DecodeError::InvalidJson {
                    column: column.to_string(),
                    message: e.to_string(),
                })
            }
            serde_json::Value::Null => Err(unexpected(column, "json text", value)),
            other => Ok(other.clone()),
        }
    }
}

/// DOUBLE PRECISION / REAL: a JSON number, or a numeric string (`NUMERIC`, `NaN`).
impl FromValue for f64 {
    #[inline]
    fn from_value(column: &str, value: &serde_json::Value) -> Result<Self, DecodeError> {
        match value {
            serde_json::Value::Number(n) => {
                n.as_f64().ok_or_else(|| invalid_number(column, n, "f64"))
            }
            serde_json::Value::String(s) => s
                .parse::<f64>()
                .map_err(|_| invalid_number(column, s, "f64")),
            other => Err(unexpected(column, "number", other)),
        }
    }
}

/// Nullable columns: JSON `null` is `None`.
impl<T: FromValue> FromValue for Option<T> {
    #[inline]
    fn from_value(column: &str, value: &serde_json::Value) -> Result<Self, DecodeError> {
        match value {
            serde_json::Value::Null => Ok(None),
            other => T::from_value(column, other).map(Some),
        }
    }
}

/// One row of a [`QueryResult`], addressed by column name.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    columns: &'a [String],
    values: &'a [serde_json::Value],
}

impl<'a> RowRef<'a> {
    pub fn new(columns: &'a [String], values: &'a [serde_json::Value]) -> Self {
        RowRef { columns, values }
    }
    pub fn columns(&self) -> &'a [String] {
        self.columns
    }
    /// The raw cell of the first column with this name (names may repeat in a result).
    pub fn value(&self, column: &str) -> Option<&'a serde_json::Value> {
        let index = self.columns.iter().position(|c| c == column)?;
        self.values.get(index)
    }
    /// Decodes the first column with this name.
    pub fn get<T: FromValue>(&self, column: &str) -> Result<T, DecodeError> {
        let value = self
            .value(column)
            .ok_or_else(|| DecodeError::MissingColumn {
                column: column.to_string(),
            })?;
        T::from_value(column, value)
    }
}

/// A type built from one result row by column name.
pub trait FromRow: Sized {
    fn from_row(row: &RowRef<'_>) -> Result<Self, DecodeError>;
}

/// A row whose columns are not read (`SELECT 1`, statements run for their effect).
impl FromRow for () {
    fn from_row(_: &RowRef<'_>) -> Result<Self, DecodeError> {
        Ok(())
    }
}

impl QueryResult {
    /// The rows (none when the host sent `rows: null`).
    pub fn rows(&self) -> impl Iterator<Item = RowRef<'_>> {
        self.rows
            .iter()
            .map(|values| RowRef::new(&self.columns, values))
    }
    /// Decodes every row; the first failure wins.
    pub fn decode<T: FromRow>(&self) -> Result<Vec<T>, DecodeError> {
        self.rows().map(|row| T::from_row(&row)).collect()
    }
    /// Decodes the first row, `None` when there is none. Further rows are ignored.
    pub fn decode_one<T: FromRow>(&self) -> Result<Option<T>, DecodeError> {
        self.rows().next().map(|row| T::from_row(&row)).transpose()
    }
}

/// Largest integer a JSON number carries exactly through the host (Go decodes params into
/// float64): 2^53 - 1.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

fn int_param(v: i64) -> serde_json::Value {
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
        serde_json::Value::from(v)
    } else {
        serde_json::Value::String(v.to_string())
    }
}

fn uint_param(v: u64) -> serde_json::Value {
    if v <= MAX_SAFE_INTEGER as u64 {
        serde_json::Value::from(v)
    } else {
        serde_json::Value::String(v.to_string())
    }
}

fn float_param(v: f64) -> serde_json::Value {
    match serde_json::Number::from_f64(v) {
        Some(n) => serde_json::Value::Number(n),
        None if v.is_nan() => serde_json::Value::String("NaN".to_string()),
        None if v > 0.0 => serde_json::Value::String("Infinity".to_string()),
        None => serde_json::Value::String("-Infinity".to_string()),
    }
}

/// BYTEA's text input form: `\x` followed by lower-case hex.
fn bytea_param(bytes: &[u8]) -> serde_json::Value {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 + 2 * bytes.len());
    text.push_str("\\x");
    for b in bytes {
        text.push(HEX[usize::from(b >> 4)] as char);
        text.push(HEX[usize::from(b & 0x0f)] as char);
    }
    serde_json::Value::String(text)
}

/// Variants that exist only when another crate enables more sea-query features (chrono,
/// time, decimal, arrays, …): PostgreSQL's literal text without its quotes, which the
/// database casts from a text parameter. `NULL` becomes JSON null.
fn literal_param(value: &sea_query::Value) -> serde_json::Value {
    use sea_query::QueryBuilder;
    let literal = sea_query::PostgresQueryBuilder.value_to_string(value);
    if literal == "NULL" {
        return serde_json::Value::Null;
    }
    match literal
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
    {
        Some(inner) => serde_json::Value::String(inner.replace("''", "'")),
        None => serde_json::Value::String(literal),
    }
}

/// One sea-query value as a plain JSON host parameter: typed NULLs → `null`; integers as
/// numbers, or as decimal strings beyond ±(2^53 - 1) (PostgreSQL casts the text);
/// non-finite floats as `"NaN"`/`"Infinity"`/`"-Infinity"`; UUIDs hyphenated; JSON as its
/// text; bytes as `\x…` hex text.
#[allow(unreachable_patterns)]
#[inline]
pub fn to_host_param(value: &sea_query::Value) -> serde_json::Value {
    use sea_query::{OptionEnum, Value};
    match value {
        Value::Bool(None)
        | Value::TinyInt(None)
        | Value::SmallInt(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::TinyUnsigned(None)
        | Value::SmallUnsigned(None)
        | Value::Unsigned(None)
        | Value::BigUnsigned(None)
        | Value::Float(None)
        | Value::Double(None)
        | Value::String(None)
        | Value::Enum(OptionEnum::None(_))
        | Value::Char(None)
        | Value::Bytes(None)
        | Value::Json(None)
        | Value::Uuid(None) => serde_json::Value::Null,
        Value::Bool(Some(b)) => serde_json::Value::Bool(*b),
        Value::TinyInt(Some(v)) => serde_json::Value::from(*v),
        Value::SmallInt(Some(v)) => serde_json::Value::from(*v),
        Value::Int(Some(v)) => serde_json::Value::from(*v),
        Value::BigInt(Some(v)) => int_param(*v),
        Value::TinyUnsigned(Some(v)) => serde_json::Value::from(*v),
        Value::SmallUnsigned(Some(v)) => serde_json::Value::from(*v),
        Value::Unsigned(Some(v)) => serde_json::Value::from(*v),
        Value::BigUnsigned(Some(v)) => uint_param(*v),
        Value::Float(Some(v)) => float_param(f64::from(*v)),
        Value::Double(Some(v)) => float_param(*v),
        Value::String(Some(s)) => serde_json::Value::String(s.clone()),
        Value::Enum(OptionEnum::Some(e)) => serde_json::Value::String(e.value.to_string()),
        Value::Char(Some(c)) => serde_json::Value::String(c.to_string()),
        Value::Bytes(Some(bytes)) => bytea_param(bytes),
        Value::Json(Some(json)) => serde_json::Value::String(json.to_string()),
        Value::Uuid(Some(u)) => serde_json::Value::String(u.hyphenated().to_string()),
        other => literal_param(other),
    }
}

/// The parameters of a built sea-query statement, in `$1..$N` order, for `Host::db_query`
/// / `Host::db_exec`.
#[inline]
pub fn to_host_params(values: &sea_query::Values) -> Vec<serde_json::Value> {
    values.iter().map(to_host_param).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(v: serde_json::Value) -> QueryResult {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn integers_as_numbers_and_strings_json_in_strings() {
        let r = result(
            json!({"columns": ["a", "b", "c", "d", "e", "f", "g", "h"], "rows": [[
                "9007199254740993", 5, 3_000_000_000_i64, "{\"k\":[1,2]}", "not-a-uuid", "{bad", 1.5, "-7"
            ]]}),
        );
        let row = r.rows().next().unwrap();
        assert_eq!(row.get::<i64>("a").unwrap(), 9_007_199_254_740_993);
        assert_eq!(row.get::<i32>("b").unwrap(), 5);
        assert_eq!(row.get::<i64>("b").unwrap(), 5);
        assert_eq!(row.get::<i32>("h").unwrap(), -7);
        assert!(matches!(
            row.get::<i32>("c"),
            Err(DecodeError::InvalidNumber { target: "i32", .. })
        ));
        assert!(matches!(
            row.get::<i64>("g"),
            Err(DecodeError::UnexpectedType { found: "float", .. })
        ));
        assert_eq!(
            row.get::<serde_json::Value>("d").unwrap(),
            json!({"k": [1, 2]})
        );
        assert_eq!(row.get::<serde_json::Value>("b").unwrap(), json!(5));
        assert!(matches!(
            row.get::<uuid::Uuid>("e"),
            Err(DecodeError::InvalidUuid { .. })
        ));
        assert!(matches!(
            row.get::<serde_json::Value>("f"),
            Err(DecodeError::InvalidJson { .. })
        ));
        assert_eq!(
            row.get::<bool>("b").unwrap_err().to_string(),
            "column `b`: expected boolean, found integer"
        );
        assert_eq!(
            row.get::<Option<i64>>("a").unwrap(),
            Some(9_007_199_254_740_993)
        );
        assert_eq!(
            row.get::<i64>("d").unwrap_err().to_string(),
            "column `d`: `{\"k\":[1,2]}` is not a valid i64"
        );
    }

    #[test]
    fn missing_column_is_a_typed_error() {
        let r =
            result(json!({"columns": ["id"], "rows": [["6f1c1a4e-4c53-4bd6-9b5d-9a0c1b2c3d4e"]]}));
        let row = r.rows().next().unwrap();
        assert_eq!(
            row.get::<String>("nope").unwrap_err(),
            DecodeError::MissingColumn {
                column: "nope".into()
            }
        );
        // A row shorter than the column list: the missing cell is a missing column too.
        let r = result(json!({"columns": ["id", "extra"], "rows": [["x"]]}));
        assert_eq!(
            r.rows().next().unwrap().get::<String>("extra").unwrap_err(),
            DecodeError::MissingColumn {
                column: "extra".into()
            }
        );
    }

    #[test]
    fn host_params_are_plain_json() {
        use sea_query::Value;
        let u = uuid::Uuid::parse_str("6f1c1a4e-4c53-4bd6-9b5d-9a0c1b2c3d4e").unwrap();
        let values = sea_query::Values(vec![
            Value::BigInt(None),
            Value::Uuid(None),
            Value::String(None),
            Value::Bool(Some(true)),
            Value::Int(Some(-3)),
            Value::BigInt(Some((1 << 53) - 1)),
            Value::BigInt(Some(1 << 53)),
            Value::BigInt(Some(-(1 << 53))),
            Value::BigUnsigned(Some(u64::MAX)),
            Value::Double(Some(f64::NAN)),
            Value::String(Some("x".into())),
            Value::Uuid(Some(u)),
            Value::Json(Some(Box::new(json!({"a": [1]})))),
        ]);
        assert_eq!(
            to_host_params(&values),
            vec![
                json!(null),
                json!(null),
                json!(null),
                json!(true),
                json!(-3),
                json!(9_007_199_254_740_991_i64),
                json!("9007199254740992"),
                json!("-9007199254740992"),
                json!("18446744073709551615"),
                json!("NaN"),
                json!("x"),
                json!("6f1c1a4e-4c53-4bd6-9b5d-9a0c1b2c3d4e"),
                json!("{\"a\":[1]}"),
            ]
        );
    }
}
