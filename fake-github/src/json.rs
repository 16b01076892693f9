//! GitHub-shaped JSON for users, repositories, pull requests, hooks and error bodies.

use serde_json::{Value, json};

use crate::state::{Hook, PullRequest, Repo, State, iso8601};

/// Where API `url` fields point (the fake's own base URL) and where `html_url`s point.
pub struct Urls<'a> {
    pub api: &'a str,
    pub html: &'a str,
}

pub fn account(st: &State, urls: &Urls, login: &str) -> Value {
    let (id, login, kind) = if let Some(o) = st.org(login) {
        (o.id, o.login.clone(), "Organization")
    } else if let Some(u) = st.user(login) {
        (u.id, u.login.clone(), "User")
    } else {
        (0, login.to_string(), "User")
    };
    json!({
        "login": login,
        "id": id,
        "node_id": format!("{}_fake{id}", if kind == "User" { "U" } else { "O" }),
        "avatar_url": format!("{}/u/{id}?v=4", urls.html),
        "url": format!("{}/users/{login}", urls.api),
        "html_url": format!("{}/{login}", urls.html),
        "type": kind,
        "site_admin": false,
    })
}

/// The private user view (`GET /user`).
pub fn authenticated_user(st: &State, urls: &Urls, login: &str) -> Value {
    let mut v = account(st, urls, login);
    let name = st.user(login).and_then(|u| u.name.clone());
    let obj = v.as_object_mut().expect("object");
    obj.insert("name".into(), json!(name));
    obj.insert("email".into(), Value::Null);
    obj.insert(
        "created_at".into(),
        json!(iso8601(crate::state::CLOCK_START)),
    );
    v
}

pub fn org(urls: &Urls, o: &crate::state::Org) -> Value {
    json!({
        "login": o.login,
        "id": o.id,
        "node_id": format!("O_fake{}", o.id),
        "url": format!("{}/orgs/{}", urls.api, o.login),
        "repos_url": format!("{}/orgs/{}/repos", urls.api, o.login),
        "hooks_url": format!("{}/orgs/{}/hooks", urls.api, o.login),
        "avatar_url": format!("{}/u/{}?v=4", urls.html, o.id),
        "description": null,
    })
}

/// A repository. `viewer` adds the `permissions` block of the REST API.
pub fn repo(st: &State, urls: &Urls, r: &Repo, viewer: Option<&str>) -> Value {
    let full = r.full_name();
    let mut v = json!({
        "id": r.id,
        "node_id": format!("R_fake{}", r.id),
        "name": r.name,
        "full_name": full,
        "private": r.private,
        "visibility": if r.private { "private" } else { "public" },
        "owner": account(st, urls, &r.owner),
        "html_url": format!("{}/{full}", urls.html),
        "description": null,
        "fork": false,
        "url": format!("{}/repos/{full}", urls.api),
        "hooks_url": format!("{}/repos/{full}/hooks", urls.api),
        "pulls_url": format!("{}/repos/{full}/pulls{{/number}}", urls.api),
        "clone_url": format!("{}/{full}.git", st.clone_base.as_deref().unwrap_or(urls.html)),
        "git_url": format!("git://{}/{full}.git", urls.html.trim_start_matches("https://").trim_start_matches("http://")),
        "ssh_url": format!("git@{}:{full}.git", urls.html.trim_start_matches("https://").trim_start_matches("http://")),
        "default_branch": r.default_branch,
        "archived": false,
        "disabled": false,
        "created_at": iso8601(r.created_at),
        "updated_at": iso8601(r.updated_at),
        "pushed_at": iso8601(r.pushed_at),
    });
    if let Some(login) = viewer {
        let push = st.has_push(login, r);
        v["permissions"] = json!({
            "admin": push, "maintain": push, "push": push, "triage": push, "pull": true
        });
    }
    v
}

pub fn pull(st: &State, urls: &Urls, r: &Repo, p: &PullRequest) -> Value {
    let full = r.full_name();
    let user = account(st, urls, &p.user);
    let (additions, deletions, changed_files) =
        crate::pr_workflow::diff_stats(&crate::pr_workflow::diff_of(r, p));
    json!({
        "url": format!("{}/repos/{full}/pulls/{}", urls.api, p.number),
        "id": p.id,
        "node_id": format!("PR_fake{}", p.id),
        "html_url": format!("{}/{full}/pull/{}", urls.html, p.number),
        "diff_url": format!("{}/{full}/pull/{}.diff", urls.html, p.number),
        "number": p.number,
        "state": p.state.as_str(),
        "locked": false,
        "title": p.title,
        "user": user,
        "body": p.body,
        "created_at": iso8601(p.created_at),
        "updated_at": iso8601(p.updated_at),
        "closed_at": p.closed_at.map(iso8601),
        "merged_at": p.merged_at.map(iso8601),
        "merge_commit_sha": p.merge_commit_sha,
        "draft": p.draft,
        "head": {
            "label": format!("{}:{}", r.owner, p.head_ref),
            "ref": p.head_ref,
            "sha": p.head_sha,
            "user": account(st, urls, &r.owner),
            "repo": repo(st, urls, r, None),
        },
        "base": {
            "label": format!("{}:{}", r.owner, p.base_ref),
            "ref": p.base_ref,
            "sha": p.base_sha,
            "user": account(st, urls, &r.owner),
            "repo": repo(st, urls, r, None),
        },
        "merged": p.merged,
        "mergeable": if p.state == crate::state::PrState::Open { json!(true) } else { Value::Null },
        "merged_by": if p.merged { account(st, urls, &p.user) } else { Value::Null },
        "mergeable_state": if p.state == crate::state::PrState::Open { "clean" } else { "unknown" },
        "comments": p.comments.len(),
        "review_comments": 0,
        "commits": 1,
        "additions": additions,
        "deletions": deletions,
        "changed_files": changed_files,
    })
}

pub fn hook(urls: &Urls, r: &Repo, h: &Hook) -> Value {
    let base = format!("{}/repos/{}/hooks/{}", urls.api, r.full_name(), h.id);
    let last_response = match &h.last_response {
        None => json!({"code": null, "status": "unused", "message": null}),
        Some((Some(code), msg)) => json!({
            "code": code,
            "status": if (200..300).contains(code) { "active" } else { "failed" },
            "message": msg,
        }),
        Some((None, msg)) => json!({"code": null, "status": "failed", "message": msg}),
    };
    json!({
        "type": "Repository",
        "id": h.id,
        "name": "web",
        "active": h.active,
        "events": h.events,
        "config": {
            "content_type": h.content_type,
            "insecure_ssl": h.insecure_ssl,
            "url": h.url,
        },
        "updated_at": iso8601(h.updated_at),
        "created_at": iso8601(h.created_at),
        "url": base,
        "test_url": format!("{base}/test"),
        "ping_url": format!("{base}/pings"),
        "deliveries_url": format!("{base}/deliveries"),
        "last_response": last_response,
    })
}

/// `{message, documentation_url, status}` as GitHub sends on errors.
pub fn error(status: u16, message: &str) -> Value {
    json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.to_string(),
    })
}

/// 422 "Validation Failed" with one `errors[]` entry.
pub fn validation(resource: &str, field: Option<&str>, code: &str, message: &str) -> Value {
    let mut e = json!({"resource": resource, "code": code, "message": message});
    if let Some(f) = field {
        e["field"] = json!(f);
    }
    json!({
        "message": "Validation Failed",
        "errors": [e],
        "documentation_url": "https://docs.github.com/rest",
        "status": "422",
    })
}
