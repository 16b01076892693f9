//! State transitions shared by the REST routes and the control API. Each returns the webhook
//! deliveries it caused (not yet sent); the caller sends them after releasing the lock.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::delivery::{Outgoing, Tamper};
use crate::json::{self, Urls};
use crate::state::{Hook, PrState, PullRequest, State, iso8601};

pub const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// An error with a GitHub-like JSON body (REST) or a plain message (control API).
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Error {
    pub fn new(status: u16, message: &str) -> Self {
        Error {
            status,
            body: json::error(status, message),
            headers: Vec::new(),
        }
    }
    pub fn not_found() -> Self {
        Error::new(404, "Not Found")
    }
    pub fn unprocessable(message: &str) -> Self {
        Error::new(422, message)
    }
    pub fn validation(resource: &str, field: Option<&str>, code: &str, message: &str) -> Self {
        Error {
            status: 422,
            body: json::validation(resource, field, code, message),
            headers: Vec::new(),
        }
    }
    /// The `message` of the body.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl std::error::Error for Error {}

/// Plan one delivery of `payload` as `event` to every active hook of the repo subscribed to it
/// (or only to `only_hook`, for pings).
pub(crate) fn plan(
    st: &mut State,
    repo_id: u64,
    event: &str,
    payload: &Value,
    only_hook: Option<u64>,
) -> Vec<Outgoing> {
    let Some(repo) = st.repos.get(&repo_id) else {
        return Vec::new();
    };
    let hooks: Vec<Hook> = repo
        .hooks
        .values()
        .filter(|h| match only_hook {
            Some(id) => h.id == id,
            None => h.active && h.subscribed(event),
        })
        .cloned()
        .collect();
    let body = payload.to_string();
    let action = payload["action"].as_str().map(str::to_string);
    hooks
        .into_iter()
        .map(|h| {
            let tamper = if st.tamper_remaining > 0 {
                st.tamper_remaining -= 1;
                st.tamper_next
            } else {
                Tamper::None
            };
            Outgoing {
                seq: st.seq(),
                id: st.new_delivery_id(),
                event: event.to_string(),
                action: action.clone(),
                hook_id: h.id,
                repo_id,
                url: h.url.clone(),
                secret: h.secret.clone().filter(|s| !s.is_empty()),
                content_type: h.content_type.clone(),
                payload: body.clone(),
                tamper,
                redelivery: false,
                known_signature: None,
            }
        })
        .collect()
}

fn envelope(st: &State, urls: &Urls, repo_id: u64, sender: &str) -> (Value, Value) {
    let r = &st.repos[&repo_id];
    (
        json::repo(st, urls, r, None),
        json::account(st, urls, sender),
    )
}

/// What `POST /repos/{o}/{r}/hooks` receives (`config` flattened).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HookSpec {
    pub url: String,
    pub secret: Option<String>,
    pub events: Vec<String>,
    pub active: bool,
    pub content_type: String,
    pub insecure_ssl: String,
}

/// Whether a hook URL would be refused by github.com as not publicly reachable.
pub fn is_private_url(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(h) = hostport.strip_prefix('[') {
        h.split(']').next().unwrap_or("")
    } else {
        hostport.split(':').next().unwrap_or("")
    };
    let lower = host.to_ascii_lowercase();
    let private = if lower == "localhost" || lower.ends_with(".localhost") || lower.is_empty() {
        true
    } else {
        match lower.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => {
                ip.is_loopback()
                    || ip.is_private()
                    || ip.is_link_local()
                    || ip.is_unspecified()
                    || ip.is_broadcast()
            }
            Ok(IpAddr::V6(ip)) => {
                ip.is_loopback()
                    || ip.is_unspecified()
                    || (ip.segments()[0] & 0xfe00) == 0xfc00
                    || (ip.segments()[0] & 0xffc0) == 0xfe80
            }
            Err(_) => false,
        }
    };
    private.then_some(host.to_string())
}

pub(crate) fn create_hook(
    st: &mut State,
    urls: &Urls,
    repo_id: u64,
    spec: HookSpec,
    sender: &str,
) -> Result<(Value, Vec<Outgoing>), Error> {
    if spec.url.is_empty() {
        return Err(Error::validation(
            "Hook",
            Some("url"),
            "custom",
            "url cannot be blank",
        ));
    }
    if !(spec.url.starts_with("http://") || spec.url.starts_with("https://")) {
        return Err(Error::validation(
            "Hook",
            Some("url"),
            "custom",
            "url is not a valid URL",
        ));
    }
    if st.reject_private_urls
        && let Some(host) = is_private_url(&spec.url)
    {
        return Err(Error::validation(
            "Hook",
            None,
            "custom",
            &format!(
                "Sorry, the URL host {host} is not supported because it isn't reachable over the public internet"
            ),
        ));
    }
    if st.repos[&repo_id].hooks.values().any(|h| h.url == spec.url) {
        return Err(Error::validation(
            "Hook",
            None,
            "custom",
            "Hook already exists on this repository",
        ));
    }
    let id = st.id();
    let now = st.tick();
    let hook = Hook {
        id,
        url: spec.url,
        secret: spec.secret,
        events: spec.events,
        active: spec.active,
        content_type: spec.content_type,
        insecure_ssl: spec.insecure_ssl,
        created_at: now,
        updated_at: now,
        last_response: None,
    };
    let repo = st.repos.get_mut(&repo_id).expect("repo");
    repo.hooks.insert(id, hook);
    let repo = &st.repos[&repo_id];
    let hook_json = json::hook(urls, repo, &repo.hooks[&id]);
    let (repository, sender) = envelope(st, urls, repo_id, sender);
    let ping = json!({
        "zen": "Keep it logically awesome.",
        "hook_id": id,
        "hook": hook_json,
        "repository": repository,
        "sender": sender,
    });
    let out = plan(st, repo_id, "ping", &ping, Some(id));
    Ok((hook_json, out))
}

/// Result of a push (branch creation, new commit, or deletion).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PushInfo {
    pub r#ref: String,
    pub before: String,
    pub after: String,
    pub created: bool,
    pub deleted: bool,
}

/// Move `branch` to `sha` (a new commit when `None`), creating it if needed, and send `push`
/// (plus `pull_request synchronize` for open PRs whose head is that branch).
pub(crate) fn push(
    st: &mut State,
    urls: &Urls,
    repo_id: u64,
    branch: &str,
    sha: Option<String>,
    sender: &str,
) -> (PushInfo, Vec<Outgoing>) {
    let new_commit = sha.is_none();
    let after = sha.unwrap_or_else(|| st.new_sha());
    let now = st.tick();
    let repo = st.repos.get_mut(&repo_id).expect("repo");
    let before = repo
        .branches
        .insert(branch.to_string(), after.clone())
        .unwrap_or_else(|| ZERO_SHA.to_string());
    repo.commits.insert(after.clone());
    repo.pushed_at = now;
    let created = before == ZERO_SHA;
    let info = PushInfo {
        r#ref: format!("refs/heads/{branch}"),
        before: before.clone(),
        after: after.clone(),
        created,
        deleted: false,
    };
    let full = repo.full_name();
    let commit = json!({
        "id": after,
        "tree_id": &after[..],
        "distinct": new_commit,
        "message": if new_commit { format!("Commit on {branch}") } else { format!("Create {branch}") },
        "timestamp": iso8601(now),
        "url": format!("{}/{full}/commit/{after}", urls.html),
        "author": {"name": sender, "email": format!("{sender}@users.noreply.fake"), "username": sender},
        "committer": {"name": sender, "email": format!("{sender}@users.noreply.fake"), "username": sender},
        "added": [], "removed": [], "modified": [],
    });
    let out = push_payload(st, urls, repo_id, &info, Some(commit), new_commit, sender);
    let mut planned = plan(st, repo_id, "push", &out, None);
    if !created {
        planned.extend(synchronize(st, urls, repo_id, branch, &after, sender));
    }
    (info, planned)
}

fn push_payload(
    st: &State,
    urls: &Urls,
    repo_id: u64,
    info: &PushInfo,
    head_commit: Option<Value>,
    list_commit: bool,
    sender: &str,
) -> Value {
    let r = &st.repos[&repo_id];
    let (repository, sender_json) = envelope(st, urls, repo_id, sender);
    let commits = match (&head_commit, list_commit) {
        (Some(c), true) => json!([c]),
        _ => json!([]),
    };
    json!({
        "ref": info.r#ref,
        "before": info.before,
        "after": info.after,
        "repository": repository,
        "pusher": {"name": sender, "email": format!("{sender}@users.noreply.fake")},
        "sender": sender_json,
        "created": info.created,
        "deleted": info.deleted,
        "forced": false,
        "base_ref": null,
        "compare": format!("{}/{}/compare/{}...{}", urls.html, r.full_name(), &info.before[..12], &info.after[..12]),
        "commits": commits,
        "head_commit": head_commit,
    })
}

fn synchronize(
    st: &mut State,
    urls: &Urls,
    repo_id: u64,
    branch: &str,
    sha: &str,
    sender: &str,
) -> Vec<Outgoing> {
    let now = st.clock;
    let numbers: Vec<u64> = st.repos[&repo_id]
        .pulls
        .values()
        .filter(|p| p.state == PrState::Open && p.head_ref == branch)
        .map(|p| p.number)
        .collect();
    let mut out = Vec::new();
    for n in numbers {
        let p = st
            .repos
            .get_mut(&repo_id)
            .and_then(|r| r.pulls.get_mut(&n))
            .expect("pr");
        p.head_sha = sha.to_string();
        p.updated_at = now;
        let payload = pr_payload(st, urls, repo_id, n, "synchronize", sender, None);
        out.extend(plan(st, repo_id, "pull_request", &payload, None));
    }
    out
}

pub(crate) fn delete_branch(
    st: &mut State,
    urls: &Urls,
    repo_id: u64,
    branch: &str,
    sender: &str,
) -> Result<(PushInfo, Vec<Outgoing>), Error> {
    st.tick();
    let repo = st.repos.get_mut(&repo_id).expect("repo");
    let before = repo
        .branches
        .remove(branch)
        .ok_or_else(|| Error::unprocessable("Reference does not exist"))?;
    let info = PushInfo {
        r#ref: format!("refs/heads/{branch}"),
        before,
        after: ZERO_SHA.to_string(),
        created: false,
        deleted: true,
    };
    let payload = push_payload(st, urls, repo_id, &info, None, false, sender);
    Ok((info.clone(), plan(st, repo_id, "push", &payload, None)))
}

/// `POST /git/refs`: create `refs/heads/<branch>` at an existing sha.
pub(crate) fn create_ref(
    st: &mut State,
    urls: &Urls,
    repo_id: u64,
    full_ref: &str,
    sha: &str,
    sender: &str,
) -> Result<(Value, Vec<Outgoing>), Error> {
    let Some(branch) = full_ref
        .strip_prefix("refs/heads/")
        .filter(|b| valid_branch(b))
    else {
        if full_ref.starts_with("refs/") && full_ref.matches('/').count() >= 2 {
            return Err(Error::unprocessable("Reference update failed"));
        }
        return Err(Error::unprocessable("Reference name is invalid"));
    };
    let repo = &st.repos[&repo_id];
    if repo.branches.contains_key(branch) {
        return Err(Error::unprocessable("Reference already exists"));
    }
    if !repo.commits.contains(sha) {
        return Err(Error::unprocessable("Object does not exist"));
    }
    let (_, out) = push(st, urls, repo_id, branch, Some(sha.to_string()), sender);
    let repo = &st.repos[&repo_id];
    Ok((ref_json(urls, &repo.full_name(), branch, sha), out))
}

fn valid_branch(b: &str) -> bool {
    !b.is_empty()
        && !b.starts_with('/')
        && !b.ends_with('/')
        && !b.ends_with(".lock")
        && !b.contains("..")
        && !b.contains("//")
        && !b
            .chars()
            .any(|c| c.is_ascii_control() || " ~^:?*[\\".contains(c))
}

pub(crate) fn ref_json(urls: &Urls, full_name: &str, branch: &str, sha: &str) -> Value {
    json!({
        "ref": format!("refs/heads/{branch}"),
        "node_id": format!("REF_fake{}", hex::encode(branch.as_bytes())),
        "url": format!("{}/repos/{full_name}/git/refs/heads/{branch}", urls.api),
        "object": {
            "sha": sha,
            "type": "commit",
            "url": format!("{}/repos/{full_name}/git/commits/{sha}", urls.api),
        }
    })
}

pub(crate) fn pr_payload(
    st: &State,
    urls: &Urls,
    repo_id: u64,
    number: u64,
    action: &str,
    sender: &str,
    changes: Option<Value>,
) -> Value {
    let r = &st.repos[&repo_id];
    let p = &r.pulls[&number];
    let (repository, sender_json) = envelope(st, urls, repo_id, sender);
    let mut v = json!({
        "action": action,
        "number": number,
        "pull_request": json::pull(st, urls, r, p),
        "repository": repository,
        "sender": sender_json,
    });
    if let Some(c) = changes {
        v["changes"] = c;
    }
    v
}

/// Open a pull request from `head` into `base`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn open_pr(
    st: &mut State,
    urls: &Urls,
    repo_id: u64,
    head: &str,
    base: &str,
    title: &str,
    body: Option<String>,
    user: &str,
) -> Result<(PullRequest, Vec<Outgoing>), Error> {
    // `owner:branch` heads are accepted for the same repository.
    let head = head.split_once(':').map_or(head, |(_, b)| b);
    let repo = &st.repos[&repo_id];
    if title.trim().is_empty() {
        return Err(Error::validation(
            "PullRequest",
            Some("title"),
            "missing_field",
            "title cannot be blank",
        ));
    }
    let Some(head_sha) = repo.branches.get(head).cloned() else {
        return Err(Error::validation(
            "PullRequest",
            Some("head"),
            "invalid",
            "head is invalid",
        ));
    };
    let Some(base_sha) = repo.branches.get(base).cloned() else {
        return Err(Error::validation(
            "PullRequest",
            Some("base"),
            "invalid",
            "base is invalid",
        ));
    };
    if head_sha == base_sha {
        return Err(Error::validation(
            "PullRequest",
            None,
            "custom",
            &format!("No commits between {base} and {head}"),
        ));
    }
    if repo
        .pulls
        .values()
        .any(|p| p.state == PrState::Open && p.head_ref == head && p.base_ref == base)
    {
        return Err(Error::validation(
            "PullRequest",
            None,
            "custom",
            &format!("A pull request already exists for {}:{head}.", repo.owner),
        ));
    }
    let number = repo.pulls.keys().max().map_or(1, |n| n + 1);
    let id = st.id();
    let now = st.tick();
    let pr = PullRequest {
        id,
        number,
        title: title.to_string(),
        body,
        state: PrState::Open,
        merged: false,
        merged_at: None,
        closed_at: None,
        merge_commit_sha: None,
        head_ref: head.to_string(),
        head_sha,
        base_ref: base.to_string(),
        base_sha,
        user: st.user(user).map_or(user.to_string(), |u| u.login.clone()),
        created_at: now,
        updated_at: now,
        draft: false,
        diff: None,
        comments: Vec::new(),
        reviews: Vec::new(),
    };
    st.repos
        .get_mut(&repo_id)
        .expect("repo")
        .pulls
        .insert(number, pr.clone());
    let payload = pr_payload(st, urls, repo_id, number, "opened", user, None);
    Ok((pr, plan(st, repo_id, "pull_request", &payload, None)))
}

/// A pull request state change requested through the control API or REST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PrChange {
    Close,
    Reopen,
    Merge,
    EditTitle { title: String },
}

pub(crate) fn change_pr(
    st: &mut State,
    urls: &Urls,
    repo_id: u64,
    number: u64,
    change: PrChange,
    sender: Option<&str>,
) -> Result<(PullRequest, Vec<Outgoing>), Error> {
    let repo = &st.repos[&repo_id];
    let pr = repo.pulls.get(&number).ok_or_else(Error::not_found)?;
    let sender = sender.map_or_else(|| pr.user.clone(), str::to_string);
    let now = st.tick();
    let merge_sha = match change {
        PrChange::Merge => Some(st.new_sha()),
        _ => None,
    };
    let repo = st.repos.get_mut(&repo_id).expect("repo");
    let pr = repo.pulls.get_mut(&number).expect("pr");
    let (action, changes) = match change {
        PrChange::Close => {
            if pr.state == PrState::Closed {
                return Err(Error::unprocessable("Pull request is already closed"));
            }
            pr.state = PrState::Closed;
            pr.closed_at = Some(now);
            ("closed", None)
        }
        PrChange::Reopen => {
            if pr.state == PrState::Open || pr.merged {
                return Err(Error::unprocessable("Pull request cannot be reopened"));
            }
            pr.state = PrState::Open;
            pr.closed_at = None;
            ("reopened", None)
        }
        PrChange::Merge => {
            if pr.state == PrState::Closed {
                return Err(Error::new(405, "Pull Request is not mergeable"));
            }
            let sha = merge_sha.expect("sha");
            pr.state = PrState::Closed;
            pr.merged = true;
            pr.merged_at = Some(now);
            pr.closed_at = Some(now);
            pr.merge_commit_sha = Some(sha.clone());
            let base = pr.base_ref.clone();
            repo.commits.insert(sha.clone());
            repo.branches.insert(base, sha);
            ("closed", None)
        }
        PrChange::EditTitle { title } => {
            let from = std::mem::replace(&mut pr.title, title);
            ("edited", Some(json!({"title": {"from": from}})))
        }
    };
    pr.updated_at = now;
    let pr = pr.clone();
    let payload = pr_payload(st, urls, repo_id, number, action, &sender, changes);
    Ok((pr, plan(st, repo_id, "pull_request", &payload, None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_urls() {
        assert!(is_private_url("http://localhost:8080/x").is_some());
        assert!(is_private_url("http://127.0.0.1:1/x").is_some());
        assert!(is_private_url("https://10.1.2.3/x").is_some());
        assert!(is_private_url("https://192.168.0.1/x").is_some());
        assert!(is_private_url("http://[::1]:80/x").is_some());
        assert!(is_private_url("https://example.com/hook").is_none());
        assert!(is_private_url("https://8.8.8.8/hook").is_none());
    }
}
