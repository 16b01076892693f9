//! The `fetch` import (§3.4, §6): strict policy plus an optional dev mapping of
//! allowlisted hostnames to local base URLs, applied only after the strict checks pass.

use crate::canon::canonical_header_key;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Instant;

/// Error text for every allowlist / scheme / address failure.
pub const NOT_PERMITTED: &str = "fetch: domain not permitted by plugin manifest";
/// Response body cap (50 MiB).
pub const MAX_RESPONSE_BODY: usize = 50 * 1024 * 1024;
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const DROPPED_HEADERS: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Outbound policy of one plugin.
#[derive(Clone, Debug, Default)]
pub struct FetchPolicy {
    /// Manifest `allowedOutboundDomains` (exact, case-insensitive, or `"*"`).
    pub allowed_domains: Vec<String>,
    /// Dev/test mode: lower-case hostname → base URL (e.g. `api.github.com` →
    /// `http://127.0.0.1:4010`). Empty = strict mode only.
    pub host_map: HashMap<String, String>,
    /// Shared client (redirects: up to 10, like Go's default).
    pub client: reqwest::Client,
}

#[derive(Deserialize)]
struct FetchRequest {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: Option<HashMap<String, String>>,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Serialize)]
struct FetchOk {
    status: u16,
    body: String,
    headers: BTreeMap<String, String>,
}

/// The failure JSON `{"status":0,"error":"…"}`.
pub fn error_json(msg: &str) -> String {
    format!(
        "{{\"status\":0,\"error\":{}}}",
        serde_json::Value::from(msg)
    )
}

fn is_blocked_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_link_local()
                || o[0] == 10
                || (o[0] == 172 && (16..=31).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_blocked_ip(IpAddr::V4(v4));
            }
            let seg0 = v6.segments()[0];
            v6.is_loopback() || (seg0 & 0xffc0) == 0xfe80 || (seg0 & 0xfe00) == 0xfc00
        }
    }
}

impl FetchPolicy {
    /// Checks 1–3 (allowlist non-empty, https, hostname allowed). Returns the hostname.
    pub fn check_url(&self, url: &url::Url) -> Result<String, String> {
        if self.allowed_domains.is_empty() {
            return Err(NOT_PERMITTED.into());
        }
        if !url.scheme().eq_ignore_ascii_case("https") {
            return Err(NOT_PERMITTED.into());
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(NOT_PERMITTED.into());
        }
        let ok = self
            .allowed_domains
            .iter()
            .any(|d| d == "*" || d.eq_ignore_ascii_case(&host));
        if !ok {
            return Err(NOT_PERMITTED.into());
        }
        Ok(host)
    }

    /// Performs one fetch and returns the JSON the guest receives.
    pub async fn perform(&self, request: &[u8], deadline: Option<Instant>) -> String {
        match self.perform_inner(request, deadline).await {
            Ok(ok) => {
                serde_json::to_string(&ok).unwrap_or_else(|e| error_json(&format!("fetch: {e}")))
            }
            Err(e) => error_json(&e),
        }
    }

    async fn perform_inner(
        &self,
        request: &[u8],
        deadline: Option<Instant>,
    ) -> Result<FetchOk, String> {
        let req: FetchRequest =
            serde_json::from_slice(request).map_err(|e| format!("fetch: invalid request: {e}"))?;
        let raw_url = req.url.unwrap_or_default();
        let url = url::Url::parse(&raw_url).map_err(|_| NOT_PERMITTED.to_owned())?;
        let host = self.check_url(&url)?;
        let target = match self.host_map.get(&host) {
            Some(base) => {
                let mut t = format!("{}{}", base.trim_end_matches('/'), url.path());
                if let Some(q) = url.query() {
                    t.push('?');
                    t.push_str(q);
                }
                t
            }
            None => {
                // Strict: every resolved address must be public.
                let addrs = tokio::net::lookup_host((host.as_str(), url.port().unwrap_or(443)))
                    .await
                    .map_err(|_| NOT_PERMITTED.to_owned())?
                    .collect::<Vec<_>>();
                if addrs.is_empty() || addrs.iter().any(|a| is_blocked_ip(a.ip())) {
                    return Err(NOT_PERMITTED.into());
                }
                raw_url
            }
        };
        let method = req.method.unwrap_or_default().to_ascii_uppercase();
        let method = if method.is_empty() {
            "GET".to_owned()
        } else {
            method
        };
        if !METHODS.contains(&method.as_str()) {
            return Err("fetch: unsupported method".into());
        }
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| format!("fetch: {e}"))?;
        let mut rb = self.client.request(method, &target);
        for (k, v) in req.headers.unwrap_or_default() {
            if DROPPED_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                continue;
            }
            rb = rb.header(canonical_header_key(&k), v);
        }
        if let Some(body) = req.body
            && !body.is_empty()
        {
            rb = rb.body(body);
        }
        if let Some(d) = deadline {
            let now = Instant::now();
            if d <= now {
                return Err("fetch: context deadline exceeded".into());
            }
            rb = rb.timeout(d - now);
        }
        let resp = rb.send().await.map_err(|e| {
            if e.is_timeout() {
                "fetch: context deadline exceeded".to_owned()
            } else {
                format!("fetch: {e}")
            }
        })?;
        let status = resp.status().as_u16();
        let mut headers = BTreeMap::new();
        for (k, v) in resp.headers() {
            headers
                .entry(canonical_header_key(k.as_str()))
                .or_insert_with(|| String::from_utf8_lossy(v.as_bytes()).into_owned());
        }
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("fetch: {e}"))? {
            if body.len() + chunk.len() > MAX_RESPONSE_BODY {
                return Err(format!(
                    "fetch: response body exceeds limit of {MAX_RESPONSE_BODY} bytes"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchOk {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.1.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_blocked_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "100.64.0.1",
            "198.18.0.1",
            "0.0.0.0",
            "140.82.112.6",
            "172.32.0.1",
        ] {
            assert!(!is_blocked_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn url_checks() {
        let p = FetchPolicy {
            allowed_domains: vec!["api.github.com".into()],
            ..Default::default()
        };
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            p.check_url(&u("https://API.github.com:8443/x")).unwrap(),
            "api.github.com"
        );
        assert!(p.check_url(&u("http://api.github.com/")).is_err());
        assert!(p.check_url(&u("https://sub.api.github.com/")).is_err());
        assert!(p.check_url(&u("https://github.com/")).is_err());
        let star = FetchPolicy {
            allowed_domains: vec!["*".into()],
            ..Default::default()
        };
        assert!(star.check_url(&u("https://anything.example/")).is_ok());
        assert!(
            FetchPolicy::default()
                .check_url(&u("https://api.github.com/"))
                .is_err()
        );
    }
}
