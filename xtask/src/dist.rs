//! `cargo xtask dist`: the release bundle Paca's installer takes, byte-for-byte reproducible.
//!
//! Six archives plus `checksums.txt` (`sha256sum -c` format), named as every first-party Paca
//! plugin names them. Reproducible means: entries sorted, fixed mode/owner, every mtime set to
//! the commit time (or `SOURCE_DATE_EPOCH`), gzip without a file name or timestamp, and one
//! pure-Rust deflate implementation, so two runs on any machine give the same bytes.

use crate::{Result, codegen, root, tools};
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What goes into one archive: the name inside the archive ← the file or folder on disk.
struct Archive {
    name: &'static str,
    /// (path inside the archive, source path relative to the repository root)
    entries: &'static [(&'static str, &'static str)],
    /// A file that must be present in the archive for Paca to use it.
    required: &'static str,
}

/// The release layout (paca-frontend-mcp-contract §5). Folders are added recursively.
const ARCHIVES: &[Archive] = &[
    Archive {
        name: "github-backend-wasm.tar.gz",
        entries: &[("github.wasm", "target/plugin/github.wasm")],
        required: "github.wasm",
    },
    Archive {
        name: "github-frontend-dist.tar.gz",
        entries: &[("dist", "frontend/dist")],
        required: "dist/assets/remoteEntry.js",
    },
    Archive {
        name: "github-mcp-dist.tar.gz",
        entries: &[("dist", "mcp/dist")],
        required: "dist/mcp.js",
    },
    Archive {
        name: "github-migrations.tar.gz",
        entries: &[("migrations", "migrations")],
        required: "migrations/0001_create_github_tables.sql",
    },
    Archive {
        name: "github-skills-bundle.tar.gz",
        entries: &[("skills", "skills")],
        required: "skills/paca-github-workflow/SKILL.md",
    },
    Archive {
        name: "github-plugin-manifest.tar.gz",
        entries: &[("plugin.json", "plugin.json")],
        required: "plugin.json",
    },
];

pub const CHECKSUMS: &str = "checksums.txt";

const USAGE: &str = "usage: cargo xtask dist [--out DIR] [--package-only]
  --out DIR       where the archives go (default: dist/)
  --package-only  package the already-built outputs (github.wasm, frontend/dist, mcp/dist)
                  without building them first";

pub fn run(args: &[String]) -> Result {
    let root = root();
    let mut out = root.join("dist");
    let mut build = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = PathBuf::from(it.next().ok_or("--out needs a folder")?),
            "--package-only" => build = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown dist flag `{other}`\n{USAGE}")),
        }
    }
    tools::step("Checking that generated files are current and versions agree");
    codegen::check(false)?;
    let version = check_versions(&root)?;
    println!("version {version}: plugin.json, Cargo and package.json agree");
    if build {
        build_all(&root)?;
    }
    let sums = package(&root, &out)?;
    println!("\n{}", sums.trim_end());
    println!(
        "\ndist: {} archives and {CHECKSUMS} in {}",
        ARCHIVES.len(),
        out.display()
    );
    Ok(())
}

/// Builds every output the archives take: the release wasm, the frontend remote, `mcp.js`.
fn build_all(root: &Path) -> Result {
    tools::build_wasm()?;
    for part in ["frontend", "mcp"] {
        tools::step(&format!("Building {part}/dist (npm ci, npm run build)"));
        let dir = root.join(part);
        tools::ensure_npm_packages(&dir)?;
        tools::npm(&dir, &["run", "build"])?;
    }
    Ok(())
}

/// Writes the archives and `checksums.txt` into `out` from what is already built; returns the
/// checksums file's text.
pub fn package(root: &Path, out: &Path) -> Result<String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mtime = source_date(root);
    let mut sums = String::new();
    for archive in ARCHIVES {
        tools::step(&format!("Packaging {}", archive.name));
        let files = collect(root, archive)?;
        if !files.iter().any(|(inside, _)| inside == archive.required) {
            return Err(format!(
                "{} would lack {}: build it first (cargo xtask dist builds everything)",
                archive.name, archive.required
            ));
        }
        let bytes = tar_gz(&files, mtime)?;
        let path = out.join(archive.name);
        std::fs::write(&path, &bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let digest = hex(&Sha256::digest(&bytes));
        println!(
            "{}: {} files, {} bytes, sha256 {digest}",
            archive.name,
            files.iter().filter(|(_, f)| f.is_file()).count(),
            bytes.len()
        );
        sums.push_str(&format!("{digest}  {}\n", archive.name));
    }
    let path = out.join(CHECKSUMS);
    std::fs::write(&path, &sums).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(sums)
}

/// Every entry of an archive, directories included, sorted by their path inside it.
fn collect(root: &Path, archive: &Archive) -> Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for (inside, source) in archive.entries {
        let source = root.join(source);
        if !source.exists() {
            return Err(format!(
                "{} needs {}, which does not exist: build it first (cargo xtask dist builds everything)",
                archive.name,
                source.display()
            ));
        }
        walk(&source, inside, &mut files)?;
    }
    files.sort();
    Ok(files)
}

fn walk(path: &Path, inside: &str, out: &mut Vec<(String, PathBuf)>) -> Result {
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{} is a symbolic link: release archives hold only plain files",
            path.display()
        ));
    }
    out.push((inside.to_owned(), path.to_owned()));
    if meta.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
            let name = entry.file_name();
            let name = name
                .to_str()
                .ok_or_else(|| format!("{}: a file name is not UTF-8", path.display()))?;
            walk(&entry.path(), &format!("{inside}/{name}"), out)?;
        }
    }
    Ok(())
}

/// A gzip'd tar of `files` with every varying field fixed.
fn tar_gz(files: &[(String, PathBuf)], mtime: u64) -> Result<Vec<u8>> {
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (inside, path) in files {
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        if path.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            tar.append_data(&mut header, format!("{inside}/"), std::io::empty())
        } else {
            let data =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
            tar.append_data(&mut header, inside, data.as_slice())
        }
        .map_err(|e| format!("cannot add {inside} to the archive: {e}"))?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| format!("cannot finish the archive: {e}"))?;
    gz.finish()
        .map_err(|e| format!("cannot finish the gzip stream: {e}"))
}

/// The timestamp every entry carries: `SOURCE_DATE_EPOCH` (the reproducible-builds convention),
/// else the commit time of `HEAD`, else 0.
fn source_date(root: &Path) -> u64 {
    if let Some(t) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return t;
    }
    Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The one version: `plugin.json` (from the spec's `info.version`) must equal the backend's
/// Cargo package version and both `package.json` versions. Returns it, or names every file
/// that disagrees.
pub fn check_versions(root: &Path) -> Result<String> {
    let manifest = json_version(&root.join("plugin.json"))?;
    let mut found = vec![(
        "plugin.json (spec info.version)".to_owned(),
        manifest.clone(),
    )];
    found.push((
        "backend/Cargo.toml".to_owned(),
        cargo_version(&root.join("backend/Cargo.toml"))?,
    ));
    for part in ["frontend", "mcp"] {
        let path = root.join(part).join("package.json");
        if path.exists() {
            found.push((format!("{part}/package.json"), json_version(&path)?));
        }
    }
    let wrong: Vec<String> = found
        .iter()
        .filter(|(_, v)| *v != manifest)
        .map(|(file, v)| format!("{file} has {v}"))
        .collect();
    if wrong.is_empty() {
        Ok(manifest)
    } else {
        Err(format!(
            "versions disagree: plugin.json has {manifest}, but {}; set them all to one version \
             (the spec's info.version drives plugin.json)",
            wrong.join(", ")
        ))
    }
}

fn json_version(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    v.get("version")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("{} has no \"version\"", path.display()))
}

/// The `[package]` version of a Cargo.toml (the first `version = "…"` line of that table).
fn cargo_version(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(rest) = line.strip_prefix("version") {
            let value = rest.trim_start().strip_prefix('=').map(str::trim);
            if let Some(v) = value.and_then(|v| v.strip_prefix('"')?.strip_suffix('"')) {
                return Ok(v.to_owned());
            }
            return Err(format!(
                "{}: the package version must be a literal string, not {rest:?}",
                path.display()
            ));
        }
    }
    Err(format!("{} has no [package] version", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-dist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn archives_are_byte_identical_whatever_the_file_times_and_order() {
        let dir = scratch("repro");
        std::fs::create_dir_all(dir.join("d/sub")).unwrap();
        std::fs::write(dir.join("d/b.txt"), "b").unwrap();
        std::fs::write(dir.join("d/sub/a.txt"), "a").unwrap();
        let mut files = Vec::new();
        walk(&dir.join("d"), "dist", &mut files).unwrap();
        files.sort();
        let first = tar_gz(&files, 1_700_000_000).unwrap();
        // Touch a file (new mtime) and list in another order: the bytes must not change.
        std::fs::write(dir.join("d/b.txt"), "b").unwrap();
        let mut shuffled = files.clone();
        shuffled.reverse();
        shuffled.sort();
        assert_eq!(first, tar_gz(&shuffled, 1_700_000_000).unwrap());
        // gzip header: no name flag, mtime 0, OS unknown.
        assert_eq!(&first[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&first[4..8], &[0, 0, 0, 0]);
        assert_eq!(first[9], 255);
        // The tar lists directories before their contents, with fixed owner and mode.
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(first.as_slice()));
        let listed: Vec<(String, u32, u64, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                ("dist/".to_owned(), 0o755, 0, 1_700_000_000),
                ("dist/b.txt".to_owned(), 0o644, 0, 1_700_000_000),
                ("dist/sub/".to_owned(), 0o755, 0, 1_700_000_000),
                ("dist/sub/a.txt".to_owned(), 0o644, 0, 1_700_000_000),
            ]
        );
    }

    #[test]
    fn a_symlink_is_refused() {
        let dir = scratch("link");
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("d/evil")).unwrap();
        let err = walk(&dir.join("d"), "dist", &mut Vec::new()).unwrap_err();
        assert!(err.contains("symbolic link"), "{err}");
    }

    #[test]
    fn disagreeing_versions_are_all_named() {
        let dir = scratch("versions");
        std::fs::create_dir_all(dir.join("backend")).unwrap();
        std::fs::create_dir_all(dir.join("frontend")).unwrap();
        std::fs::create_dir_all(dir.join("mcp")).unwrap();
        std::fs::write(dir.join("plugin.json"), r#"{"version":"1.2.3"}"#).unwrap();
        std::fs::write(
            dir.join("backend/Cargo.toml"),
            "[package]\nname = \"x\"\nversion = \"1.2.0\"\n[dependencies]\nversion = \"9\"\n",
        )
        .unwrap();
        std::fs::write(dir.join("frontend/package.json"), r#"{"version":"1.2.3"}"#).unwrap();
        std::fs::write(dir.join("mcp/package.json"), r#"{"version":"0.0.1"}"#).unwrap();
        let err = check_versions(&dir).unwrap_err();
        assert!(err.contains("backend/Cargo.toml has 1.2.0"), "{err}");
        assert!(err.contains("mcp/package.json has 0.0.1"), "{err}");
        assert!(!err.contains("frontend"), "{err}");
        std::fs::write(
            dir.join("backend/Cargo.toml"),
            "[package]\nversion = \"1.2.3\"\n",
        )
        .unwrap();
        std::fs::write(dir.join("mcp/package.json"), r#"{"version":"1.2.3"}"#).unwrap();
        assert_eq!(check_versions(&dir).unwrap(), "1.2.3");
    }

    #[test]
    fn the_repository_versions_agree() {
        check_versions(&root()).unwrap();
    }
}
