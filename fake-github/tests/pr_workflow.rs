//! The pull-request workflow surface: create (and "already exists"), list by head, diff,
//! comments, reviews, check runs and commit statuses, with faults and the control API.

mod common;

use common::{client, get, post, world};
use fake_github::{FaultAction, FaultRule};
use serde_json::{Value, json};

async fn open(gh: &fake_github::FakeGithubHandle) -> Value {
    let resp = post(
        gh,
        "/repos/alice/app/pulls",
        json!({"title": "Add feature", "head": "feature", "base": "main", "body": "Body", "draft": true}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn create_then_already_exists_then_find_by_head() {
    let gh = world().await;
    let pr = open(&gh).await;
    assert_eq!(
        (pr["number"].clone(), pr["draft"].clone()),
        (json!(1), json!(true))
    );
    assert_eq!(pr["mergeable_state"], "clean");
    assert_eq!(
        (pr["additions"].clone(), pr["changed_files"].clone()),
        (json!(1), json!(1))
    );
    let again = post(
        &gh,
        "/repos/alice/app/pulls",
        json!({"title": "x", "head": "feature", "base": "main"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(again.status(), 422);
    let body: Value = again.json().await.unwrap();
    assert!(
        body.to_string().contains("A pull request already exists"),
        "{body}"
    );

    let found: Value = get(
        &gh,
        "/repos/alice/app/pulls?state=open&head=alice:feature&base=main",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["number"], 1);
    for query in [
        "head=alice:other",
        "head=bob:feature",
        "base=develop",
        "state=closed",
    ] {
        let none: Value = get(&gh, &format!("/repos/alice/app/pulls?{query}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(none, json!([]), "{query}");
    }
}

#[tokio::test]
async fn diff_media_type_returns_the_diff() {
    let gh = world().await;
    open(&gh).await;
    let diff = |gh: &fake_github::FakeGithubHandle| {
        get(gh, "/repos/alice/app/pulls/1").header("Accept", "application/vnd.github.diff")
    };
    let text = diff(&gh).send().await.unwrap().text().await.unwrap();
    assert!(
        text.starts_with("diff --git a/README.md") && text.contains("+Add feature"),
        "{text}"
    );
    gh.set_pr_diff("alice/app", 1, "diff --git a/x b/x\n-a\n+b\n+c\n")
        .unwrap();
    assert_eq!(
        diff(&gh).send().await.unwrap().text().await.unwrap(),
        "diff --git a/x b/x\n-a\n+b\n+c\n"
    );
    let pr: Value = get(&gh, "/repos/alice/app/pulls/1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (pr["additions"].clone(), pr["deletions"].clone()),
        (json!(2), json!(1))
    );
}

#[tokio::test]
async fn comments_and_reviews_change_state() {
    let gh = world().await;
    open(&gh).await;
    let c = post(
        &gh,
        "/repos/alice/app/issues/1/comments",
        json!({"body": "Nice"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(c.status(), 201);
    let c: Value = c.json().await.unwrap();
    assert_eq!(
        (c["user"]["login"].clone(), c["body"].clone()),
        (json!("alice"), json!("Nice"))
    );
    let stored = gh.pull("alice/app", 1).unwrap().comments;
    assert_eq!((stored.len(), stored[0].id), (1, c["id"].as_u64().unwrap()));
    let missing = post(
        &gh,
        "/repos/alice/app/issues/9/comments",
        json!({"body": "x"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);

    // the author may not approve or request changes; a comment review needs a body
    for (body, status) in [
        (json!({"event": "APPROVE"}), 422),
        (json!({"event": "REQUEST_CHANGES", "body": "no"}), 422),
        (json!({"event": "COMMENT"}), 422),
        (json!({"event": "MERGE", "body": "x"}), 422),
        (json!({"event": "COMMENT", "body": "One nit"}), 200),
    ] {
        let r = post(&gh, "/repos/alice/app/pulls/1/reviews", body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{body}");
    }
    // another user with access may approve
    gh.seed_user("bob", "ghp_bob");
    gh.add_collaborator("alice/app", "bob").unwrap();
    let r: Value = client()
        .post(format!("{}/repos/alice/app/pulls/1/reviews", gh.base_url()))
        .bearer_auth("ghp_bob")
        .body(json!({"event": "APPROVE"}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["state"], "APPROVED");
    let reviews = gh.pull("alice/app", 1).unwrap().reviews;
    let states: Vec<(&str, &str)> = reviews
        .iter()
        .map(|r| (r.user.as_str(), r.state.as_str()))
        .collect();
    assert_eq!(states, [("alice", "COMMENTED"), ("bob", "APPROVED")]);
}

#[tokio::test]
async fn check_runs_and_statuses_set_through_the_control_api() {
    let gh = world().await;
    let sha = gh.repo("alice/app").unwrap().branches["feature"].clone();
    let runs = |gh: &fake_github::FakeGithubHandle, sha: String| {
        let url = format!("/repos/alice/app/commits/{sha}/check-runs");
        let gh = gh.base_url();
        async move {
            client()
                .get(format!("{gh}{url}"))
                .bearer_auth(common::TOKEN)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(runs(&gh, sha.clone()).await["total_count"], 0);
    gh.set_check_run("alice/app", "feature", "build", "in_progress", None)
        .unwrap();
    gh.set_check_run("alice/app", &sha, "build", "completed", Some("success"))
        .unwrap();
    let r = runs(&gh, sha.clone()).await;
    assert_eq!(r["total_count"], 1, "same name replaces: {r}");
    assert_eq!(
        (
            r["check_runs"][0]["status"].clone(),
            r["check_runs"][0]["conclusion"].clone()
        ),
        (json!("completed"), json!("success"))
    );

    let status =
        |gh: &fake_github::FakeGithubHandle| get(gh, "/repos/alice/app/commits/feature/status");
    let s: Value = status(&gh).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (s["state"].clone(), s["total_count"].clone()),
        (json!("pending"), json!(0))
    );
    // over HTTP too
    let set = client()
        .post(format!("{}/_control/repos/alice/app/statuses", gh.base_url()))
        .json(&json!({"ref": "feature", "context": "ci/lint", "state": "success", "target_url": "https://ci/1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 201);
    let s: Value = status(&gh).send().await.unwrap().json().await.unwrap();
    assert_eq!(s["state"], "success");
    assert_eq!(s["statuses"][0]["target_url"], "https://ci/1");
    gh.set_commit_status("alice/app", "feature", "ci/test", "failure", None)
        .unwrap();
    let s: Value = status(&gh).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (s["state"].clone(), s["total_count"].clone()),
        (json!("failure"), json!(2))
    );
    assert!(
        gh.set_commit_status("alice/app", "feature", "x", "green", None)
            .is_err()
    );
    let run = client()
        .post(format!(
            "{}/_control/repos/alice/app/check-runs",
            gh.base_url()
        ))
        .json(&json!({"ref": "feature", "name": "test", "status": "queued"}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 201);
    assert_eq!(runs(&gh, sha).await["total_count"], 2);
}

#[tokio::test]
async fn faults_apply_to_the_new_routes() {
    let gh = world().await;
    open(&gh).await;
    gh.inject_fault(
        FaultRule::new(
            "/repos/alice/app/issues/1/comments",
            FaultAction::Status {
                status: 502,
                message: None,
            },
        )
        .times(1),
    );
    let r = post(
        &gh,
        "/repos/alice/app/issues/1/comments",
        json!({"body": "x"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(
        gh.pull("alice/app", 1).unwrap().comments.len(),
        0,
        "a faulted call changes nothing"
    );
    gh.inject_fault(
        FaultRule::new(
            "/repos/alice/app/pulls/1/reviews",
            FaultAction::RateLimit {
                reset_after_secs: 60,
            },
        )
        .times(1),
    );
    let r = post(
        &gh,
        "/repos/alice/app/pulls/1/reviews",
        json!({"event": "COMMENT", "body": "x"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["x-ratelimit-remaining"].to_str().unwrap()
        ),
        (403, "0")
    );
    assert_eq!(gh.pull("alice/app", 1).unwrap().reviews.len(), 0);
    let ok = post(
        &gh,
        "/repos/alice/app/issues/1/comments",
        json!({"body": "x"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(ok.status(), 201, "the fault was used up");
}

#[tokio::test]
async fn clone_url_can_differ_from_html_url() {
    let gh = world().await;
    let repo: Value = get(&gh, "/repos/alice/app")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(repo["clone_url"], "https://github.com/alice/app.git");
    gh.set_clone_base(Some("https://git.corp.test"));
    let repo: Value = get(&gh, "/repos/alice/app")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(repo["clone_url"], "https://git.corp.test/alice/app.git");
    assert_eq!(repo["html_url"], "https://github.com/alice/app");
}
