//! Host calls per operation stay at or below the committed table `backend/host-call-budget.txt`
//! (each DB call is its own transaction on the host, each fetch a network call). Every
//! scenario is the operation's success path, run once against the FakeHost; every operation
//! of the spec needs at least one row, and list routes may make one DB call only.

use super::pull_requests::{CTX_COLUMNS, CTX_SQL, ctx_row};
use super::webhook::delivery;
use super::*;
use crate::generated::api::Operation;
use crate::generated::api::Operation::*;

const BUDGET: &str = include_str!("../../../host-call-budget.txt");

struct Row {
    scenario: String,
    db: usize,
    fetch: usize,
}

fn budget() -> Vec<Row> {
    BUDGET
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 5, "budget line needs 5 columns: {l}");
            Row {
                scenario: f[0].to_string(),
                db: f[1].parse().unwrap_or_else(|e| panic!("{l}: {e}")),
                fetch: f[2].parse().unwrap_or_else(|e| panic!("{l}: {e}")),
            }
        })
        .collect()
}

/// `listTaskPullRequests` → `list_task_pull_requests`.
fn snake(id: &str) -> String {
    let mut s = String::new();
    for c in id.chars() {
        if c.is_ascii_uppercase() {
            s.push('_');
        }
        s.push(c.to_ascii_lowercase());
    }
    s
}

const TS: &[&str] = &["created_at", "updated_at"];
const HOOK_COLUMNS: &[&str] = &[
    "access_token_enc",
    "owner",
    "repo_name",
    "full_name",
    "webhook_id",
];
const LOOKUP: &str = "FROM github_repositories r JOIN projects p";
const LOOKUP_COLUMNS: &[&str] = &["id", "full_name", "webhook_secret_enc", "task_id_prefix"];
const CLAIM: &str = "INSERT INTO github_webhook_deliveries";

fn hook_row() -> Vec<Value> {
    vec![
        json!(token_enc()),
        json!("acme"),
        json!("widgets"),
        json!("acme/widgets"),
        json!(77),
    ]
}

fn lookup(h: &FakeHost) {
    h.on_query(
        LOOKUP,
        LOOKUP_COLUMNS,
        vec![vec![
            uuid(REPO),
            json!("acme/widgets"),
            json!(secret_enc()),
            json!("PROJ"),
        ]],
    );
}

fn claimed(h: &FakeHost, id: &str) {
    lookup(h);
    h.on_query(CLAIM, &["delivery_id"], vec![vec![json!(id)]]);
}

fn pr_delivery(action: &str, state: &str, id: &str) -> Request {
    let payload = json!({
        "action": action, "number": 5,
        "pull_request": github_pull(5, state, "feat/linked-source", "Add auth"),
    });
    delivery("pull_request", &payload, Some(id))
}

fn push_delivery(reference: &str, created: bool, id: &str) -> Request {
    let before = if created {
        "0000000000000000000000000000000000000000"
    } else {
        "1111111111111111111111111111111111111111"
    };
    let payload = json!({"ref": reference, "before": before,
        "after": "3333333333333333333333333333333333333333", "created": created, "deleted": false});
    delivery("push", &payload, Some(id))
}

fn pr_row() -> Vec<Value> {
    vec![
        uuid(PR),
        uuid(PROJECT),
        uuid(REPO),
        json!("acme/widgets"),
        json!(5),
        json!(880_005),
        json!("Add auth"),
        json!("open"),
        json!("https://github.com/acme/widgets/pull/5"),
        json!("feat/linked-source"),
        json!("main"),
        json!("octocat"),
        Value::Null,
        json!(T1),
        json!(T2),
    ]
}

const PR_COLUMNS: &[&str] = &[
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

/// Scripts the success path of `scenario` on `h` and runs it; false for an unknown name.
fn run(scenario: &str, h: &FakeHost) -> bool {
    let ok = |r: Request| {
        let reply = send(h, r);
        assert!(
            (200..300).contains(&reply.status),
            "{scenario} must succeed: {} {}",
            reply.status,
            reply.body
        );
    };
    match scenario {
        "get_integration" => {
            h.on_query(
                "FROM github_integrations WHERE project_id",
                TS,
                vec![vec![json!(T1), json!(T2)]],
            );
            ok(sample(GetIntegration));
        }
        "set_token" => {
            h.on_fetch(
                "GET",
                &format!("{GH}/user"),
                gh_json(200, json!({"login": "octocat", "id": 2})),
            );
            entropy(h, 2);
            h.on_query(
                "INSERT INTO github_integrations",
                TS,
                vec![vec![json!(T1), json!(T2)]],
            );
            ok(sample(SetToken));
        }
        "delete_token" => {
            h.on_query(
                "FROM github_integrations i LEFT JOIN github_repositories",
                HOOK_COLUMNS,
                vec![hook_row()],
            );
            h.on_fetch(
                "DELETE",
                &format!("{GH}/repos/acme/widgets/hooks/77"),
                FetchResponse::new(204, ""),
            );
            h.on_exec("DELETE FROM github_integrations", 1);
            ok(sample(DeleteToken));
        }
        "list_accessible_repositories" => {
            h.on_query(
                "SELECT access_token_enc FROM github_integrations",
                &["access_token_enc"],
                vec![vec![json!(token_enc())]],
            );
            h.on_fetch(
                "GET",
                &format!(
                    "{GH}/user/repos?visibility=all&affiliation=owner,collaborator,organization_member&per_page=30&page=1"
                ),
                gh_json(200, json!([github_repo()])),
            );
            let mut r = sample(ListAccessibleRepositories);
            r.query.insert("page".into(), "1".into());
            r.query.insert("per_page".into(), "30".into());
            ok(r);
        }
        "list_linked_repositories" => {
            h.on_query(
                "FROM \"github_repositories\"",
                &[
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
                ],
                vec![vec![
                    uuid(REPO),
                    uuid(PROJECT),
                    uuid(INTEGRATION),
                    json!("acme"),
                    json!("widgets"),
                    json!("acme/widgets"),
                    json!(77),
                    json!(secret_enc()),
                    json!("main"),
                    json!(T1),
                    json!(T2),
                    json!("9001"),
                ]],
            );
            ok(sample(ListLinkedRepositories));
        }
        "link_repository" => {
            h.on_query(
                "SELECT i.id AS integration_id",
                &["integration_id", "access_token_enc", "already_linked"],
                vec![vec![uuid(INTEGRATION), json!(token_enc()), json!(false)]],
            );
            h.on_fetch(
                "GET",
                &format!("{GH}/repos/acme/widgets"),
                gh_json(200, github_repo()),
            );
            h.on_query("SELECT 1 FROM github_repositories", &["?column?"], vec![]);
            entropy(h, 4);
            h.on_fetch(
                "POST",
                &format!("{GH}/repos/acme/widgets/hooks"),
                gh_json(201, json!({"id": 77, "active": true})),
            );
            h.on_query(
                "INSERT INTO github_repositories",
                &["id", "created_at", "updated_at"],
                vec![vec![uuid(REPO), json!(T1), json!(T1)]],
            );
            ok(sample(LinkRepository));
        }
        "unlink_repository" => {
            h.on_query(
                "FROM github_repositories r JOIN github_integrations",
                &[
                    "owner",
                    "repo_name",
                    "full_name",
                    "webhook_id",
                    "access_token_enc",
                ],
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
            h.on_exec("DELETE FROM github_repositories", 1);
            ok(sample(UnlinkRepository));
        }
        "list_task_pull_requests" => {
            h.on_query(
                "LEFT JOIN github_task_pr_links l",
                PR_COLUMNS,
                vec![pr_row()],
            );
            ok(sample(ListTaskPullRequests));
        }
        "link_pull_request" => {
            h.on_query(CTX_SQL, CTX_COLUMNS, vec![ctx_row()]);
            h.on_fetch(
                "GET",
                &format!("{GH}/repos/acme/widgets/pulls/5"),
                gh_json(200, github_pull(5, "open", "feat/x", "Add auth")),
            );
            h.on_query(
                "INSERT INTO github_pull_requests",
                PR_COLUMNS,
                vec![pr_row()],
            );
            h.on_query(
                "INSERT INTO github_task_pr_links",
                &["id"],
                vec![vec![uuid(LINK)]],
            );
            ok(sample(LinkPullRequest));
        }
        "unlink_pull_request" => {
            h.on_query(
                "DELETE FROM github_task_pr_links",
                &["id"],
                vec![vec![uuid(LINK)]],
            );
            ok(sample(UnlinkPullRequest));
        }
        "list_task_branches" => {
            h.on_query(
                "LEFT JOIN github_task_branches b",
                &[
                    "id",
                    "repo_id",
                    "repo_full_name",
                    "branch_name",
                    "created_at",
                ],
                vec![vec![
                    uuid(LINK),
                    uuid(REPO),
                    json!("acme/widgets"),
                    json!("feat/PROJ-42-x"),
                    json!(T1),
                ]],
            );
            ok(sample(ListTaskBranches));
        }
        "create_branch" => {
            h.on_query(CTX_SQL, CTX_COLUMNS, vec![ctx_row()]);
            h.on_fetch_json(
                "GET",
                &format!("{GH}/repos/acme/widgets/git/ref/heads/main"),
                200,
                &json!({"ref": "refs/heads/main", "object": {"sha": "abc123", "type": "commit"}}),
            );
            h.on_fetch_json(
                "POST",
                &format!("{GH}/repos/acme/widgets/git/refs"),
                201,
                &json!({"ref": "refs/heads/feat/PROJ-42-x", "object": {"sha": "abc123"}}),
            );
            h.on_query(
                "INSERT INTO github_task_branches",
                &["id", "created_at"],
                vec![vec![uuid(LINK), json!(T1)]],
            );
            ok(sample(CreateBranch));
        }
        "receive_webhook_ping" => {
            lookup(h);
            ok(delivery(
                "ping",
                &json!({"zen": "Keep it simple."}),
                Some("d-1"),
            ));
        }
        "receive_webhook_pull_request_opened_linked_branch" => {
            claimed(h, "d-2");
            h.on_query(
                "INSERT INTO github_pull_requests",
                &["id", "linked_tasks"],
                vec![vec![uuid(PR), json!("[]")]],
            );
            h.on_query(
                "INSERT INTO github_task_pr_links",
                &["task_id"],
                vec![vec![uuid(TASK)]],
            );
            ok(pr_delivery("opened", "open", "d-2"));
            assert_eq!(h.emits().len(), 2, "pr_linked and pr_updated for the task");
        }
        "receive_webhook_pull_request_closed" => {
            claimed(h, "d-3");
            h.on_query(
                "INSERT INTO github_pull_requests",
                &["id", "linked_tasks"],
                vec![vec![uuid(PR), json!(format!("[\"{TASK}\"]"))]],
            );
            ok(pr_delivery("closed", "closed", "d-3"));
        }
        "receive_webhook_push_new_branch_with_key" => {
            claimed(h, "d-4");
            h.on_query(
                "INSERT INTO github_task_branches",
                &["task_id"],
                vec![vec![uuid(TASK)]],
            );
            ok(push_delivery("refs/heads/feat/PROJ-42-login", true, "d-4"));
        }
        "receive_webhook_push_ignored" => {
            lookup(h);
            ok(push_delivery("refs/heads/feat/PROJ-42-login", false, "d-5"));
        }
        "receive_webhook_duplicate_delivery" => {
            lookup(h);
            h.on_query(CLAIM, &["delivery_id"], vec![]);
            ok(pr_delivery("opened", "open", "d-6"));
            assert_eq!(h.emits().len(), 0);
        }
        "receive_webhook_bad_signature" => {
            lookup(h);
            let mut r = delivery("ping", &json!({}), Some("d-7"));
            r.headers.insert(
                "X-Hub-Signature-256".into(),
                format!("sha256={}", "0".repeat(64)),
            );
            let reply = send(h, r);
            assert_eq!(reply.status, 401, "{}", reply.body);
        }
        "event_task_deleted" => {
            h.on_exec("DELETE FROM github_task_pr_links", 1);
            crate::handle_event(
                h,
                "task.deleted",
                json!({"task_id": TASK}).to_string().as_bytes(),
            );
        }
        "event_project_deleted" => {
            h.on_query(
                "FROM github_integrations i LEFT JOIN github_repositories",
                HOOK_COLUMNS,
                vec![hook_row()],
            );
            h.on_fetch(
                "DELETE",
                &format!("{GH}/repos/acme/widgets/hooks/77"),
                FetchResponse::new(204, ""),
            );
            h.on_exec("DELETE FROM github_integrations", 1);
            crate::handle_event(
                h,
                "project.deleted",
                json!({"project_id": PROJECT}).to_string().as_bytes(),
            );
        }
        _ => return false,
    }
    true
}

#[test]
fn every_scenario_stays_within_its_host_call_budget() {
    let rows = budget();
    for row in &rows {
        let h = host();
        assert!(
            run(&row.scenario, &h),
            "budget scenario {} has no script in budget.rs",
            row.scenario
        );
        let calls = h.calls();
        assert!(
            calls.db() <= row.db && calls.fetch <= row.fetch,
            "{}: {} DB calls and {} fetches, budget {} and {}: {:#?}",
            row.scenario,
            calls.db(),
            calls.fetch,
            row.db,
            row.fetch,
            h.db_calls()
        );
        // A real path, not an accident of scripting: the scenario touched the database.
        assert!(calls.db() >= 1, "{} made no DB call", row.scenario);
    }
}

#[test]
fn every_operation_has_a_budget_and_list_routes_one_db_call() {
    let rows = budget();
    for op in Operation::ALL {
        let name = snake(op.id());
        assert!(
            rows.iter()
                .any(|r| r.scenario == name || r.scenario.starts_with(&format!("{name}_"))),
            "operation {} has no row in backend/host-call-budget.txt: add its success path \
             (and its script in backend/src/plugin/tests/budget.rs)",
            op.id()
        );
        if name.starts_with("list_") {
            for r in rows.iter().filter(|r| r.scenario == name) {
                assert!(r.db <= 1, "{name}: a list route answers in one DB call");
            }
        }
    }
    let webhook = rows
        .iter()
        .find(|r| r.scenario == "receive_webhook_pull_request_opened_linked_branch")
        .expect("the opened-with-linked-branch webhook row");
    assert!(
        webhook.db <= 4,
        "pull_request.opened with a linked branch: at most 4 DB calls"
    );
}
