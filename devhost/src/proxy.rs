//! The proxy to the plugin: `/api/v1/plugins/<id>/*` is matched against the manifest's routes,
//! runs their middlewares (§5.2), becomes a `HandleRequest` envelope (§3.1) and is answered with
//! the guest's result ([`crate::guest_response`]).

use crate::canon::canonical_header_key;
use crate::guest_response::response_from_result;
use crate::middleware::error;
use crate::runtime::{CallError, RequestCtx};
use crate::server::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The HandleRequest envelope, field order as `pluginrt.HTTPRequest`.
#[derive(Serialize)]
struct Envelope<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a BTreeMap<String, String>,
    project_id: &'a str,
    caller_id: &'a str,
    user_id: &'a str,
    caller_role: &'a str,
    headers: &'a BTreeMap<String, String>,
    body: String,
}

const PREFIX: &str = "/api/v1/plugins/";

pub(crate) async fn proxy(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Some(rest) = parts.uri.path().strip_prefix(PREFIX) else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "not found");
    };
    let (plugin_id, path) = rest.split_once('/').unwrap_or((rest, ""));
    if plugin_id != s.manifest.id {
        return error(
            StatusCode::NOT_FOUND,
            "PLUGIN_NOT_FOUND",
            "plugin not found or disabled",
        );
    }
    let path = if path.is_empty() { "/" } else { path };
    let method = parts.method.as_str().to_owned();

    let mut query = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
        query
            .entry(k.into_owned())
            .or_insert_with(|| v.into_owned());
    }
    let mut headers = BTreeMap::new();
    for (k, v) in &parts.headers {
        headers
            .entry(canonical_header_key(k.as_str()))
            .or_insert_with(|| String::from_utf8_lossy(v.as_bytes()).into_owned());
    }

    // middlewares of the matched route; unmatched routes get none (PH@09c3)
    let backend = s.manifest.backend();
    let (mws, params) = match crate::routing::match_route(&backend.routes, &method, path) {
        Some((route, params)) => (route.effective_middlewares(), params),
        None => (Vec::new(), HashMap::new()),
    };
    let caller =
        match crate::middleware::apply(&s.identities, &s.pool, &mws, &params, &headers).await {
            Ok(c) => c,
            Err(resp) => return resp,
        };

    // body cap: (limit - envelope overhead) * 3/4, then the envelope itself
    let limit = s.plugins.instances()[0].limits().max_request_body_bytes;
    let user_id = caller
        .identity
        .as_ref()
        .map(|i| i.user_id.clone())
        .unwrap_or_default();
    let caller_role = match &caller.identity {
        Some(i) if !caller.via_api_key => i.role.clone(),
        _ => String::new(),
    };
    let mut env = Envelope {
        method: &method,
        path,
        query: &query,
        project_id: &caller.project_id,
        caller_id: &caller.caller_id,
        user_id: &user_id,
        caller_role: &caller_role,
        headers: &headers,
        body: String::new(),
    };
    let overhead = serde_json::to_vec(&env).map(|v| v.len()).unwrap_or(0);
    let body_cap = if limit > 0 {
        limit.saturating_sub(overhead) * 3 / 4
    } else {
        usize::MAX
    };
    let raw = match axum::body::to_bytes(body, body_cap).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "request body too large",
            );
        }
    };
    env.body = base64::engine::general_purpose::STANDARD.encode(&raw);
    let payload = match serde_json::to_vec(&env) {
        Ok(p) => p,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                &e.to_string(),
            );
        }
    };
    let ctx = Arc::new(RequestCtx {
        body: raw.to_vec(),
        headers: headers.clone(),
        caller_id: caller.caller_id.clone(),
        user_id: user_id.clone(),
        caller_role: caller_role.clone(),
        project_id: caller.project_id.clone(),
        actions: caller.actions.clone(),
    });
    match s
        .plugins
        .call_export("HandleRequest", payload, Some(ctx))
        .await
    {
        Ok(result) => response_from_result(&result),
        Err(CallError::PayloadTooLarge { .. }) => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "request body too large",
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "PLUGIN_ERROR",
            &format!("plugin execution error: {e}"),
        ),
    }
}
