//! Typed client of the `com.paca.github` plugin API.
//!
//! Everything but the small [`dev`] helpers is generated at build time from
//! `spec/openapi.yaml` with progenitor (see `build.rs`): [`Client`] has one method per
//! `operationId`, [`types`] holds the spec's schemas (the Paca success envelopes
//! `{success, data}` are the `*Response` types, errors are [`types::ErrorEnvelope`]).

#[allow(
    clippy::all,
    clippy::pedantic,
    unused_imports,
    dead_code,
    missing_docs,
    mismatched_lifetime_syntaxes
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
}

pub use generated::*;
pub use progenitor_client::{Error, ResponseValue};

/// The plugin's base path on a Paca server.
pub const PLUGIN_BASE_PATH: &str = "/api/v1/plugins/com.paca.github";

/// A client error: what progenitor returns, with the plugin's error envelope as the typed body.
pub type ApiError = Error<types::ErrorEnvelope>;

/// Helpers for talking to a Paca host (or the devhost) as a given identity.
pub mod dev {
    use super::{ApiError, Client, PLUGIN_BASE_PATH, types};
    use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

    /// The plugin base URL for a server root such as `http://127.0.0.1:8080`.
    pub fn plugin_base_url(server: &str) -> String {
        format!("{}{PLUGIN_BASE_PATH}", server.trim_end_matches('/'))
    }

    /// A client for the plugin on `server` (its root URL) that sends
    /// `Authorization: Bearer <token>` on every request (`None`: anonymous).
    pub fn client(server: &str, bearer: Option<&str>) -> Client {
        let mut headers = HeaderMap::new();
        if let Some(token) = bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .expect("a bearer token is a valid header value");
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("reqwest client");
        Client::new_with_client(&plugin_base_url(server), http)
    }

    /// The HTTP status of a failed call, when a response was received.
    pub fn status(err: &ApiError) -> Option<u16> {
        err.status().map(|s| s.as_u16())
    }

    /// `(status, error_code, message)` of a documented error response.
    pub fn envelope(err: &ApiError) -> Option<(u16, types::ErrorCode, String)> {
        match err {
            super::Error::ErrorResponse(rv) => {
                Some((rv.status().as_u16(), rv.error_code, rv.error.clone()))
            }
            _ => None,
        }
    }
}
