//! Measurements that call the module in process, without HTTP: load time, the ABI's
//! per-request overhead, the guest/host split of a request, and linear memory over many calls.

use crate::samples::{Samples, median};
use anyhow::{Context, ensure};
use base64::Engine as _;
use paca_devhost::stats::StatsSnapshot;
use paca_devhost::{HostEnv, Limits, Plugin, RequestCtx};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A `HandleRequest` payload and the request context the host passes along with it.
#[derive(Clone, Debug)]
pub struct Call {
    pub payload: Vec<u8>,
    pub ctx: Option<Arc<RequestCtx>>,
    /// The status the plugin must answer.
    pub want: u16,
}

/// What the host puts in the envelope for one request (field order as the host's struct).
pub struct EnvelopeParts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub project_id: &'a str,
    pub caller_id: &'a str,
    pub user_id: &'a str,
    pub caller_role: &'a str,
    pub headers: BTreeMap<String, String>,
    pub body: &'a [u8],
}

impl EnvelopeParts<'_> {
    pub fn call(self, actions: &[&str], want: u16) -> Call {
        let body = base64::engine::general_purpose::STANDARD.encode(self.body);
        let env = json!({
            "method": self.method, "path": self.path, "query": {},
            "project_id": self.project_id, "caller_id": self.caller_id, "user_id": self.user_id,
            "caller_role": self.caller_role, "headers": self.headers, "body": body,
        });
        let ctx = RequestCtx {
            body: self.body.to_vec(),
            headers: self.headers.clone(),
            caller_id: self.caller_id.into(),
            user_id: self.user_id.into(),
            caller_role: self.caller_role.into(),
            project_id: self.project_id.into(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
        };
        Call {
            payload: serde_json::to_vec(&env).unwrap_or_default(),
            ctx: Some(Arc::new(ctx)),
            want,
        }
    }
}

/// Headers a browser-ish client sends, Go-canonical as the host forwards them.
pub fn client_headers(bearer: Option<&str>) -> BTreeMap<String, String> {
    let mut h = BTreeMap::from([
        ("Accept".to_string(), "*/*".to_string()),
        ("Host".to_string(), "127.0.0.1".to_string()),
    ]);
    if let Some(b) = bearer {
        h.insert("Authorization".into(), format!("Bearer {b}"));
    }
    h
}

/// The status in a `HandleRequest` result.
pub fn status_of(result: &[u8]) -> Option<u16> {
    let v: Value = serde_json::from_slice(result).ok()?;
    v.get("status")?.as_u64().map(|s| s as u16)
}

/// Runs one call and checks the answer.
pub fn call(plugin: &Plugin, c: &Call) -> anyhow::Result<()> {
    let out = plugin
        .call_export_blocking("HandleRequest", &c.payload, c.ctx.clone())
        .map_err(|e| anyhow::anyhow!("HandleRequest: {e}"))?;
    let status = status_of(&out);
    ensure!(
        status == Some(c.want),
        "expected {}, got {status:?}: {}",
        c.want,
        String::from_utf8_lossy(&out)
    );
    Ok(())
}

pub struct LoadTimes {
    /// `Module::new` (cranelift) alone, on a fresh engine.
    pub compile: Duration,
    /// A whole load as a fresh Paca replica does it: the compile above plus devhost's linker,
    /// instantiate, `_initialize` and `Init`. (Devhost itself compiles a module once per
    /// process, so its own load of the same bytes skips the compile; that part is measured
    /// apart and the two are added.)
    pub load: Duration,
}

/// Compile and full-load times, median of `reps`. Blocking.
pub fn load_times(
    wasm: &[u8],
    rt: tokio::runtime::Handle,
    reps: usize,
) -> anyhow::Result<LoadTimes> {
    let (mut compile, mut load) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let engine = wasmtime::Engine::new(&wasmtime::Config::new())
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let t = Instant::now();
        let module = wasmtime::Module::new(&engine, wasm).map_err(|e| anyhow::anyhow!("{e:#}"))?;
        compile.push(t.elapsed());
        drop(module);
        let env = Arc::new(HostEnv::new("com.paca.github", rt.clone()));
        let t = Instant::now();
        let plugin = Plugin::load_blocking(wasm, env, Limits::default())?;
        load.push(t.elapsed());
        drop(plugin);
    }
    // The first full load compiled (devhost's cache was cold); the others did not.
    let skip = usize::from(load.len() > 1);
    let instantiate = median(load.split_off(skip));
    let compile = median(compile);
    Ok(LoadTimes {
        compile,
        load: compile + instantiate,
    })
}

/// A plugin loaded without a database (for calls that never reach it).
pub fn bare_plugin(wasm: &[u8], rt: tokio::runtime::Handle) -> anyhow::Result<Plugin> {
    Plugin::load_blocking(
        wasm,
        Arc::new(HostEnv::new("com.paca.github", rt)),
        Limits::default(),
    )
}

/// An undeclared route: the router answers 404 `ROUTE_NOT_FOUND` without a host call.
pub fn not_found_call() -> Call {
    let path = "projects/00000000-0000-4000-8000-000000000001/no-such-route";
    let mut c = EnvelopeParts {
        method: "GET",
        path,
        project_id: "",
        caller_id: "",
        user_id: "",
        caller_role: "",
        headers: client_headers(Some("dev-member")),
        body: b"",
    }
    .call(&[], 404);
    c.ctx = None;
    c
}

/// `iterations` sequential calls of `c`, each timed (after a warm-up). Blocking.
pub fn repeat(
    plugin: &Plugin,
    c: &Call,
    warmup: usize,
    iterations: usize,
) -> anyhow::Result<Samples> {
    for _ in 0..warmup {
        call(plugin, c)?;
    }
    let start = Instant::now();
    let mut lat = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        call(plugin, c)?;
        lat.push(t.elapsed());
    }
    Ok(Samples::new(lat, start.elapsed()))
}

/// Mean time per request inside the export call, and inside the host's imports during it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Split {
    /// The whole `HandleRequest` call (guest + imports), mean.
    pub export: Duration,
    pub db: Duration,
    pub fetch: Duration,
    /// config_get, event_emit, log.
    pub other_imports: Duration,
    pub db_calls: f64,
}

impl Split {
    pub fn guest(&self) -> Duration {
        self.export
            .saturating_sub(self.db + self.fetch + self.other_imports)
    }
}

/// Calls `make(i)` for `iterations` requests on the devhost's own instance and splits the
/// time with devhost's import counters. Blocking.
pub fn split(
    plugin: &Plugin,
    stats: impl Fn() -> StatsSnapshot,
    iterations: usize,
    make: impl Fn(usize) -> Call,
) -> anyhow::Result<Split> {
    let calls: Vec<Call> = (0..iterations).map(&make).collect();
    let before = stats();
    let t = Instant::now();
    for c in &calls {
        call(plugin, c)?;
    }
    let wall = t.elapsed();
    let d = stats().since(&before);
    let n = iterations.max(1) as u32;
    use paca_devhost::stats::Import::*;
    Ok(Split {
        export: wall / n,
        db: d.db_time() / n,
        fetch: d.time(Fetch) / n,
        other_imports: (d.time(ConfigGet) + d.time(EventEmit) + d.time(Log)) / n,
        db_calls: d.db_calls() as f64 / f64::from(n),
    })
}

/// Linear memory of a fresh instance after the first call, after 1,000 and after `total`
/// calls cycling through `mix`. Blocking.
pub fn memory(
    plugin: &Plugin,
    total: usize,
    mix: impl Fn(usize) -> Call,
) -> anyhow::Result<[usize; 3]> {
    let size = || plugin.memory_size().context("memory is exported");
    call(plugin, &mix(0))?;
    let first = size()?;
    let mut at_1000 = first;
    for i in 1..total {
        call(plugin, &mix(i))?;
        if i + 1 == 1000 {
            at_1000 = size()?;
        }
    }
    Ok([first, at_1000, size()?])
}
