//! The guest's `HandleRequest` result turned into HTTP (contract §3.2): Go `json.Unmarshal`
//! semantics for the `{status, headers, body}` envelope, and the fallbacks the host applies.

use crate::middleware::error;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::Value;

struct Parsed {
    status: i64,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Go `json.Unmarshal` into `{Status int; Headers map[string]string; Body []byte}`.
fn parse_result(bytes: &[u8]) -> Option<Parsed> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let obj = match v {
        Value::Null => {
            return Some(Parsed {
                status: 0,
                headers: Vec::new(),
                body: Vec::new(),
            });
        }
        Value::Object(o) => o,
        _ => return None,
    };
    let field = |name: &str| {
        obj.get(name).or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    };
    let status = match field("status") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_i64()?,
        _ => return None,
    };
    let mut headers = Vec::new();
    match field("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                match v {
                    Value::String(s) => headers.push((k.clone(), s.clone())),
                    Value::Null => headers.push((k.clone(), String::new())),
                    _ => return None,
                }
            }
        }
        _ => return None,
    }
    let body = match field("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(b64)) => {
            let cleaned: String = b64.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_allow_trailing_bits(true)
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
            );
            engine.decode(cleaned).ok()?
        }
        _ => return None,
    };
    Some(Parsed {
        status,
        headers,
        body,
    })
}

/// Turns the guest's result into HTTP exactly like §3.2.
pub(crate) fn response_from_result(result: &[u8]) -> Response {
    if result.is_empty() {
        return StatusCode::OK.into_response();
    }
    let Some(p) = parse_result(result) else {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            result.to_vec(),
        )
            .into_response();
    };
    let status = if p.status == 0 { 200 } else { p.status };
    let Ok(status) = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or(())
    else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "invalid status from plugin",
        );
    };
    let content_type = p
        .headers
        .iter()
        .find(|(k, _)| k == "Content-Type")
        .or_else(|| p.headers.iter().find(|(k, _)| k == "content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "application/json".into());
    let mut resp = Response::new(Body::from(p.body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    for (k, v) in &p.headers {
        if let (Ok(name), Ok(val)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(name, val);
        }
    }
    if let Ok(ct) = HeaderValue::from_str(&content_type) {
        h.insert("content-type", ct);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_parsing() {
        let p = parse_result(br#"{"Status":201,"headers":{"X-A":"1"},"body":"aGk="}"#).unwrap();
        assert_eq!((p.status, p.body.as_slice()), (201, &b"hi"[..]));
        assert!(parse_result(br#"{"status":200,"body":"aGk"}"#).is_none()); // unpadded
        assert!(parse_result(br#"{"status":200,"headers":{"a":1}}"#).is_none());
        assert!(parse_result(b"[1]").is_none());
        assert!(parse_result(b"not json").is_none());
        assert_eq!(parse_result(b"null").unwrap().status, 0);
    }
}
