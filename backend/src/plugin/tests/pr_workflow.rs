//! createPullRequest, getPullRequestDetails, getPullRequestCiStatus, commentOnPullRequest,
//! reviewPullRequest, linkBranch.

use crate::sql;
use std::sync::LazyLock;

use super::pull_requests::{
    CTX_COLUMNS, CTX_SQL, LINK_SQL, PR_COLUMNS, UPSERT_SQL, ctx_row, pr_row,
};
use super::*;
use crate::generated::api::ErrorCode::*;
use crate::generated::api::Operation::{self, *};
use crate::plugin::pr_workflow::{DIFF_MAX_BYTES, bound_diff};

static RESOLVE_SQL: LazyLock<String> = LazyLock::new(exact::<sql::ResolveLinkedPr>);
const RESOLVE_COLUMNS: &[&str] = &[
    "pr_id",
    "repo_id",
    "pr_number",
    "owner",
    "repo_name",
    "full_name",
    "access_token_enc",
];
static BRANCH_SQL: LazyLock<String> = LazyLock::new(exact::<sql::LinkCreatedBranch>);
const HEAD: &str = "1111111111111111111111111111111111111111";

fn resolved() -> Vec<Value> {
    vec![
        uuid(PR),
        uuid(REPO),
        json!(5),
        json!("acme"),
        json!("widgets"),
        json!("acme/widgets"),
        json!(token_enc()),
    ]
}

fn pulls_url() -> String {
    format!("{GH}/repos/acme/widgets/pulls")
}

fn pull_url() -> String {
    format!("{GH}/repos/acme/widgets/pulls/5")
}

fn details_json() -> Value {
    let mut p = github_pull(5, "open", "feat/PROJ-42-x", "Add auth");
    for (k, v) in [
        ("body", json!("Adds auth.")),
        ("draft", json!(true)),
        ("mergeable", json!(null)),
        ("mergeable_state", json!("unknown")),
        ("additions", json!(10)),
        ("deletions", json!(2)),
        ("changed_files", json!(3)),
    ] {
        p[k] = v;
    }
    p
}

/// Scripts the cache upsert returning the PR row, and the link insert (`linked` or not).
fn cache_and_link(h: &FakeHost, linked: bool) {
    h.on_query(&UPSERT_SQL, PR_COLUMNS, vec![pr_row(PR, 5, "open")]);
    let rows = if linked {
        vec![vec![uuid(LINK)]]
    } else {
        vec![]
    };
    h.on_query(&LINK_SQL, &["id"], rows);
}

/// A GitHub error response.
fn gh_err(status: u16, message: &str) -> FetchResponse {
    gh_json(status, json!({"message": message}))
}

/// The failures every GitHub call shares, as `(response, code)`.
fn shared_failures() -> Vec<(FetchResponse, ErrorCode)> {
    vec![
        (gh_err(401, "Bad credentials"), GithubInvalidToken),
        (
            gh_err(403, "Resource not accessible"),
            GithubTokenInsufficientPermissions,
        ),
        (
            gh_err(403, "API rate limit exceeded").with_header("X-RateLimit-Remaining", "0"),
            GithubRateLimited,
        ),
        (gh_err(500, "boom"), GithubUnavailable),
    ]
}

// ------------------------------------------------------------------ create

fn create_ready() -> FakeHost {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![ctx_row()]);
    h
}

#[test]
fn create_pull_request_opens_caches_links_and_emits() {
    let h = create_ready();
    h.on_fetch("POST", &pulls_url(), gh_json(201, details_json()));
    cache_and_link(&h, true);
    let mut r = sample(CreatePullRequest);
    r.body = json!({"title": " Add auth ", "head_branch": "refs/heads/feat/PROJ-42-x", "body": "Adds auth."})
        .to_string()
        .into_bytes();
    let reply = send(&h, r);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let data = reply.data();
    assert_eq!(
        (data["created"].clone(), data["linked"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(data["pull_request"]["id"], uuid(PR));
    let sent: Value = serde_json::from_str(&h.fetches()[0].body).unwrap();
    assert_eq!(
        sent,
        json!({"title": "Add auth", "head": "feat/PROJ-42-x", "base": "main", "draft": false, "body": "Adds auth."}),
        "base defaults to the repository's default branch"
    );
    assert_eq!(
        db_call(&h, &CTX_SQL).params,
        vec![uuid(TASK), uuid(PROJECT), uuid(REPO)]
    );
    assert_eq!(db_call(&h, &LINK_SQL).params, vec![uuid(TASK), uuid(PR)]);
    let emits = h.emits();
    assert_eq!(emits.len(), 1);
    assert_eq!(
        (emits[0].0.as_str(), emits[0].1["source"].clone()),
        ("github.pr_linked", json!("created"))
    );
    let c = h.calls();
    assert_eq!((c.db(), c.fetch, c.emit), (3, 1, 1));
    h.assert_all_consumed();
}

#[test]
fn create_pull_request_links_the_existing_one_when_github_says_it_exists() {
    let h = create_ready();
    h.on_fetch(
        "POST",
        &pulls_url(),
        gh_json(
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom",
                   "message": "A pull request already exists for acme:feat/PROJ-42-x."}]}),
        ),
    );
    h.on_fetch_json(
        "GET",
        &format!(
            "{}?state=open&head=acme:feat%2FPROJ-42-x&base=main&per_page=10",
            pulls_url()
        ),
        200,
        &json!([github_pull(5, "open", "feat/PROJ-42-x", "Add auth")]),
    );
    cache_and_link(&h, false);
    let reply = send(&h, sample(CreatePullRequest));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = reply.data();
    assert_eq!(
        (data["created"].clone(), data["linked"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(data["pull_request"]["pr_number"], json!(5));
    assert_eq!(h.emits(), vec![], "already linked: no event");
    assert_eq!((h.calls().fetch, h.calls().db()), (2, 3));
    h.assert_all_consumed();
}

#[test]
pub(super) fn create_pull_request_validation_before_any_call() {
    for (body, code) in [
        (json!({"title": "  ", "head_branch": "x"}), BadRequest),
        (json!({"head_branch": "x"}), BadRequest),
        (
            json!({"title": "t", "head_branch": "bad..name"}),
            InvalidBranchName,
        ),
        (
            json!({"title": "t", "head_branch": "ok", "base_branch": "no space"}),
            InvalidBranchName,
        ),
    ] {
        let h = host();
        let mut r = sample(CreatePullRequest);
        r.body = body.to_string().into_bytes();
        expect_err(&h, r, code);
        assert_eq!(h.calls().db() + h.calls().fetch, 0);
    }
}

#[test]
pub(super) fn create_pull_request_not_found_cases() {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![]);
    expect_err(&h, sample(CreatePullRequest), TaskNotFound);
    let h = host();
    let mut row = ctx_row();
    row[5] = Value::Null;
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![row]);
    expect_err(&h, sample(CreatePullRequest), GithubIntegrationNotFound);
    let h = host();
    let mut row = vec![Value::Null; CTX_COLUMNS.len()];
    row[5] = json!(token_enc());
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![row]);
    expect_err(&h, sample(CreatePullRequest), GithubRepositoryNotFound);
    assert_eq!(h.calls().fetch, 0);
}

#[test]
pub(super) fn create_pull_request_github_failures() {
    let mut cases = shared_failures();
    cases.push((gh_err(404, "Not Found"), GithubTokenInsufficientPermissions));
    cases.push((
        gh_json(422, json!({"message": "Validation Failed", "errors": [{"code": "custom", "message": "No commits between main and x"}]})),
        GithubPrValidationFailed,
    ));
    for (resp, code) in cases {
        let h = create_ready();
        h.on_fetch("POST", &pulls_url(), resp);
        let r = expect_err(&h, sample(CreatePullRequest), code);
        assert_no_side_effects(&h);
        if code == GithubPrValidationFailed {
            assert!(
                r.message().contains("No commits between"),
                "{}",
                r.message()
            );
        }
    }
    // "already exists" but nothing open into that base
    let h = create_ready();
    h.on_fetch(
        "POST",
        &pulls_url(),
        gh_err(422, "A pull request already exists for acme:x."),
    );
    h.on_fetch_json(
        "GET",
        &format!(
            "{}?state=open&head=acme:feat%2FPROJ-42-x&base=main&per_page=10",
            pulls_url()
        ),
        200,
        &json!([]),
    );
    expect_err(&h, sample(CreatePullRequest), GithubPrValidationFailed);
    assert_no_side_effects(&h);
}

// ------------------------------------------------------------------ resolve (shared)

/// The four PR routes and what each sends to GitHub first.
const PR_OPS: &[Operation] = &[
    GetPullRequestDetails,
    GetPullRequestCiStatus,
    CommentOnPullRequest,
    ReviewPullRequest,
];

fn first_call(op: Operation) -> (&'static str, String) {
    match op {
        GetPullRequestDetails | GetPullRequestCiStatus => ("GET", pull_url()),
        CommentOnPullRequest => ("POST", format!("{GH}/repos/acme/widgets/issues/5/comments")),
        _ => ("POST", format!("{}/reviews", pull_url())),
    }
}

#[test]
pub(super) fn pr_routes_resolve_the_link_inside_the_project_first() {
    for op in PR_OPS {
        // task of another project
        let h = host();
        h.on_query(&RESOLVE_SQL, RESOLVE_COLUMNS, vec![]);
        expect_err(&h, sample(*op), TaskNotFound);
        let q = db_call(&h, &RESOLVE_SQL);
        assert_eq!(q.params, vec![uuid(TASK), uuid(PROJECT), uuid(PR)]);
        assert!(
            q.sql.contains("pr.project_id = t.project_id")
                && q.sql.contains("r.project_id = t.project_id")
        );
        // not linked (or a PR of another project)
        let h = host();
        let mut row = vec![Value::Null; RESOLVE_COLUMNS.len()];
        row[6] = json!(token_enc());
        h.on_query(&RESOLVE_SQL, RESOLVE_COLUMNS, vec![row]);
        expect_err(&h, sample(*op), GithubPrLinkNotFound);
        // no token
        let h = host();
        let mut row = resolved();
        row[6] = Value::Null;
        h.on_query(&RESOLVE_SQL, RESOLVE_COLUMNS, vec![row]);
        expect_err(&h, sample(*op), GithubIntegrationNotFound);
        assert_eq!((h.calls().db(), h.calls().fetch), (1, 0), "{}", op.id());
        assert_no_side_effects(&h);
    }
}

#[test]
pub(super) fn pr_routes_map_github_failures() {
    for op in PR_OPS {
        let mut cases = shared_failures();
        cases.push((gh_err(404, "Not Found"), GithubPrNotFound));
        if matches!(op, CommentOnPullRequest | ReviewPullRequest) {
            cases.push((
                gh_err(
                    422,
                    "Unprocessable Entity: Can not approve your own pull request",
                ),
                GithubPrValidationFailed,
            ));
        }
        for (resp, code) in cases {
            let h = host();
            h.on_query(&RESOLVE_SQL, RESOLVE_COLUMNS, vec![resolved()]);
            let (method, url) = first_call(*op);
            h.on_fetch(method, &url, resp);
            expect_err(&h, sample(*op), code);
            assert_no_side_effects(&h);
            assert_eq!(h.calls().fetch, 1, "{} {}", op.id(), code.as_str());
        }
    }
}

// ------------------------------------------------------------------ details

#[test]
fn details_reads_github_refreshes_the_cache_and_bounds_the_diff() {
    let h = host();
    h.on_query(&RESOLVE_SQL, RESOLVE_COLUMNS, vec![resolved()]);
    h.on_fetch("GET", &pull_url(), gh_json(200, details_json()));
    let diff = "diff --git a/a b/a\n+x\n".repeat(20_000);
    h.on_fetch("GET", &pull_url(), FetchResponse::new(200, diff.clone()));
    h.on_query(&UPSERT_SQL, PR_COLUMNS, vec![pr_row(PR, 5, "open")]);
    let d = expect_ok(&h, sample(GetPullRequestDetails), 200);
    assert_eq!(
        h.fetches()[1].headers["Accept"],
        "application/vnd.github.diff"
    );
    assert_eq!(
        (
            d["title"].clone(),
            d["body"].clone(),
            d["draft"].clone(),
            d["mergeable"].clone()
        ),
        (
            json!("Add auth"),
            json!("Adds auth."),
            json!(true),
            Value::Null
        )
    );
    assert_eq!(
        (
            d["additions"].clone(),
            d["deletions"].clone(),
            d["changed_files"].clone()
        ),
        (json!(10), json!(2), json!(3))
    );
    assert_eq!(
        (d["head_sha"].clone(), d["author"].clone()),
        (json!(HEAD), json!("octocat"))
    );
    assert_eq!(d["diff_size"], json!(diff.len()));
    assert_eq!(d["diff_truncated"], json!(true));
    let shown = d["diff"].as_str().unwrap();
    assert!(shown.len() <= DIFF_MAX_BYTES && shown.ends_with('\n') && diff.starts_with(shown));
    let c = h.calls();
    assert_eq!((c.db(), c.fetch, c.emit), (2, 2, 0));
    h.assert_all_consumed();
}

#[test]
pub(super) fn details_diff_failure_is_mapped_too() {
    let h = host();
    h.on_query(&RESOLVE_SQL, RESOLVE_COLUMNS, vec![resolved()]);
    h.on_fetch("GET", &pull_url(), gh_json(200, details_json()));
    h.on_fetch("GET", &pull_url(), gh_err(404, "Not Found"));
    expect_err(&h, sample(GetPullRequestDetails), GithubPrNotFound);
    assert_no_side_effects(&h);
}

#[test]
fn diff_bound_keeps_small_diffs_and_cuts_at_a_line_end() {
    assert_eq!(bound_diff("+a\n"), ("+a\n", false));
    let long = "+0123456789\n".repeat(DIFF_MAX_BYTES / 12 + 10);
    let (cut, truncated) = bound_diff(&long);
    assert!(truncated && cut.ends_with('\n') && cut.len() <= DIFF_MAX_BYTES);
    // escaping-heavy text is cut earlier so the JSON stays within the envelope
    let quotes = "\"".repeat(DIFF_MAX_BYTES);
    let (cut, truncated) = bound_diff(&quotes);
    assert!(truncated);
    assert!(serde_json::to_string(cut).unwrap().len() <= 320 * 1024 + 2);
    // never splits a UTF-8 character
    let wide = "é".repeat(DIFF_MAX_BYTES);
    let (cut, _) = bound_diff(&wide);
    assert!(cut.len() <= DIFF_MAX_BYTES && cut.chars().all(|c| c == 'é'));
}

// ------------------------------------------------------------------ CI

fn ci_ready(runs: Value, statuses: Value) -> FakeHost {
    let h = host();
    h.on_query(&RESOLVE_SQL, RESOLVE_COLUMNS, vec![resolved()]);
    h.on_fetch(
        "GET",
        &pull_url(),
        gh_json(200, github_pull(5, "open", "feat/PROJ-42-x", "Add auth")),
    );
    let commit = format!("{GH}/repos/acme/widgets/commits/{HEAD}");
    h.on_fetch_json(
        "GET",
        &format!("{commit}/check-runs?per_page=100"),
        200,
        &json!({"total_count": 0, "check_runs": runs}),
    );
    h.on_fetch_json(
        "GET",
        &format!("{commit}/status?per_page=100"),
        200,
        &json!({"state": "pending", "statuses": statuses}),
    );
    h
}

fn run(name: &str, status: &str, conclusion: Option<&str>) -> Value {
    json!({"name": name, "status": status, "conclusion": conclusion, "html_url": format!("https://ci/{name}")})
}

fn status(context: &str, state: &str) -> Value {
    json!({"context": context, "state": state, "target_url": null})
}

#[test]
fn ci_status_folds_check_runs_and_statuses() {
    let cases = [
        (json!([]), json!([]), "unknown"),
        (
            json!([run("build", "completed", Some("success"))]),
            json!([status("lint", "success")]),
            "success",
        ),
        (
            json!([run("build", "completed", Some("skipped"))]),
            json!([status("lint", "pending")]),
            "pending",
        ),
        (
            json!([run("build", "in_progress", None)]),
            json!([]),
            "pending",
        ),
        (
            json!([
                run("build", "in_progress", None),
                run("t", "completed", Some("timed_out"))
            ]),
            json!([]),
            "failure",
        ),
        (
            json!([run("build", "completed", Some("neutral"))]),
            json!([status("lint", "error")]),
            "failure",
        ),
    ];
    for (runs, statuses, want) in cases {
        let h = ci_ready(runs.clone(), statuses.clone());
        let d = expect_ok(&h, sample(GetPullRequestCiStatus), 200);
        assert_eq!(d["state"], json!(want), "{runs} {statuses}");
        assert_eq!(d["head_sha"], json!(HEAD));
        let n = runs.as_array().unwrap().len() + statuses.as_array().unwrap().len();
        assert_eq!(d["checks"].as_array().unwrap().len(), n);
        assert_eq!((h.calls().fetch, h.calls().db()), (3, 1));
        assert_no_side_effects(&h);
        h.assert_all_consumed();
    }
    let h = ci_ready(
        json!([run("build", "queued", None)]),
        json!([status("lint", "failure")]),
    );
    let d = expect_ok(&h, sample(GetPullRequestCiStatus), 200);
    assert_eq!(
        d["checks"],
        json!([
            {"name": "build", "kind": "check_run", "status": "queued", "conclusion": null, "url": "https://ci/build"},
            {"name": "lint", "kind": "status", "status": "completed", "conclusion": "failure", "url": null},
        ])
    );
}

#[test]
fn ci_status_of_a_head_github_forgot_is_unknown() {
    let h = host();
    h.on_query(&RESOLVE_SQL, RESOLVE_COLUMNS, vec![resolved()]);
    h.on_fetch(
        "GET",
        &pull_url(),
        gh_json(200, github_pull(5, "open", "x", "t")),
    );
    let commit = format!("{GH}/repos/acme/widgets/commits/{HEAD}");
    h.on_fetch(
        "GET",
        &format!("{commit}/check-runs?per_page=100"),
        gh_err(404, "Not Found"),
    );
    h.on_fetch(
        "GET",
        &format!("{commit}/status?per_page=100"),
        gh_err(404, "Not Found"),
    );
    assert_eq!(
        expect_ok(&h, sample(GetPullRequestCiStatus), 200)["state"],
        json!("unknown")
    );
}

// ------------------------------------------------------------------ comment, review

#[test]
fn comment_posts_to_the_issue_and_returns_the_comment() {
    let h = host();
    h.on_query(&RESOLVE_SQL, RESOLVE_COLUMNS, vec![resolved()]);
    let (method, url) = first_call(CommentOnPullRequest);
    h.on_fetch_json(method, &url, 201, &json!({"id": 77, "html_url": "https://github.com/c/77", "user": {"login": "octocat"}, "created_at": T1, "body": "Nice"}));
    let d = expect_ok(&h, sample(CommentOnPullRequest), 201);
    assert_eq!(
        d,
        json!({"id": 77, "html_url": "https://github.com/c/77", "author": "octocat", "created_at": T1})
    );
    assert_eq!(
        serde_json::from_str::<Value>(&h.fetches()[0].body).unwrap(),
        json!({"body": "Nice"})
    );
    let c = h.calls();
    assert_eq!((c.db(), c.fetch, c.emit), (1, 1, 0));
    assert_no_side_effects(&h);
}

#[test]
pub(super) fn comment_and_review_bodies_are_checked_first() {
    for (op, body) in [
        (CommentOnPullRequest, json!({"body": "   "})),
        (ReviewPullRequest, json!({"event": "REQUEST_CHANGES"})),
        (ReviewPullRequest, json!({"event": "COMMENT", "body": " "})),
        (ReviewPullRequest, json!({"event": "MERGE"})),
    ] {
        let h = host();
        let mut r = sample(op);
        r.body = body.to_string().into_bytes();
        expect_err(&h, r, BadRequest);
        assert_eq!(h.calls().db() + h.calls().fetch, 0);
    }
}

#[test]
fn review_submits_the_event_and_body() {
    for (event, body, sent) in [
        ("APPROVE", None, json!({"event": "APPROVE"})),
        (
            "REQUEST_CHANGES",
            Some("Fix it"),
            json!({"event": "REQUEST_CHANGES", "body": "Fix it"}),
        ),
    ] {
        let h = host();
        h.on_query(&RESOLVE_SQL, RESOLVE_COLUMNS, vec![resolved()]);
        let (method, url) = first_call(ReviewPullRequest);
        h.on_fetch_json(method, &url, 200, &json!({"id": 9, "state": "APPROVED", "html_url": "https://github.com/r/9", "user": {"login": "octocat"}}));
        let mut r = sample(ReviewPullRequest);
        let mut b = json!({"event": event});
        if let Some(text) = body {
            b["body"] = json!(text);
        }
        r.body = b.to_string().into_bytes();
        let d = expect_ok(&h, r, 201);
        assert_eq!(d["id"], json!(9));
        assert_eq!(
            serde_json::from_str::<Value>(&h.fetches()[0].body).unwrap(),
            sent
        );
    }
}

// ------------------------------------------------------------------ link branch

fn branch_head_url() -> String {
    format!("{GH}/repos/acme/widgets/git/ref/heads/feat%2FPROJ-42-x")
}

#[test]
fn link_branch_checks_github_then_links_once() {
    let h = create_ready();
    h.on_fetch_json(
        "GET",
        &branch_head_url(),
        200,
        &json!({"ref": "refs/heads/feat/PROJ-42-x", "object": {"sha": HEAD}}),
    );
    h.on_query(
        &BRANCH_SQL,
        &["id", "created_at"],
        vec![vec![uuid(LINK), json!(T1)]],
    );
    let d = expect_ok(&h, sample(LinkBranch), 201);
    assert_eq!(
        d,
        json!({"id": LINK, "task_id": TASK, "repo_id": REPO, "repo_full_name": "acme/widgets",
               "branch_name": "feat/PROJ-42-x", "html_url": "https://github.com/acme/widgets/tree/feat/PROJ-42-x",
               "created_at": T1})
    );
    assert_eq!(h.emits()[0].0, "github.branch_linked");
    assert_eq!(h.emits()[0].1["source"], json!("manual"));
    let c = h.calls();
    assert_eq!((c.db(), c.fetch, c.emit), (2, 1, 1));
}

#[test]
pub(super) fn link_branch_errors() {
    // invalid name, before anything
    let h = host();
    let mut r = sample(LinkBranch);
    r.body = json!({"repo_id": REPO, "branch_name": "a..b"})
        .to_string()
        .into_bytes();
    expect_err(&h, r, InvalidBranchName);
    assert_eq!(h.calls().db(), 0);
    // task, integration, repository
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![]);
    expect_err(&h, sample(LinkBranch), TaskNotFound);
    let h = host();
    let mut row = ctx_row();
    row[5] = Value::Null;
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![row]);
    expect_err(&h, sample(LinkBranch), GithubIntegrationNotFound);
    let h = host();
    let mut row = vec![Value::Null; CTX_COLUMNS.len()];
    row[5] = json!(token_enc());
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![row]);
    expect_err(&h, sample(LinkBranch), GithubRepositoryNotFound);
    // GitHub
    let mut cases = shared_failures();
    cases.push((gh_err(404, "Not Found"), GithubBranchNotFound));
    for (resp, code) in cases {
        let h = create_ready();
        h.on_fetch("GET", &branch_head_url(), resp);
        expect_err(&h, sample(LinkBranch), code);
        assert_no_side_effects(&h);
    }
    // already linked: no event
    let h = create_ready();
    h.on_fetch_json(
        "GET",
        &branch_head_url(),
        200,
        &json!({"ref": "refs/heads/x", "object": {"sha": HEAD}}),
    );
    h.on_query(&BRANCH_SQL, &["id", "created_at"], vec![]);
    expect_err(&h, sample(LinkBranch), GithubBranchAlreadyLinked);
    assert_eq!(h.emits(), vec![]);
}
