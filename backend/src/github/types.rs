//! The subset of GitHub's REST objects the plugin reads. Unknown fields are ignored.

use serde::{Deserialize, Serialize};

/// A page of a list endpoint, with the next page number from the `Link` header.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub login: String,
    #[serde(default)]
    pub id: i64,
}

/// `GET /user`: who the token belongs to (only the login is logged; nothing else is kept).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub login: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repo {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub owner: Account,
    #[serde(default)]
    pub default_branch: String,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// GitHub's own HTTPS clone URL (differs from `html_url + ".git"` on some servers).
    #[serde(default)]
    pub clone_url: String,
    /// When GitHub last changed the repository object (a rename or transfer changes it).
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookConfig {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    pub id: i64,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub config: HookConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitRef {
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub sha: String,
    /// The repository the branch lives in: absent (`None`), `null` for a deleted fork
    /// (`Some(None)`), or the repository.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub repo: Option<Option<RepoId>>,
}

/// Just a repository's id, where only the identity matters (`None` if GitHub left it out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoId {
    #[serde(default)]
    pub id: Option<i64>,
}

/// For `Option<Option<T>>` fields: a present key (even `null`) is `Some`, an absent one the
/// field's default `None`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub id: i64,
    pub number: i64,
    pub title: String,
    /// `open` or `closed` (GitHub never says `merged` here; see `merged`).
    pub state: String,
    #[serde(default)]
    pub merged: bool,
    #[serde(default)]
    pub merged_at: Option<String>,
    pub html_url: String,
    pub head: GitRef,
    pub base: GitRef,
    /// `None` for deleted ("ghost") users.
    #[serde(default)]
    pub user: Option<Account>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl PullRequest {
    /// `merged`, else GitHub's `state`.
    pub fn effective_state(&self) -> &str {
        if self.merged || self.merged_at.is_some() {
            "merged"
        } else {
            &self.state
        }
    }
}

/// A created `refs/heads/…` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedRef {
    pub ref_name: String,
    pub sha: String,
}

/// A single pull request as `GET /repos/{o}/{r}/pulls/{n}` (and create) returns it: the fields
/// of [`PullRequest`] plus what only the single-PR endpoints carry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "PullDetailsWire")]
pub struct PullDetails {
    pub pr: PullRequest,
    pub body: Option<String>,
    pub draft: bool,
    /// `None` while GitHub is still computing it.
    pub mergeable: Option<bool>,
    pub mergeable_state: Option<String>,
    pub additions: i64,
    pub deletions: i64,
    pub changed_files: i64,
}

/// [`PullDetails`] as GitHub sends it, flat. Not `#[serde(flatten)]`: that buffers the object
/// into serde's `Content` and compiles `PullRequest`'s decoder a second time for it (~8 KB of
/// wasm), where spelling the fields out costs nothing at run time.
#[derive(Deserialize)]
struct PullDetailsWire {
    id: i64,
    number: i64,
    title: String,
    state: String,
    #[serde(default)]
    merged: bool,
    #[serde(default)]
    merged_at: Option<String>,
    html_url: String,
    head: GitRef,
    base: GitRef,
    #[serde(default)]
    user: Option<Account>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    mergeable: Option<bool>,
    #[serde(default)]
    mergeable_state: Option<String>,
    #[serde(default)]
    additions: i64,
    #[serde(default)]
    deletions: i64,
    #[serde(default)]
    changed_files: i64,
}

impl From<PullDetailsWire> for PullDetails {
    fn from(w: PullDetailsWire) -> Self {
        PullDetails {
            pr: PullRequest {
                id: w.id,
                number: w.number,
                title: w.title,
                state: w.state,
                merged: w.merged,
                merged_at: w.merged_at,
                html_url: w.html_url,
                head: w.head,
                base: w.base,
                user: w.user,
                updated_at: w.updated_at,
            },
            body: w.body,
            draft: w.draft,
            mergeable: w.mergeable,
            mergeable_state: w.mergeable_state,
            additions: w.additions,
            deletions: w.deletions,
            changed_files: w.changed_files,
        }
    }
}

/// One check run of `GET /repos/{o}/{r}/commits/{sha}/check-runs`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckRun {
    pub name: String,
    pub status: String,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

/// One entry of `GET /repos/{o}/{r}/commits/{sha}/status` → `statuses`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommitStatus {
    pub context: String,
    pub state: String,
    #[serde(default)]
    pub target_url: Option<String>,
}

/// A created issue comment or submitted review: what the API answers with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Posted {
    pub id: i64,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub user: Option<Account>,
    /// Comments: creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Reviews: `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`.
    #[serde(default)]
    pub state: Option<String>,
}
