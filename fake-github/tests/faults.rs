//! Fault injection (Rust API and HTTP control API) and the HTTP control API itself.

mod common;

use common::{Receiver, SECRET_FOR_CONTROL, client, get, world};
use fake_github::{FaultAction, FaultRule};
use serde_json::{Value, json};

#[tokio::test]
async fn status_fault_then_recovers() {
    let gh = world().await;
    gh.inject_fault(
        FaultRule::new(
            "/user",
            FaultAction::Status {
                status: 502,
                message: None,
            },
        )
        .method("GET")
        .times(1),
    );
    let bad = get(&gh, "/user").send().await.unwrap();
    assert_eq!(bad.status(), 502);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["message"], "Bad Gateway");
    assert!(body["documentation_url"].is_string());
    assert_eq!(get(&gh, "/user").send().await.unwrap().status(), 200);
    assert!(gh.faults().is_empty());
    // Method filter: a POST rule does not hit GETs.
    gh.inject_fault(FaultRule::new("/user", FaultAction::Drop).method("POST"));
    assert_eq!(get(&gh, "/user").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn primary_rate_limit_headers() {
    let gh = world().await;
    gh.inject_fault(
        FaultRule::new(
            "/user/repos",
            FaultAction::RateLimit {
                reset_after_secs: 60,
            },
        )
        .times(1),
    );
    let resp = get(&gh, "/user/repos?per_page=100&page=1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let h = resp.headers();
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert_eq!(h["x-ratelimit-limit"], "5000");
    let reset: u64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!(reset > 1_700_000_000);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
}

#[tokio::test]
async fn secondary_rate_limit_retry_after() {
    let gh = world().await;
    gh.inject_fault(
        FaultRule::new(
            "/repos/*/*/hooks",
            FaultAction::SecondaryRateLimit {
                retry_after_secs: 7,
                status: None,
            },
        )
        .glob()
        .times(2),
    );
    for _ in 0..2 {
        let resp = get(&gh, "/repos/alice/app/hooks").send().await.unwrap();
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], "7");
    }
    assert_eq!(
        get(&gh, "/repos/alice/app/hooks")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn dropped_connection_is_a_client_error() {
    let gh = world().await;
    gh.inject_fault(
        FaultRule::new("/repos/", FaultAction::Drop)
            .prefix()
            .times(1),
    );
    let err = get(&gh, "/repos/alice/app").send().await.unwrap_err();
    assert!(!err.is_status(), "{err}");
    // The next request (new connection) works, and the log shows the dropped one.
    assert_eq!(
        get(&gh, "/repos/alice/app").send().await.unwrap().status(),
        200
    );
    let log = gh.requests();
    assert_eq!(log[0].status, None);
    assert_eq!(log[1].status, Some(200));
}

#[tokio::test]
async fn latency_fault_still_answers() {
    let gh = world().await;
    gh.inject_fault(FaultRule::new("/user", FaultAction::Latency { millis: 20 }).times(1));
    assert_eq!(get(&gh, "/user").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn http_control_api_drives_the_fake() {
    let gh = fake_github::FakeGithub::start().await.unwrap();
    let base = gh.base_url();
    let c = client();
    let ctl = |path: &str| format!("{base}/_control{path}");
    let send = |req: reqwest::RequestBuilder, body: Value| {
        req.header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
    };

    let r = send(
        c.post(ctl("/users")),
        json!({"login": "bob", "token": "ghp_bob", "scopes": ["repo"]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    send(
        c.post(ctl("/orgs")),
        json!({"login": "acme", "members": ["bob"]}),
    )
    .await
    .unwrap();
    let r = send(
        c.post(ctl("/repos")),
        json!({"owner": "acme", "name": "Widget", "private": true, "branches": ["dev"]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);

    // The REST side sees it with bob's token.
    let repo: Value = c
        .get(format!("{base}/repos/acme/widget"))
        .bearer_auth("ghp_bob")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(repo["full_name"], "acme/Widget");

    // Hook through REST, then PR through control → delivery in the log.
    let rx = Receiver::start().await;
    c.post(format!("{base}/repos/acme/Widget/hooks"))
        .bearer_auth("ghp_bob")
        .body(json!({"name":"web","events":["*"],"config":{"url": rx.url, "content_type":"json","secret": SECRET_FOR_CONTROL}}).to_string())
        .send()
        .await
        .unwrap();
    let pr: Value = send(
        c.post(ctl("/repos/acme/Widget/pulls")),
        json!({"head": "dev", "title": "T"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(pr["value"]["number"], 1);
    assert_eq!(pr["deliveries"][0]["status"], 204);
    let merged: Value = c
        .post(ctl("/repos/acme/Widget/pulls/1/merge"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(merged["value"]["merged"], true);
    let pushed: Value = send(
        c.post(ctl("/repos/acme/Widget/push")),
        json!({"branch": "PROJ-2-x", "from": "main"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(pushed["value"]["created"], true);

    let log: Vec<Value> = c
        .get(ctl("/deliveries"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.len(), 4, "ping, opened, closed, push");
    let id = log[1]["id"].as_str().unwrap();
    let again: Value = send(
        c.post(ctl(&format!("/deliveries/{id}/redeliver"))),
        json!({"tamper": "no_signature"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(again["id"], id);
    assert_eq!(again["tamper"], "no_signature");
    assert_eq!(rx.received().len(), 5);

    // Faults over HTTP.
    send(
        c.post(ctl("/faults")),
        json!({"method": "GET", "path": "/user", "times": 1, "action": {"type": "status", "status": 500}}),
    )
    .await
    .unwrap();
    let u = c
        .get(format!("{base}/user"))
        .bearer_auth("ghp_bob")
        .send()
        .await
        .unwrap();
    assert_eq!(u.status(), 500);
    let faults: Vec<Value> = c
        .get(ctl("/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(faults.is_empty());

    // Settings and state snapshot.
    send(
        c.post(ctl("/settings")),
        json!({"reject_private_urls": true}),
    )
    .await
    .unwrap();
    let state: Value = c
        .get(ctl("/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["reject_private_urls"], true);
    assert!(gh.snapshot().reject_private_urls);
}

#[tokio::test]
async fn seed_demo_world() {
    let gh = fake_github::FakeGithub::start().await.unwrap();
    gh.seed_demo().unwrap();
    let repos: Vec<Value> = client()
        .get(format!("{}/user/repos", gh.base_url()))
        .bearer_auth("ghp_demo_token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = repos
        .iter()
        .map(|r| r["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["demo-org/paca-demo", "demo/playground"]);
}
