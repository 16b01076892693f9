//! [`Statement`]s → the Rust source `backend/build.rs` writes to `OUT_DIR/statements.rs`.
//!
//! Per statement: a unit struct implementing the backend's `Statement` trait (`SQL`, `Row`), a `params(…)` function whose arguments are the typed parameters in `$n` order, and
//! a row struct decoding the output columns by name (`()` when there are none). The text
//! only names items of the module that includes it: `Statement`, `FromRow`, `RowRef`,
//! `DecodeError` and the `bind` helpers.

use crate::{Mode, SqlType, Statement, is_ident};
use std::fmt::Write;

fn rust_out(ty: SqlType) -> &'static str {
    match ty {
        SqlType::Uuid => "uuid::Uuid",
        SqlType::Text | SqlType::Timestamptz => "String",
        SqlType::BigInt => "i64",
        SqlType::Int => "i32",
        SqlType::Bool => "bool",
        SqlType::Jsonb | SqlType::Json => "serde_json::Value",
        SqlType::Double => "f64",
    }
}

/// The argument type and the `bind` helper of a parameter type.
fn rust_param(ty: SqlType) -> (&'static str, &'static str) {
    match ty {
        SqlType::Uuid => ("uuid::Uuid", "bind::uuid"),
        SqlType::Text | SqlType::Timestamptz => ("&str", "bind::text"),
        SqlType::BigInt => ("i64", "bind::bigint"),
        SqlType::Int => ("i32", "bind::int"),
        SqlType::Bool => ("bool", "bind::boolean"),
        SqlType::Jsonb | SqlType::Json => ("&serde_json::Value", "bind::json"),
        SqlType::Double => ("f64", "bind::double"),
    }
}

/// The first keyword and whether the statement fits the host guard of its import
/// (`paca-host-contract.md` §4.2).
pub fn guard_problem(s: &Statement) -> Option<String> {
    let lower = s.sql.to_ascii_lowercase();
    let first = lower.split_whitespace().next().unwrap_or("");
    let returning = lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| w == "returning");
    match s.mode {
        Mode::Query if first == "select" && !lower.split_whitespace().any(|w| w == "into") => None,
        Mode::Query if matches!(first, "insert" | "update" | "delete") && returning => None,
        Mode::Query => Some(format!(
            "`{first}` statement is refused by db_query2 (SELECT or DML with RETURNING only)"
        )),
        Mode::Exec if matches!(first, "insert" | "update" | "delete" | "with") => None,
        Mode::Exec => Some(format!("`{first}` statement is refused by db_exec")),
    }
}

/// Renders every statement. Panics (failing the backend build with the statement named) on
/// a definition the backend could not use.
pub fn render(statements: &[Statement]) -> String {
    let mut out = String::new();
    let mut shared: std::collections::BTreeMap<&str, &Statement> = Default::default();
    for s in statements {
        if let Some(problem) = guard_problem(s) {
            panic!("statement {}: {problem}", s.name);
        }
        let row = match s.row {
            _ if s.outputs.is_empty() => "()".to_string(),
            Some(row) => row.to_string(),
            None => format!("{}Row", s.name),
        };
        let first_of_row = match s.row {
            Some(row) => match shared.get(row) {
                Some(first) => {
                    assert!(
                        first.outputs == s.outputs,
                        "statements {} and {} share {row} but return different columns",
                        first.name,
                        s.name
                    );
                    false
                }
                None => {
                    shared.insert(row, s);
                    true
                }
            },
            None => true,
        };
        let _ = writeln!(out, "/// {}", s.doc);
        let _ = writeln!(out, "///\n/// ```sql\n/// {}\n/// ```", s.sql);
        let _ = writeln!(out, "pub struct {};\n", s.name);
        let _ = writeln!(out, "impl Statement for {} {{", s.name);
        let _ = writeln!(out, "    const SQL: &'static str = {:?};", s.sql);
        let _ = writeln!(out, "    type Row = {row};\n}}\n");
        let args: Vec<String> = s
            .params
            .iter()
            .map(|p| {
                let (ty, _) = rust_param(p.ty);
                assert!(
                    is_ident(p.name),
                    "statement {}: bad parameter name {}",
                    s.name,
                    p.name
                );
                if p.nullable {
                    format!("{}: Option<{ty}>", p.name)
                } else {
                    format!("{}: {ty}", p.name)
                }
            })
            .collect();
        let values: Vec<String> = s
            .params
            .iter()
            .map(|p| {
                let (_, f) = rust_param(p.ty);
                if p.nullable {
                    format!("{}.map_or(serde_json::Value::Null, {f})", p.name)
                } else {
                    format!("{f}({})", p.name)
                }
            })
            .collect();
        let _ = writeln!(out, "impl {} {{", s.name);
        let _ = writeln!(out, "    /// The parameters, `$1` first.");
        let _ = writeln!(out, "    #[allow(clippy::too_many_arguments)]");
        let _ = writeln!(
            out,
            "    pub fn params({}) -> [serde_json::Value; {}] {{\n        [{}]\n    }}\n}}\n",
            args.join(", "),
            s.params.len(),
            values.join(", ")
        );
        if s.outputs.is_empty() || !first_of_row {
            continue;
        }
        let _ = writeln!(
            out,
            "/// One row of [`{}`]{}.",
            s.name,
            if s.row.is_some() {
                " and of the statements sharing its columns"
            } else {
                ""
            }
        );
        let _ = writeln!(
            out,
            "#[derive(Debug, Clone, PartialEq)]\npub struct {row} {{"
        );
        for o in &s.outputs {
            assert!(
                is_ident(&o.name),
                "statement {}: output `{}` is not a Rust field name",
                s.name,
                o.name
            );
            let ty = rust_out(o.ty);
            let ty = if o.nullable {
                format!("Option<{ty}>")
            } else {
                ty.to_string()
            };
            let _ = writeln!(out, "    pub {}: {ty},", o.name);
        }
        let _ = writeln!(out, "}}\n");
        let _ = writeln!(out, "impl FromRow for {row} {{");
        let _ = writeln!(
            out,
            "    fn from_row(row: &RowRef<'_>) -> Result<Self, DecodeError> {{"
        );
        let _ = writeln!(out, "        Ok(Self {{");
        for o in &s.outputs {
            let _ = writeln!(out, "            {0}: row.get({0:?})?,", o.name);
        }
        let _ = writeln!(out, "        }})\n    }}\n}}\n");
    }
    out
}
