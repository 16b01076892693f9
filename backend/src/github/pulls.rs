//! The pull-request workflow calls: open, find by branch, details and diff, CI of a commit,
//! comments and reviews.

use serde::Deserialize;
use serde_json::json;

use super::url::escape_segment as esc;
use super::{CheckRun, CommitStatus, GithubClient, GithubError, Posted, PullDetails, PullRequest};
use crate::host::Host;

/// The media type of a pull request's unified diff.
pub const DIFF_MEDIA_TYPE: &str = "application/vnd.github.diff";

impl<H: Host> GithubClient<'_, H> {
    /// `POST /repos/{o}/{r}/pulls`. "A pull request already exists" is a
    /// [`GithubError::Validation`] the caller interprets.
    #[allow(clippy::too_many_arguments)]
    pub fn create_pull(
        &self,
        owner: &str,
        repo: &str,
        title: &str,
        head: &str,
        base: &str,
        body: Option<&str>,
        draft: bool,
    ) -> Result<PullDetails, GithubError> {
        let mut payload = json!({"title": title, "head": head, "base": base, "draft": draft});
        if let Some(b) = body.filter(|b| !b.is_empty()) {
            payload["body"] = json!(b);
        }
        let path = format!("{}/pulls", Self::repo_path(owner, repo));
        Self::decode(&self.send("POST", self.url(&path), Some(&payload))?)
    }

    /// Open pull requests from `head` (a branch of `owner`'s repository) into `base`:
    /// `GET /repos/{o}/{r}/pulls?state=open&head={owner}:{head}&base={base}`.
    pub fn find_open_pulls(
        &self,
        owner: &str,
        repo: &str,
        head: &str,
        base: &str,
    ) -> Result<Vec<PullRequest>, GithubError> {
        self.get(&format!(
            "{}/pulls?state=open&head={}:{}&base={}&per_page=10",
            Self::repo_path(owner, repo),
            esc(owner),
            esc(head),
            esc(base)
        ))
    }

    /// `GET /repos/{o}/{r}/pulls/{n}` with the fields only the single-PR endpoint carries.
    pub fn get_pull_details(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
    ) -> Result<PullDetails, GithubError> {
        self.get(&format!("{}/pulls/{number}", Self::repo_path(owner, repo)))
    }

    /// The unified diff of a pull request (`Accept: application/vnd.github.diff`).
    pub fn get_pull_diff(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
    ) -> Result<String, GithubError> {
        let path = format!("{}/pulls/{number}", Self::repo_path(owner, repo));
        Ok(self
            .send_accepting("GET", self.url(&path), None, DIFF_MEDIA_TYPE)?
            .body)
    }

    /// The first 100 check runs of a commit.
    pub fn check_runs(
        &self,
        owner: &str,
        repo: &str,
        sha: &str,
    ) -> Result<Vec<CheckRun>, GithubError> {
        #[derive(Deserialize)]
        struct Runs {
            #[serde(default)]
            check_runs: Vec<CheckRun>,
        }
        let runs: Runs = self.get(&format!(
            "{}/commits/{}/check-runs?per_page=100",
            Self::repo_path(owner, repo),
            esc(sha)
        ))?;
        Ok(runs.check_runs)
    }

    /// The latest status per context of a commit (`GET …/commits/{sha}/status`, first 100).
    pub fn commit_statuses(
        &self,
        owner: &str,
        repo: &str,
        sha: &str,
    ) -> Result<Vec<CommitStatus>, GithubError> {
        #[derive(Deserialize)]
        struct Combined {
            #[serde(default)]
            statuses: Vec<CommitStatus>,
        }
        let combined: Combined = self.get(&format!(
            "{}/commits/{}/status?per_page=100",
            Self::repo_path(owner, repo),
            esc(sha)
        ))?;
        Ok(combined.statuses)
    }

    /// `POST /repos/{o}/{r}/issues/{n}/comments` (a pull request is an issue for comments).
    pub fn create_issue_comment(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<Posted, GithubError> {
        let path = format!("{}/issues/{number}/comments", Self::repo_path(owner, repo));
        Self::decode(&self.send("POST", self.url(&path), Some(&json!({"body": body})))?)
    }

    /// `POST /repos/{o}/{r}/pulls/{n}/reviews` with `event` (`APPROVE`, `REQUEST_CHANGES`,
    /// `COMMENT`) and an optional body.
    pub fn create_review(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        event: &str,
        body: Option<&str>,
    ) -> Result<Posted, GithubError> {
        let mut payload = json!({"event": event});
        if let Some(b) = body.filter(|b| !b.is_empty()) {
            payload["body"] = json!(b);
        }
        let path = format!("{}/pulls/{number}/reviews", Self::repo_path(owner, repo));
        Self::decode(&self.send("POST", self.url(&path), Some(&payload))?)
    }
}
