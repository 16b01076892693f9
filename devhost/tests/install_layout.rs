//! The release bundle, installed the way Paca's installer does, runs: devhost starts from the
//! unpacked layout alone (no file of the checkout) and passes a smoke flow — token, link with
//! its signed ping, a pull_request webhook auto-linking a task, and the frontend remote entry,
//! `mcp.js` and the skill served. `PACA_DIST_DIR` is the folder `cargo xtask test` packaged the
//! bundle into (`target/dist`).

use fake_github::{FakeGithub, RepoSeed};
use paca_devhost::install::{Limits, install_dist};
use paca_devhost::{DevHost, DevHostConfig};
use serde_json::{Value, json};
use std::path::PathBuf;

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn dist_dir() -> PathBuf {
    let dir = std::env::var("PACA_DIST_DIR").unwrap_or_else(|_| {
        panic!("PACA_DIST_DIR is not set: run `cargo xtask test` (it packages the release bundle and sets it)")
    });
    let dir = PathBuf::from(dir);
    assert!(
        dir.join("checksums.txt").is_file(),
        "PACA_DIST_DIR={} holds no checksums.txt: run `cargo xtask test`",
        dir.display()
    );
    dir
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http
        .request(method, url)
        .header("Authorization", "Bearer dev-admin");
    if let Some(b) = body {
        req = req
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_bundle_serves_a_whole_flow() {
    let layout = tempfile::tempdir().expect("layout dir");
    let installed = install_dist(
        &dist_dir(),
        "com.paca.github",
        layout.path(),
        Limits::default(),
    )
    .expect("the bundle installs");
    for p in [&installed.manifest, &installed.migrations] {
        assert!(p.starts_with(layout.path()), "{}", p.display());
    }
    let wasm = installed.wasm.clone().expect("the bundle has a backend");

    let gh = FakeGithub::start().await.expect("fake github");
    gh.seed_user("alice", "ghp_alice_token");
    gh.add_repo(RepoSeed::new("alice", "app")).expect("repo");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut cfg = DevHostConfig::new(&wasm, &installed.manifest)
        .migrations(&installed.migrations)
        .mcp_file(installed.mcp_dir.join("mcp.js"))
        .skills_dir(&installed.skills_dir)
        .config("ENCRYPTION_KEY", KEY)
        .config("PUBLIC_URL", &format!("http://{addr}"))
        .github_api(&gh.base_url())
        .listen(addr);
    cfg.frontend.dist = Some(installed.frontend_dir.clone());
    let host = DevHost::start(cfg)
        .await
        .expect("devhost starts from the layout");
    let seed = host.seed();
    let project = seed.project("Installed", "INST").await.expect("project");
    seed.dev_members(&project).await.expect("members");
    let task = seed.task(&project, "ship it").await.expect("task");

    let http = reqwest::Client::new();
    let url = |p: &str| host.plugin_url(&format!("projects/{project}/{p}"));
    let (s, body) = call(
        &http,
        reqwest::Method::POST,
        url("github/token"),
        Some(json!({"token": "ghp_alice_token"})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = call(
        &http,
        reqwest::Method::POST,
        url("github/linked-repositories"),
        Some(json!({"owner": "alice", "repo_name": "app"})),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    gh.settle().await;
    let pings = gh.deliveries_of("ping");
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0].status, Some(200), "{}", pings[0].response_body);

    // A pushed commit: GitHub refuses a pull request without commits between the branches.
    gh.push_branch("alice/app", "feat/INST-1-ship")
        .await
        .expect("push");
    gh.open_pr("alice/app", "feat/INST-1-ship", "main", "INST-1 ship it")
        .await
        .expect("pr");
    gh.settle().await;
    let opened = gh.deliveries_of("pull_request");
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].status, Some(200), "{}", opened[0].response_body);
    let (s, body) = call(
        &http,
        reqwest::Method::GET,
        url(&format!("tasks/{}/github/pull-requests", task.id)),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let prs = body["data"].as_array().expect("a list");
    assert_eq!(prs.len(), 1, "{body}");
    assert_eq!(prs[0]["title"], "INST-1 ship it");

    // The three web-served parts, byte for byte as installed.
    let base = host.base_url();
    for (path, file) in [
        (
            "/plugins/com.paca.github/assets/remoteEntry.js",
            installed.frontend_dir.join("assets/remoteEntry.js"),
        ),
        (
            "/plugins-mcp/com.paca.github/mcp.js",
            installed.mcp_dir.join("mcp.js"),
        ),
        (
            "/plugins-skills/com.paca.github/paca-github-workflow/SKILL.md",
            installed.skills_dir.join("paca-github-workflow/SKILL.md"),
        ),
    ] {
        let resp = http.get(format!("{base}{path}")).send().await.expect(path);
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let served = resp.bytes().await.expect("bytes");
        let on_disk = std::fs::read(&file).expect("installed file");
        assert!(!on_disk.is_empty(), "{}", file.display());
        assert_eq!(served.as_ref(), on_disk.as_slice(), "{path}");
    }
    host.shutdown().await;
}
