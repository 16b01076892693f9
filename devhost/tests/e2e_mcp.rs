//! End-to-end through a real MCP client: `node --test mcp/test/*.test.mjs` drives the built
//! `mcp/dist/mcp.js` — loaded by the stdio harness (`mcp/dev/stdio-server.mjs`) over HTTP from
//! this devhost, as Paca's MCP server loads it — against devhost + github.wasm + the fake GitHub.
//! The node tests seed what they need through the devhost's and the fake's HTTP control routes.

use fake_github::FakeGithub;
use paca_devhost::{DevHost, DevHostConfig};
use std::path::PathBuf;

const ENCRYPTION_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn env_file(var: &str) -> PathBuf {
    let path = std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run `cargo xtask test` (it builds github.wasm and mcp/dist/mcp.js and sets it)")
    });
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "{var}={} does not exist: run `cargo xtask test`",
        path.display()
    );
    path
}

/// Starts a devhost on a port chosen up front, so `PUBLIC_URL` can name it (webhooks).
async fn start_host(gh_url: &str, bundle: &PathBuf) -> DevHost {
    let mut last = None;
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let cfg = DevHostConfig::new(
            env_file("PACA_GITHUB_WASM"),
            repo_root().join("plugin.json"),
        )
        .migrations(repo_root().join("migrations"))
        .config("ENCRYPTION_KEY", ENCRYPTION_KEY)
        .config("PUBLIC_URL", &format!("http://{addr}"))
        .github_api(gh_url)
        .mcp_file(bundle)
        .skills_dir(repo_root().join("skills"))
        .listen(addr);
        match DevHost::start(cfg).await {
            Ok(h) => return h,
            // another test may have taken the port in between: pick another one
            Err(e) => last = Some(e),
        }
    }
    panic!("devhost did not start: {:?}", last.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_tools_through_a_real_mcp_client() {
    let bundle = env_file("PACA_MCP_BUNDLE");
    let gh = FakeGithub::start().await.expect("fake github");
    let host = start_host(&gh.base_url(), &bundle).await;
    let mcp = repo_root().join("mcp");
    let mut files: Vec<String> = std::fs::read_dir(mcp.join("test"))
        .expect("mcp/test")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".test.mjs"))
        .map(|n| format!("test/{n}"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "expected the MCP test files, found {files:?}"
    );
    let out = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=tap", "--test-concurrency=4"])
        .args(&files)
        .current_dir(&mcp)
        .env("PACA_DEVHOST_URL", host.base_url())
        .env("FAKE_GITHUB_URL", gh.base_url())
        .kill_on_drop(true)
        .output()
        .await
        .expect("node (Node.js) must be installed: cargo xtask test checks it");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(
        out.status.success(),
        "node --test failed ({}):\n{report}",
        out.status
    );
    // A run that silently found nothing must not pass.
    assert!(report.contains("# fail 0"), "{report}");
    assert!(!report.contains("# pass 0\n"), "{report}");
    host.shutdown().await;
}
