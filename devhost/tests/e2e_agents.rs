//! End-to-end: Paca's repository capability (`github:use`) and the pull-request workflow of a
//! task, through HTTP → devhost → github.wasm → PostgreSQL / fake GitHub, with API keys as
//! Paca's agents send them (`X-API-Key`).

mod support;
use serde_json::{Value, json};
use support::*;
use uuid::Uuid;

/// The agent identities of `devhost/src/seed.rs`.
const AGENT: &str = "dev-agent";
const AGENT_BASIC: &str = "dev-agent-basic";
/// Where the fake says clones come from: not `https://github.com/<name>.git`, so a rebuilt URL
/// would show.
const CLONE_BASE: &str = "https://git.enterprise.test";

/// A request with `X-API-Key` (or none) → (status, JSON body).
async fn call(
    w: &World,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = w.http.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        w.host.plugin_url(path),
    );
    if let Some(k) = key {
        req = req.header("X-API-Key", k);
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

#[track_caller]
fn data(reply: (u16, Value), status: u16) -> Value {
    assert_eq!(reply.0, status, "{}", reply.1);
    assert_eq!(reply.1["success"], json!(true), "{}", reply.1);
    reply.1["data"].clone()
}

#[track_caller]
fn error(reply: (u16, Value), status: u16, code: &str) {
    assert_eq!(reply.0, status, "{}", reply.1);
    assert_eq!(reply.1["error_code"], json!(code), "{}", reply.1);
}

/// A GET as the agent → its `data`.
async fn get(w: &World, path: &str) -> Value {
    data(call(w, "GET", path, Some(AGENT), None).await, 200)
}

fn task_path(project: Uuid, task: Uuid, rest: &str) -> String {
    format!("projects/{project}/tasks/{task}/github/{rest}")
}

fn create_path(project: Uuid, task: Uuid, repo: Uuid) -> String {
    task_path(project, task, &format!("repositories/{repo}/pull-requests"))
}

fn pr_body(title: &str) -> Value {
    json!({"title": title, "head_branch": "develop", "base_branch": "main", "body": "Adds the thing."})
}

#[tokio::test]
async fn agent_lists_repositories_and_gets_clone_info_with_github_use_only() {
    let w = World::start().await;
    w.gh.set_clone_base(Some(CLONE_BASE));
    let repo = w.connected_with_repo().await;
    let pid = w.p.id;
    let clone_url = format!("{CLONE_BASE}/{REPO}.git");
    assert_eq!(
        repo.clone_url, clone_url,
        "GitHub's own clone_url is stored at link time"
    );

    let list = data(
        call(
            &w,
            "GET",
            &format!("projects/{pid}/repositories"),
            Some(AGENT),
            None,
        )
        .await,
        200,
    );
    assert_eq!(
        list,
        json!([{
            "id": repo.id, "full_name": REPO, "owner": GH_USER, "repo_name": "app",
            "clone_url": clone_url, "default_branch": "main", "private": false,
        }])
    );
    let info_path = format!("projects/{pid}/repositories/{}/clone-info", repo.id);
    let info = data(call(&w, "GET", &info_path, Some(AGENT), None).await, 200);
    assert_eq!(
        info,
        json!({"id": repo.id, "full_name": REPO, "clone_url": clone_url, "token": GH_TOKEN, "expires_at": null})
    );

    // tasks:read/tasks:write are not enough; neither is no key at all
    for key in [Some(AGENT_BASIC), Some("dev-member"), Some("dev-viewer")] {
        for path in [format!("projects/{pid}/repositories"), info_path.clone()] {
            let (status, body) = call(&w, "GET", &path, key, None).await;
            assert_eq!(status, 403, "{key:?} {path}: {body}");
            assert!(!body.to_string().contains(GH_TOKEN));
        }
    }
    assert_eq!(call(&w, "GET", &info_path, None, None).await.0, 401);

    // a hand-out for a task is recorded in its activity, without the token
    let before = w.host.event_log().activities().len();
    let with_task = format!("{info_path}?task_id={}", w.p.task1);
    assert_eq!(
        data(call(&w, "GET", &with_task, Some(AGENT), None).await, 200)["token"],
        GH_TOKEN
    );
    let activities = w.host.event_log().activities();
    assert_eq!(activities.len(), before + 1);
    let a = activities.last().unwrap();
    assert_eq!(a["activity_type"], "github.clone_token_issued");
    assert_eq!(a["task_id"], json!(w.p.task1));
    assert_eq!(a["project_id"], json!(pid));
    assert!(a["content"].as_str().unwrap().contains(REPO));
    assert!(!a.to_string().contains(GH_TOKEN));
    assert!(
        w.host
            .event_log()
            .logs()
            .iter()
            .all(|l| !format!("{l:?}").contains(GH_TOKEN)),
        "the token never reaches a log line"
    );
    // another project's task: 404 and no hand-out, no activity
    let foreign_task = format!("{info_path}?task_id={}", w.other.task1);
    let (status, body) = call(&w, "GET", &foreign_task, Some(AGENT), None).await;
    assert_eq!(
        (status, body["error_code"].clone()),
        (404, json!("TASK_NOT_FOUND")),
        "{body}"
    );
    assert!(!body.to_string().contains(GH_TOKEN));
    assert_eq!(w.host.event_log().activities().len(), before + 1);

    // a link made before clone URLs were stored is completed from GitHub once, then stored
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {SCHEMA}.github_repositories SET clone_url = NULL, private = NULL"
    )))
    .execute(w.host.pool())
    .await
    .unwrap();
    let repo_reads = || {
        w.gh.requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path == format!("/repos/{REPO}"))
            .count()
    };
    let reads = repo_reads();
    let list = data(
        call(
            &w,
            "GET",
            &format!("projects/{pid}/repositories"),
            Some(AGENT),
            None,
        )
        .await,
        200,
    );
    assert_eq!(list[0]["clone_url"], json!(clone_url));
    assert_eq!(repo_reads(), reads + 1);
    let stored: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT clone_url FROM {SCHEMA}.github_repositories"
    )))
    .fetch_one(w.host.pool())
    .await
    .unwrap();
    assert_eq!(stored.as_deref(), Some(clone_url.as_str()));
    data(call(&w, "GET", &info_path, Some(AGENT), None).await, 200);
    assert_eq!(repo_reads(), reads + 1, "no second GitHub read once stored");

    // no token connected: an empty list for the other project, clone-info says why
    let other_list = data(
        call(
            &w,
            "GET",
            &format!("projects/{}/repositories", w.other.id),
            Some(AGENT),
            None,
        )
        .await,
        200,
    );
    assert_eq!(other_list, json!([]));
    let (status, body) = call(
        &w,
        "GET",
        &format!(
            "projects/{}/repositories/{}/clone-info",
            w.other.id, repo.id
        ),
        Some(AGENT),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error_code"].clone()),
        (404, json!("GITHUB_INTEGRATION_NOT_FOUND")),
        "{body}"
    );
}

#[tokio::test]
async fn pull_request_workflow_changes_github_and_links_the_task() {
    let w = World::start().await;
    let repo = w.connected_with_repo().await;
    let (pid, task) = (w.p.id, w.p.task1);

    // create → 201, on GitHub and linked
    let created = data(
        call(
            &w,
            "POST",
            &create_path(pid, task, repo.id),
            Some(AGENT),
            Some(pr_body("Add the thing")),
        )
        .await,
        201,
    );
    w.gh.settle().await;
    assert_eq!(
        (created["created"].clone(), created["linked"].clone()),
        (json!(true), json!(true))
    );
    let pr = &created["pull_request"];
    assert_eq!(pr["pr_number"], 1);
    assert_eq!(
        (pr["head_branch"].clone(), pr["base_branch"].clone()),
        (json!("develop"), json!("main"))
    );
    let gh_pr = w.gh.pull(REPO, 1).expect("the PR exists on GitHub");
    assert_eq!(
        (gh_pr.title.as_str(), gh_pr.body.as_deref()),
        ("Add the thing", Some("Adds the thing."))
    );
    let linked = w.prs(pid, task).await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].id.to_string(), pr["id"].as_str().unwrap());
    let pr_id: Uuid = pr["id"].as_str().unwrap().parse().unwrap();

    // the same call again links the same PR: 200, nothing new on GitHub
    let again = data(
        call(
            &w,
            "POST",
            &create_path(pid, task, repo.id),
            Some(AGENT),
            Some(pr_body("Add the thing")),
        )
        .await,
        200,
    );
    assert_eq!(
        (again["created"].clone(), again["linked"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(again["pull_request"]["id"], pr["id"]);
    assert_eq!(w.gh.repo(REPO).unwrap().pulls.len(), 1);
    // for another task: the existing PR is linked there too; base defaults to the default branch
    let body = json!({"title": "Add the thing", "head_branch": "develop"});
    let other_task = data(
        call(
            &w,
            "POST",
            &create_path(pid, w.p.task2, repo.id),
            Some(AGENT),
            Some(body),
        )
        .await,
        200,
    );
    assert_eq!(
        (other_task["created"].clone(), other_task["linked"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(w.prs(pid, w.p.task2).await.len(), 1);
    // GitHub refuses a PR without commits
    let same = json!({"title": "Nothing", "head_branch": "main", "base_branch": "main"});
    error(
        call(
            &w,
            "POST",
            &create_path(pid, task, repo.id),
            Some(AGENT),
            Some(same),
        )
        .await,
        422,
        "GITHUB_PR_VALIDATION_FAILED",
    );
    // the tool's arguments: head_branch is checked like a branch name
    let bad = json!({"title": "x", "head_branch": "bad..name"});
    error(
        call(
            &w,
            "POST",
            &create_path(pid, task, repo.id),
            Some(AGENT),
            Some(bad),
        )
        .await,
        400,
        "INVALID_BRANCH_NAME",
    );

    // details, with a diff larger than the bound
    let pr_path = task_path(pid, task, &format!("pull-requests/{pr_id}"));
    let big: String = (0..6000)
        .map(|i| format!("+line {i:05} {}\n", "x".repeat(40)))
        .collect();
    let diff = format!(
        "diff --git a/big.txt b/big.txt\n--- a/big.txt\n+++ b/big.txt\n@@ -0,0 +1,6000 @@\n{big}"
    );
    w.gh.set_pr_diff(REPO, 1, &diff).unwrap();
    let d = data(call(&w, "GET", &pr_path, Some(AGENT), None).await, 200);
    assert_eq!(d["title"], "Add the thing");
    assert_eq!(d["body"], "Adds the thing.");
    assert_eq!(
        (
            d["state"].clone(),
            d["draft"].clone(),
            d["mergeable_state"].clone()
        ),
        (json!("open"), json!(false), json!("clean"))
    );
    assert_eq!(d["author"], GH_USER);
    assert_eq!(
        (d["head_branch"].clone(), d["base_branch"].clone()),
        (json!("develop"), json!("main"))
    );
    assert_eq!(
        (
            d["additions"].clone(),
            d["deletions"].clone(),
            d["changed_files"].clone()
        ),
        (json!(6000), json!(0), json!(1))
    );
    assert_eq!(d["diff_size"], json!(diff.len()));
    assert_eq!(d["diff_truncated"], json!(true));
    let shown = d["diff"].as_str().unwrap();
    assert!(shown.len() <= 256 * 1024 && diff.starts_with(shown) && shown.ends_with('\n'));

    // CI: none → unknown; a running status → pending; all green → success; a failed run → failure
    let ci_path = format!("{pr_path}/ci-status");
    assert_eq!(get(&w, &ci_path).await["state"], "unknown");
    w.gh.set_check_run(REPO, "develop", "build", "completed", Some("success"))
        .unwrap();
    w.gh.set_commit_status(
        REPO,
        "develop",
        "ci/lint",
        "pending",
        Some("https://ci.test/1"),
    )
    .unwrap();
    let pending = get(&w, &ci_path).await;
    assert_eq!(pending["state"], "pending");
    assert_eq!(pending["head_sha"], json!(gh_pr.head_sha));
    assert_eq!(
        pending["checks"],
        json!([
            {"name": "build", "kind": "check_run", "status": "completed", "conclusion": "success",
             "url": pending["checks"][0]["url"]},
            {"name": "ci/lint", "kind": "status", "status": "pending", "conclusion": null, "url": "https://ci.test/1"},
        ])
    );
    w.gh.set_commit_status(REPO, "develop", "ci/lint", "success", None)
        .unwrap();
    assert_eq!(get(&w, &ci_path).await["state"], "success");
    w.gh.set_check_run(REPO, "develop", "test", "completed", Some("failure"))
        .unwrap();
    let failed = get(&w, &ci_path).await;
    assert_eq!(failed["state"], "failure");
    assert_eq!(failed["checks"].as_array().unwrap().len(), 3);

    // comment → on GitHub
    let c = data(
        call(
            &w,
            "POST",
            &format!("{pr_path}/comments"),
            Some(AGENT),
            Some(json!({"body": "Looks good"})),
        )
        .await,
        201,
    );
    assert_eq!(c["author"], GH_USER);
    let comments = w.gh.pull(REPO, 1).unwrap().comments;
    assert_eq!(comments.len(), 1);
    assert_eq!(
        (comments[0].body.as_str(), comments[0].id as i64),
        ("Looks good", c["id"].as_i64().unwrap())
    );

    // review: GitHub refuses approving one's own PR; a COMMENT review is submitted
    error(
        call(
            &w,
            "POST",
            &format!("{pr_path}/reviews"),
            Some(AGENT),
            Some(json!({"event": "APPROVE"})),
        )
        .await,
        422,
        "GITHUB_PR_VALIDATION_FAILED",
    );
    error(
        call(
            &w,
            "POST",
            &format!("{pr_path}/reviews"),
            Some(AGENT),
            Some(json!({"event": "REQUEST_CHANGES"})),
        )
        .await,
        400,
        "BAD_REQUEST",
    );
    let r = data(
        call(
            &w,
            "POST",
            &format!("{pr_path}/reviews"),
            Some(AGENT),
            Some(json!({"event": "COMMENT", "body": "One nit."})),
        )
        .await,
        201,
    );
    assert_eq!(r["state"], "COMMENTED");
    let reviews = w.gh.pull(REPO, 1).unwrap().reviews;
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        (reviews[0].state.as_str(), reviews[0].body.as_str()),
        ("COMMENTED", "One nit.")
    );

    // link an existing branch: checked on GitHub, once per task
    let link = task_path(pid, task, "branches/link");
    let b = data(
        call(
            &w,
            "POST",
            &link,
            Some(AGENT),
            Some(json!({"repo_id": repo.id, "branch_name": "develop"})),
        )
        .await,
        201,
    );
    assert_eq!(
        (b["branch_name"].clone(), b["repo_full_name"].clone()),
        (json!("develop"), json!(REPO))
    );
    error(
        call(
            &w,
            "POST",
            &link,
            Some(AGENT),
            Some(json!({"repo_id": repo.id, "branch_name": "develop"})),
        )
        .await,
        409,
        "GITHUB_BRANCH_ALREADY_LINKED",
    );
    error(
        call(
            &w,
            "POST",
            &link,
            Some(AGENT),
            Some(json!({"repo_id": repo.id, "branch_name": "nope"})),
        )
        .await,
        404,
        "GITHUB_BRANCH_NOT_FOUND",
    );
    assert_eq!(w.branches(pid, task).await.len(), 1);
    assert!(w.topics().iter().any(|t| t == "github.branch_linked"));
}

/// Every new task route with another project's task, repository or pull request: 404, and
/// neither GitHub nor the database changes.
#[tokio::test]
async fn new_routes_are_scoped_to_the_callers_project() {
    let w = World::start().await;
    let repo = w.connected_with_repo().await;
    w.gh.add_repo(fake_github::RepoSeed::new(GH_USER, "other").branches(&["develop"]))
        .unwrap();
    w.connect(w.other.id).await;
    let other_repo = w.link(w.other.id, "alice/other").await;
    let (pid, oid) = (w.p.id, w.other.id);
    let mine = data(
        call(
            &w,
            "POST",
            &create_path(pid, w.p.task1, repo.id),
            Some("dev-admin"),
            Some(pr_body("Mine")),
        )
        .await,
        201,
    );
    let theirs = data(
        call(
            &w,
            "POST",
            &create_path(oid, w.other.task1, other_repo.id),
            Some("dev-admin"),
            Some(pr_body("Theirs")),
        )
        .await,
        201,
    );
    w.gh.settle().await;
    let my_pr = mine["pull_request"]["id"].as_str().unwrap().to_string();
    let their_pr = theirs["pull_request"]["id"].as_str().unwrap().to_string();

    let snapshot = |w: &World| {
        let gh = w.gh.snapshot();
        let pulls: Vec<(String, usize, usize, usize)> = gh
            .repos
            .values()
            .flat_map(|r| {
                r.pulls.values().map(move |p| {
                    (
                        r.full_name(),
                        p.number as usize,
                        p.comments.len(),
                        p.reviews.len(),
                    )
                })
            })
            .collect();
        pulls
    };
    let gh_before = snapshot(&w);
    let db_before = (
        w.count("github_task_pr_links").await,
        w.count("github_task_branches").await,
        w.count("github_pull_requests").await,
    );

    let key = Some("dev-admin");
    let (t1, t2, ot1) = (w.p.task1, w.p.task2, w.other.task1);
    let comment = Some(json!({"body": "x"}));
    let review = Some(json!({"event": "COMMENT", "body": "x"}));
    let cases: Vec<(&str, String, Option<Value>, &str)> = vec![
        // create: foreign task, foreign repository
        (
            "POST",
            create_path(pid, ot1, repo.id),
            Some(pr_body("x")),
            "TASK_NOT_FOUND",
        ),
        (
            "POST",
            create_path(pid, t1, other_repo.id),
            Some(pr_body("x")),
            "GITHUB_REPOSITORY_NOT_FOUND",
        ),
        // details / CI / comment / review: foreign PR, foreign task, own PR on an unlinked task
        (
            "GET",
            task_path(pid, t1, &format!("pull-requests/{their_pr}")),
            None,
            "GITHUB_PR_LINK_NOT_FOUND",
        ),
        (
            "GET",
            task_path(pid, ot1, &format!("pull-requests/{their_pr}")),
            None,
            "TASK_NOT_FOUND",
        ),
        (
            "GET",
            task_path(pid, t2, &format!("pull-requests/{my_pr}")),
            None,
            "GITHUB_PR_LINK_NOT_FOUND",
        ),
        (
            "GET",
            task_path(pid, t1, &format!("pull-requests/{their_pr}/ci-status")),
            None,
            "GITHUB_PR_LINK_NOT_FOUND",
        ),
        (
            "GET",
            task_path(pid, ot1, &format!("pull-requests/{their_pr}/ci-status")),
            None,
            "TASK_NOT_FOUND",
        ),
        (
            "GET",
            task_path(pid, t2, &format!("pull-requests/{my_pr}/ci-status")),
            None,
            "GITHUB_PR_LINK_NOT_FOUND",
        ),
        (
            "POST",
            task_path(pid, t1, &format!("pull-requests/{their_pr}/comments")),
            comment.clone(),
            "GITHUB_PR_LINK_NOT_FOUND",
        ),
        (
            "POST",
            task_path(pid, ot1, &format!("pull-requests/{their_pr}/comments")),
            comment.clone(),
            "TASK_NOT_FOUND",
        ),
        (
            "POST",
            task_path(pid, t2, &format!("pull-requests/{my_pr}/comments")),
            comment,
            "GITHUB_PR_LINK_NOT_FOUND",
        ),
        (
            "POST",
            task_path(pid, t1, &format!("pull-requests/{their_pr}/reviews")),
            review.clone(),
            "GITHUB_PR_LINK_NOT_FOUND",
        ),
        (
            "POST",
            task_path(pid, ot1, &format!("pull-requests/{their_pr}/reviews")),
            review.clone(),
            "TASK_NOT_FOUND",
        ),
        (
            "POST",
            task_path(pid, t2, &format!("pull-requests/{my_pr}/reviews")),
            review,
            "GITHUB_PR_LINK_NOT_FOUND",
        ),
        // link branch: foreign task, foreign repository
        (
            "POST",
            task_path(pid, ot1, "branches/link"),
            Some(json!({"repo_id": repo.id, "branch_name": "develop"})),
            "TASK_NOT_FOUND",
        ),
        (
            "POST",
            task_path(pid, t1, "branches/link"),
            Some(json!({"repo_id": other_repo.id, "branch_name": "develop"})),
            "GITHUB_REPOSITORY_NOT_FOUND",
        ),
        // capability: foreign repository
        (
            "GET",
            format!("projects/{pid}/repositories/{}/clone-info", other_repo.id),
            None,
            "GITHUB_REPOSITORY_NOT_FOUND",
        ),
    ];
    for (method, path, body, code) in cases {
        let (status, reply) = call(&w, method, &path, key, body).await;
        assert_eq!(
            (status, reply["error_code"].clone()),
            (404, json!(code)),
            "{method} {path}: {reply}"
        );
        assert!(!reply.to_string().contains(GH_TOKEN), "{path}");
    }
    // the capability list shows only the caller's project's repositories
    let list = data(
        call(
            &w,
            "GET",
            &format!("projects/{pid}/repositories"),
            key,
            None,
        )
        .await,
        200,
    );
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], json!(repo.id));

    assert_eq!(snapshot(&w), gh_before, "GitHub unchanged");
    let db_after = (
        w.count("github_task_pr_links").await,
        w.count("github_task_branches").await,
        w.count("github_pull_requests").await,
    );
    assert_eq!(db_after, db_before, "database unchanged");
}
