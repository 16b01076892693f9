//! Outbound fetch policy (strict checks, exact error JSON, dropped headers, dev mapping).

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::any;
use paca_devhost::fetch::FetchPolicy;
use serde_json::{Value, json};
use std::collections::HashMap;

async fn fake() -> String {
    let app = Router::new().route(
        "/{*rest}",
        any(|headers: HeaderMap, uri: axum::http::Uri, body: String| async move {
            let mut seen: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
            seen.sort();
            (
                [("x-request-id", "abc"), ("content-type", "application/json")],
                json!({"path": uri.to_string(), "headers": seen, "body": body,
                       "auth": headers.get("authorization").map(|v| v.to_str().unwrap().to_owned())})
                .to_string(),
            )
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

fn policy(base: Option<&str>) -> FetchPolicy {
    let mut host_map = HashMap::new();
    if let Some(b) = base {
        host_map.insert("api.github.com".to_owned(), b.to_owned());
    }
    FetchPolicy {
        allowed_domains: vec!["api.github.com".into()],
        host_map,
        ..Default::default()
    }
}

async fn call(p: &FetchPolicy, req: Value) -> Value {
    serde_json::from_str(&p.perform(req.to_string().as_bytes(), None).await).unwrap()
}

const DENIED: &str = r#"{"status":0,"error":"fetch: domain not permitted by plugin manifest"}"#;

#[tokio::test]
async fn strict_checks_and_exact_error_json() {
    let base = fake().await;
    let p = policy(Some(&base));
    // http refused even for a mapped host; unlisted domain refused; loopback refused
    for url in [
        "http://api.github.com/x",
        "https://evil.example/x",
        "https://127.0.0.1/x",
        &format!("{base}/x"),
    ] {
        let out = p
            .perform(json!({"url": url}).to_string().as_bytes(), None)
            .await;
        assert_eq!(out, DENIED, "{url}");
    }
    // strict mode: api.github.com does not resolve to a public address here → refused too
    let strict = policy(None);
    let out = strict
        .perform(
            json!({"url": "https://localhost/x"}).to_string().as_bytes(),
            None,
        )
        .await;
    assert_eq!(out, DENIED);
    let none = FetchPolicy::default();
    assert_eq!(
        none.perform(br#"{"url":"https://api.github.com/"}"#, None)
            .await,
        DENIED
    );
    let v = call(
        &p,
        json!({"method": "TRACE", "url": "https://api.github.com/x"}),
    )
    .await;
    assert_eq!(
        v,
        json!({"status": 0, "error": "fetch: unsupported method"})
    );
}

#[tokio::test]
async fn dev_mapping_after_checks_with_dropped_headers() {
    let base = fake().await;
    let p = policy(Some(&base));
    let v = call(
        &p,
        json!({"method": "post", "url": "https://API.GITHUB.COM/repos/o/r/hooks?per_page=100",
               "headers": {"authorization": "Bearer t", "Connection": "close", "Host": "x",
                           "Proxy-Authorization": "p", "TE": "trailers", "Upgrade": "h2", "X-Custom": "1"},
               "body": "{\"a\":1}"}),
    )
    .await;
    assert_eq!(v["status"], 200);
    assert!(v.get("error").is_none());
    assert_eq!(v["headers"]["X-Request-Id"], "abc");
    assert_eq!(v["headers"]["Content-Type"], "application/json");
    let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["path"], "/repos/o/r/hooks?per_page=100");
    assert_eq!(body["auth"], "Bearer t");
    assert_eq!(body["body"], "{\"a\":1}");
    let seen: Vec<&str> = body["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(seen.contains(&"x-custom"));
    for dropped in ["proxy-authorization", "te", "upgrade"] {
        assert!(
            !seen.contains(&dropped),
            "{dropped} must be dropped: {seen:?}"
        );
    }
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3);
}
