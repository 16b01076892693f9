//! What the generated router does for every operation: 404 for undeclared routes and methods,
//! 400 for non-UUID path parameters, 403 for another project, and the shared failure modes
//! (missing ENCRYPTION_KEY, a failing first DB call) for every operation that declares them.

use super::*;
use crate::generated::api::ErrorCode::*;
use crate::generated::api::Operation;
use crate::sql;

#[test]
fn undeclared_paths_and_methods_are_route_not_found() {
    let mut requests = vec![
        req("GET", ""),
        req("GET", "projects"),
        req("GET", &path("github/unknown")),
        req("GET", &format!("{}/extra", path("github"))),
        req(
            "GET",
            &format!("api/v1/plugins/com.paca.github/{}", path("github")),
        ),
        req("POST", &path("github/repositories")),
        req("PUT", &path("github/token")),
        req("GET", &path("webhook")),
        req("GET", &path("github/token")),
    ];
    for op in Operation::ALL {
        let mut r = sample(*op);
        r.method = "PATCH".into();
        requests.push(r);
    }
    for r in requests {
        let h = host();
        let what = format!("{} {}", r.method, r.path);
        let reply = send(&h, r);
        assert_eq!(reply.status, 404, "{what}");
        assert_eq!(
            reply.body,
            json!({"success": false, "error": "route not found", "error_code": "ROUTE_NOT_FOUND"}),
            "{what}"
        );
        assert_eq!(h.calls().total(), 0, "{what}");
    }
}

#[test]
pub(super) fn another_projects_caller_is_forbidden_everywhere() {
    for op in Operation::ALL.iter().filter(|op| !op.is_public()) {
        for caller_project in [OTHER_PROJECT.to_string(), String::new(), "garbage".into()] {
            let h = host();
            let mut r = sample(*op);
            r.project_id = caller_project;
            let reply = expect_err(&h, r, Forbidden);
            assert_eq!(reply.status, 403);
            assert_eq!(h.calls().total(), 0, "{}", op.id());
        }
    }
    // The webhook is public: the caller's project is irrelevant, the path's is used.
    let h = host();
    h.on_query(&exact::<sql::HookRepoCandidates>(), &["id"], vec![]);
    let mut r = sample(Operation::ReceiveWebhook);
    r.project_id = OTHER_PROJECT.to_string();
    expect_err(&h, r, WebhookRepositoryNotFound);
    assert_eq!(h.db_calls()[0].params[0], uuid(PROJECT));
}

#[test]
pub(super) fn non_uuid_path_parameters_are_bad_requests() {
    for op in Operation::ALL {
        for bad in ["not-a-uuid", "1234", "%27%20OR%201%3D1"] {
            let h = host();
            let mut r = sample(*op);
            r.path = r.path.replacen(&PROJECT.to_string(), bad, 1);
            let reply = expect_err(&h, r, BadRequest);
            assert!(reply.message().contains("projectId"), "{}", reply.message());
            assert_eq!(h.calls().total(), 0, "{}", op.id());
        }
        if op.path().contains("{taskId}") {
            let h = host();
            let mut r = sample(*op);
            r.path = r.path.replacen(&TASK.to_string(), "PROJ-42", 1);
            let reply = expect_err(&h, r, BadRequest);
            assert!(reply.message().contains("taskId"));
        }
    }
    let h = host();
    let mut r = sample(Operation::UnlinkRepository);
    r.path = path("github/linked-repositories/acme%2Fwidgets");
    assert!(expect_err(&h, r, BadRequest).message().contains("repoId"));
}

#[test]
pub(super) fn missing_or_malformed_encryption_key_before_any_side_effect() {
    let ops = [
        Operation::ListAccessibleRepositories,
        Operation::LinkRepository,
        Operation::LinkPullRequest,
        Operation::CreateBranch,
        Operation::GetCloneInfo,
        Operation::CreatePullRequest,
        Operation::GetPullRequestDetails,
        Operation::GetPullRequestCiStatus,
        Operation::CommentOnPullRequest,
        Operation::ReviewPullRequest,
        Operation::LinkBranch,
    ];
    for op in ops {
        for key in [None, Some("not-hex"), Some(&KEY_HEX[..62])] {
            let h = FakeHost::new();
            h.set_config("PUBLIC_URL", PUBLIC_URL);
            if let Some(k) = key {
                h.set_config("ENCRYPTION_KEY", k);
            }
            let r = expect_err(&h, sample(op), EncryptionNotConfigured);
            assert!(r.message().contains("ENCRYPTION_KEY"));
            assert_eq!((h.calls().db(), h.calls().fetch), (0, 0), "{}", op.id());
        }
    }
}

#[test]
pub(super) fn a_failing_first_db_call_is_an_internal_error_without_db_text() {
    for op in Operation::ALL
        .iter()
        .filter(|op| **op != Operation::SetToken)
    {
        let h = host();
        h.on_query_err(".", DB_DETAIL);
        let reply = expect_err(&h, sample(*op), InternalError);
        assert_eq!(reply.status, 500);
        assert!(
            !reply.message().contains("internal_detail_xyz"),
            "{}",
            op.id()
        );
        assert_eq!(h.calls().db(), 1, "{}", op.id());
        assert_eq!((h.calls().fetch, h.calls().emit), (0, 0));
        assert!(
            h.logs()
                .iter()
                .any(|(_, l)| l.contains("internal_detail_xyz"))
        );
    }
}

#[test]
fn success_envelopes_are_json_with_data() {
    let h = host();
    h.on_query(
        &exact::<sql::IntegrationTimestamps>(),
        &["created_at", "updated_at"],
        vec![],
    );
    let resp = crate::handle_request(&h, sample(Operation::GetIntegration));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(
        body,
        json!({"success": true, "data": {"project_id": PROJECT, "connected": false}})
    );
}
