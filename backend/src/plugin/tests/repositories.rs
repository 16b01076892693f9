//! listLinkedRepositories, linkRepository, unlinkRepository.

use crate::sql;
use std::sync::LazyLock;

use super::*;
use crate::generated::api::ErrorCode::*;
use crate::generated::api::Operation::*;

static CTX_SQL: LazyLock<String> = LazyLock::new(exact::<sql::LinkContext>);
const CTX_COLUMNS: &[&str] = &["integration_id", "access_token_enc"];
static INSERT_SQL: LazyLock<String> = LazyLock::new(exact::<sql::ClaimRepository>);
static FILL_SQL: LazyLock<String> = LazyLock::new(exact::<sql::FillWebhook>);
static RELEASE_SQL: LazyLock<String> = LazyLock::new(exact::<sql::ReleaseRepository>);
static UNLINK_SQL: LazyLock<String> = LazyLock::new(exact::<sql::UnlinkTarget>);
const UNLINK_COLUMNS: &[&str] = &[
    "owner",
    "repo_name",
    "full_name",
    "webhook_id",
    "access_token_enc",
];

fn hook_url() -> String {
    format!("{PUBLIC_URL}/api/v1/plugins/com.paca.github/projects/{PROJECT}/webhook")
}

fn repo_url() -> String {
    format!("{GH}/repos/acme/widgets")
}

fn hooks_url() -> String {
    format!("{GH}/repos/acme/widgets/hooks")
}

/// Integration found, GitHub knows the repository, the secret is drawn.
fn link_ready() -> FakeHost {
    link_ready_with(github_repo())
}

/// Like [`link_ready`], GitHub answering `repo` for the repository.
fn link_ready_with(repo: Value) -> FakeHost {
    let h = host();
    h.on_query(
        &CTX_SQL,
        CTX_COLUMNS,
        vec![vec![uuid(INTEGRATION), json!(token_enc())]],
    );
    h.on_fetch("GET", &repo_url(), gh_json(200, repo));
    entropy(&h);
    h
}

/// …and the row is claimed.
fn claimed() -> FakeHost {
    claimed_from(link_ready())
}

fn claimed_from(h: FakeHost) -> FakeHost {
    h.on_query(
        &INSERT_SQL,
        &["id", "created_at", "updated_at"],
        vec![vec![uuid(REPO), json!(T1), json!(T1)]],
    );
    h
}

#[test]
fn a_racing_link_that_loses_the_claim_touches_no_hook() {
    // The other replica claimed the row: no hook is created, none is deleted.
    let h = link_ready();
    h.on_query(&INSERT_SQL, &["id", "created_at", "updated_at"], vec![]);
    let r = expect_err(&h, sample(LinkRepository), GithubRepoAlreadyLinked);
    assert_eq!(r.status, 409);
    assert!(
        h.fetches().iter().all(|f| f.method == "GET"),
        "{:?}",
        h.fetches()
    );
    let claim = db_call(&h, &INSERT_SQL);
    assert!(
        claim.sql.contains("ON CONFLICT  DO NOTHING"),
        "{}",
        claim.sql
    );
    assert!(
        claim
            .sql
            .contains("r.github_repo_id IS NULL AND (lower(r.full_name)) = (lower($5::text))")
    );
    assert_eq!(claim.params[7], json!(9001));
    h.assert_all_consumed();
}

#[test]
fn link_repository_refuses_a_repository_linked_under_its_former_name() {
    // GitHub's id decides: the claim conflicts whatever name the existing row has.
    let h = link_ready();
    h.on_query(&INSERT_SQL, &["id", "created_at", "updated_at"], vec![]);
    expect_err(&h, sample(LinkRepository), GithubRepoAlreadyLinked);
    assert_eq!(
        db_call(&h, &INSERT_SQL).params[..2],
        [uuid(PROJECT), uuid(INTEGRATION)]
    );
    assert_eq!(
        writes(&h).len(),
        1,
        "only the claim, which inserted nothing"
    );
}

/// …and a created hook 77.
fn hook_created() -> FakeHost {
    hook_created_from(claimed())
}

fn hook_created_from(h: FakeHost) -> FakeHost {
    h.on_fetch(
        "POST",
        &hooks_url(),
        gh_json(201, json!({"id": 77, "active": true})),
    );
    h
}

fn assert_hook_removed(h: &FakeHost, id: i64) {
    let url = format!("{GH}/repos/acme/widgets/hooks/{id}");
    assert!(
        h.fetches()
            .iter()
            .any(|f| f.method == "DELETE" && f.url == url),
        "hook {id} must be deleted again: {:?}",
        h.fetches()
            .iter()
            .map(|f| format!("{} {}", f.method, f.url))
            .collect::<Vec<_>>()
    );
}

fn repo_row(id: Uuid, webhook_id: i64) -> Vec<Value> {
    vec![
        uuid(id),
        uuid(PROJECT),
        uuid(INTEGRATION),
        json!("acme"),
        json!("widgets"),
        json!("acme/widgets"),
        json!(webhook_id),
        json!(secret_enc()),
        json!("main"),
        json!(T1),
        json!(T2),
        json!("9001"),
        Value::Null,
        Value::Null,
        Value::Null,
    ]
}

const REPO_COLUMNS: &[&str] = &[
    "id",
    "project_id",
    "integration_id",
    "owner",
    "repo_name",
    "full_name",
    "webhook_id",
    "webhook_secret_enc",
    "default_branch",
    "created_at",
    "updated_at",
    "github_repo_id",
    "github_repo_updated_at",
    "clone_url",
    "private",
];

#[test]
fn list_linked_repositories_shows_the_stored_clone_url() {
    let h = host();
    let mut row = repo_row(REPO, 77);
    row[13] = json!("https://ghe.example.com/acme/widgets.git");
    row[14] = json!(false);
    h.on_query(&exact::<sql::ListRepositories>(), REPO_COLUMNS, vec![row]);
    let data = expect_ok(&h, sample(ListLinkedRepositories), 200);
    assert_eq!(
        data[0]["clone_url"],
        json!("https://ghe.example.com/acme/widgets.git")
    );
}

#[test]
fn list_linked_repositories_is_one_scoped_query() {
    let h = host();
    h.on_query(
        &exact::<sql::ListRepositories>(),
        REPO_COLUMNS,
        vec![repo_row(REPO, 77), repo_row(LINK, 0)],
    );
    let data = expect_ok(&h, sample(ListLinkedRepositories), 200);
    assert_eq!(
        data[0],
        json!({
            "id": REPO, "project_id": PROJECT, "owner": "acme", "repo_name": "widgets",
            "full_name": "acme/widgets", "default_branch": "main",
            "clone_url": "https://github.com/acme/widgets.git",
            "html_url": "https://github.com/acme/widgets", "webhook_active": true,
            "created_at": T1, "updated_at": T2
        })
    );
    assert_eq!(data[1]["webhook_active"], json!(false));
    let call = &h.db_calls()[0];
    assert!(
        call.sql.contains("WHERE project_id = $1::uuid"),
        "{}",
        call.sql
    );
    assert_eq!(call.params, vec![uuid(PROJECT)]);
    assert_eq!(h.calls().db(), 1);
}

#[test]
fn link_repository_creates_hook_and_stores_encrypted_secret() {
    let mut repo = github_repo();
    repo["clone_url"] = json!("https://ghe.example.com/acme/widgets.git");
    let h = hook_created_from(claimed_from(link_ready_with(repo)));
    h.on_query(&FILL_SQL, &["updated_at"], vec![vec![json!(T2)]]);
    let mut r = sample(LinkRepository);
    r.body = json!({"owner": " acme ", "repo_name": "widgets.git"})
        .to_string()
        .into_bytes();
    let data = expect_ok(&h, r, 201);
    assert_eq!(
        data,
        json!({
            "id": REPO, "project_id": PROJECT, "owner": "acme", "repo_name": "widgets",
            "full_name": "acme/widgets", "default_branch": "main",
            "clone_url": "https://ghe.example.com/acme/widgets.git",
            "html_url": "https://github.com/acme/widgets", "webhook_active": true,
            "created_at": T1, "updated_at": T2
        })
    );
    let ctx = db_call(&h, &CTX_SQL);
    assert_eq!(ctx.params, vec![uuid(PROJECT)]);
    // The hook: our URL, JSON, the three events, a fresh 64-hex secret.
    let create = h
        .fetches()
        .into_iter()
        .find(|f| f.method == "POST")
        .unwrap();
    assert_eq!(create.url, hooks_url());
    let body: Value = serde_json::from_str(&create.body).unwrap();
    assert_eq!(body["config"]["url"], json!(hook_url()));
    assert_eq!(body["config"]["content_type"], json!("json"));
    assert_eq!(body["events"], json!(["push", "pull_request", "check_run"]));
    let secret = body["config"]["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 64);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    // The claimed row: GitHub repo id and the secret encrypted under ENCRYPTION_KEY, stored
    // before the hook exists (so its ping verifies); then the hook id.
    let insert = db_call(&h, &INSERT_SQL);
    assert!(insert.sql.contains("ON CONFLICT  DO NOTHING"));
    assert_eq!(insert.params[0], uuid(PROJECT));
    assert_eq!(insert.params[1], uuid(INTEGRATION));
    assert_eq!(insert.params[7], json!(9001));
    // GitHub's own clone URL and visibility are stored, for the repository capability.
    assert_eq!(
        insert.params[9],
        json!("https://ghe.example.com/acme/widgets.git")
    );
    assert_eq!(insert.params[10], json!(true));
    let stored = insert.params[5].as_str().unwrap();
    assert_eq!(key().decrypt_string(stored).unwrap(), secret);
    assert_eq!(db_call(&h, &FILL_SQL).params, vec![uuid(REPO), json!(77)]);
    let order: Vec<String> = h
        .db_calls()
        .iter()
        .map(|c| c.sql[..20].to_string())
        .collect();
    assert!(
        order[2].starts_with("INSERT") && order[3].starts_with("UPDATE"),
        "{order:?}"
    );
    // Budget: context, entropy, claim, fill; GitHub: read repo, create hook (as before).
    // The secret stays inside.
    assert_eq!((h.calls().db(), h.calls().fetch), (4, 2));
    let text = data.to_string();
    assert!(!text.contains(&secret) && !text.contains(stored));
    assert!(
        h.logs()
            .iter()
            .all(|(_, l)| !l.contains(&secret) && !l.contains(stored))
    );
    h.assert_all_consumed();
}

#[test]
fn link_repository_replaces_a_stale_hook_with_our_url() {
    let h = claimed();
    h.on_fetch_json(
        "POST",
        &hooks_url(),
        422,
        &json!({"message": "Validation Failed", "errors": [{"resource": "Hook", "code": "custom", "message": "Hook already exists on this repository"}]}),
    );
    h.on_fetch_json(
        "GET",
        &format!("{GH}/repos/acme/widgets/hooks?per_page=100&page=1"),
        200,
        &json!([{"id": 12, "config": {"url": "https://elsewhere.example/hook"}}, {"id": 55, "config": {"url": hook_url()}}]),
    );
    h.on_query(&exact::<sql::LiveWebhook>(), &["?column?"], vec![]);
    h.on_fetch(
        "DELETE",
        &format!("{GH}/repos/acme/widgets/hooks/55"),
        FetchResponse::new(204, ""),
    );
    h.on_fetch("POST", &hooks_url(), gh_json(201, json!({"id": 78})));
    h.on_query(&FILL_SQL, &["updated_at"], vec![vec![json!(T1)]]);
    expect_ok(&h, sample(LinkRepository), 201);
    assert_eq!(db_call(&h, &FILL_SQL).params[1], json!(78));
    assert_eq!(
        db_call(&h, &exact::<sql::LiveWebhook>()).params[1],
        json!(55)
    );
    h.assert_all_consumed();
}

#[test]
fn link_repository_keeps_an_existing_hook_that_a_row_still_uses() {
    let h = claimed();
    h.on_fetch_json(
        "POST",
        &hooks_url(),
        422,
        &json!({"message": "Validation Failed", "errors": [{"resource": "Hook", "code": "custom", "message": "Hook already exists on this repository"}]}),
    );
    h.on_fetch_json(
        "GET",
        &format!("{GH}/repos/acme/widgets/hooks?per_page=100&page=1"),
        200,
        &json!([{"id": 55, "config": {"url": hook_url()}}]),
    );
    h.on_query(
        &exact::<sql::LiveWebhook>(),
        &["?column?"],
        vec![vec![json!(1)]],
    );
    h.on_exec(&RELEASE_SQL, 1);
    expect_err(&h, sample(LinkRepository), GithubRepoAlreadyLinked);
    assert!(h.fetches().iter().all(|f| f.method != "DELETE"));
    h.assert_all_consumed();
}

#[test]
pub(super) fn link_repository_invalid_names_touch_nothing() {
    for (owner, name) in [
        ("acme/evil", "widgets"),
        ("-acme", "widgets"),
        ("ac me", "widgets"),
        ("acme", ".."),
        ("acme", "wid/gets"),
        ("acme", "a?b"),
    ] {
        let h = host();
        let mut r = sample(LinkRepository);
        r.body = json!({"owner": owner, "repo_name": name})
            .to_string()
            .into_bytes();
        expect_err(&h, r, InvalidRepositoryName);
        assert_eq!((h.calls().db(), h.calls().fetch), (0, 0));
    }
}

#[test]
pub(super) fn link_repository_bad_body() {
    for body in [
        json!({"owner": "acme"}),
        json!({"owner": "", "repo_name": "x"}),
        json!({"owner": "a".repeat(40), "repo_name": "x"}),
        json!([1]),
    ] {
        let h = host();
        let mut r = sample(LinkRepository);
        r.body = body.to_string().into_bytes();
        expect_err(&h, r, BadRequest);
        assert_eq!(h.calls().total(), 0);
    }
}

#[test]
pub(super) fn link_repository_requires_public_url() {
    for public_url in [None, Some("paca.internal:8080")] {
        let h = FakeHost::new();
        h.set_config("ENCRYPTION_KEY", KEY_HEX);
        if let Some(u) = public_url {
            h.set_config("PUBLIC_URL", u);
        }
        let r = expect_err(&h, sample(LinkRepository), GithubWebhookUrlRequired);
        assert!(r.message().contains("PUBLIC_URL"));
        assert_eq!((h.calls().db(), h.calls().fetch), (0, 0));
    }
}

#[test]
pub(super) fn link_repository_not_connected() {
    let h = host();
    h.on_query(&CTX_SQL, CTX_COLUMNS, vec![]);
    expect_err(&h, sample(LinkRepository), GithubIntegrationNotFound);
    assert_eq!(h.calls().fetch, 0);
}

#[test]
pub(super) fn link_repository_unlinked_while_linking_removes_its_hook() {
    let h = hook_created();
    h.on_query(&FILL_SQL, &["updated_at"], vec![]);
    h.on_fetch(
        "DELETE",
        &format!("{GH}/repos/acme/widgets/hooks/77"),
        FetchResponse::new(204, ""),
    );
    let r = expect_err(&h, sample(LinkRepository), GithubRepoAlreadyLinked);
    assert_eq!(r.status, 409);
    assert_hook_removed(&h, 77);
    h.assert_all_consumed();
}

#[test]
pub(super) fn link_repository_insert_failure_is_internal_before_any_hook() {
    let h = link_ready();
    h.on_query_err(&INSERT_SQL, DB_DETAIL);
    expect_err(&h, sample(LinkRepository), InternalError);
    assert!(h.fetches().iter().all(|f| f.method == "GET"));
}

#[test]
pub(super) fn link_repository_fill_failure_removes_hook_and_row() {
    let h = hook_created();
    h.on_query_err(&FILL_SQL, DB_DETAIL);
    h.on_exec(&RELEASE_SQL, 1);
    h.on_fetch_json(
        "DELETE",
        &format!("{GH}/repos/acme/widgets/hooks/77"),
        500,
        &json!({"message": "x"}),
    );
    expect_err(&h, sample(LinkRepository), InternalError);
    assert_hook_removed(&h, 77);
    assert_eq!(db_call(&h, &RELEASE_SQL).params, vec![uuid(REPO)]);
    // The failed cleanup is logged.
    assert!(
        h.logs()
            .iter()
            .any(|(_, l)| l.contains("could not remove webhook 77"))
    );
}

#[test]
pub(super) fn link_repository_repo_not_accessible() {
    for status in [404, 403] {
        let h = host();
        h.on_query(
            &CTX_SQL,
            CTX_COLUMNS,
            vec![vec![uuid(INTEGRATION), json!(token_enc())]],
        );
        h.on_fetch_json("GET", &repo_url(), status, &json!({"message": "Not Found"}));
        expect_err(&h, sample(LinkRepository), GithubRepoNotAccessible);
        assert_eq!(h.calls().db(), 1, "no entropy, no insert");
    }
}

fn repo_read_fails(resp: Result<FetchResponse, &str>) -> FakeHost {
    let h = host();
    h.on_query(
        &CTX_SQL,
        CTX_COLUMNS,
        vec![vec![uuid(INTEGRATION), json!(token_enc())]],
    );
    match resp {
        Ok(r) => h.on_fetch("GET", &repo_url(), r),
        Err(e) => h.on_fetch_err("GET", &repo_url(), e),
    };
    h
}

#[test]
pub(super) fn link_repository_invalid_token() {
    let h = repo_read_fails(Ok(gh_json(401, json!({"message": "Bad credentials"}))));
    expect_err(&h, sample(LinkRepository), GithubInvalidToken);
}

#[test]
pub(super) fn link_repository_rate_limited() {
    let h = repo_read_fails(Ok(
        gh_json(403, json!({"message": "rate"})).with_header("X-RateLimit-Remaining", "0")
    ));
    expect_err(&h, sample(LinkRepository), GithubRateLimited);
}

#[test]
pub(super) fn link_repository_github_unavailable() {
    let h = repo_read_fails(Err("fetch: connection refused"));
    expect_err(&h, sample(LinkRepository), GithubUnavailable);
}

#[test]
pub(super) fn link_repository_webhook_url_not_public() {
    let h = claimed();
    h.on_exec(&RELEASE_SQL, 1);
    h.on_fetch_json(
        "POST",
        &hooks_url(),
        422,
        &json!({"message": "Validation Failed", "errors": [{"resource": "Hook", "code": "custom",
            "message": "Sorry, the URL isn't reachable over the public internet (localhost)"}],
            "documentation_url": "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook"}),
    );
    let r = expect_err(&h, sample(LinkRepository), GithubWebhookUrlNotPublic);
    assert!(r.message().contains(&hook_url()));
    // The claimed row is released again.
    h.assert_all_consumed();
}

#[test]
pub(super) fn link_repository_webhook_creation_failed() {
    for resp in [
        gh_json(500, json!({"message": "Server Error"})),
        gh_json(
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "Hook", "code": "custom", "message": "too many hooks"}]}),
        ),
    ] {
        let h = claimed();
        h.on_exec(&RELEASE_SQL, 1);
        h.on_fetch("POST", &hooks_url(), resp);
        expect_err(&h, sample(LinkRepository), GithubWebhookCreationFailed);
        h.assert_all_consumed();
    }
}

#[test]
pub(super) fn link_repository_without_hook_admin_rights() {
    let h = claimed();
    h.on_exec(&RELEASE_SQL, 1);
    h.on_fetch_json("POST", &hooks_url(), 404, &json!({"message": "Not Found"}));
    expect_err(
        &h,
        sample(LinkRepository),
        GithubTokenInsufficientPermissions,
    );
    h.assert_all_consumed();
}

#[test]
fn unlink_repository_deletes_webhook_and_row() {
    let h = host();
    h.on_query(
        &UNLINK_SQL,
        UNLINK_COLUMNS,
        vec![vec![
            json!("acme"),
            json!("widgets"),
            json!("acme/widgets"),
            json!(77),
            json!(token_enc()),
        ]],
    );
    h.on_fetch(
        "DELETE",
        &format!("{GH}/repos/acme/widgets/hooks/77"),
        FetchResponse::new(204, ""),
    );
    h.on_exec(&exact::<sql::DeleteRepository>(), 1);
    let data = expect_ok(&h, sample(UnlinkRepository), 200);
    assert_eq!(data, json!({"id": REPO, "webhook_deleted": true}));
    let lookup = db_call(&h, &UNLINK_SQL);
    assert!(
        lookup
            .sql
            .contains("r.id = $1::uuid AND r.project_id = $2::uuid")
    );
    assert_eq!(lookup.params, vec![uuid(REPO), uuid(PROJECT)]);
    assert_eq!(
        db_call(&h, &exact::<sql::DeleteRepository>()).params,
        vec![uuid(REPO), uuid(PROJECT)]
    );
    h.assert_all_consumed();
}

#[test]
fn unlink_repository_reports_a_webhook_failure_and_still_unlinks() {
    let h = host();
    h.on_query(
        &UNLINK_SQL,
        UNLINK_COLUMNS,
        vec![vec![
            json!("acme"),
            json!("widgets"),
            json!("acme/widgets"),
            json!(77),
            json!(token_enc()),
        ]],
    );
    h.on_fetch_json(
        "DELETE",
        &format!("{GH}/repos/acme/widgets/hooks/77"),
        403,
        &json!({"message": "Must have admin rights to Repository."}),
    );
    h.on_exec(&exact::<sql::DeleteRepository>(), 1);
    let data = expect_ok(&h, sample(UnlinkRepository), 200);
    assert_eq!(data["webhook_deleted"], json!(false));
    assert!(
        data["webhook_error"]
            .as_str()
            .unwrap()
            .contains("admin rights")
    );
    h.assert_all_consumed();
}

#[test]
pub(super) fn unlink_repository_of_another_project_is_404() {
    let h = host();
    h.on_query(&UNLINK_SQL, UNLINK_COLUMNS, vec![]);
    expect_err(&h, sample(UnlinkRepository), GithubRepositoryNotFound);
    assert_eq!(h.calls().db(), 1);
    assert_eq!(h.db_calls()[0].params, vec![uuid(REPO), uuid(PROJECT)]);
    assert_eq!((h.calls().fetch, h.calls().emit), (0, 0));
    assert_no_side_effects(&h);
}

#[test]
pub(super) fn unlink_repository_db_failure_is_internal() {
    let h = host();
    h.on_query(
        &UNLINK_SQL,
        UNLINK_COLUMNS,
        vec![vec![
            json!("acme"),
            json!("widgets"),
            json!("acme/widgets"),
            json!(0),
            json!(token_enc()),
        ]],
    );
    h.on_exec_err(&exact::<sql::DeleteRepository>(), DB_DETAIL);
    expect_err(&h, sample(UnlinkRepository), InternalError);
    assert_eq!(
        h.calls().fetch,
        0,
        "webhook_id 0: nothing to delete on GitHub"
    );
}
