//! Behaviour of the generated code (`generated/tables.rs`, `generated/api.rs`) that handlers
//! rely on: row types over the SDK's decoding, routing over the spec's table, query and
//! body validation. The runtime underneath is unit-tested in `paca-plugin-sdk`.

use crate::generated::api::*;
use crate::generated::tables::*;
use crate::host::QueryResult;
use serde_json::json;
use std::collections::BTreeMap;

fn result(v: serde_json::Value) -> QueryResult {
    serde_json::from_value(v).unwrap()
}

const DELIVERY_COLUMNS: [&str; 5] = [
    "delivery_id",
    "repo_id",
    "event",
    "received_at",
    "completed_at",
];

#[test]
fn null_rows_decode_as_empty() {
    let r = result(json!({"columns": DELIVERY_COLUMNS, "rows": null}));
    assert!(r.is_empty());
    assert_eq!(r.decode::<GithubWebhookDeliveriesRow>().unwrap(), vec![]);
    assert_eq!(r.decode_one::<GithubWebhookDeliveriesRow>().unwrap(), None);
    let r = result(json!({"columns": null, "rows": null}));
    assert_eq!(r.rows().count(), 0);
}

#[test]
fn rows_decode_uuids_typed_nulls_and_timestamps() {
    let r = result(json!({"columns": DELIVERY_COLUMNS, "rows": [
        ["d1", null, "push", "2026-01-01T00:00:00Z", null],
        ["d2", "6f1c1a4e-4c53-4bd6-9b5d-9a0c1b2c3d4e", "ping", "2026-01-01T00:00:01.5+02:00", "2026-01-01T00:00:02Z"]
    ]}));
    let rows: Vec<GithubWebhookDeliveriesRow> = r.decode().unwrap();
    assert_eq!(rows[0].repo_id, None);
    assert_eq!(
        rows[1].repo_id.unwrap().to_string(),
        "6f1c1a4e-4c53-4bd6-9b5d-9a0c1b2c3d4e"
    );
    assert_eq!(rows[1].received_at, "2026-01-01T00:00:01.5+02:00");
    assert_eq!(
        r.decode_one::<GithubWebhookDeliveriesRow>()
            .unwrap()
            .unwrap()
            .delivery_id,
        "d1"
    );
    // A typed NULL in a NOT NULL column is an error, not a default.
    let r = result(json!({"columns": DELIVERY_COLUMNS, "rows": [["d1", null, null, "t", null]]}));
    assert_eq!(
        r.decode::<GithubWebhookDeliveriesRow>().unwrap_err(),
        DecodeError::UnexpectedNull {
            column: "event".into()
        }
    );
}

#[test]
fn generated_row_names_its_first_missing_column() {
    // A generated row type names the first missing column.
    let r = result(json!({"columns": ["delivery_id"], "rows": [["d"]]}));
    assert_eq!(
        r.decode::<GithubWebhookDeliveriesRow>().unwrap_err(),
        DecodeError::MissingColumn {
            column: "repo_id".into()
        }
    );
}

#[test]
fn route_matching_and_percent_decoding() {
    let p = "6f1c1a4e-4c53-4bd6-9b5d-9a0c1b2c3d4e";
    assert_eq!(
        route("GET", &format!("projects/{p}/github")),
        Some((Operation::GetIntegration, vec![p.to_string()]))
    );
    // Method is case-insensitive; surrounding slashes are ignored.
    assert_eq!(
        route("get", &format!("/projects/{p}/github/")).unwrap().0,
        Operation::GetIntegration
    );
    // Same path, different methods.
    assert_eq!(
        route("POST", &format!("projects/{p}/github/token"))
            .unwrap()
            .0,
        Operation::SetToken
    );
    assert_eq!(
        route("DELETE", &format!("projects/{p}/github/token"))
            .unwrap()
            .0,
        Operation::DeleteToken
    );
    assert_eq!(route("GET", &format!("projects/{p}/github/token")), None);
    // Literal segments must match exactly: a literal is never taken as a parameter value.
    assert_eq!(
        route("GET", "projects/x/github/linked-repositories")
            .unwrap()
            .0,
        Operation::ListLinkedRepositories
    );
    assert_eq!(route("GET", "projects/x/github/Linked-Repositories"), None);
    // Parameters are percent-decoded; bad escapes and empty segments do not match.
    assert_eq!(
        route(
            "DELETE",
            "projects/a%2Fb/github/linked-repositories/%E2%9C%93"
        )
        .unwrap()
        .1,
        vec!["a/b".to_string(), "✓".to_string()]
    );
    assert_eq!(route("GET", "projects/%zz/github"), None);
    assert_eq!(route("GET", "projects/%4/github"), None);
    assert_eq!(route("GET", "projects/%FF/github"), None);
    assert_eq!(route("GET", "projects//github"), None);
    assert_eq!(
        route("GET", "projects/p/tasks/t/github/pull-requests"),
        Some((
            Operation::ListTaskPullRequests,
            vec!["p".into(), "t".into()]
        ))
    );
    // Every operation's own template routes back to it.
    for op in Operation::ALL {
        let concrete = op
            .path()
            .replace("{projectId}", p)
            .replace("{taskId}", p)
            .replace("{repoId}", p)
            .replace("{prId}", p);
        assert_eq!(
            route(op.method(), &concrete).map(|r| r.0),
            Some(*op),
            "{}",
            op.id()
        );
    }
}

#[test]
fn accessible_repositories_query_defaults_and_bounds() {
    let q = |pairs: &[(&str, &str)]| {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListAccessibleRepositoriesQuery::from_query(&map)
    };
    assert_eq!(
        q(&[]).unwrap(),
        ListAccessibleRepositoriesQuery {
            page: 1,
            per_page: 30
        }
    );
    assert_eq!(
        q(&[("page", "1000"), ("per_page", "100"), ("other", "x")]).unwrap(),
        ListAccessibleRepositoriesQuery {
            page: 1000,
            per_page: 100
        }
    );
    assert_eq!(q(&[("per_page", "1")]).unwrap().per_page, 1);
    assert_eq!(
        q(&[("page", "0")]).unwrap_err(),
        "query parameter `page` must be at least 1"
    );
    assert_eq!(
        q(&[("page", "1001")]).unwrap_err(),
        "query parameter `page` must be at most 1000"
    );
    assert_eq!(
        q(&[("per_page", "101")]).unwrap_err(),
        "query parameter `per_page` must be at most 100"
    );
    assert_eq!(
        q(&[("per_page", "0")]).unwrap_err(),
        "query parameter `per_page` must be at least 1"
    );
    assert_eq!(
        q(&[("page", "two")]).unwrap_err(),
        "query parameter `page` must be an integer, got \"two\""
    );
    assert!(q(&[("page", "99999999999")]).is_err());
}

#[test]
fn request_body_validation_messages() {
    let uuid = uuid::Uuid::nil();
    assert_eq!(
        SetTokenRequest {
            token: String::new()
        }
        .validate()
        .unwrap_err(),
        "`token` must not be empty"
    );
    assert_eq!(
        SetTokenRequest {
            token: "x".repeat(513)
        }
        .validate()
        .unwrap_err(),
        "`token` must be at most 512 characters"
    );
    assert!(
        SetTokenRequest {
            token: "é".repeat(512)
        }
        .validate()
        .is_ok(),
        "characters, not bytes"
    );
    let link = |owner: &str, repo: &str| {
        LinkRepositoryRequest {
            owner: owner.into(),
            repo_name: repo.into(),
        }
        .validate()
    };
    assert_eq!(link("", "r").unwrap_err(), "`owner` must not be empty");
    assert_eq!(
        link(&"o".repeat(40), "r").unwrap_err(),
        "`owner` must be at most 39 characters"
    );
    assert_eq!(link("o", "").unwrap_err(), "`repo_name` must not be empty");
    assert_eq!(
        link("o", &"r".repeat(101)).unwrap_err(),
        "`repo_name` must be at most 100 characters"
    );
    assert!(link("o", "r").is_ok());
    assert_eq!(
        LinkPullRequestRequest {
            repo_id: uuid,
            pr_number: 0
        }
        .validate()
        .unwrap_err(),
        "`pr_number` must be at least 1"
    );
    let branch = |name: &str, source: Option<&str>| {
        CreateBranchRequest {
            repo_id: uuid,
            branch_name: name.into(),
            source_branch: source.map(str::to_string),
        }
        .validate()
    };
    assert_eq!(
        branch("", None).unwrap_err(),
        "`branch_name` must not be empty"
    );
    assert_eq!(
        branch(&"b".repeat(256), None).unwrap_err(),
        "`branch_name` must be at most 255 characters"
    );
    assert_eq!(
        branch("b", Some("")).unwrap_err(),
        "`source_branch` must not be empty"
    );
    assert!(branch("b", Some("main")).is_ok());
}

#[test]
fn error_codes_have_fixed_statuses_and_wire_names() {
    for code in ErrorCode::ALL {
        assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        assert!((400..600).contains(&code.status()));
    }
    let resp =
        ApiError::<op::SetToken>::new(code::GithubRateLimited, "slow \"down\"").into_response();
    assert_eq!(resp.status, 429);
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(
        body,
        json!({"success": false, "error": "slow \"down\"", "error_code": "GITHUB_RATE_LIMITED"})
    );
    // Every operation declares BAD_REQUEST and INTERNAL_ERROR; only the webhook is public.
    for op in Operation::ALL {
        assert!(op.error_codes().contains(&ErrorCode::BadRequest));
        assert!(op.error_codes().contains(&ErrorCode::InternalError));
        assert_eq!(op.is_public(), *op == Operation::ReceiveWebhook);
        assert_eq!(
            op.error_codes().contains(&ErrorCode::Forbidden),
            !op.is_public()
        );
    }
}
