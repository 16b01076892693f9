//! Shared helpers: tiny WAT guests and a DB-backed host environment.
#![allow(dead_code)]

use paca_devhost::{HostEnv, Limits, Plugin};
use std::sync::Arc;

/// A guest with a counting bump allocator (`mallocs`, `first_size`, `resets` globals).
/// `imports` and `funcs` are spliced in; `$malloc` is the allocator.
pub fn guest(imports: &str, funcs: &str) -> String {
    format!(
        r#"(module
  {imports}
  (memory (export "memory") 40)
  (global $heap (mut i32) (i32.const 65536))
  (global $mallocs (export "mallocs") (mut i32) (i32.const 0))
  (global $first_size (export "first_size") (mut i32) (i32.const -1))
  (global $resets (export "resets") (mut i32) (i32.const 0))
  (func $malloc (export "paca_malloc") (param $n i32) (result i32)
    (local $p i32)
    (global.set $mallocs (i32.add (global.get $mallocs) (i32.const 1)))
    (if (i32.eq (global.get $first_size) (i32.const -1)) (then (global.set $first_size (local.get $n))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "ResetAllocator")
    (global.set $resets (i32.add (global.get $resets) (i32.const 1)))
    (global.set $heap (i32.const 65536)))
  (func $pack (param $p i32) (param $l i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $l))))
  {funcs}
)"#
    )
}

/// HandleRequest returning the payload itself.
pub const ECHO: &str = r#"(func (export "HandleRequest") (param $p i32) (param $l i32) (result i64)
    (call $pack (local.get $p) (local.get $l)))"#;

/// HandleRequest returning "X" + payload (invalid JSON → raw bytes path of the HTTP layer).
pub const XECHO: &str = r#"(func (export "HandleRequest") (param $p i32) (param $l i32) (result i64)
    (local $o i32)
    (local.set $o (call $malloc (i32.add (local.get $l) (i32.const 1))))
    (i32.store8 (local.get $o) (i32.const 88))
    (memory.copy (i32.add (local.get $o) (i32.const 1)) (local.get $p) (local.get $l))
    (call $pack (local.get $o) (i32.add (local.get $l) (i32.const 1))))"#;

pub fn env(rt: tokio::runtime::Handle) -> HostEnv {
    HostEnv::new("com.paca.github", rt)
}

pub async fn load(wat: String, env: HostEnv) -> anyhow::Result<Arc<Plugin>> {
    Plugin::load(wat.into_bytes(), Arc::new(env), Limits::default()).await
}

pub async fn load_with(wat: String, env: HostEnv, limits: Limits) -> anyhow::Result<Arc<Plugin>> {
    Plugin::load(wat.into_bytes(), Arc::new(env), limits).await
}

/// A fresh database with the core schema and the plugin schema (fixture migrations).
pub async fn fresh_pool() -> sqlx::PgPool {
    let url = paca_devhost::pg::fresh_database()
        .await
        .expect("fresh database");
    let pool = paca_devhost::pg::connect(&url).await.expect("connect");
    paca_devhost::seed::ensure_core_schema(&pool)
        .await
        .expect("core schema");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations");
    paca_devhost::migrate::run_migrations(&pool, "com.paca.github", &dir)
        .await
        .expect("migrations");
    pool
}
