//! The MCP bundle and skills, served like Paca's gateway serves them: `--mcp-file PATH` at
//! `/plugins-mcp/<id>/mcp.js` and `--skills-dir DIR` at `/plugins-skills/<id>/<skill>/SKILL.md`.
//! Files are read per request, so a rebuilt `mcp/dist/mcp.js` is served without a restart.

use crate::server::DevHostConfig;
use axum::Router;
use axum::extract::{Path as AxPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the files come from; `None` → the route answers 404 saying which flag is missing.
#[derive(Clone, Debug, Default)]
pub struct McpAssets {
    pub mcp_file: Option<PathBuf>,
    pub skills_dir: Option<PathBuf>,
}

impl DevHostConfig {
    /// Serve this file (the built `mcp/dist/mcp.js`) at `/plugins-mcp/<id>/mcp.js`.
    pub fn mcp_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.mcp_assets.mcp_file = Some(path.into());
        self
    }
    /// Serve `DIR/<skill>/SKILL.md` at `/plugins-skills/<id>/<skill>/SKILL.md`.
    pub fn skills_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.mcp_assets.skills_dir = Some(dir.into());
        self
    }
}

pub fn router(plugin_id: &str, assets: &McpAssets) -> Router {
    Router::new()
        .route(&format!("/plugins-mcp/{plugin_id}/mcp.js"), get(bundle))
        .route(
            &format!("/plugins-skills/{plugin_id}/{{skill}}/SKILL.md"),
            get(skill),
        )
        .with_state(Arc::new(assets.clone()))
}

fn not_found(message: String) -> Response {
    let body = serde_json::json!({"success": false, "error": message, "error_code": "NOT_FOUND"});
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn serve(path: PathBuf, content_type: &'static str, hint: &str) -> Response {
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => not_found(format!("{}: {e} ({hint})", path.display())),
    }
}

async fn bundle(State(a): State<Arc<McpAssets>>) -> Response {
    match &a.mcp_file {
        Some(p) => {
            serve(
                p.clone(),
                "text/javascript; charset=utf-8",
                "build it with `npm run build` in mcp/",
            )
            .await
        }
        None => not_found(
            "no MCP bundle configured: start paca-devhost with --mcp-file PATH (cargo xtask dev does)"
                .into(),
        ),
    }
}

/// Paca's skill-name rule (`^[a-z0-9]+(-[a-z0-9]+)*$`), which also keeps paths inside the dir.
fn valid_skill_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

async fn skill(State(a): State<Arc<McpAssets>>, AxPath(name): AxPath<String>) -> Response {
    let Some(dir) = &a.skills_dir else {
        return not_found(
            "no skills configured: start paca-devhost with --skills-dir DIR (cargo xtask dev does)"
                .into(),
        );
    };
    if !valid_skill_name(&name) {
        return not_found(format!("no skill named {name:?}"));
    }
    serve(
        dir.join(&name).join("SKILL.md"),
        "text/markdown; charset=utf-8",
        "skills live in skills/<name>/SKILL.md",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::valid_skill_name;

    #[test]
    fn skill_names_follow_paca_and_cannot_leave_the_directory() {
        for ok in ["paca-github-workflow", "a", "x1-2y"] {
            assert!(valid_skill_name(ok), "{ok}");
        }
        for bad in ["", "..", "a/../b", "-a", "a-", "a--b", "A", "a_b", "a.md"] {
            assert!(!valid_skill_name(bad), "{bad}");
        }
    }
}
