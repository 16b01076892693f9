//! Renders every statement of `paca-github-sql`'s catalogue into `OUT_DIR/statements.rs`
//! (SQL constants, typed parameter functions, row structs), so the wasm carries the SQL text
//! but none of sea-query's builder. `src/sql.rs` includes the result.

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let text = paca_github_sql::render::render(&paca_github_sql::catalogue());
    std::fs::write(out.join("statements.rs"), text).expect("writing statements.rs");
    // The catalogue is a (path) build-dependency, so cargo reruns this when it changes.
    println!("cargo::rerun-if-changed=build.rs");
}
