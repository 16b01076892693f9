//! The generated client against a one-shot loopback server: the request it sends (path,
//! bearer header, body) and how it decodes success and error envelopes.

use paca_github_client::{dev, types};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves one request with `status` and `body`; returns the server URL and the raw request.
async fn one_shot(
    status: &'static str,
    body: &'static str,
) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = sock.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let resp = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(resp.as_bytes()).await.unwrap();
        String::from_utf8(buf).unwrap()
    });
    (url, handle)
}

#[tokio::test]
async fn success_envelope_and_request_shape() {
    let pid = "7d6c3c1e-0b0a-4c1f-9d4e-2f1a9b8c7d6e";
    let (url, req) = one_shot(
        "200 OK",
        r#"{"success":true,"data":{"project_id":"7d6c3c1e-0b0a-4c1f-9d4e-2f1a9b8c7d6e","connected":true,"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}}"#,
    )
    .await;
    let client = dev::client(&url, Some("dev-admin"));
    let body = types::SetTokenRequest {
        token: "ghp_x".parse().unwrap(),
    };
    let out = client
        .set_token(&pid.parse().unwrap(), &body)
        .await
        .unwrap()
        .into_inner();
    assert!(out.success);
    assert!(out.data.connected);
    assert_eq!(out.data.project_id.to_string(), pid);
    let raw = req.await.unwrap();
    let first = raw.lines().next().unwrap();
    assert_eq!(
        first,
        format!("POST /api/v1/plugins/com.paca.github/projects/{pid}/github/token HTTP/1.1")
    );
    assert!(
        raw.to_ascii_lowercase()
            .contains("authorization: bearer dev-admin"),
        "{raw}"
    );
    assert!(raw.ends_with(r#"{"token":"ghp_x"}"#), "{raw}");
}

#[tokio::test]
async fn error_envelope_is_typed() {
    let (url, _req) = one_shot(
        "404 Not Found",
        r#"{"success":false,"error":"no such task in this project","error_code":"TASK_NOT_FOUND"}"#,
    )
    .await;
    let client = dev::client(&url, None);
    let err = client
        .list_task_branches(&uuid::Uuid::nil(), &uuid::Uuid::nil())
        .await
        .unwrap_err();
    assert_eq!(dev::status(&err), Some(404));
    let (status, code, message) = dev::envelope(&err).unwrap();
    assert_eq!((status, code), (404, types::ErrorCode::TaskNotFound));
    assert_eq!(message, "no such task in this project");
}

#[tokio::test]
async fn undeclared_status_still_reports_it() {
    let (url, _req) = one_shot(
        "401 Unauthorized",
        r#"{"success":false,"error":"unauthorized","error_code":"UNAUTHORIZED"}"#,
    )
    .await;
    let err = dev::client(&url, None)
        .get_integration(&uuid::Uuid::nil())
        .await
        .unwrap_err();
    assert_eq!(dev::status(&err), Some(401));
    assert!(dev::envelope(&err).is_none());
}

#[test]
fn spec_constraints_are_enforced_client_side() {
    assert!("".parse::<types::SetTokenRequestToken>().is_err());
    assert!(
        "x".repeat(513)
            .parse::<types::SetTokenRequestToken>()
            .is_err()
    );
    assert_eq!(
        dev::plugin_base_url("http://h:1/"),
        "http://h:1/api/v1/plugins/com.paca.github"
    );
}
