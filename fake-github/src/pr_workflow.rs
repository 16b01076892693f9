//! The pull-request workflow subset: listing pulls by branch, diffs, conversation comments,
//! reviews, check runs and commit statuses — REST routes, their JSON and the control helpers
//! that set CI results.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::control::Control;
use crate::json::{self, Urls};
use crate::ops::Error;
use crate::rest::{Auth, parse_body, urls_of, visible_repo};
use crate::state::{CheckRun, Comment, CommitStatus, PrState, PullRequest, Repo, Review, State};

type S = std::sync::Arc<crate::Shared>;

/// The diff a PR shows: the one set through the control API, else one line per PR.
pub fn diff_of(r: &Repo, p: &PullRequest) -> String {
    p.diff.clone().unwrap_or_else(|| {
        format!(
            "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n # {}\n+{}\n",
            r.name, p.title
        )
    })
}

/// `(additions, deletions, changed_files)` counted from the diff, like GitHub reports them.
pub fn diff_stats(diff: &str) -> (u64, u64, u64) {
    let (mut add, mut del, mut files) = (0, 0, 0);
    for line in diff.lines() {
        if line.starts_with("diff --git ") {
            files += 1;
        } else if line.starts_with('+') && !line.starts_with("+++") {
            add += 1;
        } else if line.starts_with('-') && !line.starts_with("---") {
            del += 1;
        }
    }
    (add, del, files)
}

pub(crate) fn routes() -> Router<S> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            post(create_comment),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/reviews",
            post(create_review),
        )
}

/// `GET /repos/{o}/{r}/pulls?state=&head=owner:branch&base=` (no paging: the fake is small).
pub(crate) async fn list_pulls(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, Error> {
    let st = shared.lock();
    let id = visible_repo(&st, &auth, &owner, &repo)?;
    let r = &st.repos[&id];
    let state = q.get("state").map_or("open", String::as_str);
    // GitHub's `head` filter is `user:ref-name`; a bare branch name filters nothing.
    let head = q
        .get("head")
        .and_then(|h| h.split_once(':'))
        .map(|(o, b)| (o.to_string(), b.to_string()));
    let html = st.html_base.clone();
    let urls = urls_of(&shared, &html);
    let items: Vec<Value> = r
        .pulls
        .values()
        .rev()
        .filter(|p| match state {
            "all" => true,
            "closed" => p.state == PrState::Closed,
            _ => p.state == PrState::Open,
        })
        .filter(|p| {
            head.as_ref()
                .is_none_or(|(o, b)| r.owner.eq_ignore_ascii_case(o) && p.head_ref == *b)
        })
        .filter(|p| q.get("base").is_none_or(|b| p.base_ref == *b))
        .map(|p| json::pull(&st, &urls, r, p))
        .collect();
    Ok(Json(Value::Array(items)))
}

/// Whether the request asks for the raw diff (`application/vnd.github.diff` or `.v3.diff`).
pub(crate) fn wants_diff(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|a| a.contains("diff"))
}

pub(crate) fn diff_response(r: &Repo, p: &PullRequest) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        diff_of(r, p),
    )
        .into_response()
}

fn pull_number(r: &Repo, number: &str) -> Result<u64, Error> {
    number
        .parse::<u64>()
        .ok()
        .filter(|n| r.pulls.contains_key(n))
        .ok_or_else(Error::not_found)
}

async fn create_comment(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo, number)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, Error> {
    let b = parse_body(&body)?;
    let Some(text) = b["body"].as_str().filter(|t| !t.is_empty()) else {
        return Err(Error::validation(
            "IssueComment",
            Some("body"),
            "missing_field",
            "body wasn't supplied.",
        ));
    };
    let mut st = shared.lock();
    let id = visible_repo(&st, &auth, &owner, &repo)?;
    let n = pull_number(&st.repos[&id], &number)?;
    let comment = Comment {
        id: st.id(),
        user: auth.login.clone(),
        body: text.to_string(),
        created_at: st.tick(),
    };
    let pr = st.repos.get_mut(&id).and_then(|r| r.pulls.get_mut(&n));
    pr.expect("pull").comments.push(comment.clone());
    let html = st.html_base.clone();
    let urls = urls_of(&shared, &html);
    let v = comment_json(&st, &urls, &st.repos[&id], n, &comment);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

fn comment_json(st: &State, urls: &Urls, r: &Repo, number: u64, c: &Comment) -> Value {
    let full = r.full_name();
    json!({
        "id": c.id,
        "node_id": format!("IC_fake{}", c.id),
        "url": format!("{}/repos/{full}/issues/comments/{}", urls.api, c.id),
        "html_url": format!("{}/{full}/pull/{number}#issuecomment-{}", urls.html, c.id),
        "body": c.body,
        "user": json::account(st, urls, &c.user),
        "created_at": crate::state::iso8601(c.created_at),
        "updated_at": crate::state::iso8601(c.created_at),
    })
}

async fn create_review(
    AxState(shared): AxState<S>,
    auth: Auth,
    Path((owner, repo, number)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, Error> {
    let b = parse_body(&body)?;
    let text = b["body"].as_str().unwrap_or("").to_string();
    let state = match b["event"].as_str() {
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some("COMMENT") => "COMMENTED",
        // GitHub leaves a review without `event` pending; the plugin always sends one.
        _ => {
            return Err(Error::unprocessable(
                "Unprocessable Entity: event must be APPROVE, REQUEST_CHANGES or COMMENT",
            ));
        }
    };
    let mut st = shared.lock();
    let id = visible_repo(&st, &auth, &owner, &repo)?;
    let n = pull_number(&st.repos[&id], &number)?;
    let pr = &st.repos[&id].pulls[&n];
    if state != "APPROVED" && text.is_empty() {
        return Err(Error::unprocessable(&format!(
            "Unprocessable Entity: Review body is required for {}",
            b["event"].as_str().unwrap_or_default()
        )));
    }
    if state != "COMMENTED" && pr.user.eq_ignore_ascii_case(&auth.login) {
        let what = if state == "APPROVED" {
            "approve"
        } else {
            "request changes on"
        };
        return Err(Error::unprocessable(&format!(
            "Unprocessable Entity: Can not {what} your own pull request"
        )));
    }
    let commit_id = pr.head_sha.clone();
    let review = Review {
        id: st.id(),
        user: auth.login.clone(),
        state: state.to_string(),
        body: text,
        commit_id,
        submitted_at: st.tick(),
    };
    let pr = st.repos.get_mut(&id).and_then(|r| r.pulls.get_mut(&n));
    pr.expect("pull").reviews.push(review.clone());
    let html = st.html_base.clone();
    let urls = urls_of(&shared, &html);
    let full = st.repos[&id].full_name();
    let v = json!({
        "id": review.id,
        "node_id": format!("PRR_fake{}", review.id),
        "user": json::account(&st, &urls, &review.user),
        "body": review.body,
        "state": review.state,
        "commit_id": review.commit_id,
        "html_url": format!("{}/{full}/pull/{n}#pullrequestreview-{}", urls.html, review.id),
        "submitted_at": crate::state::iso8601(review.submitted_at),
    });
    Ok((StatusCode::OK, Json(v)).into_response())
}

/// `GET /repos/{o}/{r}/commits/{sha}/check-runs` body.
pub(crate) fn check_runs_json(urls: &Urls, r: &Repo, sha: &str) -> Value {
    let runs: Vec<Value> = r
        .check_runs
        .get(sha)
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "head_sha": sha,
                "status": c.status,
                "conclusion": c.conclusion,
                "html_url": format!("{}/{}/runs/{}", urls.html, r.full_name(), c.id),
                "details_url": format!("{}/{}/runs/{}", urls.html, r.full_name(), c.id),
                "app": {"slug": "github-actions"},
            })
        })
        .collect();
    json!({"total_count": runs.len(), "check_runs": runs})
}

/// The combined state GitHub computes: failure/error wins, then pending; no statuses → pending.
pub(crate) fn combined_state(statuses: &[CommitStatus]) -> &'static str {
    if statuses
        .iter()
        .any(|s| s.state == "failure" || s.state == "error")
    {
        "failure"
    } else if statuses.is_empty() || statuses.iter().any(|s| s.state == "pending") {
        "pending"
    } else {
        "success"
    }
}

pub(crate) fn statuses_json(r: &Repo, sha: &str) -> (Vec<Value>, &'static str) {
    let list = r.statuses.get(sha).cloned().unwrap_or_default();
    let items = list
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "context": s.context,
                "state": s.state,
                "target_url": s.target_url,
                "description": s.description,
            })
        })
        .collect();
    (items, combined_state(&list))
}

// ------------------------------------------------------------------ control

/// Resolves a branch name or a known sha of `r`.
fn commit_of(r: &Repo, reference: &str) -> Result<String, Error> {
    r.branches
        .get(reference)
        .cloned()
        .or_else(|| r.commits.contains(reference).then(|| reference.to_string()))
        .ok_or_else(|| Error::new(404, &format!("no commit or branch {reference}")))
}

impl Control {
    /// Sets (or replaces, by name) a check run on a branch head or sha; returns it.
    pub fn set_check_run(
        &self,
        full_name: &str,
        reference: &str,
        name: &str,
        status: &str,
        conclusion: Option<&str>,
    ) -> Result<CheckRun, Error> {
        self.with_state(|st| {
            let id = st
                .repo_by_full_name(full_name)
                .ok_or_else(|| Error::new(404, &format!("no repository {full_name}")))?;
            let sha = commit_of(&st.repos[&id], reference)?;
            let run = CheckRun {
                id: st.id(),
                name: name.to_string(),
                status: status.to_string(),
                conclusion: conclusion.map(str::to_string),
            };
            let runs = st
                .repos
                .get_mut(&id)
                .expect("repo")
                .check_runs
                .entry(sha)
                .or_default();
            runs.retain(|c| c.name != name);
            runs.push(run.clone());
            Ok(run)
        })
    }

    /// Sets (or replaces, by context) a commit status on a branch head or sha; returns it.
    pub fn set_commit_status(
        &self,
        full_name: &str,
        reference: &str,
        context: &str,
        state: &str,
        target_url: Option<&str>,
    ) -> Result<CommitStatus, Error> {
        if !matches!(state, "error" | "failure" | "pending" | "success") {
            return Err(Error::unprocessable(&format!("invalid state {state}")));
        }
        self.with_state(|st| {
            let id = st
                .repo_by_full_name(full_name)
                .ok_or_else(|| Error::new(404, &format!("no repository {full_name}")))?;
            let sha = commit_of(&st.repos[&id], reference)?;
            let status = CommitStatus {
                id: st.id(),
                context: context.to_string(),
                state: state.to_string(),
                target_url: target_url.map(str::to_string),
                description: None,
            };
            let list = st
                .repos
                .get_mut(&id)
                .expect("repo")
                .statuses
                .entry(sha)
                .or_default();
            list.retain(|s| s.context != context);
            list.push(status.clone());
            Ok(status)
        })
    }

    /// Sets the diff a pull request returns for `Accept: application/vnd.github.diff`.
    pub fn set_pr_diff(&self, full_name: &str, number: u64, diff: &str) -> Result<(), Error> {
        self.with_state(|st| {
            let id = st
                .repo_by_full_name(full_name)
                .ok_or_else(|| Error::new(404, &format!("no repository {full_name}")))?;
            let pr = st
                .repos
                .get_mut(&id)
                .and_then(|r| r.pulls.get_mut(&number))
                .ok_or_else(|| Error::new(404, &format!("no pull request #{number}")))?;
            pr.diff = Some(diff.to_string());
            Ok(())
        })
    }

    /// Makes `clone_url` use another base than `html_url` (`None` → the same base).
    pub fn set_clone_base(&self, base: Option<&str>) {
        self.with_state(|st| st.clone_base = base.map(str::to_string));
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CheckRunBody {
    #[serde(rename = "ref")]
    reference: String,
    name: String,
    status: String,
    conclusion: Option<String>,
}

/// `POST /_control/repos/{o}/{r}/check-runs {ref, name, status, conclusion?}`.
#[utoipa::path(
    post,
    path = "/_control/repos/{owner}/{repo}/check-runs",
    tag = "repos",
    description = "Sets a check run on a commit (`ref`: branch or sha)",
    params(("owner" = String, Path, description = "Repository owner"), ("repo" = String, Path, description = "Repository name")),
    request_body(content = CheckRunBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The check run", body = CheckRun),
        (status = "4XX", description = "No such repository or ref, or refused")
    )
)]
pub(crate) async fn control_check_run(
    AxState(s): AxState<S>,
    Path((owner, repo)): Path<(String, String)>,
    Json(b): Json<CheckRunBody>,
) -> Result<Response, Error> {
    let run = Control::new(s).set_check_run(
        &format!("{owner}/{repo}"),
        &b.reference,
        &b.name,
        &b.status,
        b.conclusion.as_deref(),
    )?;
    Ok((StatusCode::CREATED, Json(run)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct StatusBody {
    #[serde(rename = "ref")]
    reference: String,
    context: String,
    state: String,
    target_url: Option<String>,
}

/// `POST /_control/repos/{o}/{r}/statuses {ref, context, state, target_url?}`.
#[utoipa::path(
    post,
    path = "/_control/repos/{owner}/{repo}/statuses",
    tag = "repos",
    description = "Sets a commit status (`ref`: branch or sha)",
    params(("owner" = String, Path, description = "Repository owner"), ("repo" = String, Path, description = "Repository name")),
    request_body(content = StatusBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The status", body = CommitStatus),
        (status = "4XX", description = "No such repository or ref, or refused")
    )
)]
pub(crate) async fn control_status(
    AxState(s): AxState<S>,
    Path((owner, repo)): Path<(String, String)>,
    Json(b): Json<StatusBody>,
) -> Result<Response, Error> {
    let status = Control::new(s).set_commit_status(
        &format!("{owner}/{repo}"),
        &b.reference,
        &b.context,
        &b.state,
        b.target_url.as_deref(),
    )?;
    Ok((StatusCode::CREATED, Json(status)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: &str) -> CommitStatus {
        CommitStatus {
            id: 1,
            context: "ci".into(),
            state: state.into(),
            target_url: None,
            description: None,
        }
    }

    #[test]
    fn combined_state_like_github() {
        assert_eq!(combined_state(&[]), "pending");
        assert_eq!(combined_state(&[status("success")]), "success");
        assert_eq!(
            combined_state(&[status("success"), status("pending")]),
            "pending"
        );
        assert_eq!(
            combined_state(&[status("pending"), status("error")]),
            "failure"
        );
    }

    #[test]
    fn diff_stats_count_lines_and_files() {
        let d = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n+more\ndiff --git a/y b/y\n";
        assert_eq!(diff_stats(d), (2, 1, 2));
    }
}
