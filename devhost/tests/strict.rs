//! Devhost as strict as the real host: pgx-style parameter binding, sensitive fields,
//! permissions per project and role, concurrent instances.

mod common;
use common::*;
use paca_devhost::sensitive::Policy;
use paca_devhost::{DevHost, DevHostConfig, db};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const SCHEMA: &str = "plugin_data_com_paca_github";

async fn q(pool: &sqlx::PgPool, sql: &str, params: Value) -> Result<Value, String> {
    db::query(
        pool,
        SCHEMA,
        sql.as_bytes(),
        params.to_string().as_bytes(),
        None,
    )
    .await
    .map(|s| serde_json::from_str(&s).unwrap())
}

async fn x(pool: &sqlx::PgPool, sql: &str, params: Value) -> Result<u64, String> {
    db::exec(
        pool,
        SCHEMA,
        sql.as_bytes(),
        params.to_string().as_bytes(),
        None,
    )
    .await
}

/// HandleRequest runs the payload as SQL through `db_query2` with params `["x"]` and returns
/// the result JSON or the error string.
const QUERY_X: &str = r#"(data (i32.const 100) "[\"x\"]")
    (func (export "HandleRequest") (param $p i32) (param $l i32) (result i64)
        (i64.store (i32.const 200) (i64.const 0)) (i64.store (i32.const 208) (i64.const 0))
        (call $q (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $l)) (i64.const 100) (i64.const 5)
                 (i64.const 200) (i64.const 204) (i64.const 208) (i64.const 212))
        (if (i32.load (i32.const 212)) (then (return (call $pack (i32.load (i32.const 208)) (i32.load (i32.const 212))))))
        (call $pack (i32.load (i32.const 200)) (i32.load (i32.const 204))))"#;

#[tokio::test]
async fn select_dollar_one_through_db_query2_is_refused_like_the_host() {
    let pool = fresh_pool().await;
    let imports =
        r#"(import "paca" "db_query2" (func $q (param i64 i64 i64 i64 i64 i64 i64 i64)))"#;
    let mut e = env(tokio::runtime::Handle::current());
    e.db = Some(pool.clone());
    let p = load(guest(imports, QUERY_X), e).await.unwrap();
    let run = |sql: &'static str| {
        let p = p.clone();
        async move {
            let out = p
                .call_export("HandleRequest", sql.as_bytes().to_vec(), None)
                .await
                .unwrap();
            String::from_utf8(out).unwrap()
        }
    };
    // PostgreSQL (since 10) resolves a bare `SELECT $1` to text: a string works, under the
    // column name the server gives it
    assert_eq!(
        run("SELECT $1").await,
        r#"{"columns":["?column?"],"rows":[["x"]]}"#
    );
    // where nothing gives $1 a type, pgx's prepare fails with the server's error
    assert_eq!(
        run("SELECT $1 IS NULL").await,
        "paca.db_query: ERROR: could not determine data type of parameter $1 (SQLSTATE 42P18)"
    );
    // and a JSON number for that text parameter is refused by pgx's encoder, as on the host
    let mut e = env(tokio::runtime::Handle::current());
    e.db = Some(pool.clone());
    let numeric = load(
        guest(imports, &QUERY_X.replace(r#""[\"x\"]""#, r#""[42] ""#)),
        e,
    )
    .await
    .unwrap();
    let out = numeric
        .call_export("HandleRequest", b"SELECT $1".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "paca.db_query: failed to encode args[0]: unable to encode 42 into text format for text \
         (OID 25): cannot find encode plan"
    );
    // a cast is what makes it work
    assert_eq!(
        run("SELECT $1::text IS NULL AS v").await,
        r#"{"columns":["v"],"rows":[[false]]}"#
    );
    // one $n used as two types
    let two =
        run("INSERT INTO fixture_items (project_id, label) VALUES ($1, $1) RETURNING id").await;
    assert!(
        two.starts_with("paca.db_query: ERROR: inconsistent types deduced for parameter $1")
            && two.ends_with("(SQLSTATE 42P08)"),
        "{two}"
    );
    // a string for a uuid column is parsed by the server, as a text-format parameter
    let bad = run("SELECT id FROM tasks WHERE id = $1").await;
    assert_eq!(
        bad,
        "paca.db_query: ERROR: invalid input syntax for type uuid: \"x\" (SQLSTATE 22P02)"
    );
}

#[tokio::test]
async fn json_values_encode_for_the_inferred_type_like_pgx() {
    let pool = fresh_pool().await;
    let seed = paca_devhost::Seed { pool: pool.clone() };
    let project = seed.project("P", "PRJ").await.unwrap();
    // numbers are float64: truncated into integer columns, kept into numeric
    let r = q(
        &pool,
        "INSERT INTO fixture_items (project_id, small, big, amount, flag, doc) VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING small, big, amount, flag, doc",
        json!([project, 7.9, "9007199254740993", 2.5, true, {"k": [1, "a"]}]),
    )
    .await
    .unwrap();
    assert_eq!(
        r["rows"][0],
        json!([7, 9007199254740993i64, "2.50", true, "{\"k\": [1, \"a\"]}"])
    );
    // a number where the server inferred text: pgx has no encode plan
    let e = q(
        &pool,
        "SELECT count(*) FROM fixture_items WHERE label = $1",
        json!([5]),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e,
        "paca.db_query: failed to encode args[0]: unable to encode 5 into text format for text (OID 25): \
         cannot find encode plan"
    );
    // out of int4 range
    let e = x(&pool, "UPDATE fixture_items SET small = $1", json!([3e9]))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        "paca.db_exec: failed to encode args[0]: unable to encode 3e+09 into binary format for int4 (OID 23): \
         3000000000 is greater than maximum value for int4"
    );
    // a bool for a text parameter
    assert!(
        q(&pool, "SELECT $1::text", json!([true]))
            .await
            .unwrap_err()
            .contains("unable to encode true into text format for text (OID 25)")
    );
    // `SELECT $1` is text for the server: a JSON number there is refused by pgx, as on the host
    let e = q(&pool, "SELECT $1", json!([42])).await.unwrap_err();
    assert_eq!(
        e,
        "paca.db_query: failed to encode args[0]: unable to encode 42 into text format for text (OID 25): \
         cannot find encode plan"
    );
    let e = q(
        &pool,
        "SELECT count(*) FROM fixture_items WHERE $1 IS NULL",
        json!([null]),
    )
    .await
    .unwrap_err();
    assert!(
        e.contains("could not determine data type of parameter $1"),
        "{e}"
    );
    // arrays into array parameters, NULL anywhere
    let r = q(
        &pool,
        "SELECT count(*) FROM fixture_items WHERE label = ANY($1) OR label = $2",
        json!([["a", "b"], null]),
    )
    .await
    .unwrap();
    assert_eq!(r["rows"][0][0], 0);
    // the enum of the fixture schema binds from a string; a string with a quote stays data
    let r = q(
        &pool,
        "SELECT $1::fixture_state AS s, $2::text AS t",
        json!(["open", "it's; DROP TABLE x"]),
    )
    .await
    .unwrap();
    assert_eq!(r["rows"][0], json!(["open", "it's; DROP TABLE x"]));
}

#[tokio::test]
async fn sensitive_core_columns_are_redacted_and_guarded() {
    let pool = fresh_pool().await;
    sqlx::query("UPDATE public.users SET password_hash = 'bcrypt$secret'")
        .execute(&pool)
        .await
        .unwrap();
    let sql = "SELECT username, password_hash, password_hash AS ph FROM users WHERE username = $1";
    let r = q(&pool, sql, json!(["admin"])).await.unwrap();
    assert_eq!(r["columns"], json!(["username", "password_hash", "ph"]));
    assert_eq!(r["rows"][0], json!(["admin", "***", "***"]));
    // zero rows still answer, with the columns
    let r = q(&pool, sql, json!(["nobody"])).await.unwrap();
    assert_eq!(r["rows"], Value::Null);
    // shapes that could carry the value under another name are refused
    let e = q(
        &pool,
        "SELECT md5(password_hash) FROM users WHERE username = $1",
        json!(["admin"]),
    )
    .await
    .unwrap_err();
    assert!(
        e.starts_with(
            "paca.db_query: sensitive column \"password_hash\" may only be selected directly"
        ),
        "{e}"
    );
    let e = q(&pool, "SELECT to_jsonb(u) FROM users u", json!(null))
        .await
        .unwrap_err();
    assert!(e.contains("whole-row value"), "{e}");
    // writes that reach a sensitive table are refused whole
    let e = x(
        &pool,
        "INSERT INTO fixture_items (label) SELECT name FROM public.agents",
        json!(null),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e,
        "paca.db_exec: table \"agents\" has sensitive fields this plugin has not requested access to \
         (declare requestedSensitiveFields in plugin.json)"
    );
    // a plugin that requested the field reads it
    let allowed = Policy::new(&["users.password_hash".into()]);
    let r = db::query_with(
        &pool,
        SCHEMA,
        sql.as_bytes(),
        b"[\"admin\"]",
        None,
        &allowed,
    )
    .await
    .unwrap();
    assert!(r.contains("bcrypt$secret"), "{r}");
}

// ---- permissions per project and role ----

fn manifest(extra_domains: &[&str]) -> Value {
    let gate = |actions: &[&str]| {
        json!([{"name": "optionalAuthn"}, {"name": "requireFreshPassword"},
               {"name": "requireActions", "scope": "project", "actions": actions}])
    };
    json!({
        "id": "com.paca.github",
        "backend": {
            "routes": [
                {"method": "GET", "path": "/projects/:projectId/read", "middlewares": gate(&["tasks:read"])},
                {"method": "POST", "path": "/projects/:projectId/write", "middlewares": gate(&["tasks:write"])},
                {"method": "GET", "path": "/projects/:projectId/manage", "middlewares": gate(&["github:manage"])},
                {"method": "GET", "path": "/projects/:projectId/use", "middlewares": gate(&["github:use"])},
                {"method": "GET", "path": "/slow", "middlewares": []}
            ],
            "allowedOutboundDomains": extra_domains,
        }
    })
}

struct Host {
    host: DevHost,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

async fn start(
    funcs: &str,
    imports: &str,
    cfg: impl FnOnce(DevHostConfig) -> DevHostConfig,
) -> Host {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("plugin.wasm");
    std::fs::write(&wasm, guest(imports, funcs)).unwrap();
    let mf = dir.path().join("plugin.json");
    std::fs::write(&mf, manifest(&["barrier.test"]).to_string()).unwrap();
    let host = DevHost::start(cfg(DevHostConfig::new(&wasm, &mf)))
        .await
        .unwrap();
    Host {
        host,
        _dir: dir,
        http: reqwest::Client::new(),
    }
}

impl Host {
    async fn status(&self, method: &str, path: &str, cred: (&str, &str)) -> u16 {
        self.http
            .request(method.parse().unwrap(), self.host.plugin_url(path))
            .header(cred.0, cred.1)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn bearer(t: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {t}"))
}

#[tokio::test]
async fn permissions_are_judged_per_project_and_role() {
    let h = start(XECHO, "", |c| c).await;
    let seed = h.host.seed();
    let a = seed.project("A", "AAA").await.unwrap();
    let b = seed.project("B", "BBB").await.unwrap();
    seed.dev_members(&a).await.unwrap();
    let ids = paca_devhost::dev_identities();
    let who = |t: &str| ids.iter().find(|i| i.token == t).unwrap().clone();
    // in B only the viewer is a member
    seed.join(&b, &who("dev-viewer")).await.unwrap();
    let st = |m: &'static str, p: String, t: &'static str| {
        let h = &h;
        async move {
            let (k, v) = bearer(t);
            h.status(m, &p, (k, &v)).await
        }
    };
    // a member of A who is not a member of B: 200 on A, 403 on B
    assert_eq!(
        st("GET", format!("projects/{a}/read"), "dev-member").await,
        200
    );
    assert_eq!(
        st("GET", format!("projects/{b}/read"), "dev-member").await,
        403
    );
    // roles: Viewer reads but does not write; Editor writes; neither holds custom permissions
    assert_eq!(
        st("GET", format!("projects/{b}/read"), "dev-viewer").await,
        200
    );
    assert_eq!(
        st("POST", format!("projects/{b}/write"), "dev-viewer").await,
        403
    );
    assert_eq!(
        st("POST", format!("projects/{a}/write"), "dev-member").await,
        200
    );
    assert_eq!(
        st("GET", format!("projects/{a}/manage"), "dev-member").await,
        403
    );
    // Admin holds `*` on its project, custom permissions included, and nothing elsewhere
    assert_eq!(
        st("GET", format!("projects/{a}/manage"), "dev-admin").await,
        200
    );
    assert_eq!(
        st("GET", format!("projects/{b}/manage"), "dev-admin").await,
        403
    );
    // a per-project grant of a custom permission works in that project only
    let member = who("dev-member");
    seed.join(&b, &member).await.unwrap();
    seed.grant(&a, &member.user_id, "github:manage")
        .await
        .unwrap();
    assert_eq!(
        st("GET", format!("projects/{a}/manage"), "dev-member").await,
        200
    );
    assert_eq!(
        st("GET", format!("projects/{b}/manage"), "dev-member").await,
        403
    );
    // the viewer becomes Editor in B by role change
    seed.member(&b, &who("dev-viewer").user_id, "Editor")
        .await
        .unwrap();
    assert_eq!(
        st("POST", format!("projects/{b}/write"), "dev-viewer").await,
        200
    );
}

#[tokio::test]
async fn agent_keys_are_judged_on_the_agents_own_attachments() {
    let h = start(XECHO, "", |c| c).await;
    let seed = h.host.seed();
    let a = seed.project("A", "AAA").await.unwrap();
    seed.dev_members(&a).await.unwrap();
    let key = |k: &'static str| ("x-api-key", k);
    assert_eq!(
        h.status("GET", &format!("projects/{a}/use"), key("dev-agent"))
            .await,
        200
    );
    assert_eq!(
        h.status("GET", &format!("projects/{a}/use"), key("dev-agent-basic"))
            .await,
        403
    );
    assert_eq!(
        h.status(
            "POST",
            &format!("projects/{a}/write"),
            key("dev-agent-basic")
        )
        .await,
        200
    );
    assert_eq!(
        h.status("GET", &format!("projects/{a}/manage"), key("dev-agent"))
            .await,
        403
    );
    let (k, v) = bearer("dev-member");
    assert_eq!(
        h.status("GET", &format!("projects/{a}/use"), (k, &v)).await,
        403
    );
    // the envelope names the agent's own user and membership, with no JWT role
    let resp = h
        .http
        .get(h.host.plugin_url(&format!("projects/{a}/read")))
        .header("x-api-key", "dev-agent")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let env: Value = serde_json::from_str(resp.strip_prefix('X').unwrap()).unwrap();
    assert_eq!(env["user_id"], "00000000-0000-4000-8000-000000000005");
    assert_eq!(env["caller_role"], "");
    assert!(!env["caller_id"].as_str().unwrap().is_empty());
    // not a member of another project
    let b = seed.project("B", "BBB").await.unwrap();
    assert_eq!(
        h.status("GET", &format!("projects/{b}/read"), key("dev-agent"))
            .await,
        403
    );
}

// ---- concurrent instances ----

/// HandleRequest fetches `https://barrier.test/wait` and returns the fetch result JSON.
const FETCH_BARRIER: &str = r#"(data (i32.const 100) "{\"method\":\"GET\",\"url\":\"https://barrier.test/wait\"}")
    (func (export "HandleRequest") (param $p i32) (param $l i32) (result i64)
        (i64.store (i32.const 200) (i64.const 0))
        (call $fetch (i64.const 100) (i64.const 50) (i64.const 200) (i64.const 204))
        (call $pack (i32.load (i32.const 200)) (i32.load (i32.const 204))))"#;

/// A fake endpoint that answers `both-inside` once two requests are waiting in it, or
/// `alone-timed-out` when the second one has not arrived within its (bounded) patience.
async fn barrier() -> String {
    use axum::routing::get;
    let arrived = Arc::new(AtomicUsize::new(0));
    let notify = Arc::new(tokio::sync::Notify::new());
    let app = axum::Router::new().route(
        "/wait",
        get(move || {
            let (arrived, notify) = (arrived.clone(), notify.clone());
            async move {
                arrived.fetch_add(1, Ordering::SeqCst);
                notify.notify_waiters();
                let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
                loop {
                    let wake = notify.notified();
                    if arrived.load(Ordering::SeqCst) >= 2 {
                        notify.notify_waiters();
                        return "both-inside";
                    }
                    if tokio::time::timeout_at(deadline, wake).await.is_err() {
                        return "alone-timed-out";
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn two_at_once(h: &Host) -> (String, String) {
    let get = || async {
        h.http
            .get(h.host.plugin_url("slow"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    tokio::join!(get(), get())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_requests_run_concurrently_on_two_instances() {
    let url = barrier().await;
    let imports = r#"(import "paca" "fetch" (func $fetch (param i64 i64 i64 i64)))"#;
    let h = start(FETCH_BARRIER, imports, |c| c.map_host("barrier.test", &url)).await;
    assert_eq!(
        h.host.plugins().len(),
        2,
        "tests run two instances by default"
    );
    let (a, b) = two_at_once(&h).await;
    for out in [&a, &b] {
        let v: Value = serde_json::from_str(out).unwrap();
        assert_eq!(
            v["body"], "both-inside",
            "both guests were inside fetch at once: {out}"
        );
    }
    // with one instance the second request queues behind the first, which waits alone
    let url = barrier().await;
    let one = start(FETCH_BARRIER, imports, |c| {
        c.map_host("barrier.test", &url).instances(1)
    })
    .await;
    let (a, b) = two_at_once(&one).await;
    let bodies: Vec<Value> = [a, b]
        .iter()
        .map(|o| serde_json::from_str::<Value>(o).unwrap()["body"].clone())
        .collect();
    assert!(bodies.contains(&json!("alone-timed-out")), "{bodies:?}");
}
