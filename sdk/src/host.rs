//! The host seam: everything the plugin asks of the Paca host goes through [`Host`].
//!
//! `WasmHost` (`crate::abi::imports`, wasm32 only) implements it over the `paca` imports;
//! `FakeHost` (`crate::fake_host`, feature `testing`) scripts it so handlers can be
//! unit-tested natively. This module depends on neither.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// What a plugin can ask of the host. Implementations must be cheap to call repeatedly;
/// every method maps to exactly one host import call.
pub trait Host {
    /// `db_query2`: SELECT, or INSERT/UPDATE/DELETE … RETURNING.
    fn db_query(&self, sql: &str, params: &[serde_json::Value]) -> Result<QueryResult, HostError>;
    /// `db_exec`: INSERT/UPDATE/DELETE/WITH; returns rows affected.
    fn db_exec(&self, sql: &str, params: &[serde_json::Value]) -> Result<u64, HostError>;
    /// `config_get`: `None` for a missing, disallowed or empty value.
    fn config(&self, key: &str) -> Option<String>;
    /// `fetch`: non-2xx statuses are `Ok`; only transport/policy failures are `Err`.
    fn fetch(&self, req: &FetchRequest) -> Result<FetchResponse, HostError>;
    /// `event_emit`.
    fn emit(&self, topic: &str, payload: &serde_json::Value) -> Result<(), HostError>;
    /// `activity_record`: an entry in the task's activity (the host takes project and actor
    /// from the request; it fails outside a project-scoped request or for a foreign task).
    fn activity(
        &self,
        task_id: &str,
        activity_type: &str,
        content: &serde_json::Value,
    ) -> Result<(), HostError>;
    /// `log`. Empty messages are skipped.
    fn log(&self, level: LogLevel, message: &str);
}

/// `db_query2` result: `{"columns":[…],"rows":[[…]…]}`; the host sends `rows:null` for zero rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub columns: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub rows: Vec<Vec<serde_json::Value>>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl QueryResult {
    /// Builds a result (mainly for tests and fakes).
    pub fn new(columns: &[&str], rows: Vec<Vec<serde_json::Value>>) -> Self {
        QueryResult {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
        }
    }

    /// Position of the first column with this name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

/// Outbound HTTP request, serialized as the host's fetch JSON. `body` is a plain string.
/// `Debug` redacts the `Authorization` header (the token) and prints only the body's length.
#[derive(Clone, Default, PartialEq, Serialize)]
pub struct FetchRequest {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl fmt::Debug for FetchRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &crate::headers::RedactedHeaders(&self.headers))
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl FetchRequest {
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        FetchRequest {
            method: method.to_owned(),
            url: url.into(),
            headers: BTreeMap::new(),
            body: String::new(),
        }
    }
}

/// Outbound HTTP response. Header keys are Go-canonical, first value only.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FetchResponse {
    pub status: u16,
    #[serde(default, deserialize_with = "null_as_empty_map")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_empty_string")]
    pub body: String,
}

fn null_as_empty_map<'de, D>(d: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

fn null_as_empty_string<'de, D>(d: D) -> Result<String, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

impl FetchResponse {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        FetchResponse {
            status,
            headers: BTreeMap::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Case-insensitive header lookup.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::headers::header_value(&self.headers, name)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Decodes the host's fetch result: `{"status","body","headers"}` on success,
    /// `{"status":0,"error":"fetch: …"}` on failure.
    #[inline]
    pub fn from_host_json(bytes: &[u8]) -> Result<FetchResponse, HostError> {
        #[derive(Deserialize)]
        struct ErrorProbe {
            #[serde(default)]
            error: Option<String>,
        }
        let probe: ErrorProbe = serde_json::from_slice(bytes)
            .map_err(|e| HostError::Protocol(format!("fetch result is not valid JSON: {e}")))?;
        if let Some(e) = probe.error.filter(|e| !e.is_empty()) {
            return Err(HostError::Fetch(e));
        }
        let resp: FetchResponse = serde_json::from_slice(bytes).map_err(|e| {
            HostError::Protocol(format!("fetch result has an unexpected shape: {e}"))
        })?;
        if resp.status == 0 {
            return Err(HostError::Fetch("fetch: no status from host".into()));
        }
        Ok(resp)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The host's level numbers: 0=Debug, 1=Info, 2=Warn, anything else=Error.
    pub fn as_i32(self) -> i32 {
        match self {
            LogLevel::Debug => 0,
            LogLevel::Info => 1,
            LogLevel::Warn => 2,
            LogLevel::Error => 3,
        }
    }
}

/// A failed host call. The strings are the host's own error texts (never secrets of ours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// `db_query2` / `db_exec` returned an error string (guard or driver).
    Db(String),
    /// `fetch` returned `{"status":0,"error":…}`.
    Fetch(String),
    /// `event_emit` returned 0 (publish failed).
    Emit(String),
    /// `activity_record` returned 0 (no request context, or the task is not the project's).
    Activity(String),
    /// The host answered something that breaks the contract (empty or undecodable output).
    Protocol(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Db(m) => write!(f, "database error: {m}"),
            HostError::Fetch(m) => write!(f, "fetch error: {m}"),
            HostError::Emit(m) => write!(f, "event emit error: {m}"),
            HostError::Activity(m) => write!(f, "activity record error: {m}"),
            HostError::Protocol(m) => write!(f, "host protocol error: {m}"),
        }
    }
}

impl std::error::Error for HostError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_result_rows_null_is_empty() {
        let q: QueryResult = serde_json::from_str(r#"{"columns":["id"],"rows":null}"#).unwrap();
        assert_eq!(q.columns, vec!["id".to_owned()]);
        assert!(q.rows.is_empty());
        let q: QueryResult = serde_json::from_str(r#"{"columns":null,"rows":null}"#).unwrap();
        assert!(q.columns.is_empty() && q.is_empty());
    }

    #[test]
    fn query_result_values_kept() {
        let q: QueryResult =
            serde_json::from_str(r#"{"columns":["a","b"],"rows":[[1,"x"],[null,"y"]]}"#).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q.rows[1][0], json!(null));
        assert_eq!(q.column_index("b"), Some(1));
        assert_eq!(q.column_index("c"), None);
    }

    #[test]
    fn fetch_response_header_is_case_insensitive() {
        let r = FetchResponse::new(200, "").with_header("X-Ratelimit-Remaining", "0");
        assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
        assert_eq!(r.header("X-RateLimit-Remaining"), Some("0"));
        assert_eq!(r.header("Link"), None);
    }

    #[test]
    fn fetch_response_decodes_host_json() {
        let r: FetchResponse = serde_json::from_str(
            r#"{"status":404,"body":"{}","headers":{"Content-Type":"application/json"}}"#,
        )
        .unwrap();
        assert_eq!(r.status, 404);
        assert!(!r.is_success());
        assert_eq!(r.header("content-type"), Some("application/json"));
    }

    #[test]
    fn fetch_host_errors_are_typed() {
        let e = FetchResponse::from_host_json(
            br#"{"status":0,"error":"fetch: domain not permitted by plugin manifest"}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            HostError::Fetch("fetch: domain not permitted by plugin manifest".into())
        );
        assert!(matches!(
            FetchResponse::from_host_json(b"garbage"),
            Err(HostError::Protocol(_))
        ));
        assert!(matches!(
            FetchResponse::from_host_json(br#"{"status":0}"#),
            Err(HostError::Fetch(_))
        ));
        let ok =
            FetchResponse::from_host_json(br#"{"status":201,"body":"x","headers":null}"#).unwrap();
        assert_eq!((ok.status, ok.body.as_str()), (201, "x"));
    }

    #[test]
    fn log_levels_match_host_numbers() {
        assert_eq!(LogLevel::Debug.as_i32(), 0);
        assert_eq!(LogLevel::Info.as_i32(), 1);
        assert_eq!(LogLevel::Warn.as_i32(), 2);
        assert_eq!(LogLevel::Error.as_i32(), 3);
    }
}
