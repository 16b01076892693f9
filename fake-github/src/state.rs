//! The fake's world: users, tokens, orgs, repositories and what happened to them.
//!
//! Everything is deterministic: ids come from counters, commit shas are derived from a counter,
//! and timestamps come from a fake clock that advances one second per mutation.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::delivery::{Delivery, Tamper};
use crate::faults::FaultRule;

/// 2024-01-01T00:00:00Z, where the fake clock starts.
pub const CLOCK_START: u64 = 1_704_067_200;

/// A user account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct User {
    pub id: u64,
    pub login: String,
    pub name: Option<String>,
}

/// A personal access token. `scopes: None` behaves like a fine-grained token (no scope checks,
/// no `X-OAuth-Scopes` header); `Some(list)` like a classic token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Token {
    pub login: String,
    pub scopes: Option<Vec<String>>,
}

/// An organisation and its members (logins).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Org {
    pub id: u64,
    pub login: String,
    pub members: BTreeSet<String>,
}

/// A repository webhook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Hook {
    pub id: u64,
    pub url: String,
    pub secret: Option<String>,
    pub events: Vec<String>,
    pub active: bool,
    pub content_type: String,
    pub insecure_ssl: String,
    pub created_at: u64,
    pub updated_at: u64,
    /// `(status code or None for a transport error, message)` of the last delivery.
    #[schema(value_type = Option<Vec<serde_json::Value>>)]
    pub last_response: Option<(Option<u16>, String)>,
}

impl Hook {
    /// Whether this hook wants `event` (GitHub: listed explicitly or `*`).
    pub fn subscribed(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event || e == "*")
    }
}

/// `open` or `closed`, as GitHub reports it (merged PRs are `closed` with `merged: true`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrState {
    Open,
    Closed,
}

impl PrState {
    pub fn as_str(self) -> &'static str {
        match self {
            PrState::Open => "open",
            PrState::Closed => "closed",
        }
    }
}

/// A pull request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PullRequest {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub state: PrState,
    pub merged: bool,
    pub merged_at: Option<u64>,
    pub closed_at: Option<u64>,
    pub merge_commit_sha: Option<String>,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub base_sha: String,
    pub user: String,
    pub created_at: u64,
    pub updated_at: u64,
    #[serde(default)]
    pub draft: bool,
    /// What `Accept: application/vnd.github.diff` returns; `None` → a small generated diff.
    #[serde(default)]
    pub diff: Option<String>,
    /// Conversation comments (`POST /repos/{o}/{r}/issues/{n}/comments`), oldest first.
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// Submitted reviews (`POST /repos/{o}/{r}/pulls/{n}/reviews`), oldest first.
    #[serde(default)]
    pub reviews: Vec<Review>,
}

/// A pull request conversation comment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Comment {
    pub id: u64,
    pub user: String,
    pub body: String,
    pub created_at: u64,
}

/// A submitted pull request review; `state` is GitHub's (`APPROVED`, `CHANGES_REQUESTED`,
/// `COMMENTED`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Review {
    pub id: u64,
    pub user: String,
    pub state: String,
    pub body: String,
    pub commit_id: String,
    pub submitted_at: u64,
}

/// A check run on a commit (what GitHub Actions and other apps report).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// Set when `completed`: `success`, `failure`, `neutral`, `cancelled`, `skipped`,
    /// `timed_out`, `action_required`.
    pub conclusion: Option<String>,
}

/// A legacy commit status; `state` is `error`, `failure`, `pending` or `success`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CommitStatus {
    pub id: u64,
    pub context: String,
    pub state: String,
    pub target_url: Option<String>,
    pub description: Option<String>,
}

/// A repository.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Repo {
    pub id: u64,
    /// Owner login (a user or an org).
    pub owner: String,
    pub name: String,
    pub private: bool,
    pub default_branch: String,
    /// Branch name → head sha.
    pub branches: BTreeMap<String, String>,
    /// Every commit sha this repo knows (a ref may only point at one of these).
    pub commits: BTreeSet<String>,
    pub hooks: BTreeMap<u64, Hook>,
    pub pulls: BTreeMap<u64, PullRequest>,
    /// Logins with push access besides the owner / org members.
    pub collaborators: BTreeSet<String>,
    pub created_at: u64,
    pub updated_at: u64,
    pub pushed_at: u64,
    /// Commit sha → its check runs (one per name; setting a name again replaces it).
    #[serde(default)]
    pub check_runs: BTreeMap<String, Vec<CheckRun>>,
    /// Commit sha → its commit statuses (one per context, latest wins).
    #[serde(default)]
    pub statuses: BTreeMap<String, Vec<CommitStatus>>,
}

impl Repo {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// One REST call the fake served (the control API is not logged).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RequestRecord {
    pub method: String,
    /// The path as sent (still percent-encoded).
    pub path: String,
    pub query: Option<String>,
    /// Response status, or `None` when a fault dropped the connection.
    pub status: Option<u16>,
}

/// The whole fake world. Public so tests can inspect a snapshot or mutate it directly through
/// [`crate::Control::with_state`].
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct State {
    pub users: BTreeMap<String, User>,
    pub tokens: BTreeMap<String, Token>,
    pub orgs: BTreeMap<String, Org>,
    pub repos: BTreeMap<u64, Repo>,
    /// Former `owner/name` (lower-cased) of renamed or transferred repositories → repo id.
    /// Like GitHub, the old name answers with a redirect until a repository takes it again.
    #[serde(default)]
    pub redirects: BTreeMap<String, u64>,
    pub deliveries: Vec<Delivery>,
    pub requests: Vec<RequestRecord>,
    pub faults: Vec<FaultRule>,
    /// When on, hook creation refuses localhost / private / loopback URLs like github.com does.
    pub reject_private_urls: bool,
    /// Tamper mode applied to the next `tamper_remaining` deliveries.
    pub tamper_next: Tamper,
    pub tamper_remaining: u32,
    /// Base of `html_url` fields (default `https://github.com`).
    pub html_base: String,
    /// Base of `clone_url` fields when it differs from `html_base` (as on an Enterprise
    /// Server behind another host name); `None` → `html_base`.
    #[serde(default)]
    pub clone_base: Option<String>,
    /// Fake clock, seconds since the Unix epoch.
    pub clock: u64,
    pub next_id: u64,
    pub next_commit: u64,
    pub next_delivery: u64,
    pub next_seq: u64,
}

impl Default for State {
    fn default() -> Self {
        State {
            users: BTreeMap::new(),
            tokens: BTreeMap::new(),
            orgs: BTreeMap::new(),
            repos: BTreeMap::new(),
            redirects: BTreeMap::new(),
            deliveries: Vec::new(),
            requests: Vec::new(),
            faults: Vec::new(),
            reject_private_urls: false,
            tamper_next: Tamper::None,
            tamper_remaining: 0,
            html_base: "https://github.com".to_string(),
            clone_base: None,
            clock: CLOCK_START,
            next_id: 1,
            next_commit: 1,
            next_delivery: 1,
            next_seq: 1,
        }
    }
}

impl State {
    /// A fresh numeric id (shared counter for users, orgs, repos, hooks, PRs).
    pub fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Advance the fake clock by one second and return the new time.
    pub fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// A fresh, deterministic, sha1-looking commit id.
    pub fn new_sha(&mut self) -> String {
        let n = self.next_commit;
        self.next_commit += 1;
        let digest = Sha256::digest(format!("fake-github commit {n}").as_bytes());
        hex::encode(digest)[..40].to_string()
    }

    /// The next delivery-log sequence number.
    pub fn seq(&mut self) -> u64 {
        let n = self.next_seq;
        self.next_seq += 1;
        n
    }

    /// The login used as `sender` when nobody in particular acts on `repo`: the owner if it is
    /// a user, otherwise the org's first member, otherwise the org itself.
    pub fn default_actor(&self, repo: &Repo) -> String {
        match self.org(&repo.owner) {
            Some(o) => o
                .members
                .iter()
                .next()
                .cloned()
                .unwrap_or_else(|| o.login.clone()),
            None => repo.owner.clone(),
        }
    }

    /// A fresh delivery GUID (uuid-shaped, deterministic).
    pub fn new_delivery_id(&mut self) -> String {
        let n = self.next_delivery;
        self.next_delivery += 1;
        let h = hex::encode(Sha256::digest(
            format!("fake-github delivery {n}").as_bytes(),
        ));
        format!(
            "{}-{}-4{}-8{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    pub fn user(&self, login: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.login.eq_ignore_ascii_case(login))
    }

    pub fn org(&self, login: &str) -> Option<&Org> {
        self.orgs
            .values()
            .find(|o| o.login.eq_ignore_ascii_case(login))
    }

    /// Case-insensitive lookup by owner and name, like GitHub.
    pub fn repo_id(&self, owner: &str, name: &str) -> Option<u64> {
        self.repos
            .values()
            .find(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
            .map(|r| r.id)
    }

    /// The repository a former name now redirects to (none while a repository has that name).
    pub fn redirect(&self, owner: &str, name: &str) -> Option<u64> {
        if self.repo_id(owner, name).is_some() {
            return None;
        }
        let key = format!("{owner}/{name}").to_ascii_lowercase();
        self.redirects
            .get(&key)
            .copied()
            .filter(|id| self.repos.contains_key(id))
    }

    /// Case-insensitive lookup by `owner/name`.
    pub fn repo_by_full_name(&self, full_name: &str) -> Option<u64> {
        let (o, n) = full_name.split_once('/')?;
        self.repo_id(o, n)
    }

    pub fn is_org(&self, login: &str) -> bool {
        self.org(login).is_some()
    }

    /// Whether `login` is the owner, a collaborator, or a member of the owning org.
    pub fn has_push(&self, login: &str, repo: &Repo) -> bool {
        repo.owner.eq_ignore_ascii_case(login)
            || repo
                .collaborators
                .iter()
                .any(|c| c.eq_ignore_ascii_case(login))
            || self
                .org(&repo.owner)
                .is_some_and(|o| o.members.iter().any(|m| m.eq_ignore_ascii_case(login)))
    }

    /// Whether a token for `login` with `scopes` may see `repo`.
    pub fn can_see(&self, login: &str, scopes: Option<&[String]>, repo: &Repo) -> bool {
        if !repo.private {
            return true;
        }
        let scope_ok = scopes.is_none_or(|s| s.iter().any(|x| x == "repo"));
        scope_ok && self.has_push(login, repo)
    }
}

/// Seconds since the epoch → `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's published algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats() {
        assert_eq!(iso8601(CLOCK_START), "2024-01-01T00:00:00Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400 + 3661), "2000-02-29T01:01:01Z");
    }

    #[test]
    fn shas_and_ids_are_deterministic() {
        let mut a = State::default();
        let mut b = State::default();
        assert_eq!(a.new_sha(), b.new_sha());
        let sha = a.new_sha();
        assert_eq!(sha.len(), 40);
        assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
        let d = a.new_delivery_id();
        assert_eq!(d.len(), 36);
        assert_eq!(d, b.new_delivery_id());
    }
}
