//! Typed GitHub REST client over [`Host::fetch`].
//!
//! - Base `https://api.github.com`; every request carries `Authorization: Bearer <token>`,
//!   `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28` and
//!   `User-Agent: paca-github-plugin`; requests with a body add `Content-Type: application/json`.
//! - Every path segment is percent-escaped ([`url::escape_segment`]).
//! - Failures are a typed [`GithubError`]. The token never appears in an error or a log line
//!   (the client's `Debug` redacts it too).
//! - One method = one `fetch` call; pagination is explicit (`page` in, `next_page` out), so a
//!   handler decides how many round trips fit in the host's per-call time budget.

pub mod types;
pub mod url;

use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::host::{FetchRequest, FetchResponse, Host, HostError};
pub use types::*;
use url::escape_segment as esc;

pub const API_BASE: &str = "https://api.github.com";
pub const USER_AGENT: &str = "paca-github-plugin";
pub const API_VERSION: &str = "2022-11-28";

/// Longest upstream message kept in an error (GitHub messages are short; this bounds logs).
const MAX_MESSAGE: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GithubError {
    /// 401: the token is invalid, expired or revoked.
    Unauthorized,
    /// 403 that is not a rate limit (missing scope, SSO enforcement, …).
    Forbidden { message: String },
    /// 404 (GitHub also answers 404 for private resources the token cannot see).
    NotFound,
    /// 422 with GitHub's `errors[]` rendered as `field: message` strings.
    Validation {
        message: String,
        details: Vec<String>,
    },
    /// 429, or 403 with `X-RateLimit-Remaining: 0` or `Retry-After`.
    RateLimited { retry_after_secs: Option<u64> },
    /// Any other non-2xx status.
    Upstream { status: u16, message: String },
    /// The host's fetch failed (policy, DNS, TLS, timeout…): the host's error text.
    Transport(String),
    /// A 2xx answer we could not decode.
    Decode(String),
}

impl fmt::Display for GithubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GithubError::Unauthorized => f.write_str("GitHub rejected the token (401)"),
            GithubError::Forbidden { message } => write!(f, "GitHub denied access: {message}"),
            GithubError::NotFound => f.write_str("GitHub resource not found"),
            GithubError::Validation { message, details } if details.is_empty() => {
                write!(f, "GitHub validation failed: {message}")
            }
            GithubError::Validation { message, details } => {
                write!(
                    f,
                    "GitHub validation failed: {message} ({})",
                    details.join("; ")
                )
            }
            GithubError::RateLimited {
                retry_after_secs: Some(s),
            } => write!(f, "GitHub rate limit exceeded; retry after {s}s"),
            GithubError::RateLimited { .. } => f.write_str("GitHub rate limit exceeded"),
            GithubError::Upstream { status, message } => {
                write!(f, "GitHub API error {status}: {message}")
            }
            GithubError::Transport(m) => write!(f, "GitHub request failed: {m}"),
            GithubError::Decode(m) => write!(f, "unexpected GitHub response: {m}"),
        }
    }
}

impl std::error::Error for GithubError {}

impl From<HostError> for GithubError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Fetch(m)
            | HostError::Protocol(m)
            | HostError::Db(m)
            | HostError::Emit(m)
            | HostError::Activity(m) => GithubError::Transport(m),
        }
    }
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// GitHub's error body: `{"message": …, "errors": [{"field","message","code","resource"} | "…"]}`.
fn error_parts(body: &str, status: u16) -> (String, Vec<String>) {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        errors: Option<Vec<Value>>,
    }
    let parsed: Option<Body> = serde_json::from_slice(body.as_bytes()).ok();
    let message = parsed
        .as_ref()
        .and_then(|b| b.message.clone())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("HTTP {status}"));
    let details = parsed
        .and_then(|b| b.errors)
        .unwrap_or_default()
        .iter()
        .map(|e| match e {
            Value::String(s) => s.clone(),
            Value::Object(o) => {
                let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
                let what = if s("message").is_empty() {
                    s("code")
                } else {
                    s("message")
                };
                if s("field").is_empty() {
                    what.to_owned()
                } else {
                    format!("{}: {what}", s("field"))
                }
            }
            other => other.to_string(),
        })
        .map(truncate)
        .collect();
    (truncate(message), details)
}

/// Maps a non-2xx response to a [`GithubError`].
pub fn error_from_response(resp: &FetchResponse) -> GithubError {
    let status = resp.status;
    let retry_after = resp
        .header("Retry-After")
        .and_then(|v| v.trim().parse::<u64>().ok());
    let exhausted = resp
        .header("X-RateLimit-Remaining")
        .is_some_and(|v| v.trim() == "0");
    let (message, details) = error_parts(&resp.body, status);
    // GitHub's secondary (abuse) limits answer 403 with neither header, only this message.
    let secondary = {
        let m = message.to_ascii_lowercase();
        m.contains("secondary rate limit") || m.contains("abuse detection")
    };
    match status {
        401 => GithubError::Unauthorized,
        429 => GithubError::RateLimited {
            retry_after_secs: retry_after,
        },
        403 if exhausted || secondary || resp.header("Retry-After").is_some() => {
            GithubError::RateLimited {
                retry_after_secs: retry_after,
            }
        }
        403 => GithubError::Forbidden { message },
        404 => GithubError::NotFound,
        422 => GithubError::Validation { message, details },
        _ => GithubError::Upstream { status, message },
    }
}

/// A GitHub client bound to one token. Cheap to construct; holds no connection state.
pub struct GithubClient<'h, H: Host> {
    host: &'h H,
    token: String,
    base: String,
}

impl<H: Host> fmt::Debug for GithubClient<'_, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubClient")
            .field("base", &self.base)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Clamp for `per_page` (GitHub's maximum is 100).
fn per_page(n: u32) -> u32 {
    n.clamp(1, 100)
}

impl<'h, H: Host> GithubClient<'h, H> {
    pub fn new(host: &'h H, token: impl Into<String>) -> Self {
        Self::with_base_url(host, token, API_BASE)
    }

    /// For tests or GitHub Enterprise (`https://ghe.example/api/v3`). No trailing '/'.
    pub fn with_base_url(host: &'h H, token: impl Into<String>, base: &str) -> Self {
        GithubClient {
            host,
            token: token.into(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// `base` + path built from already-escaped pieces.
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// One fetch; `Ok` only for 2xx. A redirect of a renamed or transferred repository (301,
    /// 307, 308; a host that follows redirects never shows them) is followed once with the same
    /// method and body, and only to the same API base, so the token never leaves it.
    fn send(
        &self,
        method: &str,
        url: String,
        body: Option<&Value>,
    ) -> Result<FetchResponse, GithubError> {
        self.send_accepting(method, url, body, "application/vnd.github+json")
    }

    /// [`send`](Self::send) asking for another media type (e.g. a raw diff). Follows one
    /// redirect of a renamed or transferred repository, only to the same API base.
    fn send_accepting(
        &self,
        method: &str,
        url: String,
        body: Option<&Value>,
        accept: &str,
    ) -> Result<FetchResponse, GithubError> {
        let resp = self.send_once(method, url, body, accept)?;
        if matches!(resp.status, 301 | 307 | 308)
            && let Some(location) = resp.header("Location")
            && location.starts_with(&format!("{}/", self.base))
        {
            let location = location.to_string();
            return Self::finish(self.send_once(method, location, body, accept)?);
        }
        Self::finish(resp)
    }

    fn finish(resp: FetchResponse) -> Result<FetchResponse, GithubError> {
        if resp.is_success() {
            Ok(resp)
        } else {
            Err(error_from_response(&resp))
        }
    }

    fn send_once(
        &self,
        method: &str,
        url: String,
        body: Option<&Value>,
        accept: &str,
    ) -> Result<FetchResponse, GithubError> {
        let mut req = FetchRequest::new(method, url);
        let h = &mut req.headers;
        h.insert("Authorization".into(), format!("Bearer {}", self.token));
        h.insert("Accept".into(), accept.into());
        h.insert("X-GitHub-Api-Version".into(), API_VERSION.into());
        h.insert("User-Agent".into(), USER_AGENT.into());
        if let Some(b) = body {
            h.insert("Content-Type".into(), "application/json".into());
            req.body = b.to_string();
        }
        Ok(self.host.fetch(&req)?)
    }

    fn decode<T: DeserializeOwned>(resp: &FetchResponse) -> Result<T, GithubError> {
        // from_slice everywhere: one JSON reader type in the module, not two.
        serde_json::from_slice(resp.body.as_bytes()).map_err(|e| GithubError::Decode(e.to_string()))
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, GithubError> {
        Self::decode(&self.send("GET", self.url(path), None)?)
    }

    fn get_page<T: DeserializeOwned>(&self, path: &str) -> Result<Page<T>, GithubError> {
        let resp = self.send("GET", self.url(path), None)?;
        Ok(Page {
            items: Self::decode(&resp)?,
            next_page: url::next_page(resp.header("Link")),
        })
    }

    fn repo_path(owner: &str, repo: &str) -> String {
        format!("/repos/{}/{}", esc(owner), esc(repo))
    }

    /// `GET /user`: validates the token.
    pub fn get_user(&self) -> Result<User, GithubError> {
        self.get("/user")
    }

    /// `GET /user/repos` (owned, collaborator and org-member repos).
    pub fn list_user_repos(&self, page: u32, per_page_n: u32) -> Result<Page<Repo>, GithubError> {
        self.get_page(&format!(
            "/user/repos?visibility=all&affiliation=owner,collaborator,organization_member&per_page={}&page={}",
            per_page(per_page_n),
            page.max(1)
        ))
    }

    /// `GET /repos/{owner}/{repo}`.
    pub fn get_repo(&self, owner: &str, repo: &str) -> Result<Repo, GithubError> {
        self.get(&Self::repo_path(owner, repo))
    }

    /// `POST /repos/{owner}/{repo}/hooks` (JSON deliveries, TLS verified); returns the hook id.
    pub fn create_hook(
        &self,
        owner: &str,
        repo: &str,
        url: &str,
        secret: &str,
        events: &[&str],
    ) -> Result<i64, GithubError> {
        #[derive(Deserialize)]
        struct Created {
            id: i64,
        }
        let body = json!({
            "name": "web",
            "active": true,
            "events": events,
            "config": {"url": url, "content_type": "json", "secret": secret, "insecure_ssl": "0"},
        });
        let path = format!("{}/hooks", Self::repo_path(owner, repo));
        let created: Created = Self::decode(&self.send("POST", self.url(&path), Some(&body))?)?;
        Ok(created.id)
    }

    /// `GET /repos/{owner}/{repo}/hooks`.
    pub fn list_hooks(
        &self,
        owner: &str,
        repo: &str,
        page: u32,
    ) -> Result<Page<Hook>, GithubError> {
        self.get_page(&format!(
            "{}/hooks?per_page=100&page={}",
            Self::repo_path(owner, repo),
            page.max(1)
        ))
    }

    /// `DELETE /repos/{owner}/{repo}/hooks/{id}`; a hook that is already gone (404) is success.
    pub fn delete_hook(&self, owner: &str, repo: &str, hook_id: i64) -> Result<(), GithubError> {
        let path = format!("{}/hooks/{hook_id}", Self::repo_path(owner, repo));
        match self.send("DELETE", self.url(&path), None) {
            Ok(_) | Err(GithubError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `GET /repos/{owner}/{repo}/pulls/{number}`.
    pub fn get_pull(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
    ) -> Result<PullRequest, GithubError> {
        self.get(&format!("{}/pulls/{number}", Self::repo_path(owner, repo)))
    }

    /// Head commit of a branch via `GET /repos/{o}/{r}/git/ref/heads/{branch}` (branch escaped as
    /// one segment). A missing branch is [`GithubError::NotFound`].
    pub fn get_branch_head(
        &self,
        owner: &str,
        repo: &str,
        branch: &str,
    ) -> Result<String, GithubError> {
        #[derive(Deserialize)]
        struct Obj {
            sha: String,
        }
        #[derive(Deserialize)]
        struct Ref {
            object: Obj,
        }
        let r: Ref = self.get(&format!(
            "{}/git/ref/heads/{}",
            Self::repo_path(owner, repo),
            esc(branch)
        ))?;
        Ok(r.object.sha)
    }

    /// `POST /repos/{o}/{r}/git/refs` creating `refs/heads/{branch}` at `sha`.
    /// An existing branch is [`GithubError::Validation`] ("Reference already exists").
    pub fn create_ref(
        &self,
        owner: &str,
        repo: &str,
        branch: &str,
        sha: &str,
    ) -> Result<CreatedRef, GithubError> {
        #[derive(Deserialize)]
        struct Obj {
            sha: String,
        }
        #[derive(Deserialize)]
        struct Ref {
            #[serde(rename = "ref")]
            ref_name: String,
            object: Obj,
        }
        let body = json!({"ref": format!("refs/heads/{branch}"), "sha": sha});
        let path = format!("{}/git/refs", Self::repo_path(owner, repo));
        let r: Ref = Self::decode(&self.send("POST", self.url(&path), Some(&body))?)?;
        Ok(CreatedRef {
            ref_name: r.ref_name,
            sha: r.object.sha,
        })
    }
}

#[cfg(test)]
mod tests;

mod pulls;
