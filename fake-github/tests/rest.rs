//! REST surface: auth, pagination and Link headers, lookups, refs.

mod common;

use common::{TOKEN, client, get, post, world};
use fake_github::{FakeGithub, RepoSeed};
use serde_json::{Value, json};

fn links(resp: &reqwest::Response) -> Vec<(String, String)> {
    let Some(h) = resp.headers().get("link") else {
        return Vec::new();
    };
    h.to_str()
        .unwrap()
        .split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; ").unwrap();
            let url = url
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string();
            let rel = rel
                .strip_prefix("rel=\"")
                .unwrap()
                .trim_end_matches('"')
                .to_string();
            (rel, url)
        })
        .collect()
}

#[tokio::test]
async fn auth_failures_are_401_bad_credentials() {
    let gh = world().await;
    let url = format!("{}/user", gh.base_url());
    let none = client().get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = client().get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["message"], "Bad credentials");
    assert!(body["documentation_url"].is_string());
    let basic = client()
        .get(&url)
        .header("Authorization", format!("Basic {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);

    // Both schemes are accepted.
    let token = client()
        .get(&url)
        .header("Authorization", format!("token {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let me: Value = get(&gh, "/user")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["login"], "alice");

    // A revoked token stops working.
    gh.revoke_token(TOKEN);
    assert_eq!(get(&gh, "/user").send().await.unwrap().status(), 401);
    // Every REST route requires auth.
    let repo = client()
        .get(format!("{}/repos/alice/app", gh.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(repo.status(), 401);
}

#[tokio::test]
async fn user_repos_pagination_and_link_header() {
    let gh = FakeGithub::start().await.unwrap();
    gh.seed_user("alice", TOKEN);
    for i in 0..5 {
        gh.add_repo(RepoSeed::new("alice", &format!("r{i}")))
            .unwrap();
    }
    let base = gh.base_url();
    let q = "visibility=all&affiliation=owner,collaborator,organization_member&per_page=2";

    let p1 = get(&gh, &format!("/user/repos?{q}")).send().await.unwrap();
    assert_eq!(
        links(&p1),
        vec![
            ("next".to_string(), format!("{base}/user/repos?{q}&page=2")),
            ("last".to_string(), format!("{base}/user/repos?{q}&page=3")),
        ]
    );
    let names: Vec<String> = p1
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["alice/r0", "alice/r1"]);

    let p2 = get(&gh, &format!("/user/repos?{q}&page=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        links(&p2),
        vec![
            ("prev".to_string(), format!("{base}/user/repos?{q}&page=1")),
            ("next".to_string(), format!("{base}/user/repos?{q}&page=3")),
            ("last".to_string(), format!("{base}/user/repos?{q}&page=3")),
            ("first".to_string(), format!("{base}/user/repos?{q}&page=1")),
        ]
    );
    // The raw header is formatted exactly like GitHub's.
    let raw = p2.headers()["link"].to_str().unwrap().to_string();
    assert!(raw.starts_with(&format!("<{base}/user/repos?{q}&page=1>; rel=\"prev\", <")));

    // `page` is replaced in place when it comes first.
    let p3 = get(&gh, "/user/repos?page=3&per_page=2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        links(&p3),
        vec![
            (
                "prev".to_string(),
                format!("{base}/user/repos?page=2&per_page=2")
            ),
            (
                "first".to_string(),
                format!("{base}/user/repos?page=1&per_page=2")
            ),
        ]
    );
    assert_eq!(p3.json::<Vec<Value>>().await.unwrap().len(), 1);

    // One page: no Link header; default per_page is 30, max 100.
    let all = get(&gh, "/user/repos").send().await.unwrap();
    assert!(all.headers().get("link").is_none());
    assert_eq!(all.json::<Vec<Value>>().await.unwrap().len(), 5);
}

#[tokio::test]
async fn per_page_defaults_to_30_and_caps_at_100() {
    let gh = FakeGithub::start().await.unwrap();
    gh.seed_user("alice", TOKEN);
    for i in 0..101 {
        gh.add_repo(RepoSeed::new("alice", &format!("r{i:03}")))
            .unwrap();
    }
    let d = get(&gh, "/user/repos").send().await.unwrap();
    let last = links(&d).into_iter().find(|(r, _)| r == "last").unwrap().1;
    assert!(last.ends_with("/user/repos?page=4"), "{last}");
    assert_eq!(d.json::<Vec<Value>>().await.unwrap().len(), 30);
    let big = get(&gh, "/user/repos?per_page=500").send().await.unwrap();
    assert_eq!(big.json::<Vec<Value>>().await.unwrap().len(), 100);
}

#[tokio::test]
async fn orgs_and_affiliation_and_visibility() {
    let gh = FakeGithub::start().await.unwrap();
    gh.seed_user("alice", TOKEN);
    gh.seed_user("bob", "ghp_bob");
    gh.add_org("acme", &["alice"]);
    gh.add_org("other", &["bob"]);
    gh.add_repo(RepoSeed::new("acme", "secret").private())
        .unwrap();
    gh.add_repo(RepoSeed::new("acme", "open")).unwrap();
    gh.add_repo(
        RepoSeed::new("bob", "shared")
            .private()
            .collaborators(&["alice"]),
    )
    .unwrap();
    gh.add_repo(RepoSeed::new("bob", "hidden").private())
        .unwrap();
    gh.add_repo(RepoSeed::new("other", "x").private()).unwrap();

    let names = |v: Vec<Value>| -> Vec<String> {
        v.iter()
            .map(|r| r["full_name"].as_str().unwrap().to_string())
            .collect()
    };
    let all: Vec<Value> = get(&gh, "/user/repos")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(all), ["acme/open", "acme/secret", "bob/shared"]);
    let owner: Vec<Value> = get(&gh, "/user/repos?affiliation=owner")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(owner.is_empty());
    let private: Vec<Value> = get(
        &gh,
        "/user/repos?visibility=private&affiliation=collaborator",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(names(private), ["bob/shared"]);

    let orgs: Vec<Value> = get(&gh, "/user/orgs?per_page=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["login"], "acme");

    let acme: Vec<Value> = get(&gh, "/orgs/ACME/repos?type=all&per_page=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(acme.len(), 2);
    // Not a member: only public repos of `other` (none).
    let other: Vec<Value> = get(&gh, "/orgs/other/repos")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(other.is_empty());
    assert_eq!(
        get(&gh, "/orgs/nope/repos").send().await.unwrap().status(),
        404
    );

    // A private repo the token cannot see is 404, like GitHub.
    assert_eq!(
        get(&gh, "/repos/bob/hidden").send().await.unwrap().status(),
        404
    );
    // A classic token without `repo` cannot see private repos.
    gh.add_token("ghp_public_only", "alice", Some(&["public_repo"]));
    let r = client()
        .get(format!("{}/repos/acme/secret", gh.base_url()))
        .bearer_auth("ghp_public_only")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn repo_lookup_is_case_insensitive_and_canonical() {
    let gh = world().await;
    let resp = get(&gh, "/repos/ALICE/App").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["full_name"], "alice/app");
    assert_eq!(r["name"], "app");
    assert_eq!(r["owner"]["login"], "alice");
    assert_eq!(r["default_branch"], "main");
    assert_eq!(r["private"], false);
    assert!(r["id"].is_u64());
    assert_eq!(r["permissions"]["admin"], true);

    let missing = get(&gh, "/repos/alice/nope").send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["message"], "Not Found");
}

#[tokio::test]
async fn refs_with_slashes_are_percent_decoded() {
    let gh = world().await;
    let sha = gh
        .add_branch("alice/app", "feat/PROJ-1 x", Some("main"))
        .unwrap();
    let resp = get(&gh, "/repos/alice/app/git/ref/heads/feat%2FPROJ-1%20x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["ref"], "refs/heads/feat/PROJ-1 x");
    assert_eq!(v["object"]["sha"], sha.as_str());
    assert_eq!(v["object"]["type"], "commit");
    // Unescaped slashes work too.
    let raw = get(&gh, "/repos/alice/app/git/ref/heads/feat/PROJ-1%20x")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    assert_eq!(
        get(&gh, "/repos/alice/app/git/ref/heads/nope")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // Creating an existing ref is 422 "Reference already exists".
    let dup = post(
        &gh,
        "/repos/alice/app/git/refs",
        json!({"ref": "refs/heads/main", "sha": sha}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(dup.status(), 422);
    let body: Value = dup.json().await.unwrap();
    assert_eq!(body["message"], "Reference already exists");
    // An unknown sha is refused.
    let bad = post(
        &gh,
        "/repos/alice/app/git/refs",
        json!({"ref": "refs/heads/new", "sha": "0123456789012345678901234567890123456789"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn pulls_get_and_404() {
    let gh = world().await;
    let pr = gh
        .open_pr("alice/app", "feature", "main", "Do it")
        .await
        .unwrap();
    let v: Value = get(&gh, &format!("/repos/alice/app/pulls/{}", pr.value.number))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["number"], 1);
    assert_eq!(v["title"], "Do it");
    assert_eq!(v["state"], "open");
    assert_eq!(v["merged"], false);
    assert_eq!(v["merged_at"], Value::Null);
    assert_eq!(v["head"]["ref"], "feature");
    assert_eq!(v["base"]["ref"], "main");
    assert_eq!(v["user"]["login"], "alice");
    assert_eq!(
        get(&gh, "/repos/alice/app/pulls/9")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        get(&gh, "/repos/alice/app/pulls/x")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn requests_are_logged() {
    let gh = world().await;
    get(&gh, "/repos/alice/app").send().await.unwrap();
    get(&gh, "/user/repos?per_page=100&page=1")
        .send()
        .await
        .unwrap();
    let log = gh.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/repos/alice/app");
    assert_eq!(log[0].status, Some(200));
    assert_eq!(log[1].query.as_deref(), Some("per_page=100&page=1"));
}

#[tokio::test]
async fn renamed_and_transferred_repositories_redirect_like_github() {
    let gh = world().await;
    gh.rename_repo("alice/app", "app2").unwrap();
    let no_follow = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // GET: 301 to the same path under the new name, query kept
    let r = no_follow
        .get(format!("{}/repos/alice/app/pulls/1?x=1", gh.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(
        r.headers()["location"],
        format!("{}/repos/alice/app2/pulls/1?x=1", gh.base_url()).as_str()
    );
    // other methods: 307, so the method and body are repeated
    let r = no_follow
        .post(format!("{}/repos/alice/app/git/refs", gh.base_url()))
        .bearer_auth(TOKEN)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 307);
    // a following client lands on the repository under its new name
    let repo: Value = get(&gh, "/repos/alice/app")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(repo["full_name"], "alice/app2");
    // transfer: the owner changes, both former names redirect
    gh.transfer_repo("alice/app2", "bob").unwrap();
    for old in ["/repos/alice/app", "/repos/alice/app2"] {
        let repo: Value = get(&gh, old).send().await.unwrap().json().await.unwrap();
        assert_eq!(repo["full_name"], "bob/app2", "{old}");
    }
    // a new repository under a former name ends that redirect
    gh.add_repo(RepoSeed::new("alice", "app")).unwrap();
    let repo: Value = get(&gh, "/repos/alice/app")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(repo["full_name"], "alice/app");
    // the control API does the same
    let r = client()
        .post(format!("{}/_control/repos/bob/app2/rename", gh.base_url()))
        .json(&json!({"name": "app3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .post(format!(
            "{}/_control/repos/bob/app3/transfer",
            gh.base_url()
        ))
        .json(&json!({"new_owner": "carol"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(gh.repo("carol/app3").is_some());
}
