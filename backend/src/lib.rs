//! `com.paca.github`: GitHub integration plugin for Paca (wasm32-wasip1 `cdylib`).
//!
//! Layout:
//! - [`abi`]: the Paca host ABI (exports, imports, allocator, envelopes) — GitHub-agnostic.
//! - [`host`]: the [`host::Host`] trait every handler talks to.
//! - [`crypto`], [`entropy`], [`signature`]: token/secret encryption, DB-sourced randomness,
//!   webhook HMAC verification.
//! - [`github`]: typed GitHub REST client over `Host::fetch`.
//! - [`taskref`], [`validate`]: branch → task-key extraction, GitHub/git name rules.

pub mod abi;
pub mod crypto;
pub mod entropy;
pub mod github;
pub mod host;
pub mod signature;
pub mod taskref;
pub mod validate;

#[cfg(test)]
pub mod fake_host;

pub use abi::envelope::{Request, Response};
pub use host::Host;

// ---------------------------------------------------------------------------------------------
// Entry points called by the wasm exports.
//
// PLACEHOLDER until the generated router (`generated::api::dispatch`) is wired in by the handler
// author: every route is 404 and events are ignored. Keep these thin: decode/encode and the
// allocator live in `abi`, routing in `generated`, behaviour in handler modules.
// ---------------------------------------------------------------------------------------------

/// Handles one proxied HTTP request.
pub fn handle_request<H: Host>(host: &H, req: Request) -> Response {
    let _ = (host, req);
    Response::error(404, "ROUTE_NOT_FOUND", "route not found")
}

/// Handles one subscribed event (`payload` is the event's JSON payload object).
pub fn handle_event<H: Host>(host: &H, topic: &str, payload: &[u8]) {
    let _ = (host, topic, payload);
}

export_plugin!(handle_request, handle_event);

#[cfg(test)]
mod tests {
    use super::*;
    use fake_host::FakeHost;

    #[test]
    fn unrouted_request_is_paca_404_without_host_calls() {
        let host = FakeHost::new();
        let resp = handle_request(&host, Request::default());
        assert_eq!(resp.status, 404);
        let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"success":false,"error":"route not found","error_code":"ROUTE_NOT_FOUND"})
        );
        assert_eq!(host.calls().total(), 0);
        handle_event(&host, "task.deleted", b"{}");
        assert_eq!(host.calls().total(), 0);
    }
}
