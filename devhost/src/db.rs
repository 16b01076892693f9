//! Statement execution for `db_query2` / `db_query` / `db_exec` (contract §2.2, §3.3, §4.1).
//!
//! Each call is its own transaction: `BEGIN; SET LOCAL search_path TO <schema>, public;
//! <stmt>; COMMIT`. With params, the statement is first prepared without parameter types
//! so PostgreSQL infers every `$n` (as pgx does), then each JSON value is bound for its
//! inferred type by [`crate::bind`]; the statement then runs with the simple protocol so
//! every value arrives in Postgres text form, which is mapped to JSON exactly like the
//! real host's pgx → Go → JSON path. Parameterless statements run as they are.

use crate::bind::{self, ParamType};
use crate::guard::{self, Mode};
use base64::Engine as _;
use serde_json::{Map, Value};
use sqlx::postgres::PgStatement;
use sqlx::{
    AssertSqlSafe, Column, Either, Executor, PgConnection, PgPool, Row, SqlSafeStr, Statement,
    TypeInfo,
};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// Schema name for a plugin id: `plugin_data_` + id with `.` and `-` → `_`, lower-cased.
pub fn schema_name(plugin_id: &str) -> String {
    format!("plugin_data_{}", plugin_id.replace(['.', '-'], "_")).to_ascii_lowercase()
}

/// Formats a sqlx error like pgx formats a `*pgconn.PgError`: `ERROR: msg (SQLSTATE xxxxx)`.
pub fn pg_error_text(e: &sqlx::Error) -> String {
    if let sqlx::Error::Database(db) = e
        && let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
    {
        let sev = format!("{:?}", pg.severity()).to_ascii_uppercase();
        return format!("{sev}: {} (SQLSTATE {})", pg.message(), pg.code());
    }
    e.to_string()
}

const DEADLINE: &str = "context deadline exceeded";

async fn with_deadline<T>(
    deadline: Option<Instant>,
    fut: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match deadline {
        None => fut.await,
        Some(d) => {
            let now = Instant::now();
            if d <= now {
                return Err(DEADLINE.into());
            }
            tokio::time::timeout(d - now, fut)
                .await
                .unwrap_or_else(|_| Err(DEADLINE.into()))
        }
    }
}

fn prefix(mode: Mode) -> &'static str {
    match mode {
        Mode::Query => "paca.db_query: ",
        Mode::Exec => "paca.db_exec: ",
    }
}

/// Guard + param parsing (before any DB work, like the host).
fn admit(sql: &[u8], params: &[u8], mode: Mode) -> Result<(String, Vec<Value>), String> {
    let p = prefix(mode);
    let sql = std::str::from_utf8(sql).map_err(|e| format!("{p}{e}"))?;
    let params = guard::parse_params(params).map_err(|e| format!("{p}parse params: {e}"))?;
    guard::check(sql, mode).map_err(|e| format!("{p}{e}"))?;
    Ok((sql.to_owned(), params))
}

/// Built-in types never change: their descriptions are cached process-wide.
fn type_cache() -> &'static Mutex<HashMap<u32, ParamType>> {
    static CACHE: OnceLock<Mutex<HashMap<u32, ParamType>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Describes the OIDs (name, castable spelling, category, element type).
async fn describe_types(
    conn: &mut PgConnection,
    oids: &[u32],
) -> Result<HashMap<u32, ParamType>, String> {
    let mut out = HashMap::new();
    let mut missing: Vec<u32> = Vec::new();
    {
        let cache = type_cache().lock().unwrap_or_else(|p| p.into_inner());
        for oid in oids {
            match cache.get(oid) {
                Some(t) => {
                    out.insert(*oid, t.clone());
                }
                None => missing.push(*oid),
            }
        }
    }
    // two rounds at most: the types, then the element types of array types
    for _ in 0..2 {
        if missing.is_empty() {
            break;
        }
        let wanted: Vec<i64> = missing.iter().map(|o| *o as i64).collect();
        let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT t.oid::int8, t.typname::text, format_type(t.oid, NULL), t.typcategory::text, \
             t.typelem::int8 FROM pg_catalog.pg_type t WHERE t.oid::int8 = ANY($1)",
        )
        .bind(wanted)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| pg_error_text(&e))?;
        missing.clear();
        for (oid, name, sql_name, category, elem) in rows {
            let t = ParamType {
                oid: oid as u32,
                name,
                sql_name,
                category: category.chars().next().unwrap_or('X'),
                elem: (elem != 0).then(|| Box::new(ParamType::builtin(elem as u32, ""))),
            };
            if elem != 0 && !out.contains_key(&(elem as u32)) {
                missing.push(elem as u32);
            }
            out.insert(t.oid, t);
        }
    }
    // resolve element types
    let snapshot = out.clone();
    for t in out.values_mut() {
        if let Some(e) = &t.elem
            && let Some(full) = snapshot.get(&e.oid)
        {
            t.elem = Some(Box::new(full.clone()));
        }
    }
    let mut cache = type_cache().lock().unwrap_or_else(|p| p.into_inner());
    for (oid, t) in &out {
        if *oid < 16384 {
            cache.insert(*oid, t.clone());
        }
    }
    Ok(out)
}

/// Prepares `sql` with server-inferred parameter types (errors are the server's, e.g.
/// `could not determine data type of parameter $1`) and returns the statement and the SQL
/// to run with every `$n` bound as a literal of its inferred type.
async fn bind_params(
    conn: &mut PgConnection,
    sql: &str,
    params: &[Value],
) -> Result<(PgStatement, String), String> {
    let stmt = conn
        .prepare_with(AssertSqlSafe(sql.to_owned()).into_sql_str(), &[])
        .await
        .map_err(|e| pg_error_text(&e))?;
    let types: Vec<u32> = match stmt.parameters() {
        Some(Either::Left(infos)) => infos
            .iter()
            .map(|t| t.oid().map(|o| o.0).unwrap_or(0))
            .collect(),
        _ => Vec::new(),
    };
    if types.len() != params.len() {
        return Err(format!(
            "expected {} arguments, got {}",
            types.len(),
            params.len()
        ));
    }
    if params.is_empty() {
        return Ok((stmt, sql.to_owned()));
    }
    let described = describe_types(conn, &types).await?;
    let mut literals = Vec::with_capacity(params.len());
    for (i, (v, oid)) in params.iter().zip(&types).enumerate() {
        let t = described
            .get(oid)
            .cloned()
            .unwrap_or_else(|| ParamType::builtin(*oid, "unknown"));
        literals.push(bind::literal(i, v, &t)?);
    }
    let bound = guard::substitute_params(sql, &literals).map_err(|e| e.0)?;
    Ok((stmt, bound))
}

/// Runs a query-mode statement and returns the host's result JSON text.
pub async fn query(
    pool: &PgPool,
    schema: &str,
    sql: &[u8],
    params: &[u8],
    deadline: Option<Instant>,
) -> Result<String, String> {
    query_with(
        pool,
        schema,
        sql,
        params,
        deadline,
        &crate::sensitive::Policy::default(),
    )
    .await
}

/// [`query`] with the sensitive-field rules of §4.4 for the calling plugin.
pub async fn query_with(
    pool: &PgPool,
    schema: &str,
    sql: &[u8],
    params: &[u8],
    deadline: Option<Instant>,
    policy: &crate::sensitive::Policy,
) -> Result<String, String> {
    let p = prefix(Mode::Query);
    let (sql, params) = admit(sql, params, Mode::Query)?;
    let redact = policy
        .admit(&sql, schema, Mode::Query)
        .map_err(|e| format!("{p}{e}"))?;
    with_deadline(deadline, async {
        let mut tx = pool.begin().await.map_err(|e| pg_error_text(&e))?;
        tx.execute(sqlx::raw_sql(AssertSqlSafe(format!(
            "SET LOCAL search_path TO {schema}, public"
        ))))
        .await
        .map_err(|e| pg_error_text(&e))?;
        let (stmt, bound) = if params.is_empty() {
            (None, sql.clone())
        } else {
            let (stmt, bound) = bind_params(&mut tx, &sql, &params).await?;
            (Some(stmt), bound)
        };
        let rows = sqlx::raw_sql(AssertSqlSafe(bound.clone()))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| pg_error_text(&e))?;
        // the column names of the statement as written (a bound `$1` would otherwise be
        // named after its cast)
        let columns: Vec<String> = if let Some(stmt) = &stmt {
            stmt.columns().iter().map(|c| c.name().to_owned()).collect()
        } else if let Some(first) = rows.first() {
            first
                .columns()
                .iter()
                .map(|c| c.name().to_owned())
                .collect()
        } else {
            // zero rows: the column list still comes from the statement description
            let stmt = (&mut *tx)
                .prepare(AssertSqlSafe(bound).into_sql_str())
                .await
                .map_err(|e| pg_error_text(&e))?;
            stmt.columns().iter().map(|c| c.name().to_owned()).collect()
        };
        let hidden: Vec<bool> = columns
            .iter()
            .map(|c| redact.contains(&c.to_ascii_lowercase()))
            .collect();
        let mut out_rows = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut vals = Vec::with_capacity(columns.len());
            for i in 0..row.columns().len() {
                let raw = row.try_get_raw(i).map_err(|e| pg_error_text(&e))?;
                let ty = row.columns()[i].type_info().name().to_ascii_uppercase();
                vals.push(if hidden.get(i).copied().unwrap_or(false) {
                    Value::String(crate::sensitive::REDACTED.into())
                } else if sqlx::ValueRef::is_null(&raw) {
                    Value::Null
                } else {
                    let text = raw.as_str().map_err(|e| e.to_string())?;
                    text_to_json(&ty, text)
                });
            }
            out_rows.push(Value::Array(vals));
        }
        tx.commit().await.map_err(|e| pg_error_text(&e))?;
        let mut obj = Map::new();
        obj.insert("columns".into(), Value::from(columns));
        obj.insert(
            "rows".into(),
            if out_rows.is_empty() {
                Value::Null
            } else {
                Value::Array(out_rows)
            },
        );
        Ok(Value::Object(obj).to_string())
    })
    .await
    .map_err(|e| format!("{p}{e}"))
}

/// Runs an exec-mode statement and returns rows affected.
pub async fn exec(
    pool: &PgPool,
    schema: &str,
    sql: &[u8],
    params: &[u8],
    deadline: Option<Instant>,
) -> Result<u64, String> {
    exec_with(
        pool,
        schema,
        sql,
        params,
        deadline,
        &crate::sensitive::Policy::default(),
    )
    .await
}

/// [`exec`] with the sensitive-field rules of §4.4 for the calling plugin.
pub async fn exec_with(
    pool: &PgPool,
    schema: &str,
    sql: &[u8],
    params: &[u8],
    deadline: Option<Instant>,
    policy: &crate::sensitive::Policy,
) -> Result<u64, String> {
    let p = prefix(Mode::Exec);
    let (sql, params) = admit(sql, params, Mode::Exec)?;
    policy
        .admit(&sql, schema, Mode::Exec)
        .map_err(|e| format!("{p}{e}"))?;
    with_deadline(deadline, async {
        let mut tx = pool.begin().await.map_err(|e| pg_error_text(&e))?;
        tx.execute(sqlx::raw_sql(AssertSqlSafe(format!(
            "SET LOCAL search_path TO {schema}, public"
        ))))
        .await
        .map_err(|e| pg_error_text(&e))?;
        let bound = if params.is_empty() {
            sql.clone()
        } else {
            bind_params(&mut tx, &sql, &params).await?.1
        };
        let res = tx
            .execute(sqlx::raw_sql(AssertSqlSafe(bound)))
            .await
            .map_err(|e| pg_error_text(&e))?;
        tx.commit().await.map_err(|e| pg_error_text(&e))?;
        Ok(res.rows_affected())
    })
    .await
    .map_err(|e| format!("{p}{e}"))
}

/// Maps a Postgres text-format value to the JSON the real host produces (§3.3).
/// The session runs with `TimeZone=UTC` and `DateStyle=ISO`.
pub fn text_to_json(type_name: &str, text: &str) -> Value {
    match type_name {
        "BOOL" => Value::Bool(text == "t" || text == "true"),
        "INT2" | "INT4" | "INT8" | "OID" => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.into())),
        "FLOAT4" | "FLOAT8" => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        "TIMESTAMPTZ" | "TIMESTAMP" => Value::String(rfc3339(text)),
        "DATE" if text.len() == 10 => Value::String(format!("{text}T00:00:00Z")),
        "BYTEA" => match text.strip_prefix("\\x").map(hex_decode) {
            Some(Some(bytes)) => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            _ => Value::String(text.into()),
        },
        _ => Value::String(text.into()),
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// `2024-01-02 03:04:05.12+00` (ISO, UTC) → `2024-01-02T03:04:05.12Z` (Go RFC3339Nano).
fn rfc3339(text: &str) -> String {
    if text.as_bytes().get(10).is_none_or(|c| *c != b' ') {
        return text.into(); // infinity, BC dates…
    }
    let mut s = text.replacen(' ', "T", 1);
    for suffix in ["+00:00", "+00"] {
        if let Some(stripped) = s.strip_suffix(suffix) {
            s = stripped.to_owned();
            break;
        }
    }
    if let Some(dot) = s.find('.') {
        let frac_end = s[dot + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(s.len(), |i| dot + 1 + i);
        let trimmed = s[dot + 1..frac_end].trim_end_matches('0');
        s = if trimmed.is_empty() {
            format!("{}{}", &s[..dot], &s[frac_end..])
        } else {
            format!("{}.{}{}", &s[..dot], trimmed, &s[frac_end..])
        };
    }
    if !s.get(19..).is_some_and(|tail| tail.contains(['+', '-'])) {
        s.push('Z');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_names() {
        assert_eq!(
            schema_name("com.paca.github"),
            "plugin_data_com_paca_github"
        );
        assert_eq!(schema_name("Acme.My-Plugin"), "plugin_data_acme_my_plugin");
    }

    #[test]
    fn text_mapping() {
        assert_eq!(text_to_json("INT8", "42"), json!(42));
        assert_eq!(text_to_json("BOOL", "t"), json!(true));
        assert_eq!(text_to_json("NUMERIC", "12.50"), json!("12.50"));
        assert_eq!(text_to_json("FLOAT8", "1.5"), json!(1.5));
        assert_eq!(text_to_json("JSONB", "{\"a\": 1}"), json!("{\"a\": 1}"));
        assert_eq!(
            text_to_json("TIMESTAMPTZ", "2024-01-02 03:04:05.120+00"),
            json!("2024-01-02T03:04:05.12Z")
        );
        assert_eq!(
            text_to_json("TIMESTAMPTZ", "2024-01-02 03:04:05+00"),
            json!("2024-01-02T03:04:05Z")
        );
        assert_eq!(
            text_to_json("TIMESTAMP", "2024-01-02 03:04:05.000001"),
            json!("2024-01-02T03:04:05.000001Z")
        );
        assert_eq!(
            text_to_json("DATE", "2024-01-02"),
            json!("2024-01-02T00:00:00Z")
        );
        assert_eq!(text_to_json("BYTEA", "\\x0102ff"), json!("AQL/"));
    }
}
