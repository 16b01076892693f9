//! The WASM runtime: load sequence (§1.1), call protocol (§1.2), events (§1.3).
//!
//! A [`Compiled`] module is shared; every [`Plugin`] is one instance of it with its own
//! store and linear memory, and serializes its own calls (like the real host's
//! per-instance mutex). [`crate::pool`] runs several instances side by side.

use crate::imports;
pub use crate::state::{CallError, HostEnv, Limits, RequestCtx};
use crate::state::{HostState, write_to_guest};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{Config, Engine, Func, Instance, Linker, Module, Store, StoreLimitsBuilder, Val};

struct Inner {
    store: Store<HostState>,
    instance: Instance,
}

/// Stops the epoch ticker thread when the last user of the engine is gone.
struct Ticker(Arc<AtomicBool>);

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A module compiled once, with the linker of the `paca` and WASI imports; instantiate it
/// as many times as needed with [`Compiled::instantiate`].
pub struct Compiled {
    engine: Engine,
    module: Module,
    linker: Linker<HostState>,
    limits: Limits,
    _ticker: Option<Ticker>,
}

/// One loaded plugin instance; calls are serialized by a mutex.
pub struct Plugin {
    inner: Mutex<Inner>,
    env: Arc<HostEnv>,
    limits: Limits,
    _compiled: Arc<Compiled>,
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

/// Compiles `wasm` once per process and engine flavour: every devhost of a test process
/// (and every instance of each) shares the machine code, which in a debug build of
/// cranelift is the slowest part of starting a host.
fn compile_cached(wasm: &[u8], config: &Config, epochs: bool) -> anyhow::Result<(Engine, Module)> {
    use std::collections::HashMap;
    use std::hash::{Hash, Hasher};
    type Cache = Mutex<HashMap<(u64, usize, bool), (Engine, Module)>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    wasm.hash(&mut h);
    let key = (h.finish(), wasm.len(), epochs);
    // held while compiling, so concurrent starts compile once
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let wt = |e: wasmtime::Error| anyhow::anyhow!("{e:#}");
    if epochs {
        // an epoch ticker belongs to one engine: never share those
        drop(cache);
        let engine = Engine::new(config).map_err(wt)?;
        let module = Module::new(&engine, wasm).map_err(wt)?;
        return Ok((engine, module));
    }
    if let Some((engine, module)) = cache.get(&key) {
        return Ok((engine.clone(), module.clone()));
    }
    let engine = Engine::new(config).map_err(wt)?;
    let module = Module::new(&engine, wasm).map_err(wt)?;
    cache.insert(key, (engine.clone(), module.clone()));
    Ok((engine, module))
}

impl Compiled {
    /// Compiles `wasm` (blocking) and links the host imports.
    pub fn new(wasm: &[u8], limits: Limits) -> anyhow::Result<Arc<Compiled>> {
        let mut config = Config::new();
        if limits.interrupt_after.is_some() {
            config.epoch_interruption(true);
        }
        let wt = |e: wasmtime::Error| anyhow::anyhow!("{e:#}");
        let (engine, module) = compile_cached(wasm, &config, limits.interrupt_after.is_some())?;
        let mut linker: Linker<HostState> = Linker::new(&engine);
        crate::wasi::register(&mut linker).map_err(wt)?;
        imports::register(&mut linker).map_err(wt)?;
        let ticker = limits.interrupt_after.map(|_| {
            let stop = Arc::new(AtomicBool::new(false));
            let (flag, engine) = (stop.clone(), engine.clone());
            std::thread::spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            });
            Ticker(stop)
        });
        Ok(Arc::new(Compiled {
            engine,
            module,
            linker,
            limits,
            _ticker: ticker,
        }))
    }

    fn ticks(&self) -> Option<u64> {
        self.limits
            .interrupt_after
            .map(|d| (d.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64)
    }

    /// A new instance with its own store and memory: `_initialize`, then `Init` (blocking).
    pub fn instantiate(self: &Arc<Self>, env: Arc<HostEnv>) -> anyhow::Result<Plugin> {
        let limits = self.limits.clone();
        let mut mem_bytes = limits.max_memory_pages.saturating_mul(65536) as usize;
        if mem_bytes == 0 {
            mem_bytes = usize::MAX;
        }
        let state = HostState {
            wasi: crate::wasi::Wasi::new(),
            env: env.clone(),
            deadline: None,
            request: None,
            limits: StoreLimitsBuilder::new().memory_size(mem_bytes).build(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let plugin_ticks = self.ticks();
        if let Some(t) = plugin_ticks {
            store.set_epoch_deadline(t);
        }

        let instance = self
            .linker
            .instantiate(&mut store, &self.module)
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
            _compiled: self.clone(),
        })
    }
}

impl Plugin {
    /// Loads and initializes a module (blocking: run it off the async executor, e.g. in
    /// `spawn_blocking`; [`Plugin::load`] does that for you).
    pub fn load_blocking(wasm: &[u8], env: Arc<HostEnv>, limits: Limits) -> anyhow::Result<Plugin> {
        Compiled::new(wasm, limits)?.instantiate(env)
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

    /// `n` instances of one compilation, all sharing `env` (async; compiles once).
    pub async fn load_instances(
        wasm: Vec<u8>,
        env: Arc<HostEnv>,
        limits: Limits,
        n: usize,
    ) -> anyhow::Result<Vec<Arc<Plugin>>> {
        tokio::task::spawn_blocking(move || {
            let compiled = Compiled::new(&wasm, limits)?;
            (0..n.max(1))
                .map(|_| compiled.instantiate(env.clone()).map(Arc::new))
                .collect()
        })
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
        off_the_runtime(move || this.call_export_blocking(&name, &payload, request))
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
        off_the_runtime(move || this.dispatch_event_blocking(&topic, &payload))
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

/// Runs a blocking guest call. On a multi-thread runtime it runs right here with
/// `block_in_place` (the worker's other tasks move to a fresh worker), sparing the two thread
/// hand-offs of `spawn_blocking` (~40 µs per call on a 2-core VM, a fifth of an undeclared
/// route's round trip). A current-thread runtime cannot give up its only thread, so there it
/// is `spawn_blocking`.
async fn off_the_runtime<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        Ok(tokio::task::block_in_place(f))
    } else {
        tokio::task::spawn_blocking(f).await
    }
}
