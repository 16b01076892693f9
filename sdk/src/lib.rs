//! `paca-plugin-sdk`: what every Paca backend plugin (a `wasm32-wasip1` `cdylib` run by the Paca
//! API host) needs, and nothing specific to any one plugin.
//!
//! - [`export_plugin!`]: defines the wasm exports the host calls (`paca_malloc`,
//!   `HandleRequest`, `HandleEvent`, `ResetAllocator`, `Init`, `Shutdown`) around two plain
//!   functions, so the plugin itself needs no `unsafe`.
//! - [`abi`]: the ABI underneath — allocator bookkeeping, request/response envelopes, base64,
//!   the export glue, and (wasm32 only) the raw `paca` imports.
//! - [`host`]: the [`Host`] trait every handler talks to (DB, config, fetch, events, activity,
//!   log) and its data types; [`WasmHost`] implements it over the imports (wasm32 only).
//! - [`db`]: typed decoding of `db_query2` results ([`db::FromRow`], [`db::RowRef`]) and
//!   sea-query values → host parameters ([`db::to_host_params`]).
//! - [`error`]: typed API errors — [`error::ApiError<O>`] only takes a code operation `O`
//!   declares, so an undeclared code is a compile error.
//! - [`router`]: Paca's route matching, request parsing helpers and JSON envelopes, driven by
//!   a route table the plugin declares (usually generated from its OpenAPI spec).
//! - `fake_host` (feature `testing`): `FakeHost`, a scriptable [`Host`] that records every call,
//!   so handlers can be unit-tested natively and host calls counted.
//!
//! Dependency order, without cycles: `headers` ← `host` ← `abi::imports`; `headers`, `base64`
//! ← `abi::envelope` ← `router` ← `error`; `host` ← `db`, `fake_host`.
//!
//! # A minimal plugin
//!
//! ```
//! use paca_plugin_sdk::router::{self, Route, Seg};
//! use paca_plugin_sdk::{Host, LogLevel, Request, Response};
//!
//! #[derive(Clone, Copy)]
//! enum Op { Hello }
//!
//! const ROUTES: &[Route<Op>] = &[Route { op: Op::Hello, method: "GET", segs: &[Seg::Lit("hello")] }];
//!
//! pub fn handle_request<H: Host>(host: &H, req: Request) -> Response {
//!     match router::route_in(ROUTES, &req.method, &req.path) {
//!         Some((Op::Hello, _)) => {
//!             host.log(LogLevel::Info, "hello");
//!             router::success_response(200, &"hello").unwrap()
//!         }
//!         None => router::error_response(404, "ROUTE_NOT_FOUND", "route not found"),
//!     }
//! }
//!
//! pub fn handle_event<H: Host>(_host: &H, _topic: &str, _payload: &[u8]) {}
//!
//! // In the plugin's `cdylib` root (expands to nothing off wasm32):
//! paca_plugin_sdk::export_plugin!(handle_request, handle_event);
//! # fn main() {
//! #     let resp = handle_request(&NoHost, Request { method: "GET".into(), path: "hello".into(), ..Default::default() });
//! #     assert_eq!(resp.body, br#"{"success":true,"data":"hello"}"#);
//! # }
//! # struct NoHost;
//! # impl Host for NoHost {
//! #     fn db_query(&self, _: &str, _: &[serde_json::Value]) -> Result<paca_plugin_sdk::host::QueryResult, paca_plugin_sdk::HostError> { unimplemented!() }
//! #     fn db_exec(&self, _: &str, _: &[serde_json::Value]) -> Result<u64, paca_plugin_sdk::HostError> { unimplemented!() }
//! #     fn config(&self, _: &str) -> Option<String> { None }
//! #     fn fetch(&self, _: &paca_plugin_sdk::host::FetchRequest) -> Result<paca_plugin_sdk::host::FetchResponse, paca_plugin_sdk::HostError> { unimplemented!() }
//! #     fn emit(&self, _: &str, _: &serde_json::Value) -> Result<(), paca_plugin_sdk::HostError> { Ok(()) }
//! #     fn activity(&self, _: &str, _: &str, _: &serde_json::Value) -> Result<(), paca_plugin_sdk::HostError> { Ok(()) }
//! #     fn log(&self, _: LogLevel, _: &str) {}
//! # }
//! ```
//!
//! # Size
//!
//! The non-generic functions here that parse or print JSON (the `WasmHost` methods, the
//! envelope codecs, the cell decoders) are `#[inline]`. Optimised builds do not share generic
//! instances between crates and LTO does not merge identical copies, so without it the
//! plugin's wasm would carry a second set of `serde_json` instances (about 4.6 KiB for the
//! GitHub plugin); inlined, they are compiled in the plugin crate and share its instances.
//!
//! `examples/notes.rs` is a complete plugin with a database table; build it with
//! `cargo build -p paca-plugin-sdk --example notes --target wasm32-wasip1 --release`.

pub mod abi;
pub mod db;
pub mod error;
mod headers;
pub mod host;
pub mod router;

#[cfg(any(test, feature = "testing"))]
pub mod fake_host;

pub use abi::envelope::{Request, Response};
#[cfg(target_arch = "wasm32")]
pub use abi::imports::WasmHost;
pub use host::{Host, HostError, LogLevel};
