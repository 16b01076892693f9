//! HTTP proxy: routing, middlewares, envelopes, response mapping, events, dev endpoints.

mod common;
use common::*;
use paca_devhost::{DevHost, DevHostConfig, Limits};
use serde_json::{Value, json};

const PID: &str = "com.paca.github";

fn manifest() -> Value {
    json!({
        "id": PID,
        "backend": {
            "routes": [
                {"method": "GET", "path": "/projects/:projectId/links", "middlewares": [
                    {"name": "optionalAuthn"}, {"name": "requireFreshPassword"},
                    {"name": "requireActions", "scope": "project", "actions": ["tasks:read"]}]},
                {"method": "post", "path": "/projects/:projectId/links", "middlewares": [
                    {"name": "optionalAuthn"}, {"name": "requireFreshPassword"},
                    {"name": "requireActions", "scope": "project", "actions": ["github:manage"]}]},
                {"method": "GET", "path": "/me", "middlewares": [{"name": "authn"}, {"name": "requireFreshPassword"}]},
                {"method": "GET", "path": "/default"},
                {"method": "GET", "path": "/open", "middlewares": []},
                {"method": "GET", "path": "/legacy", "middlewares": [{"name": "requirePermissions", "permissions": ["tasks.read"]}]},
                {"method": "POST", "path": "/webhook", "middlewares": [{"name": "optionalAuthn"}]}
            ],
            "eventSubscriptions": ["task.deleted"],
            "allowedOutboundDomains": ["api.github.com"],
            "allowedConfigKeys": ["ENCRYPTION_KEY", "PUBLIC_URL"]
        }
    })
}

struct Env {
    host: DevHost,
    _dir: tempfile::TempDir,
    client: reqwest::Client,
}

async fn start_with(funcs: &str, limits: Limits) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("plugin.wasm");
    std::fs::write(&wasm, guest("", funcs)).unwrap();
    let mf = dir.path().join("plugin.json");
    std::fs::write(&mf, manifest().to_string()).unwrap();
    let cfg = DevHostConfig::new(&wasm, &mf)
        .migrations(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations"),
        )
        .limits(limits);
    let host = DevHost::start(cfg).await.unwrap();
    Env {
        host,
        _dir: dir,
        client: reqwest::Client::new(),
    }
}

async fn start() -> Env {
    start_with(XECHO, Limits::default()).await
}

/// Sends a request; returns status and the envelope the plugin received (None if it did not run).
async fn send(
    e: &Env,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Option<Value>) {
    let mut rb = e
        .client
        .request(method.parse().unwrap(), e.host.plugin_url(path))
        .header("x-github-event", "push")
        .body(body.to_owned());
    if let Some(t) = token {
        rb = rb.header("authorization", format!("Bearer {t}"));
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let env = text
        .strip_prefix('X')
        .map(|j| serde_json::from_str(j).unwrap());
    (status, env)
}

#[tokio::test]
async fn envelope_shape_and_project_scoping() {
    let e = start().await;
    let seed = e.host.seed();
    let project = seed.project("P", "PRJ").await.unwrap();
    seed.dev_members(&project).await.unwrap();
    let (st, env) = send(
        &e,
        "GET",
        &format!("projects/{project}/links?a=1&a=2&b=x%20y"),
        Some("dev-viewer"),
        "",
    )
    .await;
    assert_eq!(st, 200);
    let env = env.unwrap();
    let keys: Vec<&str> = env
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 9);
    assert_eq!(env["method"], "GET");
    assert_eq!(env["path"], format!("projects/{project}/links"));
    assert_eq!(env["query"], json!({"a": "1", "b": "x y"}));
    assert_eq!(env["project_id"], project);
    assert!(!env["caller_id"].as_str().unwrap().is_empty());
    assert_eq!(env["user_id"], "00000000-0000-4000-8000-000000000003");
    assert_eq!(env["caller_role"], "USER");
    assert_eq!(env["headers"]["X-Github-Event"], "push");
    assert_eq!(env["headers"]["Authorization"], "Bearer dev-viewer");
    assert_eq!(env["body"], "");

    // raw envelope key order as the Go struct
    let resp = e
        .client
        .get(e.host.plugin_url("open"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let order = [
        "\"method\"",
        "\"path\"",
        "\"query\"",
        "\"project_id\"",
        "\"caller_id\"",
        "\"user_id\"",
        "\"caller_role\"",
        "\"headers\"",
        "\"body\"",
    ];
    let pos: Vec<usize> = order.iter().map(|k| resp.find(k).unwrap()).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{resp}");

    // not project-scoped: project_id/caller_id stay empty even with a token
    let (st, env) = send(&e, "GET", "me", Some("dev-admin"), "").await;
    assert_eq!(st, 200);
    let env = env.unwrap();
    assert_eq!(env["project_id"], "");
    assert_eq!(env["caller_id"], "");
    assert_eq!(env["caller_role"], "SUPER_ADMIN");
}

#[tokio::test]
async fn middlewares_401_403_400() {
    let e = start().await;
    let seed = e.host.seed();
    let project = seed.project("P", "PRJ").await.unwrap();
    seed.dev_members(&project).await.unwrap();
    let other = seed.project("Other", "OTH").await.unwrap();
    let links = format!("projects/{project}/links");
    assert_eq!(send(&e, "GET", &links, None, "").await.0, 401); // anonymous + requireActions
    assert_eq!(send(&e, "GET", &links, Some("bogus"), "").await.0, 401); // invalid bearer even with optionalAuthn
    assert_eq!(
        send(&e, "POST", &links, Some("dev-member"), "{}").await.0,
        403
    ); // lacks github:manage
    assert_eq!(
        send(&e, "POST", &links, Some("dev-admin"), "{}").await.0,
        200
    );
    assert_eq!(
        send(&e, "GET", &links, Some("dev-stale-password"), "")
            .await
            .0,
        403
    );
    assert_eq!(
        send(
            &e,
            "GET",
            "projects/not-a-uuid/links",
            Some("dev-admin"),
            ""
        )
        .await
        .0,
        400
    );
    assert_eq!(
        send(
            &e,
            "GET",
            &format!("projects/{other}/links"),
            Some("dev-member"),
            ""
        )
        .await
        .0,
        403
    ); // not a member
    assert_eq!(send(&e, "GET", "me", None, "").await.0, 401);
    assert_eq!(send(&e, "GET", "default", None, "").await.0, 401); // default policy = authn
    assert_eq!(
        send(&e, "GET", "default", Some("dev-stale-password"), "")
            .await
            .0,
        403
    );
    assert_eq!(send(&e, "GET", "open", None, "").await.0, 200);
    assert_eq!(
        send(&e, "GET", "legacy", Some("dev-admin"), "").await.0,
        500
    );
    // unmatched route: forwarded with no middleware at all
    let (st, env) = send(&e, "DELETE", "projects/x/undeclared", None, "").await;
    assert_eq!(st, 200);
    assert_eq!(env.unwrap()["path"], "projects/x/undeclared");
    // unknown plugin
    let r = e
        .client
        .get(format!("{}/api/v1/plugins/other/x", e.host.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn webhook_is_anonymous_with_raw_body() {
    let e = start().await;
    let (st, env) = send(&e, "POST", "webhook", None, "{\"zen\":\"hi\"}").await;
    assert_eq!(st, 200);
    let env = env.unwrap();
    for k in ["user_id", "caller_id", "caller_role", "project_id"] {
        assert_eq!(env[k], "", "{k}");
    }
    assert_eq!(env["path"], "webhook");
    assert_eq!(env["body"], "eyJ6ZW4iOiJoaSJ9");
}

#[tokio::test]
async fn body_over_limit_is_413_before_the_guest_runs() {
    let e = start_with(
        XECHO,
        Limits {
            max_request_body_bytes: 2048,
            ..Limits::default()
        },
    )
    .await;
    let (st, env) = send(&e, "POST", "webhook", None, &"a".repeat(4096)).await;
    assert_eq!(st, 413);
    assert!(env.is_none());
    assert_eq!(e.host.plugin().global_i64("mallocs"), Some(0));
}

#[tokio::test]
async fn response_envelope_mapping() {
    // HandleRequest returns the request body bytes as its result.
    // HandleRequest returns the query value after the '@' marker (JSON-unescaped) as its result.
    let f = r#"(func (export "HandleRequest") (param $p i32) (param $l i32) (result i64)
        (local $o i32) (local $n i32) (local $out i32) (local $c i32)
        (local.set $o (local.get $p))
        (block $done (loop $scan
          (br_if $done (i32.ge_u (local.get $o) (i32.add (local.get $p) (local.get $l))))
          (br_if $done (i32.eq (i32.load8_u (local.get $o)) (i32.const 64)))
          (local.set $o (i32.add (local.get $o) (i32.const 1))) (br $scan)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (local.set $out (call $malloc (local.get $l)))
        (local.set $n (i32.const 0))
        (block $end (loop $copy
          (local.set $c (i32.load8_u (local.get $o)))
          (br_if $end (i32.eq (local.get $c) (i32.const 34)))
          (if (i32.eq (local.get $c) (i32.const 92)) (then
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (local.set $c (i32.load8_u (local.get $o)))))
          (i32.store8 (i32.add (local.get $out) (local.get $n)) (local.get $c))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (local.set $o (i32.add (local.get $o) (i32.const 1)))
          (br $copy)))
        (call $pack (local.get $out) (local.get $n)))"#;
    let e = start_with(f, Limits::default()).await;
    // the marker travels in the query string; the result is what follows it (URL-decoded by the host? no: raw query)
    let get = |q: &'static str| {
        let url = format!("{}?m=@{}", e.host.plugin_url("open"), q);
        let c = e.client.clone();
        async move { c.get(url).send().await.unwrap() }
    };
    let r = get("%7B%22status%22%3A201%2C%22headers%22%3A%7B%22Content-Type%22%3A%22text%2Fplain%22%2C%22Location%22%3A%22%2Fx%22%7D%2C%22body%22%3A%22aGk%3D%22%7D").await;
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.headers()["location"], "/x");
    assert_eq!(r.text().await.unwrap(), "hi");
    // status 0 → 200, default content type
    let r = get("%7B%22status%22%3A0%2C%22body%22%3Anull%7D").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    // invalid base64 → raw bytes, 200, application/json
    let r = get("%7B%22status%22%3A404%2C%22body%22%3A%22%21%21%22%7D").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.text().await.unwrap(), r#"{"status":404,"body":"!!"}"#);
}

#[tokio::test]
async fn trap_is_500_plugin_execution_error() {
    let e = start_with(
        r#"(func (export "HandleRequest") (param i32 i32) (result i64) unreachable)"#,
        Limits::default(),
    )
    .await;
    let r = e
        .client
        .get(e.host.plugin_url("open"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 500);
    assert!(r.text().await.unwrap().contains("plugin execution error: "));
}

#[tokio::test]
async fn task_deleted_event_dispatch_and_dev_endpoints() {
    let f = format!(
        "{XECHO}{}",
        r#"(global $tl (export "topic_len") (mut i32) (i32.const 0))
           (global $pl (export "payload_len") (mut i32) (i32.const 0))
           (func (export "HandleEvent") (param $tp i32) (param $tl i32) (param $pp i32) (param $pl i32)
             (global.set $tl (local.get $tl)) (global.set $pl (local.get $pl)))"#
    );
    let e = start_with(&f, Limits::default()).await;
    let seed = e.host.seed();
    let project = seed.project("P", "PRJ").await.unwrap();
    let task = seed.task(&project, "T1").await.unwrap();
    assert_eq!(task.task_number, 1);
    let payload = e
        .host
        .delete_task(&task.id, Some("00000000-0000-4000-8000-000000000001"))
        .await
        .unwrap();
    assert_eq!(payload["activity_type"], "task.deleted");
    assert_eq!(payload["content"], "{}");
    assert_eq!(payload["task_id"], task.id);
    assert_eq!(payload["project_id"], project);
    assert!(payload["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(e.host.plugin().global_i64("topic_len"), Some(12));
    let sent = serde_json::to_vec(&payload).unwrap().len() as i64;
    assert_eq!(e.host.plugin().global_i64("payload_len"), Some(sent));
    let log = e.host.event_log().dispatched();
    assert_eq!(log.len(), 1);
    assert!(log[0].delivered);
    // not subscribed → not delivered
    assert!(!e.host.emit_event("task.created", &json!({})).await);
    // dev endpoint: soft-delete another task over HTTP
    let t2 = seed.task(&project, "T2").await.unwrap();
    let r = e
        .client
        .post(format!(
            "{}/__devhost/tasks/{}/delete",
            e.host.base_url(),
            t2.id
        ))
        .header("authorization", "Bearer dev-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json_text().await;
    assert_eq!(v["actor_id"], "00000000-0000-4000-8000-000000000001");
    let ev: Value = e
        .client
        .get(format!("{}/__devhost/events", e.host.base_url()))
        .send()
        .await
        .unwrap()
        .json_text()
        .await;
    assert_eq!(ev["dispatched"].as_array().unwrap().len(), 3);
    assert_eq!(ev["emitted"], json!([]));
    let deleted: (Option<String>,) =
        sqlx::query_as("SELECT deleted_at::text FROM tasks WHERE id::text = $1")
            .bind(&t2.id)
            .fetch_one(e.host.pool())
            .await
            .unwrap();
    assert!(deleted.0.is_some());
}

trait JsonText {
    async fn json_text(self) -> Value;
}
impl JsonText for reqwest::Response {
    async fn json_text(self) -> Value {
        serde_json::from_str(&self.text().await.unwrap()).unwrap()
    }
}

/// `(method, path)` of every operation in an OpenAPI document.
fn documented_operations(doc: &Value) -> std::collections::BTreeSet<(String, String)> {
    let mut ops = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("`paths` is an object") {
        for method in item.as_object().expect("a path item is an object").keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                ops.insert((method.clone(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn control_openapi_document_lists_every_served_control_route() {
    let e = start().await;
    let r = e
        .client
        .get(format!("{}/__devhost/openapi.json", e.host.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let doc: Value = r.json_text().await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "not an OpenAPI 3 document: {doc}"
    );
    let served: std::collections::BTreeSet<(String, String)> =
        paca_devhost::dev_api::served_routes()
            .into_iter()
            .map(|(m, p)| (m.to_owned(), p.replace("{*", "{")))
            .collect();
    let documented = documented_operations(&doc);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in /__devhost/openapi.json (add a #[utoipa::path] to the handler and \
         list it in dev_api::ControlApi): {undocumented:?}"
    );
    let stale: Vec<_> = documented.difference(&served).collect();
    assert!(stale.is_empty(), "documented but not served: {stale:?}");
    // every schema the operations reference is in the document
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(
            schemas.contains_key(name),
            "$ref to undefined schema {name}"
        );
    }
}

#[tokio::test]
async fn seed_endpoints_answer_as_documented() {
    let e = start().await;
    let post = |path: &str, body: Option<Value>| {
        let req = e.client.post(format!("{}{path}", e.host.base_url()));
        match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(b.to_string()),
            None => req,
        }
        .send()
    };
    // no body at all: every default
    let r = post("/__devhost/seed/project", None).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let project: Value = r.json_text().await;
    let id = project["id"].as_str().unwrap().to_owned();
    let r = post(
        "/__devhost/seed/task",
        Some(json!({"project_id": id, "title": "Seeded"})),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let task: Value = r.json_text().await;
    assert_eq!(task["task_number"], 1);
    assert!(task["id"].is_string());
    let r = post("/__devhost/seed/task", Some(json!({"project_id": "nope"})))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.json_text().await["error_code"], "BAD_REQUEST");
}
