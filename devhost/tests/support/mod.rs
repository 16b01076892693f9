//! End-to-end world: one fake GitHub and one devhost running the real `github.wasm` (from
//! `PACA_GITHUB_WASM`) on a fresh database, with the plugin's real `plugin.json` and
//! migrations, `PUBLIC_URL` pointing at the devhost itself so the fake delivers webhooks to it.
#![allow(dead_code)]

use fake_github::{FakeGithub, FakeGithubHandle, RepoSeed};
use paca_devhost::{DevHost, DevHostConfig};
use paca_github_client::{ApiError, Client, ResponseValue, dev, types};
use serde_json::Value;
use std::path::PathBuf;
use uuid::Uuid;

/// 32 bytes of hex: the AES-256-GCM key the plugin reads from `ENCRYPTION_KEY`.
pub const ENCRYPTION_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// The GitHub user whose token the tests connect.
pub const GH_USER: &str = "alice";
pub const GH_TOKEN: &str = "ghp_alice_token";
/// A repository of `alice` with a `develop` branch.
pub const REPO: &str = "alice/app";
/// The plugin's schema in the devhost database.
pub const SCHEMA: &str = "plugin_data_com_paca_github";

pub fn wasm_path() -> PathBuf {
    let path = std::env::var("PACA_GITHUB_WASM").unwrap_or_else(|_| {
        panic!(
            "PACA_GITHUB_WASM is not set: run `cargo xtask test` (it builds github.wasm and sets it)"
        )
    });
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "PACA_GITHUB_WASM={} does not exist: run `cargo xtask test`",
        path.display()
    );
    path
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A project with its dev members and two tasks (`PREFIX-1`, `PREFIX-2`).
pub struct Project {
    pub id: Uuid,
    pub prefix: String,
    pub task1: Uuid,
    pub task2: Uuid,
}

pub struct World {
    pub host: DevHost,
    pub gh: FakeGithubHandle,
    /// Project `PROJ` (tasks PROJ-1, PROJ-2).
    pub p: Project,
    /// Another project `OTH` (tasks OTH-1, OTH-2) in the same installation.
    pub other: Project,
    pub admin: Client,
    pub member: Client,
    pub viewer: Client,
    pub anon: Client,
    pub http: reqwest::Client,
}

/// Starts a devhost on a port chosen up front, so `PUBLIC_URL` can name it.
async fn start_host(gh_url: &str) -> DevHost {
    start_host_with(gh_url, None, None).await
}

/// Like [`start_host`], optionally on an existing database and with another host's public URL
/// (replicas behind one load balancer share both).
pub async fn start_host_with(
    gh_url: &str,
    database_url: Option<&str>,
    public_url: Option<&str>,
) -> DevHost {
    let mut last = None;
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let public = public_url.map_or_else(|| format!("http://{addr}"), str::to_string);
        let mut cfg = DevHostConfig::new(wasm_path(), repo_root().join("plugin.json"))
            .migrations(repo_root().join("migrations"))
            .config("ENCRYPTION_KEY", ENCRYPTION_KEY)
            .config("PUBLIC_URL", &public)
            .github_api(gh_url)
            .listen(addr);
        if let Some(db) = database_url {
            cfg = cfg.database_url(db);
        }
        match DevHost::start(cfg).await {
            Ok(h) => return h,
            // another test may have taken the port in between: pick another one
            Err(e) => last = Some(e),
        }
    }
    panic!("devhost did not start: {:?}", last.unwrap());
}

async fn project(host: &DevHost, name: &str, prefix: &str) -> Project {
    let seed = host.seed();
    let id = seed.project(name, prefix).await.expect("project");
    seed.dev_members(&id).await.expect("members");
    let t1 = seed.task(&id, "first task").await.expect("task 1");
    let t2 = seed.task(&id, "second task").await.expect("task 2");
    assert_eq!((t1.task_number, t2.task_number), (1, 2));
    Project {
        id: id.parse().unwrap(),
        prefix: prefix.into(),
        task1: t1.id.parse().unwrap(),
        task2: t2.id.parse().unwrap(),
    }
}

impl World {
    /// Fake GitHub with `alice` (token [`GH_TOKEN`]) owning [`REPO`], devhost, two projects.
    pub async fn start() -> World {
        let gh = FakeGithub::start().await.expect("fake github");
        gh.seed_user(GH_USER, GH_TOKEN);
        gh.add_repo(RepoSeed::new(GH_USER, "app").branches(&["develop"]))
            .expect("repo");
        let host = start_host(&gh.base_url()).await;
        let p = project(&host, "Project", "PROJ").await;
        let other = project(&host, "Other", "OTH").await;
        let base = host.base_url();
        World {
            admin: dev::client(&base, Some("dev-admin")),
            member: dev::client(&base, Some("dev-member")),
            viewer: dev::client(&base, Some("dev-viewer")),
            anon: dev::client(&base, None),
            http: reqwest::Client::new(),
            host,
            gh,
            p,
            other,
        }
    }

    /// A second Paca API replica: another devhost (its own wasm instance) on the same database
    /// and public URL, so GitHub's deliveries still go to the first one.
    pub async fn replica(&self) -> Replica {
        let host = start_host_with(
            &self.gh.base_url(),
            Some(self.host.database_url()),
            Some(&self.host.base_url()),
        )
        .await;
        Replica {
            admin: dev::client(&host.base_url(), Some("dev-admin")),
            host,
        }
    }

    /// Sets [`GH_TOKEN`] on `project` as dev-admin.
    pub async fn connect(&self, project: Uuid) {
        let out = self
            .admin
            .set_token(&project, &token_body(GH_TOKEN))
            .await
            .expect("set token")
            .into_inner();
        assert!(out.data.connected);
    }

    /// Links `full_name` to `project` and waits for the fake's ping delivery.
    pub async fn link(&self, project: Uuid, full_name: &str) -> types::LinkedRepository {
        let (owner, name) = full_name.split_once('/').unwrap();
        let repo = ok(self
            .admin
            .link_repository(&project, &link_body(owner, name))
            .await)
        .data;
        self.gh.settle().await;
        repo
    }

    /// Token + [`REPO`] on project `PROJ`; returns the linked repository.
    pub async fn connected_with_repo(&self) -> types::LinkedRepository {
        self.connect(self.p.id).await;
        self.link(self.p.id, REPO).await
    }

    /// A raw request to the plugin (`path` relative to the plugin base) → (status, JSON body).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            self.host.plugin_url(path),
        );
        if let Some(t) = bearer {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Posts `body` to the project's webhook with the given headers (anonymous).
    pub async fn post_webhook(
        &self,
        project: Uuid,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.host.plugin_url(&format!("projects/{project}/webhook")))
            .header("Content-Type", "application/json")
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("webhook request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Topics of every `event_emit` so far.
    pub fn topics(&self) -> Vec<String> {
        self.host
            .emitted_events()
            .into_iter()
            .map(|e| e.topic)
            .collect()
    }

    /// A count of rows in a plugin table.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {SCHEMA}.{table}"
        )))
        .fetch_one(self.host.pool())
        .await
        .unwrap()
    }

    pub async fn prs(&self, project: Uuid, task: Uuid) -> Vec<types::PullRequest> {
        ok(self.admin.list_task_pull_requests(&project, &task).await).data
    }

    pub async fn branches(&self, project: Uuid, task: Uuid) -> Vec<types::Branch> {
        ok(self.admin.list_task_branches(&project, &task).await).data
    }

    /// The hooks [`REPO`] has in the fake.
    pub fn hooks(&self, full_name: &str) -> Vec<fake_github::state::Hook> {
        self.gh
            .repo(full_name)
            .expect("repo in fake")
            .hooks
            .into_values()
            .collect()
    }
}

/// Another devhost on the world's database (see [`World::replica`]).
pub struct Replica {
    pub host: DevHost,
    pub admin: Client,
}

/// Posts a raw webhook delivery to `host` (anonymous) → (status, JSON body).
pub async fn post_webhook_to(
    http: &reqwest::Client,
    host: &DevHost,
    project: Uuid,
    headers: &[(String, String)],
    body: &str,
) -> (u16, Value) {
    let url = host.plugin_url(&format!("projects/{project}/webhook"));
    post_webhook_url(http, &url, headers, body).await
}

/// Posts a raw webhook delivery to a full URL (anonymous) → (status, JSON body).
pub async fn post_webhook_url(
    http: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> (u16, Value) {
    let mut req = http.post(url).body(body.to_string());
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await.expect("webhook request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn token_body(token: &str) -> types::SetTokenRequest {
    types::SetTokenRequest {
        token: token.parse().expect("token"),
    }
}

pub fn link_body(owner: &str, name: &str) -> types::LinkRepositoryRequest {
    types::LinkRepositoryRequest {
        owner: owner.parse().expect("owner"),
        repo_name: name.parse().expect("repo name"),
    }
}

pub fn branch_body(repo: Uuid, name: &str, source: Option<&str>) -> types::CreateBranchRequest {
    types::CreateBranchRequest {
        repo_id: repo,
        branch_name: name.parse().expect("branch"),
        source_branch: source.map(|s| s.parse().expect("source")),
    }
}

pub fn pr_body(repo: Uuid, number: u32) -> types::LinkPullRequestRequest {
    types::LinkPullRequestRequest {
        repo_id: repo,
        pr_number: std::num::NonZeroU32::new(number).expect("pr number"),
    }
}

/// The body of a successful call (panics with the error otherwise).
pub fn ok<T: std::fmt::Debug>(r: Result<ResponseValue<T>, ApiError>) -> T {
    match r {
        Ok(v) => v.into_inner(),
        Err(e) => panic!("expected success, got {}", describe(&e)),
    }
}

fn describe(e: &ApiError) -> String {
    match dev::envelope(e) {
        Some((s, c, m)) => format!("{s} {c:?}: {m}"),
        None => format!("{e}"),
    }
}

/// Asserts a documented error response with this status and code.
pub fn err<T: std::fmt::Debug>(
    r: Result<ResponseValue<T>, ApiError>,
    status: u16,
    code: types::ErrorCode,
) -> String {
    match r {
        Ok(v) => panic!(
            "expected {status} {code:?}, got success {:?}",
            v.into_inner()
        ),
        Err(e) => match dev::envelope(&e) {
            Some((s, c, m)) => {
                assert_eq!((s, c), (status, code), "{m}");
                m
            }
            None => panic!("expected {status} {code:?}, got {}", describe(&e)),
        },
    }
}

/// Asserts a failed call with this HTTP status (any body).
pub fn status<T: std::fmt::Debug>(r: Result<ResponseValue<T>, ApiError>, want: u16) {
    match r {
        Ok(v) => panic!("expected {want}, got success {:?}", v.into_inner()),
        Err(e) => assert_eq!(dev::status(&e), Some(want), "{}", describe(&e)),
    }
}
