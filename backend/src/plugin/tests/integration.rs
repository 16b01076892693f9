//! getIntegration, setToken, deleteToken, listAccessibleRepositories.

use crate::sql;
use std::sync::LazyLock;

use super::*;
use crate::generated::api::ErrorCode::*;
use crate::generated::api::Operation::*;

const TS: &[&str] = &["created_at", "updated_at"];
static INTEGRATION_SQL: LazyLock<String> = LazyLock::new(exact::<sql::IntegrationTimestamps>);
static TOKEN_SQL: LazyLock<String> = LazyLock::new(exact::<sql::StoredToken>);

fn user_url() -> String {
    format!("{GH}/user")
}

fn repos_url(page: u32, per_page: u32) -> String {
    format!(
        "{GH}/user/repos?visibility=all&affiliation=owner,collaborator,organization_member&per_page={per_page}&page={page}"
    )
}

#[test]
fn get_integration_connected_and_not_connected() {
    let h = host();
    h.on_query(&INTEGRATION_SQL, TS, vec![vec![json!(T1), json!(T2)]]);
    let data = expect_ok(&h, sample(GetIntegration), 200);
    assert_eq!(
        data,
        json!({"project_id": PROJECT, "connected": true, "created_at": T1, "updated_at": T2})
    );
    assert_eq!(h.db_calls()[0].params, vec![uuid(PROJECT)]);
    assert_eq!(h.calls().db(), 1);
    assert_eq!(h.calls().fetch, 0);

    let h = host();
    h.on_query(&INTEGRATION_SQL, TS, vec![]);
    let data = expect_ok(&h, sample(GetIntegration), 200);
    assert_eq!(data, json!({"project_id": PROJECT, "connected": false}));
    assert!(h.calls().db() <= 2);
    h.assert_all_consumed();
}

#[test]
pub(super) fn get_integration_db_failure_is_internal_without_db_text() {
    let h = host();
    h.on_query_err(&INTEGRATION_SQL, DB_DETAIL);
    let r = expect_err(&h, sample(GetIntegration), InternalError);
    assert!(!r.message().contains("internal_detail_xyz"));
    assert!(
        h.logs()
            .iter()
            .any(|(_, l)| l.contains("internal_detail_xyz"))
    );
}

#[test]
fn set_token_validates_with_github_and_stores_it_encrypted() {
    let h = host();
    h.on_fetch(
        "GET",
        &user_url(),
        gh_json(200, json!({"login": "octocat", "id": 2}))
            .with_header("X-OAuth-Scopes", "repo, admin:repo_hook"),
    );
    entropy(&h);
    h.on_query(
        &exact::<sql::UpsertToken>(),
        TS,
        vec![vec![json!(T1), json!(T2)]],
    );
    let mut r = sample(SetToken);
    r.body = json!({ "token": format!("  {TOKEN}\n") })
        .to_string()
        .into_bytes();
    let data = expect_ok(&h, r, 200);
    assert_eq!(
        data,
        json!({"project_id": PROJECT, "connected": true, "created_at": T1, "updated_at": T2})
    );
    // GitHub called once, with the trimmed token and the documented headers.
    let fetches = h.fetches();
    assert_eq!(fetches.len(), 1);
    let f = &fetches[0];
    assert_eq!(f.headers["Authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(f.headers["Accept"], "application/vnd.github+json");
    assert_eq!(f.headers["X-GitHub-Api-Version"], "2022-11-28");
    assert!(!f.headers["User-Agent"].is_empty());
    // One entropy draw + one upsert; the stored value is the ciphertext of the token.
    assert_eq!(h.calls().db(), 2);
    let insert = db_call(&h, &exact::<sql::UpsertToken>());
    assert!(insert.sql.contains("ON CONFLICT (project_id) DO UPDATE"));
    assert_eq!(insert.params[0], uuid(PROJECT));
    let stored = insert.params[1].as_str().unwrap();
    assert!(!stored.contains(TOKEN));
    assert_ne!(
        &stored[..24],
        "000000000000000000000000",
        "nonce must come from entropy"
    );
    assert_eq!(key().decrypt_string(stored).unwrap(), TOKEN);
    assert!(h.logs().iter().any(|(_, l)| l.contains("octocat")));
    h.assert_all_consumed();
}

#[test]
pub(super) fn set_token_bad_requests_touch_nothing() {
    for body in [
        &b"not json"[..],
        b"",
        br#"{}"#,
        br#"{"token": 5}"#,
        br#"{"token": ""}"#,
        br#"{"token": "   "}"#,
        br#"{"token": "ghp_a b"}"#,
    ] {
        let h = host();
        let mut r = sample(SetToken);
        r.body = body.to_vec();
        let reply = expect_err(&h, r, BadRequest);
        assert_eq!(h.calls().total(), h.calls().config, "{:?}", reply.body);
        assert_eq!(h.calls().fetch, 0);
    }
    let h = host();
    let mut r = sample(SetToken);
    r.body = br#"{"tokn": "x"}"#.to_vec();
    let reply = expect_err(&h, r, BadRequest);
    assert!(reply.message().contains("token"), "{}", reply.message());
}

#[test]
pub(super) fn set_token_rejected_by_github_is_invalid_token() {
    for (status, body) in [
        (401, json!({"message": "Bad credentials"})),
        (
            403,
            json!({"message": "Resource not accessible by personal access token"}),
        ),
    ] {
        let h = host();
        h.on_fetch_json("GET", &user_url(), status, &body);
        let r = expect_err(&h, sample(SetToken), GithubInvalidToken);
        assert_eq!(r.status, 422);
        assert_eq!(h.calls().db(), 0, "nothing stored");
    }
}

#[test]
pub(super) fn set_token_rate_limited() {
    let h = host();
    h.on_fetch(
        "GET",
        &user_url(),
        gh_json(403, json!({"message": "API rate limit exceeded"}))
            .with_header("X-RateLimit-Remaining", "0"),
    );
    expect_err(&h, sample(SetToken), GithubRateLimited);
    let h = host();
    h.on_fetch(
        "GET",
        &user_url(),
        gh_json(429, json!({"message": "slow down"})).with_header("Retry-After", "42"),
    );
    let r = expect_err(&h, sample(SetToken), GithubRateLimited);
    assert!(r.message().contains("42"), "{}", r.message());
    assert_eq!(h.calls().db(), 0);
}

#[test]
pub(super) fn set_token_transport_error_is_unavailable() {
    let h = host();
    h.on_fetch_err("GET", &user_url(), "fetch: dial tcp: i/o timeout");
    expect_err(&h, sample(SetToken), GithubUnavailable);
    assert_eq!(h.calls().db(), 0);
}

#[test]
pub(super) fn set_token_needs_a_valid_encryption_key_before_calling_github() {
    for key in [None, Some("abc"), Some(&"zz".repeat(32)[..])] {
        let h = FakeHost::new();
        if let Some(k) = key {
            h.set_config("ENCRYPTION_KEY", k);
        }
        let r = expect_err(&h, sample(SetToken), EncryptionNotConfigured);
        assert!(r.message().contains("ENCRYPTION_KEY"), "{}", r.message());
        assert_eq!(h.calls().fetch, 0);
        assert_eq!(h.calls().db(), 0);
    }
}

#[test]
pub(super) fn set_token_store_failure_is_internal() {
    let h = host();
    h.on_fetch_json(
        "GET",
        &user_url(),
        200,
        &json!({"login": "octocat", "id": 2}),
    );
    entropy(&h);
    h.on_query_err(&exact::<sql::UpsertToken>(), DB_DETAIL);
    expect_err(&h, sample(SetToken), InternalError);
}

static DELETE_SQL: LazyLock<String> = LazyLock::new(exact::<sql::DeleteIntegration>);

/// The deleted integration's row: token and `[owner, name, full_name, hook id]` per hook.
fn removed_row(hooks: &[(&str, i64)]) -> Vec<Vec<Value>> {
    let hooks: Vec<Value> = hooks
        .iter()
        .map(|(name, id)| json!(["acme", name, format!("acme/{name}"), id]))
        .collect();
    vec![vec![
        json!(token_enc()),
        json!(Value::Array(hooks).to_string()),
    ]]
}

#[test]
fn delete_token_removes_rows_first_then_hooks_and_reports_failures() {
    let h = host();
    h.on_query(
        &DELETE_SQL,
        &["access_token_enc", "hooks"],
        removed_row(&[("widgets", 77), ("gone", 78), ("gadgets", 79)]),
    );
    h.on_fetch(
        "DELETE",
        &format!("{GH}/repos/acme/widgets/hooks/77"),
        FetchResponse::new(204, ""),
    );
    h.on_fetch_json(
        "DELETE",
        &format!("{GH}/repos/acme/gone/hooks/78"),
        404,
        &json!({"message": "Not Found"}),
    );
    h.on_fetch_json(
        "DELETE",
        &format!("{GH}/repos/acme/gadgets/hooks/79"),
        500,
        &json!({"message": "boom"}),
    );
    let data = expect_ok(&h, sample(DeleteToken), 200);
    assert_eq!(data["removed"], json!(true));
    assert_eq!(
        data["webhooks_deleted"],
        json!(2),
        "a hook already gone counts as deleted"
    );
    let failures = data["webhook_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["full_name"], json!("acme/gadgets"));
    assert!(failures[0]["reason"].as_str().unwrap().contains("500"));
    let delete = db_call(&h, &DELETE_SQL);
    assert_eq!(delete.params, vec![uuid(PROJECT)]);
    assert!(delete.sql.contains("r.webhook_id > (0)"));
    // One DB call, and it comes before any GitHub call: rows never outlive a half-done cleanup.
    assert_eq!(h.calls().db(), 1);
    assert!(
        h.fetches()
            .iter()
            .all(|f| f.headers["Authorization"] == format!("Bearer {TOKEN}"))
    );
    h.assert_all_consumed();
}

#[test]
fn delete_token_without_integration_removes_nothing() {
    let h = host();
    h.on_query(&DELETE_SQL, &["access_token_enc", "hooks"], vec![]);
    let data = expect_ok(&h, sample(DeleteToken), 200);
    assert_eq!(
        data,
        json!({"removed": false, "webhooks_deleted": 0, "webhook_failures": []})
    );
    assert_eq!(h.calls().db(), 1);
    assert_eq!(h.calls().fetch, 0);
}

#[test]
fn delete_token_without_key_still_deletes_rows_and_reports_hooks() {
    let h = FakeHost::new();
    h.on_query(
        &DELETE_SQL,
        &["access_token_enc", "hooks"],
        removed_row(&[("widgets", 77)]),
    );
    let data = expect_ok(&h, sample(DeleteToken), 200);
    assert_eq!(data["removed"], json!(true));
    assert_eq!(data["webhooks_deleted"], json!(0));
    assert_eq!(
        data["webhook_failures"][0]["full_name"],
        json!("acme/widgets")
    );
    assert_eq!(h.calls().fetch, 0);
}

#[test]
pub(super) fn delete_token_db_failure_is_internal() {
    let h = host();
    h.on_query_err(&DELETE_SQL, DB_DETAIL);
    expect_err(&h, sample(DeleteToken), InternalError);
    assert_eq!(h.calls().fetch, 0, "no hook is deleted while the rows stay");
}

fn accessible_repo(name: &str, private: bool) -> Value {
    json!({
        "id": 1, "name": name, "full_name": format!("acme/{name}"),
        "owner": {"login": "acme", "id": 1}, "default_branch": "main", "private": private,
        "html_url": format!("https://github.com/acme/{name}"),
        "description": if private { json!(format!("The {name}")) } else { Value::Null },
    })
}

#[test]
fn list_accessible_repositories_pages_with_the_link_header() {
    let h = host();
    h.on_query(
        &TOKEN_SQL,
        &["access_token_enc"],
        vec![vec![json!(token_enc())]],
    );
    h.on_fetch(
        "GET",
        &repos_url(3, 2),
        gh_json(200, json!([accessible_repo("widgets", true), accessible_repo("gadgets", false)]))
            .with_header(
                "Link",
                &format!("<{GH}/user/repos?per_page=2&page=4>; rel=next, <{GH}/user/repos?per_page=2&page=9>; rel=last"),
            ),
    );
    let mut r = sample(ListAccessibleRepositories);
    r.query.insert("page".into(), "3".into());
    r.query.insert("per_page".into(), "2".into());
    let data = expect_ok(&h, r, 200);
    assert_eq!(data["page"], json!(3));
    assert_eq!(data["per_page"], json!(2));
    assert_eq!(data["next_page"], json!(4));
    assert_eq!(
        data["items"][0],
        json!({"full_name": "acme/widgets", "owner": "acme", "repo_name": "widgets", "default_branch": "main",
               "private": true, "html_url": "https://github.com/acme/widgets", "description": "The widgets"})
    );
    // GitHub's null description is left out, as the spec makes it optional.
    assert!(data["items"][1].get("description").is_none());
    assert_eq!(data["items"].as_array().unwrap().len(), 2);
    assert_eq!(h.db_calls()[0].params, vec![uuid(PROJECT)]);
    assert_eq!((h.calls().db(), h.calls().fetch), (1, 1));

    // Last page (no Link) with the defaults.
    let h = host();
    h.on_query(
        &TOKEN_SQL,
        &["access_token_enc"],
        vec![vec![json!(token_enc())]],
    );
    h.on_fetch_json("GET", &repos_url(1, 30), 200, &json!([]));
    let data = expect_ok(&h, sample(ListAccessibleRepositories), 200);
    assert_eq!(
        data,
        json!({"items": [], "page": 1, "per_page": 30, "next_page": null})
    );
}

fn accessible_with(status: u16, body: Value, header: Option<(&str, &str)>) -> FakeHost {
    let h = host();
    h.on_query(
        &TOKEN_SQL,
        &["access_token_enc"],
        vec![vec![json!(token_enc())]],
    );
    let mut resp = gh_json(status, body);
    if let Some((k, v)) = header {
        resp = resp.with_header(k, v);
    }
    h.on_fetch("GET", &repos_url(1, 30), resp);
    h
}

#[test]
pub(super) fn list_accessible_repositories_github_failures() {
    let h = accessible_with(401, json!({"message": "Bad credentials"}), None);
    expect_err(&h, sample(ListAccessibleRepositories), GithubInvalidToken);
    let h = accessible_with(403, json!({"message": "SAML enforcement"}), None);
    let r = expect_err(
        &h,
        sample(ListAccessibleRepositories),
        GithubTokenInsufficientPermissions,
    );
    assert!(r.message().contains("SAML enforcement"));
    let h = accessible_with(
        403,
        json!({"message": "secondary rate limit"}),
        Some(("Retry-After", "60")),
    );
    expect_err(&h, sample(ListAccessibleRepositories), GithubRateLimited);
    let h = accessible_with(503, json!({"message": "unicorn"}), None);
    expect_err(&h, sample(ListAccessibleRepositories), GithubUnavailable);
    let h = accessible_with(200, json!({"not": "a list"}), None);
    expect_err(&h, sample(ListAccessibleRepositories), GithubUnavailable);
}

#[test]
pub(super) fn list_accessible_repositories_not_connected() {
    let h = host();
    h.on_query(&TOKEN_SQL, &["access_token_enc"], vec![]);
    expect_err(
        &h,
        sample(ListAccessibleRepositories),
        GithubIntegrationNotFound,
    );
    assert_eq!(h.calls().fetch, 0);
}

#[test]
pub(super) fn list_accessible_repositories_undecryptable_token_is_internal() {
    let h = host();
    let other = EncryptionKey::from_hex(OTHER_KEY_HEX)
        .unwrap()
        .encrypt(TOKEN.as_bytes(), &[3; 12]);
    h.on_query(&TOKEN_SQL, &["access_token_enc"], vec![vec![json!(other)]]);
    expect_err(&h, sample(ListAccessibleRepositories), InternalError);
    assert_eq!(h.calls().fetch, 0);
}

#[test]
pub(super) fn list_accessible_repositories_bad_query() {
    for (k, v) in [
        ("page", "0"),
        ("page", "1001"),
        ("page", "x"),
        ("per_page", "101"),
        ("per_page", "0"),
        ("per_page", "-5"),
    ] {
        let h = host();
        let mut r = sample(ListAccessibleRepositories);
        r.query.insert(k.into(), v.into());
        let reply = expect_err(&h, r, BadRequest);
        assert!(reply.message().contains(k), "{}", reply.message());
        assert_eq!(h.calls().total(), 0);
    }
}
