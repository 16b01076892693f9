//! The built plugin's export/import lists and size. Needs `PACA_GITHUB_WASM` (set by
//! `cargo xtask test`, which builds github.wasm first); fails without it, by design.

use std::collections::BTreeSet;

#[test]
fn github_wasm_exports_imports_and_size() {
    let path = std::env::var("PACA_GITHUB_WASM").unwrap_or_else(|_| {
        panic!("PACA_GITHUB_WASM is not set: run `cargo xtask test` (it builds github.wasm and sets it)")
    });
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    assert!(
        bytes.len() <= 600 * 1024,
        "github.wasm is {} bytes (> 600 KiB)",
        bytes.len()
    );
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, &bytes).expect("valid module");
    let exports: BTreeSet<String> = module.exports().map(|e| e.name().to_owned()).collect();
    for want in [
        "memory",
        "paca_malloc",
        "HandleRequest",
        "HandleEvent",
        "ResetAllocator",
        "Init",
        "Shutdown",
    ] {
        assert!(exports.contains(want), "missing export {want}: {exports:?}");
    }
    assert!(!exports.contains("malloc"), "must not export malloc");
    let mut paca = BTreeSet::new();
    for imp in module.imports() {
        match imp.module() {
            "paca" => {
                paca.insert(imp.name().to_owned());
            }
            "wasi_snapshot_preview1" => {}
            other => panic!("import from unexpected module {other:?} ({})", imp.name()),
        }
    }
    let allowed: BTreeSet<String> = [
        "db_query2",
        "db_exec",
        "config_get",
        "fetch",
        "event_emit",
        "activity_record",
        "log",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert!(
        paca.is_subset(&allowed),
        "unexpected paca imports: {:?}",
        paca.difference(&allowed)
    );
    // and it must instantiate against the devhost's host module
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let env = paca_devhost::HostEnv::new("com.paca.github", tokio::runtime::Handle::current());
        paca_devhost::Plugin::load(
            bytes,
            std::sync::Arc::new(env),
            paca_devhost::Limits::default(),
        )
        .await
        .expect("github.wasm loads in the devhost");
    });
}
