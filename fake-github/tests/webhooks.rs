//! Hooks and deliveries: ping, push, pull_request, redelivery, tampering.

mod common;

use common::{Receiver, TOKEN, client, create_hook, expected_signature, get, post, world};
use fake_github::{Tamper, ZERO_SHA};
use serde_json::{Value, json};

const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn hook_create_list_delete_and_signed_ping() {
    let gh = world().await;
    let rx = Receiver::start().await;
    let hook = create_hook(&gh, &rx.url, SECRET).await;
    let id = hook["id"].as_u64().unwrap();
    assert_eq!(hook["name"], "web");
    assert_eq!(hook["active"], true);
    assert_eq!(hook["events"], json!(["push", "pull_request", "check_run"]));
    assert_eq!(hook["config"]["url"], rx.url.as_str());
    assert_eq!(hook["config"]["content_type"], "json");
    assert_eq!(hook["config"]["insecure_ssl"], "0");
    assert!(
        hook["config"].get("secret").is_none(),
        "secret must not be echoed"
    );

    // The ping was sent after the create call answered; create_hook settled it.
    let got = rx.received();
    assert_eq!(got.len(), 1);
    let ping = &got[0];
    assert_eq!(ping.header("x-github-event").as_deref(), Some("ping"));
    assert_eq!(
        ping.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        ping.header("user-agent").as_deref(),
        Some("GitHub-Hookshot/fake")
    );
    assert_eq!(ping.header("x-github-hook-id"), Some(id.to_string()));
    assert_eq!(
        ping.header("x-github-hook-installation-target-type")
            .as_deref(),
        Some("repository")
    );
    let repo_id = gh.repo("alice/app").unwrap().id;
    assert_eq!(
        ping.header("x-github-hook-installation-target-id"),
        Some(repo_id.to_string())
    );
    assert_eq!(
        ping.header("x-hub-signature-256"),
        Some(expected_signature(SECRET, &ping.body))
    );
    let body = ping.json();
    assert_eq!(body["hook_id"], id);
    assert_eq!(body["hook"]["id"], id);
    assert!(body["zen"].is_string());
    assert_eq!(body["repository"]["full_name"], "alice/app");
    assert_eq!(body["sender"]["login"], "alice");

    // The log holds exactly what was sent.
    let log = gh.deliveries();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].event, "ping");
    assert_eq!(log[0].status, Some(204));
    assert_eq!(log[0].body.as_bytes(), &ping.body[..]);
    assert_eq!(
        log[0].header("X-GitHub-Delivery"),
        ping.header("x-github-delivery").as_deref()
    );

    // Duplicate URL → 422.
    let dup = post(
        &gh,
        "/repos/alice/app/hooks",
        json!({"name": "web", "events": ["push"], "config": {"url": rx.url, "content_type": "json"}}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(dup.status(), 422);
    let body: Value = dup.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["message"],
        "Hook already exists on this repository"
    );

    // List, then delete.
    let list: Vec<Value> = get(&gh, "/repos/alice/app/hooks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["last_response"]["code"], 204);
    let del_url = format!("{}/repos/alice/app/hooks/{id}", gh.base_url());
    let del = client()
        .delete(&del_url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let again = client()
        .delete(&del_url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    assert!(gh.repo("alice/app").unwrap().hooks.is_empty());
}

#[tokio::test]
async fn private_urls_are_refused_only_when_switched_on() {
    let gh = world().await;
    gh.set_reject_private_urls(true);
    let resp = post(
        &gh,
        "/repos/alice/app/hooks",
        json!({"name": "web", "events": ["push"], "config": {"url": "http://localhost:9/x", "content_type": "json"}}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    let msg = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("isn't reachable over the public internet"),
        "{msg}"
    );
    assert!(gh.deliveries().is_empty());
}

#[tokio::test]
async fn unreachable_hook_url_records_the_error() {
    let gh = world().await;
    // Bind then drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    create_hook(&gh, &format!("http://127.0.0.1:{port}/hook"), SECRET).await;
    let log = gh.deliveries();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, None);
    assert!(log[0].error.is_some());
}

#[tokio::test]
async fn branch_create_sends_push_created() {
    let gh = world().await;
    let rx = Receiver::start().await;
    create_hook(&gh, &rx.url, SECRET).await;
    let main: Value = get(&gh, "/repos/alice/app/git/ref/heads/main")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sha = main["object"]["sha"].as_str().unwrap().to_string();
    let resp = post(
        &gh,
        "/repos/alice/app/git/refs",
        json!({"ref": "refs/heads/PROJ-7-thing", "sha": sha}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["ref"], "refs/heads/PROJ-7-thing");
    assert_eq!(created["object"]["sha"], sha.as_str());

    gh.settle().await;
    let got = rx.received();
    assert_eq!(got.len(), 2, "ping + push");
    let push = &got[1];
    assert_eq!(push.header("x-github-event").as_deref(), Some("push"));
    assert_eq!(
        push.header("x-hub-signature-256"),
        Some(expected_signature(SECRET, &push.body))
    );
    let p = push.json();
    assert_eq!(p["ref"], "refs/heads/PROJ-7-thing");
    assert_eq!(p["before"], ZERO_SHA);
    assert_eq!(p["after"], sha.as_str());
    assert_eq!(p["created"], true);
    assert_eq!(p["deleted"], false);
    assert_eq!(p["forced"], false);
    assert_eq!(p["repository"]["full_name"], "alice/app");
    assert_eq!(p["sender"]["login"], "alice");

    // Control-API push of a new commit to an existing branch: created false, before = old sha.
    let out = gh.push_branch("alice/app", "PROJ-7-thing").await.unwrap();
    assert!(!out.value.created);
    assert_eq!(out.value.before, sha);
    assert_eq!(out.deliveries.len(), 1);
    assert_eq!(out.deliveries[0].json()["created"], false);
    // Deleting the branch: deleted true, after = zeros.
    let del = gh.delete_branch("alice/app", "PROJ-7-thing").await.unwrap();
    let d = del.deliveries[0].json();
    assert_eq!(d["deleted"], true);
    assert_eq!(d["after"], ZERO_SHA);
}

#[tokio::test]
async fn pr_open_edit_close_reopen_merge_deliveries() {
    let gh = world().await;
    let rx = Receiver::start().await;
    create_hook(&gh, &rx.url, SECRET).await;

    let opened = gh
        .open_pr("alice/app", "feature", "main", "Add feature")
        .await
        .unwrap();
    assert_eq!(opened.value.number, 1);
    assert_eq!(opened.deliveries.len(), 1);
    let o = rx.received().last().unwrap().json();
    assert_eq!(o["action"], "opened");
    assert_eq!(o["number"], 1);
    let pr = &o["pull_request"];
    assert_eq!(pr["id"], opened.value.id);
    assert_eq!(pr["number"], 1);
    assert_eq!(pr["title"], "Add feature");
    assert_eq!(pr["state"], "open");
    assert_eq!(pr["merged"], false);
    assert_eq!(pr["merged_at"], Value::Null);
    assert_eq!(pr["head"]["ref"], "feature");
    assert_eq!(
        pr["head"]["sha"],
        gh.repo("alice/app").unwrap().branches["feature"].as_str()
    );
    assert_eq!(pr["base"]["ref"], "main");
    assert_eq!(pr["user"]["login"], "alice");
    assert!(
        pr["html_url"]
            .as_str()
            .unwrap()
            .ends_with("/alice/app/pull/1")
    );
    assert!(pr["updated_at"].is_string());
    assert_eq!(o["repository"]["id"], gh.repo("alice/app").unwrap().id);
    assert_eq!(o["repository"]["owner"]["login"], "alice");
    assert_eq!(o["repository"]["default_branch"], "main");
    assert_eq!(o["sender"]["login"], "alice");

    let edited = gh
        .edit_pr_title("alice/app", 1, "Better title")
        .await
        .unwrap();
    let e = edited.deliveries[0].json();
    assert_eq!(e["action"], "edited");
    assert_eq!(e["pull_request"]["title"], "Better title");
    assert_eq!(e["changes"]["title"]["from"], "Add feature");

    let closed = gh.close_pr("alice/app", 1).await.unwrap();
    let c = closed.deliveries[0].json();
    assert_eq!(c["action"], "closed");
    assert_eq!(c["pull_request"]["state"], "closed");
    assert_eq!(c["pull_request"]["merged"], false);

    let reopened = gh.reopen_pr("alice/app", 1).await.unwrap();
    assert_eq!(reopened.deliveries[0].json()["action"], "reopened");
    assert_eq!(reopened.value.state, fake_github::PrState::Open);

    let merged = gh.merge_pr("alice/app", 1).await.unwrap();
    let m = merged.deliveries[0].json();
    assert_eq!(m["action"], "closed");
    assert_eq!(m["pull_request"]["state"], "closed");
    assert_eq!(m["pull_request"]["merged"], true);
    assert!(m["pull_request"]["merged_at"].is_string());
    assert!(merged.value.merged && merged.value.merged_at.is_some());

    // Every delivery reached the receiver, signed, and is in the log in order.
    let got = rx.received();
    let events: Vec<String> = got
        .iter()
        .map(|r| {
            let j = r.json();
            format!(
                "{}:{}",
                r.header("x-github-event").unwrap(),
                j["action"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            "ping:-",
            "pull_request:opened",
            "pull_request:edited",
            "pull_request:closed",
            "pull_request:reopened",
            "pull_request:closed"
        ]
    );
    for r in &got {
        assert_eq!(
            r.header("x-hub-signature-256"),
            Some(expected_signature(SECRET, &r.body))
        );
    }
    assert_eq!(gh.deliveries().len(), 6);

    // The REST view agrees.
    let v: Value = get(&gh, "/repos/alice/app/pulls/1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["merged"], true);
    assert_eq!(v["state"], "closed");
    // A merged PR cannot be merged again.
    assert!(gh.merge_pr("alice/app", 1).await.is_err());
}

#[tokio::test]
async fn hooks_only_get_subscribed_events() {
    let gh = world().await;
    let rx = Receiver::start().await;
    post(
        &gh,
        "/repos/alice/app/hooks",
        json!({"name": "web", "events": ["pull_request"], "config": {"url": rx.url, "content_type": "json"}}),
    )
    .send()
    .await
    .unwrap();
    gh.push_branch("alice/app", "other").await.unwrap();
    gh.open_pr("alice/app", "other", "main", "x").await.unwrap();
    let events: Vec<String> = rx
        .received()
        .iter()
        .map(|r| r.header("x-github-event").unwrap())
        .collect();
    assert_eq!(events, ["ping", "pull_request"]);
    // No secret configured → no signature header.
    assert!(rx.received()[1].header("x-hub-signature-256").is_none());
}

#[tokio::test]
async fn redelivery_keeps_id_and_body_and_tampering_breaks_signature() {
    let gh = world().await;
    let rx = Receiver::start().await;
    create_hook(&gh, &rx.url, SECRET).await;
    let opened = gh
        .open_pr("alice/app", "feature", "main", "X")
        .await
        .unwrap();
    let first = &opened.deliveries[0];

    let again = gh.redeliver(&first.id, Tamper::None).await.unwrap();
    assert!(again.redelivery);
    assert_eq!(again.id, first.id);
    assert_eq!(again.body, first.body);
    let got = rx.received();
    let (a, b) = (&got[1], &got[2]);
    assert_eq!(a.header("x-github-delivery"), b.header("x-github-delivery"));
    assert_eq!(a.body, b.body);
    assert_eq!(
        b.header("x-hub-signature-256"),
        Some(expected_signature(SECRET, &b.body))
    );

    let wrong = gh
        .redeliver(&first.id, Tamper::WrongSignature)
        .await
        .unwrap();
    assert_ne!(
        wrong.header("X-Hub-Signature-256").map(str::to_string),
        Some(expected_signature(SECRET, wrong.body.as_bytes()))
    );
    let none = gh.redeliver(&first.id, Tamper::NoSignature).await.unwrap();
    assert!(none.header("X-Hub-Signature-256").is_none());
    let modified = gh.redeliver(&first.id, Tamper::ModifiedBody).await.unwrap();
    assert_ne!(modified.body, first.body);
    assert_eq!(
        modified.header("X-Hub-Signature-256"),
        first.header("X-Hub-Signature-256")
    );
    let rx_last = rx.received().last().unwrap().clone();
    assert_ne!(
        rx_last.header("x-hub-signature-256"),
        Some(expected_signature(SECRET, &rx_last.body))
    );

    // tamper_next applies to the next N fresh deliveries only.
    gh.tamper_next(Tamper::NoSignature, 1);
    let c1 = gh.close_pr("alice/app", 1).await.unwrap();
    assert!(c1.deliveries[0].header("X-Hub-Signature-256").is_none());
    let c2 = gh.reopen_pr("alice/app", 1).await.unwrap();
    assert!(c2.deliveries[0].header("X-Hub-Signature-256").is_some());
}

#[tokio::test]
async fn rest_pull_create_and_merge_send_deliveries() {
    let gh = world().await;
    let rx = Receiver::start().await;
    create_hook(&gh, &rx.url, SECRET).await;
    let resp = post(
        &gh,
        "/repos/alice/app/pulls",
        json!({"title": "Via API", "head": "feature", "base": "main", "body": "b"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 201);
    let pr: Value = resp.json().await.unwrap();
    assert_eq!(pr["number"], 1);
    let dup = post(
        &gh,
        "/repos/alice/app/pulls",
        json!({"title": "Again", "head": "feature", "base": "main"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(dup.status(), 422);
    let merge = client()
        .put(format!("{}/repos/alice/app/pulls/1/merge", gh.base_url()))
        .bearer_auth(TOKEN)
        .body(r#"{"merge_method":"squash"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(merge.status(), 200);
    let m: Value = merge.json().await.unwrap();
    assert_eq!(m["merged"], true);
    gh.settle().await;
    let actions: Vec<String> = gh
        .deliveries_of("pull_request")
        .iter()
        .map(|d| d.action.clone().unwrap())
        .collect();
    assert_eq!(actions, ["opened", "closed"]);
    assert_eq!(rx.received().len(), 3);
}
