//! Installs a release bundle the way Paca's installer does (paca-frontend-mcp-contract §5), so
//! tests can start the host from nothing but the unpacked layout.
//!
//! - the manifest archive is required; the first `plugin.json` in it is the manifest, and its
//!   `id` must be the expected plugin id;
//! - backend: the first `*.wasm` becomes `backend/<id>/backend.wasm`, next to `plugin.json`;
//! - migrations: every `*.sql`, flattened by base name, into `backend/<id>/migrations/`;
//! - frontend, MCP, skills: a single top-level folder is stripped, the rest replaces
//!   `frontend|mcp|skills/<id>/`;
//! - limits: 100 MB per archive, 50 MB per file, 10 000 entries, no absolute paths, no `..`, no
//!   links of any kind.
//!
//! Before any of that, `checksums.txt` must match every archive it lists.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The archive names of a release (the naming every first-party Paca plugin uses).
pub const BACKEND: &str = "github-backend-wasm.tar.gz";
pub const FRONTEND: &str = "github-frontend-dist.tar.gz";
pub const MCP: &str = "github-mcp-dist.tar.gz";
pub const MIGRATIONS: &str = "github-migrations.tar.gz";
pub const SKILLS: &str = "github-skills-bundle.tar.gz";
pub const MANIFEST: &str = "github-plugin-manifest.tar.gz";
pub const CHECKSUMS: &str = "checksums.txt";

/// The installer's limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_archive_bytes: u64,
    pub max_file_bytes: u64,
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_archive_bytes: 100 * 1000 * 1000,
            max_file_bytes: 50 * 1000 * 1000,
            max_entries: 10_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{archive}: {reason}")]
    Archive { archive: String, reason: String },
    #[error("checksums.txt: {0}")]
    Checksum(String),
    #[error("manifest: {0}")]
    Manifest(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Where an installed plugin's parts ended up.
#[derive(Clone, Debug)]
pub struct Installed {
    pub id: String,
    /// `backend/<id>/plugin.json`
    pub manifest: PathBuf,
    /// `backend/<id>/backend.wasm`, when the release has a backend.
    pub wasm: Option<PathBuf>,
    /// `backend/<id>/migrations/`
    pub migrations: PathBuf,
    /// `frontend/<id>/` (served at `/plugins/<id>/`)
    pub frontend_dir: PathBuf,
    /// `mcp/<id>/` (served at `/plugins-mcp/<id>/`)
    pub mcp_dir: PathBuf,
    /// `skills/<id>/` (served at `/plugins-skills/<id>/`)
    pub skills_dir: PathBuf,
}

/// One file of an archive: its checked relative path and contents.
struct Entry {
    path: PathBuf,
    data: Vec<u8>,
}

/// Installs the release in `dist` (the folder `cargo xtask dist` writes) under `root`, after
/// verifying `checksums.txt`. Archives other than the manifest are optional, as in Paca.
pub fn install_dist(
    dist: &Path,
    expected_id: &str,
    root: &Path,
    limits: Limits,
) -> Result<Installed, InstallError> {
    verify_checksums(dist)?;
    let archive = |name: &str| {
        let p = dist.join(name);
        p.exists().then_some(p)
    };
    let manifest = archive(MANIFEST)
        .ok_or_else(|| InstallError::Manifest(format!("{MANIFEST} is required and missing")))?;
    let read = |p: &Path| read_archive(p, limits);

    let manifest_entries = read(&manifest)?;
    let manifest_file = manifest_entries
        .iter()
        .find(|e| e.path.file_name().is_some_and(|n| n == "plugin.json"))
        .ok_or_else(|| InstallError::Manifest(format!("{MANIFEST} holds no plugin.json")))?;
    let parsed: serde_json::Value = serde_json::from_slice(&manifest_file.data)
        .map_err(|e| InstallError::Manifest(format!("plugin.json is not JSON: {e}")))?;
    let id = parsed
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    if id != expected_id {
        return Err(InstallError::Manifest(format!(
            "plugin.json has id {id:?}, the catalog entry is {expected_id:?}"
        )));
    }

    let backend_dir = root.join("backend").join(id);
    let installed = Installed {
        id: id.to_owned(),
        manifest: backend_dir.join("plugin.json"),
        wasm: None,
        migrations: backend_dir.join("migrations"),
        frontend_dir: root.join("frontend").join(id),
        mcp_dir: root.join("mcp").join(id),
        skills_dir: root.join("skills").join(id),
    };
    std::fs::create_dir_all(&backend_dir)?;
    std::fs::write(&installed.manifest, &manifest_file.data)?;

    let mut installed = installed;
    if let Some(p) = archive(BACKEND) {
        let entries = read(&p)?;
        if let Some(wasm) = entries
            .iter()
            .find(|e| e.path.extension().is_some_and(|x| x == "wasm"))
        {
            let path = backend_dir.join("backend.wasm");
            std::fs::write(&path, &wasm.data)?;
            installed.wasm = Some(path);
        }
    }
    if let Some(p) = archive(MIGRATIONS) {
        std::fs::create_dir_all(&installed.migrations)?;
        for e in read(&p)?
            .into_iter()
            .filter(|e| e.path.extension().is_some_and(|x| x == "sql"))
        {
            let name = e.path.file_name().expect("a file entry has a name");
            std::fs::write(installed.migrations.join(name), &e.data)?;
        }
    }
    for (name, dir) in [
        (FRONTEND, &installed.frontend_dir),
        (MCP, &installed.mcp_dir),
        (SKILLS, &installed.skills_dir),
    ] {
        if let Some(p) = archive(name) {
            replace_dir(dir, strip_single_top(read(&p)?))?;
        }
    }
    Ok(installed)
}

/// Every line `<sha256>  <name>` must name an existing archive with that digest, and every
/// archive of the release must be listed.
fn verify_checksums(dist: &Path) -> Result<(), InstallError> {
    let text = std::fs::read_to_string(dist.join(CHECKSUMS))
        .map_err(|e| InstallError::Checksum(format!("cannot read it: {e}")))?;
    let mut listed = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (digest, name) = line
            .split_once("  ")
            .ok_or_else(|| InstallError::Checksum(format!("malformed line {line:?}")))?;
        let bytes = std::fs::read(dist.join(name))
            .map_err(|e| InstallError::Checksum(format!("{name}: {e}")))?;
        let actual: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if actual != digest {
            return Err(InstallError::Checksum(format!(
                "{name} has sha256 {actual}, checksums.txt says {digest}"
            )));
        }
        listed.push(name.to_owned());
    }
    for name in [BACKEND, FRONTEND, MCP, MIGRATIONS, SKILLS, MANIFEST] {
        if dist.join(name).exists() && !listed.iter().any(|l| l == name) {
            return Err(InstallError::Checksum(format!("{name} is not listed")));
        }
    }
    Ok(())
}

/// The files of a `.tar.gz`, with every limit and path rule applied.
fn read_archive(path: &Path, limits: Limits) -> Result<Vec<Entry>, InstallError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fail = |reason: String| InstallError::Archive {
        archive: name.clone(),
        reason,
    };
    let size = std::fs::metadata(path)?.len();
    if size > limits.max_archive_bytes {
        return Err(fail(format!(
            "{size} bytes is over the {}-byte download limit",
            limits.max_archive_bytes
        )));
    }
    let file = std::fs::File::open(path)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    let mut count = 0usize;
    for entry in archive.entries().map_err(|e| fail(e.to_string()))? {
        let entry = entry.map_err(|e| fail(e.to_string()))?;
        count += 1;
        if count > limits.max_entries {
            return Err(fail(format!("more than {} entries", limits.max_entries)));
        }
        let raw = entry.path().map_err(|e| fail(e.to_string()))?.into_owned();
        let rel = safe_relative(&raw).ok_or_else(|| {
            fail(format!(
                "entry {} escapes the install folder",
                raw.display()
            ))
        })?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return Err(fail(format!(
                "entry {} is not a plain file or folder",
                raw.display()
            )));
        }
        let declared = entry.header().size().map_err(|e| fail(e.to_string()))?;
        if declared > limits.max_file_bytes {
            return Err(fail(format!(
                "{} is {declared} bytes, over the {}-byte file limit",
                raw.display(),
                limits.max_file_bytes
            )));
        }
        let mut data = Vec::with_capacity(declared as usize);
        entry
            .take(limits.max_file_bytes + 1)
            .read_to_end(&mut data)
            .map_err(|e| fail(e.to_string()))?;
        out.push(Entry { path: rel, data });
    }
    Ok(out)
}

/// `a/./b` → `a/b`; `None` for absolute paths, `..`, or an empty path.
fn safe_relative(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            Component::RootDir | Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// When every entry lives under one top-level folder, drop that folder.
fn strip_single_top(entries: Vec<Entry>) -> Vec<Entry> {
    let top = |e: &Entry| e.path.components().next().map(|c| c.as_os_str().to_owned());
    let first = entries.first().and_then(top);
    let single = first.is_some()
        && entries
            .iter()
            .all(|e| e.path.components().count() > 1 && top(e) == first);
    if !single {
        return entries;
    }
    entries
        .into_iter()
        .map(|e| Entry {
            path: e.path.components().skip(1).collect(),
            data: e.data,
        })
        .collect()
}

fn replace_dir(dir: &Path, entries: Vec<Entry>) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    for e in entries {
        let path = dir.join(&e.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, e.data)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_gz(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (path, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            if kind.is_symlink() {
                h.set_link_name("/etc/passwd").unwrap();
            }
            // set_path refuses `..`; write the raw name as a hostile archive would.
            let name = h.as_old_mut().name.as_mut();
            name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    struct Dist(tempfile::TempDir);

    impl Dist {
        fn new() -> Dist {
            Dist(tempfile::tempdir().unwrap())
        }
        fn add(&self, name: &str, bytes: Vec<u8>) -> &Self {
            std::fs::write(self.0.path().join(name), bytes).unwrap();
            self
        }
        fn seal(&self) -> &Self {
            let mut sums = std::fs::File::create(self.0.path().join(CHECKSUMS)).unwrap();
            let mut names: Vec<_> = std::fs::read_dir(self.0.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.ends_with(".tar.gz"))
                .collect();
            names.sort();
            for n in names {
                let d = Sha256::digest(std::fs::read(self.0.path().join(&n)).unwrap());
                let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
                writeln!(sums, "{hex}  {n}").unwrap();
            }
            self
        }
        fn install(&self, limits: Limits) -> (tempfile::TempDir, Result<Installed, InstallError>) {
            let root = tempfile::tempdir().unwrap();
            let r = install_dist(self.0.path(), "com.paca.github", root.path(), limits);
            (root, r)
        }
    }

    const FILE: tar::EntryType = tar::EntryType::Regular;
    const MANIFEST_JSON: &[u8] = br#"{"id":"com.paca.github","version":"1.0.0"}"#;

    #[test]
    fn lays_out_every_part_like_paca() {
        let d = Dist::new();
        d.add(MANIFEST, tar_gz(&[("plugin.json", FILE, MANIFEST_JSON)]))
            .add(
                BACKEND,
                tar_gz(&[("README", FILE, b"x"), ("github.wasm", FILE, b"\0asm")]),
            )
            .add(
                MIGRATIONS,
                tar_gz(&[
                    ("migrations/0001_a.sql", FILE, b"a"),
                    ("x/0002_b.sql", FILE, b"b"),
                ]),
            )
            .add(
                FRONTEND,
                tar_gz(&[
                    ("dist/assets/remoteEntry.js", FILE, b"r"),
                    ("dist/index.css", FILE, b"c"),
                ]),
            )
            .add(MCP, tar_gz(&[("dist/mcp.js", FILE, b"m")]))
            .add(SKILLS, tar_gz(&[("skills/paca-x/SKILL.md", FILE, b"s")]))
            .seal();
        let (root, r) = d.install(Limits::default());
        let i = r.unwrap();
        let read = |p: PathBuf| std::fs::read(p).unwrap();
        assert_eq!(read(i.wasm.clone().unwrap()), b"\0asm");
        assert_eq!(
            i.wasm.unwrap(),
            root.path().join("backend/com.paca.github/backend.wasm")
        );
        assert_eq!(read(i.manifest), MANIFEST_JSON);
        assert_eq!(read(i.migrations.join("0001_a.sql")), b"a");
        assert_eq!(read(i.migrations.join("0002_b.sql")), b"b");
        assert_eq!(read(i.frontend_dir.join("assets/remoteEntry.js")), b"r");
        assert_eq!(read(i.mcp_dir.join("mcp.js")), b"m");
        assert_eq!(read(i.skills_dir.join("paca-x/SKILL.md")), b"s");
    }

    #[test]
    fn refuses_a_wrong_id_a_missing_manifest_and_a_bad_checksum() {
        let d = Dist::new();
        d.add(MCP, tar_gz(&[("dist/mcp.js", FILE, b"m")])).seal();
        let err = d.install(Limits::default()).1.unwrap_err().to_string();
        assert!(err.contains("required"), "{err}");

        let d = Dist::new();
        d.add(
            MANIFEST,
            tar_gz(&[("plugin.json", FILE, br#"{"id":"com.evil"}"#)]),
        )
        .seal();
        let err = d.install(Limits::default()).1.unwrap_err().to_string();
        assert!(err.contains("com.evil"), "{err}");

        let d = Dist::new();
        d.add(MANIFEST, tar_gz(&[("plugin.json", FILE, MANIFEST_JSON)]))
            .seal()
            .add(MANIFEST, tar_gz(&[("plugin.json", FILE, b"{}")]));
        let err = d.install(Limits::default()).1.unwrap_err().to_string();
        assert!(err.contains("sha256"), "{err}");
    }

    #[test]
    fn refuses_escapes_links_and_oversized_archives() {
        for (path, kind) in [
            ("../evil.js", FILE),
            ("/etc/evil.js", FILE),
            ("dist/link", tar::EntryType::Symlink),
        ] {
            let d = Dist::new();
            d.add(MANIFEST, tar_gz(&[("plugin.json", FILE, MANIFEST_JSON)]))
                .add(FRONTEND, tar_gz(&[(path, kind, b"x")]))
                .seal();
            let (root, r) = d.install(Limits::default());
            let err = r.unwrap_err().to_string();
            assert!(err.starts_with(FRONTEND), "{path}: {err}");
            // Archives are read whole before anything is written.
            assert!(!root.path().join("frontend").exists(), "{path}");
        }
        let big = vec![b'x'; 2000];
        let d = Dist::new();
        d.add(MANIFEST, tar_gz(&[("plugin.json", FILE, MANIFEST_JSON)]))
            .add(MCP, tar_gz(&[("dist/mcp.js", FILE, &big)]))
            .seal();
        let small = Limits {
            max_file_bytes: 1000,
            ..Limits::default()
        };
        let err = d.install(small).1.unwrap_err().to_string();
        assert!(err.contains("file limit"), "{err}");
        let few = Limits {
            max_entries: 0,
            ..Limits::default()
        };
        let err = d.install(few).1.unwrap_err().to_string();
        assert!(err.contains("entries"), "{err}");
    }
}
