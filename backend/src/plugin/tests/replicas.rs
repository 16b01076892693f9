//! receiveWebhook under replicas, redeliveries, renames and hostile (but signed) payloads.

use crate::sql;
use std::sync::LazyLock;

use super::webhook::{
    LINK_SQL, LOOKUP_COLUMNS, LOOKUP_SQL, RECORD_SQL, UPSERT_COLUMNS, UPSERT_SQL, candidate,
    delivery, ids, links_made, lookup, pr_payload, push_payload, record, upsert,
};
use super::*;
use crate::generated::api::ErrorCode::*;
use crate::signature;

static RECONCILE_SQL: LazyLock<String> = LazyLock::new(exact::<sql::ReconcileRepository>);
const ZERO: &str = "0000000000000000000000000000000000000000";
const REPO2: Uuid = Uuid::from_u128(0x4444_4444_4444_4444_8444_4444_4444_4445);

#[test]
fn unverified_deliveries_get_one_answer_that_names_nothing() {
    let signed_pr = || {
        delivery(
            "pull_request",
            &pr_payload("opened", "open", "feat/PROJ-42-x", "x"),
            Some("d-p"),
        )
    };
    let mut answers = Vec::new();
    // not linked
    let h = host();
    h.on_query(&LOOKUP_SQL, LOOKUP_COLUMNS, vec![]);
    answers.push(send(&h, signed_pr()));
    assert_no_side_effects(&h);
    // linked, wrong signature
    let h = host();
    lookup(&h, "PROJ");
    let mut r = signed_pr();
    r.headers.insert(
        "X-Hub-Signature-256".into(),
        signature::sign("guess", &r.body),
    );
    answers.push(send(&h, r));
    assert_no_side_effects(&h);
    // linked, no usable secret
    let h = host();
    h.on_query(&LOOKUP_SQL, LOOKUP_COLUMNS, vec![candidate("", "PROJ")]);
    answers.push(send(&h, signed_pr()));
    for a in &answers {
        assert_eq!((a.status, &a.body), (answers[0].status, &answers[0].body));
        assert!(!a.body.to_string().contains("widgets"), "{}", a.body);
    }
    assert_eq!(answers[0].code(), WebhookRepositoryNotFound);
}

#[test]
fn pr_numbers_outside_int4_or_not_positive_are_refused_before_any_write() {
    for number in [2_147_483_648_i64, i64::MAX, -5, 0] {
        let h = host();
        lookup(&h, "PROJ");
        let mut payload = pr_payload("opened", "open", "feat/PROJ-42-x", "x");
        payload["number"] = json!(number);
        payload["pull_request"]["number"] = json!(number);
        let r = expect_err(
            &h,
            delivery("pull_request", &payload, Some("d-n")),
            BadRequest,
        );
        assert_eq!(r.status, 400);
        assert_eq!(h.calls().db(), 1, "{number}: {:?}", h.db_calls());
        assert_no_side_effects(&h);
    }
}

#[test]
fn nul_in_payload_strings_is_stripped_before_any_query() {
    let h = host();
    lookup(&h, "PROJ");
    upsert(&h, &[], &[]);
    record(&h, true);
    let mut payload = pr_payload("opened", "open", "feat/PROJ-42-x\u{0}", "PROJ-7\u{0} evil");
    payload["pull_request"]["user"]["login"] = json!("mal\u{0}lory");
    outcome_ok(&h, delivery("pull_request", &payload, Some("d-nul")));
    for c in h.db_calls() {
        assert!(
            !c.params.iter().any(|p| p.to_string().contains("\\u0000")),
            "NUL reached the database: {c:?}"
        );
    }
    let upsert = db_call(&h, &UPSERT_SQL);
    assert_eq!(upsert.params[4], json!("PROJ-7 evil"));
    assert_eq!(upsert.params[7], json!("feat/PROJ-42-x"));
    h.assert_all_consumed();
}

fn outcome_ok(h: &FakeHost, r: Request) -> Value {
    expect_ok(h, r, 200)
}

#[test]
fn a_push_of_a_branch_name_git_cannot_have_is_ignored() {
    let h = host();
    lookup(&h, "PROJ");
    let data = outcome_ok(
        &h,
        delivery(
            "push",
            &push_payload("refs/heads/feat/PROJ-42\u{0}", ZERO, true, false),
            Some("d-b"),
        ),
    );
    assert_eq!(data["outcome"], json!("ignored"));
    assert_eq!(h.calls().db(), 1);
}

#[test]
fn over_long_delivery_ids_are_recorded_by_their_hash() {
    let long = "x".repeat(300);
    let h = host();
    lookup(&h, "PROJ");
    upsert(&h, &[], &[]);
    record(&h, false);
    let data = outcome_ok(
        &h,
        delivery(
            "pull_request",
            &pr_payload("opened", "open", "feat/PROJ-42-x", "x"),
            Some(&long),
        ),
    );
    assert_eq!(data["outcome"], json!("duplicate"));
    let id = db_call(&h, &RECORD_SQL).params[0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert_eq!(data["delivery_id"], json!(id));
}

#[test]
fn the_record_takes_over_only_a_stale_unfinished_claim_and_bounds_retention() {
    let h = host();
    lookup(&h, "PROJ");
    upsert(&h, &[TASK], &[]);
    record(&h, true);
    outcome_ok(
        &h,
        delivery(
            "pull_request",
            &pr_payload("closed", "closed", "feat/PROJ-42-x", "x"),
            Some("d-l"),
        ),
    );
    let record = db_call(&h, &RECORD_SQL);
    // A claim a former version left unfinished (no completion, lease over) is taken over; a
    // recorded delivery is not.
    assert!(
        record.sql.contains(
            "ON CONFLICT (delivery_id) DO UPDATE SET received_at = NOW(), completed_at = NOW(), \
             repo_id = excluded.repo_id WHERE github_webhook_deliveries.completed_at IS NULL AND \
             github_webhook_deliveries.received_at < NOW() - INTERVAL '30 seconds'"
        ),
        "{}",
        record.sql
    );
    assert_eq!(record.params[0], json!("d-l"));
    assert!(
        record
            .sql
            .contains("received_at < NOW() - INTERVAL '7 days'")
    );
    assert!(record.sql.contains("LIMIT 100"));
    h.assert_all_consumed();
}

#[test]
fn a_renamed_repository_takes_its_new_name_from_the_verified_delivery() {
    let h = host();
    let mut row = candidate(&secret_enc(), "PROJ");
    row[3] = json!("acme/old-name");
    row[2] = json!("old-name");
    h.on_query(&LOOKUP_SQL, LOOKUP_COLUMNS, vec![row]);
    h.on_exec(&RECONCILE_SQL, 1);
    let mut payload = json!({"zen": "x"});
    payload["repository"] = json!({"id": 9001, "full_name": "acme/widgets", "name": "widgets",
        "owner": {"login": "acme"}, "updated_at": T2});
    outcome_ok(&h, delivery("ping", &payload, Some("d-r")));
    let update = db_call(&h, &RECONCILE_SQL);
    assert_eq!(
        update.params,
        vec![
            uuid(REPO),
            json!(9001),
            json!("acme"),
            json!("widgets"),
            json!("acme/widgets"),
            json!(T2)
        ]
    );
    // an older payload (a redelivery from before the rename) never renames it back
    assert!(
        update
            .sql
            .contains("$6::timestamptz >= github_repo_updated_at")
    );
    // another repository's id is never written over
    assert!(
        update
            .sql
            .contains("(github_repo_id IS NULL OR github_repo_id = $2::bigint)")
    );
    h.assert_all_consumed();
}

#[test]
fn rows_without_github_id_are_candidates_found_by_their_secret() {
    let h = host();
    let other = EncryptionKey::from_hex(KEY_HEX)
        .unwrap()
        .encrypt(b"another-secret", &[9; 12]);
    let mut stranger = candidate(&other, "PROJ");
    stranger[0] = uuid(REPO2);
    stranger[3] = json!("acme/gizmo");
    stranger[4] = Value::Null;
    let mut mine = candidate(&secret_enc(), "PROJ");
    mine[3] = json!("acme/before-rename");
    mine[4] = Value::Null;
    h.on_query(&LOOKUP_SQL, LOOKUP_COLUMNS, vec![stranger, mine]);
    h.on_exec(&RECONCILE_SQL, 1);
    let data = outcome_ok(&h, delivery("ping", &json!({"zen": "x"}), Some("d-c")));
    assert_eq!(data["outcome"], json!("processed"));
    let lookup = db_call(&h, &LOOKUP_SQL);
    assert!(
        lookup
            .sql
            .contains("r.github_repo_id = $2::bigint OR r.github_repo_id IS NULL")
    );
    assert!(lookup.sql.contains("LIMIT 10"));
    // projects soft-deleted where the core schema has deleted_at are not served
    assert!(
        lookup
            .sql
            .contains("(to_jsonb(p) ->> 'deleted_at')) IS NULL")
    );
    // the verified row (the second) gets GitHub's id
    let update = db_call(&h, &RECONCILE_SQL);
    assert_eq!(update.params[..2], [uuid(REPO), json!(9001)]);
    h.assert_all_consumed();
}

#[test]
fn fetch_request_debug_redacts_the_token() {
    let mut r = crate::host::FetchRequest::new("POST", "https://api.github.com/user");
    r.headers
        .insert("Authorization".into(), "Bearer ghp_top_secret".into());
    r.headers.insert("Accept".into(), "application/json".into());
    r.body = r#"{"config":{"secret":"whsec_top_secret"}}"#.into();
    let text = format!("{r:?}");
    assert!(!text.contains("top_secret"), "{text}");
    assert!(text.contains("Authorization") && text.contains("<redacted>"));
    assert!(text.contains("application/json") && text.contains("api.github.com"));
}

#[test]
fn request_debug_redacts_cookies_bearer_and_body() {
    let r = Request {
        method: "POST".into(),
        path: "projects/x/github/token".into(),
        headers: BTreeMap::from([
            (
                "Authorization".to_string(),
                "Bearer jwt_top_secret".to_string(),
            ),
            ("Cookie".to_string(), "session=top_secret".to_string()),
            ("X-Api-Key".to_string(), "key_top_secret".to_string()),
            ("Content-Type".to_string(), "application/json".to_string()),
        ]),
        body: br#"{"token":"ghp_top_secret"}"#.to_vec(),
        ..Default::default()
    };
    let text = format!("{r:?}");
    assert!(!text.contains("top_secret"), "{text}");
    assert!(text.contains("Cookie") && text.contains("application/json"));
}

#[test]
fn an_opened_delivery_older_than_the_cache_still_links_without_stale_events() {
    let h = host();
    lookup(&h, "PROJ");
    h.on_query(&UPSERT_SQL, UPSERT_COLUMNS, vec![]);
    h.on_query(
        &exact::<sql::CachedPrLinks>(),
        UPSERT_COLUMNS,
        vec![vec![uuid(PR), ids(&[]), ids(&[TASK])]],
    );
    links_made(&h, &[TASK]);
    record(&h, true);
    let data = outcome_ok(
        &h,
        delivery(
            "pull_request",
            &pr_payload("opened", "open", "feat/PROJ-42-x", "x"),
            Some("d-o"),
        ),
    );
    assert_eq!(data["outcome"], json!("processed"));
    let topics: Vec<String> = h.emits().into_iter().map(|(t, _)| t).collect();
    assert_eq!(topics, ["github.pr_linked"]);
    assert_eq!(db_call(&h, &LINK_SQL).params, vec![uuid(PR), ids(&[TASK])]);
    h.assert_all_consumed();
}
