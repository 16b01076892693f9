//! End-to-end: the full loop through HTTP → devhost → github.wasm → PostgreSQL / fake GitHub,
//! and what signed (or tampered, or repeated) deliveries do.

mod support;
use fake_github::Tamper;
use paca_github_client::types::{PullRequestState, WebhookOutcomeKind};
use serde_json::Value;
use support::*;

fn nz(n: i32) -> Option<std::num::NonZeroU32> {
    std::num::NonZeroU32::new(n as u32)
}

fn event_summary(w: &World) -> Vec<(String, Option<String>, String, String)> {
    w.host
        .emitted_events()
        .into_iter()
        .map(|e| {
            let s = |k: &str| e.payload[k].as_str().unwrap_or_default().to_string();
            let action = e.payload["action"].as_str().map(str::to_string);
            (e.topic, action, s("project_id"), s("task_id"))
        })
        .collect()
}

#[tokio::test]
async fn full_loop_token_repos_link_branch_pr_merge_events() {
    let w = World::start().await;
    // more repositories than one page, so paging is exercised
    for i in 0..4 {
        w.gh.add_repo(fake_github::RepoSeed::new(GH_USER, &format!("lib{i}")))
            .unwrap();
    }
    let pid = w.p.id;

    // 1. token
    let integ = ok(w.admin.get_integration(&pid).await).data;
    assert!(!integ.connected);
    w.connect(pid).await;
    assert!(ok(w.admin.get_integration(&pid).await).data.connected);

    // 2. accessible repositories, two per page
    let mut names = Vec::new();
    let mut page = Some(1);
    while let Some(n) = page {
        let got = ok(w
            .admin
            .list_accessible_repositories(&pid, nz(n), nz(2))
            .await)
        .data;
        assert_eq!((got.page, got.per_page), (n, 2));
        assert!(got.items.len() <= 2);
        names.extend(got.items.into_iter().map(|r| r.full_name));
        page = got.next_page;
    }
    names.sort();
    assert_eq!(
        names,
        [
            "alice/app",
            "alice/lib0",
            "alice/lib1",
            "alice/lib2",
            "alice/lib3"
        ]
    );

    // 3. link: a hook appears in the fake, its signed ping is accepted
    let repo = w.link(pid, REPO).await;
    assert_eq!(repo.full_name, REPO);
    assert_eq!(repo.default_branch, "main");
    assert!(repo.webhook_active);
    let hooks = w.hooks(REPO);
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        hooks[0].url,
        w.host.plugin_url(&format!("projects/{pid}/webhook"))
    );
    for ev in ["push", "pull_request"] {
        assert!(hooks[0].events.iter().any(|e| e == ev), "{:?}", hooks[0]);
    }
    let pings = w.gh.deliveries_of("ping");
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0].status, Some(200), "{}", pings[0].response_body);
    let linked = ok(w.admin.list_linked_repositories(&pid).await).data;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].id, repo.id);

    // 4. branch for PROJ-1: created on GitHub, linked once (the push delivery adds nothing)
    let branch = ok(w
        .member
        .create_branch(
            &pid,
            &w.p.task1,
            &branch_body(repo.id, "feat/PROJ-1-x", None),
        )
        .await)
    .data;
    assert_eq!(branch.branch_name, "feat/PROJ-1-x");
    assert_eq!(branch.task_id, w.p.task1);
    w.gh.settle().await;
    let fake_repo = w.gh.repo(REPO).unwrap();
    assert_eq!(
        fake_repo.branches.get("feat/PROJ-1-x"),
        fake_repo.branches.get("main"),
        "branch created from the default branch"
    );
    let pushes = w.gh.deliveries_of("push");
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].json()["created"], true);
    assert_eq!(pushes[0].status, Some(200), "{}", pushes[0].response_body);
    let branches = w.branches(pid, w.p.task1).await;
    assert_eq!(branches.len(), 1);
    assert_eq!(branches[0].id, branch.id);
    assert_eq!(w.topics(), ["github.branch_linked"]);

    // a commit on the new branch: a push to an existing branch links nothing new
    let pushed = w.gh.push_branch(REPO, "feat/PROJ-1-x").await.unwrap();
    assert_eq!(pushed.deliveries[0].status, Some(200));
    assert_eq!(w.branches(pid, w.p.task1).await.len(), 1);
    assert_eq!(w.topics(), ["github.branch_linked"]);

    // 5. a PR from it, opened in the fake → signed pull_request delivery auto-links it
    let opened =
        w.gh.open_pr(REPO, "feat/PROJ-1-x", "main", "Add x")
            .await
            .unwrap();
    assert_eq!(opened.deliveries.len(), 1);
    let d = &opened.deliveries[0];
    assert_eq!(d.status, Some(200), "{}", d.response_body);
    let prs = w.prs(pid, w.p.task1).await;
    assert_eq!(prs.len(), 1);
    assert_eq!(prs[0].pr_number as u64, opened.value.number);
    assert_eq!(prs[0].state, PullRequestState::Open);
    assert_eq!(prs[0].head_branch, "feat/PROJ-1-x");
    assert_eq!(prs[0].repo_id, repo.id);
    assert!(w.prs(pid, w.p.task2).await.is_empty());

    // 6. merge → the task's PR list shows merged
    let merged = w.gh.merge_pr(REPO, opened.value.number).await.unwrap();
    assert_eq!(merged.deliveries[0].status, Some(200));
    let prs = w.prs(pid, w.p.task1).await;
    assert_eq!(prs.len(), 1);
    assert_eq!(prs[0].state, PullRequestState::Merged);
    assert!(prs[0].merged_at.is_some());

    // 7. the events, in order, bound to the project and task
    let t1 = w.p.task1.to_string();
    let p = pid.to_string();
    let got: Vec<_> = event_summary(&w)
        .into_iter()
        .map(|(t, a, pp, tt)| (t, a, pp == p && tt == t1))
        .collect();
    assert_eq!(
        got,
        [
            ("github.branch_linked".to_string(), None, true),
            (
                "github.pr_linked".to_string(),
                Some("opened".to_string()),
                true
            ),
            (
                "github.pr_updated".to_string(),
                Some("opened".to_string()),
                true
            ),
            (
                "github.pr_updated".to_string(),
                Some("closed".to_string()),
                true
            ),
        ]
    );
    for e in w.host.emitted_events() {
        assert_eq!(e.source, "com.paca.github");
        assert_eq!(e.payload["repo_id"], repo.id.to_string());
    }
}

#[tokio::test]
async fn tampered_deliveries_are_rejected_and_change_nothing() {
    let w = World::start().await;
    let repo = w.connected_with_repo().await;
    let pid = w.p.id;
    for (i, tamper) in [
        Tamper::WrongSignature,
        Tamper::ModifiedBody,
        Tamper::NoSignature,
    ]
    .into_iter()
    .enumerate()
    {
        w.gh.tamper_next(tamper, 1);
        let head = format!("feat/PROJ-1-t{i}");
        w.gh.add_branch(REPO, &head, None).unwrap();
        let out = w.gh.open_pr(REPO, &head, "main", "PROJ-1 t").await.unwrap();
        let d = &out.deliveries[0];
        assert_eq!(d.tamper, tamper);
        // no signature: 401 before any lookup; a wrong one: the uniform 404 (no probing)
        let (status, code) = match tamper {
            Tamper::NoSignature => (401, "WEBHOOK_SIGNATURE_INVALID"),
            _ => (404, "WEBHOOK_REPOSITORY_NOT_FOUND"),
        };
        assert_eq!(d.status, Some(status), "{tamper:?}: {}", d.response_body);
        let body: Value = serde_json::from_str(&d.response_body).unwrap();
        assert_eq!(body["error_code"], code);
    }
    assert!(w.prs(pid, w.p.task1).await.is_empty());
    assert!(w.host.emitted_events().is_empty());
    assert_eq!(w.count("github_pull_requests").await, 0);
    assert_eq!(w.count("github_webhook_deliveries").await, 0);

    // the same deliveries, redelivered untampered, are accepted: nothing was claimed before
    let first = w.gh.deliveries_of("pull_request")[0].clone();
    let again = w.gh.redeliver(&first.id, Tamper::None).await.unwrap();
    assert_eq!(again.status, Some(200), "{}", again.response_body);
    assert_eq!(w.prs(pid, w.p.task1).await.len(), 1);
    let _ = repo;
}

#[tokio::test]
async fn redelivery_of_the_same_delivery_changes_nothing() {
    let w = World::start().await;
    w.connected_with_repo().await;
    let pid = w.p.id;
    w.gh.add_branch(REPO, "feat/PROJ-2-y", None).unwrap();
    let out =
        w.gh.open_pr(REPO, "feat/PROJ-2-y", "main", "Y")
            .await
            .unwrap();
    assert_eq!(out.deliveries[0].status, Some(200));
    let before_prs = w.prs(pid, w.p.task2).await;
    assert_eq!(before_prs.len(), 1);
    let before_events = w.host.emitted_events();
    assert_eq!(before_events.len(), 2, "{before_events:?}");

    let again =
        w.gh.redeliver(&out.deliveries[0].id, Tamper::None)
            .await
            .unwrap();
    assert!(again.redelivery);
    assert_eq!(again.status, Some(200), "{}", again.response_body);
    let body: Value = serde_json::from_str(&again.response_body).unwrap();
    assert_eq!(body["data"]["outcome"], "duplicate");
    assert_eq!(body["data"]["delivery_id"], out.deliveries[0].id);
    assert_eq!(w.host.emitted_events(), before_events);
    let after = w.prs(pid, w.p.task2).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].updated_at, before_prs[0].updated_at);

    // a tampered redelivery is still rejected before the duplicate check
    let bad =
        w.gh.redeliver(&out.deliveries[0].id, Tamper::WrongSignature)
            .await
            .unwrap();
    assert_eq!(bad.status, Some(404));
    let _ = WebhookOutcomeKind::Duplicate;
}

#[tokio::test]
async fn push_of_a_new_branch_links_it_to_the_named_task_only() {
    let w = World::start().await;
    let repo = w.connected_with_repo().await;
    let pid = w.p.id;

    let out = w.gh.push_branch(REPO, "fix/PROJ-2-y").await.unwrap();
    assert_eq!(out.deliveries[0].status, Some(200));
    let b = w.branches(pid, w.p.task2).await;
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].branch_name, "fix/PROJ-2-y");
    assert_eq!(b[0].repo_id, repo.id);
    assert!(w.branches(pid, w.p.task1).await.is_empty());
    assert_eq!(w.topics(), ["github.branch_linked"]);
    let e = &w.host.emitted_events()[0];
    assert_eq!(e.payload["task_id"], w.p.task2.to_string());
    assert_eq!(e.payload["branch_name"], "fix/PROJ-2-y");

    // another commit on it: not a new branch, nothing new
    let out = w.gh.push_branch(REPO, "fix/PROJ-2-y").await.unwrap();
    assert_eq!(out.deliveries[0].status, Some(200));
    assert_eq!(w.branches(pid, w.p.task2).await.len(), 1);
    assert_eq!(w.topics(), ["github.branch_linked"]);

    // a key with another project's prefix links nothing
    let out = w.gh.push_branch(REPO, "feat/OTH-1-z").await.unwrap();
    assert_eq!(out.deliveries[0].status, Some(200));
    let body: Value = serde_json::from_str(&out.deliveries[0].response_body).unwrap();
    assert_eq!(body["data"]["outcome"], "ignored");
    assert!(w.branches(w.other.id, w.other.task1).await.is_empty());
    assert_eq!(w.count("github_task_branches").await, 1);
    assert_eq!(w.topics(), ["github.branch_linked"]);
}

#[tokio::test]
async fn task_deleted_removes_the_tasks_links() {
    let w = World::start().await;
    let repo = w.connected_with_repo().await;
    let pid = w.p.id;
    ok(w.admin
        .create_branch(
            &pid,
            &w.p.task1,
            &branch_body(repo.id, "feat/PROJ-1-a", None),
        )
        .await);
    w.gh.settle().await;
    w.gh.push_branch(REPO, "feat/PROJ-1-a").await.unwrap();
    w.gh.push_branch(REPO, "feat/PROJ-2-b").await.unwrap();
    let pr =
        w.gh.open_pr(REPO, "feat/PROJ-1-a", "main", "A")
            .await
            .unwrap();
    assert_eq!(pr.deliveries[0].status, Some(200));
    assert_eq!(w.prs(pid, w.p.task1).await.len(), 1);
    assert_eq!(w.count("github_task_branches").await, 2);
    assert_eq!(w.count("github_task_pr_links").await, 1);

    let payload = w
        .host
        .delete_task(
            &w.p.task1.to_string(),
            Some("00000000-0000-4000-8000-000000000001"),
        )
        .await
        .unwrap();
    assert_eq!(payload["activity_type"], "task.deleted");
    assert!(w.host.event_log().dispatched().iter().any(|d| d.delivered));
    let t1 = w.p.task1.to_string();
    let left: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT task_id::text FROM {SCHEMA}.github_task_branches UNION ALL \
         SELECT task_id::text FROM {SCHEMA}.github_task_pr_links"
    )))
    .fetch_all(w.host.pool())
    .await
    .unwrap();
    assert!(!left.contains(&t1), "{left:?}");
    assert_eq!(
        left,
        [w.p.task2.to_string()],
        "the other task keeps its branch"
    );
    err(
        w.admin.list_task_pull_requests(&pid, &w.p.task1).await,
        404,
        paca_github_client::types::ErrorCode::TaskNotFound,
    );
}

#[tokio::test]
async fn unlink_removes_the_hook_and_delete_token_removes_all_hooks() {
    let w = World::start().await;
    w.gh.add_repo(fake_github::RepoSeed::new(GH_USER, "second"))
        .unwrap();
    w.gh.add_repo(fake_github::RepoSeed::new(GH_USER, "third"))
        .unwrap();
    let pid = w.p.id;
    let repo = w.connected_with_repo().await;
    w.link(pid, "alice/second").await;
    w.link(pid, "alice/third").await;
    for r in [REPO, "alice/second", "alice/third"] {
        assert_eq!(w.hooks(r).len(), 1, "{r}");
    }

    let removed = ok(w.admin.unlink_repository(&pid, &repo.id).await).data;
    assert_eq!(removed.id, repo.id);
    assert!(removed.webhook_deleted);
    assert!(w.hooks(REPO).is_empty());
    assert_eq!(
        ok(w.admin.list_linked_repositories(&pid).await).data.len(),
        2
    );
    // the same repository again: 404
    err(
        w.admin.unlink_repository(&pid, &repo.id).await,
        404,
        paca_github_client::types::ErrorCode::GithubRepositoryNotFound,
    );

    let gone = ok(w.admin.delete_token(&pid).await).data;
    assert!(gone.removed);
    assert_eq!(gone.webhooks_deleted, 2);
    assert!(gone.webhook_failures.is_empty());
    for r in ["alice/second", "alice/third"] {
        assert!(w.hooks(r).is_empty(), "{r}");
    }
    assert!(!ok(w.admin.get_integration(&pid).await).data.connected);
    assert!(
        ok(w.admin.list_linked_repositories(&pid).await)
            .data
            .is_empty()
    );
    // deleting again is fine and reports nothing removed
    let again = ok(w.admin.delete_token(&pid).await).data;
    assert!(!again.removed);
    assert_eq!(again.webhooks_deleted, 0);
}
