//! receiveWebhook: signatures (fail closed), auto-link, idempotent deliveries, budgets.

use crate::sql;
use std::sync::LazyLock;

use super::*;
use crate::generated::api::ErrorCode::*;
use crate::signature;

pub(super) static LOOKUP_SQL: LazyLock<String> = LazyLock::new(exact::<sql::HookRepoCandidates>);
pub(super) const LOOKUP_COLUMNS: &[&str] = &[
    "id",
    "owner",
    "repo_name",
    "full_name",
    "github_repo_id",
    "webhook_secret_enc",
    "task_id_prefix",
];
pub(super) static RECORD_SQL: LazyLock<String> = LazyLock::new(exact::<sql::RecordDelivery>);
pub(super) static BRANCH_SQL: LazyLock<String> = LazyLock::new(exact::<sql::AutoLinkBranch>);
pub(super) static LINK_SQL: LazyLock<String> = LazyLock::new(exact::<sql::LinkPrToTasks>);

/// The links `LinkPrToTasks` reports it made.
pub(super) fn links_made(h: &FakeHost, tasks: &[Uuid]) {
    h.on_query(
        &LINK_SQL,
        &["task_id"],
        tasks.iter().map(|t| vec![uuid(*t)]).collect(),
    );
}

/// The record of a `pull_request` delivery: `made` when this call records it, not a
/// duplicate.
pub(super) fn record(h: &FakeHost, made: bool) {
    h.on_exec(&RECORD_SQL, u64::from(made));
}

/// A candidate row as the lookup returns it.
pub(super) fn candidate(secret_enc: &str, prefix: &str) -> Vec<Value> {
    vec![
        uuid(REPO),
        json!("acme"),
        json!("widgets"),
        json!("acme/widgets"),
        json!(9001),
        json!(secret_enc),
        json!(prefix),
    ]
}
pub(super) static UPSERT_SQL: LazyLock<String> =
    LazyLock::new(exact::<sql::UpsertPrReturningLinks>);
pub(super) const UPSERT_COLUMNS: &[&str] = &["id", "linked_tasks", "candidate_tasks"];

/// A JSON array of task ids as the host sends a `json` column (text).
pub(super) fn ids(tasks: &[Uuid]) -> Value {
    json!(serde_json::to_string(tasks).unwrap())
}

/// The cache upsert of a `pull_request` delivery: the PR, its linked tasks and its candidates.
pub(super) fn upsert(h: &FakeHost, linked: &[Uuid], candidates: &[Uuid]) {
    h.on_query(
        &UPSERT_SQL,
        UPSERT_COLUMNS,
        vec![vec![uuid(PR), ids(linked), ids(candidates)]],
    );
}
const ZERO: &str = "0000000000000000000000000000000000000000";

fn repository() -> Value {
    json!({"id": 9001, "full_name": "acme/widgets", "name": "widgets", "owner": {"login": "acme"}})
}

/// A GitHub delivery to PROJECT's webhook, signed with [`SECRET`], Go-canonical header keys.
pub fn delivery(event: &str, payload: &Value, delivery_id: Option<&str>) -> Request {
    let mut payload = payload.clone();
    if payload.get("repository").is_none() {
        payload["repository"] = repository();
    }
    let body = payload.to_string().into_bytes();
    let mut r = req("POST", &format!("projects/{PROJECT}/webhook"));
    r.project_id = String::new();
    r.caller_id = String::new();
    r.user_id = String::new();
    r.caller_role = String::new();
    r.headers = BTreeMap::from([
        ("Content-Type".to_string(), "application/json".to_string()),
        ("User-Agent".to_string(), "GitHub-Hookshot/abc".to_string()),
        ("X-Github-Event".to_string(), event.to_string()),
        (
            "X-Hub-Signature-256".to_string(),
            signature::sign(SECRET, &body),
        ),
    ]);
    if let Some(id) = delivery_id {
        r.headers.insert("X-Github-Delivery".into(), id.into());
    }
    r.body = body;
    r
}

pub(super) fn lookup(h: &FakeHost, prefix: &str) {
    h.on_query(
        &LOOKUP_SQL,
        LOOKUP_COLUMNS,
        vec![candidate(&secret_enc(), prefix)],
    );
}

pub(super) fn pr_payload(action: &str, state: &str, head: &str, title: &str) -> Value {
    json!({"action": action, "number": 5, "pull_request": github_pull(5, state, head, title)})
}

pub(super) fn push_payload(reference: &str, before: &str, created: bool, deleted: bool) -> Value {
    json!({"ref": reference, "before": before, "after": if deleted { ZERO } else { "3333333333333333333333333333333333333333" },
           "created": created, "deleted": deleted, "forced": false})
}

fn outcome(h: &FakeHost, r: Request) -> Value {
    expect_ok(h, r, 200)
}

/// A rejected delivery: the repository lookup at most, no writes, no events.
#[track_caller]
fn assert_rejected(h: &FakeHost) {
    assert!(h.calls().db() <= 1, "{:?}", h.db_calls());
    assert_no_side_effects(h);
    assert_eq!(h.calls().fetch, 0);
}

#[test]
fn ping_with_a_valid_signature_is_processed_with_one_lookup() {
    let h = host();
    lookup(&h, "PROJ");
    let data = outcome(
        &h,
        delivery("ping", &json!({"zen": "Design for failure."}), Some("d-1")),
    );
    assert_eq!(
        data,
        json!({"event": "ping", "outcome": "processed", "delivery_id": "d-1"})
    );
    let call = &h.db_calls()[0];
    assert!(call.sql.contains("r.project_id = $1::uuid"));
    assert_eq!(
        call.params,
        vec![uuid(PROJECT), json!(9001), json!("acme/widgets")]
    );
    assert_eq!(h.calls().db(), 1);
    assert_no_side_effects(&h);
}

type Mutation = Box<dyn Fn(&mut Request)>;

#[test]
pub(super) fn invalid_signatures_are_rejected_without_writes() {
    let variants: Vec<Mutation> = vec![
        Box::new(|r| {
            let sig = signature::sign("not-the-secret", &r.body);
            r.headers.insert("X-Hub-Signature-256".into(), sig);
        }),
        Box::new(|r| {
            r.headers.remove("X-Hub-Signature-256");
        }),
        Box::new(|r| {
            r.headers
                .insert("X-Hub-Signature-256".into(), "sha1=0123".into());
        }),
        Box::new(|r| {
            r.headers.insert(
                "X-Hub-Signature-256".into(),
                format!("sha256={}", "zz".repeat(32)),
            );
        }),
        Box::new(|r| {
            r.headers
                .insert("X-Hub-Signature-256".into(), String::new());
        }),
        // Signed, then the body changed.
        Box::new(|r| {
            r.body = String::from_utf8(r.body.clone())
                .unwrap()
                .replace("Add auth", "Add evil")
                .into_bytes();
        }),
    ];
    // Well-formed but wrong (first and last): checked against the candidates, then the one
    // uniform 404. Missing or malformed: 401 before any lookup.
    for (i, mutate) in variants.into_iter().enumerate() {
        let h = host();
        let well_formed = i == 0 || i == 5;
        if well_formed {
            lookup(&h, "PROJ");
        }
        let mut r = delivery(
            "pull_request",
            &pr_payload("opened", "open", "feat/PROJ-42-x", "Add auth"),
            Some("d-2"),
        );
        mutate(&mut r);
        if well_formed {
            let reply = expect_err(&h, r, WebhookRepositoryNotFound);
            assert_eq!(reply.status, 404);
        } else {
            let reply = expect_err(&h, r, WebhookSignatureInvalid);
            assert_eq!(reply.status, 401);
            assert_eq!(h.calls().db(), 0);
        }
        assert_rejected(&h);
    }
}

#[test]
pub(super) fn empty_or_undecryptable_secret_fails_closed() {
    let other = EncryptionKey::from_hex(OTHER_KEY_HEX)
        .unwrap()
        .encrypt(SECRET.as_bytes(), &[4; 12]);
    for stored in [String::new(), "nothex".to_string(), other] {
        let h = host();
        h.on_query(
            &LOOKUP_SQL,
            LOOKUP_COLUMNS,
            vec![candidate(&stored, "PROJ")],
        );
        // Even a body "signed" with an empty key must not pass.
        let mut r = delivery(
            "push",
            &push_payload("refs/heads/feat/PROJ-42-x", ZERO, true, false),
            Some("d-3"),
        );
        let sig = signature::sign("", &r.body);
        r.headers.insert("X-Hub-Signature-256".into(), sig);
        expect_err(&h, r, WebhookRepositoryNotFound);
        assert_rejected(&h);
    }
}

#[test]
pub(super) fn webhook_without_encryption_key_is_500_not_accepted() {
    let h = FakeHost::new();
    lookup(&h, "PROJ");
    expect_err(
        &h,
        delivery("ping", &json!({}), None),
        EncryptionNotConfigured,
    );
    assert_rejected(&h);
}

#[test]
pub(super) fn webhook_for_a_repo_of_another_project_is_404() {
    let h = host();
    h.on_query(&LOOKUP_SQL, LOOKUP_COLUMNS, vec![]);
    let mut r = delivery("ping", &json!({}), None);
    r.path = format!("projects/{OTHER_PROJECT}/webhook");
    expect_err(&h, r, WebhookRepositoryNotFound);
    assert_eq!(h.db_calls()[0].params[0], uuid(OTHER_PROJECT));
    assert_rejected(&h);

    // A payload without a repository is not for any linked repository either.
    let h = host();
    let mut r = delivery("ping", &json!({}), None);
    r.body = br#"{"zen":"x"}"#.to_vec();
    r.headers.insert(
        "X-Hub-Signature-256".into(),
        signature::sign(SECRET, &r.body),
    );
    expect_err(&h, r, WebhookRepositoryNotFound);
    assert_eq!(h.calls().db(), 0);
}

#[test]
pub(super) fn webhook_bad_requests() {
    // No X-GitHub-Event: not a GitHub delivery, nothing is looked up.
    let h = host();
    let mut r = delivery("ping", &json!({}), None);
    r.headers.remove("X-Github-Event");
    expect_err(&h, r, BadRequest);
    assert_eq!(h.calls().total(), 0);
    // Invalid JSON.
    let h = host();
    let mut r = delivery("ping", &json!({}), None);
    r.body = b"{not json".to_vec();
    expect_err(&h, r, BadRequest);
    assert_eq!(h.calls().db(), 0);
    // Signed, but not a pull_request payload.
    let h = host();
    lookup(&h, "PROJ");
    expect_err(
        &h,
        delivery("pull_request", &json!({"action": "opened"}), Some("d-4")),
        BadRequest,
    );
    assert_rejected(&h);
    // Bad project id in the path.
    let h = host();
    let mut r = delivery("ping", &json!({}), None);
    r.path = "projects/PROJ/webhook".into();
    expect_err(&h, r, BadRequest);
    assert_eq!(h.calls().total(), 0);
}

#[test]
pub(super) fn webhook_lookup_failure_is_internal() {
    let h = host();
    h.on_query_err(&LOOKUP_SQL, DB_DETAIL);
    expect_err(&h, delivery("ping", &json!({}), None), InternalError);
    assert_rejected(&h);
}

#[test]
fn pull_request_opened_for_a_linked_branch_autolinks_and_emits() {
    let h = host();
    lookup(&h, "PROJ");
    upsert(&h, &[TASK2], &[TASK2, TASK]);
    links_made(&h, &[TASK]);
    record(&h, true);
    let payload = pr_payload("opened", "open", "feat/PROJ-42-x", "PROJ-7: Add auth");
    let data = outcome(&h, delivery("pull_request", &payload, Some("d-10")));
    assert_eq!(
        data,
        json!({"event": "pull_request", "outcome": "processed", "delivery_id": "d-10"})
    );
    // lookup, upsert (returning links and candidates), the links, the record
    assert_eq!(h.calls().db(), 4, "budget: {:?}", h.db_calls());

    let upsert = db_call(&h, &UPSERT_SQL);
    assert!(
        upsert
            .sql
            .contains("excluded.github_updated_at >= github_pull_requests.github_updated_at")
    );
    assert!(
        upsert
            .sql
            .contains("b.repo_id = $2::uuid AND b.branch_name = $13::text"),
        "{}",
        upsert.sql
    );
    assert!(
        upsert
            .sql
            .contains("t.project_id = $1::uuid AND t.deleted_at IS NULL")
    );
    assert!(
        upsert
            .sql
            .contains("JOIN tasks AS t ON t.id = b.task_id AND t.deleted_at IS NULL")
    );
    assert_eq!(upsert.params[0], uuid(PROJECT));
    assert_eq!(upsert.params[11], json!(T2));
    let mut slots = vec![json!("feat/PROJ-42-x"), json!(42), json!(7)];
    slots.resize(11, Value::Null); // the eight key slots left over
    assert_eq!(upsert.params[12..], slots[..]);

    // Only the candidate not linked yet is offered; the statement says what it linked.
    let link = db_call(&h, &LINK_SQL);
    assert!(
        link.sql
            .contains("ON CONFLICT (task_id, pull_request_id) DO NOTHING RETURNING task_id")
    );
    assert!(link.sql.contains("t.deleted_at IS NULL"));
    assert_eq!(link.params, vec![uuid(PR), ids(&[TASK])]);
    let record = db_call(&h, &RECORD_SQL);
    assert!(record.sql.contains("ON CONFLICT (delivery_id) DO UPDATE"));
    assert!(
        record
            .sql
            .contains("received_at < NOW() - INTERVAL '7 days'")
    );
    assert_eq!(
        record.params,
        vec![json!("d-10"), uuid(REPO), json!("pull_request")]
    );

    let emits = h.emits();
    let topics: Vec<&str> = emits.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        topics,
        vec!["github.pr_linked", "github.pr_updated", "github.pr_updated"]
    );
    assert_eq!(emits[0].1["task_id"], uuid(TASK));
    assert_eq!(emits[0].1["project_id"], uuid(PROJECT));
    assert_eq!(emits[0].1["source"], json!("webhook"));
    assert_eq!(emits[0].1["pull_request_id"], uuid(PR));
    let updated: Vec<&Value> = emits[1..].iter().map(|(_, p)| &p["task_id"]).collect();
    assert_eq!(updated, vec![&uuid(TASK2), &uuid(TASK)]);
    for (_, p) in &emits {
        assert!(p["project_id"].as_str().unwrap().parse::<Uuid>().is_ok());
        assert_eq!(p["state"], json!("open"));
    }
    h.assert_all_consumed();
}

#[test]
fn pull_request_closed_merged_updates_linked_tasks_without_linking() {
    let h = host();
    lookup(&h, "PROJ");
    upsert(&h, &[TASK], &[]);
    record(&h, true);
    let mut payload = pr_payload("closed", "closed", "feat/PROJ-42-x", "PROJ-7 x");
    payload["pull_request"]["merged"] = json!(true);
    payload["pull_request"]["merged_at"] = json!(T2);
    outcome(&h, delivery("pull_request", &payload, Some("d-11")));
    let upsert = db_call(&h, &UPSERT_SQL);
    assert_eq!(upsert.params[5], json!("merged"));
    // Only an opened PR links: no branch, no keys.
    assert!(upsert.params[12..].iter().all(Value::is_null));
    let emits = h.emits();
    assert_eq!(emits.len(), 1);
    assert_eq!(emits[0].0, "github.pr_updated");
    assert_eq!(emits[0].1["state"], json!("merged"));
    assert_eq!(h.calls().db(), 3);
    h.assert_all_consumed();
}

#[test]
fn redelivery_is_a_duplicate_without_events() {
    let h = host();
    lookup(&h, "PROJ");
    // The upsert repeats harmlessly; the record says another call announced the delivery.
    upsert(&h, &[TASK], &[TASK]);
    record(&h, false);
    let data = outcome(
        &h,
        delivery(
            "pull_request",
            &pr_payload("opened", "open", "feat/PROJ-42-x", "x"),
            Some("d-10"),
        ),
    );
    assert_eq!(data["outcome"], json!("duplicate"));
    assert_eq!(h.emits(), vec![]);
    assert_eq!(h.calls().db(), 3);
    h.assert_all_consumed();
}

#[test]
fn stale_delivery_is_ignored_without_events() {
    let h = host();
    lookup(&h, "PROJ");
    h.on_query(&UPSERT_SQL, UPSERT_COLUMNS, vec![]);
    let data = outcome(
        &h,
        delivery(
            "pull_request",
            &pr_payload("edited", "open", "feat/PROJ-42-x", "x"),
            Some("d-12"),
        ),
    );
    assert_eq!(data["outcome"], json!("ignored"));
    assert_eq!(h.emits(), vec![]);
    // Nothing was applied, so nothing is recorded.
    assert_eq!(h.calls().db(), 2);
    h.assert_all_consumed();
}

#[test]
pub(super) fn processing_failure_records_nothing_and_is_5xx() {
    // The upsert fails: nothing is recorded, so GitHub's redelivery is applied.
    let h = host();
    lookup(&h, "PROJ");
    h.on_query_err(&UPSERT_SQL, DB_DETAIL);
    let payload = pr_payload("opened", "open", "main", "x");
    let r = expect_err(
        &h,
        delivery("pull_request", &payload, Some("d-13")),
        InternalError,
    );
    assert!(r.status >= 500);
    assert_eq!(h.calls().db(), 2);
    assert_eq!(h.emits(), vec![]);
    h.assert_all_consumed();
    // The record fails after a link was made: the link (committed) is announced, the state is
    // not, and the 5xx makes GitHub redeliver, which announces it.
    let h = host();
    lookup(&h, "PROJ");
    upsert(&h, &[], &[TASK]);
    links_made(&h, &[TASK]);
    h.on_exec_err(&RECORD_SQL, DB_DETAIL);
    expect_err(
        &h,
        delivery("pull_request", &payload, Some("d-13")),
        InternalError,
    );
    let topics: Vec<String> = h.emits().into_iter().map(|(t, _)| t).collect();
    assert_eq!(topics, ["github.pr_linked"]);
    h.assert_all_consumed();
}

#[test]
fn push_creating_a_task_branch_links_it_and_emits() {
    let h = host();
    lookup(&h, "PROJ");
    h.on_query(&BRANCH_SQL, &["task_id"], vec![vec![uuid(TASK)]]);
    let data = outcome(
        &h,
        delivery(
            "push",
            &push_payload("refs/heads/feat/PROJ-42-x", ZERO, true, false),
            Some("d-20"),
        ),
    );
    assert_eq!(data["outcome"], json!("processed"));
    let insert = db_call(&h, &BRANCH_SQL);
    assert!(
        insert
            .sql
            .contains("t.project_id = $3::uuid AND t.deleted_at IS NULL")
    );
    assert!(
        insert
            .sql
            .contains("ON CONFLICT (task_id, repo_id, branch_name) DO NOTHING")
    );
    assert_eq!(
        insert.params,
        vec![
            uuid(REPO),
            json!("feat/PROJ-42-x"),
            uuid(PROJECT),
            json!(42),
            // the four key slots left over
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ]
    );
    assert_eq!(
        h.emits(),
        vec![(
            "github.branch_linked".to_string(),
            json!({"project_id": PROJECT, "task_id": TASK, "repo_id": REPO, "branch_name": "feat/PROJ-42-x", "source": "push"})
        )]
    );
    // lookup, the links: nothing to record (the links say who announces them)
    assert_eq!(h.calls().db(), 2);
    h.assert_all_consumed();
}

#[test]
fn push_of_an_already_linked_branch_emits_nothing() {
    let h = host();
    lookup(&h, "PROJ");
    h.on_query(&BRANCH_SQL, &["task_id"], vec![]);
    let data = outcome(
        &h,
        delivery(
            "push",
            &push_payload("refs/heads/PROJ-42", ZERO, true, false),
            Some("d-21"),
        ),
    );
    assert_eq!(data["outcome"], json!("ignored"));
    assert_eq!(h.emits(), vec![]);
}

#[test]
fn pushes_that_create_no_task_branch_are_ignored_without_writes() {
    let cases = [
        (
            "PROJ",
            push_payload(
                "refs/heads/feat/PROJ-42-x",
                "4444444444444444444444444444444444444444",
                false,
                false,
            ),
        ),
        (
            "PROJ",
            push_payload(
                "refs/heads/feat/PROJ-42-x",
                "4444444444444444444444444444444444444444",
                false,
                true,
            ),
        ),
        ("PROJ", push_payload("refs/tags/PROJ-42", ZERO, true, false)),
        (
            "PROJ",
            push_payload("refs/heads/feature/no-key", ZERO, true, false),
        ),
        (
            "PROJ",
            push_payload("refs/heads/feat/OTHER-42", ZERO, true, false),
        ),
        (
            "PROJ",
            push_payload("refs/heads/release/v1-2", ZERO, true, false),
        ),
        ("PROJ", push_payload("refs/heads/utf-8", ZERO, true, false)),
        (
            "V",
            push_payload("refs/heads/release/v1-2", ZERO, true, false),
        ),
    ];
    for (prefix, payload) in cases {
        let h = host();
        lookup(&h, prefix);
        let data = outcome(&h, delivery("push", &payload, Some("d-22")));
        assert_eq!(data["outcome"], json!("ignored"), "{payload}");
        assert_eq!(h.calls().db(), 1, "{payload}");
        assert_no_side_effects(&h);
    }
}

#[test]
fn task_keys_follow_the_project_prefix() {
    for (prefix, branch, number) in [
        ("V1", "release/v1-2", 2),
        ("UTF", "utf-8", 8),
        ("PROJ", "feat/proj-42-lower", 42),
        ("proj", "bugfix_PROJ-42", 42),
    ] {
        let h = host();
        lookup(&h, prefix);
        h.on_query(&BRANCH_SQL, &["task_id"], vec![vec![uuid(TASK)]]);
        outcome(
            &h,
            delivery(
                "push",
                &push_payload(&format!("refs/heads/{branch}"), ZERO, true, false),
                Some("d-23"),
            ),
        );
        assert_eq!(
            db_call(&h, &BRANCH_SQL).params[3],
            json!(number),
            "{prefix} {branch}"
        );
        assert_eq!(h.emits().len(), 1);
    }
}

#[test]
fn unknown_events_and_deliveries_without_id() {
    let h = host();
    lookup(&h, "PROJ");
    let data = outcome(
        &h,
        delivery("issues", &json!({"action": "opened"}), Some("d-30")),
    );
    assert_eq!(data["outcome"], json!("ignored"));
    assert_no_side_effects(&h);

    // A push records nothing, with or without X-GitHub-Delivery.
    let h = host();
    lookup(&h, "PROJ");
    h.on_query(&BRANCH_SQL, &["task_id"], vec![vec![uuid(TASK)]]);
    let data = outcome(
        &h,
        delivery(
            "push",
            &push_payload("refs/heads/PROJ-42", ZERO, true, false),
            None,
        ),
    );
    assert_eq!(data, json!({"event": "push", "outcome": "processed"}));
    assert!(
        h.db_calls()
            .iter()
            .all(|c| !c.sql.contains("github_webhook_deliveries"))
    );
}

/// Scripts a verified `pull_request` delivery (no task linked yet) that links its candidates
/// and is recorded.
fn accepted_pr_delivery(h: &FakeHost, candidates: &[Uuid]) {
    lookup(h, "PROJ");
    upsert(h, &[], candidates);
    if !candidates.is_empty() {
        links_made(h, candidates);
    }
    record(h, true);
}

/// `pr_payload` with `head.repo` set: `Some(id)` for a repository, `None` for a deleted fork.
fn pr_payload_from(head_repo: Option<i64>, head: &str, title: &str) -> Value {
    let mut payload = pr_payload("opened", "open", head, title);
    payload["pull_request"]["head"]["repo"] = match head_repo {
        Some(id) => json!({"id": id, "full_name": "someone/widgets"}),
        None => Value::Null,
    };
    payload
}

#[test]
fn a_fork_pr_is_not_linked_through_a_same_named_branch_of_the_base_repository() {
    for head_repo in [Some(4242), None] {
        let h = host();
        accepted_pr_delivery(&h, &[TASK]);
        let payload = pr_payload_from(head_repo, "feat/PROJ-42-x", "Fix");
        outcome(&h, delivery("pull_request", &payload, Some("d-30")));
        // No head branch (NULL matches no linked branch): only the key in the branch name
        // remains, task 42; the other key slots are NULL.
        let mut expected = vec![Value::Null, json!(42)];
        expected.resize(11, Value::Null);
        assert_eq!(db_call(&h, &UPSERT_SQL).params[12..], expected[..]);
        h.assert_all_consumed();
    }
}

#[test]
fn a_fork_pr_naming_no_task_links_nothing() {
    let h = host();
    accepted_pr_delivery(&h, &[]);
    let payload = pr_payload_from(Some(4242), "patch-1", "Typo");
    outcome(&h, delivery("pull_request", &payload, Some("d-31")));
    assert!(
        db_call(&h, &UPSERT_SQL).params[12..]
            .iter()
            .all(Value::is_null)
    );
    assert_eq!(
        h.calls().db(),
        3,
        "lookup, upsert, record: {:?}",
        h.db_calls()
    );
    assert_eq!(h.emits().len(), 0, "no linked task to announce to");
    h.assert_all_consumed();
}

#[test]
fn a_pr_from_the_same_repository_still_links_through_its_branch() {
    let h = host();
    accepted_pr_delivery(&h, &[TASK]);
    let payload = pr_payload_from(Some(9001), "patch-1", "Typo");
    outcome(&h, delivery("pull_request", &payload, Some("d-32")));
    let mut expected = vec![json!("patch-1")];
    expected.resize(11, Value::Null);
    assert_eq!(db_call(&h, &UPSERT_SQL).params[12..], expected[..]);
    assert_eq!(db_call(&h, &LINK_SQL).params[1], ids(&[TASK]));
    let topics: Vec<String> = h.emits().into_iter().map(|(t, _)| t).collect();
    assert_eq!(topics, ["github.pr_linked", "github.pr_updated"]);
    h.assert_all_consumed();
}

#[test]
fn a_pr_delivery_without_id_is_recorded_by_its_body() {
    let h = host();
    lookup(&h, "PROJ");
    upsert(&h, &[], &[TASK]);
    links_made(&h, &[TASK]);
    record(&h, true);
    let payload = pr_payload("opened", "open", "feat/PROJ-42-x", "PROJ-7 x");
    let data = outcome(&h, delivery("pull_request", &payload, None));
    assert_eq!(data["outcome"], json!("processed"));
    let key = db_call(&h, &RECORD_SQL).params[0].clone();
    assert!(key.as_str().unwrap().starts_with("body-sha256:"), "{key}");
    let topics: Vec<String> = h.emits().into_iter().map(|(t, _)| t).collect();
    assert_eq!(topics, ["github.pr_linked", "github.pr_updated"]);
    h.assert_all_consumed();
}
