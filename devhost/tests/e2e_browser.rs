//! Browser end-to-end test: the real `github.wasm` in devhost with the built frontend and the dev
//! shell, the fake GitHub seeded like `cargo xtask dev` (user `demo`, `demo-org/paca-demo`), a
//! project DEMO with three tasks, and Debian's Chromium driven by `frontend/e2e/browser.test.mjs`
//! (playwright-core under `node --test`). The script does every step through the UI (token,
//! linking, branch, PR via the fake's control API, merge, unlink, roles) and writes screenshots to
//! `target/ui-screenshots/`.
//!
//! Needs `PACA_GITHUB_WASM`, `PACA_FRONTEND_DIST` and `PACA_DEV_SHELL` (set by `cargo xtask test`,
//! which also builds the frontend and installs Chromium); `PACA_CHROMIUM` overrides
//! `/usr/bin/chromium`.

mod support;

use fake_github::FakeGithub;
use paca_devhost::frontend::FrontendConfig;
use paca_devhost::{DevHost, DevHostConfig};
use std::path::PathBuf;
use support::{ENCRYPTION_KEY, wasm_path};

fn dir_from_env(var: &str, marker: &str) -> PathBuf {
    let dir = PathBuf::from(std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run `cargo xtask test` (it builds the frontend and sets it)")
    }));
    assert!(
        dir.join(marker).is_file(),
        "{var}={} has no {marker}: run `cargo xtask test`",
        dir.display()
    );
    dir
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_works_in_a_real_browser() {
    let frontend = FrontendConfig {
        dist: Some(dir_from_env("PACA_FRONTEND_DIST", "assets/remoteEntry.js")),
        shell: Some(dir_from_env("PACA_DEV_SHELL", "index.html")),
    };
    let chromium = std::env::var("PACA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).is_file(),
        "{chromium} is missing: `cargo xtask test` installs Debian's chromium (apt-get install chromium)"
    );

    let gh = FakeGithub::start().await.expect("fake github");
    gh.seed_demo().expect("demo seed");
    // PUBLIC_URL must name the devhost's own address, so pick the port first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut cfg = DevHostConfig::new(wasm_path(), root().join("plugin.json"))
        .migrations(root().join("migrations"))
        .config("ENCRYPTION_KEY", ENCRYPTION_KEY)
        .config("PUBLIC_URL", &format!("http://{addr}"))
        .github_api(&gh.base_url())
        .listen(addr);
    cfg.frontend = frontend;
    let host = DevHost::start(cfg).await.expect("devhost");

    let seed = host.seed();
    let project = seed.project("Demo", "DEMO").await.unwrap();
    seed.dev_members(&project).await.unwrap();
    let mut tasks = Vec::new();
    for title in [
        "Connect GitHub",
        "Auto-link pull requests",
        "Show CI state on tasks",
    ] {
        tasks.push(seed.task(&project, title).await.unwrap().id);
    }

    let shots = root().join("target/ui-screenshots");
    let status = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=spec", "e2e/browser.test.mjs"])
        .current_dir(root().join("frontend"))
        .env("E2E_BASE_URL", host.base_url())
        .env("E2E_GITHUB_URL", gh.base_url())
        .env("E2E_PROJECT_ID", &project)
        .env("E2E_TASK_IDS", tasks.join(","))
        .env("E2E_CHROMIUM", &chromium)
        .env("E2E_SCREENSHOTS", &shots)
        .kill_on_drop(true)
        .status()
        .await
        .expect("node runs (Node.js is installed by cargo xtask test)");
    assert!(
        status.success(),
        "the browser tests failed ({status}); see their output above"
    );
    for name in ["settings-light", "settings-dark", "task-light", "task-dark"] {
        assert!(
            shots.join(format!("{name}.png")).is_file(),
            "screenshot {name}.png missing"
        );
    }
    host.shutdown().await;
}
