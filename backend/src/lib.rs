//! `com.paca.github`: GitHub integration plugin for Paca (wasm32-wasip1 `cdylib`).
//!
//! Layout:
//! - `abi`, `host` (re-exported from [`paca_plugin_sdk`]): the Paca host ABI and the
//!   [`Host`] trait every handler talks to — GitHub-agnostic, so they live in the SDK.
//! - [`generated`]: the API types, handler trait and route table from `spec/openapi.yaml`, the
//!   table identifiers and row types from `migrations/*.sql`.
//! - [`plugin`]: the handlers (the generated `Api` trait's implementation).
//! - [`crypto`], [`entropy`], [`signature`]: token/secret encryption, DB-sourced randomness,
//!   webhook HMAC verification.
//! - [`github`]: typed GitHub REST client over `Host::fetch`.
//! - [`taskref`], [`validate`]: branch → task-key extraction, GitHub/git name rules.

// The backend's internal paths (`crate::abi::envelope::Request`, `crate::host::Host`, …) keep
// working over the SDK.
pub(crate) use paca_plugin_sdk::{abi, host};

pub(crate) mod crypto;
pub(crate) mod entropy;
// Generated from the whole spec and schema: not every item has a caller in this plugin.
#[allow(dead_code, unused_imports)]
pub(crate) mod generated;
pub(crate) mod github;
pub(crate) mod plugin;
pub(crate) mod signature;
pub(crate) mod sql;
pub(crate) mod taskref;
pub(crate) mod validate;

#[cfg(test)]
pub(crate) use paca_plugin_sdk::fake_host;
#[cfg(test)]
mod generated_tests;

pub use paca_plugin_sdk::{Host, Request, Response};

/// Handles one proxied HTTP request: the generated router, then the handlers in [`plugin`].
pub fn handle_request<H: Host>(host: &H, req: Request) -> Response {
    generated::api::dispatch(&plugin::Plugin::new(host), &req)
}

/// Handles one subscribed event (`payload` is the event's JSON payload object).
pub fn handle_event<H: Host>(host: &H, topic: &str, payload: &[u8]) {
    plugin::Plugin::new(host).handle_event(topic, payload);
}

paca_plugin_sdk::export_plugin!(handle_request, handle_event);

#[cfg(test)]
mod tests {
    use super::*;
    use fake_host::FakeHost;

    #[test]
    fn unrouted_request_is_paca_404_and_bad_events_touch_no_data() {
        let host = FakeHost::new();
        let resp = handle_request(&host, Request::default());
        assert_eq!(resp.status, 404);
        let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"success":false,"error":"route not found","error_code":"ROUTE_NOT_FOUND"})
        );
        assert_eq!(host.calls().total(), 0);
        // An event without a task id is ignored after a warning, without touching the DB.
        handle_event(&host, "task.deleted", b"{}");
        assert_eq!(host.calls().db(), 0);
        assert_eq!(host.logs().len(), 1);
    }
}
