//! listTaskPullRequests, linkPullRequest, unlinkPullRequest.

use crate::sql;
use std::sync::LazyLock;

use super::*;
use crate::generated::api::ErrorCode::*;
use crate::generated::api::Operation::*;

pub static CTX_SQL: LazyLock<String> = LazyLock::new(exact::<sql::TaskRepoContext>);
pub const CTX_COLUMNS: &[&str] = &[
    "repo_id",
    "owner",
    "repo_name",
    "full_name",
    "default_branch",
    "access_token_enc",
];
static LIST_SQL: LazyLock<String> = LazyLock::new(exact::<sql::ListTaskPrs>);
pub static UPSERT_SQL: LazyLock<String> = LazyLock::new(exact::<sql::UpsertPr>);
pub static LINK_SQL: LazyLock<String> = LazyLock::new(exact::<sql::LinkPr>);
static UNLINK_SQL: LazyLock<String> = LazyLock::new(exact::<sql::UnlinkPr>);
pub const PR_COLUMNS: &[&str] = &[
    "id",
    "project_id",
    "repo_id",
    "repo_full_name",
    "pr_number",
    "github_pr_id",
    "title",
    "state",
    "html_url",
    "head_branch",
    "base_branch",
    "author",
    "merged_at",
    "created_at",
    "updated_at",
];

pub fn ctx_row() -> Vec<Value> {
    vec![
        uuid(REPO),
        json!("acme"),
        json!("widgets"),
        json!("acme/widgets"),
        json!("main"),
        json!(token_enc()),
    ]
}

pub fn pr_row(id: Uuid, number: i64, state: &str) -> Vec<Value> {
    vec![
        uuid(id),
        uuid(PROJECT),
        uuid(REPO),
        json!("acme/widgets"),
        json!(number),
        json!(880_000 + number),
        json!("Add auth"),
        json!(state),
        json!(format!("https://github.com/acme/widgets/pull/{number}")),
        json!("feat/PROJ-42-x"),
        json!("main"),
        json!("octocat"),
        Value::Null,
        json!(T1),
        json!(T2),
    ]
}

fn null_row(n: usize) -> Vec<Value> {
    vec![Value::Null; n]
}

fn pull_url() -> String {
    format!("{GH}/repos/acme/widgets/pulls/5")
}

#[test]
fn list_task_pull_requests_one_scoped_query() {
    let h = host();
    h.on_query(
        &LIST_SQL,
        PR_COLUMNS,
        vec![pr_row(PR, 5, "open"), pr_row(LINK, 6, "merged")],
    );
    let data = expect_ok(&h, sample(ListTaskPullRequests), 200);
    assert_eq!(
        data[0],
        json!({
            "id": PR, "project_id": PROJECT, "repo_id": REPO, "repo_full_name": "acme/widgets",
            "pr_number": 5, "github_pr_id": 880_005, "title": "Add auth", "state": "open",
            "html_url": "https://github.com/acme/widgets/pull/5", "head_branch": "feat/PROJ-42-x",
            "base_branch": "main", "author": "octocat", "merged_at": null, "created_at": T1, "updated_at": T2
        })
    );
    assert_eq!(data[1]["state"], json!("merged"));
    let call = &h.db_calls()[0];
    assert!(
        call.sql
            .contains("t.id = $1::uuid AND t.project_id = $2::uuid AND t.deleted_at IS NULL")
    );
    assert_eq!(call.params, vec![uuid(TASK), uuid(PROJECT)]);
    assert_eq!(h.calls().db(), 1);

    // A task without PRs: one all-null row from the LEFT JOIN.
    let h = host();
    h.on_query(&LIST_SQL, PR_COLUMNS, vec![null_row(PR_COLUMNS.len())]);
    assert_eq!(expect_ok(&h, sample(ListTaskPullRequests), 200), json!([]));
}

#[test]
pub(super) fn list_task_pull_requests_of_another_project_is_404() {
    let h = host();
    h.on_query(&LIST_SQL, PR_COLUMNS, vec![]);
    expect_err(&h, sample(ListTaskPullRequests), TaskNotFound);
    assert_eq!(h.calls().total(), 1);
    assert_eq!(h.db_calls()[0].params[1], uuid(PROJECT));
}

#[test]
pub(super) fn list_task_pull_requests_db_failure() {
    let h = host();
    h.on_query_err(&LIST_SQL, DB_DETAIL);
    expect_err(&h, sample(ListTaskPullRequests), InternalError);
}

/// Context and the PR on GitHub are fine.
fn link_ready() -> FakeHost {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![ctx_row()]);
    h.on_fetch(
        "GET",
        &pull_url(),
        gh_json(200, github_pull(5, "open", "feat/PROJ-42-x", "Add auth")),
    );
    h
}

#[test]
fn link_pull_request_caches_links_and_emits_once() {
    let h = link_ready();
    h.on_query(&UPSERT_SQL, PR_COLUMNS, vec![pr_row(PR, 5, "open")]);
    h.on_query(&LINK_SQL, &["id"], vec![vec![uuid(LINK)]]);
    let data = expect_ok(&h, sample(LinkPullRequest), 201);
    assert_eq!(data["id"], uuid(PR));
    assert_eq!(data["pr_number"], json!(5));
    let ctx = db_call(&h, &CTX_SQL);
    assert!(
        ctx.sql
            .contains("t.id = $1::uuid AND t.project_id = $2::uuid AND t.deleted_at IS NULL")
    );
    assert!(
        ctx.sql
            .contains("r.id = $3::uuid AND r.project_id = t.project_id")
    );
    assert_eq!(ctx.params, vec![uuid(TASK), uuid(PROJECT), uuid(REPO)]);
    let upsert = db_call(&h, &UPSERT_SQL);
    assert_eq!(upsert.params[0], uuid(PROJECT));
    assert_eq!(upsert.params[1], uuid(REPO));
    assert_eq!(upsert.params[2], json!(5));
    assert_eq!(upsert.params[12], json!("acme/widgets"));
    assert_eq!(db_call(&h, &LINK_SQL).params, vec![uuid(TASK), uuid(PR)]);
    let emits = h.emits();
    assert_eq!(emits.len(), 1);
    assert_eq!(emits[0].0, "github.pr_linked");
    let p = &emits[0].1;
    assert_eq!(p["project_id"], uuid(PROJECT));
    assert_eq!(p["task_id"], uuid(TASK));
    assert_eq!(p["repo_id"], uuid(REPO));
    assert_eq!(p["pull_request_id"], uuid(PR));
    assert_eq!(p["source"], json!("manual"));
    assert_eq!(h.calls().db(), 3);
    h.assert_all_consumed();
}

#[test]
fn link_pull_request_when_a_newer_webhook_won_the_race_reads_the_cache() {
    let h = link_ready();
    h.on_query(&UPSERT_SQL, PR_COLUMNS, vec![]);
    h.on_query(
        &exact::<sql::CachedPr>(),
        PR_COLUMNS,
        vec![pr_row(PR, 5, "closed")],
    );
    h.on_query(&LINK_SQL, &["id"], vec![vec![uuid(LINK)]]);
    let data = expect_ok(&h, sample(LinkPullRequest), 201);
    assert_eq!(data["state"], json!("closed"));
    assert_eq!(h.emits().len(), 1);
    h.assert_all_consumed();
}

#[test]
pub(super) fn link_pull_request_already_linked_emits_nothing() {
    let h = link_ready();
    h.on_query(&UPSERT_SQL, PR_COLUMNS, vec![pr_row(PR, 5, "open")]);
    h.on_query(&LINK_SQL, &["id"], vec![]);
    expect_err(&h, sample(LinkPullRequest), GithubPrAlreadyLinked);
    assert_eq!(h.emits(), vec![]);
}

#[test]
pub(super) fn link_pull_request_task_of_another_project_is_404() {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![]);
    expect_err(&h, sample(LinkPullRequest), TaskNotFound);
    assert_eq!(h.calls().db(), 1);
    assert_eq!(h.db_calls()[0].params[1], uuid(PROJECT));
    assert_eq!((h.calls().fetch, h.calls().emit), (0, 0));
}

#[test]
pub(super) fn link_pull_request_repo_of_another_project_is_404() {
    let h = host();
    let mut row = null_row(5);
    row.push(json!(token_enc()));
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![row]);
    expect_err(&h, sample(LinkPullRequest), GithubRepositoryNotFound);
    assert_eq!((h.calls().db(), h.calls().fetch, h.calls().emit), (1, 0, 0));
}

#[test]
pub(super) fn link_pull_request_not_connected() {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![null_row(6)]);
    expect_err(&h, sample(LinkPullRequest), GithubIntegrationNotFound);
    assert_eq!(h.calls().fetch, 0);
}

fn pull_fails(resp: Result<FetchResponse, &str>) -> FakeHost {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![ctx_row()]);
    match resp {
        Ok(r) => h.on_fetch("GET", &pull_url(), r),
        Err(e) => h.on_fetch_err("GET", &pull_url(), e),
    };
    h
}

#[test]
pub(super) fn link_pull_request_github_failures() {
    let cases: Vec<(Result<FetchResponse, &str>, ErrorCode)> = vec![
        (
            Ok(gh_json(404, json!({"message": "Not Found"}))),
            GithubPrNotFound,
        ),
        (
            Ok(gh_json(401, json!({"message": "Bad credentials"}))),
            GithubInvalidToken,
        ),
        (
            Ok(gh_json(403, json!({"message": "Resource not accessible"}))),
            GithubTokenInsufficientPermissions,
        ),
        (
            Ok(gh_json(429, json!({})).with_header("Retry-After", "5")),
            GithubRateLimited,
        ),
        (Err("fetch: timeout"), GithubUnavailable),
    ];
    for (resp, code) in cases {
        let h = pull_fails(resp);
        expect_err(&h, sample(LinkPullRequest), code);
        assert_eq!(h.calls().db(), 1);
        assert_no_side_effects(&h);
    }
}

#[test]
pub(super) fn link_pull_request_bad_body() {
    for body in [
        json!({"repo_id": REPO, "pr_number": 0}),
        json!({"repo_id": "nope", "pr_number": 5}),
        json!({"repo_id": REPO}),
    ] {
        let h = host();
        let mut r = sample(LinkPullRequest);
        r.body = body.to_string().into_bytes();
        expect_err(&h, r, BadRequest);
        assert_eq!(h.calls().total(), 0);
    }
}

#[test]
pub(super) fn link_pull_request_cache_failure_is_internal() {
    let h = link_ready();
    h.on_query_err(&UPSERT_SQL, DB_DETAIL);
    expect_err(&h, sample(LinkPullRequest), InternalError);
    assert_eq!(h.emits(), vec![]);
}

#[test]
fn unlink_pull_request_is_204_in_one_scoped_statement() {
    let h = host();
    h.on_query(&UNLINK_SQL, &["id"], vec![vec![uuid(LINK)]]);
    let r = send(&h, sample(UnlinkPullRequest));
    assert_eq!(r.status, 204);
    assert_eq!(r.body, Value::Null);
    let call = &h.db_calls()[0];
    assert!(call.sql.contains("t.project_id = $3::uuid"));
    assert!(call.sql.contains("t.deleted_at IS NULL"));
    assert!(call.sql.contains("pr.project_id = $3::uuid"));
    assert_eq!(call.params, vec![uuid(TASK), uuid(PR), uuid(PROJECT)]);
    assert_eq!(h.calls().total(), 1);
}

#[test]
pub(super) fn unlink_pull_request_not_linked() {
    let h = host();
    h.on_query(&UNLINK_SQL, &["id"], vec![]);
    h.on_query(
        &exact::<sql::TaskExists>(),
        &["?column?"],
        vec![vec![json!(1)]],
    );
    expect_err(&h, sample(UnlinkPullRequest), GithubPrLinkNotFound);
    assert_eq!(h.db_calls()[1].params, vec![uuid(TASK), uuid(PROJECT)]);
    assert_eq!((h.calls().db(), h.calls().fetch, h.calls().emit), (2, 0, 0));
}

#[test]
pub(super) fn unlink_pull_request_task_of_another_project_is_404() {
    let h = host();
    h.on_query(&UNLINK_SQL, &["id"], vec![]);
    h.on_query(&exact::<sql::TaskExists>(), &["?column?"], vec![]);
    expect_err(&h, sample(UnlinkPullRequest), TaskNotFound);
    assert_eq!((h.calls().db(), h.calls().fetch, h.calls().emit), (2, 0, 0));
}

#[test]
pub(super) fn unlink_pull_request_bad_pr_id() {
    let h = host();
    let mut r = sample(UnlinkPullRequest);
    r.path = task_path("pull-requests/42");
    let reply = expect_err(&h, r, BadRequest);
    assert!(reply.message().contains("prId"));
    assert_eq!(h.calls().total(), 0);
}

#[test]
pub(super) fn unlink_pull_request_db_failure() {
    let h = host();
    h.on_query_err(&UNLINK_SQL, DB_DETAIL);
    expect_err(&h, sample(UnlinkPullRequest), InternalError);
}
