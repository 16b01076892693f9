//! The real `github.wasm` on the strict host: oversized payloads do not poison the guest's
//! allocator, and two devhosts (replicas) start and serve on one database.

mod support;

use paca_devhost::{DevHost, DevHostConfig, HostEnv, Limits, Plugin};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use support::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A HandleRequest envelope for an undeclared path (the plugin answers 404 itself).
fn small_envelope() -> Vec<u8> {
    json!({"method": "GET", "path": "nothing-here", "query": {}, "project_id": "",
           "caller_id": "", "user_id": "", "caller_role": "", "headers": {}, "body": ""})
    .to_string()
    .into_bytes()
}

fn status_of(result: &[u8]) -> i64 {
    let v: Value = serde_json::from_slice(result).expect("the plugin answers an envelope");
    v["status"].as_i64().unwrap_or(200)
}

#[tokio::test]
async fn oversized_payloads_then_normal_requests_still_succeed() {
    // Through HTTP: the host refuses the oversized body (413) before the guest runs.
    let w = World::start().await;
    let p = w.p.id;
    let big = "x".repeat(2 << 20);
    let (st, _) = w.post_webhook(p, &[("X-GitHub-Event", "ping")], &big).await;
    assert_eq!(st, 413);
    let integration = ok(w.admin.get_integration(&p).await);
    assert!(!integration.data.connected);

    // Directly, without the host's cap: a payload beyond the guest's memory makes its
    // paca_malloc fail; a large one that fits is handled; normal calls keep working.
    let wasm = std::fs::read(wasm_path()).unwrap();
    let limits = Limits {
        max_request_body_bytes: 0,
        ..Limits::default()
    };
    let env = HostEnv::new("com.paca.github", tokio::runtime::Handle::current());
    let plugin: Arc<Plugin> = Plugin::load(wasm, Arc::new(env), limits).await.unwrap();
    assert_eq!(
        status_of(
            &plugin
                .call_export("HandleRequest", small_envelope(), None)
                .await
                .unwrap()
        ),
        404
    );
    let err = plugin
        .call_export("HandleRequest", vec![b'{'; 80 << 20], None)
        .await
        .expect_err("80 MiB cannot fit in 64 MiB of linear memory");
    assert!(!err.to_string().is_empty());
    assert_eq!(
        status_of(
            &plugin
                .call_export("HandleRequest", small_envelope(), None)
                .await
                .unwrap()
        ),
        404,
        "a normal request after the failed allocation"
    );
    let large = plugin
        .call_export("HandleRequest", vec![b' '; 24 << 20], None)
        .await
        .unwrap();
    assert_eq!(
        status_of(&large),
        400,
        "24 MiB of blanks is not an envelope"
    );
    for _ in 0..3 {
        assert_eq!(
            status_of(
                &plugin
                    .call_export("HandleRequest", small_envelope(), None)
                    .await
                    .unwrap()
            ),
            404
        );
    }
}

async fn host_on(db: &str) -> anyhow::Result<DevHost> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let gh = format!("http://{addr}/unused-github");
    DevHost::start(
        DevHostConfig::new(wasm_path(), root().join("plugin.json"))
            .migrations(root().join("migrations"))
            .database_url(db)
            .config("ENCRYPTION_KEY", ENCRYPTION_KEY)
            .config("PUBLIC_URL", &format!("http://{addr}"))
            .github_api(&gh)
            .listen(addr),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devhosts_start_together_on_one_database_and_share_it() {
    let db = paca_devhost::pg::fresh_database().await.unwrap();
    // both run the core schema and the plugin migrations at the same time
    let (a, b) = tokio::join!(host_on(&db), host_on(&db));
    let (a, b) = (a.expect("first devhost"), b.expect("second devhost"));
    let applied: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM plugin_data_com_paca_github.plugin_schema_migrations",
    )
    .fetch_one(a.pool())
    .await
    .unwrap();
    let files = paca_devhost::migrate::migration_files(&root().join("migrations"))
        .unwrap()
        .len() as i64;
    assert_eq!(applied, files, "every migration recorded once");
    // one project seen by both replicas
    let project = a.seed().project("Shared", "SHR").await.unwrap();
    a.seed().dev_members(&project).await.unwrap();
    let http = reqwest::Client::new();
    for host in [&a, &b] {
        let r = http
            .get(host.plugin_url(&format!("projects/{project}/github")))
            .bearer_auth("dev-admin")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(v["data"]["connected"], false);
        // The status read is tasks:read (the task section needs it); listing the token's
        // repositories is management.
        let r = http
            .get(host.plugin_url(&format!("projects/{project}/github/repositories")))
            .bearer_auth("dev-member")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "Editor holds no github:manage");
    }
}
