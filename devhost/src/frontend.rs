//! The plugin's web side: the built Module Federation remote at `/plugins/<plugin id>/*` (from
//! `--frontend-dir`, the frontend's `dist/`, the same layout Paca's gateway serves from the
//! plugin store) and the dev shell at `/__devhost/shell/` (from `--shell-dir`,
//! `frontend/dist-shell/`), a stand-in for Paca's web app that loads the remote like Paca does.
//! Both are optional: without them the routes answer 404 saying which flag is missing.

use axum::Router;
use axum::extract::{Path as AxPath, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Where the built frontend and the dev shell live (both optional).
#[derive(Clone, Debug, Default)]
pub struct FrontendConfig {
    /// The frontend's `dist/` (holds `assets/remoteEntry.js`).
    pub dist: Option<PathBuf>,
    /// The dev shell's build (`frontend/dist-shell/`, holds `index.html`).
    pub shell: Option<PathBuf>,
}

/// The mount point of the dev shell.
pub const SHELL_PATH: &str = "/__devhost/shell/";

struct Dirs {
    cfg: FrontendConfig,
}

/// The routes of this module plus the Paca core API ([`crate::core_api`]).
pub fn routes(cfg: &crate::DevHostConfig, plugin_id: &str, pool: sqlx::PgPool) -> Router {
    let dirs = Arc::new(Dirs {
        cfg: cfg.frontend.clone(),
    });
    Router::new()
        .route(&format!("/plugins/{plugin_id}/{{*path}}"), get(remote))
        .route("/__devhost/shell", get(shell_redirect))
        .route(SHELL_PATH, get(shell_index))
        .route(&format!("{SHELL_PATH}{{*path}}"), get(shell_file))
        .with_state(dirs)
        .merge(crate::core_api::routes(cfg, pool))
}

fn not_configured(flag: &str, what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "{what} is not served: start paca-devhost with {flag} (cargo xtask dev builds it and passes it)\n"
        ),
    )
        .into_response()
}

async fn remote(State(d): State<Arc<Dirs>>, AxPath(path): AxPath<String>) -> Response {
    match &d.cfg.dist {
        Some(dir) => serve_file(dir, &path).await,
        None => not_configured("--frontend-dir DIR (the frontend's dist/)", "The frontend"),
    }
}

async fn shell_redirect(RawQuery(q): RawQuery) -> Redirect {
    Redirect::permanent(&match q {
        Some(q) => format!("{SHELL_PATH}?{q}"),
        None => SHELL_PATH.to_owned(),
    })
}

async fn shell_index(State(d): State<Arc<Dirs>>) -> Response {
    shell_file(State(d), AxPath("index.html".into())).await
}

async fn shell_file(State(d): State<Arc<Dirs>>, AxPath(path): AxPath<String>) -> Response {
    match &d.cfg.shell {
        Some(dir) => serve_file(dir, &path).await,
        None => not_configured("--shell-dir DIR (frontend/dist-shell/)", "The dev shell"),
    }
}

/// `rel` inside `root`, or `None` when it would leave it (`..`, absolute, empty parts).
pub fn resolve(root: &Path, rel: &str) -> Option<PathBuf> {
    if rel.is_empty() || rel.contains('\\') || rel.contains('\0') {
        return None;
    }
    let mut out = root.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(part) => out.push(part),
            _ => return None,
        }
    }
    Some(out)
}

/// Content type by extension (the browser refuses module scripts served as anything else).
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn serve_file(root: &Path, rel: &str) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found\n").into_response();
    let Some(path) = resolve(root, rel) else {
        return not_found();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, content_type(&path)),
                // Paca's gateway caches for 15 minutes; in development a rebuild must show at once.
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_root() {
        let root = Path::new("/srv/dist");
        assert_eq!(
            resolve(root, "assets/remoteEntry.js"),
            Some(PathBuf::from("/srv/dist/assets/remoteEntry.js"))
        );
        for bad in [
            "",
            "../secret",
            "assets/../../x",
            "/etc/passwd",
            "a\\..\\b",
            "./x",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn module_scripts_get_a_javascript_type() {
        assert_eq!(
            content_type(Path::new("a/remoteEntry.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x.bin")), "application/octet-stream");
    }
}
