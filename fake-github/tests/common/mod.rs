//! Shared helpers: a tiny webhook receiver and an API client.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post as route_post;
use fake_github::{FakeGithub, FakeGithubHandle, RepoSeed};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A loopback HTTP server that records every POST and answers 204.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route(
                "/hook",
                route_post(
                    |State(got): State<Arc<Mutex<Vec<Received>>>>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        got.lock().unwrap().push(Received { headers, body });
                        StatusCode::NO_CONTENT
                    },
                ),
            )
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            url,
            got,
            _task: task,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

pub const TOKEN: &str = "ghp_alice";

/// A fake with user `alice` (token `ghp_alice`) and a public repo `alice/app` with a
/// `feature` branch.
pub async fn world() -> FakeGithubHandle {
    let gh = FakeGithub::start().await.unwrap();
    gh.seed_user("alice", TOKEN);
    gh.add_repo(RepoSeed::new("alice", "app").branches(&["feature"]))
        .unwrap();
    gh
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

pub fn get(gh: &FakeGithubHandle, path: &str) -> reqwest::RequestBuilder {
    client()
        .get(format!("{}{path}", gh.base_url()))
        .bearer_auth(TOKEN)
        .header("Accept", "application/vnd.github+json")
}

pub fn post(gh: &FakeGithubHandle, path: &str, body: serde_json::Value) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}{path}", gh.base_url()))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .body(body.to_string())
}

/// Independent HMAC-SHA256 over the body, as a receiver would compute it.
pub fn expected_signature(secret: &str, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Create a hook on `alice/app` through the REST API pointing at `url`.
pub async fn create_hook(gh: &FakeGithubHandle, url: &str, secret: &str) -> serde_json::Value {
    let resp = post(
        gh,
        "/repos/alice/app/hooks",
        serde_json::json!({
            "name": "web", "active": true,
            "events": ["push", "pull_request", "check_run"],
            "config": {"url": url, "content_type": "json", "secret": secret},
        }),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 201);
    let hook = resp.json().await.unwrap();
    // The ping goes out after the response (as on GitHub); wait until it has been answered.
    gh.settle().await;
    hook
}

pub const SECRET_FOR_CONTROL: &str = "control-secret";
