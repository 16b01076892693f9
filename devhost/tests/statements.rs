//! Item 4 of issue 10: every statement of `paca-github-sql`'s catalogue — the one list
//! `backend/build.rs` renders the backend's SQL from, so nothing here greps the sources — is
//! checked against the real migrated schema (`migrations/*.sql` on Paca's core tables):
//!
//! - the host's SQL guard admits it for its import (`db_query2` / `db_exec`);
//! - `PREPARE` without parameter types succeeds, so PostgreSQL infers every `$n` the way the
//!   host's pgx binding does (an untyped `$n`, a typo or a wrong column fails here), and the
//!   inferred types in `pg_prepared_statements.parameter_types` are the declared ones;
//! - the described result columns have the declared names and types, in order.
//!
//! Failures name the statement. A negative test proves a broken statement is caught.

use paca_devhost::{guard, migrate, pg, seed};
use paca_github_sql::{Mode, Output, Param, SqlType, Statement};
use sqlx::{Column, Executor, Row, TypeInfo};

const SCHEMA: &str = "plugin_data_com_paca_github";

/// One connection to a fresh database holding the core tables and the plugin's migrations,
/// with the search path every host call has.
async fn migrated() -> sqlx::pool::PoolConnection<sqlx::Postgres> {
    let url = pg::fresh_database().await.expect("fresh database");
    let pool = pg::connect(&url).await.expect("connect");
    seed::ensure_core_schema(&pool).await.expect("core schema");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    migrate::run_migrations(&pool, "com.paca.github", &dir)
        .await
        .expect("migrations");
    let mut conn = pool.acquire().await.expect("connection");
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET search_path TO {SCHEMA}, public"
    ))))
    .await
    .expect("search_path");
    conn
}

/// What PostgreSQL calls the types of the columns the statements read and write (sqlx
/// reports `format_type` names in upper case for the built-ins).
fn described(ty: SqlType) -> &'static str {
    match ty {
        SqlType::Uuid => "UUID",
        SqlType::Text => "TEXT",
        SqlType::BigInt => "INT8",
        SqlType::Int => "INT4",
        SqlType::Bool => "BOOL",
        SqlType::Timestamptz => "TIMESTAMPTZ",
        SqlType::Jsonb => "JSONB",
        SqlType::Json => "JSON",
        SqlType::Double => "FLOAT8",
    }
}

/// Checks one statement; the error names it and says what is wrong.
async fn check(conn: &mut sqlx::PgConnection, index: usize, s: &Statement) -> Result<(), String> {
    let name = s.name;
    let mode = match s.mode {
        Mode::Query => guard::Mode::Query,
        Mode::Exec => guard::Mode::Exec,
    };
    let admitted = guard::check(&s.sql, mode)
        .map_err(|e| format!("{name}: the host guard refuses it: {e}"))?;
    if admitted.max_param != s.params.len() {
        return Err(format!(
            "{name}: uses ${} but declares {} parameter(s)",
            admitted.max_param,
            s.params.len()
        ));
    }
    // PREPARE with no types: PostgreSQL infers each `$n` from the statement alone.
    let handle = format!("catalogue_{index}");
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "PREPARE {handle} AS {}",
        s.sql
    ))))
    .await
    .map_err(|e| format!("{name}: PREPARE failed: {e}\n  {}", s.sql))?;
    let row = sqlx::query(
        "SELECT array(SELECT format_type(t, NULL) FROM unnest(parameter_types) AS t)::text[] \
         FROM pg_prepared_statements WHERE name = $1",
    )
    .bind(&handle)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| format!("{name}: reading pg_prepared_statements: {e}"))?;
    let inferred: Vec<String> = row.get(0);
    let declared: Vec<&str> = s.params.iter().map(|p| p.ty.pg_name()).collect();
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DEALLOCATE {handle}"
    ))))
    .await
    .map_err(|e| format!("{name}: DEALLOCATE: {e}"))?;
    if inferred != declared {
        return Err(format!(
            "{name}: PostgreSQL infers parameter types {inferred:?}, the statement declares {declared:?}"
        ));
    }
    // Result columns, as the extended protocol describes them (what the host decodes).
    let prepared = conn
        .prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(
            s.sql.clone(),
        )))
        .await
        .map_err(|e| format!("{name}: describe failed: {e}"))?;
    let columns: Vec<(String, String)> = sqlx::Statement::columns(&prepared)
        .iter()
        .map(|c| (c.name().to_string(), c.type_info().name().to_string()))
        .collect();
    let expected: Vec<(String, String)> = match s.mode {
        // `db_exec` discards rows; a SELECT 1 whose rows only count declares none.
        Mode::Exec => columns.clone(),
        Mode::Query if s.outputs.is_empty() => columns.clone(),
        Mode::Query => s
            .outputs
            .iter()
            .map(|o| (o.name.clone(), described(o.ty).to_string()))
            .collect(),
    };
    if columns != expected {
        return Err(format!(
            "{name}: result columns are {columns:?}, the statement declares {expected:?}"
        ));
    }
    Ok(())
}

#[tokio::test]
async fn every_statement_prepares_against_the_migrated_schema() {
    let catalogue = paca_github_sql::catalogue();
    assert!(
        catalogue.len() >= 30,
        "the catalogue lost statements: {}",
        catalogue.len()
    );
    let mut conn = migrated().await;
    let mut failures = Vec::new();
    for (i, s) in catalogue.iter().enumerate() {
        if let Err(e) = check(&mut conn, i, s).await {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} statements fail:\n{}",
        failures.len(),
        catalogue.len(),
        failures.join("\n")
    );
}

/// The check is not vacuous: a wrong column, an untyped `$n`, a mistyped parameter and a
/// wrong output type each fail, naming the statement.
#[tokio::test]
async fn broken_statements_are_caught_by_name() {
    let mut conn = migrated().await;
    let good = paca_github_sql::catalogue()
        .into_iter()
        .find(|s| s.name == "StoredToken")
        .expect("StoredToken");
    check(&mut conn, 900, &good)
        .await
        .expect("the real statement passes");

    let wrong_column = Statement {
        name: "WrongColumn",
        sql: good.sql.replace("access_token_enc", "access_token"),
        ..good.clone()
    };
    let e = check(&mut conn, 901, &wrong_column).await.unwrap_err();
    assert!(
        e.starts_with("WrongColumn: PREPARE failed") && e.contains("access_token"),
        "{e}"
    );

    let untyped = Statement {
        name: "Untyped",
        sql: "SELECT $1 IS NULL AS \"x\"".to_string(),
        params: vec![Param {
            name: "x",
            ty: SqlType::Text,
            nullable: true,
        }],
        outputs: vec![Output::computed("x", SqlType::Bool, false)],
        ..good.clone()
    };
    let e = check(&mut conn, 902, &untyped).await.unwrap_err();
    // 42P18, as the host reports it for the same statement.
    assert!(
        e.starts_with("Untyped: PREPARE failed")
            && e.contains("could not determine data type of parameter $1"),
        "{e}"
    );

    let mistyped = Statement {
        name: "Mistyped",
        params: vec![Param {
            name: "project_id",
            ty: SqlType::Text,
            nullable: false,
        }],
        ..good.clone()
    };
    let e = check(&mut conn, 903, &mistyped).await.unwrap_err();
    assert!(
        e.starts_with("Mistyped: PostgreSQL infers parameter types"),
        "{e}"
    );

    let wrong_output = Statement {
        name: "WrongOutput",
        outputs: vec![Output::computed("access_token_enc", SqlType::BigInt, false)],
        ..good.clone()
    };
    let e = check(&mut conn, 904, &wrong_output).await.unwrap_err();
    assert!(e.starts_with("WrongOutput: result columns"), "{e}");

    let refused = Statement {
        name: "Refused",
        mode: Mode::Query,
        sql: "DELETE FROM \"github_integrations\" WHERE \"project_id\" = $1::uuid".to_string(),
        outputs: vec![],
        ..good
    };
    let e = check(&mut conn, 905, &refused).await.unwrap_err();
    assert!(e.starts_with("Refused: the host guard refuses it"), "{e}");
}
