//! What a wasm store holds and what host imports share: limits, the request context, the
//! host environment, per-store state, and writing into guest memory through `paca_malloc`.
//! Both [`crate::runtime`] (the call protocol) and [`crate::imports`] (the `paca` module)
//! build on this module, so neither depends on the other's internals.

use crate::events::EventLog;
use crate::fetch::FetchPolicy;
use crate::sensitive::Policy;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{AsContextMut, Func, Memory, StoreLimits, Val};

/// Resource limits (§7.1 defaults of the newest host).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Payload cap for `HandleRequest`/events; 0 disables it. Default 1 MiB.
    pub max_request_body_bytes: usize,
    /// Budget of one export call, shared by all DB and fetch work in it. Default 5 s.
    pub max_call_duration: Duration,
    /// Linear-memory cap in 64 KiB pages. Default 1024 (64 MiB).
    pub max_memory_pages: u64,
    /// Stricter than production: interrupt pure-WASM runaway loops after this long.
    pub interrupt_after: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_body_bytes: 1 << 20,
            max_call_duration: Duration::from_secs(5),
            max_memory_pages: 1024,
            interrupt_after: None,
        }
    }
}

/// Errors of one export call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The payload exceeds `max_request_body_bytes` (HTTP 413); the guest did not run.
    #[error("payload too large: {size} bytes exceeds the limit of {limit} bytes")]
    PayloadTooLarge { size: usize, limit: usize },
    /// The export does not exist.
    #[error("{0} not exported")]
    NotExported(String),
    /// Trap, malloc failure, bad memory access…
    #[error("{0}")]
    Failed(String),
}

/// Caller information of the current HTTP request (what `permission_check` and the
/// `http_*` imports see). Absent for Init, events and automation.
#[derive(Clone, Debug, Default)]
pub struct RequestCtx {
    pub body: Vec<u8>,
    pub headers: BTreeMap<String, String>,
    pub caller_id: String,
    pub user_id: String,
    pub caller_role: String,
    pub project_id: String,
    /// Actions the caller holds (`"*"` = all), for `permission_check`.
    pub actions: Vec<String>,
}

/// Everything host imports need, shared by the store.
pub struct HostEnv {
    pub plugin_id: String,
    pub schema: String,
    pub db: Option<PgPool>,
    /// Host config values (the real host has only ENCRYPTION_KEY and PUBLIC_URL).
    pub config: HashMap<String, String>,
    pub allowed_config_keys: Vec<String>,
    /// Manifest `permissions` (gates send_email / password_set_token_issue).
    pub permissions: Vec<String>,
    pub fetch: FetchPolicy,
    pub events: Arc<EventLog>,
    pub rt: tokio::runtime::Handle,
    /// Sensitive-field rules for this plugin's SQL (§4.4).
    pub sensitive: Policy,
    pub(crate) cache: Mutex<HashMap<String, (String, Option<Instant>)>>,
    /// Calls and time per import (read by `cargo xtask bench`).
    pub stats: crate::stats::HostStats,
}

impl HostEnv {
    /// A host environment for `plugin_id` with nothing configured.
    pub fn new(plugin_id: &str, rt: tokio::runtime::Handle) -> Self {
        HostEnv {
            plugin_id: plugin_id.to_owned(),
            schema: crate::db::schema_name(plugin_id),
            db: None,
            config: HashMap::new(),
            allowed_config_keys: Vec::new(),
            permissions: Vec::new(),
            fetch: FetchPolicy::default(),
            events: Arc::new(EventLog::default()),
            rt,
            sensitive: Policy::default(),
            cache: Mutex::new(HashMap::new()),
            stats: Default::default(),
        }
    }
}

/// Per-store state.
pub struct HostState {
    pub(crate) wasi: crate::wasi::Wasi,
    pub(crate) env: Arc<HostEnv>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) request: Option<Arc<RequestCtx>>,
    pub(crate) limits: StoreLimits,
}

/// Writes `bytes` into guest memory via `paca_malloc` (fallback `malloc`).
/// Empty → `(0,0)` without malloc.
pub(crate) fn write_to_guest(
    mut ctx: impl AsContextMut<Data = HostState>,
    memory: Option<Memory>,
    malloc: Option<Func>,
    bytes: &[u8],
) -> Result<(u32, u32), String> {
    if bytes.is_empty() {
        return Ok((0, 0));
    }
    let malloc = malloc.ok_or("paca_malloc not exported")?;
    let memory = memory.ok_or("memory not exported")?;
    let ty = malloc.ty(&ctx);
    let mut results = vec![Val::I32(0); ty.results().len()];
    malloc
        .call(&mut ctx, &[Val::I32(bytes.len() as i32)], &mut results)
        .map_err(|e| format!("malloc: {e}"))?;
    let ptr = match results.first() {
        Some(Val::I32(p)) => *p as u32,
        Some(Val::I64(p)) => *p as u32,
        _ => 0,
    };
    if ptr == 0 {
        return Err("malloc returned 0 (buffer exhausted)".into());
    }
    memory.write(&mut ctx, ptr as usize, bytes).map_err(|_| {
        format!(
            "write out of range of memory size (ptr {ptr}, len {})",
            bytes.len()
        )
    })?;
    Ok((ptr, bytes.len() as u32))
}
