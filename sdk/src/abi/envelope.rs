//! The JSON envelopes of `HandleRequest`.
//!
//! In: `{"method","path","query","project_id","caller_id","user_id","caller_role","headers","body"}`
//! with a std, padded base64 body (`""` or `null` when empty). Out:
//! `{"status":N,"headers":{…},"body":"<base64>"}` with an explicit `Content-Type`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::base64;
use crate::headers::RedactedHeaders;
pub use crate::headers::header_value;

/// A proxied HTTP request, as the host describes it. `Debug` redacts credentials (the host
/// forwards the user's cookies and bearer token) and prints only the body's length.
#[derive(Clone, Default, PartialEq)]
pub struct Request {
    /// Upper-cased.
    pub method: String,
    /// No leading/trailing '/', still percent-encoded (`"projects/<uuid>/repositories"`).
    pub path: String,
    /// First value per key, as the host sends.
    pub query: BTreeMap<String, String>,
    pub project_id: String,
    pub caller_id: String,
    pub user_id: String,
    pub caller_role: String,
    /// As sent (Go-canonical keys); use [`Request::header`] to look up.
    pub headers: BTreeMap<String, String>,
    /// The raw body, base64-decoded.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("project_id", &self.project_id)
            .field("caller_id", &self.caller_id)
            .field("user_id", &self.user_id)
            .field("caller_role", &self.caller_role)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Request {
    /// Case-insensitive header lookup.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// Path segments (empty path → no segments).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.path.split('/').filter(|s| !s.is_empty())
    }
}

/// Why a request envelope could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeError(pub String);

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed request envelope: {}", self.0)
    }
}

impl std::error::Error for EnvelopeError {}

fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn opt_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
struct WireRequest {
    #[serde(default, deserialize_with = "opt_string")]
    method: String,
    #[serde(default, deserialize_with = "opt_string")]
    path: String,
    #[serde(default, deserialize_with = "opt_map")]
    query: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "opt_string")]
    project_id: String,
    #[serde(default, deserialize_with = "opt_string")]
    caller_id: String,
    #[serde(default, deserialize_with = "opt_string")]
    user_id: String,
    #[serde(default, deserialize_with = "opt_string")]
    caller_role: String,
    #[serde(default, deserialize_with = "opt_map")]
    headers: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "opt_string")]
    body: String,
}

impl Request {
    /// Decodes the host's `HandleRequest` payload.
    #[inline]
    pub fn decode(bytes: &[u8]) -> Result<Request, EnvelopeError> {
        let w: WireRequest =
            serde_json::from_slice(bytes).map_err(|e| EnvelopeError(e.to_string()))?;
        let body = base64::decode(&w.body).map_err(|e| EnvelopeError(format!("body: {e}")))?;
        Ok(Request {
            method: w.method.to_ascii_uppercase(),
            path: w.path.trim_matches('/').to_owned(),
            query: w.query,
            project_id: w.project_id,
            caller_id: w.caller_id,
            user_id: w.user_id,
            caller_role: w.caller_role,
            headers: w.headers,
            body,
        })
    }
}

/// A response for the host. Build it with the helpers; [`Response::encode`] makes sure a
/// `Content-Type` header is present and spelled the way the host looks it up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

pub const JSON: &str = "application/json";

impl Response {
    /// A response with a body and content type.
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        let mut headers = BTreeMap::new();
        headers.insert("Content-Type".to_owned(), content_type.to_owned());
        Response {
            status,
            headers,
            body,
        }
    }

    /// A JSON response from already-serialized bytes.
    pub fn json_bytes(status: u16, body: Vec<u8>) -> Response {
        Response::new(status, JSON, body)
    }

    /// A JSON response from any serializable value.
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Response {
        match serde_json::to_vec(value) {
            Ok(body) => Response::json_bytes(status, body),
            Err(_) => Response::error(500, "INTERNAL_ERROR", "failed to encode response"),
        }
    }

    /// Paca's error envelope: `{"success":false,"error":msg,"error_code":code}`.
    #[inline]
    pub fn error(status: u16, code: &str, message: &str) -> Response {
        let v = serde_json::json!({"success": false, "error": message, "error_code": code});
        Response::json_bytes(status, v.to_string().into_bytes())
    }

    /// 204 with no body.
    pub fn no_content() -> Response {
        Response::new(204, JSON, Vec::new())
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Case-insensitive header lookup.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// Encodes the host's result JSON. The host only recognises `Content-Type` /
    /// `content-type`, so any other spelling is normalised and a missing one defaults to JSON.
    #[inline]
    pub fn encode(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Wire<'a> {
            status: u16,
            headers: BTreeMap<&'a str, &'a str>,
            body: String,
        }
        let mut headers: BTreeMap<&str, &str> = BTreeMap::new();
        let mut content_type = None;
        for (k, v) in &self.headers {
            if k.eq_ignore_ascii_case("content-type") {
                content_type = Some(v.as_str());
            } else {
                headers.insert(k.as_str(), v.as_str());
            }
        }
        headers.insert("Content-Type", content_type.unwrap_or(JSON));
        let wire = Wire {
            status: if self.status == 0 { 200 } else { self.status },
            headers,
            body: base64::encode(&self.body),
        };
        // Serializing string maps and integers cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn decodes_host_envelope() {
        let raw = json!({
            "method": "post",
            "path": "/projects/0b6c4c1e-7f3e-4a55-9d0e-2f1d3c4b5a69/repositories/",
            "query": {"page": "2"},
            "project_id": "0b6c4c1e-7f3e-4a55-9d0e-2f1d3c4b5a69",
            "caller_id": "c",
            "user_id": "u",
            "caller_role": "USER",
            "headers": {"X-Hub-Signature-256": "sha256=ab", "Content-Type": "application/json"},
            "body": "eyJhIjoxfQ=="
        });
        let req = Request::decode(raw.to_string().as_bytes()).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.path,
            "projects/0b6c4c1e-7f3e-4a55-9d0e-2f1d3c4b5a69/repositories"
        );
        assert_eq!(req.query.get("page").map(String::as_str), Some("2"));
        assert_eq!(req.caller_role, "USER");
        assert_eq!(req.body, br#"{"a":1}"#);
        assert_eq!(req.header("x-hub-signature-256"), Some("sha256=ab"));
        assert_eq!(req.header("X-HUB-SIGNATURE-256"), Some("sha256=ab"));
        assert_eq!(req.header("missing"), None);
        assert_eq!(
            req.segments().collect::<Vec<_>>(),
            vec![
                "projects",
                "0b6c4c1e-7f3e-4a55-9d0e-2f1d3c4b5a69",
                "repositories"
            ]
        );
    }

    #[test]
    fn empty_and_null_bodies_and_missing_fields() {
        for body in [json!(""), Value::Null] {
            let raw = json!({"method":"GET","path":"/","query":{},"headers":{},"body":body});
            let req = Request::decode(raw.to_string().as_bytes()).unwrap();
            assert!(req.body.is_empty());
            assert_eq!(req.path, "");
            assert_eq!(req.segments().count(), 0);
        }
        let req = Request::decode(br#"{"method":"get","query":null,"headers":null}"#).unwrap();
        assert_eq!(req.method, "GET");
        assert!(req.query.is_empty() && req.headers.is_empty() && req.project_id.is_empty());
    }

    #[test]
    fn malformed_envelopes_are_errors() {
        for bad in [
            &b""[..],
            b"not json",
            br#"{"method":"GET","body":"%%%"}"#,
            br#"{"method":"GET","query":{"a":1}}"#,
            br#"[1,2]"#,
        ] {
            assert!(
                Request::decode(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn encodes_response_with_content_type_and_base64_body() {
        let r = Response::error(404, "ROUTE_NOT_FOUND", "route not found");
        let v: Value = serde_json::from_slice(&r.encode()).unwrap();
        assert_eq!(v["status"], 404);
        assert_eq!(v["headers"]["Content-Type"], "application/json");
        let body = base64::decode(v["body"].as_str().unwrap()).unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({"success":false,"error":"route not found","error_code":"ROUTE_NOT_FOUND"})
        );
    }

    #[test]
    fn content_type_is_normalised_or_defaulted() {
        let mut r = Response {
            status: 0,
            headers: BTreeMap::new(),
            body: b"hi".to_vec(),
        };
        r.headers.insert("CONTENT-TYPE".into(), "text/plain".into());
        r.headers.insert("Location".into(), "/x".into());
        let v: Value = serde_json::from_slice(&r.encode()).unwrap();
        assert_eq!(v["status"], 200);
        assert_eq!(
            v["headers"],
            json!({"Content-Type":"text/plain","Location":"/x"})
        );
        assert_eq!(v["body"], "aGk=");

        let v: Value = serde_json::from_slice(&Response::default().encode()).unwrap();
        assert_eq!(v["headers"]["Content-Type"], "application/json");
        assert_eq!(v["body"], "");
    }

    #[test]
    fn no_content_has_empty_body() {
        let r = Response::no_content();
        assert_eq!(r.status, 204);
        assert!(r.body.is_empty());
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
}
