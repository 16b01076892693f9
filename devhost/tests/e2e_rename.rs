//! End-to-end: repositories renamed or transferred on GitHub. The fake answers the old name
//! with GitHub's redirects; the plugin reconciles its rows by GitHub's repository id from the
//! next signed delivery, so every route shows the new name.

mod support;
use fake_github::RepoSeed;
use support::*;

/// What every route says the repository of `w.p` is called.
async fn names_everywhere(w: &World) -> Vec<String> {
    let pid = w.p.id;
    let mut names = Vec::new();
    for r in ok(w.admin.list_linked_repositories(&pid).await).data {
        names.push(r.full_name.clone());
        names.push(format!("{}/{}", r.owner, r.repo_name));
        names.push(
            r.html_url
                .trim_start_matches("https://github.com/")
                .to_string(),
        );
    }
    for pr in w.prs(pid, w.p.task1).await {
        names.push(pr.repo_full_name);
    }
    for b in w.branches(pid, w.p.task1).await {
        names.push(b.repo_full_name.clone());
        let tree = b.html_url.trim_start_matches("https://github.com/");
        names.push(tree.split("/tree/").next().unwrap_or_default().to_string());
    }
    names.sort();
    names.dedup();
    names
}

#[tokio::test]
async fn rename_then_delivery_updates_every_route() {
    let w = World::start().await;
    let repo = w.connected_with_repo().await;
    let (pid, t1) = (w.p.id, w.p.task1);
    ok(w.admin
        .create_branch(&pid, &t1, &branch_body(repo.id, "feat/PROJ-1-a", None))
        .await);
    w.gh.settle().await;
    w.gh.rename_repo(REPO, "app2").unwrap();
    // GitHub-style redirect for the old name
    let old = w
        .http
        .get(format!("{}/repos/alice/app", w.gh.base_url()))
        .header("Authorization", format!("Bearer {GH_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(old.url().path(), "/repos/alice/app2", "redirect followed");
    // a commit on the branch (a PR needs one); its push is the first delivery after the rename
    w.gh.push_branch("alice/app2", "feat/PROJ-1-a")
        .await
        .unwrap();
    let out =
        w.gh.open_pr("alice/app2", "feat/PROJ-1-a", "main", "PROJ-1 after rename")
            .await
            .unwrap();
    assert_eq!(
        out.deliveries[0].status,
        Some(200),
        "{}",
        out.deliveries[0].response_body
    );
    assert_eq!(names_everywhere(&w).await, ["alice/app2"]);
    // API calls after the rename use the new name
    let made = ok(w
        .admin
        .create_branch(&pid, &t1, &branch_body(repo.id, "feat/PROJ-1-b", None))
        .await)
    .data;
    assert_eq!(made.repo_full_name, "alice/app2");
}

#[tokio::test]
async fn transfer_then_delivery_updates_every_route() {
    let w = World::start().await;
    let repo = w.connected_with_repo().await;
    let (pid, t1) = (w.p.id, w.p.task1);
    w.gh.transfer_repo(REPO, "bob").unwrap();
    w.gh.add_collaborator("bob/app", GH_USER).unwrap();
    // before any delivery the row still has the old name: the old name redirects (307 for a
    // POST), so creating a branch works, and its push delivery renames the row
    let made = ok(w
        .admin
        .create_branch(&pid, &t1, &branch_body(repo.id, "feat/PROJ-1-moved", None))
        .await)
    .data;
    assert_eq!(made.branch_name, "feat/PROJ-1-moved");
    assert!(
        w.gh.repo("bob/app")
            .unwrap()
            .branches
            .contains_key("feat/PROJ-1-moved")
    );
    w.gh.settle().await;
    let push = w.gh.deliveries_of("push");
    assert_eq!(push.last().unwrap().status, Some(200), "{push:?}");
    assert_eq!(names_everywhere(&w).await, ["bob/app"]);
    let listed = ok(w.admin.list_linked_repositories(&pid).await).data;
    assert_eq!(
        (listed[0].owner.as_str(), listed[0].repo_name.as_str()),
        ("bob", "app")
    );
}

#[tokio::test]
async fn a_row_without_github_id_is_found_and_backfilled_by_a_signed_delivery() {
    let w = World::start().await;
    let repo = w.connected_with_repo().await;
    let pid = w.p.id;
    // a row linked before the id was stored
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {SCHEMA}.github_repositories SET github_repo_id = NULL WHERE id = $1::uuid"
    )))
    .bind(repo.id.to_string())
    .execute(w.host.pool())
    .await
    .unwrap();
    w.gh.rename_repo(REPO, "renamed").unwrap();
    w.gh.add_branch("alice/renamed", "feat/PROJ-1-c", None)
        .unwrap();
    let out =
        w.gh.open_pr("alice/renamed", "feat/PROJ-1-c", "main", "x")
            .await
            .unwrap();
    assert_eq!(
        out.deliveries[0].status,
        Some(200),
        "{}",
        out.deliveries[0].response_body
    );
    let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT github_repo_id FROM {SCHEMA}.github_repositories WHERE id = $1::uuid"
    )))
    .bind(repo.id.to_string())
    .fetch_one(w.host.pool())
    .await
    .unwrap();
    assert_eq!(id, Some(w.gh.repo("alice/renamed").unwrap().id as i64));
    assert_eq!(names_everywhere(&w).await, ["alice/renamed"]);
    let _ = pid;
}

#[tokio::test]
async fn relink_after_rename_links_the_new_repository_under_the_old_name() {
    let w = World::start().await;
    let old = w.connected_with_repo().await;
    let pid = w.p.id;
    w.gh.rename_repo(REPO, "app-old").unwrap();
    // a new repository takes the old name (this ends GitHub's redirect)
    w.gh.add_repo(RepoSeed::new(GH_USER, "app")).unwrap();
    let new = w.link(pid, REPO).await;
    assert_ne!(new.id, old.id);
    assert_eq!(new.full_name, REPO);
    assert_eq!(w.hooks(REPO).len(), 1);
    assert_eq!(w.hooks("alice/app-old").len(), 1);
    // the old row learns its new name from its next delivery
    w.gh.push_branch("alice/app-old", "feat/PROJ-2-z")
        .await
        .unwrap();
    w.gh.settle().await;
    let mut names: Vec<String> = ok(w.admin.list_linked_repositories(&pid).await)
        .data
        .into_iter()
        .map(|r| r.full_name)
        .collect();
    names.sort();
    assert_eq!(names, ["alice/app", "alice/app-old"]);
    // linking either again is a conflict, not a second hook
    err(
        w.admin
            .link_repository(&pid, &link_body(GH_USER, "app-old"))
            .await,
        409,
        paca_github_client::types::ErrorCode::GithubRepoAlreadyLinked,
    );
    assert_eq!(w.hooks("alice/app-old").len(), 1);
}
