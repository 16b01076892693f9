//! The host never frees what it writes into the guest (payloads, DB results, fetch answers);
//! the plugin's allocator must release all of it on `ResetAllocator`. Through the real
//! `github.wasm`, a thousand mixed requests after a warm-up must not grow linear memory.

mod support;

use fake_github::Tamper;
use support::*;

#[tokio::test]
async fn linear_memory_stays_flat_across_a_thousand_requests() {
    let w = World::start().await;
    let repo = w.connected_with_repo().await;
    let ping =
        w.gh.deliveries_of("ping")
            .last()
            .expect("ping delivered")
            .id
            .clone();
    let (p, t) = (w.p.id, w.p.task1);

    // One round: DB reads with results, a signed webhook (secret decrypted, HMAC checked), a
    // rejected webhook, a routing miss and a validation error: 6 guest calls.
    let round = || async {
        let integration = ok(w.admin.get_integration(&p).await);
        assert!(integration.data.connected);
        let repos = ok(w.admin.list_linked_repositories(&p).await);
        assert_eq!(repos.data[0].id, repo.id);
        assert!(
            ok(w.member.list_task_pull_requests(&p, &t).await)
                .data
                .is_empty()
        );
        let again =
            w.gh.redeliver(&ping, Tamper::None)
                .await
                .expect("redeliver");
        assert_eq!(again.status, Some(200), "the signed ping is accepted");
        let (status, _) = w.post_webhook(p, &[], "{}").await;
        assert_eq!(status, 400, "no X-GitHub-Event header");
        let (status, _) = w
            .raw(
                "GET",
                &format!("projects/{p}/nothing-here"),
                Some("dev-admin"),
                None,
            )
            .await;
        assert_eq!(status, 404);
    };

    for _ in 0..30 {
        round().await;
    }
    let plugin = w.host.plugin();
    let warmed = plugin.memory_size().expect("memory is exported");
    for _ in 0..170 {
        round().await;
    }
    let after = plugin.memory_size().expect("memory is exported");
    assert_eq!(
        after, warmed,
        "linear memory grew from {warmed} to {after} bytes over 1020 calls"
    );
}
