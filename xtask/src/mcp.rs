//! The MCP bundle (`mcp/`): npm packages, the strict type check and the Vite build of
//! `mcp/dist/mcp.js`, which the devhost serves and `devhost/tests/e2e_mcp.rs` tests.

use crate::{Result, tools};
use std::path::{Path, PathBuf};

/// `npm ci` (when needed) and `npm run build`; `typecheck` also runs `tsc --noEmit` first.
pub fn build(root: &Path, typecheck: bool) -> Result<PathBuf> {
    let dir = root.join("mcp");
    tools::ensure_npm_packages(&dir)?;
    if typecheck {
        tools::step("Type-checking the MCP bundle (tsc --noEmit, strict)");
        tools::npm(&dir, &["run", "typecheck"])?;
    }
    tools::step("Building the MCP bundle (vite build → mcp/dist/mcp.js)");
    tools::npm(&dir, &["run", "build"])?;
    let bundle = dir.join("dist/mcp.js");
    if !bundle.is_file() {
        return Err(format!("{} is missing after the build", bundle.display()));
    }
    Ok(bundle)
}
