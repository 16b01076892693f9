//! The measured installation: a fake GitHub, a devhost running the real `github.wasm` on an
//! ephemeral PostgreSQL, a project with a connected token and a linked repository, a task whose
//! branch a pull request comes from (the webhook under test) and a task with linked PRs (the
//! list under test).

use anyhow::{Context, bail, ensure};
use fake_github::{Delivery, FakeGithub, FakeGithubHandle, RepoSeed};
use paca_devhost::{DevHost, DevHostConfig, dev_identities};
use serde_json::{Value, json};
use std::path::PathBuf;

pub const ENCRYPTION_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
pub const GH_USER: &str = "bench";
pub const GH_TOKEN: &str = "ghp_bench_token";
pub const REPO: &str = "bench/app";
/// PRs linked to the listed task: a typical task view.
pub const LISTED_PRS: u64 = 3;

/// Paths of what is measured.
#[derive(Clone, Debug)]
pub struct Inputs {
    pub wasm: PathBuf,
    pub manifest: PathBuf,
    pub migrations: PathBuf,
    /// Wasm instances for devhost's pool, when the devhost has one (see [`configure_pool`]).
    pub instances: usize,
}

/// A caller as the host resolves it for a project route.
#[derive(Clone, Debug)]
pub struct Caller {
    pub token: String,
    pub user_id: String,
    pub caller_id: String,
    pub role: String,
}

/// How a request authenticates: a user's session, or an agent's API key (`X-API-Key`).
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    Bearer(&'a str),
    ApiKey(&'a str),
}

/// The dev agent key: Editor + `github:use` (devhost's seed).
pub const AGENT_KEY: &str = "dev-agent";

pub struct Project {
    pub id: String,
    /// Tasks in creation order (`PREFIX-1`, `PREFIX-2`, …).
    pub tasks: Vec<String>,
    pub repo_id: String,
}

pub struct World {
    pub host: DevHost,
    pub gh: FakeGithubHandle,
    pub http: reqwest::Client,
    /// The measured project `BEN`: task 0 owns the hook branch, task 1 has the listed PRs.
    pub p: Project,
    pub member: Caller,
    pub admin: Caller,
    /// The `pull_request opened` delivery for the hook branch, as GitHub sent it.
    pub opened: Delivery,
    /// How many wasm instances serve requests (1 until devhost has a pool).
    pub instances: usize,
}

/// Devhost's instance pool: `wanted` wasm instances serve concurrently (at least one).
pub fn configure_pool(cfg: DevHostConfig, wanted: usize) -> (DevHostConfig, usize) {
    let n = wanted.max(1);
    (cfg.instances(n), n)
}

async fn start_host(inputs: &Inputs, gh_url: &str) -> anyhow::Result<(DevHost, usize)> {
    let mut last = None;
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let cfg = DevHostConfig::new(&inputs.wasm, &inputs.manifest)
            .migrations(&inputs.migrations)
            .config("ENCRYPTION_KEY", ENCRYPTION_KEY)
            .config("PUBLIC_URL", &format!("http://{addr}"))
            .github_api(gh_url)
            .listen(addr);
        let (cfg, instances) = configure_pool(cfg, inputs.instances);
        match DevHost::start(cfg).await {
            Ok(h) => return Ok((h, instances)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("devhost did not start")))
}

impl World {
    pub async fn start(inputs: &Inputs) -> anyhow::Result<World> {
        let gh = FakeGithub::start().await?;
        gh.seed_user(GH_USER, GH_TOKEN);
        gh.add_repo(RepoSeed::new(GH_USER, "app").branches(&["develop"]))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        gh.add_repo(RepoSeed::new(GH_USER, "other"))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let (host, instances) = start_host(inputs, &gh.base_url()).await?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?;
        let ids = dev_identities();
        let ident = |token: &str| {
            ids.iter()
                .find(|i| i.token == token)
                .cloned()
                .with_context(|| format!("no dev identity {token}"))
        };
        let (member, admin) = (ident("dev-member")?, ident("dev-admin")?);
        let mut w = World {
            p: Project {
                id: String::new(),
                tasks: Vec::new(),
                repo_id: String::new(),
            },
            member: Caller {
                token: member.token,
                user_id: member.user_id,
                caller_id: String::new(),
                role: member.role,
            },
            admin: Caller {
                token: admin.token,
                user_id: admin.user_id,
                caller_id: String::new(),
                role: admin.role,
            },
            opened: placeholder_delivery(),
            host,
            gh,
            http,
            instances,
        };
        w.p = w.project("Bench", "BEN", 3).await?;
        w.member.caller_id = w.caller_id(&w.p.id, &w.member.user_id).await?;
        w.admin.caller_id = w.caller_id(&w.p.id, &w.admin.user_id).await?;
        let pid = w.p.id.clone();
        w.p.repo_id = w.connect_and_link(&pid, REPO).await?;

        // The hook branch, created on GitHub and linked to task 0 through the API.
        let (p, t0, t1, repo) = (
            w.p.id.clone(),
            w.p.tasks[0].clone(),
            w.p.tasks[1].clone(),
            w.p.repo_id.clone(),
        );
        w.call_ok(
            "POST",
            &format!("projects/{p}/tasks/{t0}/github/branches"),
            &w.admin.token.clone(),
            Some(json!({"repo_id": repo, "branch_name": "feat/hook-source"})),
            201,
        )
        .await?;
        w.gh.settle().await;

        // Task 1 lists LISTED_PRS linked pull requests.
        for n in 1..=LISTED_PRS {
            let branch = format!("listed-{n}");
            w.gh.push_branch(REPO, &branch).await.map_err(gh_err)?;
            let pr =
                w.gh.open_pr(REPO, &branch, "main", &format!("Listed change {n}"))
                    .await
                    .map_err(gh_err)?;
            w.call_ok(
                "POST",
                &format!("projects/{p}/tasks/{t1}/github/pull-requests"),
                &w.admin.token.clone(),
                Some(json!({"repo_id": repo, "pr_number": pr.value.number})),
                201,
            )
            .await?;
        }

        // The measured delivery: `pull_request opened` from the linked branch (which needs a
        // commit of its own first: GitHub refuses a PR without commits).
        w.gh.push_branch(REPO, "feat/hook-source")
            .await
            .map_err(gh_err)?;
        let out =
            w.gh.open_pr(REPO, "feat/hook-source", "main", "Bench change")
                .await
                .map_err(gh_err)?;
        let opened = out
            .deliveries
            .into_iter()
            .find(|d| d.event == "pull_request")
            .context("no pull_request delivery")?;
        ensure!(
            opened.succeeded() && opened.response_body.contains("\"processed\""),
            "the opened delivery was not processed: {:?} {}",
            opened.status,
            opened.response_body
        );
        w.opened = opened;
        let listed = w
            .call_ok(
                "GET",
                &format!("projects/{p}/tasks/{t1}/github/pull-requests"),
                &w.member.token.clone(),
                None,
                200,
            )
            .await?;
        ensure!(
            listed["data"].as_array().map(Vec::len) == Some(LISTED_PRS as usize),
            "task 1 should list {LISTED_PRS} PRs: {listed}"
        );
        Ok(w)
    }

    /// A project with dev members and `tasks` tasks.
    pub async fn project(&self, name: &str, prefix: &str, tasks: usize) -> anyhow::Result<Project> {
        let seed = self.host.seed();
        let id = seed.project(name, prefix).await?;
        seed.dev_members(&id).await?;
        let mut ids = Vec::new();
        for i in 0..tasks {
            ids.push(seed.task(&id, &format!("task {}", i + 1)).await?.id);
        }
        Ok(Project {
            id,
            tasks: ids,
            repo_id: String::new(),
        })
    }

    async fn caller_id(&self, project: &str, user: &str) -> anyhow::Result<String> {
        Ok(sqlx::query_scalar(
            "SELECT id::text FROM public.project_members WHERE project_id = $1::uuid AND user_id = $2::uuid",
        )
        .bind(project)
        .bind(user)
        .fetch_one(self.host.pool())
        .await?)
    }

    /// Sets the token and links `full_name`; returns the linked repository's id.
    pub async fn connect_and_link(&self, project: &str, full_name: &str) -> anyhow::Result<String> {
        let admin = self.admin.token.clone();
        self.call_ok(
            "POST",
            &format!("projects/{project}/github/token"),
            &admin,
            Some(json!({ "token": GH_TOKEN })),
            200,
        )
        .await?;
        let (owner, name) = full_name.split_once('/').context("owner/name")?;
        let linked = self
            .call_ok(
                "POST",
                &format!("projects/{project}/github/linked-repositories"),
                &admin,
                Some(json!({"owner": owner, "repo_name": name})),
                201,
            )
            .await?;
        self.gh.settle().await;
        linked["data"]["id"]
            .as_str()
            .map(str::to_owned)
            .context("linked repository id")
    }

    /// One API call as `bearer`; returns (status, JSON body).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        bearer: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        self.call_as(method, path, Auth::Bearer(bearer), body).await
    }

    /// One API call with `auth`; returns (status, JSON body).
    pub async fn call_as(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let req = self
            .http
            .request(method.parse()?, self.host.plugin_url(path));
        let mut req = match auth {
            Auth::Bearer(token) => req.header("Authorization", format!("Bearer {token}")),
            Auth::ApiKey(key) => req.header("X-API-Key", key),
        };
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// [`World::call`] that must answer `want`.
    pub async fn call_ok(
        &self,
        method: &str,
        path: &str,
        bearer: &str,
        body: Option<Value>,
        want: u16,
    ) -> anyhow::Result<Value> {
        self.call_as_ok(method, path, Auth::Bearer(bearer), body, want)
            .await
    }

    /// [`World::call_as`] that must answer `want`.
    pub async fn call_as_ok(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
        want: u16,
    ) -> anyhow::Result<Value> {
        let (status, v) = self.call_as(method, path, auth, body).await?;
        if status != want {
            bail!("{method} {path}: expected {want}, got {status}: {v}");
        }
        Ok(v)
    }
}

pub fn gh_err(e: fake_github::Error) -> anyhow::Error {
    anyhow::anyhow!("fake GitHub: {}", e.message())
}

fn placeholder_delivery() -> Delivery {
    Delivery {
        seq: 0,
        id: String::new(),
        event: String::new(),
        action: None,
        hook_id: 0,
        repo_id: 0,
        url: String::new(),
        headers: Vec::new(),
        body: String::new(),
        payload: String::new(),
        signature: None,
        tamper: Default::default(),
        redelivery: false,
        status: None,
        error: None,
        response_body: String::new(),
    }
}
