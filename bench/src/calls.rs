//! Host calls per operation, counted through devhost's imports for every scenario of the
//! committed budget (`backend/host-call-budget.txt`), next to the budget and the reference.

use crate::world::{AGENT_KEY, Auth, GH_USER, World, gh_err};
use anyhow::{Context, ensure};
use fake_github::{RepoSeed, Tamper};
use paca_devhost::stats::{Import, StatsSnapshot};
use serde_json::json;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;

/// One row of the committed budget.
#[derive(Clone, Debug)]
pub struct Budget {
    pub scenario: String,
    pub db: u64,
    pub fetch: u64,
    /// The Go reference's DB round trips / fetches (`None`: no counterpart).
    pub ref_db: Option<u64>,
    pub ref_fetch: Option<u64>,
}

pub fn read_budget(path: &Path) -> anyhow::Result<Vec<Budget>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        ensure!(f.len() == 5, "budget line needs 5 columns: {line}");
        let opt = |s: &str| s.parse::<u64>().ok();
        out.push(Budget {
            scenario: f[0].into(),
            db: f[1].parse()?,
            fetch: f[2].parse()?,
            ref_db: opt(f[3]),
            ref_fetch: opt(f[4]),
        });
    }
    Ok(out)
}

/// Calls one scenario made, as devhost counted them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counted {
    pub db: u64,
    pub fetch: u64,
    pub emits: u64,
}

impl Counted {
    fn of(d: &StatsSnapshot) -> Counted {
        Counted {
            db: d.db_calls(),
            fetch: d.calls(Import::Fetch),
            emits: d.calls(Import::EventEmit),
        }
    }

    fn minus(self, o: Counted) -> Counted {
        Counted {
            db: self.db.saturating_sub(o.db),
            fetch: self.fetch.saturating_sub(o.fetch),
            emits: self.emits.saturating_sub(o.emits),
        }
    }
}

struct Counter<'w> {
    w: &'w World,
    out: BTreeMap<String, Counted>,
}

impl Counter<'_> {
    fn snap(&self) -> StatsSnapshot {
        self.w.host.plugin().env().stats.snapshot()
    }

    /// Counts the plugin's calls during `f`. Deliveries the fake GitHub sends in the background
    /// because of `f` (the ping after a hook is created, the push after a branch is created)
    /// are awaited, then their own cost — measured by redelivering them — is subtracted.
    async fn count<T, F: Future<Output = anyhow::Result<T>>>(
        &mut self,
        scenario: &str,
        f: F,
    ) -> anyhow::Result<T> {
        let seen = self.w.gh.deliveries().len();
        let before = self.snap();
        let v = f.await.with_context(|| format!("scenario {scenario}"))?;
        self.w.gh.settle().await;
        let mut c = Counted::of(&self.snap().since(&before));
        let background: Vec<_> = self.w.gh.deliveries().into_iter().skip(seen).collect();
        for d in background
            .iter()
            .filter(|d| !d.redelivery && !is_sync(scenario))
        {
            let b = self.snap();
            self.w
                .gh
                .redeliver(&d.id, Tamper::None)
                .await
                .map_err(gh_err)?;
            c = c.minus(Counted::of(&self.snap().since(&b)));
        }
        self.out.insert(scenario.into(), c);
        Ok(v)
    }
}

/// Webhook scenarios: the delivery *is* what is counted.
fn is_sync(scenario: &str) -> bool {
    scenario.starts_with("receive_webhook")
}

/// Runs every scenario on a fresh project `OPS`.
pub async fn count_all(w: &World) -> anyhow::Result<BTreeMap<String, Counted>> {
    let mut k = Counter {
        w,
        out: BTreeMap::new(),
    };
    let admin = w.admin.token.clone();
    let member = w.member.token.clone();
    w.gh.add_repo(RepoSeed::new(GH_USER, "third"))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let ops = w.project("Ops", "OPS", 3).await?;
    let (p, t0, t1) = (ops.id.clone(), ops.tasks[0].clone(), ops.tasks[1].clone());
    let other = "bench/other";

    k.count("set_token", async {
        w.call_ok(
            "POST",
            &format!("projects/{p}/github/token"),
            &admin,
            Some(json!({"token": crate::world::GH_TOKEN})),
            200,
        )
        .await
    })
    .await?;
    let linked = k
        .count("link_repository", async {
            w.call_ok(
                "POST",
                &format!("projects/{p}/github/linked-repositories"),
                &admin,
                Some(json!({"owner": GH_USER, "repo_name": "other"})),
                201,
            )
            .await
        })
        .await?;
    let repo = linked["data"]["id"].as_str().context("repo id")?.to_owned();
    for (scenario, path) in [
        ("get_integration", format!("projects/{p}/github")),
        (
            "list_accessible_repositories",
            format!("projects/{p}/github/repositories"),
        ),
        (
            "list_linked_repositories",
            format!("projects/{p}/github/linked-repositories"),
        ),
    ] {
        k.count(scenario, w.call_ok("GET", &path, &admin, None, 200))
            .await?;
    }
    k.count(
        "create_branch",
        w.call_ok(
            "POST",
            &format!("projects/{p}/tasks/{t0}/github/branches"),
            &member,
            Some(json!({"repo_id": repo, "branch_name": "feat/ops-source"})),
            201,
        ),
    )
    .await?;
    k.count(
        "list_task_branches",
        w.call_ok(
            "GET",
            &format!("projects/{p}/tasks/{t0}/github/branches"),
            &member,
            None,
            200,
        ),
    )
    .await?;
    w.gh.push_branch(other, "feat/ops-source")
        .await
        .map_err(gh_err)?;
    let opened = k
        .count("receive_webhook_pull_request_opened_linked_branch", async {
            let o =
                w.gh.open_pr(other, "feat/ops-source", "main", "Ops change")
                    .await
                    .map_err(gh_err)?;
            let d = o.deliveries.into_iter().next().context("opened delivery")?;
            ensure!(d.succeeded(), "opened: {:?}", d.status);
            Ok((o.value.number, d.id))
        })
        .await?;
    k.count("receive_webhook_duplicate_delivery", async {
        let d =
            w.gh.redeliver(&opened.1, Tamper::None)
                .await
                .map_err(gh_err)?;
        ensure!(d.response_body.contains("duplicate"), "{}", d.response_body);
        Ok(())
    })
    .await?;
    let listed = k
        .count(
            "list_task_pull_requests",
            w.call_ok(
                "GET",
                &format!("projects/{p}/tasks/{t0}/github/pull-requests"),
                &member,
                None,
                200,
            ),
        )
        .await?;
    ensure!(
        listed["data"].as_array().map(Vec::len) == Some(1),
        "the opened PR is auto-linked through its branch: {listed}"
    );
    k.count("receive_webhook_pull_request_closed", async {
        let o = w.gh.close_pr(other, opened.0).await.map_err(gh_err)?;
        ensure!(o.deliveries.iter().all(|d| d.succeeded()));
        Ok(())
    })
    .await?;

    w.gh.push_branch(other, "ops-second")
        .await
        .map_err(gh_err)?;
    let second =
        w.gh.open_pr(other, "ops-second", "main", "Second change")
            .await
            .map_err(gh_err)?;
    let linked_pr = k
        .count(
            "link_pull_request",
            w.call_ok(
                "POST",
                &format!("projects/{p}/tasks/{t1}/github/pull-requests"),
                &member,
                Some(json!({"repo_id": repo, "pr_number": second.value.number})),
                201,
            ),
        )
        .await?;
    let pr_id = linked_pr["data"]["id"]
        .as_str()
        .context("pr id")?
        .to_owned();
    k.count(
        "unlink_pull_request",
        w.call_ok(
            "DELETE",
            &format!("projects/{p}/tasks/{t1}/github/pull-requests/{pr_id}"),
            &member,
            None,
            204,
        ),
    )
    .await?;
    k.count("receive_webhook_push_new_branch_with_key", async {
        let o =
            w.gh.push_branch(other, "feat/OPS-3-keyed")
                .await
                .map_err(gh_err)?;
        ensure!(
            o.deliveries
                .iter()
                .all(|d| d.response_body.contains("processed"))
        );
        Ok(())
    })
    .await?;
    k.count("receive_webhook_push_ignored", async {
        let o =
            w.gh.push_branch(other, "feat/OPS-3-keyed")
                .await
                .map_err(gh_err)?;
        ensure!(
            o.deliveries
                .iter()
                .all(|d| d.response_body.contains("ignored"))
        );
        Ok(())
    })
    .await?;
    let ping =
        w.gh.deliveries_of("ping")
            .into_iter()
            .find(|d| d.url.contains(&p))
            .context("OPS ping")?
            .id;
    k.count("receive_webhook_ping", async {
        let d = w.gh.redeliver(&ping, Tamper::None).await.map_err(gh_err)?;
        ensure!(d.succeeded(), "ping: {:?}", d.status);
        Ok(())
    })
    .await?;
    k.count("receive_webhook_bad_signature", async {
        let d =
            w.gh.redeliver(&ping, Tamper::WrongSignature)
                .await
                .map_err(gh_err)?;
        // the uniform answer to an unverifiable delivery (no probing for linked repositories)
        ensure!(d.status == Some(404), "bad signature: {:?}", d.status);
        Ok(())
    })
    .await?;

    // Paca's agents: the repository capability and the PR workflow, with the agent's key.
    let agent = Auth::ApiKey(AGENT_KEY);
    for (scenario, path) in [
        ("list_repositories", format!("projects/{p}/repositories")),
        (
            "get_clone_info",
            format!("projects/{p}/repositories/{repo}/clone-info"),
        ),
    ] {
        k.count(scenario, w.call_as_ok("GET", &path, agent, None, 200))
            .await?;
    }
    w.gh.push_branch(other, "ops-agent").await.map_err(gh_err)?;
    let created = k
        .count(
            "create_pull_request",
            w.call_as_ok(
                "POST",
                &format!("projects/{p}/tasks/{t1}/github/repositories/{repo}/pull-requests"),
                agent,
                Some(json!({"title": "Agent change", "head_branch": "ops-agent", "base_branch": "main"})),
                201,
            ),
        )
        .await?;
    let agent_pr = created["data"]["pull_request"]["id"]
        .as_str()
        .context("created pr id")?
        .to_owned();
    let pr_path = format!("projects/{p}/tasks/{t1}/github/pull-requests/{agent_pr}");
    for (scenario, path) in [
        ("get_pull_request_details", pr_path.clone()),
        ("get_pull_request_ci_status", format!("{pr_path}/ci-status")),
    ] {
        k.count(scenario, w.call_as_ok("GET", &path, agent, None, 200))
            .await?;
    }
    k.count(
        "comment_on_pull_request",
        w.call_as_ok(
            "POST",
            &format!("{pr_path}/comments"),
            agent,
            Some(json!({"body": "Looks good"})),
            201,
        ),
    )
    .await?;
    k.count(
        "review_pull_request",
        w.call_as_ok(
            "POST",
            &format!("{pr_path}/reviews"),
            agent,
            Some(json!({"event": "COMMENT", "body": "One nit."})),
            201,
        ),
    )
    .await?;
    k.count(
        "link_branch",
        w.call_as_ok(
            "POST",
            &format!("projects/{p}/tasks/{t1}/github/branches/link"),
            agent,
            Some(json!({"repo_id": repo, "branch_name": "ops-second"})),
            201,
        ),
    )
    .await?;

    let third = w
        .call_ok(
            "POST",
            &format!("projects/{p}/github/linked-repositories"),
            &admin,
            Some(json!({"owner": GH_USER, "repo_name": "third"})),
            201,
        )
        .await?;
    w.gh.settle().await;
    let third = third["data"]["id"].as_str().context("third id")?.to_owned();
    k.count(
        "unlink_repository",
        w.call_ok(
            "DELETE",
            &format!("projects/{p}/github/linked-repositories/{third}"),
            &admin,
            None,
            200,
        ),
    )
    .await?;
    k.count("event_task_deleted", async {
        w.host.delete_task(&t0, None).await?;
        Ok(())
    })
    .await?;
    k.count(
        "delete_token",
        w.call_ok(
            "DELETE",
            &format!("projects/{p}/github/token"),
            &admin,
            None,
            200,
        ),
    )
    .await?;
    Ok(k.out)
}
