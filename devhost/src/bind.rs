//! Parameter binding as the real host gets it from pgx v5 (contract §2.2, §3.3).
//!
//! The host hands the JSON-decoded params (`float64`, `string`, `bool`, `nil`, `[]any`,
//! `map[string]any`) to pgx, which prepares the statement without parameter types, lets
//! PostgreSQL infer the type of every `$n`, and encodes each value for that inferred type:
//!
//! - a string always goes in text format, so the server parses it with the inferred type's
//!   input function (uuid, timestamptz, bigint… from strings all work; a bad value is the
//!   server's `invalid input syntax` error);
//! - a number is a Go `float64`: into int2/int4/int8 it is truncated toward zero (pgx's
//!   `float64Wrapper.Int64Value`) and range-checked, into float/numeric it keeps its value,
//!   into json/jsonb it is marshalled; into any other type (text, uuid, bool…) pgx has no
//!   encode plan and the call fails before reaching the server;
//! - a bool encodes only into bool and json/jsonb; arrays into PostgreSQL arrays (element by
//!   element) and json/jsonb; objects into json/jsonb only; null is NULL everywhere.
//!
//! [`crate::db`] asks the server for the inferred types (Parse/Describe of the statement,
//! exactly what pgx does: `$1 IS NULL` fails with `could not determine data type of
//! parameter $1`, one `$n` used as two types with `inconsistent types deduced`, and a bare
//! `SELECT $1` is text, so a JSON number there fails in pgx's encoder), then
//! runs the statement with every `$n` replaced by a literal of its inferred type,
//! `('<text>'::<type>)`. A typed literal goes through the same input function as a
//! text-format parameter of that type, so the statement sees the same values and the
//! result keeps the text encoding the JSON mapping of §3.3 is built on.

use serde_json::Value;

/// What the server inferred for one parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamType {
    pub oid: u32,
    /// `pg_type.typname` (`int4`, `uuid`, `_text`…): the name pgx uses in its errors.
    pub name: String,
    /// `format_type(oid, NULL)`: a spelling valid in a cast.
    pub sql_name: String,
    /// `pg_type.typcategory` (`A` = array).
    pub category: char,
    /// Element type of an array type.
    pub elem: Option<Box<ParamType>>,
}

impl ParamType {
    /// A built-in type (tests and fallbacks).
    pub fn builtin(oid: u32, name: &str) -> ParamType {
        ParamType {
            oid,
            name: name.into(),
            sql_name: name.into(),
            category: 'X',
            elem: None,
        }
    }
}

const FORMAT_TEXT: &str = "text";
const FORMAT_BINARY: &str = "binary";
/// OIDs at or above this are user-defined; pgx does not know them by default.
const FIRST_NORMAL_OID: u32 = 16384;

/// pgx's preferred wire format of a type (`Map.FormatCodeForOID`); used in its errors.
fn preferred_format(t: &ParamType) -> &'static str {
    if t.oid >= FIRST_NORMAL_OID {
        return FORMAT_TEXT;
    }
    match t.name.as_str() {
        "text" | "varchar" | "bpchar" | "name" | "json" | "jsonb" | "unknown" | "xml" => {
            FORMAT_TEXT
        }
        _ if t.category == 'A' => t.elem.as_deref().map_or(FORMAT_TEXT, preferred_format),
        _ => FORMAT_BINARY,
    }
}

fn pgx_type_name(t: &ParamType) -> &str {
    if t.oid >= FIRST_NORMAL_OID {
        "unknown type"
    } else {
        &t.name
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`: shortest digits, exponent
/// form when the decimal exponent is below -4 or at least 6).
pub fn go_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{f:e}"); // shortest round-trip mantissa, e.g. "1.5e0", "-3e9"
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        return go_exp(mant, exp);
    }
    format!("{f}")
}

fn go_exp(mant: &str, exp: i32) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}e{sign}{:02}", exp.abs())
}

/// Go's `%#v` of a JSON-decoded value, as pgx prints it in encode errors.
pub fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_float(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => format!("{s:?}"),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_value).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k:?}:{}", go_value(v)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", items.join(", "))
        }
    }
}

/// An encode failure: pgx's inner message (before the `unable to encode …` wrapper).
struct NoPlan(String);

fn no_plan() -> NoPlan {
    NoPlan("cannot find encode plan".into())
}

fn is_json(t: &ParamType) -> bool {
    matches!(t.name.as_str(), "json" | "jsonb") && t.oid < FIRST_NORMAL_OID
}

/// Text form of `v` for type `t`, or `None` for NULL.
fn encode(v: &Value, t: &ParamType) -> Result<Option<String>, NoPlan> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ if is_json(t) => Ok(Some(v.to_string())),
        Value::Bool(b) if t.name == "bool" => Ok(Some(b.to_string())),
        Value::Number(n) => {
            let f = n.as_f64().ok_or_else(no_plan)?;
            encode_number(f, t)
        }
        Value::Array(items) if t.category == 'A' => {
            let elem = t.elem.as_deref().ok_or_else(no_plan)?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(match item {
                    // nested JSON arrays are sub-arrays of the same element type
                    Value::Array(_) => encode(item, t)?.unwrap_or_default(),
                    _ => match encode(item, elem)? {
                        None => "NULL".into(),
                        Some(s) => array_quote(&s),
                    },
                });
            }
            Ok(Some(format!("{{{}}}", out.join(","))))
        }
        _ => Err(no_plan()),
    }
}

fn array_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn encode_number(f: f64, t: &ParamType) -> Result<Option<String>, NoPlan> {
    let int_range = match t.name.as_str() {
        "int2" => Some((i16::MIN as i64, i16::MAX as i64)),
        "int4" => Some((i32::MIN as i64, i32::MAX as i64)),
        "int8" | "oid" => Some((i64::MIN, i64::MAX)),
        _ => None,
    };
    if t.oid >= FIRST_NORMAL_OID {
        return Err(no_plan());
    }
    if let Some((min, max)) = int_range {
        // float64Wrapper.Int64Value: only the upper bound is checked, then Go's int64(f)
        if f > i64::MAX as f64 {
            return Err(NoPlan(format!(
                "{f:.6} is greater than maximum value for int64"
            )));
        }
        let i = f as i64;
        if i > max {
            return Err(NoPlan(format!(
                "{i} is greater than maximum value for {}",
                t.name
            )));
        }
        if i < min {
            return Err(NoPlan(format!(
                "{i} is less than minimum value for {}",
                t.name
            )));
        }
        return Ok(Some(i.to_string()));
    }
    match t.name.as_str() {
        "float4" | "float8" | "numeric" => Ok(Some(format!("{f}"))),
        _ => Err(no_plan()),
    }
}

/// The SQL literal for param `index` (0-based) of type `t`, or pgx's error text.
pub fn literal(index: usize, v: &Value, t: &ParamType) -> Result<String, String> {
    match encode(v, t) {
        Ok(None) => Ok(format!("(NULL::{})", t.sql_name)),
        Ok(Some(text)) => {
            if text.contains('\0') {
                // what the server answers for a NUL in a text-format parameter
                return Err(
                    "ERROR: invalid byte sequence for encoding \"UTF8\": 0x00 (SQLSTATE 22021)"
                        .into(),
                );
            }
            Ok(format!("('{}'::{})", text.replace('\'', "''"), t.sql_name))
        }
        Err(NoPlan(inner)) => Err(format!(
            "failed to encode args[{index}]: unable to encode {} into {} format for {} (OID {}): {inner}",
            go_value(v),
            preferred_format(t),
            pgx_type_name(t),
            t.oid
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(oid: u32, name: &str) -> ParamType {
        ParamType::builtin(oid, name)
    }

    #[test]
    fn go_formatting() {
        assert_eq!(go_float(5.0), "5");
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(3e9), "3e+09");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_value(&json!(["a", 1])), r#"[]interface {}{"a", 1}"#);
    }

    #[test]
    fn strings_go_as_text_for_any_type() {
        assert_eq!(
            literal(0, &json!("it's"), &t(2950, "uuid")).unwrap(),
            "('it''s'::uuid)"
        );
        assert_eq!(
            literal(0, &json!(null), &t(25, "text")).unwrap(),
            "(NULL::text)"
        );
        assert!(
            literal(0, &json!("a\0"), &t(25, "text"))
                .unwrap_err()
                .contains("0x00")
        );
    }

    #[test]
    fn numbers_like_pgx() {
        assert_eq!(
            literal(0, &json!(7.9), &t(23, "int4")).unwrap(),
            "('7'::int4)"
        );
        assert_eq!(
            literal(1, &json!(3e9), &t(23, "int4")).unwrap_err(),
            "failed to encode args[1]: unable to encode 3e+09 into binary format for int4 (OID 23): \
             3000000000 is greater than maximum value for int4"
        );
        assert_eq!(
            literal(0, &json!(5), &t(25, "text")).unwrap_err(),
            "failed to encode args[0]: unable to encode 5 into text format for text (OID 25): \
             cannot find encode plan"
        );
        assert_eq!(
            literal(0, &json!(1.5), &t(1700, "numeric")).unwrap(),
            "('1.5'::numeric)"
        );
        assert!(literal(0, &json!(1e19), &t(20, "int8")).is_err());
    }

    #[test]
    fn bools_arrays_objects() {
        assert_eq!(
            literal(0, &json!(true), &t(16, "bool")).unwrap(),
            "('true'::bool)"
        );
        assert!(literal(0, &json!(true), &t(25, "text")).is_err());
        assert_eq!(
            literal(0, &json!({"a": [1, true]}), &t(3802, "jsonb")).unwrap(),
            r#"('{"a":[1,true]}'::jsonb)"#
        );
        let arr = ParamType {
            oid: 1009,
            name: "_text".into(),
            sql_name: "text[]".into(),
            category: 'A',
            elem: Some(Box::new(t(25, "text"))),
        };
        assert_eq!(
            literal(0, &json!(["a\"b", null]), &arr).unwrap(),
            r#"('{"a\"b",NULL}'::text[])"#
        );
        assert!(literal(0, &json!({"a": 1}), &t(25, "text")).is_err());
    }
}
