//! listRepositories and getCloneInfo (the repository capability, `github:use`).

use crate::sql;
use std::sync::LazyLock;

use super::*;
use crate::generated::api::ErrorCode::*;
use crate::generated::api::Operation::*;

static LIST_SQL: LazyLock<String> = LazyLock::new(exact::<sql::CapabilityRepositories>);
static INFO_SQL: LazyLock<String> = LazyLock::new(exact::<sql::CloneInfo>);
const COLUMNS: &[&str] = &[
    "id",
    "owner",
    "repo_name",
    "full_name",
    "default_branch",
    "clone_url",
    "private",
    "access_token_enc",
    "task_found",
];
const CLONE_URL: &str = "https://ghe.example.com/acme/widgets.git";
static BACKFILL_SQL: LazyLock<String> = LazyLock::new(exact::<sql::BackfillCloneUrl>);

/// A GitHub status, extra response headers, and the error code it must become.
type Failure = (u16, &'static [(&'static str, &'static str)], ErrorCode);

fn row(clone_url: Option<&str>, task_found: Option<bool>) -> Vec<Value> {
    vec![
        uuid(REPO),
        json!("acme"),
        json!("widgets"),
        json!("acme/widgets"),
        json!("main"),
        clone_url.map_or(Value::Null, |u| json!(u)),
        if clone_url.is_some() {
            json!(true)
        } else {
            Value::Null
        },
        json!(token_enc()),
        task_found.map_or(Value::Null, Value::Bool),
    ]
}

fn repo_url() -> String {
    format!("{GH}/repos/acme/widgets")
}

fn github_repo_with_clone_url() -> Value {
    let mut r = github_repo();
    r["clone_url"] = json!(CLONE_URL);
    r["default_branch"] = json!("trunk");
    r
}

fn clone_info_with_task(task: Uuid) -> Request {
    let mut r = sample(GetCloneInfo);
    r.query.insert("task_id".into(), task.to_string());
    r
}

#[test]
fn list_repositories_uses_the_stored_clone_url_in_one_query() {
    let h = host();
    h.on_query(&LIST_SQL, COLUMNS, vec![row(Some(CLONE_URL), None)]);
    let data = expect_ok(&h, sample(ListRepositories), 200);
    assert_eq!(
        data,
        json!([{
            "id": REPO, "full_name": "acme/widgets", "owner": "acme", "repo_name": "widgets",
            "clone_url": CLONE_URL, "default_branch": "main", "private": true
        }])
    );
    assert_eq!(db_call(&h, &LIST_SQL).params, vec![uuid(PROJECT)]);
    assert_eq!((h.calls().db(), h.calls().fetch), (1, 0));
    h.assert_all_consumed();
}

#[test]
fn list_repositories_without_a_token_is_empty_and_a_token_without_repos_too() {
    let h = host();
    h.on_query(&LIST_SQL, COLUMNS, vec![]);
    assert_eq!(expect_ok(&h, sample(ListRepositories), 200), json!([]));
    let h = host();
    let mut empty = vec![Value::Null; COLUMNS.len()];
    empty[7] = json!(token_enc());
    h.on_query(&LIST_SQL, COLUMNS, vec![empty]);
    assert_eq!(expect_ok(&h, sample(ListRepositories), 200), json!([]));
    assert_eq!(h.calls().total(), 1);
}

#[test]
fn a_repository_linked_before_clone_urls_is_completed_from_github_once() {
    let h = host();
    h.on_query(&LIST_SQL, COLUMNS, vec![row(None, None)]);
    h.on_fetch(
        "GET",
        &repo_url(),
        gh_json(200, github_repo_with_clone_url()),
    );
    h.on_exec(&BACKFILL_SQL, 1);
    let data = expect_ok(&h, sample(ListRepositories), 200);
    assert_eq!(data[0]["clone_url"], json!(CLONE_URL));
    assert_eq!(data[0]["default_branch"], json!("trunk"));
    let update = db_call(&h, &BACKFILL_SQL);
    assert_eq!(
        update.params,
        vec![
            json!(CLONE_URL),
            json!(true),
            json!("trunk"),
            uuid(REPO),
            uuid(PROJECT)
        ]
    );
    assert!(
        update
            .sql
            .contains("WHERE id = $4::uuid AND project_id = $5::uuid")
    );
    assert_eq!((h.calls().db(), h.calls().fetch), (2, 1));
    h.assert_all_consumed();
}

/// A legacy row needs GitHub; each way GitHub can fail maps to its code and stores nothing.
#[test]
pub(super) fn list_repositories_backfill_failures() {
    let cases: &[Failure] = &[
        (404, &[], GithubRepoNotAccessible),
        (401, &[], GithubInvalidToken),
        (403, &[], GithubTokenInsufficientPermissions),
        (403, &[("X-RateLimit-Remaining", "0")], GithubRateLimited),
        (502, &[], GithubUnavailable),
    ];
    for (status, headers, code) in cases {
        let h = host();
        h.on_query(&LIST_SQL, COLUMNS, vec![row(None, None)]);
        let mut resp = gh_json(*status, json!({"message": "nope"}));
        for (k, v) in *headers {
            resp = resp.with_header(k, v);
        }
        h.on_fetch("GET", &repo_url(), resp);
        expect_err(&h, sample(ListRepositories), *code);
        assert_no_side_effects(&h);
    }
    // the key is needed only for a backfill, and then checked before GitHub is called
    let h = FakeHost::new();
    h.on_query(&LIST_SQL, COLUMNS, vec![row(None, None)]);
    expect_err(&h, sample(ListRepositories), EncryptionNotConfigured);
    assert_eq!(h.calls().fetch, 0);
    // the stored URL cannot be written
    let h = host();
    h.on_query(&LIST_SQL, COLUMNS, vec![row(None, None)]);
    h.on_fetch(
        "GET",
        &repo_url(),
        gh_json(200, github_repo_with_clone_url()),
    );
    h.on_exec_err(&BACKFILL_SQL, DB_DETAIL);
    expect_err(&h, sample(ListRepositories), InternalError);
}

#[test]
fn clone_info_hands_out_the_token_and_records_the_task_activity() {
    let h = host();
    h.on_query(&INFO_SQL, COLUMNS, vec![row(Some(CLONE_URL), Some(true))]);
    let data = expect_ok(&h, clone_info_with_task(TASK), 200);
    assert_eq!(
        data,
        json!({"id": REPO, "full_name": "acme/widgets", "clone_url": CLONE_URL, "token": TOKEN, "expires_at": null})
    );
    let q = db_call(&h, &INFO_SQL);
    assert_eq!(q.params, vec![uuid(PROJECT), uuid(REPO), uuid(TASK)]);
    assert!(
        q.sql
            .contains("r.id = $2::uuid AND r.project_id = i.project_id")
    );
    assert!(
        q.sql
            .contains("t.project_id = i.project_id AND t.deleted_at IS NULL")
    );
    let activities = h.activities();
    assert_eq!(activities.len(), 1);
    let (task, kind, content) = &activities[0];
    assert_eq!(
        (task.as_str(), kind.as_str()),
        (TASK.to_string().as_str(), "github.clone_token_issued")
    );
    assert_eq!(content["repo_id"], uuid(REPO));
    assert!(!content.to_string().contains(TOKEN));
    assert!(
        h.logs()
            .iter()
            .any(|(l, m)| *l == crate::host::LogLevel::Info
                && m.contains("clone token for acme/widgets"))
    );
    let c = h.calls();
    assert_eq!((c.db(), c.fetch, c.activity, c.emit), (1, 0, 1, 0));
    assert_no_side_effects(&h);
}

#[test]
fn clone_info_without_a_task_logs_only_and_a_failed_activity_is_not_fatal() {
    let h = host();
    h.on_query(&INFO_SQL, COLUMNS, vec![row(Some(CLONE_URL), None)]);
    assert_eq!(
        expect_ok(&h, sample(GetCloneInfo), 200)["token"],
        json!(TOKEN)
    );
    assert_eq!(db_call(&h, &INFO_SQL).params[2], Value::Null);
    assert_eq!(h.calls().activity, 0);

    let h = host();
    h.fail_activities();
    h.on_query(&INFO_SQL, COLUMNS, vec![row(Some(CLONE_URL), Some(true))]);
    assert_eq!(
        expect_ok(&h, clone_info_with_task(TASK), 200)["token"],
        json!(TOKEN)
    );
    assert!(
        h.logs()
            .iter()
            .any(|(_, m)| m.contains("recording the clone-token hand-out"))
    );
}

#[test]
fn clone_info_completes_a_legacy_row_with_one_github_read() {
    let h = host();
    h.on_query(&INFO_SQL, COLUMNS, vec![row(None, None)]);
    h.on_fetch(
        "GET",
        &repo_url(),
        gh_json(200, github_repo_with_clone_url()),
    );
    h.on_exec(&BACKFILL_SQL, 1);
    let data = expect_ok(&h, sample(GetCloneInfo), 200);
    assert_eq!(
        (data["clone_url"].clone(), data["token"].clone()),
        (json!(CLONE_URL), json!(TOKEN))
    );
    assert_eq!((h.calls().fetch, h.calls().db()), (1, 2));
    // the token GitHub was asked with is the decrypted one
    assert_eq!(
        h.fetches()[0].headers["Authorization"],
        format!("Bearer {TOKEN}")
    );
}

#[test]
pub(super) fn clone_info_not_found_cases_hand_out_nothing() {
    // no integration
    let h = host();
    h.on_query(&INFO_SQL, COLUMNS, vec![]);
    expect_err(&h, sample(GetCloneInfo), GithubIntegrationNotFound);
    // repository of another project (the LEFT JOIN finds nothing)
    let h = host();
    let mut none = vec![Value::Null; COLUMNS.len()];
    none[7] = json!(token_enc());
    h.on_query(&INFO_SQL, COLUMNS, vec![none]);
    expect_err(&h, sample(GetCloneInfo), GithubRepositoryNotFound);
    // task of another project
    let h = host();
    h.on_query(&INFO_SQL, COLUMNS, vec![row(Some(CLONE_URL), Some(false))]);
    expect_err(&h, clone_info_with_task(TASK2), TaskNotFound);
    assert_eq!((h.calls().activity, h.calls().fetch), (0, 0));
    assert!(h.logs().iter().all(|(_, m)| !m.contains("handed to")));
}

#[test]
pub(super) fn clone_info_backfill_failures() {
    let cases: &[Failure] = &[
        (404, &[], GithubRepoNotAccessible),
        (401, &[], GithubInvalidToken),
        (403, &[], GithubTokenInsufficientPermissions),
        (429, &[], GithubRateLimited),
        (500, &[], GithubUnavailable),
    ];
    for (status, headers, code) in cases {
        let h = host();
        h.on_query(&INFO_SQL, COLUMNS, vec![row(None, None)]);
        let mut resp = gh_json(*status, json!({"message": "nope"}));
        for (k, v) in *headers {
            resp = resp.with_header(k, v);
        }
        h.on_fetch("GET", &repo_url(), resp);
        expect_err(&h, sample(GetCloneInfo), *code);
        assert_no_side_effects(&h);
        assert_eq!(h.calls().activity, 0);
    }
}

#[test]
fn clone_info_rejects_a_malformed_task_id() {
    let h = host();
    let mut r = sample(GetCloneInfo);
    r.query.insert("task_id".into(), "PROJ-1".into());
    expect_err(&h, r, BadRequest);
    assert_eq!(h.calls().db(), 0);
}
