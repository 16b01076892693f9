//! `paca-devhost`: a Paca-compatible local host for the `com.paca.github` plugin.
//!
//! It loads a wasm32-wasip1 plugin with wasmtime and serves it like the Paca API host:
//! the `paca` host imports over a real PostgreSQL, the SQL guard, the migration runner,
//! manifest routing and middlewares, the outbound fetch policy and core events.
//! See `/work/shared/docs/paca-host-contract.md` for the behaviour mirrored here.

pub mod bind;
pub mod canon;
pub mod core_api;
mod core_events;
pub mod db;
pub mod dev_api;
pub mod events;
pub mod fetch;
pub mod frontend;
pub mod guard;
mod guest_response;
mod imports;
pub mod install;
pub mod manifest;
pub mod mcp_assets;
pub mod middleware;
pub mod migrate;
pub mod pg;
pub mod pool;
mod proxy;
pub mod routing;
pub mod runtime;
pub mod seed;
pub mod sensitive;
mod state;
pub mod stats;
mod wasi;

pub use runtime::{CallError, HostEnv, Limits, Plugin, RequestCtx};
pub mod server;

pub use seed::{Identity, Seed, dev_identities};
pub use server::{DevHost, DevHostConfig};
