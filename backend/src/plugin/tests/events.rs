//! task.deleted (and project.deleted, which Paca never publishes).

use super::*;
use crate::host::LogLevel;
use crate::sql;

const ACTIVITY: Uuid = Uuid::from_u128(0x8888_8888_8888_4888_8888_8888_8888_8888);

fn event(h: &FakeHost, topic: &str, payload: &[u8]) {
    crate::handle_event(h, topic, payload);
    assert_no_secrets(h, "");
}

#[test]
fn task_deleted_removes_links_only_for_really_deleted_tasks() {
    let h = host();
    h.on_exec(&exact::<sql::TaskDeletedCleanup>(), 2);
    let payload = json!({
        "id": ACTIVITY, "task_id": TASK, "project_id": PROJECT, "activity_type": "task.deleted",
        "content": "{}", "user_id": "9c0f2d1e-0000-4000-8000-00000000c411", "created_at": T1
    });
    event(&h, "task.deleted", payload.to_string().as_bytes());
    assert_eq!(
        (h.calls().db_exec, h.calls().db_query, h.calls().fetch),
        (1, 0, 0)
    );
    let call = &h.db_calls()[0];
    assert_eq!(
        call.params,
        vec![uuid(TASK)],
        "the task id, not the activity id"
    );
    assert!(call.sql.contains("NOT EXISTS"));
    assert!(call.sql.contains("deleted_at IS NULL"));
    assert!(call.sql.contains("DELETE FROM github_task_branches"));
    h.assert_all_consumed();
}

#[test]
fn task_deleted_db_failure_is_logged() {
    let h = host();
    h.on_exec_err(&exact::<sql::TaskDeletedCleanup>(), DB_DETAIL);
    event(
        &h,
        "task.deleted",
        json!({"id": ACTIVITY, "task_id": TASK})
            .to_string()
            .as_bytes(),
    );
    assert!(
        h.logs()
            .iter()
            .any(|(l, m)| *l == LogLevel::Error && m.contains(&TASK.to_string()))
    );
}

#[test]
fn project_deleted_is_not_handled_paca_never_publishes_it() {
    // Projects are hard-deleted and the rows cascade; the manifest does not subscribe.
    let h = host();
    event(
        &h,
        "project.deleted",
        json!({"project_id": PROJECT}).to_string().as_bytes(),
    );
    assert_eq!((h.calls().db(), h.calls().fetch), (0, 0));
    let manifest: Value = serde_json::from_str(include_str!("../../../../plugin.json")).unwrap();
    assert_eq!(
        manifest["backend"]["eventSubscriptions"],
        json!(["task.deleted"])
    );
}

#[test]
fn bad_event_payloads_are_ignored_with_a_log_and_no_db_call() {
    for (topic, payload) in [
        ("task.deleted", &b"not json"[..]),
        ("task.deleted", b"{}"),
        ("task.deleted", br#"{"id":"8888","task_id":"not-a-uuid"}"#),
        ("task.deleted", br#"{"task_id": 42}"#),
        ("project.deleted", b"[]"),
        ("project.deleted", br#"{"project_id": "x"}"#),
        (
            "task.created",
            br#"{"task_id":"33333333-3333-4333-8333-333333333333"}"#,
        ),
    ] {
        let h = host();
        event(&h, topic, payload);
        assert_eq!(h.calls().db(), 0, "{topic} {payload:?}");
        assert_eq!(h.calls().fetch, 0);
        assert_eq!(h.logs().len(), 1, "{topic} {payload:?}");
    }
}
