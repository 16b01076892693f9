//! devhost's `wasi_snapshot_preview1` (src/wasi.rs): every function links with its witx
//! signature, and under the host's configuration (no args, env or preopens; stdio discarded)
//! each call answers what the module documents.

mod common;
use common::*;
use paca_devhost::CallError;

fn rt() -> tokio::runtime::Handle {
    tokio::runtime::Handle::current()
}

/// All 46 functions of WASI preview 1, signatures as in the witx (`i64` where it has a 64-bit
/// value), named `$<function>`.
const ALL: &str = r#"
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $clock_res_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_advise" (func $fd_advise (param i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_allocate" (func $fd_allocate (param i32 i64 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_datasync" (func $fd_datasync (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $fd_fdstat_set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_rights" (func $fd_fdstat_set_rights (param i32 i64 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $fd_filestat_set_size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_times" (func $fd_filestat_set_times (param i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread" (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $fd_pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $fd_renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_sync" (func $fd_sync (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_tell" (func $fd_tell (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $path_filestat_set_times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link" (func $path_link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_readlink" (func $path_readlink (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_remove_directory" (func $path_remove_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $path_rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $path_unlink_file (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "proc_raise" (func $proc_raise (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $sock_recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_shutdown" (func $sock_shutdown (param i32 i32) (result i32)))
"#;

/// `HandleRequest` runs `calls` (each leaves one i32 on the stack; setup steps leave 0) and returns their results
/// as little-endian i32s. Scratch memory: iovec at 300 → "hello" at 400; out-params from 200.
fn probe(calls: &[&str]) -> String {
    let mut body = String::new();
    for (i, call) in calls.iter().enumerate() {
        body.push_str(&format!(
            "(i32.store (i32.const {}) {call})\n",
            1000 + 4 * i
        ));
    }
    let funcs = format!(
        r#"(data (i32.const 300) "\90\01\00\00\05\00\00\00")
           (data (i32.const 310) "\90\01\00\00\ff\ff\ff\7f")
           (data (i32.const 400) "hello")
           (func (export "HandleRequest") (param i32 i32) (result i64)
             {body}
             (call $pack (i32.const 1000) (i32.const {len})))"#,
        len = 4 * calls.len()
    );
    guest(ALL, &funcs)
}

async fn run(calls: &[&str]) -> Vec<i32> {
    let p = load(probe(calls), env(rt())).await.unwrap();
    let out = p
        .call_export("HandleRequest", b"x".to_vec(), None)
        .await
        .unwrap();
    out.chunks(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

const BADF: i32 = 8;

#[tokio::test]
async fn all_46_functions_link_with_their_witx_signatures() {
    // A module importing every function instantiates; one with a wrong signature does not.
    load(guest(ALL, ECHO), env(rt())).await.unwrap();
    let wrong = guest(
        r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32) (result i32)))"#,
        ECHO,
    );
    assert!(load(wrong, env(rt())).await.is_err());
    let unknown = guest(
        r#"(import "wasi_snapshot_preview1" "fd_mmap" (func (param i32) (result i32)))"#,
        ECHO,
    );
    assert!(load(unknown, env(rt())).await.is_err());
}

#[tokio::test]
async fn no_args_no_environment() {
    let r = run(&[
        "(call $args_sizes_get (i32.const 200) (i32.const 204))",
        "(i32.load (i32.const 200))",
        "(i32.load (i32.const 204))",
        "(call $environ_sizes_get (i32.const 208) (i32.const 212))",
        "(i32.load (i32.const 208))",
        "(i32.load (i32.const 212))",
        "(call $args_get (i32.const 200) (i32.const 204))",
        // an out-param past the end of memory
        "(call $args_sizes_get (i32.const 0x7ffffff0) (i32.const 204))",
    ])
    .await;
    assert_eq!(r, [0, 0, 0, 0, 0, 0, 0, 21]);
}

#[tokio::test]
async fn stdio_is_discarded_and_stdin_is_empty() {
    let r = run(&[
        // stdout and stderr take everything; stdin and unknown descriptors are not writable
        "(i32.store (i32.const 216) (i32.const -1)) (i32.const 0)",
        "(call $fd_write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 216))",
        "(i32.load (i32.const 216))",
        "(call $fd_write (i32.const 2) (i32.const 300) (i32.const 1) (i32.const 216))",
        "(call $fd_write (i32.const 0) (i32.const 300) (i32.const 1) (i32.const 216))",
        "(call $fd_write (i32.const 7) (i32.const 300) (i32.const 1) (i32.const 216))",
        // an iovec whose buffer runs past memory
        "(call $fd_write (i32.const 1) (i32.const 310) (i32.const 1) (i32.const 216))",
        // stdin reads end of file
        "(i32.store (i32.const 220) (i32.const -1)) (i32.const 0)",
        "(call $fd_read (i32.const 0) (i32.const 300) (i32.const 1) (i32.const 220))",
        "(i32.load (i32.const 220))",
        "(call $fd_read (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 220))",
        // not seekable; closing works once
        "(call $fd_seek (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 224))",
        "(call $fd_close (i32.const 1))",
        "(call $fd_close (i32.const 1))",
        "(call $fd_write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 216))",
        // fdstat: filetype unknown (not a terminal), stderr has the write right (bit 6)
        "(call $fd_fdstat_get (i32.const 2) (i32.const 232))",
        "(i32.load8_u (i32.const 232))",
        "(i32.and (i32.load (i32.const 240)) (i32.const 64))",
        // an iovec count of 2^32 - 1 ends at the first entry outside memory
        "(call $fd_write (i32.const 2) (i32.const 300) (i32.const -1) (i32.const 216))",
    ])
    .await;
    assert_eq!(
        r,
        [
            0, 0, 5, 0, BADF, BADF, 21, 0, 0, 0, BADF, 70, 0, BADF, BADF, 0, 0, 64, 21
        ]
    );
}

#[tokio::test]
async fn nothing_to_open_no_preopens_paths_or_sockets() {
    let r = run(&[
        "(call $fd_prestat_get (i32.const 3) (i32.const 200))",
        "(call $path_open (i32.const 3) (i32.const 0) (i32.const 400) (i32.const 5) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 200))",
        "(call $path_open (i32.const 1) (i32.const 0) (i32.const 400) (i32.const 5) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 200))",
        "(call $path_symlink (i32.const 400) (i32.const 5) (i32.const 2) (i32.const 400) (i32.const 5))",
        "(call $fd_readdir (i32.const 0) (i32.const 200) (i32.const 8) (i64.const 0) (i32.const 208))",
        "(call $sock_send (i32.const 2) (i32.const 300) (i32.const 1) (i32.const 0) (i32.const 200))",
        "(call $sock_accept (i32.const 9) (i32.const 0) (i32.const 200))",
        "(call $fd_sync (i32.const 1))",
        "(call $fd_renumber (i32.const 1) (i32.const 5))",
        "(call $proc_raise (i32.const 6))",
        "(call $sched_yield)",
    ])
    .await;
    assert_eq!(r, [BADF, BADF, 54, 54, 54, 57, BADF, 28, BADF, 52, 0]);
}

#[tokio::test]
async fn clocks_are_real_and_unknown_clocks_are_invalid() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let r = run(&[
        "(call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 200))",
        "(i32.load (i32.const 200))",
        "(i32.load (i32.const 204))",
        "(call $clock_time_get (i32.const 2) (i64.const 1) (i32.const 200))",
        "(call $clock_res_get (i32.const 1) (i32.const 208))",
        "(i32.load (i32.const 208))",
        // monotonic never goes back
        "(drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 216)))
         (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 224)))
         (i64.le_u (i64.load (i32.const 216)) (i64.load (i32.const 224)))",
    ])
    .await;
    let realtime = (r[1] as u32 as u64) | (r[2] as u32 as u64) << 32;
    assert_eq!(r[0], 0);
    assert!(realtime >= before, "{realtime} < {before}");
    assert_eq!(&r[3..], [28, 0, 1, 1]);
}

#[tokio::test]
async fn poll_oneoff_reports_ready_descriptors_and_expired_clocks() {
    // Subscriptions are 48 bytes: userdata, tag, then the clock or fd fields.
    let r = run(&[
        // stdin readable at once (end of file): one event, userdata 7, no error, hangup flag
        "(i64.store (i32.const 600) (i64.const 7))
         (i32.store8 (i32.const 608) (i32.const 1))
         (i32.store (i32.const 616) (i32.const 0))
         (call $poll_oneoff (i32.const 600) (i32.const 700) (i32.const 1) (i32.const 244))",
        "(i32.load (i32.const 244))",
        "(i32.load (i32.const 700))",
        "(i32.load16_u (i32.const 708))",
        "(i32.load16_u (i32.const 724))",
        // a relative monotonic clock of 1 µs: one clock event with its userdata
        "(i64.store (i32.const 600) (i64.const 9))
         (i32.store8 (i32.const 608) (i32.const 0))
         (i32.store (i32.const 616) (i32.const 1))
         (i64.store (i32.const 624) (i64.const 1000))
         (i32.store16 (i32.const 640) (i32.const 0))
         (call $poll_oneoff (i32.const 600) (i32.const 700) (i32.const 1) (i32.const 244))",
        "(i32.load (i32.const 244))",
        "(i32.load (i32.const 700))",
        "(i32.load8_u (i32.const 710))",
        // no subscriptions
        "(call $poll_oneoff (i32.const 600) (i32.const 700) (i32.const 0) (i32.const 244))",
    ])
    .await;
    assert_eq!(r, [0, 1, 7, 0, 1, 0, 1, 9, 0, 28]);
}

#[tokio::test]
async fn random_get_fills_the_buffer_and_proc_exit_traps() {
    let r = run(&[
        "(call $random_get (i32.const 800) (i32.const 16))",
        "(i32.or (i32.load (i32.const 800)) (i32.load (i32.const 812)))",
        "(call $random_get (i32.const 0x7ffffff8) (i32.const 16))",
    ])
    .await;
    assert_eq!(r[0], 0);
    assert_ne!(r[1], 0);
    assert_eq!(r[2], 21);

    let exits = guest(
        ALL,
        r#"(func (export "HandleRequest") (param i32 i32) (result i64)
             (call $proc_exit (i32.const 3)) (i64.const 0))"#,
    );
    let p = load(exits, env(rt())).await.unwrap();
    match p.call_export("HandleRequest", b"x".to_vec(), None).await {
        Err(CallError::Failed(e)) => assert!(e.contains("proc_exit(3)"), "{e}"),
        other => panic!("proc_exit must trap, got {other:?}"),
    }
}
