//! The router runtime: Paca's route matching, parameter parsing and the response envelopes.
//!
//! A plugin's generated API module holds the data (its operations and a `&[Route<Op>]` table,
//! its error codes) and calls these functions; nothing here knows any plugin's routes.
//!
//! - [`route_in`]: the host's precedence (literal segments beat parameters, ties keep table
//!   order, only declared routes match, parameters are percent-decoded and never empty).
//! - [`path_uuid`], [`query_param`], [`check_min`] / [`check_max`], [`json_body`]: request
//!   parsing, each failing with the message a client sees in a 400.
//! - [`caller_in_project`]: the project scoping check of non-public routes.
//! - [`success_response`], [`empty_response`], [`error_response`]: Paca's JSON envelopes
//!   `{"success":true,"data":…}` / `{"success":false,"error":…,"error_code":…}`.
//!
//! ```
//! use paca_plugin_sdk::router::{Route, Seg, route_in};
//!
//! #[derive(Debug, Clone, Copy, PartialEq)]
//! enum Op { ListNotes, GetNote }
//!
//! const ROUTES: &[Route<Op>] = &[
//!     Route { op: Op::ListNotes, method: "GET", segs: &[Seg::Lit("notes")] },
//!     Route { op: Op::GetNote, method: "GET", segs: &[Seg::Lit("notes"), Seg::Param] },
//! ];
//! assert_eq!(route_in(ROUTES, "get", "/notes/a%20b"), Some((Op::GetNote, vec!["a b".into()])));
//! assert_eq!(route_in(ROUTES, "POST", "notes"), None);
//! ```

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Serialize;

use crate::abi::envelope::{JSON, Request, Response};

/// One path segment of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    /// Must equal the path segment exactly.
    Lit(&'static str),
    /// Any non-empty segment, percent-decoded into the parameter list.
    Param,
}

/// A declared route: its operation, method and segments.
#[derive(Debug, Clone, Copy)]
pub struct Route<Op> {
    pub op: Op,
    pub method: &'static str,
    pub segs: &'static [Seg],
}

/// Finds the route for a host method and path (leading and trailing `/` ignored) with the
/// host's precedence: literal segments beat parameters, ties keep table order. Only declared
/// routes match; the method compares case-insensitively. Returns the operation and the
/// percent-decoded parameters in path order.
pub fn route_in<Op: Copy>(
    routes: &[Route<Op>],
    method: &str,
    path: &str,
) -> Option<(Op, Vec<String>)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut best: Option<(usize, usize, Vec<String>)> = None;
    for (index, r) in routes.iter().enumerate() {
        if !r.method.eq_ignore_ascii_case(method) || r.segs.len() != parts.len() {
            continue;
        }
        let mut params = Vec::new();
        let mut literals = 0;
        let matched = r.segs.iter().zip(&parts).all(|(seg, part)| match seg {
            Seg::Lit(lit) => {
                literals += 1;
                lit == part
            }
            Seg::Param => match percent_decode(part) {
                Some(value) if !value.is_empty() => {
                    params.push(value);
                    true
                }
                _ => false,
            },
        });
        if matched && best.as_ref().is_none_or(|(l, _, _)| literals > *l) {
            best = Some((literals, index, params));
        }
    }
    best.map(|(_, index, params)| (routes[index].op, params))
}

/// `%XX` decoding of one path segment; `None` for a bad escape or non-UTF-8 result.
pub fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A UUID path parameter; the error is the 400 message.
pub fn path_uuid(name: &str, raw: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(raw).map_err(|_| format!("path parameter `{name}` must be a UUID"))
}

/// The message of a project-scoping refusal (see [`caller_in_project`]).
pub const PROJECT_MISMATCH: &str = "the request is not authorized for this project";

/// The host fills `project_id` from the same path parameter on project-scoped routes; a
/// mismatch means the manifest and the spec disagree, so callers refuse (403) rather than
/// trust the path.
pub fn caller_in_project(req: &Request, project_id: uuid::Uuid) -> bool {
    matches!(uuid::Uuid::parse_str(&req.project_id), Ok(p) if p == project_id)
}

/// A JSON request body; an empty (all-whitespace) body or a serde error is the 400 message.
pub fn json_body<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, String> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err("a JSON request body is required".into());
    }
    serde_json::from_slice(&req.body).map_err(|e| format!("invalid request body: {e}"))
}

/// One query parameter, parsed; `None` when absent. `what` completes the 400 message
/// "query parameter `name` must be {what}, got …".
pub fn query_param<T: FromStr>(
    query: &BTreeMap<String, String>,
    name: &str,
    what: &str,
) -> Result<Option<T>, String> {
    match query.get(name) {
        Some(raw) => raw
            .parse::<T>()
            .map(Some)
            .map_err(|_| format!("query parameter `{name}` must be {what}, got {raw:?}")),
        None => Ok(None),
    }
}

/// A required query parameter: like [`query_param`], absent is an error.
pub fn required_query_param<T: FromStr>(
    query: &BTreeMap<String, String>,
    name: &str,
    what: &str,
) -> Result<T, String> {
    query_param(query, name, what)?.ok_or_else(|| format!("query parameter `{name}` is required"))
}

/// Lower bound of a numeric query parameter.
pub fn check_min(name: &str, value: i64, min: i64) -> Result<(), String> {
    if value < min {
        return Err(format!("query parameter `{name}` must be at least {min}"));
    }
    Ok(())
}

/// Upper bound of a numeric query parameter.
pub fn check_max(name: &str, value: i64, max: i64) -> Result<(), String> {
    if value > max {
        return Err(format!("query parameter `{name}` must be at most {max}"));
    }
    Ok(())
}

fn json_headers() -> BTreeMap<String, String> {
    BTreeMap::from([("Content-Type".to_string(), JSON.to_string())])
}

/// `{"success":true,"data":…}` with `status`; `None` if `data` cannot be encoded.
pub fn success_response<T: Serialize>(status: u16, data: &T) -> Option<Response> {
    #[derive(Serialize)]
    struct Envelope<'a, T> {
        success: bool,
        data: &'a T,
    }
    let body = serde_json::to_vec(&Envelope {
        success: true,
        data,
    })
    .ok()?;
    Some(Response {
        status,
        headers: json_headers(),
        body,
    })
}

/// A response without a body (204 and the like).
pub fn empty_response(status: u16) -> Response {
    Response {
        status,
        headers: BTreeMap::new(),
        body: Vec::new(),
    }
}

/// Paca's error envelope `{"success":false,"error":…,"error_code":…}` (fields in that order).
pub fn error_response(status: u16, code: &str, message: &str) -> Response {
    #[derive(Serialize)]
    struct Envelope<'a> {
        success: bool,
        error: &'a str,
        error_code: &'a str,
    }
    let body = serde_json::to_vec(&Envelope {
        success: false,
        error: message,
        error_code: code,
    })
    .unwrap_or_else(|_| {
        br#"{"success":false,"error":"internal error","error_code":"INTERNAL_ERROR"}"#.to_vec()
    });
    Response {
        status,
        headers: json_headers(),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Op {
        A,
        B,
        C,
        D,
    }

    /// The host's precedence, on a table where a literal and a parameter compete for the same
    /// segment.
    #[test]
    fn literal_segments_beat_parameters_and_ties_keep_table_order() {
        const SPECIAL: &[Seg] = &[Seg::Lit("items"), Seg::Lit("special")];
        const BY_ID: &[Seg] = &[Seg::Lit("items"), Seg::Param];
        const ANY: &[Seg] = &[Seg::Param, Seg::Param];
        let table = [
            Route {
                op: Op::A,
                method: "GET",
                segs: ANY,
            },
            Route {
                op: Op::B,
                method: "GET",
                segs: BY_ID,
            },
            Route {
                op: Op::C,
                method: "GET",
                segs: SPECIAL,
            },
            Route {
                op: Op::D,
                method: "GET",
                segs: BY_ID,
            },
        ];
        // Declared after the parameter routes, the all-literal route still wins.
        assert_eq!(
            route_in(&table, "GET", "items/special"),
            Some((Op::C, vec![]))
        );
        // Two routes with one literal each: the first declared wins; more literals beat fewer.
        assert_eq!(
            route_in(&table, "GET", "items/42"),
            Some((Op::B, vec!["42".to_string()]))
        );
        assert_eq!(
            route_in(&table, "GET", "things/42"),
            Some((Op::A, vec!["things".to_string(), "42".to_string()]))
        );
        assert_eq!(route_in(&table, "POST", "items/special"), None);
        assert_eq!(route_in(&table, "GET", "items"), None);
    }

    #[test]
    fn parameters_are_percent_decoded_and_never_empty() {
        const ROUTES: &[Route<Op>] = &[Route {
            op: Op::A,
            method: "DELETE",
            segs: &[Seg::Lit("x"), Seg::Param, Seg::Param],
        }];
        assert_eq!(
            route_in(ROUTES, "delete", "/x/a%2Fb/%E2%9C%93/"),
            Some((Op::A, vec!["a/b".to_string(), "✓".to_string()]))
        );
        for bad in ["x/%zz/y", "x/%4/y", "x/%FF/y", "x//y"] {
            assert_eq!(route_in(ROUTES, "DELETE", bad), None, "{bad}");
        }
        assert_eq!(percent_decode("plain"), Some("plain".into()));
    }

    #[test]
    fn request_parsing_messages() {
        assert_eq!(
            path_uuid("taskId", "nope").unwrap_err(),
            "path parameter `taskId` must be a UUID"
        );
        let q = BTreeMap::from([("page".to_string(), "two".to_string())]);
        assert_eq!(
            query_param::<i32>(&q, "page", "an integer").unwrap_err(),
            "query parameter `page` must be an integer, got \"two\""
        );
        assert_eq!(query_param::<i32>(&q, "other", "an integer"), Ok(None));
        assert_eq!(
            required_query_param::<String>(&q, "other", "valid").unwrap_err(),
            "query parameter `other` is required"
        );
        assert_eq!(
            check_min("page", 0, 1).unwrap_err(),
            "query parameter `page` must be at least 1"
        );
        assert_eq!(
            check_max("page", 1001, 1000).unwrap_err(),
            "query parameter `page` must be at most 1000"
        );
        assert!(check_min("page", 1, 1).is_ok() && check_max("page", 1000, 1000).is_ok());
        let mut req = Request::default();
        assert_eq!(
            json_body::<serde_json::Value>(&req).unwrap_err(),
            "a JSON request body is required"
        );
        req.body = b"{".to_vec();
        assert!(
            json_body::<serde_json::Value>(&req)
                .unwrap_err()
                .starts_with("invalid request body: ")
        );
        let p = uuid::Uuid::nil();
        assert!(!caller_in_project(&req, p));
        req.project_id = p.to_string();
        assert!(caller_in_project(&req, p));
    }

    #[test]
    fn envelopes() {
        let ok = success_response(201, &json!({"a": 1})).unwrap();
        assert_eq!(ok.status, 201);
        assert_eq!(ok.body, br#"{"success":true,"data":{"a":1}}"#);
        assert_eq!(ok.header("content-type"), Some(JSON));
        let err = error_response(429, "RATE_LIMITED", "slow \"down\"");
        assert_eq!(err.status, 429);
        assert_eq!(
            err.body,
            br#"{"success":false,"error":"slow \"down\"","error_code":"RATE_LIMITED"}"#
        );
        let empty = empty_response(204);
        assert!(empty.body.is_empty() && empty.headers.is_empty());
    }
}
