//! The GitHub client against scripted FakeHost fetches: headers, paging, error mapping, redirects.

use super::*;
use crate::fake_host::FakeHost;
use serde_json::json;

const TOKEN: &str = "ghp_TESTTOKEN0123456789abcdef";
const API: &str = "https://api.github.com";

fn repo_json(id: i64, full: &str) -> Value {
    let (owner, name) = full.split_once('/').unwrap();
    json!({
        "id": id, "name": name, "full_name": full, "owner": {"login": owner, "id": 1},
        "default_branch": "main", "private": true, "html_url": format!("https://github.com/{full}"),
        "extra": {"ignored": true}
    })
}

fn pr_json() -> Value {
    json!({
        "id": 1_234_567_890_i64, "number": 42, "title": "Add auth", "state": "closed",
        "merged": true, "merged_at": "2026-01-02T03:04:05Z",
        "html_url": "https://github.com/o/r/pull/42",
        "head": {"ref": "feat/PROJ-42", "sha": "abc123", "repo": {}},
        "base": {"ref": "main", "sha": "def456"},
        "user": {"login": "octocat", "id": 1},
        "updated_at": "2026-01-02T03:04:06Z"
    })
}

#[test]
fn standard_headers_and_no_token_leak_in_debug() {
    let h = FakeHost::new();
    h.on_fetch_json(
        "GET",
        &format!("{API}/user"),
        200,
        &json!({"login":"octocat","id":1}),
    );
    let gh = GithubClient::new(&h, TOKEN);
    gh.get_user().unwrap();
    let req = &h.fetches()[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.headers["Authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(req.headers["Accept"], "application/vnd.github+json");
    assert_eq!(req.headers["X-GitHub-Api-Version"], "2022-11-28");
    assert_eq!(req.headers["User-Agent"], "paca-github-plugin");
    assert!(!req.headers.contains_key("Content-Type"), "GET has no body");
    assert!(req.body.is_empty());
    assert!(!format!("{gh:?}").contains(TOKEN));
}

#[test]
fn get_user_reads_the_login() {
    let h = FakeHost::new();
    h.on_fetch_json(
        "GET",
        &format!("{API}/user"),
        200,
        &json!({"login":"octocat","id":7,"name":null}),
    );
    let gh = GithubClient::new(&h, TOKEN);
    assert_eq!(gh.get_user().unwrap().login, "octocat");
    h.assert_all_consumed();
}

#[test]
fn list_user_repos_with_link_pagination() {
    let h = FakeHost::new();
    let url1 = format!(
        "{API}/user/repos?visibility=all&affiliation=owner,collaborator,organization_member&per_page=100&page=1"
    );
    let url2 = url1.replace("&page=1", "&page=2");
    let link = format!(
        r#"<{API}/user/repos?per_page=100&page=2>; rel="next", <{API}/user/repos?per_page=100&page=2>; rel="last""#
    );
    h.on_fetch(
        "GET",
        &url1,
        FetchResponse::new(
            200,
            json!([repo_json(1, "o/a"), repo_json(2, "o/b")]).to_string(),
        )
        .with_header("Link", &link),
    );
    h.on_fetch_json("GET", &url2, 200, &json!([repo_json(3, "o/c")]));
    let gh = GithubClient::new(&h, TOKEN);
    let p1 = gh.list_user_repos(1, 100).unwrap();
    assert_eq!(p1.items.len(), 2);
    assert_eq!(p1.next_page, Some(2));
    assert_eq!(p1.items[1].full_name, "o/b");
    assert_eq!(p1.items[1].owner.login, "o");
    assert!(p1.items[1].private);
    let p2 = gh.list_user_repos(2, 500).unwrap(); // per_page clamped to 100
    assert_eq!(p2.items[0].id, 3);
    assert_eq!(p2.next_page, None);
    h.assert_all_consumed();
}

#[test]
fn get_repo_escapes_segments() {
    let h = FakeHost::new();
    h.on_fetch_json(
        "GET",
        &format!("{API}/repos/o/r%2F..%2Fadmin"),
        200,
        &repo_json(1, "o/r"),
    );
    let gh = GithubClient::new(&h, TOKEN);
    let r = gh.get_repo("o", "r/../admin").unwrap();
    assert_eq!(r.html_url, "https://github.com/o/r");
}

#[test]
fn branch_head_escapes_slashes() {
    let h = FakeHost::new();
    h.on_fetch_json(
        "GET",
        &format!("{API}/repos/torvalds/linux/git/ref/heads/fix%2Fsched-fair"),
        200,
        &json!({"ref":"refs/heads/fix/sched-fair","object":{"sha":"cafe","type":"commit"}}),
    );
    h.on_fetch_json(
        "GET",
        &format!("{API}/repos/torvalds/linux/git/ref/heads/gone"),
        404,
        &json!({"message":"Not Found"}),
    );
    let gh = GithubClient::new(&h, TOKEN);
    assert_eq!(
        gh.get_branch_head("torvalds", "linux", "fix/sched-fair")
            .unwrap(),
        "cafe"
    );
    assert_eq!(
        gh.get_branch_head("torvalds", "linux", "gone").unwrap_err(),
        GithubError::NotFound
    );
}

#[test]
fn create_ref_posts_json_body() {
    let h = FakeHost::new();
    h.on_fetch_json(
        "POST",
        &format!("{API}/repos/o/r/git/refs"),
        201,
        &json!({"ref":"refs/heads/feat/PROJ-1","object":{"sha":"abc","type":"commit"}}),
    );
    h.on_fetch_json(
        "POST",
        &format!("{API}/repos/o/r/git/refs"),
        422,
        &json!({"message":"Reference already exists","documentation_url":"x"}),
    );
    let gh = GithubClient::new(&h, TOKEN);
    let r = gh.create_ref("o", "r", "feat/PROJ-1", "abc").unwrap();
    assert_eq!(
        r,
        CreatedRef {
            ref_name: "refs/heads/feat/PROJ-1".into(),
            sha: "abc".into()
        }
    );
    let req = &h.fetches()[0];
    assert_eq!(req.headers["Content-Type"], "application/json");
    let body: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body, json!({"ref":"refs/heads/feat/PROJ-1","sha":"abc"}));
    assert_eq!(
        gh.create_ref("o", "r", "feat/PROJ-1", "abc").unwrap_err(),
        GithubError::Validation {
            message: "Reference already exists".into(),
            details: vec![]
        }
    );
}

#[test]
fn hooks_create_list_delete() {
    let h = FakeHost::new();
    let hooks = format!("{API}/repos/o/r/hooks");
    h.on_fetch_json("POST", &hooks, 201, &json!({"id": 77, "active": true}));
    h.on_fetch(
        "GET",
        &format!("{hooks}?per_page=100&page=1"),
        FetchResponse::new(
            200,
            json!([{"id":77,"active":true,"events":["push"],"config":{"url":"https://p/x","content_type":"json"}}])
                .to_string(),
        ),
    );
    h.on_fetch(
        "DELETE",
        &format!("{hooks}/77"),
        FetchResponse::new(204, ""),
    );
    h.on_fetch_json(
        "DELETE",
        &format!("{hooks}/78"),
        404,
        &json!({"message":"Not Found"}),
    );
    h.on_fetch_json(
        "DELETE",
        &format!("{hooks}/79"),
        500,
        &json!({"message":"boom"}),
    );
    let gh = GithubClient::new(&h, TOKEN);
    let secret = "s".repeat(64);
    let id = gh
        .create_hook(
            "o",
            "r",
            "https://paca.test/hook",
            &secret,
            &["pull_request", "push"],
        )
        .unwrap();
    assert_eq!(id, 77);
    let body: Value = serde_json::from_str(&h.fetches()[0].body).unwrap();
    assert_eq!(
        body,
        json!({"name":"web","active":true,"events":["pull_request","push"],
               "config":{"url":"https://paca.test/hook","content_type":"json","secret":secret,"insecure_ssl":"0"}})
    );
    let list = gh.list_hooks("o", "r", 1).unwrap();
    assert_eq!(list.items[0].config.url.as_deref(), Some("https://p/x"));
    assert_eq!(list.items[0].events, vec!["push".to_owned()]);
    gh.delete_hook("o", "r", 77).unwrap();
    gh.delete_hook("o", "r", 78).unwrap(); // already gone
    assert_eq!(
        gh.delete_hook("o", "r", 79).unwrap_err(),
        GithubError::Upstream {
            status: 500,
            message: "boom".into()
        }
    );
    h.assert_all_consumed();
}

#[test]
fn get_pull_fields() {
    let h = FakeHost::new();
    h.on_fetch_json("GET", &format!("{API}/repos/o/r/pulls/42"), 200, &pr_json());
    let mut open = pr_json();
    open["merged"] = json!(false);
    open["merged_at"] = Value::Null;
    open["state"] = json!("open");
    open["user"] = Value::Null;
    h.on_fetch_json("GET", &format!("{API}/repos/o/r/pulls/43"), 200, &open);
    let gh = GithubClient::new(&h, TOKEN);
    let pr = gh.get_pull("o", "r", 42).unwrap();
    assert_eq!(pr.id, 1_234_567_890);
    assert_eq!(pr.number, 42);
    assert_eq!(pr.head.ref_name, "feat/PROJ-42");
    assert_eq!(pr.head.sha, "abc123");
    assert_eq!(pr.base.ref_name, "main");
    assert_eq!(pr.user.as_ref().unwrap().login, "octocat");
    assert_eq!(pr.merged_at.as_deref(), Some("2026-01-02T03:04:05Z"));
    assert_eq!(pr.updated_at.as_deref(), Some("2026-01-02T03:04:06Z"));
    assert_eq!(pr.effective_state(), "merged");
    let pr = gh.get_pull("o", "r", 43).unwrap();
    assert_eq!(pr.effective_state(), "open");
    assert!(pr.user.is_none());
}

#[test]
fn error_mapping_table() {
    let cases: Vec<(FetchResponse, GithubError)> = vec![
        (
            FetchResponse::new(401, r#"{"message":"Bad credentials"}"#),
            GithubError::Unauthorized,
        ),
        (
            FetchResponse::new(
                403,
                r#"{"message":"Resource not accessible by integration"}"#,
            ),
            GithubError::Forbidden {
                message: "Resource not accessible by integration".into(),
            },
        ),
        (
            FetchResponse::new(403, r#"{"message":"API rate limit exceeded"}"#)
                .with_header("X-Ratelimit-Remaining", "0")
                .with_header("X-Ratelimit-Reset", "1700000000"),
            GithubError::RateLimited {
                retry_after_secs: None,
            },
        ),
        (
            FetchResponse::new(403, r#"{"message":"secondary rate limit"}"#)
                .with_header("Retry-After", "60"),
            GithubError::RateLimited {
                retry_after_secs: Some(60),
            },
        ),
        (
            FetchResponse::new(429, "").with_header("Retry-After", " 5 "),
            GithubError::RateLimited {
                retry_after_secs: Some(5),
            },
        ),
        (
            FetchResponse::new(429, ""),
            GithubError::RateLimited {
                retry_after_secs: None,
            },
        ),
        (
            FetchResponse::new(403, "{}").with_header("X-Ratelimit-Remaining", "12"),
            GithubError::Forbidden {
                message: "HTTP 403".into(),
            },
        ),
        (
            FetchResponse::new(404, r#"{"message":"Not Found"}"#),
            GithubError::NotFound,
        ),
        (
            FetchResponse::new(
                422,
                r#"{"message":"Validation Failed","errors":[{"resource":"Hook","code":"custom","message":"Hook already exists on this repository"},{"field":"config","code":"missing_field"},"plain"]}"#,
            ),
            GithubError::Validation {
                message: "Validation Failed".into(),
                details: vec![
                    "Hook already exists on this repository".into(),
                    "config: missing_field".into(),
                    "plain".into(),
                ],
            },
        ),
        (
            FetchResponse::new(502, "<html>bad gateway</html>"),
            GithubError::Upstream {
                status: 502,
                message: "HTTP 502".into(),
            },
        ),
    ];
    for (resp, want) in cases {
        assert_eq!(error_from_response(&resp), want, "{resp:?}");
    }
    let long = FetchResponse::new(500, json!({"message": "x".repeat(1000)}).to_string());
    let GithubError::Upstream { message, .. } = error_from_response(&long) else {
        panic!()
    };
    assert!(message.chars().count() <= MAX_MESSAGE + 1);
}

#[test]
fn transport_and_decode_errors() {
    let h = FakeHost::new();
    h.on_fetch_err(
        "GET",
        &format!("{API}/repos/o/r"),
        "fetch: domain not permitted by plugin manifest",
    );
    h.on_fetch(
        "GET",
        &format!("{API}/repos/o/r"),
        FetchResponse::new(200, "not json"),
    );
    h.on_fetch_json(
        "GET",
        &format!("{API}/repos/o/r"),
        200,
        &json!({"id": "wrong"}),
    );
    let gh = GithubClient::new(&h, TOKEN);
    let e = gh.get_repo("o", "r").unwrap_err();
    assert_eq!(
        e,
        GithubError::Transport("fetch: domain not permitted by plugin manifest".into())
    );
    assert!(matches!(gh.get_repo("o", "r"), Err(GithubError::Decode(_))));
    assert!(matches!(gh.get_repo("o", "r"), Err(GithubError::Decode(_))));
    for e in [
        e,
        GithubError::Unauthorized,
        GithubError::Decode("x".into()),
    ] {
        assert!(!e.to_string().contains(TOKEN));
    }
}

#[test]
fn base_url_override() {
    let h = FakeHost::new();
    h.on_fetch_json(
        "GET",
        "https://ghe.example/api/v3/repos/o/r/pulls/1",
        200,
        &pr_json(),
    );
    let gh = GithubClient::with_base_url(&h, TOKEN, "https://ghe.example/api/v3/");
    assert_eq!(gh.get_pull("o", "r", 1).unwrap().number, 42);
}

#[test]
fn secondary_rate_limit_without_headers_is_a_rate_limit() {
    // GitHub's secondary limit can be a bare 403: no Retry-After, no X-RateLimit-Remaining: 0.
    let resp = FetchResponse::new(
        403,
        json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})
            .to_string(),
    )
    .with_header("X-Ratelimit-Remaining", "4999");
    assert_eq!(
        error_from_response(&resp),
        GithubError::RateLimited {
            retry_after_secs: None
        }
    );
    // a plain permission 403 stays Forbidden
    let resp = FetchResponse::new(
        403,
        json!({"message": "Resource not accessible by personal access token"}).to_string(),
    )
    .with_header("X-Ratelimit-Remaining", "4999");
    assert!(matches!(
        error_from_response(&resp),
        GithubError::Forbidden { .. }
    ));
}

#[test]
fn a_renamed_repository_redirect_is_followed_once_on_the_same_api_only() {
    let h = FakeHost::new();
    let moved = format!("{API}/repositories/9001");
    h.on_fetch(
        "GET",
        &format!("{API}/repos/acme/old"),
        FetchResponse::new(301, json!({"message": "Moved Permanently"}).to_string())
            .with_header("Location", &moved),
    );
    h.on_fetch_json("GET", &moved, 200, &repo_json(9001, "acme/new"));
    let gh = GithubClient::new(&h, TOKEN);
    assert_eq!(gh.get_repo("acme", "old").unwrap().full_name, "acme/new");
    // 307 for a POST: repeated with the same method and body
    let refs = format!("{API}/repos/acme/old/git/refs");
    let moved_refs = format!("{API}/repositories/9001/git/refs");
    h.on_fetch(
        "POST",
        &refs,
        FetchResponse::new(307, "{}").with_header("Location", &moved_refs),
    );
    h.on_fetch_json(
        "POST",
        &moved_refs,
        201,
        &json!({"ref": "refs/heads/b", "object": {"sha": "abc"}}),
    );
    gh.create_ref("acme", "old", "b", "abc").unwrap();
    let fetches = h.fetches();
    assert_eq!(fetches[3].body, fetches[2].body);
    assert_eq!(
        fetches[3].headers["Authorization"],
        format!("Bearer {TOKEN}")
    );
    // a redirect off the API base is not followed: the token stays home
    h.on_fetch(
        "GET",
        &format!("{API}/repos/acme/evil"),
        FetchResponse::new(301, "{}").with_header("Location", "https://evil.example/steal"),
    );
    assert!(matches!(
        gh.get_repo("acme", "evil"),
        Err(GithubError::Upstream { status: 301, .. })
    ));
    assert_eq!(h.fetches().len(), 5);
    h.assert_all_consumed();
}
