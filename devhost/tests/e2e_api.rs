//! End-to-end: each of the 13 operations' success and main error paths, the host's
//! permission middlewares in front of them, and DB-sourced nonces, through HTTP → devhost →
//! github.wasm → PostgreSQL / fake GitHub.

mod support;
use fake_github::{FaultAction, FaultRule};
use paca_github_client::types::{ErrorCode as E, WebhookOutcomeKind};
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn integration_and_token_operations() {
    let w = World::start().await;
    let pid = w.p.id;

    // getIntegration before anything
    let i = ok(w.admin.get_integration(&pid).await).data;
    assert_eq!(i.project_id, pid);
    assert!(!i.connected && i.created_at.is_none());

    // setToken: blank → 400; unknown token → 422
    err(
        w.admin.set_token(&pid, &token_body("   ")).await,
        400,
        E::BadRequest,
    );
    err(
        w.admin.set_token(&pid, &token_body("ghp_unknown")).await,
        422,
        E::GithubInvalidToken,
    );
    // rate limited (primary: 403 + X-RateLimit-Remaining: 0) → 429
    w.gh.inject_fault(
        FaultRule::new(
            "/user",
            FaultAction::RateLimit {
                reset_after_secs: 60,
            },
        )
        .times(1),
    );
    err(
        w.admin.set_token(&pid, &token_body(GH_TOKEN)).await,
        429,
        E::GithubRateLimited,
    );
    // dropped connection → 502
    w.gh.inject_fault(FaultRule::new("/user", FaultAction::Drop).times(1));
    err(
        w.admin.set_token(&pid, &token_body(GH_TOKEN)).await,
        502,
        E::GithubUnavailable,
    );
    assert!(!ok(w.admin.get_integration(&pid).await).data.connected);
    assert_eq!(w.count("github_integrations").await, 0);

    // success, then the token is revoked on GitHub → 422 on the next use and on re-setting it
    let set = ok(w.admin.set_token(&pid, &token_body(GH_TOKEN)).await).data;
    assert!(set.connected && set.created_at.is_some());
    let stored: String = sqlx::query_scalar(
        "SELECT access_token_enc FROM plugin_data_com_paca_github.github_integrations",
    )
    .fetch_one(w.host.pool())
    .await
    .unwrap();
    assert!(!stored.contains(GH_TOKEN), "the token is stored encrypted");
    w.gh.revoke_token(GH_TOKEN);
    err(
        w.admin.list_accessible_repositories(&pid, None, None).await,
        422,
        E::GithubInvalidToken,
    );
    err(
        w.admin.set_token(&pid, &token_body(GH_TOKEN)).await,
        422,
        E::GithubInvalidToken,
    );
    // replacing with a valid token works and keeps the integration
    w.gh.seed_user(GH_USER, "ghp_alice_new");
    let again = ok(w.admin.set_token(&pid, &token_body("ghp_alice_new")).await).data;
    assert_eq!(again.created_at, set.created_at);
    assert_eq!(w.count("github_integrations").await, 1);

    // deleteToken without repositories, and for a project without integration
    let gone = ok(w.admin.delete_token(&pid).await).data;
    assert!(gone.removed);
    assert_eq!(gone.webhooks_deleted, 0);
    let none = ok(w.admin.delete_token(&w.other.id).await).data;
    assert!(!none.removed);
}

#[tokio::test]
async fn repository_operations_and_their_errors() {
    let w = World::start().await;
    let pid = w.p.id;

    // nothing connected → 404 on GitHub-backed routes, empty list on the local one
    err(
        w.admin.list_accessible_repositories(&pid, None, None).await,
        404,
        E::GithubIntegrationNotFound,
    );
    err(
        w.admin
            .link_repository(&pid, &link_body(GH_USER, "app"))
            .await,
        404,
        E::GithubIntegrationNotFound,
    );
    assert!(
        ok(w.admin.list_linked_repositories(&pid).await)
            .data
            .is_empty()
    );
    w.connect(pid).await;

    // listAccessibleRepositories: defaults, secondary rate limit → 429, GitHub 500 → 502
    let page = ok(w.admin.list_accessible_repositories(&pid, None, None).await).data;
    assert_eq!((page.page, page.per_page, page.next_page), (1, 30, None));
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].full_name, REPO);
    w.gh.inject_fault(
        FaultRule::new(
            "/user/repos",
            FaultAction::SecondaryRateLimit {
                retry_after_secs: 7,
                status: None,
            },
        )
        .times(1),
    );
    let msg = err(
        w.admin.list_accessible_repositories(&pid, None, None).await,
        429,
        E::GithubRateLimited,
    );
    assert!(msg.contains('7'), "{msg}");
    w.gh.inject_fault(
        FaultRule::new(
            "/user/repos",
            FaultAction::Status {
                status: 500,
                message: None,
            },
        )
        .times(1),
    );
    err(
        w.admin.list_accessible_repositories(&pid, None, None).await,
        502,
        E::GithubUnavailable,
    );
    // out-of-range query → 400 (the client cannot send it)
    let (s, body) = w
        .raw(
            "GET",
            &format!("projects/{pid}/github/repositories?per_page=101"),
            Some("dev-admin"),
            None,
        )
        .await;
    assert_eq!((s, body["error_code"].as_str()), (400, Some("BAD_REQUEST")));

    // linkRepository: invalid name → 400, unknown repo → 422, hook creation fails → 502
    err(
        w.admin
            .link_repository(&pid, &link_body(GH_USER, "bad name!"))
            .await,
        400,
        E::InvalidRepositoryName,
    );
    err(
        w.admin
            .link_repository(&pid, &link_body(GH_USER, "missing"))
            .await,
        422,
        E::GithubRepoNotAccessible,
    );
    w.gh.inject_fault(
        FaultRule::new(
            "/repos/alice/app/hooks",
            FaultAction::Status {
                status: 500,
                message: None,
            },
        )
        .method("POST")
        .times(1),
    );
    let (s, body) = w
        .raw(
            "POST",
            &format!("projects/{pid}/github/linked-repositories"),
            Some("dev-admin"),
            Some(json!({"owner": GH_USER, "repo_name": "app"})),
        )
        .await;
    assert_eq!(s, 502, "{body}");
    assert!(w.hooks(REPO).is_empty());
    assert_eq!(w.count("github_repositories").await, 0);

    // success, then 409 for the same repository (any case)
    let repo = w.link(pid, REPO).await;
    assert_eq!(w.hooks(REPO).len(), 1);
    err(
        w.admin
            .link_repository(&pid, &link_body("Alice", "App"))
            .await,
        409,
        E::GithubRepoAlreadyLinked,
    );
    assert_eq!(w.hooks(REPO).len(), 1);

    // renamed on GitHub since it was linked: the new name is the same repository (same id), so
    // it is refused too, and the webhook created for the attempt is removed again
    w.gh.with_state(|st| {
        let id = st.repo_by_full_name(REPO).expect("repo");
        st.repos.get_mut(&id).expect("repo").name = "app-renamed".into();
    });
    let renamed = format!("{GH_USER}/app-renamed");
    err(
        w.admin
            .link_repository(&pid, &link_body(GH_USER, "app-renamed"))
            .await,
        409,
        E::GithubRepoAlreadyLinked,
    );
    w.gh.settle().await;
    assert_eq!(
        w.hooks(&renamed).len(),
        1,
        "only the original webhook remains"
    );
    assert_eq!(w.count("github_repositories").await, 1);
    w.gh.with_state(|st| {
        let id = st.repo_by_full_name(&renamed).expect("repo");
        st.repos.get_mut(&id).expect("repo").name = "app".into();
    });

    // the same repository linked to the other project too: separate hook, separate ids
    w.connect(w.other.id).await;
    let other_repo = w.link(w.other.id, REPO).await;
    assert_eq!(w.hooks(REPO).len(), 2);
    // unlinkRepository of another project's repository → 404, nothing removed
    err(
        w.admin.unlink_repository(&pid, &other_repo.id).await,
        404,
        E::GithubRepositoryNotFound,
    );
    assert_eq!(w.hooks(REPO).len(), 2);
    let removed = ok(w.admin.unlink_repository(&pid, &repo.id).await).data;
    assert!(removed.webhook_deleted && removed.webhook_error.is_none());
    let hooks = w.hooks(REPO);
    assert_eq!(hooks.len(), 1);
    assert!(hooks[0].url.contains(&w.other.id.to_string()));

    // a webhook fault while unlinking is reported, the link is still removed
    w.gh.inject_fault(FaultRule::new("/repos/alice/app/hooks/", FaultAction::Drop).prefix());
    let removed = ok(w.admin.unlink_repository(&w.other.id, &other_repo.id).await).data;
    assert!(!removed.webhook_deleted);
    assert!(removed.webhook_error.is_some());
    assert_eq!(w.count("github_repositories").await, 0);
}

#[tokio::test]
async fn task_operations_and_their_errors() {
    let w = World::start().await;
    let pid = w.p.id;
    let (t1, t2) = (w.p.task1, w.p.task2);
    // before anything: empty lists, 404 GitHub-backed writes
    assert!(w.prs(pid, t1).await.is_empty());
    assert!(w.branches(pid, t1).await.is_empty());
    err(
        w.member
            .create_branch(&pid, &t1, &branch_body(uuid::Uuid::nil(), "feat/x", None))
            .await,
        404,
        E::GithubIntegrationNotFound,
    );
    let repo = w.connected_with_repo().await;
    w.connect(w.other.id).await;
    let other_repo = w.link(w.other.id, REPO).await;

    // IDOR: the other project's task through this project's path → 404 TASK_NOT_FOUND
    let ot = w.other.task1;
    err(
        w.admin.list_task_pull_requests(&pid, &ot).await,
        404,
        E::TaskNotFound,
    );
    err(
        w.admin.list_task_branches(&pid, &ot).await,
        404,
        E::TaskNotFound,
    );
    err(
        w.member
            .link_pull_request(&pid, &ot, &pr_body(repo.id, 1))
            .await,
        404,
        E::TaskNotFound,
    );
    err(
        w.member
            .create_branch(&pid, &ot, &branch_body(repo.id, "feat/PROJ-1-idor", None))
            .await,
        404,
        E::TaskNotFound,
    );
    // … and the other project's repository → 404 GITHUB_REPOSITORY_NOT_FOUND
    err(
        w.member
            .create_branch(
                &pid,
                &t1,
                &branch_body(other_repo.id, "feat/PROJ-1-r", None),
            )
            .await,
        404,
        E::GithubRepositoryNotFound,
    );
    err(
        w.member
            .link_pull_request(&pid, &t1, &pr_body(other_repo.id, 1))
            .await,
        404,
        E::GithubRepositoryNotFound,
    );
    assert!(
        !w.gh
            .repo(REPO)
            .unwrap()
            .branches
            .contains_key("feat/PROJ-1-r")
    );

    // createBranch: invalid name → 400, existing → 409, unknown source → 404, from a source
    for bad in ["a..b", "bad name", "feat/x.lock", "-x", "x~1"] {
        err(
            w.member
                .create_branch(&pid, &t1, &branch_body(repo.id, bad, None))
                .await,
            400,
            E::InvalidBranchName,
        );
    }
    err(
        w.member
            .create_branch(&pid, &t1, &branch_body(repo.id, "develop", None))
            .await,
        409,
        E::GithubBranchAlreadyExists,
    );
    err(
        w.member
            .create_branch(&pid, &t1, &branch_body(repo.id, "feat/y", Some("nope")))
            .await,
        404,
        E::GithubBranchNotFound,
    );
    let b = ok(w
        .member
        .create_branch(&pid, &t1, &branch_body(repo.id, "feat/y", Some("develop")))
        .await)
    .data;
    w.gh.settle().await;
    let fake = w.gh.repo(REPO).unwrap();
    assert_eq!(fake.branches.get("feat/y"), fake.branches.get("develop"));
    assert_eq!(b.repo_full_name, REPO);
    assert_eq!(b.html_url, "https://github.com/alice/app/tree/feat/y");
    assert_eq!(w.branches(pid, t1).await.len(), 1);
    // GitHub faults on the ref creation
    w.gh.inject_fault(
        FaultRule::new(
            "/repos/alice/app/git/refs",
            FaultAction::RateLimit {
                reset_after_secs: 30,
            },
        )
        .times(1),
    );
    err(
        w.member
            .create_branch(&pid, &t1, &branch_body(repo.id, "feat/z", None))
            .await,
        429,
        E::GithubRateLimited,
    );
    w.gh.inject_fault(FaultRule::new("/repos/alice/app/git/refs", FaultAction::Drop).times(1));
    err(
        w.member
            .create_branch(&pid, &t1, &branch_body(repo.id, "feat/z", None))
            .await,
        502,
        E::GithubUnavailable,
    );
    assert_eq!(w.branches(pid, t1).await.len(), 1);

    // linkPullRequest: a PR that names no task is not auto-linked; link it by hand
    w.gh.add_branch(REPO, "misc", None).unwrap();
    let pr = w.gh.open_pr(REPO, "misc", "main", "Misc").await.unwrap();
    let number = pr.value.number as u32;
    assert!(w.prs(pid, t1).await.is_empty());
    let before = w.host.emitted_events().len();
    let linked = ok(w
        .member
        .link_pull_request(&pid, &t1, &pr_body(repo.id, number))
        .await)
    .data;
    assert_eq!(linked.pr_number as u32, number);
    assert_eq!(linked.title, "Misc");
    assert_eq!(linked.author, GH_USER);
    let events = w.host.emitted_events();
    assert_eq!(events.len(), before + 1);
    assert_eq!(events[before].topic, "github.pr_linked");
    assert_eq!(events[before].payload["task_id"], t1.to_string());
    err(
        w.member
            .link_pull_request(&pid, &t1, &pr_body(repo.id, number))
            .await,
        409,
        E::GithubPrAlreadyLinked,
    );
    err(
        w.member
            .link_pull_request(&pid, &t1, &pr_body(repo.id, 999))
            .await,
        404,
        E::GithubPrNotFound,
    );
    // the same PR to the second task too; and into the other project (its own cache row)
    ok(w.member
        .link_pull_request(&pid, &t2, &pr_body(repo.id, number))
        .await);
    let foreign = ok(w
        .member
        .link_pull_request(&w.other.id, &w.other.task1, &pr_body(other_repo.id, number))
        .await)
    .data;
    assert_ne!(foreign.id, linked.id);
    // the stored token is revoked → 422; GitHub down → 502
    w.gh.inject_fault(
        FaultRule::new("/repos/alice/app/pulls/", FaultAction::Drop)
            .prefix()
            .times(1),
    );
    w.gh.add_branch(REPO, "misc2", None).unwrap();
    let pr2 = w.gh.open_pr(REPO, "misc2", "main", "Misc 2").await.unwrap();
    err(
        w.member
            .link_pull_request(&pid, &t1, &pr_body(repo.id, pr2.value.number as u32))
            .await,
        502,
        E::GithubUnavailable,
    );

    // unlinkPullRequest: 204, then 404; another project's PR id → 404
    let r = w.member.unlink_pull_request(&pid, &t1, &linked.id).await;
    assert_eq!(r.expect("unlink").status().as_u16(), 204);
    err(
        w.member.unlink_pull_request(&pid, &t1, &linked.id).await,
        404,
        E::GithubPrLinkNotFound,
    );
    err(
        w.member.unlink_pull_request(&pid, &t1, &foreign.id).await,
        404,
        E::GithubPrLinkNotFound,
    );
    err(
        w.member.unlink_pull_request(&pid, &ot, &foreign.id).await,
        404,
        E::TaskNotFound,
    );
    assert!(w.prs(pid, t1).await.is_empty());
    assert_eq!(
        w.prs(pid, t2).await.len(),
        1,
        "the other task keeps its link"
    );
    assert_eq!(w.prs(w.other.id, w.other.task1).await.len(), 1);

    w.gh.revoke_token(GH_TOKEN);
    err(
        w.member
            .link_pull_request(&pid, &t1, &pr_body(repo.id, number))
            .await,
        422,
        E::GithubInvalidToken,
    );
    err(
        w.member
            .create_branch(&pid, &t1, &branch_body(repo.id, "feat/after-revoke", None))
            .await,
        422,
        E::GithubInvalidToken,
    );
}

#[tokio::test]
async fn webhook_errors_and_anonymous_access() {
    let w = World::start().await;
    let pid = w.p.id;
    w.connected_with_repo().await;
    let repo_json = json!({"id": w.gh.repo(REPO).unwrap().id, "full_name": REPO});
    let ping = json!({"zen": "hi", "hook_id": 1, "repository": repo_json}).to_string();
    let secret = w.hooks(REPO)[0].secret.clone().expect("hook secret");
    let sig = fake_github::sign(secret.as_bytes(), ping.as_bytes());

    // correctly signed, anonymous, through the generated-client-free raw path
    let (s, body) = w
        .post_webhook(
            pid,
            &[
                ("X-GitHub-Event", "ping"),
                ("X-GitHub-Delivery", "d-1"),
                ("X-Hub-Signature-256", &sig),
            ],
            &ping,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["data"]["outcome"], "processed");
    assert_eq!(body["data"]["delivery_id"], "d-1");

    // no signature, or not a signature at all → 401 (before any lookup)
    let wrong = fake_github::sign(b"not-the-secret", ping.as_bytes());
    for headers in [
        vec![
            ("X-GitHub-Event", "ping"),
            ("X-Hub-Signature-256", "sha1=x"),
        ],
        vec![("X-GitHub-Event", "ping")],
    ] {
        let (s, body) = w.post_webhook(pid, &headers, &ping).await;
        assert_eq!(
            (s, body["error_code"].as_str()),
            (401, Some("WEBHOOK_SIGNATURE_INVALID"))
        );
    }
    // a wrong signature gets the same answer as a repository that is not linked: 404
    let (s, body) = w
        .post_webhook(
            pid,
            &[
                ("X-GitHub-Event", "ping"),
                ("X-Hub-Signature-256", wrong.as_str()),
            ],
            &ping,
        )
        .await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (404, Some("WEBHOOK_REPOSITORY_NOT_FOUND"))
    );
    // a repository not linked to this project → 404 (the other project has none linked)
    let (s, body) = w
        .post_webhook(
            w.other.id,
            &[("X-GitHub-Event", "ping"), ("X-Hub-Signature-256", &sig)],
            &ping,
        )
        .await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (404, Some("WEBHOOK_REPOSITORY_NOT_FOUND"))
    );
    let unknown = json!({"repository": {"id": 424242, "full_name": "alice/unknown"}}).to_string();
    let (s, body) = w
        .post_webhook(
            pid,
            &[("X-GitHub-Event", "ping"), ("X-Hub-Signature-256", &sig)],
            &unknown,
        )
        .await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (404, Some("WEBHOOK_REPOSITORY_NOT_FOUND"))
    );
    // not a GitHub delivery → 400
    let (s, _) = w.post_webhook(pid, &[], &ping).await;
    assert_eq!(s, 400);
    // an unsubscribed event, correctly signed → ignored
    let (s, body) = w
        .post_webhook(
            pid,
            &[
                ("X-GitHub-Event", "check_run"),
                ("X-Hub-Signature-256", &sig),
            ],
            &ping,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["data"]["outcome"], "ignored");
    // wrong method on the webhook path → not a route
    let (s, _) = w
        .raw("GET", &format!("projects/{pid}/webhook"), None, None)
        .await;
    assert!(s == 404 || s == 405, "{s}");
    assert!(w.host.emitted_events().is_empty());

    // the generated client also reaches the webhook anonymously
    let map: serde_json::Map<String, Value> = serde_json::from_str(&ping).unwrap();
    let r = w.anon.receive_webhook(&pid, &map).await;
    status(r, 400); // no X-GitHub-Event from the typed client
    let _ = WebhookOutcomeKind::Processed;
}

#[tokio::test]
async fn permissions_of_members_viewers_and_anonymous() {
    let w = World::start().await;
    let pid = w.p.id;
    let repo = w.connected_with_repo().await;
    let t1 = w.p.task1;
    let r = repo.id;
    let nil = uuid::Uuid::nil();
    let branch = |name: &str| json!({"repo_id": r, "branch_name": name});
    // (method, path, body, needs): "manage" = github:manage, "read"/"write" = tasks:*
    let routes: Vec<(&str, String, Option<Value>, &str)> = vec![
        ("GET", format!("projects/{pid}/github"), None, "read"),
        (
            "POST",
            format!("projects/{pid}/github/token"),
            Some(json!({"token": "x"})),
            "manage",
        ),
        (
            "DELETE",
            format!("projects/{pid}/github/token"),
            None,
            "manage",
        ),
        (
            "GET",
            format!("projects/{pid}/github/repositories"),
            None,
            "manage",
        ),
        (
            "GET",
            format!("projects/{pid}/github/linked-repositories"),
            None,
            "read",
        ),
        (
            "POST",
            format!("projects/{pid}/github/linked-repositories"),
            Some(json!({"owner": GH_USER, "repo_name": "app"})),
            "manage",
        ),
        (
            "DELETE",
            format!("projects/{pid}/github/linked-repositories/{r}"),
            None,
            "manage",
        ),
        (
            "GET",
            format!("projects/{pid}/tasks/{t1}/github/pull-requests"),
            None,
            "read",
        ),
        (
            "GET",
            format!("projects/{pid}/tasks/{t1}/github/branches"),
            None,
            "read",
        ),
        (
            "POST",
            format!("projects/{pid}/tasks/{t1}/github/pull-requests"),
            Some(json!({"repo_id": r, "pr_number": 999})),
            "write",
        ),
        (
            "DELETE",
            format!("projects/{pid}/tasks/{t1}/github/pull-requests/{nil}"),
            None,
            "write",
        ),
        (
            "POST",
            format!("projects/{pid}/tasks/{t1}/github/branches"),
            Some(branch("a..b")),
            "write",
        ),
    ];
    for (method, path, body, needs) in &routes {
        let call = |who: Option<&'static str>| w.raw(method, path, who, body.clone());
        // anonymous → 401, stale password → 403, before the plugin runs
        let (s, b) = call(None).await;
        assert_eq!(s, 401, "anonymous {method} {path}: {b}");
        let (s, b) = call(Some("dev-stale-password")).await;
        assert_eq!(s, 403, "stale {method} {path}: {b}");
        for (who, allowed) in [
            ("dev-member", *needs != "manage"),
            ("dev-viewer", *needs == "read"),
        ] {
            let (s, b) = call(Some(who)).await;
            if allowed {
                assert_ne!(s, 401, "{who} {method} {path}: {b}");
                assert_ne!(s, 403, "{who} {method} {path}: {b}");
                assert!(b["success"].as_bool().is_some(), "plugin answered: {b}");
            } else {
                assert_eq!(s, 403, "{who} {method} {path}: {b}");
            }
        }
    }
    // nothing the refused calls could have changed did change
    assert_eq!(w.hooks(REPO).len(), 1);
    assert_eq!(w.count("github_integrations").await, 1);
    assert_eq!(w.count("github_repositories").await, 1);

    // the typed client as dev-member: task routes succeed end to end
    assert!(
        ok(w.member.list_task_pull_requests(&pid, &t1).await)
            .data
            .is_empty()
    );
    ok(w.member
        .create_branch(&pid, &t1, &branch_body(r, "feat/PROJ-1-m", None))
        .await);
    w.gh.settle().await;
    assert_eq!(
        ok(w.viewer.list_task_branches(&pid, &t1).await).data.len(),
        1
    );
    // the host refuses with its own error shape, which the client reports as such
    assert!(w.member.delete_token(&pid).await.is_err());
    assert!(w.anon.list_task_branches(&pid, &t1).await.is_err());

    // a project the path names but the caller is no member of → 403
    let (s, _) = w
        .raw(
            "GET",
            &format!("projects/5f0c6a52-93d4-4d7e-9a1b-3c2d1e0f4a5b/tasks/{t1}/github/branches"),
            Some("dev-member"),
            None,
        )
        .await;
    assert_eq!(s, 403);
}

/// The task section's reads (integration status, linked repositories) need only `tasks:read`,
/// so a member can use the whole task section and a viewer can see it; changing the
/// integration stays with `github:manage`.
#[tokio::test]
async fn task_section_works_per_role_and_only_managers_change_the_integration() {
    let w = World::start().await;
    let pid = w.p.id;
    let t1 = w.p.task1;
    let repo = w.connected_with_repo().await;

    for (who, client) in [("member", &w.member), ("viewer", &w.viewer)] {
        let status = ok(client.get_integration(&pid).await).data;
        assert!(status.connected, "{who}");
        let repos = ok(client.list_linked_repositories(&pid).await).data;
        assert_eq!(
            repos.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![repo.id],
            "{who}"
        );
        assert_eq!(repos[0].full_name, REPO, "{who}");
    }

    // member: create a branch in the repository it just listed, link and unlink a PR
    let repo_id = ok(w.member.list_linked_repositories(&pid).await).data[0].id;
    let branch = ok(w
        .member
        .create_branch(&pid, &t1, &branch_body(repo_id, "feat/PROJ-1-member", None))
        .await)
    .data;
    assert_eq!(branch.branch_name, "feat/PROJ-1-member");
    assert!(
        w.gh.repo(REPO)
            .unwrap()
            .branches
            .contains_key("feat/PROJ-1-member")
    );
    w.gh.settle().await;
    let spike =
        w.gh.open_pr(REPO, "develop", "main", "Unrelated")
            .await
            .unwrap();
    let linked = ok(w
        .member
        .link_pull_request(&pid, &t1, &pr_body(repo_id, spike.value.number as u32))
        .await)
    .data;
    assert!(
        ok(w.viewer.list_task_pull_requests(&pid, &t1).await)
            .data
            .iter()
            .any(|p| p.id == linked.id)
    );
    ok(w.member.unlink_pull_request(&pid, &t1, &linked.id).await);

    // the viewer reads but cannot write; neither can manage
    status(
        w.viewer
            .create_branch(&pid, &t1, &branch_body(repo_id, "feat/PROJ-1-viewer", None))
            .await,
        403,
    );
    for client in [&w.member, &w.viewer] {
        status(client.set_token(&pid, &token_body(GH_TOKEN)).await, 403);
        status(client.delete_token(&pid).await, 403);
        status(
            client.list_accessible_repositories(&pid, None, None).await,
            403,
        );
        status(
            client
                .link_repository(&pid, &link_body(GH_USER, "app"))
                .await,
            403,
        );
        status(client.unlink_repository(&pid, &repo_id).await, 403);
    }
    assert_eq!(w.count("github_repositories").await, 1);
    assert_eq!(w.hooks(REPO).len(), 1);
    assert!(
        !w.gh
            .repo(REPO)
            .unwrap()
            .branches
            .contains_key("feat/PROJ-1-viewer")
    );

    // the reads stay scoped: a project the caller is not a member of, and anonymous callers
    for path in ["github", "github/linked-repositories"] {
        let (s, _) = w
            .raw(
                "GET",
                &format!("projects/5f0c6a52-93d4-4d7e-9a1b-3c2d1e0f4a5b/{path}"),
                Some("dev-member"),
                None,
            )
            .await;
        assert_eq!(s, 403, "{path}");
        let (s, _) = w
            .raw("GET", &format!("projects/{pid}/{path}"), None, None)
            .await;
        assert_eq!(s, 401, "{path}");
        // another project's repositories never show through this project's id
        let (s, b) = w
            .raw(
                "GET",
                &format!("projects/{}/{path}", w.other.id),
                Some("dev-member"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{path}: {b}");
        assert!(!b.to_string().contains(REPO), "{path}: {b}");
    }
}

/// Fresh wasm instances share the deterministic WASI random source; the plugin draws nonces
/// from the database, so two installations never reuse a nonce.
#[tokio::test]
async fn nonces_come_from_the_database_not_wasi_random() {
    let mut stored = Vec::new();
    for _ in 0..2 {
        let w = World::start().await;
        w.connect(w.p.id).await;
        let enc: String = sqlx::query_scalar(
            "SELECT access_token_enc FROM plugin_data_com_paca_github.github_integrations",
        )
        .fetch_one(w.host.pool())
        .await
        .unwrap();
        stored.push(enc);
        w.host.shutdown().await;
    }
    let (a, b) = (&stored[0], &stored[1]);
    assert!(a.len() > 24 && b.len() > 24, "{a} {b}");
    assert_ne!(&a[..24], &b[..24], "12-byte nonce prefixes must differ");
    assert_ne!(a, b, "ciphertexts must differ");
}
