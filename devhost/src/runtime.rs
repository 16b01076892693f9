//! The WASM runtime: load sequence (§1.1), call protocol (§1.2), events (§1.3).

use crate::events::EventLog;
use crate::fetch::FetchPolicy;
use crate::imports;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{
    AsContextMut, Config, Engine, Func, Instance, Linker, Memory, Module, Store, StoreLimits,
    StoreLimitsBuilder, Val,
};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;

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
            cache: Mutex::new(HashMap::new()),
            stats: Default::default(),
        }
    }
}

/// Per-store state.
pub struct HostState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) env: Arc<HostEnv>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) request: Option<Arc<RequestCtx>>,
    limits: StoreLimits,
}

/// Deterministic `random_get` source, like wazero's default: same seed on every load,
/// so every instance sees the same byte stream (splitmix64).
struct DeterministicRng(u64);

impl rand_core::TryRng for DeterministicRng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

struct Inner {
    store: Store<HostState>,
    instance: Instance,
}

/// One loaded plugin instance; calls are serialized by a mutex.
pub struct Plugin {
    inner: Mutex<Inner>,
    env: Arc<HostEnv>,
    limits: Limits,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

const EPOCH_TICK: Duration = Duration::from_millis(10);

fn call_untyped(
    store: &mut Store<HostState>,
    f: Func,
    params: &[Val],
) -> wasmtime::Result<Option<Val>> {
    let n = f.ty(&*store).results().len();
    let mut results = vec![Val::I32(0); n];
    f.call(&mut *store, params, &mut results)?;
    Ok(results.into_iter().next())
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

impl Plugin {
    /// Loads and initializes a module (blocking: run it off the async executor, e.g. in
    /// `spawn_blocking`; [`Plugin::load`] does that for you).
    pub fn load_blocking(wasm: &[u8], env: Arc<HostEnv>, limits: Limits) -> anyhow::Result<Plugin> {
        let mut config = Config::new();
        if limits.interrupt_after.is_some() {
            config.epoch_interruption(true);
        }
        let wt = |e: wasmtime::Error| anyhow::anyhow!("{e:#}");
        let engine = Engine::new(&config).map_err(wt)?;
        let module = Module::new(&engine, wasm).map_err(wt)?;
        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut HostState| &mut s.wasi)
            .map_err(wt)?;
        imports::register(&mut linker).map_err(wt)?;

        // No args, env or preopens; stdout/stderr discarded (builder defaults); real clocks.
        let wasi = WasiCtxBuilder::new()
            .secure_random(DeterministicRng(0x5eed_0000_0000_0001))
            .insecure_random(DeterministicRng(0x5eed_0000_0000_0002))
            .insecure_random_seed(0x5eed)
            .build_p1();
        let mut mem_bytes = limits.max_memory_pages.saturating_mul(65536) as usize;
        if mem_bytes == 0 {
            mem_bytes = usize::MAX;
        }
        let state = HostState {
            wasi,
            env: env.clone(),
            deadline: None,
            request: None,
            limits: StoreLimitsBuilder::new().memory_size(mem_bytes).build(),
        };
        let mut store = Store::new(&engine, state);
        store.limiter(|s| &mut s.limits);

        let ticker_stop = Arc::new(AtomicBool::new(false));
        if limits.interrupt_after.is_some() {
            let stop = ticker_stop.clone();
            let engine = engine.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            });
        }
        let plugin_ticks = limits
            .interrupt_after
            .map(|d| (d.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64);
        if let Some(t) = plugin_ticks {
            store.set_epoch_deadline(t);
        }

        let instance = linker
            .instantiate(&mut store, &module)
            .map_err(|e| anyhow::anyhow!("instantiate: {e:#}"))?;
        if let Some(init) = instance.get_func(&mut store, "_initialize") {
            call_untyped(&mut store, init, &[])
                .map_err(|e| anyhow::anyhow!("_initialize: {e:#}"))?;
        }
        if let Some(init) = instance.get_func(&mut store, "Init") {
            store.data_mut().deadline = Some(Instant::now() + limits.max_call_duration);
            if let Some(t) = plugin_ticks {
                store.set_epoch_deadline(t);
            }
            let r = call_untyped(&mut store, init, &[]);
            store.data_mut().deadline = None;
            let status = match r.map_err(|e| anyhow::anyhow!("Init: {e:#}"))? {
                Some(Val::I32(v)) => v as i64,
                Some(Val::I64(v)) => v,
                _ => 0,
            };
            if status != 0 {
                anyhow::bail!("Init returned status {status}");
            }
        }
        Ok(Plugin {
            inner: Mutex::new(Inner { store, instance }),
            env,
            limits,
            ticker_stop,
        })
    }

    /// Async wrapper around [`Plugin::load_blocking`].
    pub async fn load(
        wasm: Vec<u8>,
        env: Arc<HostEnv>,
        limits: Limits,
    ) -> anyhow::Result<Arc<Plugin>> {
        tokio::task::spawn_blocking(move || Plugin::load_blocking(&wasm, env, limits).map(Arc::new))
            .await?
    }

    pub fn env(&self) -> &Arc<HostEnv> {
        &self.env
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn arm(&self, store: &mut Store<HostState>) {
        store.data_mut().deadline = Some(Instant::now() + self.limits.max_call_duration);
        if let Some(d) = self.limits.interrupt_after {
            store.set_epoch_deadline((d.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64);
        }
    }

    fn reset(&self, inner: &mut Inner) {
        let Inner { store, instance } = inner;
        store.data_mut().request = None;
        if let Some(reset) = instance.get_func(&mut *store, "ResetAllocator") {
            self.arm(store);
            let _ = call_untyped(store, reset, &[]);
        }
        store.data_mut().deadline = None;
    }

    /// Calls `HandleRequest` / `EvaluateCondition` / `RunAction` (blocking) with the
    /// full protocol of §1.2. Returns the response bytes (empty for a zero-length result).
    pub fn call_export_blocking(
        &self,
        name: &str,
        payload: &[u8],
        request: Option<Arc<RequestCtx>>,
    ) -> Result<Vec<u8>, CallError> {
        let limit = self.limits.max_request_body_bytes;
        if limit > 0 && payload.len() > limit {
            return Err(CallError::PayloadTooLarge {
                size: payload.len(),
                limit,
            });
        }
        let mut guard = self.lock();
        let inner = &mut *guard;
        let result = (|| {
            let Inner { store, instance } = &mut *inner;
            store.data_mut().request = request;
            self.arm(store);
            let memory = instance.get_memory(&mut *store, "memory");
            let malloc = instance
                .get_func(&mut *store, "paca_malloc")
                .or_else(|| instance.get_func(&mut *store, "malloc"));
            let f = instance
                .get_func(&mut *store, name)
                .ok_or_else(|| CallError::NotExported(name.to_owned()))?;
            let (ptr, len) =
                write_to_guest(&mut *store, memory, malloc, payload).map_err(CallError::Failed)?;
            let r = call_untyped(store, f, &[Val::I32(ptr as i32), Val::I32(len as i32)])
                .map_err(|e| CallError::Failed(format!("{e:#}")))?;
            let packed = match r {
                Some(Val::I64(v)) => v as u64,
                Some(Val::I32(v)) => v as u32 as u64,
                _ => 0,
            };
            let (out_ptr, out_len) = ((packed >> 32) as usize, (packed & 0xFFFF_FFFF) as usize);
            if out_len == 0 {
                return Ok(Vec::new());
            }
            let memory = memory.ok_or_else(|| CallError::Failed("memory not exported".into()))?;
            memory
                .data(&*store)
                .get(out_ptr..out_ptr + out_len)
                .map(|s| s.to_vec())
                .ok_or_else(|| {
                    CallError::Failed(format!(
                        "read out of range of memory size (ptr {out_ptr}, len {out_len})"
                    ))
                })
        })();
        self.reset(inner);
        result
    }

    /// Async wrapper around [`Plugin::call_export_blocking`].
    pub async fn call_export(
        self: &Arc<Self>,
        name: &str,
        payload: Vec<u8>,
        request: Option<Arc<RequestCtx>>,
    ) -> Result<Vec<u8>, CallError> {
        let this = self.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || this.call_export_blocking(&name, &payload, request))
            .await
            .map_err(|e| CallError::Failed(e.to_string()))?
    }

    /// Delivers an event (§1.3), blocking. Subscription filtering is the caller's job.
    /// Returns whether `HandleEvent` ran (false: not exported, or payload over the limit).
    /// Its result and errors are ignored like the real host does.
    pub fn dispatch_event_blocking(&self, topic: &str, payload: &[u8]) -> bool {
        let limit = self.limits.max_request_body_bytes;
        if limit > 0 && payload.len() > limit {
            tracing::warn!(
                topic,
                size = payload.len(),
                "event payload exceeds limit; dropped"
            );
            return false;
        }
        let mut guard = self.lock();
        let inner = &mut *guard;
        let ran = (|| {
            let Inner { store, instance } = &mut *inner;
            let f = instance.get_func(&mut *store, "HandleEvent")?;
            store.data_mut().request = None;
            self.arm(store);
            let memory = instance.get_memory(&mut *store, "memory");
            let malloc = instance
                .get_func(&mut *store, "paca_malloc")
                .or_else(|| instance.get_func(&mut *store, "malloc"));
            let (pp, pl) = match write_to_guest(&mut *store, memory, malloc, payload) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(topic, "event payload write failed: {e}");
                    return Some(false);
                }
            };
            let (tp, tl) = match write_to_guest(&mut *store, memory, malloc, topic.as_bytes()) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(topic, "event topic write failed: {e}");
                    return Some(false);
                }
            };
            let args = [tp, tl, pp, pl].map(|v| Val::I32(v as i32));
            if let Err(e) = call_untyped(store, f, &args) {
                tracing::warn!(topic, "HandleEvent failed: {e:#}");
            }
            Some(true)
        })();
        if ran.is_some() {
            self.reset(inner);
        }
        ran.unwrap_or(false)
    }

    /// Async wrapper around [`Plugin::dispatch_event_blocking`].
    pub async fn dispatch_event(self: &Arc<Self>, topic: &str, payload: Vec<u8>) -> bool {
        let this = self.clone();
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || this.dispatch_event_blocking(&topic, &payload))
            .await
            .unwrap_or(false)
    }

    /// Calls `Shutdown` if exported (result ignored).
    pub fn shutdown_blocking(&self) {
        let mut guard = self.lock();
        let Inner { store, instance } = &mut *guard;
        if let Some(f) = instance.get_func(&mut *store, "Shutdown") {
            self.arm(store);
            let _ = call_untyped(store, f, &[]);
            store.data_mut().deadline = None;
        }
    }

    /// The size of the guest's linear memory in bytes (it only ever grows, so tests use it to
    /// prove the guest's allocator releases what the host wrote between calls).
    pub fn memory_size(&self) -> Option<usize> {
        let mut guard = self.lock();
        let Inner { store, instance } = &mut *guard;
        let memory = instance.get_memory(&mut *store, "memory")?;
        Some(memory.data_size(&*store))
    }

    /// Reads an exported global as i64 (test helper for instrumented guests).
    pub fn global_i64(&self, name: &str) -> Option<i64> {
        let mut guard = self.lock();
        let Inner { store, instance } = &mut *guard;
        match instance.get_global(&mut *store, name)?.get(&mut *store) {
            Val::I32(v) => Some(v as i64),
            Val::I64(v) => Some(v),
            _ => None,
        }
    }
}
