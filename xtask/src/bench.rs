//! `cargo xtask bench [--quick]`: builds the release `github.wasm` (with its size budget) and,
//! at the same time, the bench (profile `perf`), then runs it: devhost + fake GitHub + an
//! ephemeral PostgreSQL on loopback, the plugin measured against the raw-SQL floor of its own
//! statements. Prints one table and writes `docs/perf.md` and `docs/perf.svg`.

use crate::{Result, root, tools};
use std::process::Command;

pub fn run(args: &[String]) -> Result {
    let mut passthrough = Vec::new();
    for a in args {
        match a.as_str() {
            "--quick" => passthrough.push(a.clone()),
            other => return Err(format!("`bench` takes only --quick (got `{other}`)")),
        }
    }
    let root = root();
    let started = std::time::Instant::now();
    tools::step("Checking tools");
    tools::ensure_postgres()?;
    // The two builds lock different profile directories, so they overlap: the wasm's serial
    // stretches (its one-codegen-unit LTO link) fill the cores the bench's crates leave idle.
    tools::step("Building the bench (devhost, profile perf) beside github.wasm");
    let bench = tools::cargo_in_background(
        "bench build",
        &["build", "-p", "paca-bench", "--profile", "perf", "--locked"],
    )?;
    let wasm = tools::build_wasm()?;
    tools::step("Waiting for the bench build");
    bench.wait()?;
    tools::step("Measuring (loopback only; a few minutes)");
    let bin = root.join("target/perf/paca-bench");
    tools::run(
        Command::new(&bin)
            .arg("--wasm")
            .arg(&wasm)
            .arg("--manifest")
            .arg(root.join("plugin.json"))
            .arg("--migrations")
            .arg(root.join("migrations"))
            .arg("--budget")
            .arg(root.join("backend/host-call-budget.txt"))
            .arg("--docs")
            .arg(root.join("docs"))
            .args(&passthrough)
            .current_dir(&root),
    )?;
    let t = started.elapsed().as_secs();
    println!(
        "\ncargo xtask bench: {} min {} s (the wasm and bench builds included)",
        t / 60,
        t % 60
    );
    Ok(())
}
