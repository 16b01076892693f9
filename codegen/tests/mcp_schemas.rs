//! The MCP tool input schemas must be valid JSON Schema 2020-12 (MCP's default dialect) and
//! must accept exactly what the HTTP mapper can send.

use paca_codegen::openapi::{self, mcp};
use serde_json::{Value, json};

fn tools(spec: &str) -> Vec<Value> {
    let api = openapi::parse(spec).unwrap_or_else(|e| panic!("{e}"));
    let doc: Value = serde_json::from_str(&mcp::emit(&api)).expect("tools.json is JSON");
    doc["tools"].as_array().expect("a tools array").clone()
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::new(schema)
        .unwrap_or_else(|e| panic!("not a 2020-12 schema: {e}\n{schema:#}"))
}

#[test]
fn every_input_schema_is_valid_2020_12_with_a_complete_mapper() {
    let specs = [
        include_str!("../../spec/openapi.yaml"),
        include_str!("fixtures/openapi/kitchen_sink.yaml"),
    ];
    for spec in specs {
        for tool in tools(spec) {
            let schema = &tool["inputSchema"];
            assert!(
                jsonschema::meta::is_valid(schema),
                "{}: invalid against the meta-schema",
                tool["name"]
            );
            assert_eq!(
                schema["type"], "object",
                "{}: MCP requires an object schema",
                tool["name"]
            );
            validator(schema);
            // Every argument has exactly one HTTP location, and every required one exists.
            let props = schema["properties"].as_object().expect("properties");
            let args = tool["http"]["args"].as_object().expect("args mapper");
            assert_eq!(
                props.keys().collect::<Vec<_>>(),
                args.keys().collect::<Vec<_>>(),
                "{}: properties and mapper differ",
                tool["name"]
            );
            for r in schema["required"].as_array().expect("required") {
                assert!(
                    props.contains_key(r.as_str().unwrap()),
                    "{}: required {r} undefined",
                    tool["name"]
                );
            }
        }
    }
}

#[test]
fn link_pull_request_arguments_are_checked_like_the_api_checks_them() {
    let tools = tools(include_str!("../../spec/openapi.yaml"));
    let tool = tools
        .iter()
        .find(|t| t["name"] == "github_link_pull_request")
        .expect("tool exists");
    let v = validator(&tool["inputSchema"]);
    let uuid = "550e8400-e29b-41d4-a716-446655440000";
    let good = json!({"projectId": uuid, "taskId": uuid, "repoId": uuid, "pr_number": 42});
    assert!(v.is_valid(&good));
    for bad in [
        json!({"projectId": uuid, "taskId": uuid, "repoId": uuid}),
        json!({"projectId": uuid, "taskId": uuid, "repoId": uuid, "pr_number": 0}),
        json!({"projectId": uuid, "taskId": uuid, "repoId": uuid, "pr_number": "42"}),
        json!({"projectId": uuid, "taskId": uuid, "repoId": uuid, "pr_number": 42, "extra": true}),
    ] {
        assert!(!v.is_valid(&bad), "accepted {bad}");
    }
}

/// The spec → tools.json half of "the spec is the tool list": an `x-mcp` text edit is what the
/// agent reads, and a new `x-mcp` operation is a tool with a complete HTTP mapping, so the
/// generic dispatcher in `mcp/src/` can call it (`mcp/test/spec-driven.test.mjs` rebuilds the
/// bundle over a changed tools.json and calls it through a real MCP client).
#[test]
fn x_mcp_edits_and_new_operations_flow_into_tools_json() {
    let spec = include_str!("../../spec/openapi.yaml");
    let old = "List the GitHub branches linked to a Paca task.";
    assert_eq!(spec.matches(old).count(), 1);
    let edited = tools(&spec.replacen(old, "Branches of the task (edited in the spec).", 1));
    let branches = edited
        .iter()
        .find(|t| t["name"] == "github_list_task_branches")
        .expect("tool");
    assert!(
        branches["description"]
            .as_str()
            .unwrap()
            .starts_with("Branches of the task (edited in the spec).")
    );

    let anchor = "  /projects/{projectId}/github/token:\n";
    assert_eq!(spec.matches(anchor).count(), 1);
    let new_operation = "  /projects/{projectId}/github/check:
    parameters:
      - $ref: '#/components/parameters/projectId'
    get:
      operationId: checkConnection
      summary: Check the connection
      x-paca:
        actions: [tasks:read]
      x-mcp:
        description: A new operation, only in this test.
      parameters:
        - {name: deep, in: query, schema: {type: boolean, default: false}}
      responses:
        '200':
          description: The status.
          content:
            application/json:
              schema:
                type: object
                required: [success, data]
                properties:
                  success: {type: boolean, enum: [true]}
                  data: {$ref: '#/components/schemas/Integration'}
        '400': {$ref: '#/components/responses/BadRequest'}
        '403': {$ref: '#/components/responses/Forbidden'}
        '500': {$ref: '#/components/responses/InternalError'}
";
    let added = tools(&spec.replacen(anchor, &format!("{new_operation}{anchor}"), 1));
    assert_eq!(added.len(), tools(spec).len() + 1);
    let tool = added
        .iter()
        .find(|t| t["name"] == "github_check_connection")
        .expect("the new operation is a tool");
    insta::assert_json_snapshot!("new_x_mcp_operation_tool", tool);
}

#[test]
fn body_ids_become_camel_case_arguments_mapped_back_to_the_api_field() {
    let tools = tools(include_str!("../../spec/openapi.yaml"));
    let link = tools
        .iter()
        .find(|t| t["name"] == "github_link_pull_request")
        .expect("tool");
    assert_eq!(
        link["http"]["args"]["repoId"],
        json!({"in": "body", "name": "repo_id"})
    );
    assert_eq!(
        link["http"]["args"]["pr_number"],
        json!({"in": "body", "name": "pr_number"})
    );
    assert!(link["inputSchema"]["properties"].get("repo_id").is_none());
    assert_eq!(
        link["result"],
        json!({"status": 201, "schema": "PullRequest", "list": false})
    );
}

/// Paca's core `push_branch` tool tells agents to call exactly this tool with exactly these
/// argument names: a contract with Paca, pinned here and in the snapshot.
#[test]
fn create_pull_request_tool_keeps_pacas_contract_names() {
    let tools = tools(include_str!("../../spec/openapi.yaml"));
    let tool = tools
        .iter()
        .find(|t| t["name"] == "github_create_pull_request")
        .expect("github_create_pull_request exists");
    let mut args: Vec<&str> = tool["inputSchema"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    args.sort_unstable();
    assert_eq!(
        args,
        [
            "base_branch",
            "body",
            "head_branch",
            "projectId",
            "repoId",
            "taskId",
            "title"
        ]
    );
    let required: Vec<&str> = tool["inputSchema"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        required,
        ["projectId", "taskId", "repoId", "title", "head_branch"]
    );
    let v = validator(&tool["inputSchema"]);
    let uuid = "550e8400-e29b-41d4-a716-446655440000";
    assert!(v.is_valid(&json!({"projectId": uuid, "taskId": uuid, "repoId": uuid,
        "title": "PROJ-1 Login", "head_branch": "feat/PROJ-1-login", "base_branch": "main", "body": "x"})));
    insta::assert_snapshot!(
        "github_create_pull_request_tool",
        serde_json::to_string_pretty(tool).unwrap()
    );
}
