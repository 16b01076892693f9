//! Call protocol and host-import edge cases with small WAT guests.

mod common;
use common::*;
use paca_devhost::{CallError, Limits, Plugin};
use std::sync::Arc;

fn rt() -> tokio::runtime::Handle {
    tokio::runtime::Handle::current()
}

#[tokio::test]
async fn echo_unpacks_i64_and_resets_after_every_call() {
    let p = load(guest("", ECHO), env(rt())).await.unwrap();
    let out = p
        .call_export("HandleRequest", b"hello".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(out, b"hello");
    assert_eq!(p.global_i64("mallocs"), Some(1));
    assert_eq!(p.global_i64("first_size"), Some(5));
    assert_eq!(p.global_i64("resets"), Some(1));
    p.call_export("HandleRequest", b"again".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(p.global_i64("resets"), Some(2));
}

#[tokio::test]
async fn empty_payload_is_zero_zero_without_malloc() {
    let f = r#"(func (export "HandleRequest") (param $p i32) (param $l i32) (result i64)
        (call $pack (i32.add (local.get $p) (i32.const 7)) (local.get $l)))"#;
    let p = load(guest("", f), env(rt())).await.unwrap();
    // ptr 0+7 with len 0 → empty response, no memory access
    let out = p
        .call_export("HandleRequest", Vec::new(), None)
        .await
        .unwrap();
    assert!(out.is_empty());
    assert_eq!(p.global_i64("mallocs"), Some(0));
    assert_eq!(p.global_i64("resets"), Some(1));
}

#[tokio::test]
async fn malloc_returning_zero_is_an_error_and_still_resets() {
    let wat = r#"(module (memory (export "memory") 1)
      (global $resets (export "resets") (mut i32) (i32.const 0))
      (func (export "paca_malloc") (param i32) (result i32) (i32.const 0))
      (func (export "ResetAllocator") (global.set $resets (i32.add (global.get $resets) (i32.const 1))))
      (func (export "HandleRequest") (param i32 i32) (result i64) (i64.const 0)))"#;
    let p = load(wat.into(), env(rt())).await.unwrap();
    let err = p
        .call_export("HandleRequest", b"x".to_vec(), None)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("malloc returned 0 (buffer exhausted)"),
        "{err}"
    );
    assert_eq!(p.global_i64("resets"), Some(1));
}

#[tokio::test]
async fn legacy_malloc_fallback() {
    let wat = r#"(module (memory (export "memory") 1)
      (func (export "malloc") (param i32) (result i32) (i32.const 1024))
      (func (export "HandleRequest") (param $p i32) (param $l i32) (result i64)
        (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $l)))))"#;
    let p = load(wat.into(), env(rt())).await.unwrap();
    assert_eq!(
        p.call_export("HandleRequest", b"abc".to_vec(), None)
            .await
            .unwrap(),
        b"abc"
    );
}

#[tokio::test]
async fn trap_becomes_error_and_resets() {
    let f = r#"(func (export "HandleRequest") (param i32 i32) (result i64) unreachable)"#;
    let p = load(guest("", f), env(rt())).await.unwrap();
    let err = p
        .call_export("HandleRequest", b"x".to_vec(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Failed(_)));
    assert_eq!(p.global_i64("resets"), Some(1));
    // the instance stays usable after a trap
    let err2 = p
        .call_export("HandleRequest", b"y".to_vec(), None)
        .await
        .unwrap_err();
    assert!(matches!(err2, CallError::Failed(_)));
    assert_eq!(p.global_i64("resets"), Some(2));
}

#[tokio::test]
async fn out_of_bounds_result_is_an_error() {
    let f = r#"(func (export "HandleRequest") (param i32 i32) (result i64) (i64.const 0x7fffffff00000010))"#;
    let p = load(guest("", f), env(rt())).await.unwrap();
    assert!(
        p.call_export("HandleRequest", b"x".to_vec(), None)
            .await
            .is_err()
    );
    assert_eq!(p.global_i64("resets"), Some(1));
}

#[tokio::test]
async fn missing_export_is_reported() {
    let p = load(guest("", ""), env(rt())).await.unwrap();
    let err = p
        .call_export("HandleRequest", b"x".to_vec(), None)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "HandleRequest not exported");
}

#[tokio::test]
async fn payload_over_limit_rejected_before_the_guest_runs() {
    let limits = Limits {
        max_request_body_bytes: 8,
        ..Limits::default()
    };
    let p = load_with(guest("", ECHO), env(rt()), limits).await.unwrap();
    let err = p
        .call_export("HandleRequest", vec![b'a'; 9], None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::PayloadTooLarge { size: 9, limit: 8 }),
        "{err}"
    );
    assert_eq!(p.global_i64("mallocs"), Some(0));
    assert_eq!(p.global_i64("resets"), Some(0));
    assert_eq!(
        p.call_export("HandleRequest", vec![b'a'; 8], None)
            .await
            .unwrap()
            .len(),
        8
    );
}

#[tokio::test]
async fn unknown_or_mismatched_import_fails_instantiation_subset_loads() {
    let unknown = guest(
        r#"(import "paca" "no_such_fn" (func (param i64 i64)))"#,
        ECHO,
    );
    let e = load(unknown, env(rt()))
        .await
        .err()
        .expect("unknown import must fail");
    assert!(format!("{e:#}").contains("no_such_fn"), "{e:#}");
    let mismatched = guest(r#"(import "paca" "log" (func (param i32 i32 i32)))"#, ECHO);
    assert!(load(mismatched, env(rt())).await.is_err());
    let env_import = guest(r#"(import "env" "abort" (func))"#, ECHO);
    assert!(load(env_import, env(rt())).await.is_err());
    let subset = guest(
        r#"(import "paca" "log" (func (param i32 i64 i64)))
           (import "paca" "event_emit" (func (param i64 i64 i64 i64) (result i32)))
           (import "paca" "tasks_list" (func (param i64 i64) (result i64 i64)))
           (import "paca" "cache_set" (func (param i64 i64 i64 i64 i32) (result i32)))
           (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))"#,
        ECHO,
    );
    load(subset, env(rt())).await.unwrap();
}

#[tokio::test]
async fn init_status_and_initialize() {
    let bad = guest("", r#"(func (export "Init") (result i32) (i32.const 3))"#);
    let e = load(bad, env(rt())).await.err().unwrap();
    assert_eq!(format!("{e:#}"), "Init returned status 3");
    let ok = guest(
        "",
        r#"(global $inited (export "inited") (mut i32) (i32.const 0))
           (func (export "_initialize") (global.set $inited (i32.const 1)))
           (func (export "Init") (result i32) (i32.sub (i32.const 1) (global.get $inited)))"#,
    );
    load(ok, env(rt())).await.unwrap();
}

#[tokio::test]
async fn config_get_allowlist_and_empty_values() {
    fn wat(key: &str) -> String {
        let funcs = format!(
            r#"(data (i32.const 0) "{key}")
               (func (export "HandleRequest") (param i32 i32) (result i64)
                 (i64.store (i32.const 100) (i64.const -1))
                 (call $cfg (i64.const 0) (i64.const {len}) (i64.const 100) (i64.const 104))
                 (if (i32.eqz (i32.load (i32.const 104))) (then (return (i64.const 0))))
                 (call $pack (i32.load (i32.const 100)) (i32.load (i32.const 104))))"#,
            len = key.len()
        );
        guest(
            r#"(import "paca" "config_get" (func $cfg (param i64 i64 i64 i64)))"#,
            &funcs,
        )
    }
    let mk_env = || {
        let mut e = env(tokio::runtime::Handle::current());
        e.allowed_config_keys = vec!["ENCRYPTION_KEY".into(), "PUBLIC_URL".into()];
        e.config.insert("ENCRYPTION_KEY".into(), "ab".repeat(32));
        e.config.insert("PUBLIC_URL".into(), String::new());
        e.config.insert("SECRET".into(), "nope".into());
        e
    };
    let p = load(wat("ENCRYPTION_KEY"), mk_env()).await.unwrap();
    assert_eq!(
        p.call_export("HandleRequest", b"x".to_vec(), None)
            .await
            .unwrap(),
        "ab".repeat(32).as_bytes()
    );
    for key in ["SECRET", "PUBLIC_URL", "encryption_key"] {
        let p = load(wat(key), mk_env()).await.unwrap();
        // (0,0) written: ptr and len both zeroed, no malloc beyond the payload
        assert!(
            p.call_export("HandleRequest", b"x".to_vec(), None)
                .await
                .unwrap()
                .is_empty(),
            "{key}"
        );
        assert_eq!(p.global_i64("mallocs"), Some(1), "{key}");
    }
}

#[tokio::test]
async fn wasi_random_is_deterministic_across_loads() {
    let f = r#"(func (export "HandleRequest") (param i32 i32) (result i64)
        (drop (call $rand (i32.const 300) (i32.const 32)))
        (call $pack (i32.const 300) (i32.const 32)))"#;
    let imports = r#"(import "wasi_snapshot_preview1" "random_get" (func $rand (param i32 i32) (result i32)))"#;
    let a = load(guest(imports, f), env(rt())).await.unwrap();
    let b = load(guest(imports, f), env(rt())).await.unwrap();
    let ra = a
        .call_export("HandleRequest", b"x".to_vec(), None)
        .await
        .unwrap();
    let rb = b
        .call_export("HandleRequest", b"x".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(ra, rb);
    assert_ne!(ra, vec![0u8; 32]);
}

#[tokio::test]
async fn events_write_payload_then_topic_and_skip_without_export() {
    let f = r#"(global $tl (export "topic_len") (mut i32) (i32.const 0))
        (global $pl (export "payload_len") (mut i32) (i32.const 0))
        (func (export "HandleEvent") (param $tp i32) (param $tl i32) (param $pp i32) (param $pl i32)
          (global.set $tl (local.get $tl)) (global.set $pl (local.get $pl)))"#;
    let p = load(guest("", f), env(rt())).await.unwrap();
    assert!(
        p.dispatch_event("task.deleted", br#"{"id":"1"}"#.to_vec())
            .await
    );
    assert_eq!(p.global_i64("first_size"), Some(10)); // payload malloc'd first
    assert_eq!(p.global_i64("mallocs"), Some(2));
    assert_eq!(p.global_i64("topic_len"), Some(12));
    assert_eq!(p.global_i64("payload_len"), Some(10));
    assert_eq!(p.global_i64("resets"), Some(1));

    let none = load(guest("", ""), env(rt())).await.unwrap();
    assert!(!none.dispatch_event("task.deleted", b"{}".to_vec()).await);
    assert_eq!(none.global_i64("mallocs"), Some(0));

    let small = load_with(
        guest("", f),
        env(rt()),
        Limits {
            max_request_body_bytes: 4,
            ..Limits::default()
        },
    )
    .await
    .unwrap();
    assert!(
        !small
            .dispatch_event("task.deleted", br#"{"a":1}"#.to_vec())
            .await
    );
    assert_eq!(small.global_i64("mallocs"), Some(0));
}

#[tokio::test]
async fn epoch_interruption_stops_runaway_guests() {
    let f = r#"(func (export "HandleRequest") (param i32 i32) (result i64) (loop $l (br $l)) (i64.const 0))"#;
    let limits = Limits {
        interrupt_after: Some(std::time::Duration::from_millis(50)),
        ..Limits::default()
    };
    let p: Arc<Plugin> = load_with(guest("", f), env(rt()), limits).await.unwrap();
    assert!(
        p.call_export("HandleRequest", b"x".to_vec(), None)
            .await
            .is_err()
    );
    assert_eq!(p.global_i64("resets"), Some(1));
}

#[tokio::test]
async fn event_emit_is_recorded_in_order() {
    let f = r#"(data (i32.const 0) "github.pr_merged")
        (data (i32.const 32) "{\"project_id\":\"p\"}")
        (data (i32.const 64) "not json")
        (func (export "HandleRequest") (param i32 i32) (result i64)
          (drop (call $emit (i64.const 0) (i64.const 16) (i64.const 32) (i64.const 18)))
          (drop (call $emit (i64.const 0) (i64.const 6) (i64.const 64) (i64.const 8)))
          (i64.const 0))"#;
    let e = env(rt());
    let log = e.events.clone();
    let p = load(
        guest(
            r#"(import "paca" "event_emit" (func $emit (param i64 i64 i64 i64) (result i32)))"#,
            f,
        ),
        e,
    )
    .await
    .unwrap();
    p.call_export("HandleRequest", b"x".to_vec(), None)
        .await
        .unwrap();
    let ev = log.emitted();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].topic, "github.pr_merged");
    assert_eq!(ev[0].source, "com.paca.github");
    assert_eq!(ev[0].payload, serde_json::json!({"project_id": "p"}));
    assert_eq!(ev[1].topic, "github");
    assert_eq!(ev[1].payload, serde_json::json!({}));
}
