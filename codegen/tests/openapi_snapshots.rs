//! Snapshots of every OpenAPI emitter on a fixture spec that uses each supported construct, and
//! of the validation gate's message for each kind of unsupported input.

use paca_codegen::openapi::{self, manifest, mcp, rust};

const FIXTURE: &str = include_str!("fixtures/openapi/kitchen_sink.yaml");

fn api() -> openapi::ir::Api {
    openapi::parse(FIXTURE).unwrap_or_else(|e| panic!("fixture must be valid: {e}"))
}

#[test]
fn api_rs() {
    insta::assert_snapshot!("kitchen_sink_api_rs", rust::emit(&api()));
}

#[test]
fn plugin_json() {
    insta::assert_snapshot!("kitchen_sink_plugin_json", manifest::emit(&api()).unwrap());
}

#[test]
fn tools_json() {
    insta::assert_snapshot!("kitchen_sink_tools_json", mcp::emit(&api()));
}

#[test]
fn emitters_are_deterministic() {
    let (a, b) = (api(), api());
    assert_eq!(rust::emit(&a), rust::emit(&b));
    assert_eq!(manifest::emit(&a), manifest::emit(&b));
    assert_eq!(mcp::emit(&a), mcp::emit(&b));
}

/// The fixture with one substring replaced; the replacement must apply exactly once.
fn mutate(from: &str, to: &str) -> String {
    assert_eq!(
        FIXTURE.matches(from).count(),
        1,
        "mutation anchor {from:?} must be unique"
    );
    FIXTURE.replacen(from, to, 1)
}

fn spec_error(spec: &str) -> String {
    match openapi::parse(spec) {
        Ok(_) => panic!("the spec should have been rejected"),
        Err(e) => e.to_string(),
    }
}

macro_rules! rejects {
    ($name:ident, $from:expr, $to:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(
                concat!("error_", stringify!($name)),
                spec_error(&mutate($from, $to))
            );
        }
    };
}

rejects!(openapi_3_1, "openapi: 3.0.3", "openapi: 3.1.0");
rejects!(missing_operation_id, "      operationId: deleteItem\n", "");
rejects!(
    duplicate_operation_id,
    "operationId: getSpecialItem",
    "operationId: listItems"
);
rejects!(
    cookie_parameter,
    "- {name: label, in: query,",
    "- {name: label, in: cookie,"
);
rejects!(
    header_parameter,
    "- {name: label, in: query,",
    "- {name: label, in: header,"
);
rejects!(
    unknown_action,
    "actions: [\"tasks:read\"]}\n      x-mcp: {description: List",
    "actions: [\"wiki:read\"]}\n      x-mcp: {description: List"
);
rejects!(
    unknown_x_paca_key,
    "x-paca: {actions: [\"tasks:write\"]}",
    "x-paca: {actions: [\"tasks:write\"], audit: true}"
);
rejects!(
    missing_x_paca,
    "      x-paca: {actions: [\"tasks:write\"]}\n",
    ""
);
rejects!(
    public_and_actions,
    "x-paca: {public: true, rawBody: true}",
    "x-paca: {public: true, rawBody: true, actions: [\"tasks:read\"]}"
);
rejects!(
    pattern_unsupported,
    "name: {type: string, minLength: 2, maxLength: 10}",
    "name: {type: string, pattern: '^[a-z]+$'}"
);
rejects!(
    undeclared_error_code,
    "x-error-codes: [ITEM_EXISTS]",
    "x-error-codes: [ITEM_GONE]"
);
rejects!(
    error_code_wrong_status,
    "x-error-codes: [ITEM_EXISTS]",
    "x-error-codes: [ITEM_NOT_FOUND]"
);
rejects!(
    success_without_envelope,
    "data: {$ref: '#/components/schemas/Receipt'}",
    "payload: {$ref: '#/components/schemas/Receipt'}"
);
rejects!(
    mcp_argument_collision,
    "count: {type: integer, format: int32, minimum: 0, maximum: 10}",
    "project_id: {type: integer}"
);
rejects!(
    raw_body_tool,
    "x-paca: {public: true, rawBody: true}",
    "x-paca: {public: true, rawBody: true}\n      x-mcp: {description: No.}"
);
rejects!(
    bad_tool_name,
    "name: sink_make_item",
    "name: Sink-Make-Item"
);
rejects!(
    undeclared_path_param,
    "/projects/{projectId}/items/special:",
    "/projects/{projectId}/items/{special}:"
);
rejects!(
    default_response,
    "'204': {description: Gone.}",
    "'204': {description: Gone.}\n        default: {description: Anything.}"
);
rejects!(
    missing_internal_error,
    "        '204': {description: Gone.}\n        '400': {$ref: '#/components/responses/BadRequest'}\n        '403': {$ref: '#/components/responses/Forbidden'}\n        '404':\n          description: Missing.\n          x-error-codes: [ITEM_NOT_FOUND]\n          content: {application/json: {schema: {$ref: '#/components/schemas/ErrorEnvelope'}}}\n        '500': {$ref: '#/components/responses/Internal'}",
    "        '204': {description: Gone.}\n        '400': {$ref: '#/components/responses/BadRequest'}\n        '403': {$ref: '#/components/responses/Forbidden'}"
);
rejects!(
    inline_object_schema,
    "extra: {type: object, additionalProperties: true}",
    "extra: {type: object, properties: {a: {type: string}}}"
);
rejects!(
    duplicate_path_param,
    "/projects/{projectId}/items/special:",
    "/projects/{projectId}/items/{projectId}:"
);

#[test]
fn same_route_twice() {
    // GET /items/{specialId} and GET /items/{itemId} have the same shape: the host could not tell them apart.
    let spec = mutate("/projects/{projectId}/items/special:", "/projects/{projectId}/items/{specialId}:")
        .replacen("schema: {type: string, format: uuid}}\n    get:\n      operationId: getSpecialItem", "schema: {type: string, format: uuid}}\n      - {name: specialId, in: path, required: true, schema: {type: string}}\n    get:\n      operationId: getSpecialItem", 1)
        .replacen("    delete:\n      operationId: deleteItem", "    get:\n      operationId: deleteItem", 1);
    insta::assert_snapshot!("error_same_route_twice", spec_error(&spec));
}

#[test]
fn invalid_yaml() {
    insta::assert_snapshot!("error_invalid_yaml", spec_error("openapi: [3.0.3\n"));
}

#[test]
fn config_keys_must_match_the_allowlist() {
    let spec = mutate(
        "allowedConfigKeys: [API_KEY]",
        "allowedConfigKeys: [API_KEY, PUBLIC_URL]",
    );
    let api = openapi::parse(&spec).expect("valid spec");
    insta::assert_snapshot!("error_config_mismatch", manifest::emit(&api).unwrap_err());
}

fn manifest_error(from: &str, to: &str) -> String {
    let api = openapi::parse(&mutate(from, to)).expect("valid spec");
    manifest::emit(&api).unwrap_err()
}

#[test]
fn skills_are_checked_like_paca_checks_them_on_install() {
    let cases = [
        ("names: [paca-sink-guide]", "names: []"),
        ("names: [paca-sink-guide]", "names: [sink-guide]"),
        ("names: [paca-sink-guide]", "names: [paca-Sink_guide]"),
        ("names: [paca-sink-guide]", "names: [paca-trigger-sink]"),
        (
            "names: [paca-sink-guide]",
            "names: [paca-sink-guide, paca-sink-guide]",
        ),
        (
            "baseUrl: /plugins-skills/com.example.kitchen-sink",
            "baseUrl: /skills",
        ),
    ];
    let errors: Vec<String> = cases
        .iter()
        .map(|(from, to)| manifest_error(from, to))
        .collect();
    insta::assert_snapshot!("error_skills", errors.join("\n"));
}
