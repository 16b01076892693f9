//! Database behaviour on a real PostgreSQL: encoding, params, guard through the imports,
//! re-entrant malloc, migrations.

mod common;
use common::*;
use paca_devhost::{db, migrate};
use serde_json::{Value, json};

const SCHEMA: &str = "plugin_data_com_paca_github";

async fn q(pool: &sqlx::PgPool, sql: &str, params: &str) -> Result<Value, String> {
    db::query(pool, SCHEMA, sql.as_bytes(), params.as_bytes(), None)
        .await
        .map(|s| serde_json::from_str(&s).unwrap())
}

async fn x(pool: &sqlx::PgPool, sql: &str, params: &str) -> Result<u64, String> {
    db::exec(pool, SCHEMA, sql.as_bytes(), params.as_bytes(), None).await
}

#[tokio::test]
async fn result_encoding_like_the_host() {
    let pool = fresh_pool().await;
    let empty = q(&pool, "SELECT id, label FROM fixture_items", "")
        .await
        .unwrap();
    assert_eq!(empty, json!({"columns": ["id", "label"], "rows": null}));
    let r = q(
        &pool,
        "SELECT 1::int2 AS a, 2::int4, 3000000000::int8, 1.5::float8, 12.50::numeric(10,2), true, NULL::text, \
         '6f1c1b7e-1111-4222-8333-444455556666'::uuid, '{\"b\": [1, 2]}'::jsonb, '{\"x\":1}'::json, \
         '2024-03-04 05:06:07.120+02'::timestamptz, '2024-03-04 05:06:07'::timestamptz, \
         '2024-03-04 05:06:07.5'::timestamp, '2024-03-04'::date, '\\x01ff'::bytea, ARRAY['a','b'], \
         'x'::text AS a",
        "null",
    )
    .await
    .unwrap();
    assert_eq!(r["columns"][0], "a");
    assert_eq!(r["columns"][16], "a"); // repeated names kept
    assert_eq!(
        r["rows"][0],
        json!([
            1,
            2,
            3000000000i64,
            1.5,
            "12.50",
            true,
            null,
            "6f1c1b7e-1111-4222-8333-444455556666",
            "{\"b\": [1, 2]}",
            "{\"x\":1}",
            "2024-03-04T03:06:07.12Z",
            "2024-03-04T05:06:07Z",
            "2024-03-04T05:06:07.5Z",
            "2024-03-04T00:00:00Z",
            "Af8=",
            "{a,b}",
            "x"
        ])
    );
}

#[tokio::test]
async fn params_bind_like_pgx_against_the_real_schema() {
    let pool = fresh_pool().await;
    let seed = paca_devhost::Seed { pool: pool.clone() };
    let project = seed.project("P", "PRJ").await.unwrap();
    let task = seed.task(&project, "T").await.unwrap();
    // strings → uuid / timestamptz / text / jsonb, numbers → bigint / int / numeric, bool, null
    let params = json!([
        project,
        task.id,
        "3.25",
        42,
        7.0,
        true,
        "{\"k\":1}",
        "2024-05-06T07:08:09.123456789Z",
        "it's"
    ]);
    let r = q(
        &pool,
        "INSERT INTO fixture_items (project_id, task_id, amount, big, small, flag, doc, happened_at, label) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING amount, big, small, flag, doc, happened_at, label",
        &params.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(
        r["rows"][0],
        json!([
            "3.25",
            42,
            7,
            true,
            "{\"k\": 1}",
            "2024-05-06T07:08:09.123457Z",
            "it's"
        ])
    );
    // big ids as strings with a cast; numbers in WHERE; task_number bigint from a JSON number
    let r = q(
        &pool,
        "SELECT count(*) FROM fixture_items WHERE big = $1::bigint AND small = $2",
        "[\"42\", 7]",
    )
    .await
    .unwrap();
    assert_eq!(r["rows"][0][0], 1);
    let r = q(
        &pool,
        "SELECT title FROM tasks WHERE project_id = $1 AND task_number = $2",
        &json!([project, 1]).to_string(),
    )
    .await
    .unwrap();
    assert_eq!(r["rows"][0][0], "T");
    // a fraction for an integer column is truncated, as pgx's float64 → int8 conversion does
    assert_eq!(
        x(&pool, "UPDATE fixture_items SET small = $1", "[1.5]")
            .await
            .unwrap(),
        1
    );
    let r = q(&pool, "SELECT small FROM fixture_items", "")
        .await
        .unwrap();
    assert_eq!(r["rows"][0][0], 1);
    assert_eq!(
        x(
            &pool,
            "UPDATE fixture_items SET label = $1 WHERE label = $2",
            r#"[null, "it's"]"#
        )
        .await
        .unwrap(),
        1
    );
    // count mismatch
    let e = q(&pool, "SELECT $1::int, $2::int", "[1]")
        .await
        .unwrap_err();
    assert_eq!(e, "paca.db_query: expected 2 arguments, got 1");
    let e = q(&pool, "SELECT 1", "{\"a\":1}").await.unwrap_err();
    assert!(e.starts_with("paca.db_query: parse params: "), "{e}");
}

#[tokio::test]
async fn guard_and_postgres_errors_have_host_texts() {
    let pool = fresh_pool().await;
    let e = q(&pool, "WITH x AS (SELECT 1) SELECT * FROM x", "")
        .await
        .unwrap_err();
    assert_eq!(
        e,
        "paca.db_query: only SELECT and DML with RETURNING statements are allowed"
    );
    let e = q(&pool, "SELECT 1; SELECT 2", "").await.unwrap_err();
    assert_eq!(e, "paca.db_query: multiple statements are not allowed");
    let e = x(&pool, "CREATE TABLE evil (a int)", "").await.unwrap_err();
    assert!(e.starts_with("paca.db_exec: only"), "{e}");
    // rows affected is the command tag count, as pgx reports it (SELECT 1 here)
    assert_eq!(
        x(
            &pool,
            "WITH d AS (DELETE FROM fixture_items RETURNING 1) SELECT count(*) FROM d",
            ""
        )
        .await
        .unwrap(),
        1
    );
    x(
        &pool,
        "INSERT INTO fixture_links (item_id, url) VALUES (gen_random_uuid(), 'u')",
        "",
    )
    .await
    .map(|_| ())
    .unwrap_err()
    .contains("(SQLSTATE 23503)")
    .then_some(())
    .expect("fk violation text");
    let seed = paca_devhost::Seed { pool: pool.clone() };
    let project = seed.project("P", "").await.unwrap();
    let id = "6f1c1b7e-1111-4222-8333-444455556666";
    let ins = format!("INSERT INTO fixture_items (id, project_id) VALUES ('{id}', '{project}')");
    x(&pool, &ins, "").await.unwrap();
    let e = x(&pool, &ins, "").await.unwrap_err();
    assert!(
        e.starts_with("paca.db_exec: ERROR: duplicate key value violates unique constraint"),
        "{e}"
    );
    assert!(e.ends_with("(SQLSTATE 23505)"), "{e}");
    // search_path: unqualified names resolve to the plugin schema, then public
    let r = q(&pool, "SELECT current_schemas(false)", "").await.unwrap();
    assert_eq!(r["rows"][0][0], "{plugin_data_com_paca_github,public}");
}

#[tokio::test]
async fn db_query2_through_the_guest_mallocs_reentrantly() {
    let pool = fresh_pool().await;
    // HandleRequest runs the payload as SQL via db_query2 and returns res or err.
    let f = r#"(func (export "HandleRequest") (param $p i32) (param $l i32) (result i64)
        (i64.store (i32.const 200) (i64.const 0)) (i64.store (i32.const 208) (i64.const 0))
        (call $q (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $l)) (i64.const 0) (i64.const 0)
                 (i64.const 200) (i64.const 204) (i64.const 208) (i64.const 212))
        (if (i32.load (i32.const 212)) (then (return (call $pack (i32.load (i32.const 208)) (i32.load (i32.const 212))))))
        (call $pack (i32.load (i32.const 200)) (i32.load (i32.const 204))))"#;
    let imports =
        r#"(import "paca" "db_query2" (func $q (param i64 i64 i64 i64 i64 i64 i64 i64)))"#;
    let mut e = env(tokio::runtime::Handle::current());
    e.db = Some(pool.clone());
    let p = load(guest(imports, f), e).await.unwrap();
    let out = p
        .call_export("HandleRequest", b"SELECT 1 AS one".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"columns":["one"],"rows":[[1]]}"#
    );
    assert_eq!(p.global_i64("mallocs"), Some(2)); // payload + result, via paca_malloc
    assert_eq!(p.global_i64("resets"), Some(1));
    let out = p
        .call_export(
            "HandleRequest",
            b"WITH a AS (SELECT 1) SELECT * FROM a".to_vec(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "paca.db_query: only SELECT and DML with RETURNING statements are allowed"
    );
    let out = p
        .call_export("HandleRequest", b"DROP TABLE fixture_items".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "paca.db_query: only SELECT and DML with RETURNING statements are allowed"
    );
    let out = p
        .call_export(
            "HandleRequest",
            b"SELECT 1; DELETE FROM fixture_items".to_vec(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "paca.db_query: multiple statements are not allowed"
    );
}

async fn apply_raw(pool: &sqlx::PgPool, dir: &std::path::Path) {
    use sqlx::Executor;
    for f in migrate::migration_files(dir).unwrap() {
        let sql = std::fs::read_to_string(&f).unwrap();
        let mut tx = pool.begin().await.unwrap();
        tx.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "SET LOCAL search_path TO {SCHEMA}, public"
        ))))
        .await
        .unwrap();
        tx.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        tx.commit().await.unwrap();
    }
}

async fn migrations_twice(dir: &std::path::Path) {
    let url = paca_devhost::pg::fresh_database().await.unwrap();
    let pool = paca_devhost::pg::connect(&url).await.unwrap();
    paca_devhost::seed::ensure_core_schema(&pool).await.unwrap();
    paca_devhost::seed::ensure_core_schema(&pool).await.unwrap();
    let files = migrate::migration_files(dir).unwrap();
    assert!(!files.is_empty());
    let first = migrate::run_migrations(&pool, "com.paca.github", dir)
        .await
        .unwrap();
    assert_eq!(first.len(), files.len());
    let second = migrate::run_migrations(&pool, "com.paca.github", dir)
        .await
        .unwrap();
    assert!(second.is_empty());
    let r = db::query(
        &pool,
        SCHEMA,
        b"SELECT filename FROM plugin_schema_migrations ORDER BY filename",
        b"",
        None,
    )
    .await
    .unwrap();
    let v: Value = serde_json::from_str(&r).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), files.len());
    // raw re-execution twice proves IF NOT EXISTS idempotency
    apply_raw(&pool, dir).await;
    apply_raw(&pool, dir).await;
}

#[tokio::test]
async fn fixture_migrations_apply_twice_and_raw_twice() {
    migrations_twice(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations"),
    )
    .await;
}

#[tokio::test]
async fn real_migrations_apply_twice_and_raw_twice() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    assert!(
        dir.is_dir(),
        "expected the plugin migrations at {}",
        dir.display()
    );
    migrations_twice(&dir).await;
}

#[tokio::test]
async fn storage_kv_roundtrip() {
    let pool = fresh_pool().await;
    let f = r#"(data (i32.const 0) "k1") (data (i32.const 16) "v1")
        (func (export "HandleRequest") (param i32 i32) (result i64)
          (drop (call $set (i64.const 0) (i64.const 2) (i64.const 16) (i64.const 2)))
          (i64.store (i32.const 100) (i64.const 0))
          (call $get (i64.const 0) (i64.const 2) (i64.const 100) (i64.const 104))
          (call $pack (i32.load (i32.const 100)) (i32.load (i32.const 104))))"#;
    let imports = r#"(import "paca" "storage_set" (func $set (param i64 i64 i64 i64) (result i32)))
        (import "paca" "storage_get" (func $get (param i64 i64 i64 i64)))"#;
    let mut e = env(tokio::runtime::Handle::current());
    e.db = Some(pool);
    let p = load(guest(imports, f), e).await.unwrap();
    assert_eq!(
        p.call_export("HandleRequest", b"x".to_vec(), None)
            .await
            .unwrap(),
        b"v1"
    );
}
