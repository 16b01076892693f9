//! The HTTP side: `/api/v1/plugins/<id>/*` proxy with manifest routing and middlewares
//! (§5.2), request/response envelopes (§3.1, §3.2), dev endpoints under `/__devhost/`,
//! and the [`DevHost`] handle used by the binary and by end-to-end tests.

use crate::canon::canonical_header_key;
use crate::events::{DispatchedEvent, EmittedEvent, EventLog};
use crate::fetch::FetchPolicy;
use crate::manifest::Manifest;
use crate::middleware::error;
use crate::pool::PluginPool;
use crate::runtime::{CallError, HostEnv, Limits, Plugin, RequestCtx};
use crate::seed::{Identity, Seed};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as AxPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{PgPool, Row};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// How to start a [`DevHost`].
#[derive(Clone, Debug)]
pub struct DevHostConfig {
    pub wasm: PathBuf,
    pub manifest: PathBuf,
    /// Plugin migrations folder (`*.sql`), run before the plugin loads.
    pub migrations: Option<PathBuf>,
    /// `None` → a fresh database on the per-process server ([`crate::pg`]).
    pub database_url: Option<String>,
    /// Host config values (`ENCRYPTION_KEY`, `PUBLIC_URL`); only manifest
    /// `allowedConfigKeys` are visible to the plugin.
    pub config: HashMap<String, String>,
    /// Dev fetch mapping: hostname → local base URL, applied after the strict checks.
    pub host_map: HashMap<String, String>,
    /// Listen address; port 0 picks a free one.
    pub listen: SocketAddr,
    pub limits: Limits,
    /// Extra identities besides [`crate::seed::dev_identities`].
    pub identities: Vec<Identity>,
    /// The MCP bundle and skills to serve ([`crate::mcp_assets`]).
    pub mcp_assets: crate::mcp_assets::McpAssets,
    /// Plugin instances serving concurrently (each its own store and memory). Default 2.
    pub instances: usize,
    pub frontend: crate::frontend::FrontendConfig,
}

impl DevHostConfig {
    pub fn new(wasm: impl Into<PathBuf>, manifest: impl Into<PathBuf>) -> Self {
        DevHostConfig {
            wasm: wasm.into(),
            manifest: manifest.into(),
            migrations: None,
            database_url: None,
            config: HashMap::new(),
            host_map: HashMap::new(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            limits: Limits::default(),
            identities: Vec::new(),
            mcp_assets: Default::default(),
            instances: 2,
            frontend: Default::default(),
        }
    }
    pub fn instances(mut self, n: usize) -> Self {
        self.instances = n.max(1);
        self
    }
    pub fn migrations(mut self, dir: impl Into<PathBuf>) -> Self {
        self.migrations = Some(dir.into());
        self
    }
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }
    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }
    /// Maps `api.github.com` to `base_url` (e.g. a fake GitHub on loopback).
    pub fn github_api(self, base_url: &str) -> Self {
        self.map_host("api.github.com", base_url)
    }
    pub fn map_host(mut self, host: &str, base_url: &str) -> Self {
        self.host_map
            .insert(host.to_ascii_lowercase(), base_url.into());
        self
    }
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

struct AppState {
    manifest: Manifest,
    plugins: PluginPool,
    pool: PgPool,
    identities: Mutex<Vec<Identity>>,
    events: Arc<EventLog>,
}

/// A running devhost.
pub struct DevHost {
    addr: SocketAddr,
    database_url: String,
    state: Arc<AppState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// The `task.deleted` activity payload (field order as the host's Go struct).
#[derive(Serialize)]
struct ActivityPayload<'a> {
    id: String,
    task_id: &'a str,
    project_id: String,
    activity_type: &'a str,
    content: &'a str,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_id: Option<&'a str>,
}

impl DevHost {
    /// Database, core schema, migrations, plugin load, HTTP server.
    pub async fn start(cfg: DevHostConfig) -> anyhow::Result<DevHost> {
        let manifest = Manifest::load(&cfg.manifest)?;
        let backend = manifest.backend();
        let database_url = match &cfg.database_url {
            Some(u) => u.clone(),
            None => crate::pg::fresh_database().await?,
        };
        let pool = crate::pg::connect(&database_url).await?;
        crate::seed::ensure_core_schema(&pool).await?;
        let mut identities = crate::seed::dev_identities();
        for id in &cfg.identities {
            crate::seed::ensure_user(&pool, id).await?;
        }
        identities.extend(cfg.identities.iter().cloned());
        if let Some(dir) = &cfg.migrations {
            crate::migrate::run_migrations(&pool, &manifest.id, dir).await?;
        }
        let events = Arc::new(EventLog::default());
        let mut env = HostEnv::new(&manifest.id, tokio::runtime::Handle::current());
        env.db = Some(pool.clone());
        env.config = cfg.config.clone();
        env.allowed_config_keys = backend.allowed_config_keys.clone();
        env.permissions = manifest.permissions.clone();
        env.sensitive = crate::sensitive::Policy::new(&backend.requested_sensitive_fields);
        env.events = events.clone();
        env.fetch = FetchPolicy {
            allowed_domains: backend.allowed_outbound_domains.clone(),
            host_map: cfg.host_map.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::limited(10))
                .build()?,
        };
        let wasm = std::fs::read(&cfg.wasm)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", cfg.wasm.display()))?;
        let instances =
            Plugin::load_instances(wasm, Arc::new(env), cfg.limits.clone(), cfg.instances).await?;
        let state = Arc::new(AppState {
            manifest,
            plugins: PluginPool::new(instances),
            pool,
            identities: Mutex::new(identities),
            events,
        });
        let app = router(state.clone())
            .merge(crate::mcp_assets::router(
                &state.manifest.id,
                &cfg.mcp_assets,
            ))
            .merge(crate::frontend::routes(
                &cfg,
                &state.manifest.id,
                state.pool.clone(),
            ));
        let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(DevHost {
            addr,
            database_url,
            state,
            shutdown: Some(tx),
            server: Some(server),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// `http://127.0.0.1:PORT/api/v1/plugins/<id>/<path>`
    pub fn plugin_url(&self, path: &str) -> String {
        format!(
            "{}/api/v1/plugins/{}/{}",
            self.base_url(),
            self.state.manifest.id,
            path.trim_start_matches('/')
        )
    }
    pub fn database_url(&self) -> &str {
        &self.database_url
    }
    pub fn pool(&self) -> &PgPool {
        &self.state.pool
    }
    /// The first plugin instance (the one sequential requests run on).
    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.state.plugins.instances()[0]
    }
    /// Every plugin instance of the pool.
    pub fn plugins(&self) -> &[Arc<Plugin>] {
        self.state.plugins.instances()
    }
    pub fn manifest(&self) -> &Manifest {
        &self.state.manifest
    }
    pub fn seed(&self) -> Seed {
        Seed {
            pool: self.state.pool.clone(),
        }
    }
    /// Everything the plugin recorded (event_emit, activity_record, logs, dispatches).
    pub fn event_log(&self) -> &Arc<EventLog> {
        &self.state.events
    }
    /// `event_emit` calls so far, in order.
    pub fn emitted_events(&self) -> Vec<EmittedEvent> {
        self.state.events.emitted()
    }
    /// Adds an identity (bearer token → user) at run time.
    pub async fn add_identity(&self, id: Identity) -> anyhow::Result<()> {
        crate::seed::ensure_user(&self.state.pool, &id).await?;
        self.state
            .identities
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(id);
        Ok(())
    }

    /// Delivers a core event to the plugin if its manifest subscribes to `topic`.
    /// Returns whether `HandleEvent` ran. Completes when the plugin has handled it.
    pub async fn emit_event(&self, topic: &str, payload: &Value) -> bool {
        emit(&self.state, topic, payload).await
    }

    /// Soft-deletes a task (`deleted_at = now()`) and dispatches `task.deleted` with the
    /// activity payload. Returns the payload sent (also recorded in the event log).
    pub async fn delete_task(
        &self,
        task_id: &str,
        actor_user_id: Option<&str>,
    ) -> anyhow::Result<Value> {
        delete_task(&self.state, task_id, actor_user_id).await
    }

    /// Graceful stop: HTTP server, then the plugin's `Shutdown`.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
            let state = self.state.clone();
            let _ = tokio::task::spawn_blocking(move || state.plugins.shutdown_blocking()).await;
        }
    }
}

impl Drop for DevHost {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn emit(state: &AppState, topic: &str, payload: &Value) -> bool {
    let subscribed = state
        .manifest
        .backend()
        .event_subscriptions
        .iter()
        .any(|t| t == topic);
    let delivered = subscribed
        && state
            .plugins
            .dispatch_event(topic, serde_json::to_vec(payload).unwrap_or_default())
            .await;
    state.events.record_dispatch(DispatchedEvent {
        topic: topic.to_owned(),
        payload: payload.clone(),
        delivered,
    });
    delivered
}

async fn delete_task(
    state: &AppState,
    task_id: &str,
    actor: Option<&str>,
) -> anyhow::Result<Value> {
    let row = sqlx::query(
        "UPDATE public.tasks SET deleted_at = now(), updated_at = now() \
         WHERE id::text = $1 AND deleted_at IS NULL \
         RETURNING project_id::text, gen_random_uuid()::text, \
         to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
    )
    .bind(task_id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| anyhow::anyhow!("task {task_id} not found or already deleted"))?;
    let now = trim_frac(&row.get::<String, _>(2));
    let payload = ActivityPayload {
        id: row.get(1),
        task_id,
        project_id: row.get(0),
        activity_type: "task.deleted",
        content: "{}",
        created_at: now.clone(),
        updated_at: now,
        actor_id: actor,
    };
    let value = serde_json::to_value(&payload)?;
    // keep the Go field order on the wire
    let bytes = serde_json::to_vec(&payload)?;
    let subscribed = state
        .manifest
        .backend()
        .event_subscriptions
        .iter()
        .any(|t| t == "task.deleted");
    let delivered = subscribed && state.plugins.dispatch_event("task.deleted", bytes).await;
    state.events.record_dispatch(DispatchedEvent {
        topic: "task.deleted".into(),
        payload: value.clone(),
        delivered,
    });
    Ok(value)
}

/// `…T03:04:05.120000` → `…T03:04:05.12Z` (RFC3339Nano, UTC).
fn trim_frac(s: &str) -> String {
    let t = s.trim_end_matches('0').trim_end_matches('.');
    format!("{t}Z")
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/__devhost/events", get(events_get).delete(events_clear))
        .route("/__devhost/tasks/{task_id}/delete", post(task_delete))
        .route("/__devhost/seed/project", post(seed_project))
        .route("/__devhost/seed/task", post(seed_task))
        .fallback(proxy)
        .with_state(state)
}

async fn events_get(State(s): State<Arc<AppState>>) -> Response {
    axum::Json(json!({
        "emitted": s.events.emitted(),
        "activities": s.events.activities(),
        "dispatched": s.events.dispatched(),
        "logs": s.events.logs(),
    }))
    .into_response()
}

async fn events_clear(State(s): State<Arc<AppState>>) -> StatusCode {
    s.events.clear();
    StatusCode::NO_CONTENT
}

fn bearer_user(s: &AppState, headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let token = auth.strip_prefix("Bearer ")?;
    s.identities
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|i| i.token == token)
        .map(|i| i.user_id.clone())
}

async fn task_delete(
    State(s): State<Arc<AppState>>,
    AxPath(task_id): AxPath<String>,
    headers: HeaderMap,
) -> Response {
    let actor = bearer_user(&s, &headers);
    match delete_task(&s, &task_id, actor.as_deref()).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(StatusCode::NOT_FOUND, "NOT_FOUND", &e.to_string()),
    }
}

async fn seed_project(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let seed = Seed {
        pool: s.pool.clone(),
    };
    let name = v["name"].as_str().unwrap_or("Dev project");
    let prefix = v["task_id_prefix"].as_str().unwrap_or("DEV");
    let r = async {
        let id = seed.project(name, prefix).await?;
        seed.dev_members(&id).await?;
        anyhow::Ok(id)
    }
    .await;
    match r {
        Ok(id) => axum::Json(json!({"id": id})).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &e.to_string()),
    }
}

async fn seed_task(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let seed = Seed {
        pool: s.pool.clone(),
    };
    match seed
        .task(
            v["project_id"].as_str().unwrap_or_default(),
            v["title"].as_str().unwrap_or("Task"),
        )
        .await
    {
        Ok(t) => axum::Json(json!({"id": t.id, "task_number": t.task_number})).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &e.to_string()),
    }
}

/// The HandleRequest envelope, field order as `pluginrt.HTTPRequest`.
#[derive(Serialize)]
struct Envelope<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a BTreeMap<String, String>,
    project_id: &'a str,
    caller_id: &'a str,
    user_id: &'a str,
    caller_role: &'a str,
    headers: &'a BTreeMap<String, String>,
    body: String,
}

const PREFIX: &str = "/api/v1/plugins/";

async fn proxy(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Some(rest) = parts.uri.path().strip_prefix(PREFIX) else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "not found");
    };
    let (plugin_id, path) = rest.split_once('/').unwrap_or((rest, ""));
    if plugin_id != s.manifest.id {
        return error(
            StatusCode::NOT_FOUND,
            "PLUGIN_NOT_FOUND",
            "plugin not found or disabled",
        );
    }
    let path = if path.is_empty() { "/" } else { path };
    let method = parts.method.as_str().to_owned();

    let mut query = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
        query
            .entry(k.into_owned())
            .or_insert_with(|| v.into_owned());
    }
    let mut headers = BTreeMap::new();
    for (k, v) in &parts.headers {
        headers
            .entry(canonical_header_key(k.as_str()))
            .or_insert_with(|| String::from_utf8_lossy(v.as_bytes()).into_owned());
    }

    // middlewares of the matched route; unmatched routes get none (PH@09c3)
    let backend = s.manifest.backend();
    let (mws, params) = match crate::routing::match_route(&backend.routes, &method, path) {
        Some((route, params)) => (route.effective_middlewares(), params),
        None => (Vec::new(), HashMap::new()),
    };
    let caller =
        match crate::middleware::apply(&s.identities, &s.pool, &mws, &params, &headers).await {
            Ok(c) => c,
            Err(resp) => return resp,
        };

    // body cap: (limit - envelope overhead) * 3/4, then the envelope itself
    let limit = s.plugins.instances()[0].limits().max_request_body_bytes;
    let user_id = caller
        .identity
        .as_ref()
        .map(|i| i.user_id.clone())
        .unwrap_or_default();
    let caller_role = match &caller.identity {
        Some(i) if !caller.via_api_key => i.role.clone(),
        _ => String::new(),
    };
    let mut env = Envelope {
        method: &method,
        path,
        query: &query,
        project_id: &caller.project_id,
        caller_id: &caller.caller_id,
        user_id: &user_id,
        caller_role: &caller_role,
        headers: &headers,
        body: String::new(),
    };
    let overhead = serde_json::to_vec(&env).map(|v| v.len()).unwrap_or(0);
    let body_cap = if limit > 0 {
        limit.saturating_sub(overhead) * 3 / 4
    } else {
        usize::MAX
    };
    let raw = match axum::body::to_bytes(body, body_cap).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "request body too large",
            );
        }
    };
    env.body = base64::engine::general_purpose::STANDARD.encode(&raw);
    let payload = match serde_json::to_vec(&env) {
        Ok(p) => p,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                &e.to_string(),
            );
        }
    };
    let ctx = Arc::new(RequestCtx {
        body: raw.to_vec(),
        headers: headers.clone(),
        caller_id: caller.caller_id.clone(),
        user_id: user_id.clone(),
        caller_role: caller_role.clone(),
        project_id: caller.project_id.clone(),
        actions: caller.actions.clone(),
    });
    match s
        .plugins
        .call_export("HandleRequest", payload, Some(ctx))
        .await
    {
        Ok(result) => response_from_result(&result),
        Err(CallError::PayloadTooLarge { .. }) => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "request body too large",
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "PLUGIN_ERROR",
            &format!("plugin execution error: {e}"),
        ),
    }
}

struct Parsed {
    status: i64,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Go `json.Unmarshal` into `{Status int; Headers map[string]string; Body []byte}`.
fn parse_result(bytes: &[u8]) -> Option<Parsed> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let obj = match v {
        Value::Null => {
            return Some(Parsed {
                status: 0,
                headers: Vec::new(),
                body: Vec::new(),
            });
        }
        Value::Object(o) => o,
        _ => return None,
    };
    let field = |name: &str| {
        obj.get(name).or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    };
    let status = match field("status") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_i64()?,
        _ => return None,
    };
    let mut headers = Vec::new();
    match field("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                match v {
                    Value::String(s) => headers.push((k.clone(), s.clone())),
                    Value::Null => headers.push((k.clone(), String::new())),
                    _ => return None,
                }
            }
        }
        _ => return None,
    }
    let body = match field("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(b64)) => {
            let cleaned: String = b64.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_allow_trailing_bits(true)
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
            );
            engine.decode(cleaned).ok()?
        }
        _ => return None,
    };
    Some(Parsed {
        status,
        headers,
        body,
    })
}

/// Turns the guest's result into HTTP exactly like §3.2.
pub fn response_from_result(result: &[u8]) -> Response {
    if result.is_empty() {
        return StatusCode::OK.into_response();
    }
    let Some(p) = parse_result(result) else {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            result.to_vec(),
        )
            .into_response();
    };
    let status = if p.status == 0 { 200 } else { p.status };
    let Ok(status) = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or(())
    else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "invalid status from plugin",
        );
    };
    let content_type = p
        .headers
        .iter()
        .find(|(k, _)| k == "Content-Type")
        .or_else(|| p.headers.iter().find(|(k, _)| k == "content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "application/json".into());
    let mut resp = Response::new(Body::from(p.body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    for (k, v) in &p.headers {
        if let (Ok(name), Ok(val)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(name, val);
        }
    }
    if let Ok(ct) = HeaderValue::from_str(&content_type) {
        h.insert("content-type", ct);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_parsing() {
        let p = parse_result(br#"{"Status":201,"headers":{"X-A":"1"},"body":"aGk="}"#).unwrap();
        assert_eq!((p.status, p.body.as_slice()), (201, &b"hi"[..]));
        assert!(parse_result(br#"{"status":200,"body":"aGk"}"#).is_none()); // unpadded
        assert!(parse_result(br#"{"status":200,"headers":{"a":1}}"#).is_none());
        assert!(parse_result(b"[1]").is_none());
        assert!(parse_result(b"not json").is_none());
        assert_eq!(parse_result(b"null").unwrap().status, 0);
    }

    #[test]
    fn frac_trim() {
        assert_eq!(
            trim_frac("2024-01-02T03:04:05.120000"),
            "2024-01-02T03:04:05.12Z"
        );
        assert_eq!(
            trim_frac("2024-01-02T03:04:05.000000"),
            "2024-01-02T03:04:05Z"
        );
    }
}
