//! The [`DevHost`] handle used by the binary and by end-to-end tests: starting (database, core
//! schema, migrations, plugin instances), assembling the HTTP routes, stopping.
//!
//! The routes themselves live by concern: [`crate::dev_api`] (the `/__devhost/` control
//! endpoints), [`crate::frontend`] and [`crate::mcp_assets`] (static assets), [`crate::core_api`]
//! (Paca's core reads), and [`crate::proxy`] (everything under `/api/v1/plugins/`, through the
//! manifest's middlewares to the plugin).

use crate::events::{EmittedEvent, EventLog};
use crate::fetch::FetchPolicy;
use crate::manifest::Manifest;
use crate::pool::PluginPool;
use crate::runtime::{HostEnv, Limits, Plugin};
use crate::seed::{Identity, Seed};
use axum::Router;
use serde_json::Value;
use sqlx::PgPool;
use std::collections::HashMap;
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

/// What every handler shares.
pub(crate) struct AppState {
    pub(crate) manifest: Manifest,
    pub(crate) plugins: PluginPool,
    pub(crate) pool: PgPool,
    pub(crate) identities: Mutex<Vec<Identity>>,
    pub(crate) events: Arc<EventLog>,
}

/// A running devhost.
pub struct DevHost {
    addr: SocketAddr,
    database_url: String,
    state: Arc<AppState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
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
        let app = app(state.clone(), &cfg);
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
        crate::core_events::emit(&self.state, topic, payload).await
    }

    /// Soft-deletes a task (`deleted_at = now()`) and dispatches `task.deleted` with the
    /// activity payload. Returns the payload sent (also recorded in the event log).
    pub async fn delete_task(
        &self,
        task_id: &str,
        actor_user_id: Option<&str>,
    ) -> anyhow::Result<Value> {
        crate::core_events::delete_task(&self.state, task_id, actor_user_id).await
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

/// Every route the devhost serves; whatever matches none goes to the plugin proxy.
fn app(state: Arc<AppState>, cfg: &DevHostConfig) -> Router {
    crate::dev_api::router()
        .fallback(crate::proxy::proxy)
        .with_state(state.clone())
        .merge(crate::mcp_assets::router(
            &state.manifest.id,
            &cfg.mcp_assets,
        ))
        .merge(crate::frontend::routes(
            cfg,
            &state.manifest.id,
            state.pool.clone(),
        ))
}
