//! The physical floor of an operation: the very statements the plugin sent (captured by
//! devhost), executed directly with sqlx in the host's transaction shape — one transaction per
//! statement, `SET LOCAL search_path` first — plus, on member routes, the host's own membership
//! check. No wasm, no HTTP, no JSON mapping of results.

use anyhow::Context;
use paca_devhost::guard;
use paca_devhost::stats::CapturedSql;
use sqlx::{AssertSqlSafe, Executor, PgPool};

pub const SCHEMA: &str = "plugin_data_com_paca_github";

/// The statements of one request, with the plugin's params bound as literals the way the
/// host binds them (so the floor runs byte-for-byte the same SQL).
#[derive(Clone, Debug)]
pub struct Statements {
    pub bound: Vec<String>,
}

/// Binds captured statements; every param equal to `vary` (e.g. the delivery id) is replaced
/// by `with`, so each replay is a new delivery like the plugin's runs are.
pub fn bind(captured: &[CapturedSql], vary: Option<(&str, &str)>) -> anyhow::Result<Statements> {
    let mut bound = Vec::with_capacity(captured.len());
    for c in captured {
        let mut params =
            guard::parse_params(&c.params).map_err(|e| anyhow::anyhow!("params: {e}"))?;
        if let Some((from, to)) = vary {
            for p in &mut params {
                if p.as_str() == Some(from) {
                    *p = serde_json::Value::String(to.to_owned());
                }
            }
        }
        let literals: Vec<String> = params.iter().map(untyped_literal).collect();
        bound.push(
            guard::substitute_params(&c.sql, &literals).map_err(|e| anyhow::anyhow!("{}", e.0))?,
        );
    }
    Ok(Statements { bound })
}

/// A captured parameter as an untyped SQL literal: PostgreSQL then infers its type from the
/// statement, as it does for the host's parameters (the plugin casts where inference needs it).
fn untyped_literal(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "NULL".to_owned(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        other => format!("'{}'", other.to_string().replace('\'', "''")),
    }
}

/// One host DB call: `BEGIN; SET LOCAL search_path …; <stmt>; COMMIT`, rows fetched.
pub async fn host_call(pool: &PgPool, sql: &str) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    tx.execute(sqlx::raw_sql(AssertSqlSafe(format!(
        "SET LOCAL search_path TO {SCHEMA}, public"
    ))))
    .await?;
    let rows = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .fetch_all(&mut *tx)
        .await
        .with_context(|| format!("floor statement failed: {sql}"))?;
    tx.commit().await?;
    Ok(rows.len())
}

/// The host's `requireActions` lookup — the caller's membership and the actions of their roles
/// in the project — through devhost's own query, so the floor cannot drift from what the
/// measured requests pay.
pub async fn membership(pool: &PgPool, project: &str, user: &str) -> anyhow::Result<()> {
    paca_devhost::seed::project_actions(pool, project, user)
        .await?
        .map(|_| ())
        .context("the floor's caller is not a member")
}

/// Runs one request's statements in order.
pub async fn run(pool: &PgPool, s: &Statements) -> anyhow::Result<()> {
    for sql in &s.bound {
        host_call(pool, sql).await?;
    }
    Ok(())
}
