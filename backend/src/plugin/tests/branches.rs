//! listTaskBranches, createBranch.

use crate::sql;
use std::sync::LazyLock;

use super::pull_requests::{CTX_COLUMNS, CTX_SQL, ctx_row};
use super::*;
use crate::generated::api::ErrorCode::*;
use crate::generated::api::Operation::*;

static LIST_SQL: LazyLock<String> = LazyLock::new(exact::<sql::ListTaskBranches>);
static INSERT_SQL: LazyLock<String> = LazyLock::new(exact::<sql::LinkBranch>);

fn head_url(branch: &str) -> String {
    format!("{GH}/repos/acme/widgets/git/ref/heads/{branch}")
}

fn refs_url() -> String {
    format!("{GH}/repos/acme/widgets/git/refs")
}

#[test]
fn list_task_branches_one_scoped_query() {
    let h = host();
    h.on_query(
        &LIST_SQL,
        &[
            "id",
            "repo_id",
            "repo_full_name",
            "branch_name",
            "created_at",
        ],
        vec![
            vec![
                uuid(LINK),
                uuid(REPO),
                json!("acme/widgets"),
                json!("feat/PROJ-42-x"),
                json!(T1),
            ],
            vec![
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ],
        ],
    );
    let data = expect_ok(&h, sample(ListTaskBranches), 200);
    assert_eq!(
        data,
        json!([{
            "id": LINK, "task_id": TASK, "repo_id": REPO, "repo_full_name": "acme/widgets",
            "branch_name": "feat/PROJ-42-x", "html_url": "https://github.com/acme/widgets/tree/feat/PROJ-42-x",
            "created_at": T1
        }])
    );
    let call = &h.db_calls()[0];
    assert!(
        call.sql
            .contains("t.id = $1::uuid AND t.project_id = $2::uuid AND t.deleted_at IS NULL")
    );
    assert_eq!(call.params, vec![uuid(TASK), uuid(PROJECT)]);
    assert_eq!(h.calls().db(), 1);
}

#[test]
pub(super) fn list_task_branches_of_another_project_is_404() {
    let h = host();
    h.on_query(&LIST_SQL, &["id"], vec![]);
    expect_err(&h, sample(ListTaskBranches), TaskNotFound);
    assert_eq!(h.calls().total(), 1);
}

#[test]
pub(super) fn list_task_branches_db_failure() {
    let h = host();
    h.on_query_err(&LIST_SQL, DB_DETAIL);
    expect_err(&h, sample(ListTaskBranches), InternalError);
}

fn create_ready(source: &str) -> FakeHost {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![ctx_row()]);
    h.on_fetch_json(
        "GET",
        &head_url(source),
        200,
        &json!({"ref": "refs/heads/x", "object": {"sha": "abc123", "type": "commit"}}),
    );
    h
}

#[test]
fn create_branch_from_default_branch_links_and_emits() {
    let h = create_ready("main");
    h.on_fetch_json(
        "POST",
        &refs_url(),
        201,
        &json!({"ref": "refs/heads/feat/PROJ-42-x", "object": {"sha": "abc123"}}),
    );
    h.on_query(
        &INSERT_SQL,
        &["id", "created_at", "inserted"],
        vec![vec![uuid(LINK), json!(T1), json!(true)]],
    );
    let data = expect_ok(&h, sample(CreateBranch), 201);
    assert_eq!(
        data,
        json!({
            "id": LINK, "task_id": TASK, "repo_id": REPO, "repo_full_name": "acme/widgets",
            "branch_name": "feat/PROJ-42-x", "html_url": "https://github.com/acme/widgets/tree/feat/PROJ-42-x",
            "created_at": T1
        })
    );
    let create = h
        .fetches()
        .into_iter()
        .find(|f| f.method == "POST")
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&create.body).unwrap(),
        json!({"ref": "refs/heads/feat/PROJ-42-x", "sha": "abc123"})
    );
    assert_eq!(
        db_call(&h, &INSERT_SQL).params,
        vec![uuid(TASK), uuid(REPO), json!("feat/PROJ-42-x")]
    );
    let emits = h.emits();
    assert_eq!(emits.len(), 1);
    assert_eq!(emits[0].0, "github.branch_linked");
    assert_eq!(
        emits[0].1,
        json!({"project_id": PROJECT, "task_id": TASK, "repo_id": REPO, "branch_name": "feat/PROJ-42-x", "source": "created"})
    );
    h.assert_all_consumed();
}

#[test]
fn create_branch_from_an_escaped_source_branch() {
    let h = create_ready("release%2F1.0");
    h.on_fetch_json(
        "POST",
        &refs_url(),
        201,
        &json!({"ref": "refs/heads/PROJ-42", "object": {"sha": "abc123"}}),
    );
    h.on_query(
        &INSERT_SQL,
        &["id", "created_at", "inserted"],
        vec![vec![uuid(LINK), json!(T1), json!(true)]],
    );
    let mut r = sample(CreateBranch);
    r.body = json!({"repo_id": REPO, "branch_name": "refs/heads/PROJ-42", "source_branch": "release/1.0"}).to_string().into_bytes();
    let data = expect_ok(&h, r, 201);
    assert_eq!(data["branch_name"], json!("PROJ-42"));
    h.assert_all_consumed();
}

#[test]
pub(super) fn create_branch_invalid_names_touch_nothing() {
    for body in [
        json!({"repo_id": REPO, "branch_name": "feat..x"}),
        json!({"repo_id": REPO, "branch_name": "bad name"}),
        json!({"repo_id": REPO, "branch_name": "-x"}),
        json!({"repo_id": REPO, "branch_name": "x.lock"}),
        json!({"repo_id": REPO, "branch_name": "ok", "source_branch": "a~b"}),
    ] {
        let h = host();
        let mut r = sample(CreateBranch);
        r.body = body.to_string().into_bytes();
        expect_err(&h, r, InvalidBranchName);
        assert_eq!((h.calls().db(), h.calls().fetch), (0, 0));
    }
}

#[test]
pub(super) fn create_branch_refused_by_github_is_invalid_branch_name() {
    let h = create_ready("main");
    h.on_fetch_json(
        "POST",
        &refs_url(),
        422,
        &json!({"message": "Reference update failed"}),
    );
    expect_err(&h, sample(CreateBranch), InvalidBranchName);
    assert_no_side_effects(&h);
}

#[test]
pub(super) fn create_branch_already_exists_on_github() {
    let h = create_ready("main");
    h.on_fetch_json(
        "POST",
        &refs_url(),
        422,
        &json!({"message": "Reference already exists", "documentation_url": "x"}),
    );
    let r = expect_err(&h, sample(CreateBranch), GithubBranchAlreadyExists);
    assert_eq!(r.status, 409);
    assert_no_side_effects(&h);
}

#[test]
fn create_branch_linked_first_by_a_push_webhook_is_a_success_without_event() {
    let h = create_ready("main");
    h.on_fetch_json(
        "POST",
        &refs_url(),
        201,
        &json!({"ref": "refs/heads/feat/PROJ-42-x", "object": {"sha": "abc123"}}),
    );
    // The push of the branch just created reached another replica first and linked it.
    h.on_query(
        &INSERT_SQL,
        &["id", "created_at", "inserted"],
        vec![vec![uuid(LINK), json!(T1), json!(false)]],
    );
    let data = expect_ok(&h, sample(CreateBranch), 201);
    assert_eq!(data["id"], uuid(LINK));
    assert_eq!(data["branch_name"], json!("feat/PROJ-42-x"));
    // the push already announced the link
    assert_eq!(h.emits(), vec![]);
    assert!(
        db_call(&h, &INSERT_SQL)
            .sql
            .contains("(xmax) = (0) AS inserted")
    );
    h.assert_all_consumed();
}

#[test]
pub(super) fn create_branch_source_not_found() {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![ctx_row()]);
    h.on_fetch_json(
        "GET",
        &head_url("main"),
        404,
        &json!({"message": "Not Found"}),
    );
    expect_err(&h, sample(CreateBranch), GithubBranchNotFound);
    assert_no_side_effects(&h);
}

#[test]
pub(super) fn create_branch_without_write_access() {
    for resp in [
        gh_json(404, json!({"message": "Not Found"})),
        gh_json(403, json!({"message": "Resource not accessible"})),
    ] {
        let h = create_ready("main");
        h.on_fetch("POST", &refs_url(), resp);
        expect_err(&h, sample(CreateBranch), GithubTokenInsufficientPermissions);
        assert_no_side_effects(&h);
    }
}

#[test]
pub(super) fn create_branch_github_failures() {
    let cases: Vec<(Result<FetchResponse, &str>, ErrorCode)> = vec![
        (
            Ok(gh_json(401, json!({"message": "Bad credentials"}))),
            GithubInvalidToken,
        ),
        (
            Ok(gh_json(403, json!({})).with_header("X-RateLimit-Remaining", "0")),
            GithubRateLimited,
        ),
        (Err("fetch: EOF"), GithubUnavailable),
        (Ok(gh_json(500, json!({}))), GithubUnavailable),
    ];
    for (resp, code) in cases {
        let h = host();
        h.on_query(&CTX_SQL, CTX_COLUMNS, vec![ctx_row()]);
        match resp {
            Ok(r) => h.on_fetch("GET", &head_url("main"), r),
            Err(e) => h.on_fetch_err("GET", &head_url("main"), e),
        };
        expect_err(&h, sample(CreateBranch), code);
        assert_no_side_effects(&h);
    }
}

#[test]
pub(super) fn create_branch_task_of_another_project_is_404() {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![]);
    expect_err(&h, sample(CreateBranch), TaskNotFound);
    assert_eq!(
        h.db_calls()[0].params,
        vec![uuid(TASK), uuid(PROJECT), uuid(REPO)]
    );
    assert_eq!((h.calls().db(), h.calls().fetch, h.calls().emit), (1, 0, 0));
}

#[test]
pub(super) fn create_branch_repo_of_another_project_is_404() {
    let h = host();
    let mut row = vec![Value::Null; 5];
    row.push(json!(token_enc()));
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![row]);
    expect_err(&h, sample(CreateBranch), GithubRepositoryNotFound);
    assert_eq!((h.calls().db(), h.calls().fetch, h.calls().emit), (1, 0, 0));
}

#[test]
pub(super) fn create_branch_not_connected() {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![vec![Value::Null; 6]]);
    expect_err(&h, sample(CreateBranch), GithubIntegrationNotFound);
}

#[test]
pub(super) fn create_branch_bad_body() {
    for body in [
        json!({"repo_id": REPO, "branch_name": ""}),
        json!({"repo_id": REPO, "branch_name": "x".repeat(256)}),
        json!({"branch_name": "x"}),
    ] {
        let h = host();
        let mut r = sample(CreateBranch);
        r.body = body.to_string().into_bytes();
        expect_err(&h, r, BadRequest);
        assert_eq!(h.calls().total(), 0);
    }
}

#[test]
pub(super) fn create_branch_link_failure_is_internal() {
    let h = create_ready("main");
    h.on_fetch_json(
        "POST",
        &refs_url(),
        201,
        &json!({"ref": "refs/heads/feat/PROJ-42-x", "object": {"sha": "abc123"}}),
    );
    h.on_query_err(&INSERT_SQL, DB_DETAIL);
    expect_err(&h, sample(CreateBranch), InternalError);
    assert_eq!(h.emits(), vec![]);
}
