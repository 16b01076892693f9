//! `cargo xtask tidy`: source rules no compiler checks (also the first check of `cargo xtask test`).
//!
//! - Generated files are not edited by hand: every generator output the Rust generators produce
//!   is byte-identical to what they produce now, and every file whose header carries the
//!   generated-file marker is one of the generators' outputs (no hand-written file may claim it).
//! - Every `.rs` file starts with a `//!` module doc (after any plain `//` header lines).
//! - `#[ignore]` always says why: `#[ignore = "reason"]`.
//!
//! Each problem is reported as `path:line: what is wrong; how to fix it`.

use crate::{Result, codegen, root};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// The generated-file marker, spelled in two pieces so this file does not carry it.
const MARKER: &str = concat!("@", "generated");

/// The marker counts only in a file's header, not in code that merely mentions it.
const HEADER_LINES: usize = 3;

/// Directories never looked into: build outputs, installed packages, git's own data.
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", ".git", "dist"];

/// Files with the marker that another tool writes (Cargo writes its lock file).
const OTHER_GENERATORS: &[&str] = &["Cargo.lock"];

/// One rule broken at one place.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

pub fn run(args: &[String]) -> Result {
    if let Some(a) = args.first() {
        return Err(format!("`tidy` takes no arguments (got `{a}`)"));
    }
    check()
}

/// Runs every rule over the workspace and fails with the list of problems.
pub fn check() -> Result {
    let root = root();
    let files = walk(&root)?;
    let outputs = codegen::rust_outputs(&root)?;
    let mut generated: BTreeSet<String> = outputs.iter().map(|f| f.path.to_string()).collect();
    generated.insert(codegen::TS_PATH.to_string());

    let mut problems = Vec::new();
    for path in codegen::stale(&root, &outputs) {
        problems.push(Problem {
            path: path.to_string(),
            line: 1,
            message: "differs from what the generators produce (edited by hand, or its inputs \
                      changed); run `cargo xtask codegen` and commit the result, and make lasting \
                      changes in spec/, migrations/ or codegen/"
                .into(),
        });
    }
    let mut rust_files = 0;
    for rel in &files {
        let Ok(text) = std::fs::read_to_string(root.join(rel)) else {
            continue; // not text
        };
        let is_generated = generated.contains(rel.as_str());
        problems.extend(marker_problem(rel, &text, is_generated));
        if rel.ends_with(".rs") {
            rust_files += 1;
            problems.extend(module_doc_problem(rel, &text));
            problems.extend(ignore_problems(rel, &text));
        }
    }
    problems.sort();
    if problems.is_empty() {
        println!(
            "tidy: {} files, {rust_files} Rust files, {} generated files: all rules hold",
            files.len(),
            generated.len()
        );
        return Ok(());
    }
    let list: String = problems.iter().map(|p| format!("\n  {p}")).collect();
    Err(format!("tidy: {} problem(s):{list}", problems.len()))
}

/// Every file under `root` (relative, `/`-separated), sorted, skipping [`SKIPPED_DIRS`].
fn walk(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(dir) = dirs.pop() {
        let full = root.join(&dir);
        let entries = std::fs::read_dir(&full).map_err(|e| format!("{}: {e}", full.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = dir.join(&name);
            let kind = entry.file_type().map_err(|e| e.to_string())?;
            if kind.is_dir() {
                if !SKIPPED_DIRS.contains(&name.as_str()) {
                    dirs.push(rel);
                }
            } else if kind.is_file() {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A file claims to be generated when the marker is in its first [`HEADER_LINES`] lines.
fn marker_line(text: &str) -> Option<usize> {
    text.lines()
        .take(HEADER_LINES)
        .position(|l| l.contains(MARKER))
        .map(|i| i + 1)
}

fn marker_problem(path: &str, text: &str, is_generated: bool) -> Option<Problem> {
    if is_generated {
        // plugin.json and tools.json carry it as a "//" key; every output must carry it somehow
        return match marker_line(text) {
            Some(_) => None,
            None => Some(Problem {
                path: path.to_string(),
                line: 1,
                message: format!(
                    "a generator output without the `{MARKER}` header; run `cargo xtask codegen`"
                ),
            }),
        };
    }
    if OTHER_GENERATORS.contains(&path) {
        return None;
    }
    let line = marker_line(text)?;
    Some(Problem {
        path: path.to_string(),
        line,
        message: format!(
            "carries the `{MARKER}` marker but no generator produces this file; remove the \
             marker if it is hand-written, or add the file to the generators (codegen/src/lib.rs \
             or xtask/src/codegen.rs)"
        ),
    })
}

fn module_doc_problem(path: &str, text: &str) -> Option<Problem> {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.is_empty() || (t.starts_with("//") && !t.starts_with("///") && !t.starts_with("//!")) {
            continue; // blank, or a plain comment header such as the generated-file marker
        }
        if t.starts_with("//!") || t.starts_with("/*!") {
            return None;
        }
        return Some(Problem {
            path: path.to_string(),
            line: i + 1,
            message: "no module doc; start the file with `//! What this module is for.` \
                      (before any attribute or item)"
                .into(),
        });
    }
    Some(Problem {
        path: path.to_string(),
        line: 1,
        message: "empty file: give it a `//!` module doc or delete it".into(),
    })
}

fn ignore_problems(path: &str, text: &str) -> Vec<Problem> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            compact.starts_with("#[ignore]")
        })
        .map(|(i, _)| Problem {
            path: path.to_string(),
            line: i + 1,
            message: "`#[ignore]` without a reason; write `#[ignore = \"why, and what it needs \
                      to run\"]`"
                .into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(problems: impl IntoIterator<Item = Problem>) -> Vec<usize> {
        problems.into_iter().map(|p| p.line).collect()
    }

    #[test]
    fn module_doc_must_lead() {
        assert_eq!(module_doc_problem("a.rs", "//! Docs.\nfn f() {}\n"), None);
        assert_eq!(module_doc_problem("a.rs", "\n\n//! After blanks.\n"), None);
        assert_eq!(module_doc_problem("a.rs", "/*! Block docs. */\n"), None);
        // a plain header comment (such as the generated-file marker) may come first
        assert_eq!(
            module_doc_problem("a.rs", "// header, not a doc\n//! Docs.\n"),
            None
        );
        let p = module_doc_problem("x/a.rs", "use std::fmt;\n//! Too late.\n").unwrap();
        assert_eq!((p.path.as_str(), p.line), ("x/a.rs", 1));
        assert!(p.message.contains("//!"), "{p}");
        // an attribute or an item doc is not a module doc
        assert_eq!(
            module_doc_problem("a.rs", "\n#![allow(dead_code)]\n//! Docs.\n").map(|p| p.line),
            Some(2)
        );
        assert_eq!(
            module_doc_problem("a.rs", "/// Item doc.\nfn f() {}\n").map(|p| p.line),
            Some(1)
        );
        assert!(module_doc_problem("a.rs", "").is_some());
    }

    #[test]
    fn ignore_needs_a_reason() {
        let src = "#[test]\n#[ignore]\nfn a() {}\n    #[ ignore ]\nfn b() {}\n#[ignore = \"needs a GPU\"]\nfn c() {}\n// #[ignore] in a comment\nlet s = \"#[ignore]\";\n";
        let found = ignore_problems("t.rs", src);
        assert_eq!(lines(found.clone()), vec![2, 4]);
        assert!(found[0].to_string().starts_with("t.rs:2: "));
        assert!(found[0].message.contains("#[ignore = "));
    }

    #[test]
    fn marker_belongs_to_generator_outputs_only() {
        let marked = format!("// {MARKER} by a tool. DO NOT EDIT.\nfn f() {{}}\n");
        let json = format!("{{\n  \"//\": \"{MARKER} by a tool\",\n  \"a\": 1\n}}\n");
        let mentions = format!("//! Docs.\n\n\nconst X: &str = \"{MARKER}\";\n");
        // generated files must carry it, in any of the header lines
        assert_eq!(marker_problem("gen.rs", &marked, true), None);
        assert_eq!(marker_problem("gen.json", &json, true), None);
        assert!(marker_problem("gen.rs", "fn f() {}\n", true).is_some());
        // hand-written files must not
        let p = marker_problem("src/hand.rs", &marked, false).unwrap();
        assert_eq!((p.path.as_str(), p.line), ("src/hand.rs", 1));
        assert!(p.message.contains("remove the marker"), "{p}");
        assert_eq!(
            marker_problem("hand.json", &json, false).map(|p| p.line),
            Some(2)
        );
        // below the header it is only a mention (emitters, snapshots, tests)
        assert_eq!(marker_problem("emit.rs", &mentions, false), None);
        // other tools' outputs
        let lock = format!("# This file is automatically {MARKER} by Cargo.\n");
        assert_eq!(marker_problem("Cargo.lock", &lock, false), None);
    }

    #[test]
    fn walk_skips_build_outputs() {
        let dir = std::env::temp_dir().join(format!("xtask-tidy-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for f in [
            "a.rs",
            "src/b.rs",
            "target/debug/c.rs",
            "web/node_modules/d.js",
        ] {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        let found = walk(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, vec!["a.rs".to_string(), "src/b.rs".to_string()]);
    }
}
