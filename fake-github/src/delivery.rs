//! Webhook deliveries: signing, sending, and the delivery log record.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How a delivery's signature is tampered with, so tests can prove the receiver rejects it.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tamper {
    /// Correctly signed (or unsigned when the hook has no secret).
    #[default]
    None,
    /// `X-Hub-Signature-256` computed with a wrong key.
    WrongSignature,
    /// No `X-Hub-Signature-256` header at all.
    NoSignature,
    /// The signature of the original body, but the body sent differs from it.
    ModifiedBody,
}

/// One delivery attempt, as recorded in the delivery log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Delivery {
    /// Position in the log (1-based, unique per attempt, redeliveries included).
    pub seq: u64,
    /// The `X-GitHub-Delivery` GUID (kept on redelivery).
    pub id: String,
    pub event: String,
    pub action: Option<String>,
    pub hook_id: u64,
    pub repo_id: u64,
    pub url: String,
    /// Exactly the headers sent, in order.
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: Vec<(String, String)>,
    /// Exactly the body bytes sent (always UTF-8 JSON text, unless tampered).
    pub body: String,
    /// The untampered payload (equal to `body` unless `tamper` is `ModifiedBody`).
    pub payload: String,
    /// The correct `sha256=…` signature of `payload`, `None` when the hook has no secret.
    pub signature: Option<String>,
    pub tamper: Tamper,
    pub redelivery: bool,
    /// Status code received, `None` on a transport error.
    pub status: Option<u16>,
    /// Transport error text, if the request failed.
    pub error: Option<String>,
    /// Response body received (truncated to 4 KiB).
    pub response_body: String,
}

impl Delivery {
    /// A header value as sent (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body sent, parsed (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the receiver answered with a 2xx.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// `sha256=<lowercase hex HMAC-SHA256(key = secret bytes as given, body)>`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Everything needed to send one delivery; `finish` fills in headers/body per the tamper mode.
pub(crate) struct Outgoing {
    pub seq: u64,
    pub id: String,
    pub event: String,
    pub action: Option<String>,
    pub hook_id: u64,
    pub repo_id: u64,
    pub url: String,
    pub secret: Option<String>,
    /// Hook `content_type`: `json`, or `form` (`payload=<urlencoded JSON>`).
    pub content_type: String,
    pub payload: String,
    pub tamper: Tamper,
    pub redelivery: bool,
    /// Signature to use when there is no secret at hand (redelivery after the hook was deleted).
    pub known_signature: Option<String>,
}

impl Outgoing {
    pub fn into_delivery(mut self) -> Delivery {
        let form = self.content_type == "form";
        if form && !self.payload.starts_with("payload=") {
            self.payload = format!("payload={}", form_encode(&self.payload));
        }
        let signature = match &self.secret {
            Some(s) => Some(sign(s.as_bytes(), self.payload.as_bytes())),
            None => self.known_signature.clone(),
        };
        let body = match self.tamper {
            Tamper::ModifiedBody if form => format!("{}%20", self.payload),
            Tamper::ModifiedBody => self.payload.replacen('{', "{\"tampered\":true,", 1),
            _ => self.payload.clone(),
        };
        let sent_signature = match self.tamper {
            Tamper::None | Tamper::ModifiedBody => signature.clone(),
            Tamper::NoSignature => None,
            Tamper::WrongSignature => {
                let key = format!("{}-wrong", self.secret.as_deref().unwrap_or("no-secret"));
                Some(sign(key.as_bytes(), self.payload.as_bytes()))
            }
        };
        let mut headers = vec![
            ("Accept".to_string(), "*/*".to_string()),
            (
                "Content-Type".to_string(),
                if form {
                    "application/x-www-form-urlencoded"
                } else {
                    "application/json"
                }
                .to_string(),
            ),
            ("User-Agent".to_string(), "GitHub-Hookshot/fake".to_string()),
            ("X-GitHub-Delivery".to_string(), self.id.clone()),
            ("X-GitHub-Event".to_string(), self.event.clone()),
            ("X-GitHub-Hook-ID".to_string(), self.hook_id.to_string()),
            (
                "X-GitHub-Hook-Installation-Target-ID".to_string(),
                self.repo_id.to_string(),
            ),
            (
                "X-GitHub-Hook-Installation-Target-Type".to_string(),
                "repository".to_string(),
            ),
        ];
        if let Some(sig) = sent_signature {
            headers.push(("X-Hub-Signature-256".to_string(), sig));
        }
        Delivery {
            seq: self.seq,
            id: self.id,
            event: self.event,
            action: self.action,
            hook_id: self.hook_id,
            repo_id: self.repo_id,
            url: self.url,
            headers,
            body,
            payload: self.payload,
            signature,
            tamper: self.tamper,
            redelivery: self.redelivery,
            status: None,
            error: None,
            response_body: String::new(),
        }
    }
}

/// `application/x-www-form-urlencoded` value encoding.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The HTTP client deliveries go through: no proxy, bounded time.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

/// POST one delivery and record the outcome on it.
pub(crate) async fn send(client: &reqwest::Client, mut d: Delivery) -> Delivery {
    let mut req = client.post(&d.url).body(d.body.clone());
    for (k, v) in &d.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    match req.send().await {
        Ok(resp) => {
            d.status = Some(resp.status().as_u16());
            match resp.bytes().await {
                Ok(b) => {
                    let text = String::from_utf8_lossy(&b);
                    d.response_body = text.chars().take(4096).collect();
                }
                Err(e) => d.error = Some(error_chain(&e)),
            }
        }
        Err(e) => d.error = Some(error_chain(&e)),
    }
    d
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_known_vector() {
        // Example from GitHub's "Validating webhook deliveries" documentation.
        assert_eq!(
            sign(b"It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }
}
