//! The plugin migration runner (contract §4.3).

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, PgPool};
use std::path::{Path, PathBuf};

/// `.sql` files of `dir`, sorted lexicographically by file name.
pub fn migration_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    Ok(files)
}

/// Runs the migrations of `plugin_id` from `dir` like the host: schema, `plugin_kv`,
/// `plugin_schema_migrations`, then each unapplied file in its own transaction with
/// `SET LOCAL search_path`, simple protocol (multi-statement, no guard). Returns the
/// file names applied by this run.
///
/// Several devhosts (replicas) may start on one database at once: the whole run holds a
/// session advisory lock per plugin schema, so a second runner waits and then finds every
/// file recorded. (The contract records no lock in the real runner; without one,
/// concurrent `CREATE TABLE IF NOT EXISTS` and re-applied files fail.)
pub async fn run_migrations(
    pool: &PgPool,
    plugin_id: &str,
    dir: &Path,
) -> anyhow::Result<Vec<String>> {
    let schema = crate::db::schema_name(plugin_id);
    let files = migration_files(dir)?;
    let mut conn = pool.acquire().await?;
    let key = format!("paca.plugin_migrations:{schema}");
    sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
        .bind(&key)
        .execute(&mut *conn)
        .await?;
    let result = apply_all(&mut conn, &schema, &files).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
        .bind(&key)
        .execute(&mut *conn)
        .await;
    if unlocked.is_err() {
        // never hand a connection that may still hold the lock back to the pool
        conn.detach();
    }
    result
}

async fn apply_all(
    conn: &mut PgConnection,
    schema: &str,
    files: &[PathBuf],
) -> anyhow::Result<Vec<String>> {
    conn.execute(sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         CREATE TABLE IF NOT EXISTS {schema}.plugin_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL DEFAULT '');
         CREATE TABLE IF NOT EXISTS {schema}.plugin_schema_migrations (
             filename TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW());"
    ))))
    .await?;
    let mut applied = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let done: Option<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT filename FROM {schema}.plugin_schema_migrations WHERE filename = $1"
        )))
        .bind(&name)
        .fetch_optional(&mut *conn)
        .await?;
        if done.is_some() {
            continue;
        }
        let sql = std::fs::read_to_string(file)?;
        let mut tx = conn.begin().await?;
        tx.execute(sqlx::raw_sql(AssertSqlSafe(format!(
            "SET LOCAL search_path TO {schema}, public"
        ))))
        .await?;
        tx.execute(sqlx::raw_sql(AssertSqlSafe(sql)))
            .await
            .map_err(|e| anyhow::anyhow!("migration {name}: {}", crate::db::pg_error_text(&e)))?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {schema}.plugin_schema_migrations (filename) VALUES ($1)"
        )))
        .bind(&name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        applied.push(name);
    }
    Ok(applied)
}
