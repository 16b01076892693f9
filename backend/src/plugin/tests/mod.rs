//! Native tests of the plugin, driven through [`crate::handle_request`] / [`crate::handle_event`]
//! against the scriptable [`FakeHost`]: routing, validation, envelopes and handlers together.
//!
//! Every request goes through [`send`], which checks the envelope shape, records the
//! `(operation, error_code)` pairs it sees (for the coverage table in [`coverage`]) and asserts
//! that no secret ever appears in a response body, a log line or an event payload.

use crate::abi::envelope::Request;
use crate::crypto::EncryptionKey;
use crate::fake_host::{DbCall, DbMode, FakeHost};
use crate::generated::api::{ErrorCode, Operation, route};
use crate::host::FetchResponse;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The FakeHost pattern that matches exactly the rendered SQL of statement `S`.
pub(super) fn exact<S: crate::sql::Statement>() -> String {
    format!("^{}$", regex::escape(S::SQL))
}

mod branches;
mod capability;
mod coverage;
mod events;
mod integration;
mod pr_workflow;
mod pull_requests;
mod replicas;
mod repositories;
mod routing;
mod webhook;

pub const KEY_HEX: &str = "8a1f3c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a";
pub const OTHER_KEY_HEX: &str = "0000000000000000000000000000000000000000000000000000000000000001";
pub const TOKEN: &str = "ghp_secret_token_value";
pub const SECRET: &str = "whsec_5f0c1d2e3a4b5c6d7e8f9a0b1c2d3e4f";
pub const GH: &str = "https://api.github.com";
pub const PUBLIC_URL: &str = "https://paca.example.com";
/// Text a failing host DB call carries; it must reach logs only, never a client.
pub const DB_DETAIL: &str = "ERROR: relation internal_detail_xyz (SQLSTATE 42P01)";

pub const PROJECT: Uuid = Uuid::from_u128(0x1111_1111_1111_4111_8111_1111_1111_1111);
pub const OTHER_PROJECT: Uuid = Uuid::from_u128(0x2222_2222_2222_4222_8222_2222_2222_2222);
pub const TASK: Uuid = Uuid::from_u128(0x3333_3333_3333_4333_8333_3333_3333_3333);
pub const TASK2: Uuid = Uuid::from_u128(0x3333_3333_3333_4333_8333_3333_3333_3334);
pub const REPO: Uuid = Uuid::from_u128(0x4444_4444_4444_4444_8444_4444_4444_4444);
pub const PR: Uuid = Uuid::from_u128(0x5555_5555_5555_4555_8555_5555_5555_5555);
pub const INTEGRATION: Uuid = Uuid::from_u128(0x6666_6666_6666_4666_8666_6666_6666_6666);
pub const LINK: Uuid = Uuid::from_u128(0x7777_7777_7777_4777_8777_7777_7777_7777);
pub const T1: &str = "2026-01-02T03:04:05Z";
pub const T2: &str = "2026-01-03T04:05:06Z";

thread_local! {
    /// `(operation, error_code)` pairs produced by [`send`] on this thread.
    pub static PRODUCED: RefCell<Vec<(Operation, ErrorCode)>> = const { RefCell::new(Vec::new()) };
}

pub fn key() -> EncryptionKey {
    EncryptionKey::from_hex(KEY_HEX).unwrap()
}

/// The stored (encrypted) token, as `github_integrations.access_token_enc` holds it.
pub fn token_enc() -> String {
    key().encrypt(TOKEN.as_bytes(), &[1; 12])
}

/// The stored (encrypted) webhook secret, as `github_repositories.webhook_secret_enc` holds it.
pub fn secret_enc() -> String {
    key().encrypt(SECRET.as_bytes(), &[2; 12])
}

/// A host with `ENCRYPTION_KEY` and `PUBLIC_URL` configured.
pub fn host() -> FakeHost {
    let h = FakeHost::new();
    h.set_config("ENCRYPTION_KEY", KEY_HEX)
        .set_config("PUBLIC_URL", PUBLIC_URL);
    h
}

/// Scripts one `DrawEntropy`: distinct v4 UUIDs, as many as it selects.
pub fn entropy(h: &FakeHost) {
    use crate::sql::Statement;
    let count = crate::sql::DrawEntropy::SQL
        .matches("gen_random_uuid()")
        .count();
    let columns: Vec<String> = (0..count).map(|i| format!("u{i}")).collect();
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let row = (0..count)
        .map(|i| {
            json!(format!(
                "{:08x}-1a2b-4c3d-8e4f-{:012x}",
                0x5eed_0000 + i,
                i * 7 + 1
            ))
        })
        .collect();
    h.on_query("gen_random_uuid", &columns, vec![row]);
}

pub fn path(rest: &str) -> String {
    format!("projects/{PROJECT}/{rest}")
}

pub fn task_path(rest: &str) -> String {
    format!("projects/{PROJECT}/tasks/{TASK}/github/{rest}")
}

/// A request as the host builds it for a project-scoped route.
pub fn req(method: &str, path: &str) -> Request {
    Request {
        method: method.to_string(),
        path: path.to_string(),
        query: BTreeMap::new(),
        project_id: PROJECT.to_string(),
        caller_id: "9c0f2d1e-0000-4000-8000-00000000c411".into(),
        user_id: "9c0f2d1e-0000-4000-8000-00000000c411".into(),
        caller_role: "member".into(),
        headers: BTreeMap::from([("Accept".to_string(), "application/json".to_string())]),
        body: Vec::new(),
    }
}

pub fn json_req(method: &str, path: &str, body: Value) -> Request {
    let mut r = req(method, path);
    r.headers
        .insert("Content-Type".into(), "application/json".into());
    r.body = body.to_string().into_bytes();
    r
}

/// A valid request for each operation (ids: PROJECT, TASK, REPO, PR).
pub fn sample(op: Operation) -> Request {
    use Operation::*;
    match op {
        GetIntegration => req("GET", &path("github")),
        SetToken => json_req("POST", &path("github/token"), json!({ "token": TOKEN })),
        DeleteToken => req("DELETE", &path("github/token")),
        ListAccessibleRepositories => req("GET", &path("github/repositories")),
        ListLinkedRepositories => req("GET", &path("github/linked-repositories")),
        LinkRepository => json_req(
            "POST",
            &path("github/linked-repositories"),
            json!({"owner": "acme", "repo_name": "widgets"}),
        ),
        UnlinkRepository => req(
            "DELETE",
            &path(&format!("github/linked-repositories/{REPO}")),
        ),
        ListTaskPullRequests => req("GET", &task_path("pull-requests")),
        LinkPullRequest => json_req(
            "POST",
            &task_path("pull-requests"),
            json!({"repo_id": REPO, "pr_number": 5}),
        ),
        UnlinkPullRequest => req("DELETE", &task_path(&format!("pull-requests/{PR}"))),
        ListTaskBranches => req("GET", &task_path("branches")),
        CreateBranch => json_req(
            "POST",
            &task_path("branches"),
            json!({"repo_id": REPO, "branch_name": "feat/PROJ-42-x"}),
        ),
        ReceiveWebhook => webhook::delivery("ping", &json!({"zen": "Keep it simple."}), None),
        ListRepositories => req("GET", &path("repositories")),
        GetCloneInfo => req("GET", &path(&format!("repositories/{REPO}/clone-info"))),
        CreatePullRequest => json_req(
            "POST",
            &task_path(&format!("repositories/{REPO}/pull-requests")),
            json!({"title": "Add auth", "head_branch": "feat/PROJ-42-x", "base_branch": "main"}),
        ),
        GetPullRequestDetails => req("GET", &task_path(&format!("pull-requests/{PR}"))),
        GetPullRequestCiStatus => req("GET", &task_path(&format!("pull-requests/{PR}/ci-status"))),
        CommentOnPullRequest => json_req(
            "POST",
            &task_path(&format!("pull-requests/{PR}/comments")),
            json!({"body": "Nice"}),
        ),
        ReviewPullRequest => json_req(
            "POST",
            &task_path(&format!("pull-requests/{PR}/reviews")),
            json!({"event": "COMMENT", "body": "One nit"}),
        ),
        LinkBranch => json_req(
            "POST",
            &task_path("branches/link"),
            json!({"repo_id": REPO, "branch_name": "feat/PROJ-42-x"}),
        ),
    }
}

/// A decoded response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The `data` of a success envelope.
    pub fn data(&self) -> &Value {
        assert_eq!(self.body["success"], json!(true), "{}", self.body);
        &self.body["data"]
    }

    pub fn code(&self) -> ErrorCode {
        serde_json::from_value(self.body["error_code"].clone())
            .unwrap_or_else(|e| panic!("no error_code in {} ({e})", self.body))
    }

    pub fn message(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
}

/// Every string that must never reach a client, a log line or an event.
fn secrets() -> Vec<String> {
    vec![
        TOKEN.to_string(),
        SECRET.to_string(),
        KEY_HEX.to_string(),
        token_enc(),
        secret_enc(),
    ]
}

/// Asserts no secret appears in `text`, in any log line or in any emitted event so far.
pub fn assert_no_secrets(h: &FakeHost, text: &str) {
    let logs: Vec<String> = h.logs().into_iter().map(|(_, l)| l).collect();
    let emits: Vec<String> = h.emits().iter().map(|(_, p)| p.to_string()).collect();
    for s in secrets() {
        assert!(!text.contains(&s), "secret {s:?} in response {text}");
        for l in &logs {
            assert!(!l.contains(&s), "secret {s:?} in log line {l}");
        }
        for e in &emits {
            assert!(!e.contains(&s), "secret {s:?} in event {e}");
        }
    }
    for column in ["access_token_enc", "webhook_secret_enc"] {
        assert!(!text.contains(column), "{column} in response {text}");
    }
}

/// Sends one request through the real entry point and checks the envelope.
pub fn send(h: &FakeHost, request: Request) -> Reply {
    let op = route(&request.method, &request.path).map(|(op, _)| op);
    let resp = crate::handle_request(h, request);
    let text = String::from_utf8(resp.body.clone()).expect("UTF-8 body");
    if op == Some(Operation::GetCloneInfo) && resp.status == 200 {
        // The one route whose purpose is handing out the token; logs and events still may not.
        assert_no_secrets(h, &text.replace(TOKEN, "<the token>"));
    } else {
        assert_no_secrets(h, &text);
    }
    let body = if resp.body.is_empty() {
        Value::Null
    } else {
        assert_eq!(resp.header("Content-Type"), Some("application/json"));
        serde_json::from_slice(&resp.body).expect("JSON body")
    };
    let reply = Reply {
        status: resp.status,
        body,
    };
    if resp.status >= 400 {
        assert_eq!(reply.body["success"], json!(false), "{text}");
        assert!(!reply.message().is_empty(), "{text}");
        assert!(!text.contains("SQLSTATE"), "DB text leaked: {text}");
        let code = reply.code();
        assert_eq!(code.status(), resp.status, "{text}");
        if let Some(op) = op {
            PRODUCED.with(|p| p.borrow_mut().push((op, code)));
        }
    } else if resp.status == 204 {
        assert!(resp.body.is_empty());
    } else {
        assert_eq!(reply.body["success"], json!(true), "{text}");
    }
    reply
}

#[track_caller]
pub fn expect_err(h: &FakeHost, request: Request, code: ErrorCode) -> Reply {
    let r = send(h, request);
    assert_eq!(r.code(), code, "{}", r.body);
    r
}

#[track_caller]
pub fn expect_ok(h: &FakeHost, request: Request, status: u16) -> Value {
    let r = send(h, request);
    assert_eq!(r.status, status, "{}", r.body);
    r.data().clone()
}

fn is_write(c: &DbCall) -> bool {
    let sql = c.sql.to_ascii_uppercase();
    c.mode == DbMode::Exec
        || sql.contains("INSERT ")
        || sql.contains("UPDATE ")
        || sql.contains("DELETE ")
}

/// DB calls that change data.
pub fn writes(h: &FakeHost) -> Vec<DbCall> {
    h.db_calls().into_iter().filter(is_write).collect()
}

#[track_caller]
pub fn assert_no_side_effects(h: &FakeHost) {
    assert_eq!(writes(h), vec![], "no write expected");
    assert_eq!(h.emits(), vec![], "no event expected");
}

/// The DB call whose SQL matches `pattern` (a regex, as the FakeHost scripts use; see
/// [`exact`]).
#[track_caller]
pub fn db_call(h: &FakeHost, pattern: &str) -> DbCall {
    let re = regex::Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern {pattern:?}: {e}"));
    h.db_calls()
        .into_iter()
        .find(|c| re.is_match(&c.sql))
        .unwrap_or_else(|| panic!("no DB call matching {pattern:?}: {:?}", h.db_calls()))
}

pub fn uuid(u: Uuid) -> Value {
    json!(u.to_string())
}

/// A GitHub JSON response.
pub fn gh_json(status: u16, body: Value) -> FetchResponse {
    FetchResponse::new(status, body.to_string()).with_header("Content-Type", "application/json")
}

/// What GitHub answers for `GET /repos/acme/widgets`.
pub fn github_repo() -> Value {
    json!({
        "id": 9001, "name": "widgets", "full_name": "acme/widgets",
        "owner": {"login": "acme", "id": 1}, "default_branch": "main", "private": true,
        "html_url": "https://github.com/acme/widgets"
    })
}

/// A GitHub pull request object.
pub fn github_pull(number: i64, action_state: &str, head: &str, title: &str) -> Value {
    json!({
        "id": 880_000 + number, "number": number, "title": title, "state": action_state,
        "merged": false, "merged_at": null,
        "html_url": format!("https://github.com/acme/widgets/pull/{number}"),
        "head": {"ref": head, "sha": "1111111111111111111111111111111111111111"},
        "base": {"ref": "main", "sha": "2222222222222222222222222222222222222222"},
        "user": {"login": "octocat", "id": 2},
        "updated_at": T2
    })
}
