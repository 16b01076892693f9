//! End-to-end under replicas: two devhosts (two wasm instances) on ONE database, racing the
//! same links, deliveries, branch creations and token deletions. Every assertion is about the
//! end state (hooks on GitHub, rows, events), so it holds whatever the interleaving was.
//! Hostile but correctly signed deliveries are here too (they crashed the handler before).

mod support;
use fake_github::{FaultAction, FaultRule, RepoSeed, Tamper};
use paca_github_client::types::ErrorCode;
use serde_json::{Value, json};
use support::*;
use uuid::Uuid;

/// (status, error_code) of a failed client call, `None` on success.
fn failure<T: std::fmt::Debug>(
    r: &Result<paca_github_client::ResponseValue<T>, paca_github_client::ApiError>,
) -> Option<(u16, Option<ErrorCode>)> {
    match r {
        Ok(_) => None,
        Err(e) => match paca_github_client::dev::envelope(e) {
            Some((s, c, _)) => Some((s, Some(c))),
            None => Some((paca_github_client::dev::status(e).unwrap_or(0), None)),
        },
    }
}

/// Linked rows of `project` as (id, github_repo_id, webhook_id).
async fn rows(w: &World, project: Uuid) -> Vec<(Uuid, Option<i64>, i64)> {
    let rows: Vec<(String, Option<i64>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id::text, github_repo_id, webhook_id FROM {SCHEMA}.github_repositories \
         WHERE project_id = $1::uuid ORDER BY created_at"
    )))
    .bind(project.to_string())
    .fetch_all(w.host.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, g, h)| (id.parse().unwrap(), g, h))
        .collect()
}

/// Every row's webhook is on GitHub and every hook with our URL belongs to a row.
async fn assert_one_hook_per_row(w: &World, full_name: &str) -> usize {
    let rows = rows(w, w.p.id).await;
    let mut hook_ids: Vec<i64> = w.hooks(full_name).iter().map(|h| h.id as i64).collect();
    hook_ids.sort();
    let mut row_hooks: Vec<i64> = rows.iter().map(|r| r.2).collect();
    row_hooks.sort();
    assert_eq!(hook_ids, row_hooks, "hooks on GitHub vs rows {rows:?}");
    rows.len()
}

/// Headers and body of a recorded delivery, correctly signed (whatever was sent).
fn signed(d: &fake_github::Delivery) -> (Vec<(String, String)>, String) {
    let mut headers: Vec<(String, String)> = d
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("X-Hub-Signature-256"))
        .cloned()
        .collect();
    headers.push((
        "X-Hub-Signature-256".into(),
        d.signature.clone().expect("the hook has a secret"),
    ));
    (headers, d.payload.clone())
}

#[tokio::test]
async fn racing_links_of_one_repository_leave_exactly_one_hook() {
    let w = World::start().await;
    let b = w.replica().await;
    w.connect(w.p.id).await;
    let pid = w.p.id;
    let rounds = 5;
    let mut conflicts = 0;
    for round in 0..rounds {
        let body = link_body(GH_USER, "app");
        let (ra, rb) = tokio::join!(
            w.admin.link_repository(&pid, &body),
            b.admin.link_repository(&pid, &body)
        );
        let outcomes = [failure(&ra), failure(&rb)];
        let won = outcomes.iter().filter(|o| o.is_none()).count();
        assert_eq!(won, 1, "round {round}: {outcomes:?}");
        for o in outcomes.iter().flatten() {
            assert_eq!(
                *o,
                (409, Some(ErrorCode::GithubRepoAlreadyLinked)),
                "round {round}"
            );
            conflicts += 1;
        }
        w.gh.settle().await;
        assert_eq!(assert_one_hook_per_row(&w, REPO).await, 1, "round {round}");
        let linked = ok(w.admin.list_linked_repositories(&pid).await).data;
        assert!(linked[0].webhook_active);
        // the surviving hook works: its ping was verified with the row's secret
        let hook = w.hooks(REPO)[0].clone();
        let ping =
            w.gh.deliveries_of("ping")
                .into_iter()
                .rfind(|d| d.hook_id == hook.id)
                .expect("ping");
        assert_eq!(ping.status, Some(200), "{}", ping.response_body);
        // unlink through the other replica each round
        let unlinker = if round % 2 == 0 { &b.admin } else { &w.admin };
        let removed = ok(unlinker.unlink_repository(&pid, &linked[0].id).await).data;
        assert!(removed.webhook_deleted);
        assert_eq!(assert_one_hook_per_row(&w, REPO).await, 0);
    }
    println!("racing links: {rounds} rounds, {conflicts} conflicts, 1 hook per round");
}

#[tokio::test]
async fn racing_link_unlink_link_keeps_hooks_and_rows_in_step() {
    let w = World::start().await;
    let b = w.replica().await;
    w.connect(w.p.id).await;
    let pid = w.p.id;
    let body = link_body(GH_USER, "app");
    let first = ok(w.admin.link_repository(&pid, &body).await).data;
    let mut current = Some(first.id);
    let rounds = 6;
    let mut errors = Vec::new();
    for round in 0..rounds {
        // unlink on one replica while both link again
        let unlink = async {
            match current {
                Some(id) => Some(if round % 2 == 0 {
                    b.admin.unlink_repository(&pid, &id).await
                } else {
                    w.admin.unlink_repository(&pid, &id).await
                }),
                None => None,
            }
        };
        let (u, la, lb) = tokio::join!(
            unlink,
            w.admin.link_repository(&pid, &body),
            b.admin.link_repository(&pid, &body)
        );
        if let Some(u) = &u
            && let Some(f) = failure(u)
        {
            // the row may already be gone (unlinked by a concurrent call): 404, never 5xx
            assert_eq!(f, (404, Some(ErrorCode::GithubRepositoryNotFound)));
        }
        for r in [&la, &lb] {
            if let Some(f) = failure(r) {
                assert_eq!(f, (409, Some(ErrorCode::GithubRepoAlreadyLinked)), "{r:?}");
                errors.push(f);
            }
        }
        w.gh.settle().await;
        let n = assert_one_hook_per_row(&w, REPO).await;
        assert!(n <= 1, "round {round}: {n} rows");
        current = rows(&w, pid).await.first().map(|r| r.0);
        // a row that exists has a live hook
        for r in rows(&w, pid).await {
            assert!(r.2 > 0, "round {round}: row without hook {r:?}");
        }
    }
    println!(
        "link/unlink/link: {rounds} rounds, {} conflicts, hooks == rows every round",
        errors.len()
    );
}

#[tokio::test]
async fn same_deliveries_to_both_replicas_concurrently_and_out_of_order() {
    let w = World::start().await;
    let b = w.replica().await;
    w.connected_with_repo().await;
    let pid = w.p.id;
    w.gh.add_branch(REPO, "feat/PROJ-1-x", None).unwrap();
    // the deliveries reach GitHub's log but nobody processes them (unsigned first attempt)
    w.gh.tamper_next(Tamper::NoSignature, 100);
    let pr =
        w.gh.open_pr(REPO, "feat/PROJ-1-x", "main", "PROJ-2: both tasks")
            .await
            .unwrap()
            .value;
    w.gh.edit_pr_title(REPO, pr.number, "PROJ-2: renamed")
        .await
        .unwrap();
    w.gh.merge_pr(REPO, pr.number).await.unwrap();
    w.gh.push_branch(REPO, "feat/PROJ-1-push").await.unwrap();
    w.gh.tamper_next(Tamper::None, 0);
    let deliveries: Vec<_> =
        w.gh.deliveries()
            .into_iter()
            .filter(|d| d.event == "pull_request" || d.event == "push")
            .collect();
    assert!(deliveries.len() >= 4, "{deliveries:?}");
    assert!(deliveries.iter().all(|d| d.status == Some(401)));

    // newest first, each to both replicas, twice, all at once
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..2 {
        for d in deliveries.iter().rev() {
            for host in [&w.host, &b.host] {
                let (headers, body) = signed(d);
                let http = w.http.clone();
                let id = d.id.clone();
                let url = host.plugin_url(&format!("projects/{pid}/webhook"));
                calls.spawn(async move {
                    let r = post_webhook_url(&http, &url, &headers, &body).await;
                    (id, r)
                });
            }
        }
    }
    let results = calls.join_all().await;
    let mut duplicates = 0;
    for d in &deliveries {
        let mine: Vec<&(u16, Value)> = results
            .iter()
            .filter(|(id, _)| id == &d.id)
            .map(|(_, r)| r)
            .collect();
        assert!(mine.iter().all(|(s, _)| *s == 200), "{mine:?}");
        // a delivery with nothing to do (a push of an existing branch, a state older than the
        // cache) is ignored by every copy
        if mine.iter().all(|(_, b)| b["data"]["outcome"] == "ignored") {
            continue;
        }
        // exactly one copy applies it: the others are duplicates (a PR's recorded state) or
        // ignored (a push whose links another copy made)
        let applied = mine
            .iter()
            .filter(|(_, b)| b["data"]["outcome"] == "processed")
            .count();
        assert_eq!(applied, 1, "{} {:?}: {mine:?}", d.event, d.action);
        duplicates += mine.len() - applied;
    }
    // the PR cache holds the newest state, whatever order the deliveries were applied in
    let prs = w.prs(pid, w.p.task1).await;
    assert_eq!(prs.len(), 1);
    assert_eq!(prs[0].state.to_string(), "merged");
    assert_eq!(prs[0].title, "PROJ-2: renamed");
    assert_eq!(w.prs(pid, w.p.task2).await.len(), 1);
    // exactly-once links and events across both replicas
    let events: Vec<_> = w
        .host
        .emitted_events()
        .into_iter()
        .chain(b.host.emitted_events())
        .collect();
    let count = |topic: &str, task: Uuid| {
        events
            .iter()
            .filter(|e| e.topic == topic && e.payload["task_id"] == json!(task.to_string()))
            .count()
    };
    assert_eq!(count("github.pr_linked", w.p.task1), 1, "{events:?}");
    assert_eq!(count("github.pr_linked", w.p.task2), 1, "{events:?}");
    assert_eq!(count("github.branch_linked", w.p.task1), 1, "{events:?}");
    assert_eq!(w.count("github_task_pr_links").await, 2);
    println!(
        "deliveries: {} distinct, {} sent, {duplicates} duplicates, {} events",
        deliveries.len(),
        results.len(),
        events.len()
    );
}

#[tokio::test]
async fn a_stuck_claim_does_not_swallow_the_redelivery() {
    let w = World::start().await;
    let repo = w.connected_with_repo().await;
    let pid = w.p.id;
    w.gh.add_branch(REPO, "feat/PROJ-1-x", None).unwrap();
    w.gh.tamper_next(Tamper::NoSignature, 1);
    w.gh.open_pr(REPO, "feat/PROJ-1-x", "main", "x")
        .await
        .unwrap();
    let d = w.gh.deliveries_of("pull_request")[0].clone();
    // the first attempt claimed the delivery, then ran out of its 5 s budget before it could
    // finish or release the claim (a lock held by a migration, a trap): that is the row it left
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {SCHEMA}.github_webhook_deliveries (delivery_id, repo_id, event, received_at) \
         VALUES ($1, $2::uuid, 'pull_request', NOW() - INTERVAL '10 minutes')"
    )))
    .bind(&d.id)
    .bind(repo.id.to_string())
    .execute(w.host.pool())
    .await
    .unwrap();
    let (headers, body) = signed(&d);
    let (status, out) = post_webhook_to(&w.http, &w.host, pid, &headers, &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["data"]["outcome"], "processed", "{out}");
    assert_eq!(w.prs(pid, w.p.task1).await.len(), 1);
    // now it is done: the next redelivery is a duplicate
    let (_, again) = post_webhook_to(&w.http, &w.host, pid, &headers, &body).await;
    assert_eq!(again["data"]["outcome"], "duplicate", "{again}");
    assert_eq!(
        w.topics()
            .iter()
            .filter(|t| *t == "github.pr_linked")
            .count(),
        1
    );
}

#[tokio::test]
async fn branch_create_racing_a_push_webhook_answers_success() {
    let w = World::start().await;
    let b = w.replica().await;
    let repo = w.connected_with_repo().await;
    let (pid, t1) = (w.p.id, w.p.task1);
    // a push delivered to another replica linked the branch right after GitHub created it,
    // before this replica stored its own link
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {SCHEMA}.github_task_branches (task_id, repo_id, branch_name) VALUES ($1::uuid, $2::uuid, $3)"
    )))
    .bind(t1.to_string())
    .bind(repo.id.to_string())
    .bind("feat/PROJ-1-first")
    .execute(w.host.pool())
    .await
    .unwrap();
    let made = ok(b
        .admin
        .create_branch(&pid, &t1, &branch_body(repo.id, "feat/PROJ-1-first", None))
        .await)
    .data;
    assert_eq!(made.branch_name, "feat/PROJ-1-first");
    assert!(
        w.gh.repo(REPO)
            .unwrap()
            .branches
            .contains_key("feat/PROJ-1-first")
    );

    // the real race: replica B creates, GitHub's push goes to replica A
    let rounds = 4;
    for i in 0..rounds {
        let name = format!("feat/PROJ-1-race-{i}");
        let made = b
            .admin
            .create_branch(&pid, &t1, &branch_body(repo.id, &name, None))
            .await;
        assert!(failure(&made).is_none(), "{made:?}");
        w.gh.settle().await;
    }
    let branches = w.branches(pid, t1).await;
    assert_eq!(branches.len(), rounds + 1, "{branches:?}");
    let events: Vec<_> = w
        .host
        .emitted_events()
        .into_iter()
        .chain(b.host.emitted_events())
        .filter(|e| e.topic == "github.branch_linked")
        .collect();
    // one event per link whoever stored it (the pre-linked branch had none)
    assert_eq!(events.len(), rounds, "{events:?}");
    println!(
        "branch create vs push: {rounds} races, {} events",
        events.len()
    );
}

#[tokio::test]
async fn token_deletion_with_many_repositories_finishes_and_reports_what_is_left() {
    let w = World::start().await;
    let b = w.replica().await;
    w.connect(w.p.id).await;
    let pid = w.p.id;
    let n = 40;
    for i in 0..n {
        w.gh.add_repo(RepoSeed::new(GH_USER, &format!("r{i}")))
            .unwrap();
        w.link(pid, &format!("{GH_USER}/r{i}")).await;
    }
    // GitHub takes 150 ms per hook deletion: 40 of them do not fit in one 5 s call
    w.gh.inject_fault(
        FaultRule::new(
            "/repos/alice/*/hooks/*",
            FaultAction::Latency { millis: 150 },
        )
        .method("DELETE")
        .glob(),
    );
    w.gh.tamper_next(Tamper::NoSignature, 1);
    w.gh.push_branch(&format!("{GH_USER}/r0"), "feat/PROJ-1-during")
        .await
        .unwrap();
    let push = w.gh.deliveries_of("push")[0].clone();
    let (headers, body) = signed(&push);
    let (gone, during) = tokio::join!(
        w.admin.delete_token(&pid),
        post_webhook_to(&w.http, &b.host, pid, &headers, &body)
    );
    // a delivery racing the deletion is either applied or refuses the unknown repository
    assert!(during.0 == 200 || during.0 == 404, "{during:?}");
    let gone = ok(gone).data;
    assert!(gone.removed);
    let left: usize = w.gh.snapshot().repos.values().map(|r| r.hooks.len()).sum();
    assert_eq!(
        gone.webhooks_deleted as usize + gone.webhook_failures.len(),
        n
    );
    assert_eq!(
        left,
        gone.webhook_failures.len(),
        "{:?}",
        gone.webhook_failures
    );
    assert_eq!(w.count("github_repositories").await, 0);
    assert_eq!(w.count("github_integrations").await, 0);
    // a retry finds nothing to do and answers at once
    let again = ok(b.admin.delete_token(&pid).await).data;
    assert!(!again.removed);
    println!(
        "token deletion: {n} repositories, {} hooks deleted, {} left and reported",
        gone.webhooks_deleted,
        gone.webhook_failures.len()
    );
}

/// The hook secret of `full_name` in the fake, to sign hand-made deliveries.
fn hook_secret(w: &World, full_name: &str) -> String {
    w.hooks(full_name)[0].secret.clone().expect("secret")
}

async fn post_signed(
    w: &World,
    secret: &str,
    event: &str,
    delivery: &str,
    body: &Value,
) -> (u16, Value) {
    let body = body.to_string();
    let sig = fake_github::sign(secret.as_bytes(), body.as_bytes());
    w.post_webhook(
        w.p.id,
        &[
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", delivery),
            ("X-Hub-Signature-256", &sig),
        ],
        &body,
    )
    .await
}

fn pr_delivery(number: i64, title: &str) -> Value {
    json!({
        "action": "opened",
        "number": number,
        "repository": {"id": 1, "full_name": REPO, "name": "app", "owner": {"login": GH_USER}},
        "pull_request": {
            "id": 77_000 + number.rem_euclid(1000), "number": number, "title": title, "state": "open",
            "merged": false, "merged_at": null, "html_url": "https://github.com/alice/app/pull/1",
            "head": {"ref": "feat/PROJ-1-h", "sha": "1111111111111111111111111111111111111111"},
            "base": {"ref": "main", "sha": "2222222222222222222222222222222222222222"},
            "user": {"login": "mallory", "id": 9}, "updated_at": "2026-01-01T00:00:00Z"
        }
    })
}

#[tokio::test]
async fn hostile_signed_deliveries_are_sanitised_or_refused_never_500() {
    let w = World::start().await;
    w.connected_with_repo().await;
    let repo_id = w.gh.repo(REPO).unwrap().id as i64;
    let secret = hook_secret(&w, REPO);
    let with_id = |mut v: Value| {
        v["repository"]["id"] = json!(repo_id);
        v
    };
    // NUL in the title: stored without it
    let (s, out) = post_signed(
        &w,
        &secret,
        "pull_request",
        "nul-1",
        &with_id(pr_delivery(3, "PROJ-1 evil\u{0}title")),
    )
    .await;
    assert_eq!(s, 200, "{out}");
    let prs = w.prs(w.p.id, w.p.task1).await;
    assert_eq!(prs.len(), 1);
    assert!(!prs[0].title.contains('\0'));
    assert!(prs[0].title.starts_with("PROJ-1 evil"));
    // PR numbers PostgreSQL's INT cannot hold, or that GitHub never uses: 400, nothing stored
    let before = w.count("github_pull_requests").await;
    for (i, number) in [2_147_483_648_i64, -5, 0].into_iter().enumerate() {
        let (s, out) = post_signed(
            &w,
            &secret,
            "pull_request",
            &format!("num-{i}"),
            &with_id(pr_delivery(number, "PROJ-1")),
        )
        .await;
        assert_eq!(s, 400, "{number}: {out}");
        assert_eq!(out["error_code"], "BAD_REQUEST");
    }
    assert_eq!(w.count("github_pull_requests").await, before);
    // an over-long delivery id still de-duplicates
    let long = "d".repeat(300);
    let body = with_id(pr_delivery(4, "PROJ-1 long id"));
    let (s1, o1) = post_signed(&w, &secret, "pull_request", &long, &body).await;
    let (s2, o2) = post_signed(&w, &secret, "pull_request", &long, &body).await;
    assert_eq!((s1, s2), (200, 200), "{o1} {o2}");
    assert_eq!(o1["data"]["outcome"], "processed", "{o1}");
    assert_eq!(o2["data"]["outcome"], "duplicate", "{o2}");
}

#[tokio::test]
async fn unsigned_deliveries_cannot_probe_which_repositories_are_linked() {
    let w = World::start().await;
    w.connected_with_repo().await;
    w.gh.add_repo(RepoSeed::new(GH_USER, "secret-plans").private())
        .unwrap();
    let probe = |full_name: &str| {
        json!({"zen": "x", "repository": {"id": 424242, "full_name": full_name}}).to_string()
    };
    let wrong = "sha256=".to_string() + &"0".repeat(64);
    let mut answers = Vec::new();
    for name in [REPO, "alice/secret-plans", "nobody/nothing"] {
        let (s, body) = w
            .post_webhook(
                w.p.id,
                &[("X-GitHub-Event", "ping"), ("X-Hub-Signature-256", &wrong)],
                &probe(name),
            )
            .await;
        assert!(!body.to_string().contains(name), "{body}");
        answers.push((s, body));
    }
    // linked, not linked, nonexistent: the same answer
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], answers[2]);
    // a project that does not exist costs one lookup and gets a 404
    let (s, _) = w
        .post_webhook(
            Uuid::from_u128(0x0bad_cafe_0000_4000_8000_0000_0000_0001),
            &[("X-GitHub-Event", "ping"), ("X-Hub-Signature-256", &wrong)],
            &probe(REPO),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(answers[0].0, 404);
}
