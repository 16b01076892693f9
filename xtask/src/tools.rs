//! Running external tools, and installing the ones a fresh machine lacks.

use crate::{Result, root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The release wasm must stay small: every Paca API replica compiles it at load (issue 13's
/// budget). Measured on the module after wasm-opt, which is the one that ships.
pub const WASM_SIZE_LIMIT: u64 = 400 * 1024;

pub fn step(what: &str) {
    println!("\n==> {what}");
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs a command with inherited stdio; a non-zero exit is an error naming the command.
pub fn run(cmd: &mut Command) -> Result {
    println!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("could not start `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

pub fn cargo(args: &[&str]) -> Result {
    cargo_with_env(args, &[])
}

/// `cargo <args>` at the repository root, with the cargo that runs xtask.
fn cargo_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args).current_dir(root());
    cmd
}

pub fn cargo_with_env(args: &[&str], env: &[(&str, &str)]) -> Result {
    let mut cmd = cargo_command(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// A cargo build running beside the foreground steps, its output prefixed line by line so the
/// two stay readable. Killed if dropped before [`Background::wait`] (a foreground step failed).
pub struct Background {
    what: String,
    child: std::process::Child,
    copiers: Vec<std::thread::JoinHandle<()>>,
}

pub fn cargo_in_background(what: &str, args: &[&str]) -> Result<Background> {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut cmd = cargo_command(args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    println!(
        "$ {} (in the background, lines prefixed `[{what}]`)",
        describe(&cmd)
    );
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start `{}`: {e}", describe(&cmd)))?;
    let prefix = format!("[{what}] ");
    let out = child
        .stdout
        .take()
        .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>);
    let err = child
        .stderr
        .take()
        .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>);
    let copiers = [out, err]
        .into_iter()
        .flatten()
        .map(|stream| {
            let prefix = prefix.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(|l| l.ok())
                {
                    println!("{prefix}{line}");
                }
            })
        })
        .collect();
    Ok(Background {
        what: what.to_owned(),
        child,
        copiers,
    })
}

impl Background {
    pub fn wait(mut self) -> Result {
        let status = self
            .child
            .wait()
            .map_err(|e| format!("{}: could not wait for cargo: {e}", self.what))?;
        for c in self.copiers.drain(..) {
            let _ = c.join();
        }
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed ({status}); its output is above, prefixed `[{}]`",
                self.what, self.what
            ))
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if !self.copiers.is_empty() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn npm(dir: &Path, args: &[&str]) -> Result {
    ensure_node()?;
    run(Command::new("npm").args(args).current_dir(dir))
}

fn on_path(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Installs Debian packages when running as root; otherwise says exactly what to run.
fn apt_install(packages: &[&str], why: &str) -> Result {
    if !is_root() || !on_path("apt-get") {
        return Err(format!(
            "{why}: install it with `sudo apt-get install -y {}`",
            packages.join(" ")
        ));
    }
    println!("{why}: installing {} with apt-get", packages.join(" "));
    run(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

pub fn ensure_node() -> Result {
    if on_path("node") && on_path("npm") {
        return Ok(());
    }
    apt_install(
        &["nodejs", "npm"],
        "Node.js and npm are needed for the frontend and MCP bundle",
    )
}

/// Free space on the disk that holds `target/`, in GiB, from `df` (None when it cannot tell).
fn free_disk_gib() -> Option<u64> {
    let out = Command::new("df").args(["-Pk"]).arg(root()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let avail_kib: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(avail_kib / (1024 * 1024))
}

/// Warns when a build from scratch may not fit: a disk that fills mid-build shows up as the
/// linker dying with "Bus error", far from the cause. Only a warning — an existing `target/`
/// needs much less than `need_gib`.
pub fn check_disk_space(need_gib: u64, what: &str) {
    match free_disk_gib() {
        Some(free) if free < need_gib => println!(
            "warning: {free} GiB free on the disk holding target/; {what} from scratch writes \
             about {need_gib} GiB (a full disk makes the linker fail with \"Bus error\")"
        ),
        Some(free) => println!("Disk: {free} GiB free"),
        None => println!("Disk: could not tell the free space (df failed)"),
    }
}

pub fn ensure_wasm_target() -> Result {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("rustup is needed to add the wasm32-wasip1 target: {e}"))?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-wasip1")
    {
        println!("wasm32-wasip1 target: installed");
        return Ok(());
    }
    run(Command::new("rustup")
        .args(["target", "add", "wasm32-wasip1"])
        .current_dir(root()))
}

/// PostgreSQL server binaries for the tests' ephemeral clusters (`initdb`, `pg_ctl`).
pub fn ensure_postgres() -> Result {
    if postgres_bin_dir().is_some() {
        println!("PostgreSQL server binaries: found");
        return Ok(());
    }
    apt_install(
        &["postgresql"],
        "PostgreSQL server binaries (initdb, pg_ctl) are needed by the tests",
    )?;
    postgres_bin_dir()
        .map(|_| ())
        .ok_or_else(|| "initdb is still missing after installing postgresql".into())
}

fn postgres_bin_dir() -> Option<PathBuf> {
    if on_path("initdb") && on_path("pg_ctl") {
        return Some(PathBuf::new());
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// `npm ci` when `node_modules` is missing or older than the lockfile; on CI always, but once
/// per run (codegen and the checks both ask for it).
pub fn ensure_npm_packages(dir: &Path) -> Result {
    static DONE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
    if done.iter().any(|d| d == dir) {
        return Ok(());
    }
    ensure_node()?;
    let marker = dir.join("node_modules/.package-lock.json");
    let lock = dir.join("package-lock.json");
    let stale = match (std::fs::metadata(&marker), std::fs::metadata(&lock)) {
        (Ok(m), Ok(l)) => match (m.modified(), l.modified()) {
            (Ok(m), Ok(l)) => m < l,
            _ => true,
        },
        _ => true,
    };
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if stale || ci {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir))?;
    } else {
        println!("npm packages in {}: up to date", dir.display());
    }
    done.push(dir.to_path_buf());
    Ok(())
}

/// Where the shipped module lands: cargo's output after wasm-opt. A separate file, so a cargo
/// build that is already fresh never feeds wasm-opt its own output (the bytes stay reproducible).
pub fn wasm_path() -> PathBuf {
    root().join("target/plugin/github.wasm")
}

/// Builds the release `github.wasm`, size-optimises it with wasm-opt and enforces the budget.
pub fn build_wasm() -> Result<PathBuf> {
    step("Building github.wasm (release, wasm32-wasip1)");
    ensure_wasm_target()?;
    cargo(&[
        "build",
        "-p",
        "paca-github",
        "--release",
        "--target",
        "wasm32-wasip1",
        "--locked",
    ])?;
    let built = root().join("target/wasm32-wasip1/release/github.wasm");
    let path = wasm_path();
    step("Optimising github.wasm for size (wasm-opt -Oz)");
    let tools_dir = root().join("tools");
    ensure_npm_packages(&tools_dir)?;
    std::fs::create_dir_all(path.parent().expect("target/plugin has a parent"))
        .map_err(|e| format!("could not create {}: {e}", path.display()))?;
    run(Command::new("node")
        .arg("wasm-opt.mjs")
        .arg(&built)
        .arg(&path)
        .current_dir(&tools_dir))?;
    let size_of = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len())
            .map_err(|e| format!("{} is missing after the build: {e}", p.display()))
    };
    let (before, size) = (size_of(&built)?, size_of(&path)?);
    println!(
        "github.wasm: {} KiB (rustc {} KiB; limit {} KiB) at {}",
        size / 1024,
        before / 1024,
        WASM_SIZE_LIMIT / 1024,
        path.display()
    );
    if size > WASM_SIZE_LIMIT {
        return Err(format!(
            "github.wasm is {size} bytes, over the {WASM_SIZE_LIMIT}-byte budget (issue 13): \
             look at what grew with `twiggy top` on a build with CARGO_PROFILE_RELEASE_STRIP=none"
        ));
    }
    Ok(path)
}

/// Builds the SDK's example plugin for wasm32-wasip1 (release), proving the SDK alone is
/// enough for a plugin: `target/wasm32-wasip1/release/examples/notes.wasm`.
pub fn build_sdk_example() -> Result<PathBuf> {
    step("Building the SDK's example plugin (paca-plugin-sdk --example notes, wasm32-wasip1)");
    ensure_wasm_target()?;
    cargo(&[
        "build",
        "-p",
        "paca-plugin-sdk",
        "--example",
        "notes",
        "--release",
        "--target",
        "wasm32-wasip1",
        "--locked",
    ])?;
    let path = root().join("target/wasm32-wasip1/release/examples/notes.wasm");
    let size = std::fs::metadata(&path)
        .map_err(|e| format!("{} is missing after the build: {e}", path.display()))?
        .len();
    println!("notes.wasm: {} KiB", size / 1024);
    Ok(path)
}

/// The built frontend: the remote Paca loads (`dist/`) and the dev shell (`dist-shell/`).
pub struct Frontend {
    pub dist: PathBuf,
    pub shell: PathBuf,
}

/// `npm run build` in `frontend/` (remote + dev shell).
pub fn build_frontend() -> Result<Frontend> {
    let dir = root().join("frontend");
    step("Building the frontend (remote + dev shell)");
    ensure_npm_packages(&dir)?;
    npm(&dir, &["run", "build"])?;
    let out = Frontend {
        dist: dir.join("dist"),
        shell: dir.join("dist-shell"),
    };
    for f in [
        out.dist.join("assets/remoteEntry.js"),
        out.shell.join("index.html"),
    ] {
        if !f.is_file() {
            return Err(format!("{} is missing after the build", f.display()));
        }
    }
    Ok(out)
}

/// Debian's Chromium for the browser tests (never a downloaded browser build).
pub fn ensure_chromium() -> Result<PathBuf> {
    let path = PathBuf::from("/usr/bin/chromium");
    if path.exists() {
        println!("Chromium: {}", path.display());
        return Ok(path);
    }
    apt_install(&["chromium"], "Chromium is needed by the browser tests")?;
    if path.exists() {
        Ok(path)
    } else {
        Err("/usr/bin/chromium is still missing after installing chromium".into())
    }
}

#[cfg(test)]
mod tests {
    /// The disk warning reads `df -Pk`'s POSIX layout; a parse that silently failed would turn
    /// the warning off for good.
    #[test]
    fn free_disk_space_is_read_from_df() {
        let free = super::free_disk_gib().expect("df -Pk output parses");
        assert!(free < 1 << 40, "implausible free space: {free} GiB");
    }
}
